package ui

import (
	"fmt"
	"strings"

	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// memGeometry is where the Memory view's parts go, computed once per size:
// the info lines on top (the page, the cursor's byte, the data inspector),
// and the translation panel of `:vaddr` when it is
// open; then the hex pane with the minimap on its right
// (wide screens) or the minimap above the hex pane (narrow ones).
type memGeometry struct {
	w, h                      int
	side                      bool
	infoRows                  int
	digits, bpr               int
	hexY, hexW, hexRows       int // hexY: first hex row; its title is on hexY-1
	mapX, mapY, mapW          int // grid origin; its title is on mapY-1
	legendY, legendRows, mapH int
}

// byteAt returns which byte of a row column x falls on (hex or ASCII).
func (g memGeometry) byteAt(x int) (int, bool) {
	x -= g.digits + 2
	if x < 0 {
		return 0, false
	}
	for i := 0; i < g.bpr; i++ {
		col := i*3 + i/8
		if x >= col && x < col+2 {
			return i, true
		}
	}
	ascii := g.bpr*3 - 1 + (max(g.bpr/8, 1) - 1) + 3
	if i := x - ascii; i >= 0 && i < g.bpr {
		return i, true
	}
	return 0, false
}

func (m *memoryView) SetSize(w, h int) {
	g := memGeometry{w: w, h: h, infoRows: 2 + inspectorRows + len(m.vaddrLines(m.c.St, w, vaddrRows(h)))}
	g.digits = hexDigits(max(m.maxAddr, 1)-1, 8)
	leg := len(flow(legend(m.c.St), max(w, 1)))
	if w >= 120 {
		g.side = true
		g.bpr = 16
		if hexWidth(g.digits, 16) > w-30 {
			g.bpr = 8
		}
		g.hexW = hexWidth(g.digits, g.bpr)
		g.hexY = g.infoRows + 1
		g.hexRows = max(h-g.hexY, 1)
		g.mapX, g.mapY = g.hexW+1, g.infoRows+1
		g.mapW = w - g.mapX
		g.legendRows = len(flow(legend(m.c.St), g.mapW))
		g.mapH = max(h-g.mapY-g.legendRows, 1)
		g.legendY = g.mapY + g.mapH
	} else {
		g.bpr = chooseBPR(w, g.digits)
		g.hexW = min(hexWidth(g.digits, g.bpr), w)
		g.mapX, g.mapY, g.mapW = 0, g.infoRows+1, w
		g.mapH = clamp((h-6)/4, 1, 6)
		g.legendRows = min(leg, 1+h/30) // the page states; the mixed cells when tall enough
		g.legendY = g.mapY + g.mapH
		g.hexY = g.legendY + g.legendRows + 1
		g.hexRows = max(h-g.hexY, 1)
	}
	m.g = g
	m.mm.setGrid(g.mapW, g.mapH)
	m.top = m.rowOf(m.top)
	if m.cur >= m.top+uint64(g.hexRows*g.bpr) {
		m.top = m.rowOf(m.cur)
	}
	m.clampTop()
}

// flow packs spans, two per item (glyph and name), into lines of w cells.
func flow(spans []render.Span, w int) []render.Line {
	var out []render.Line
	var cur render.Line
	width := 0
	for i := 0; i < len(spans); i += 2 {
		item := spans[i:min(i+2, len(spans))]
		iw := 0
		for _, s := range item {
			iw += render.Width(s.Text)
		}
		if width > 0 && width+iw > w {
			out = append(out, cur)
			cur, width = nil, 0
		}
		cur = append(cur, item...)
		width += iw
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// View draws the info lines, the minimap and the hex rows.
func (m *memoryView) View() string {
	st, g := m.c.St, m.g
	if m.maxAddr == 0 {
		return render.Block([]string{render.Line{st.dim.Span("this dump describes no frames")}.Render(g.w, nil)}, g.w, g.h)
	}
	rows := make([]string, 0, g.h)
	rows = append(rows, m.infoLines(st)...)
	rows = append(rows, render.Lines(m.vaddrLines(st, g.w, vaddrRows(g.h)), g.w)...)
	mapLines := m.mapPane(st)
	hexLines := m.hexPane(st)
	if g.side {
		for i := 0; len(rows) < g.h; i++ {
			l, r := "", ""
			if i < len(hexLines) {
				l = hexLines[i]
			}
			if i < len(mapLines) {
				r = mapLines[i]
			}
			rows = append(rows, render.Fit(l, g.hexW)+st.dim.Paint("│")+render.Fit(r, g.mapW))
		}
		return strings.Join(rows, "\n") // every row is exactly g.w wide
	}
	rows = append(rows, mapLines...)
	rows = append(rows, hexLines...)
	return render.Block(rows, g.w, g.h)
}

// infoLines describe the current page and the byte under the cursor.
func (m *memoryView) infoLines(st *styles) []string {
	w := m.g.w
	pfn := m.curPFN()
	base := uint64(pfn) * m.ps
	l1 := render.Line{st.label.Span("pfn "), st.title.Span(pfn.String()), st.label.Span("  phys "),
		st.value.Span(fmt.Sprintf("%#x-%#x", base, base+m.ps-1))}
	e, ok := m.pages.peek(pfn)
	var l2 render.Line
	switch {
	case !ok:
		l1 = append(l1, st.dim.Span("  reading…"))
	default:
		in := e.info
		l1 = append(l1, render.Text("  "), st.states[in.State].Span(present.StateGlyph(in.State)+" "+string(in.State)))
		if in.Codec != "" {
			l1 = append(l1, st.label.Span("  codec "), st.value.Span(string(in.Codec)))
		}
		if in.StoredSize > 0 || in.FileOffset >= 0 {
			l1 = append(l1, st.label.Span("  stored "), st.value.Span(fmt.Sprintf("%d B", in.StoredSize)))
		}
		if in.FileOffset >= 0 {
			l1 = append(l1, st.label.Span(" at file offset "), st.value.Span(in.FileOffset.String()))
		}
		var extra []string
		if in.File != "" && len(m.c.Info.Files) > 1 {
			extra = append(extra, "file "+in.File)
		}
		if in.Partial {
			extra = append(extra, "partial: the rest reads as zeros")
		}
		if in.ZeroPage {
			extra = append(extra, "the shared zero page")
		}
		if in.MFN != nil {
			extra = append(extra, fmt.Sprintf("mfn %#x", *in.MFN))
		}
		if why := pageWhy(e); why != "" {
			extra = append(extra, why)
		}
		if e.data != nil {
			c := e.data[m.cur-base]
			ch := "."
			if c >= 0x20 && c < 0x7f {
				ch = string(rune(c))
			}
			l2 = append(l2, st.label.Span("cursor "), st.value.Span(fmt.Sprintf("%#x = u8 %#02x %d '%s'", m.cur, c, c, ch)))
		}
		if len(extra) > 0 {
			if len(l2) > 0 {
				l2 = append(l2, st.dim.Span("  ·  "))
			}
			l2 = append(l2, st.dim.Span(strings.Join(extra, " · ")))
		}
	}
	return append([]string{l1.Render(w, nil), l2.Render(w, nil)}, render.Lines(m.inspectorLines(st, w), w)...)
}

// paneTitle draws a pane's title; the focused pane is marked with ▶ and
// reversed, so focus shows without colour.
func paneTitle(st *styles, title string, focused bool, w int) string {
	if focused {
		return render.Line{st.selected.Span("▶ " + title)}.Render(w, nil)
	}
	return render.Line{st.title.Span("  " + title)}.Render(w, nil)
}

// mapPane draws the minimap's title, grid and legend.
func (m *memoryView) mapPane(st *styles) []string {
	g := m.g
	title := fmt.Sprintf("PFN map 0x0-%#x, %s", max(m.c.Info.MaxPFN, 1)-1, m.mm.framesPerCell())
	switch {
	case m.mapErr != "":
		title = "PFN map: " + m.mapErr
	case m.mm.sum == nil && m.mapJob.running():
		title = fmt.Sprintf("PFN map: reading runs %s %.0f%% (esc cancels)", progressBar(m.mapJob.percent(), 12), m.mapJob.percent())
	case m.mm.sum == nil:
		title = "PFN map: cancelled; leave Memory and come back to read it again"
	}
	out := []string{paneTitle(st, title, m.focusMap, g.mapW)}
	grid := m.mm.view(st, uint64(m.curPFN()), m.focusMap)
	for i := 0; i < g.mapH; i++ {
		if i < len(grid) {
			out = append(out, grid[i])
		} else {
			out = append(out, "")
		}
	}
	for i, l := range flow(legend(st), g.mapW) {
		if i >= g.legendRows {
			break
		}
		out = append(out, l.Render(g.mapW, nil))
	}
	return out
}

// hexPane draws the hex pane's title and rows.
func (m *memoryView) hexPane(st *styles) []string {
	g := m.g
	title := fmt.Sprintf("Physical memory, %d bytes per row", g.bpr)
	if m.find.haveHit {
		title += ", match " + m.hitLabel()
	}

	out := []string{paneTitle(st, title, !m.focusMap, g.hexW)}
	var b strings.Builder
	mark := func(a uint64) byteMark {
		switch {
		case a == m.cur:
			return markCursor
		case m.inMatch(a):
			return markMatch
		case m.inSelection(a):
			return markHighlight
		}
		return markNone
	}
	for r := 0; r < g.hexRows; r++ {
		a := m.top + uint64(r*g.bpr)
		if a >= m.maxAddr || a < m.top {
			break
		}
		b.Reset()
		pfn := model.PFN(a / m.ps)
		e, ok := m.pages.peek(pfn)
		switch {
		case !ok:
			hexMessageRow(&b, st, g.digits, a, "…", st.dim, g.hexW)
		case e.data == nil:
			s := e.info.State
			if a%m.ps == 0 || r == 0 {
				msg := present.StateGlyph(s) + " " + string(s)
				if why := pageWhy(e); why != "" {
					msg += ": " + why
				}
				hexMessageRow(&b, st, g.digits, a, msg, st.states[s], g.hexW)
			} else {
				hexMessageRow(&b, st, g.digits, a, strings.Repeat(present.StateGlyph(s)+"  ", g.bpr), st.states[s], g.hexW)
			}
		default:
			off := a % m.ps
			hexRow(&b, st, g.digits, g.bpr, a, e.data[off:min(off+uint64(g.bpr), uint64(len(e.data)))], mark)
		}
		out = append(out, b.String())
	}
	return out
}

// pageWhy explains a page's state: the reader's reason, or for pages
// that should be readable but are not, the error.
func pageWhy(e *pageEntry) string {
	if e.info.Reason != "" && (e.err == nil || !e.info.State.Readable() && e.info.State != model.StateUnreadable) {
		return e.info.Reason
	}
	if e.err != nil {
		return errText(e.err)
	}
	return ""
}

// Status shows the position and the jobs in progress.
func (m *memoryView) Status() string {
	s := fmt.Sprintf("pfn %s of %#x", m.curPFN(), m.c.Info.MaxPFN)
	if m.marked {
		from, to, _ := m.selection()
		s = fmt.Sprintf("selected %#x-%#x (%s; y copies, w writes)  ", from, to, present.Count(int(to-from+1), "byte")) + s
	}
	switch {
	case m.find.job.running():
		s = fmt.Sprintf("finding %s %.0f%% (esc cancels)  ", m.find.label, m.find.job.percent()) + s
	case m.seek.running():
		s = "looking for the run boundary… (esc cancels)  " + s
	case m.write.running():
		s = fmt.Sprintf("writing %.0f%% (esc cancels)  ", m.write.percent()) + s
	}
	return s
}
