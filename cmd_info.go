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
	NoCrash bool `name:"no-crash" help:"Leave out the crash summary, which reads kallsyms, the kernel log and the stacks from memory."`
	jsonFlag
	optFilesArg
}

func (c *infoCmd) Run(rc *runContext) error {
	return rc.withSession(c.Files, func(s *inspect.Session) error {
		info, err := s.InfoWithCounts(rc.ctx)
		if err != nil {
			return err
		}
		if !c.NoCrash {
			info.Crash, _ = s.CrashSummary(rc.ctx, 10)
		}
		if rc.JSON {
			return writeJSON(rc.out, info)
		}
		writeInfo(rc.out, info, info.Crash)
		return nil
	})
}

// writeInfo prints Info as aligned "label  value" lines, with the labels
// and formats of the Overview, then the crash summary's rows, in one
// aligned block; then the problems, the stack and the last log lines.
func writeInfo(w io.Writer, in model.Info, crash *model.CrashSummary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range present.InfoRows(in) {
		fmt.Fprintf(tw, "%s\t%s\n", r.Key, r.Value)
	}
	fmt.Fprintf(tw, "%s\t%s\n", "pages", present.Counts(in.Pages))
	if crash != nil {
		for _, r := range present.CrashRows(crash, in.Arch) {
			fmt.Fprintf(tw, "%s\t%s\n", r.Key, r.Value)
		}
	}
	tw.Flush()
	if len(in.Warnings) > 0 {
		fmt.Fprintf(w, "problems (%d):\n", len(in.Warnings))
		for _, p := range in.Warnings {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	writeCrashDetails(w, crash)
}

// writeCrashDetails prints what the crash summary holds beyond its rows.
func writeCrashDetails(w io.Writer, s *model.CrashSummary) {
	if s == nil {
		return
	}
	if len(s.Stack) > 0 {
		fmt.Fprintln(w, "stack (text pointers):")
		for _, sw := range s.Stack {
			fmt.Fprintf(w, "  %s: %s\n", sw.Addr, sw.Symbol)
		}
	}
	if len(s.LastLog) > 0 {
		fmt.Fprintln(w, "last kernel log lines:")
		for _, r := range s.LastLog {
			fmt.Fprintf(w, "  %s\n", model.DmesgLine(r))
		}
	}
	for _, p := range s.Problems {
		fmt.Fprintf(w, "not available: %s\n", p)
	}
}
