package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/present"
)

type infoCmd struct {
	NoCrash bool `name:"no-crash" help:"Leave out the crash analysis, which reads kallsyms, the kernel log and kernel variables from memory."`
	optFilesArg
}

func (c *infoCmd) Run(rc *runContext) error {
	return rc.withSession(c.Files, func(s *inspect.Session) error {
		var crash *model.CrashAnalysis
		if !c.NoCrash {
			// Dumps of architectures the engine does not read have none.
			crash, _ = s.Crash(rc.ctx)
		}
		// After the analysis: a VMCOREINFO recovered from memory then
		// gives the release, build id and crash time.
		info, err := s.InfoWithCounts(rc.ctx)
		if err != nil {
			return err
		}
		if crash != nil {
			info.Crash, info.Signature = crash, crash.Why.Signature
		}
		if rc.JSON {
			return writeJSON(rc.out, info)
		}
		if crash != nil {
			writeRows(rc.out, present.SignatureRows(crash.Why))
			fmt.Fprintln(rc.out)
		}
		writeInfo(rc.out, info)
		if crash != nil {
			fmt.Fprintln(rc.out)
			writeCrash(rc.out, crash, info.Arch)
		}
		return nil
	})
}

// writeRows prints rows as aligned "label  value" lines.
func writeRows(w io.Writer, rows []present.Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r.Key, r.Value)
	}
	tw.Flush()
}

// writeInfo prints Info as aligned "label  value" lines, with the labels
// and formats of the Overview.
func writeInfo(w io.Writer, in model.Info) {
	writeRows(w, append(present.InfoRows(in), present.Row{Key: "pages", Value: present.Counts(in.Pages)}))
	if len(in.Warnings) > 0 {
		fmt.Fprintf(w, "problems (%d):\n", len(in.Warnings))
		for _, p := range in.Warnings {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

// writeCrash prints the crash analysis: why, where, each CPU, the log's
// call trace, the log of the crash, and what could not be read.
func writeCrash(w io.Writer, a *model.CrashAnalysis, arch string) {
	rows := append(present.WhyRows(a.Why), present.WhereRows(a.Where)...)
	writeRows(w, append(rows, present.CPURows(a.Where, arch)...))
	writeStacks(w, a.Where)
	if len(a.Excerpt) > 0 {
		fmt.Fprintln(w, "log of the crash:")
		for _, r := range a.Excerpt {
			fmt.Fprintf(w, "  %s\n", model.DmesgLine(r))
		}
	}
	writeNotes(w, a.Notes, a.Problems)
}

// writeStacks prints the log's call trace, the unwound stack, or else the
// scan of the crashing CPU's stack.
func writeStacks(w io.Writer, where model.CrashWhere) {
	if len(where.Trace) > 0 {
		fmt.Fprintln(w, "call trace (the log's):")
		for _, f := range where.Trace {
			fmt.Fprintf(w, "  %s\n", present.Frame(f))
		}
	}
	if len(where.Unwound) > 0 {
		fmt.Fprintf(w, "stack (unwound from memory by %s):\n", where.UnwoundFrom)
		for _, f := range where.Unwound {
			fmt.Fprintf(w, "  %s\n", present.UnwoundFrame(f))
		}
	}
	if len(where.Trace) == 0 && len(where.Unwound) == 0 && len(where.StackScan) > 0 {
		fmt.Fprintln(w, "stack (text pointers from the stack pointer up):")
		for _, sw := range where.StackScan {
			fmt.Fprintf(w, "  %s: %s\n", sw.Addr, sw.Symbol)
		}
	}
}

// writeNotes prints notes and what could not be read.
func writeNotes(w io.Writer, notes, problems []string) {
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, p := range problems {
		fmt.Fprintf(w, "not available: %s\n", p)
	}
}
