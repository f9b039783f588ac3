package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/alecthomas/kong"
	"github.com/klauspost/compress/zstd"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/rio"
)

// runContext is what every command's Run receives.
type runContext struct {
	*Globals
	out *bufio.Writer
}

// demoDump is the embedded demo: a real QEMU ELF vmcore (testdata/demo).
//
//go:embed testdata/demo/qemu-elf-mini.vmcore.zst
var demoDump []byte

// demoName is how the embedded demo is named in output.
const demoName = "demo:qemu-elf-mini.vmcore"

var demoBytes = sync.OnceValues(func() ([]byte, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	return dec.DecodeAll(demoDump, nil)
})

// openDemo opens the embedded demo dump from memory.
func openDemo() (reader.Dump, error) {
	b, err := demoBytes()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", demoName, err)
	}
	return reader.OpenSources(rio.Source{Name: demoName, R: bytes.NewReader(b), Size: int64(len(b))})
}

// openDump opens the files of one dump, or the demo when there are none.
func openDump(files []string) (reader.Dump, error) {
	var d reader.Dump
	var err error
	if len(files) == 0 {
		d, err = openDemo()
	} else {
		d, err = reader.Open(files...)
	}
	if err != nil {
		return nil, openError{err}
	}
	return d, nil
}

// Num is a number flag that accepts decimal and 0x-hex.
type Num uint64

// Decode implements kong.MapperValue.
func (n *Num) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("number", &s); err != nil {
		return err
	}
	v, err := model.ParseNumber(s)
	if err != nil {
		return fmt.Errorf("%s: %w", ctx.Value.Flag.Name, err)
	}
	*n = Num(v)
	return nil
}

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// filesArg is the FILE... positional every dump command ends with.
type filesArg struct {
	Files []string `arg:"" name:"FILE" help:"Dump file, or every part of a split set."`
}

// optFilesArg is FILE... for commands that fall back to the demo dump.
type optFilesArg struct {
	Files []string `arg:"" optional:"" name:"FILE" help:"Dump file(s); none: the embedded demo dump."`
}
