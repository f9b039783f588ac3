package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect/kernel"
	"dumpscope/ui/render"
)

// The kernel engine (inspect/kernel) reads the crashed kernel's own
// structures — page tables, the log, kallsyms, code and stacks — from the
// dump. The session builds one engine that every view shares, so what it
// decodes once (kallsyms, the address space) serves them all. Like the
// dump, the engine is only called from commands.

// engineCall runs f on the engine for a job, reporting the pages the
// engine reads as progress (done, total 0) as it reads them; the job
// samples the reports, so no timer runs. The engine stops at ctx's end.
func (c *Common) engineCall(ctx context.Context, progress func(done, total uint64), f func(ctx context.Context, k *kernel.Kernel) (any, error)) (any, error) {
	ctx = pagesProgress(ctx, progress)
	k, err := c.kernel(ctx)
	if err != nil {
		return nil, err
	}
	return f(ctx, k)
}

// pagesProgress makes the pages the engine reads under ctx a job's
// progress (done, total 0).
func pagesProgress(ctx context.Context, progress func(done, total uint64)) context.Context {
	var pages atomic.Uint64
	progress(0, 0) // the work has started, before its first page arrives
	return kernel.WithProgress(ctx, func(n uint64) { progress(pages.Add(n), 0) })
}

// symbolsMsg brings kallsyms (or why it cannot be read) to the views that
// name addresses. Symbols are decoded tables in memory: looking an address
// up is a search in a slice, not I/O.
type symbolsMsg struct {
	syms *kernel.Symbols
	err  error
}

// loadSymbols decodes kallsyms in a command.
func loadSymbols(c *Common) tea.Cmd {
	return kernelRead(c, (*kernel.Kernel).Symbols, func(s *kernel.Symbols, err error) tea.Msg { return symbolsMsg{syms: s, err: err} })
}

// kernelRead reads with the engine in a command (not a job: a read that
// is not cancelled nor followed): msg makes the message of what read
// returns, or of the engine's own error when it cannot run on this dump.
func kernelRead[V any](c *Common, read func(k *kernel.Kernel, ctx context.Context) (V, error), msg func(V, error) tea.Msg) tea.Cmd {
	return func() tea.Msg {
		k, err := c.kernel(c.Ctx)
		if err != nil {
			var none V
			return msg(none, err)
		}
		return msg(read(k, c.Ctx))
	}
}

// symOff names an address "name" or "name+0x13", or "" when kallsyms does
// not cover it.
func symOff(s *kernel.Symbols, addr uint64) string {
	if s == nil {
		return ""
	}
	r, ok := s.Addr(addr)
	if !ok {
		return ""
	}
	if r.Offset == 0 {
		return r.Symbol.Name
	}
	return fmt.Sprintf("%s+%#x", r.Symbol.Name, r.Offset)
}

// isText reports whether a symbol type is code (nm's T, t, and the weak W,
// w): register values pointing there are named.
func isText(typ string) bool {
	return typ == "T" || typ == "t" || typ == "W" || typ == "w"
}

// textSym names addr when it points into kernel code.
func textSym(s *kernel.Symbols, addr uint64) string {
	if s == nil {
		return ""
	}
	if r, ok := s.Addr(addr); ok && isText(r.Symbol.Type) {
		return symOff(s, addr)
	}
	return ""
}

// whyLines explain an engine error in w cells: a headline, then what is
// missing, why, and what would have kept it (kernel.MissingError), each
// wrapped under a label.
func whyLines(st *styles, headline string, err error, w int) []render.Line {
	return append([]render.Line{{st.warn.Span("! " + headline)}}, whyDetail(st, err, w)...)
}

// whyDetail is whyLines without the headline.
func whyDetail(st *styles, err error, w int) []render.Line {
	var me *kernel.MissingError
	if !errors.As(err, &me) {
		return labelled(st, "because", errText(err), w)
	}
	out := labelled(st, "missing", me.What, w)
	out = append(out, labelled(st, "because", me.Err.Error(), w)...)
	if me.Hint != "" {
		out = append(out, labelled(st, "to keep it", me.Hint, w)...)
	}
	return out
}

// labelColumn is where wrapped values start after their label (where the
// Overview's values start unless a label is longer).
const labelColumn = 18

// labelled draws "  label        value" with the value wrapped to w cells,
// continuation lines under the value.
func labelled(st *styles, label, value string, w int) []render.Line {
	return labelledAt(st, labelColumn, label, value, w)
}

// labelledAt is labelled with the values starting at column col.
func labelledAt(st *styles, col int, label, value string, w int) []render.Line {
	var out []render.Line
	for i, s := range render.Wrap(value, max(w-col, 10)) {
		l := render.Line{st.label.Span("  " + render.Pad(label, col-3) + " ")}
		if i > 0 {
			l = render.Line{render.Text(strings.Repeat(" ", col))}
		}
		out = append(out, append(l, st.value.Span(s)))
	}
	return out
}
