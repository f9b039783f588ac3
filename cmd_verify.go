package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/present"
)

type verifyCmd struct {
	Strict          bool   `help:"Exit 1 on warnings too."`
	Ready           bool   `help:"Also decide whether the dump supports triage (the verdict of the triage command): an analysis triage needs that is not possible is an error, naming the frame and what left it out."`
	Jobs            int    `default:"0" help:"Page workers, at most 256 (default: one per CPU)."`
	Manifest        string `name:"manifest" placeholder:"OUT" help:"Write the sha256 of every present page to OUT."`
	AgainstManifest string `name:"against-manifest" placeholder:"IN" help:"Compare every page with a manifest written by --manifest."`
	jsonFlag
	filesArg
}

func (c *verifyCmd) Run(rc *runContext) error {
	if c.Jobs < 0 || c.Jobs > inspect.MaxJobs {
		return usageError{fmt.Sprintf("--jobs must be 0..%d (0: one per CPU)", inspect.MaxJobs)}
	}
	var against *inspect.Manifest
	if c.AgainstManifest != "" {
		fh, err := os.Open(c.AgainstManifest)
		if err != nil {
			return usageError{fmt.Sprintf("%s: %v", open.DisplayName(c.AgainstManifest), pathErr(err))}
		}
		against, err = inspect.ReadManifest(fh)
		fh.Close()
		if err != nil {
			return usageError{fmt.Sprintf("%s: %v", open.DisplayName(c.AgainstManifest), err)}
		}
	}
	return rc.withSession(c.Files, func(s *inspect.Session) error { return c.run(rc, s, against) })
}

func (c *verifyCmd) run(rc *runContext, s *inspect.Session, against *inspect.Manifest) error {
	indexing := newProgress("indexing the stream", "bytes")
	_, err := s.Index(rc.ctx, indexing.updater())
	indexing.clear()
	if err != nil {
		return err
	}
	// The manifest is created once the dump is open, never over it.
	var manifest *output
	if c.Manifest != "" {
		if manifest, err = rc.createOutput(c.Manifest); err != nil {
			return err
		}
	}
	prog := newProgress("verifying", "pages")
	var manifestW io.Writer
	if manifest != nil {
		manifestW = manifest
	}
	rep, err := s.Verify(rc.ctx, inspect.VerifyOptions{
		Jobs: c.Jobs, Manifest: manifestW, Against: against,
		Progress: prog.update,
	})
	prog.clear()
	if manifest != nil {
		if cerr := manifest.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("%s: %w", open.DisplayName(c.Manifest), pathErr(cerr))
		}
		if err != nil && manifest.created {
			os.Remove(c.Manifest)
		}
	}
	if err != nil {
		return err
	}
	if c.Ready {
		v, err := s.Verdict(rc.ctx)
		if err != nil {
			return err
		}
		rep.AddVerdict(v)
	}
	if rep.Problems == nil {
		rep.Problems = []model.Problem{}
	}
	if rc.JSON {
		if err := writeJSON(rc.out, rep); err != nil {
			return err
		}
	} else {
		writeReport(rc.out, rep)
	}
	errs, warns := rep.Count(model.SeverityError), rep.Count(model.SeverityWarning)
	if errs > 0 || (c.Strict && warns > 0) {
		return errSilent
	}
	return nil
}

// writeReport prints the verify report: a summary line, then one line per
// problem.
func writeReport(w io.Writer, r *inspect.Report) {
	checked := fmt.Sprintf("%d bytes", r.BytesChecked)
	if r.ZeroFillPages > 0 {
		checked = fmt.Sprintf("%d bytes read; %d zero_fill frames counted, not read", r.BytesChecked, r.ZeroFillPages)
	}
	fmt.Fprintf(w, "%s: %s, %s checked (%s): %s, %s, %s\n",
		strings.Join(r.Files, " "), r.Format, present.Count(int(r.PagesChecked), "page"), checked,
		present.Count(r.Count(model.SeverityError), "error"), present.Count(r.Count(model.SeverityWarning), "warning"),
		present.Count(r.Count(model.SeverityNote), "note"))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "%-7s %s\n", p.Severity, strings.TrimPrefix(p.String(), string(p.Severity)+" "))
	}
	if r.Verdict != nil {
		fmt.Fprintf(w, "triage: %s\n", r.Verdict.Summary)
	}
	if r.OK {
		fmt.Fprintln(w, "OK")
	} else {
		fmt.Fprintln(w, "FAILED")
	}
}
