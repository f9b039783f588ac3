package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"dumpscope/model"
	"dumpscope/open"
)

type rearrangeCmd struct {
	In  string `arg:"" name:"IN" help:"A makedumpfile flattened stream (what makedumpfile -F and QEMU write)."`
	Out string `arg:"" name:"OUT" help:"The standard file to write (what makedumpfile -R writes); - writes it to stdout. It is created once IN is known to be a flattened stream, and never over IN."`
}

func (c *rearrangeCmd) Run(rc *runContext) error {
	toStdout := c.Out == "-"
	if toStdout && isTerminal(os.Stdout) {
		return usageError{"OUT is -, but stdout is a terminal: redirect it to a file or a pipe"}
	}
	var out *output
	create := func() (io.Writer, error) {
		if toStdout {
			return outputNamed{rc.out, "stdout"}, nil
		}
		f, err := rc.createOutput(c.Out)
		if err != nil {
			return nil, err
		}
		out = f
		return outputNamed{f, open.DisplayName(c.Out)}, nil
	}
	prog := newProgress("rearranging", "bytes")
	opts, err := rc.openOptions()
	if err != nil {
		return err
	}
	n, probs, err := open.Rearrange(rc.ctx, opts, c.In, create, prog.updater())
	prog.clear()
	var incomplete *open.IncompleteError
	if err != nil && !errors.As(err, &incomplete) {
		if out != nil {
			out.discard()
		}
		if errors.Is(err, model.ErrUnsupported) || errors.Is(err, model.ErrUnrecognized) {
			return openError{err}
		}
		return err
	}
	if out != nil {
		if err := out.Close(); err != nil {
			return fmt.Errorf("%s: %w", open.DisplayName(c.Out), pathErr(err))
		}
	}
	for _, p := range probs {
		if p.Severity != model.SeverityNote { // the note says to rearrange it
			fmt.Fprintf(os.Stderr, "%s: %s\n", programName, p)
		}
	}
	if toStdout {
		fmt.Fprintf(os.Stderr, "%s: stdout: %d bytes written\n", programName, n)
	} else {
		fmt.Fprintf(rc.out, "%s: %d bytes written\n", open.DisplayName(c.Out), n)
	}
	if incomplete != nil {
		return incomplete // exit 1: the output lacks what the stream lost
	}
	return nil
}

// outputNamed names the output in its write errors: "OUT: what".
type outputNamed struct {
	w    io.Writer
	name string
}

func (o outputNamed) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	if err != nil {
		err = fmt.Errorf("%s: %w", o.name, pathErr(err))
	}
	return n, err
}

// Seek seeks the output where it can (a file, not stdout), so that the
// stream's holes stay holes; its errors name the output too.
func (o outputNamed) Seek(off int64, whence int) (int64, error) {
	s, ok := o.w.(io.Seeker)
	if !ok {
		return 0, errors.ErrUnsupported
	}
	n, err := s.Seek(off, whence)
	if err != nil {
		err = fmt.Errorf("%s: %w", o.name, pathErr(err))
	}
	return n, err
}
