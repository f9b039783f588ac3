package main

import (
	"fmt"
	"os"
	"path/filepath"

	"dumpscope/open"
	"dumpscope/present"
	"dumpscope/reader"
	"dumpscope/reader/flat"
)

type rearrangeCmd struct {
	In  string `arg:"" name:"IN" help:"A makedumpfile flattened stream (what makedumpfile -F and QEMU write)."`
	Out string `arg:"" name:"OUT" help:"The standard file to write (what makedumpfile -R writes)."`
}

func (c *rearrangeCmd) Run(rc *runContext) error {
	if rc.JSON {
		return usageError{"rearrange has no JSON form"}
	}
	if same(c.In, c.Out) {
		return usageError{"IN and OUT are the same file"}
	}
	in, err := os.Open(c.In)
	if err != nil {
		return openError{err}
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return openError{err}
	}
	src := reader.Source{Name: c.In, R: in, Size: st.Size()}
	formats, _, err := reader.Detect(src, open.Chain, reader.ProbeSize)
	if err != nil {
		return openError{err}
	}
	if formats[0].Name != flat.Format().Name {
		return openError{fmt.Errorf("%s: is %s, not a flattened stream: there is nothing to rearrange", c.In, present.Article(formats[0].Name))}
	}
	stream, err := flat.NewFile(src)
	if err != nil {
		return openError{err}
	}
	out, err := os.Create(c.Out)
	if err != nil {
		return err
	}
	progress := progressMeter("rearranging")
	n, err := stream.Rearrange(rc.ctx, out, progress)
	progress(-1, -1)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(c.Out)
		return fmt.Errorf("%s: %w", c.In, err)
	}
	for _, p := range stream.Problems() {
		fmt.Fprintf(os.Stderr, "%s: %s\n", programName, p)
	}
	fmt.Fprintf(rc.out, "%s: %d bytes written\n", c.Out, n)
	return nil
}

// same reports whether two paths name the same file.
func same(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	if err1 == nil && err2 == nil {
		return os.SameFile(sa, sb)
	}
	aa, _ := filepath.Abs(a)
	bb, _ := filepath.Abs(b)
	return aa == bb
}
