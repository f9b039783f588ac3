package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// `:vaddr ADDR` translates a kernel virtual address through the kernel's
// own page tables (the triage engine) and shows the frame it maps in the
// Memory view, with the translation — every level of the walk, the
// shortcut it was checked against, or why there is no translation — in a
// panel above the hex pane until esc or another jump.

// vaddrState is the last `:vaddr`.
type vaddrState struct {
	va      uint64
	pending bool
	tr      model.Translation
	sym     string // the address's symbol, when kallsyms has it
	err     error
}

// vaddrMsg brings a translation.
type vaddrMsg struct {
	va  uint64
	tr  model.Translation
	sym string
	err error
}

// startVaddr translates va in a command.
func (m *memoryView) startVaddr(va uint64) tea.Cmd {
	m.vaddr = &vaddrState{va: va, pending: true}
	m.relayout()
	c := m.c
	return func() tea.Msg {
		k, err := c.kernel(c.Ctx)
		if err != nil {
			return vaddrMsg{va: va, tr: model.Translation{VirtAddr: model.VirtAddr(va)}, err: err}
		}
		tr, err := k.Translate(c.Ctx, model.VirtAddr(va))
		sym := ""
		if s, serr := k.Symbols(c.Ctx); serr == nil {
			sym = symOff(s, va)
		}
		return vaddrMsg{va: va, tr: tr, sym: sym, err: err}
	}
}

// vaddrDone shows the translation and moves the cursor to the physical
// address it gives.
func (m *memoryView) vaddrDone(msg vaddrMsg) tea.Cmd {
	if m.vaddr == nil || !m.vaddr.pending || m.vaddr.va != msg.va {
		return nil // closed, or another :vaddr followed
	}
	m.vaddr = &vaddrState{va: msg.va, tr: msg.tr, sym: msg.sym, err: msg.err}
	m.relayout()
	va := model.VirtAddr(msg.va)
	pa := uint64(msg.tr.PhysAddr)
	switch {
	case msg.err != nil || !msg.tr.Mapped:
		return status(fmt.Sprintf("vaddr %s is not translated: the panel above the hex says why", va))
	case pa >= m.maxAddr:
		return status(fmt.Sprintf("vaddr %s maps phys %#x, beyond the dump's last frame", va, pa))
	}
	m.moved, m.focusMap = true, false
	m.cur = pa
	m.top = m.rowOf(pa)
	m.clampTop()
	return tea.Batch(m.ensure(), status(fmt.Sprintf("vaddr %s is phys %#x (pfn %s, %s)", va, pa, msg.tr.PFN, present.OrDash(string(msg.tr.PageState)))))
}

// closeVaddr removes the panel; it reports whether there was one.
func (m *memoryView) closeVaddr() bool {
	if m.vaddr == nil {
		return false
	}
	m.vaddr = nil
	m.relayout()
	return true
}

// relayout recomputes the geometry after the panel changed.
func (m *memoryView) relayout() { m.SetSize(m.g.w, m.g.h) }

// vaddrRows bounds the panel: a third of the view.
func vaddrRows(h int) int { return max(h/3, 2) }

// vaddrLines draws the panel in w cells, at most maxRows lines.
func (m *memoryView) vaddrLines(st *styles, w, maxRows int) []render.Line {
	s := m.vaddr
	if s == nil {
		return nil
	}
	va := model.VirtAddr(s.va).String()
	if s.sym != "" {
		va += " " + s.sym
	}
	var out []render.Line
	switch {
	case s.pending:
		out = append(out, render.Line{st.title.Span("vaddr " + va), st.dim.Span(": translating…")})
	case s.err != nil || !s.tr.Mapped:
		out = append(out, render.Line{st.err.Span("✗ vaddr " + va + " is not translated"), st.dim.Span("  (esc closes)")})
		if s.err != nil {
			out = append(out, whyDetail(st, s.err, w)...)
		}
		out = append(out, m.walkLines(st, w)...)
	default:
		tr := s.tr
		out = append(out, render.Line{st.title.Span("vaddr " + va + " → phys " + tr.PhysAddr.String()),
			st.value.Span(fmt.Sprintf(" (pfn %s, %s), %s page by %s", tr.PFN, present.OrDash(string(tr.PageState)), present.SizeName(tr.PageSize), tr.Method)),
			st.dim.Span("  (esc closes)")})
		out = append(out, m.walkLines(st, w)...)
	}
	if len(out) > maxRows {
		out = out[:maxRows]
	}
	return out
}

// walkLines draws the walk: the paging mode and root, one line per entry,
// the shortcut's verdict and the engine's note.
func (m *memoryView) walkLines(st *styles, w int) []render.Line {
	tr := m.vaddr.tr
	if tr.Paging == "" {
		return nil // nothing was walked
	}
	out := []render.Line{{st.dim.Span(fmt.Sprintf("  %s, root %s from %s", tr.Paging, tr.Root, tr.RootFrom))}}
	for _, s := range tr.Steps {
		next := "not present"
		if s.Next != nil {
			next = strings.Join(s.Flags, " ") + " → " + s.Next.String()
			if s.Large {
				next += " (large page)"
			}
		}
		out = append(out, render.Line{st.label.Span("  " + render.Pad(fmt.Sprintf("%s[%d]", s.Level, s.Index), 11)),
			st.addr.Span(render.Pad(s.EntryAddr.String(), 12)), st.value.Span(fmt.Sprintf("= %#016x  ", uint64(s.Entry))), st.dim.Span(next)})
	}
	if sc := tr.Shortcut; sc != nil {
		verdict := "not checked against the walk"
		switch {
		case sc.Agrees != nil && *sc.Agrees:
			verdict = "agrees with the walk"
		case sc.Agrees != nil:
			verdict = "DISAGREES with the walk"
		}
		out = append(out, render.Line{st.dim.Span(fmt.Sprintf("  %s: %s, %s", sc.Kind, sc.PhysAddr, verdict))})
	}
	if tr.Note != "" {
		for _, s := range render.Wrap("note: "+tr.Note, max(w-2, 10)) {
			out = append(out, render.Line{st.dim.Span("  " + s)})
		}
	}
	return out
}
