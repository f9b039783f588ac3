package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"sync"

	"github.com/alecthomas/kong"
	"github.com/klauspost/compress/zstd"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/open/remote"
	"dumpscope/present"
	"dumpscope/reader"
)

// runContext is what every command's Run receives.
type runContext struct {
	*Globals
	// JSON is the command's --json (jsonFlag), for commands that have one.
	JSON bool
	ctx  context.Context
	out  *bufio.Writer
	// remotes are the remote objects the command opened, for --stats.
	remotes []*remote.Object
	// inputs are the local files the command opened, so that no output
	// overwrites one of them (createOutput).
	inputs []input
	// notes holds notes about the output for stderr (notef).
	notes *bufio.Writer
	// interactive is set by the terminal UI: a failed remote read does
	// not make later reads fail at once (remote.Options.FailFast), so
	// that a view can be read again after a network hiccup.
	interactive bool
	// recoverProgress, when set, receives the progress of the search of
	// memory for VMCOREINFO instead of the meter on standard error (the
	// terminal UI shows it in its own status line).
	recoverProgress func(done, total uint64)
}

// input is one opened local file.
type input struct {
	name string
	st   fs.FileInfo
}

// newRunContext returns the context of one command. Its output and its
// notes are buffered, and pass through remoteGuard.
func newRunContext(g *Globals) *runContext {
	rc := &runContext{Globals: g, ctx: context.Background()}
	rc.out = bufio.NewWriterSize(remoteGuard{os.Stdout, rc}, 64<<10)
	rc.notes = bufio.NewWriterSize(remoteGuard{os.Stderr, rc}, 64<<10)
	return rc
}

// notef writes a note about the output ("dumpscope: zero-filled pfn 0x2:
// excluded ...") to stderr, buffered and guarded like the output.
func (rc *runContext) notef(format string, args ...any) {
	fmt.Fprintf(rc.notes, "%s: %s\n", programName, fmt.Sprintf(format, args...))
}

// remoteGuard passes the command's output on until a read of a remote
// dump fails; from then on it drops it. What the command writes after a
// failed read may say "unreadable" or "not available" where the network,
// not the dump, failed; what it wrote before came from good reads only.
// finish reports the failure.
type remoteGuard struct {
	w  io.Writer
	rc *runContext
}

func (g remoteGuard) Write(p []byte) (int, error) {
	if g.rc.remoteErr() != nil {
		return len(p), nil
	}
	return g.w.Write(p)
}

// remoteErr is the first failed read of a remote dump, or nil.
func (rc *runContext) remoteErr() error {
	for _, o := range rc.remotes {
		if err := o.Err(); err != nil {
			return err
		}
	}
	return nil
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
	return open.Sources(reader.Source{Name: demoName, R: bytes.NewReader(b), Size: int64(len(b))})
}

// openSession opens the files (or URLs) of one dump, or the demo when
// there are none, for inspection.
func (rc *runContext) openSession(files []string) (*inspect.Session, error) {
	var d reader.Dump
	var err error
	if len(files) == 0 {
		d, err = openDemo()
	} else {
		var o open.Options
		if o, err = rc.openOptions(); err != nil {
			return nil, err
		}
		d, err = open.With(rc.ctx, o, files...)
	}
	if err != nil {
		return nil, openError{err}
	}
	o := inspect.Options{Recover: true, RecoverProgress: rc.recoverProgress}
	if o.RecoverProgress == nil {
		o.RecoverProgress = recoverMeter()
	}
	if rc.Globals.VMCoreInfo != "" {
		v, err := readVMCoreInfoFile(rc.Globals.VMCoreInfo)
		if err == nil {
			if why := inspect.PageSizeMismatch(d, v); why != "" {
				err = usageError{fmt.Sprintf("--vmcoreinfo %s: %s: it does not describe this dump", rc.Globals.VMCoreInfo, why)}
			}
		}
		if err != nil {
			d.Close()
			return nil, err
		}
		o.VMCoreInfo, o.VMCoreInfoFile = v, rc.Globals.VMCoreInfo
	}
	return inspect.NewWithOptions(d, o), nil
}

// readVMCoreInfoFile reads --vmcoreinfo FILE: VMCOREINFO text, KEY=VALUE
// lines with at least OSRELEASE and PAGESIZE.
func readVMCoreInfoFile(name string) (*model.VMCoreInfo, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	if len(b) > 1<<20 {
		return nil, usageError{fmt.Sprintf("--vmcoreinfo %s: %d bytes is not VMCOREINFO text (at most a page)", name, len(b))}
	}
	v := model.ParseVMCoreInfo(b)
	for _, key := range []string{"OSRELEASE", "PAGESIZE"} {
		if _, ok := v.Get(key); !ok {
			return nil, usageError{fmt.Sprintf("--vmcoreinfo %s: no %s= line: not VMCOREINFO text", name, key)}
		}
	}
	v.File = name
	return v, nil
}

// recoverMeter shows the search of memory for VMCOREINFO on a terminal.
func recoverMeter() func(done, total uint64) {
	p := newProgress("no VMCOREINFO note: searching memory for it", "frames")
	return func(done, total uint64) {
		p.update(done, total)
		if done >= total {
			p.clear()
		}
	}
}

// openOptions are the remote flags as open takes them; the objects opened
// are kept for --stats.
func (rc *runContext) openOptions() (open.Options, error) {
	r := rc.Remote
	if r.CacheSize < 1 {
		// The remote package reads 0 as "the default": 4 GiB.
		return open.Options{}, usageError{fmt.Sprintf("--cache-size %d: the bound of the --cache folder must be at least 1 byte", r.CacheSize)}
	}
	return open.Options{
		Remote: remote.Options{BlockSize: r.BlockSize, CacheSize: r.BlockCache,
			CacheDir: r.Cache, CacheDirSize: r.CacheSize, S3Endpoint: r.S3Endpoint,
			Attempts: 1 + max(r.Retries, 0), RequestTimeout: r.Timeout, IdleTimeout: r.IdleTimeout,
			// A failed read fails a command (finish): later reads need
			// not wait for the server again.
			FailFast: !rc.interactive},
		OnRemote: func(o *remote.Object) { rc.remotes = append(rc.remotes, o) },
		OnLocal:  func(name string, st fs.FileInfo) { rc.inputs = append(rc.inputs, input{name, st}) },
	}, nil
}

// withSession opens the dump of files, runs fn on it and closes it: the
// one place a command opens and closes a dump.
func (rc *runContext) withSession(files []string, fn func(s *inspect.Session) error) error {
	s, err := rc.openSession(files)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// dumpReport is the skeleton of the commands that read one thing from the
// dump and print it (layout, notes, vmcoreinfo, regs, triage): a read that
// fails ends the command; --json writes what was read with json, else
// text prints it.
func dumpReport[T any](rc *runContext, files []string, read func(s *inspect.Session) (T, error), json func(v T) error, text func(s *inspect.Session, v T) error) error {
	return rc.withSession(files, func(s *inspect.Session) error {
		v, err := read(s)
		if err != nil {
			return err
		}
		if rc.JSON {
			return json(v)
		}
		return text(s, v)
	})
}

// writeStats prints, for --stats, what reading each remote dump cost:
// one line per remote object, a JSON object with --json. They go to
// stderr, never into the command's output, which is the same for a dump
// read locally or remotely.
func (rc *runContext) writeStats(w io.Writer) {
	for _, o := range rc.remotes {
		if rc.JSON {
			b, _ := json.Marshal(o.Stats())
			fmt.Fprintf(w, "%s\n", b)
			continue
		}
		fmt.Fprintln(w, o.Stats())
	}
	if len(rc.remotes) == 0 && !rc.JSON {
		fmt.Fprintf(w, "%s: --stats: no remote dump was read\n", programName)
	}
}

// finish ends a command that returned err: it flushes the output and the
// notes (remoteGuard drops them after a failed remote read), and returns
// the first failed remote read, if any, in place of err: the command fails
// (exit 1; 2 while opening) and names the network as the cause, with the
// request's byte range. err may say the same deep inside a chain of what
// was being read ("pfn 0xa1a is unreadable: ..."), which blames the dump.
func (rc *runContext) finish(err error) error {
	if werr := rc.out.Flush(); err == nil {
		err = werr
	}
	said := map[string]bool{}
	for _, o := range rc.remotes {
		if why := o.Stats().DiskRefused; why != "" && !said[why] {
			said[why] = true
			rc.notef("--cache %s: not used: %s", rc.Remote.Cache, why)
		}
	}
	rc.notes.Flush()
	ferr := rc.remoteErr()
	var oe openError
	switch {
	case ferr == nil:
		return err
	case errors.As(err, &oe):
		return openError{ferr}
	}
	return ferr
}

// Num is a number flag that accepts decimal and 0x-hex.
type Num uint64

// Decode implements kong.MapperValue.
func (n *Num) Decode(ctx *kong.DecodeContext) error {
	return decodeNumber(ctx, "number", present.ParseNumber, n)
}

// Addr is a flag that takes only an address: decimal, 0x-hex, or bare hex
// as VMCOREINFO and System.map print it (present.ParseAddress).
type Addr uint64

// Decode implements kong.MapperValue.
func (a *Addr) Decode(ctx *kong.DecodeContext) error {
	return decodeNumber(ctx, "address", present.ParseAddress, a)
}

// decodeNumber takes a flag's value (what names it in kong's messages),
// parses it and stores it in dst; on an error dst is left as it was and
// kong names the flag.
func decodeNumber[T ~uint64](ctx *kong.DecodeContext, what string, parse func(string) (uint64, error), dst *T) error {
	var s string
	if err := ctx.Scan.PopValueInto(what, &s); err != nil {
		return err
	}
	v, err := parse(s)
	if err != nil {
		return err
	}
	*dst = T(v)
	return nil
}

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeJSONList writes list as writeJSON does, an empty array when it is
// nil, and returns err, the error of the read that made the list (what
// was read before it is written first), unless the writing failed.
func writeJSONList[T any](w io.Writer, list []T, err error) error {
	if list == nil {
		list = []T{}
	}
	if jerr := writeJSON(w, list); jerr != nil {
		return jerr
	}
	return err
}

// rawString is the mapper of every string flag and argument: the value as
// given, byte for byte. kong's own string mapper copies values through
// encoding/json, which turns every byte that is not UTF-8 into U+FFFD, so
// a file named in another encoding could not be opened (and --text could
// not search for such bytes).
func rawString(ctx *kong.DecodeContext, target reflect.Value) error {
	t, err := ctx.Scan.PopValue("string")
	if err != nil {
		return err
	}
	s, ok := t.Value.(string)
	if !ok {
		s = fmt.Sprint(t.Value)
	}
	target.SetString(s)
	return nil
}

// filesArg is the FILE... positional every dump command ends with. File
// names pass through as given (rawString): sep:"none" keeps kong from
// splitting them at commas.
type filesArg struct {
	Files []string `arg:"" name:"FILE" sep:"none" help:"Dump file, or every part of a split set."`
}

// optFilesArg is FILE... for commands that fall back to the demo dump.
type optFilesArg struct {
	Files []string `arg:"" optional:"" name:"FILE" sep:"none" help:"Dump file(s); none: the embedded demo dump."`
}
