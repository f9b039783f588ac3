package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"dumpscope/model"
	"dumpscope/open"
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
	var out *os.File
	create := func() (io.Writer, error) {
		var err error
		out, err = os.Create(c.Out)
		return out, err
	}
	progress := progressMeter("rearranging")
	n, probs, err := open.Rearrange(rc.ctx, rc.openOptions(), c.In, create, progress)
	progress(-1, -1)
	if out != nil {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		if out != nil {
			os.Remove(c.Out)
		}
		if errors.Is(err, model.ErrUnsupported) || errors.Is(err, model.ErrUnrecognized) {
			return openError{err}
		}
		return err
	}
	for _, p := range probs {
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
