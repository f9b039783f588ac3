package main

import (
	"fmt"
	"io"
	"unicode/utf8"

	"dumpscope/inspect"
	"dumpscope/internal/hugeheap"
	"dumpscope/model"
	"dumpscope/present"
)

type infoCmd struct {
	NoCrash bool `name:"no-crash" help:"Leave out the crash analysis, which reads kallsyms, the kernel log and kernel variables from memory."`
	jsonFlag
	Counts bool `name:"counts" help:"Count frames of every state even when that scans large bitmaps (beyond 128 GiB of address space, info counts only the stored frames)."`
	optFilesArg
}

func (c *infoCmd) Run(rc *runContext) error {
	return rc.withSession(c.Files, func(s *inspect.Session) error {
		var crash *model.CrashAnalysis
		if !c.NoCrash {
			hugeheap.Prepare()
			// Dumps of architectures the engine does not read have none.
			crash, _ = s.Crash(rc.ctx)
		}
		// After the analysis: a VMCOREINFO recovered from memory then
		// gives the release, build id and crash time.
		info, err := s.InfoWithCounts(rc.ctx)
		if err != nil {
			return err
		}
		if c.Counts {
			if info.Pages, err = s.Counts(rc.ctx); err != nil {
				return err
			}
			info = withoutDetail(info, "frame counts")
		}
		if crash != nil {
			info.Crash, info.Signature = crash, crash.Why.Signature
		}
		if rc.JSON {
			return writeJSON(rc.out, info)
		}
		// One key column for every section (signature, the dump's facts,
		// the analysis), so the values line up all the way down.
		width := keyWidth(infoRows(info))
		if crash != nil {
			width = max(width, keyWidth(present.SignatureRows(crash.Why)), keyWidth(crashRows(crash, info.Arch)))
			writeRows(rc.out, present.SignatureRows(crash.Why), width)
			fmt.Fprintln(rc.out)
		}
		writeInfo(rc.out, info, width)
		if crash != nil {
			fmt.Fprintln(rc.out)
			writeCrash(rc.out, crash, info.Arch, s.Name(), width)
		}
		return nil
	})
}

// writeRows prints rows as "label  value" lines, the values in one column
// at width (0: as wide as these rows' longest label).
func writeRows(w io.Writer, rows []present.Row, width int) {
	if width == 0 {
		width = keyWidth(rows)
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-*s  %s\n", width, r.Key, r.Value)
	}
}

// keyWidth is the width of the longest label of rows.
func keyWidth(rows []present.Row) int {
	n := 0
	for _, r := range rows {
		n = max(n, utf8.RuneCountInString(r.Key))
	}
	return n
}

// infoRows are the dump's facts as info prints them.
func infoRows(in model.Info) []present.Row {
	return append(present.InfoRows(in), present.Row{Key: "pages", Value: present.Counts(in.Pages)})
}

// crashRows are the analysis's rows as info prints them.
func crashRows(a *model.CrashAnalysis, arch string) []present.Row {
	rows := append(present.WhyRows(a.Why), present.WhereRows(a.Where)...)
	return append(rows, present.CPURows(a.Where, arch)...)
}

// withoutDetail drops the detail named key.
func withoutDetail(in model.Info, key string) model.Info {
	var out []model.KV
	for _, kv := range in.Details {
		if kv.Key != key {
			out = append(out, kv)
		}
	}
	in.Details = out
	return in
}

// writeInfo prints Info as aligned "label  value" lines, with the labels
// and formats of the Overview.
func writeInfo(w io.Writer, in model.Info, width int) {
	writeRows(w, infoRows(in), width)
	if len(in.Warnings) > 0 {
		fmt.Fprintf(w, "problems (%d):\n", len(in.Warnings))
		for _, p := range in.Warnings {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

// writeCrash prints the crash analysis: why, where, each CPU, the log's
// call trace, the log of the crash, and what could not be read (name is
// the dump's, which the engine's messages start with).
func writeCrash(w io.Writer, a *model.CrashAnalysis, arch, name string, width int) {
	writeRows(w, crashRows(a, arch), width)
	writeStacks(w, a.Where)
	if len(a.Excerpt) > 0 {
		fmt.Fprintln(w, "log of the crash:")
		for _, r := range a.Excerpt {
			fmt.Fprintf(w, "  %s\n", model.DmesgLine(r))
		}
	}
	writeNotes(w, a.Notes, a.Problems, name)
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

// writeNotes prints notes and what could not be read, each reason once
// and without the dump's name (present.NotAvailable).
func writeNotes(w io.Writer, notes, problems []string, name string) {
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, p := range present.NotAvailable(problems, name) {
		fmt.Fprintf(w, "not available: %s\n", p)
	}
}
