package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// crashState is the Overview's crash summary (kernel.Summary: the CPU
// that crashed and where, the kernel's identity, the last log lines), read
// by a job when the Overview is first shown.
type crashState struct {
	job       *job
	sum       *model.CrashSummary
	err       error // the engine cannot run on this dump
	cancelled bool
}

// crashLogLines is how many of the last log lines the summary shows.
const crashLogLines = 10

// start reads the summary unless it is read or being read.
func (cs *crashState) start(c *Common) tea.Cmd {
	if cs.sum != nil || cs.err != nil || cs.job.running() {
		return nil
	}
	cs.cancelled = false
	var cmd tea.Cmd
	cs.job, cmd = startJob(c.Ctx, "crash summary", func(ctx context.Context, progress func(done, total uint64)) (any, error) {
		return c.engineCall(ctx, progress, func(ctx context.Context, k *kernel.Kernel) (any, error) {
			return k.Summary(ctx, crashLogLines), nil
		})
	})
	return cmd
}

// update takes the job's messages; ok is false for other jobs' messages.
func (cs *crashState) update(msg tea.Msg) (tea.Cmd, bool) {
	cmd, ok := cs.job.update(msg)
	if d, done := msg.(jobDoneMsg); ok && done {
		switch {
		case errors.Is(d.err, context.Canceled):
			cs.cancelled = true
		case d.err != nil:
			cs.err = d.err
		default:
			cs.sum, _ = d.val.(*model.CrashSummary)
		}
	}
	return cmd, ok
}

// lines draws the summary in w cells, in the rows of `dumpscope info`
// (present.CrashRows): the crashing CPU and why, each CPU's instruction
// and stack pointers by symbol; then the text pointers on the crashing
// CPU's stack, the last log lines and what could not be read (each reason
// once; name, the dump's, is left out of the engine's messages).
func (cs *crashState) lines(st *styles, arch, name string, col, w int) []render.Line {
	out := []render.Line{{st.title.Span("Crash summary"), st.dim.Span("  (read from the kernel's memory: VMCOREINFO, kallsyms, the log, the stacks)")}}
	switch {
	case cs.job.running():
		return append(out, render.Line{st.dim.Span(fmt.Sprintf("  reading… %d pages so far (esc cancels)", cs.job.doneN))})
	case cs.cancelled:
		return append(out, render.Line{st.dim.Span("  cancelled; switch to another view and back to read it again")})
	case cs.err != nil:
		return append(out, whyLines(st, "no crash summary: the kernel cannot be read from this dump", cs.err, w)...)
	case cs.sum == nil:
		return append(out, render.Line{st.dim.Span("  not read yet")})
	}
	s := cs.sum
	for _, r := range present.CrashRows(s, arch) {
		out = append(out, labelledAt(st, col, r.Key, r.Value, w)...)
	}
	if len(s.Stack) > 0 {
		out = append(out, render.Line{}, render.Line{st.title.Span("stack (text pointers)"), st.dim.Span("  (the CPUs view has every CPU's)")})
		for _, sw := range s.Stack {
			out = append(out, render.Line{st.addr.Span("  " + sw.Addr.String()), st.dim.Span(": "), st.title.Span(sw.Symbol)})
		}
	}
	if len(s.LastLog) > 0 {
		out = append(out, render.Line{}, render.Line{st.title.Span("last kernel log lines"), st.dim.Span("  (the Log view has them all)")})
		for _, r := range s.LastLog {
			for _, l := range strings.Split(model.DmesgLine(r), "\n") {
				out = append(out, render.Line{levelPen(st, r.Level).Span("  " + drawable(l))})
			}
		}
	}
	if na := present.NotAvailable(s.Problems, name); len(na) > 0 {
		out = append(out, render.Line{})
		for _, p := range na {
			out = append(out, labelledAt(st, col, "not available", p, w)...)
		}
	}
	return out
}
