package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"dumpscope/reader"
	"dumpscope/reader/flat"
	"dumpscope/reader/rio"
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
	src := rio.Source{Name: c.In, R: in, Size: st.Size()}
	det, err := reader.Detect(src)
	if err != nil {
		return openError{err}
	}
	if det.Kind != reader.KindFlattened {
		return openError{fmt.Errorf("%s: is a %s, not a flattened stream: there is nothing to rearrange", c.In, det.Kind)}
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
	n, err := stream.Rearrange(context.Background(), out, progress)
	progress(-1, -1)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(c.Out)
		return fmt.Errorf("%s: %w", c.In, err)
	}
	for _, p := range stream.StreamProblems() {
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

// progressMeter returns a progress callback that draws a percentage on
// stderr when it is a terminal, and nothing otherwise. Calling it with -1
// clears the line.
func progressMeter(what string) func(done, total int64) {
	fi, err := os.Stderr.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return func(int64, int64) {}
	}
	last := -1
	return func(done, total int64) {
		if done < 0 {
			if last >= 0 {
				fmt.Fprint(os.Stderr, "\r\033[K")
			}
			return
		}
		if total <= 0 {
			return
		}
		pct := int(done * 100 / total)
		if pct != last {
			last = pct
			fmt.Fprintf(os.Stderr, "\r%s: %d%%", what, pct)
		}
	}
}
