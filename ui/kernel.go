package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/kernel"
)

// The kernel triage engine (reader/kernel) reads the crashed kernel's own
// structures — page tables, the log, kallsyms, code and stacks — from the
// dump. The views share one engine so that what it decodes once (kallsyms,
// the address space) serves them all. Like the dump, the engine is only
// called from commands: building it reads the dump's notes.

// engine is the Common's lazily built triage engine.
type engine struct {
	once sync.Once
	k    *kernel.Kernel
	err  error
	// reads counts the pages the engine has read, for progress: the
	// engine's calls take no context and report no progress themselves.
	reads atomic.Uint64
}

// countedDump counts the pages the engine reads.
type countedDump struct {
	reader.Dump
	reads *atomic.Uint64
}

func (d countedDump) ReadPage(pfn model.PFN, dst []byte) (model.PageInfo, error) {
	d.reads.Add(1)
	return d.Dump.ReadPage(pfn, dst)
}

// kernel returns the triage engine, building it on first use, or why it
// cannot run on this dump (not x86, not little-endian, no registers). Call
// it only from commands.
func (c *Common) kernel() (*kernel.Kernel, error) {
	e := &c.engine
	e.once.Do(func() { e.k, e.err = kernel.New(countedDump{Dump: c.Dump, reads: &e.reads}) })
	return e.k, e.err
}

// engineCall runs f on the engine for a job: in its own goroutine, with
// the pages read so far reported as progress (done, total 0). The engine
// takes no context, so a cancelled call is abandoned: engineCall returns
// ctx's error at once, and f finishes in the background with its result
// dropped.
func (c *Common) engineCall(ctx context.Context, progress func(done, total uint64), f func(k *kernel.Kernel) (any, error)) (any, error) {
	type result struct {
		val any
		err error
	}
	start := c.engine.reads.Load()
	out := make(chan result, 1)
	go func() {
		k, err := c.kernel()
		if err != nil {
			out <- result{nil, err}
			return
		}
		v, err := f(k)
		out <- result{v, err}
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case r := <-out:
			return r.val, r.err
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
			progress(c.engine.reads.Load()-start, 0)
		}
	}
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
	return func() tea.Msg {
		k, err := c.kernel()
		if err != nil {
			return symbolsMsg{err: err}
		}
		s, err := k.Symbols()
		return symbolsMsg{syms: s, err: err}
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
func whyLines(st *styles, headline string, err error, w int) []line {
	return append([]line{{sp(st.warn, "! "+headline)}}, whyDetail(st, err, w)...)
}

// whyDetail is whyLines without the headline.
func whyDetail(st *styles, err error, w int) []line {
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
// Overview's values start).
const labelColumn = 18

// labelled draws "  label        value" with the value wrapped to w cells,
// continuation lines under the value.
func labelled(st *styles, label, value string, w int) []line {
	var out []line
	for i, s := range wrapText(value, max(w-labelColumn, 10)) {
		l := line{sp(st.label, "  "+padRight(label, labelColumn-3)+" ")}
		if i > 0 {
			l = line{sp(pen{}, strings.Repeat(" ", labelColumn))}
		}
		out = append(out, append(l, sp(st.value, s)))
	}
	return out
}

// wrapText breaks plain text into lines of at most w cells, at spaces
// where it can and inside words longer than a line.
func wrapText(s string, w int) []string {
	w = max(w, 1)
	var out []string
	var cur strings.Builder
	curW := 0
	flush := func() {
		out = append(out, cur.String())
		cur.Reset()
		curW = 0
	}
	for _, word := range strings.Fields(s) {
		ww := textWidth(word)
		if curW > 0 && curW+1+ww > w {
			flush()
		}
		for ww > w {
			if curW > 0 {
				flush()
			}
			r := []rune(word)
			n := min(w, len(r))
			out = append(out, string(r[:n]))
			word = string(r[n:])
			ww = textWidth(word)
		}
		if word == "" {
			continue
		}
		if curW > 0 {
			cur.WriteByte(' ')
			curW++
		}
		cur.WriteString(word)
		curW += ww
	}
	if curW > 0 || len(out) == 0 {
		flush()
	}
	return out
}

// pcSP names the instruction and stack pointers of an architecture.
func pcSP(arch string) (pc, sp string) {
	if arch == "i386" {
		return "eip", "esp"
	}
	return "rip", "rsp"
}
