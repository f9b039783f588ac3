package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/reader"
	"dumpscope/ui/render"
)

// layoutView is the teaching view: the annotated header tree of the file
// (Dump.Layout) beside a hex view of the file itself, the selected field's
// bytes highlighted. For dumps that implement reader.PageExplainer it
// drills down from a pfn to every structure that locates the page (bitmap
// bits, descriptor, stored bytes) and shows the decoded page; for others it
// selects the field that stores the page.
type layoutView struct {
	c    *Common
	keys LayoutKeys

	base, explain *fieldTree
	explainPFN    model.PFN
	loadErr       string
	hex           *fileHex

	// The decoded page of the explained pfn, shown instead of file bytes
	// with `d`.
	decoded  bool
	page     *pageEntry
	pageWant bool
	decTop   int

	w, h                 int
	side                 bool
	treeW, treeH         int
	hexW, hexH, detailsN int
}

// layoutMsg brings Dump.Layout's tree.
type layoutMsg struct {
	root *model.Field
	err  error
}

// explainedMsg brings a page's explanation: ExplainPage's tree, or for
// dumps without one the page's PageInfo to locate its stored bytes.
type explainedMsg struct {
	pfn  model.PFN
	root *model.Field
	info model.PageInfo
	err  error
}

func newLayoutView(c *Common) *layoutView {
	return &layoutView{c: c, keys: newLayoutKeys(), hex: newFileHex(c)}
}

func (l *layoutView) Name() string      { return "layout" }
func (l *layoutView) Title() string     { return "Layout" }
func (l *layoutView) Keys() help.KeyMap { return l.keys }

// Init reads the layout tree.
func (l *layoutView) Init() tea.Cmd {
	d := l.c.S.Dump()
	return func() tea.Msg {
		root, err := d.Layout()
		return layoutMsg{root, err}
	}
}

// tree is the tree on show: the explanation while there is one.
func (l *layoutView) tree() *fieldTree {
	if l.explain != nil {
		return l.explain
	}
	return l.base
}

func (l *layoutView) SetSize(w, h int) {
	l.w, l.h = w, h
	l.side = w >= 110
	if l.side {
		// 16 bytes a row from 120 columns: the tree keeps 41 columns or
		// more, which its offsets, names and values fit in.
		bpr := 8
		if w >= 120 {
			bpr = 16
		}
		l.hexW = hexWidth(8, bpr)
		l.treeW, l.treeH = w-l.hexW-1, h
		l.hexH = h
	} else {
		l.treeW, l.hexW = w, w
		l.treeH = max(h*55/100, 1)
		l.hexH = h - l.treeH
	}
	// The selected field's details: its location, value and meaning,
	// wrapped, in a quarter of the pane.
	l.detailsN = 0
	if l.treeH >= 10 {
		l.detailsN = clamp(l.treeH/4, 3, 8)
	}
	for _, t := range []*fieldTree{l.base, l.explain} {
		if t != nil {
			t.setSize(l.treeW, l.treeRows())
		}
	}
	l.hex.setSize(l.hexW, l.hexH)
}

// treeRows is the tree's share of its pane: a title line and the details
// take the rest.
func (l *layoutView) treeRows() int { return max(l.treeH-1-l.detailsN, 1) }

func (l *layoutView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case layoutMsg:
		if msg.err != nil {
			l.loadErr = errText(msg.err)
			return nil
		}
		l.base = newFieldTree(msg.root, "Header layout")
		l.base.setSize(l.treeW, l.treeRows())
		return l.follow()
	case fileChunkMsg:
		l.hex.update(msg)
	case pageMsg:
		if l.pageWant && msg.pfn == l.explainPFN {
			l.pageWant = false
			l.page = &pageEntry{info: msg.info, data: msg.data, err: msg.err}
		}
	case explainMsg:
		return l.startExplain(msg.pfn)
	case explainedMsg:
		return l.explained(msg)
	case locateMsg:
		if l.base == nil {
			return status("the layout is still loading")
		}
		l.leaveExplain()
		if !l.base.locate(msg.file, msg.off) {
			return status(fmt.Sprintf("no field holds file offset %#x", msg.off))
		}
		return l.follow()
	}
	return nil
}

func (l *layoutView) key(msg tea.KeyPressMsg) tea.Cmd {
	k := l.keys
	if key.Matches(msg, k.Explain) {
		return func() tea.Msg { return promptMsg{text: "explain "} }
	}
	t := l.tree()
	if t == nil {
		return nil
	}
	switch {
	case key.Matches(msg, k.Up):
		t.moveTo(t.cursor - 1)
	case key.Matches(msg, k.Down):
		t.moveTo(t.cursor + 1)
	case key.Matches(msg, k.PageUp):
		t.moveTo(t.cursor - t.h)
	case key.Matches(msg, k.PageDown):
		t.moveTo(t.cursor + t.h)
	case key.Matches(msg, k.Top):
		t.moveTo(0)
	case key.Matches(msg, k.Bottom):
		t.moveTo(len(t.rows) - 1)
	case key.Matches(msg, k.Toggle):
		t.toggle()
	case key.Matches(msg, k.Open):
		t.expand()
	case key.Matches(msg, k.Close):
		t.collapse()
	case key.Matches(msg, k.HexDown):
		return l.scrollHex(max(l.hexH/2, 1))
	case key.Matches(msg, k.HexUp):
		return l.scrollHex(-max(l.hexH/2, 1))
	case key.Matches(msg, k.Decoded):
		return l.toggleDecoded()
	default:
		return nil
	}
	return l.follow()
}

// follow points the hex pane at the selected field and loads its bytes.
func (l *layoutView) follow() tea.Cmd {
	t := l.tree()
	if t == nil || len(t.rows) == 0 {
		return nil
	}
	r := t.selected()
	if r.node.Offset >= 0 {
		l.hex.show(r.file, int64(r.node.Offset), r.node.Size, r.node.Name)
	}
	return l.hex.ensure()
}

func (l *layoutView) scrollHex(rows int) tea.Cmd {
	if l.decoded {
		rowsPerPage := int(l.c.pageSize()) / chooseBPR(l.hexW, 8)
		l.decTop = clamp(l.decTop+rows, 0, max(rowsPerPage-(l.hexH-1), 0))
		return nil
	}
	l.hex.scroll(rows)
	return l.hex.ensure()
}

func (l *layoutView) mouse(msg tea.MouseMsg) tea.Cmd {
	t := l.tree()
	if t == nil {
		return nil
	}
	m := msg.Mouse()
	inHex := (l.side && m.X > l.treeW) || (!l.side && m.Y >= l.treeH)
	if _, wheel := msg.(tea.MouseWheelMsg); wheel {
		d := 3
		if m.Button == tea.MouseWheelUp {
			d = -3
		}
		if inHex {
			return l.scrollHex(d)
		}
		t.moveTo(t.cursor + d)
		return l.follow()
	}
	if _, click := msg.(tea.MouseClickMsg); click && !inHex {
		if y := m.Y - 1; y >= 0 && y < t.h && t.top+y < len(t.rows) {
			if t.top+y == t.cursor {
				t.toggle()
			}
			t.moveTo(t.top + y)
			return l.follow()
		}
	}
	return nil
}

// startExplain asks the dump about one frame.
func (l *layoutView) startExplain(pfn model.PFN) tea.Cmd {
	d := l.c.S.Dump()
	return func() tea.Msg {
		if pe, ok := d.(reader.PageExplainer); ok {
			root, err := pe.ExplainPage(pfn)
			return explainedMsg{pfn: pfn, root: root, err: err}
		}
		return explainedMsg{pfn: pfn, info: d.PageInfo(pfn)}
	}
}

func (l *layoutView) explained(msg explainedMsg) tea.Cmd {
	switch {
	case msg.err != nil:
		return errorCmd(fmt.Errorf("explain pfn %s: %w", msg.pfn, msg.err))
	case msg.root != nil:
		l.explain = newFieldTree(msg.root, "pfn "+msg.pfn.String()+" explained")
		for _, c := range msg.root.Children {
			l.explain.open[c] = true
		}
		l.explain.flatten()
		l.explain.setSize(l.treeW, l.treeRows())
		l.explain.moveTo(1) // the first structure, which has a file location
		l.explainPFN, l.page, l.decoded, l.decTop = msg.pfn, nil, false, 0
		return tea.Batch(l.follow(), status("bitmap bits, descriptor and stored bytes of pfn "+msg.pfn.String()+"; d shows the decoded page, backspace returns"))
	}
	// No explainer: select the field holding the page's bytes.
	in := msg.info
	if in.FileOffset < 0 || l.base == nil {
		return status(fmt.Sprintf("pfn %s is %s: %s (nothing stored to show)", msg.pfn, in.State, present.OrDash(in.Reason)))
	}
	l.leaveExplain()
	if !l.base.locate(in.File, int64(in.FileOffset)) {
		return status(fmt.Sprintf("pfn %s is stored at file offset %s, which no field describes", msg.pfn, in.FileOffset))
	}
	cmd := l.follow()
	l.hex.show(in.File, int64(in.FileOffset), in.StoredSize, "pfn "+msg.pfn.String()+" stored")
	return tea.Batch(cmd, l.hex.ensure(), status(fmt.Sprintf("pfn %s: %s, %d bytes at file offset %s (this format locates pages through its program headers)",
		msg.pfn, in.State, in.StoredSize, in.FileOffset)))
}

func (l *layoutView) leaveExplain() {
	l.explain, l.decoded, l.page, l.pageWant = nil, false, nil, false
}

// Cancel leaves an explanation for the header tree.
func (l *layoutView) Cancel() bool {
	if l.explain == nil {
		return false
	}
	l.leaveExplain()
	return true
}

// layoutPlace is a position in the Layout view: the tree on show (an
// explanation, or the header tree) and its selected field.
type layoutPlace struct {
	explain *fieldTree
	pfn     model.PFN
	field   *model.Field
}

// Location implements Locator.
func (l *layoutView) Location() any {
	t := l.tree()
	if t == nil || len(t.rows) == 0 {
		return nil
	}
	return layoutPlace{explain: l.explain, pfn: l.explainPFN, field: t.selected().node}
}

// Restore implements Locator.
func (l *layoutView) Restore(loc any) tea.Cmd {
	p, ok := loc.(layoutPlace)
	if !ok {
		return nil
	}
	l.leaveExplain()
	l.explain, l.explainPFN = p.explain, p.pfn
	if t := l.tree(); t != nil && p.field != nil {
		t.reveal(p.field)
	}
	return l.follow()
}

// toggleDecoded switches the hex pane between the file and the decoded
// page of the explained pfn.
func (l *layoutView) toggleDecoded() tea.Cmd {
	if l.explain == nil {
		return status("explain a pfn first (x, or :explain PFN)")
	}
	l.decoded = !l.decoded
	if l.decoded && l.page == nil && !l.pageWant {
		l.pageWant = true
		return loadPage(l.c, l.explainPFN)
	}
	return nil
}

// Commands adds :explain and :offset.
func (l *layoutView) Commands() []Command {
	return []Command{
		{Name: "explain", Args: "PFN", Jump: true, Help: "show how the dump locates a frame (bitmaps, descriptor, stored bytes)", Run: func(a string) (tea.Cmd, error) {
			n, err := present.ParseNumber(a)
			if err != nil {
				return nil, err
			}
			if n >= uint64(l.c.Info.MaxPFN) && l.c.Info.MaxPFN > 0 {
				return nil, fmt.Errorf("pfn %#x is beyond the dump's last frame %#x", n, l.c.Info.MaxPFN-1)
			}
			return l.startExplain(model.PFN(n)), nil
		}},
		{Name: "offset", Args: "OFF", Jump: true, Help: "select the layout field at a file offset", Run: func(a string) (tea.Cmd, error) {
			n, err := present.ParseNumber(a)
			if err != nil {
				return nil, err
			}
			return func() tea.Msg { return locateMsg{off: int64(n)} }, nil
		}},
	}
}

// Search finds a field by name, value or meaning, in collapsed parts too.
func (l *layoutView) Search(q string, dir searchDir) tea.Cmd {
	t := l.tree()
	if t == nil {
		return nil
	}
	ok := t.search(q, dir)
	return tea.Batch(searchStatus(q, ok), l.follow())
}

// Status shows the position in the tree.
func (l *layoutView) Status() string {
	t := l.tree()
	if t == nil {
		return ""
	}
	return fmt.Sprintf("field %d/%d", t.cursor+1, len(t.rows))
}

func (l *layoutView) View() string {
	st := l.c.St
	t := l.tree()
	if t == nil {
		msg := "reading the layout…"
		if l.loadErr != "" {
			msg = "error: " + l.loadErr
		}
		return render.Block([]string{render.Line{st.dim.Span(msg)}.Render(l.w, nil)}, l.w, l.h)
	}
	title := fmt.Sprintf("%s (%d rows shown)", t.title, len(t.rows))
	if l.explain != nil {
		title += "  (esc: the header tree, backspace: back)"
	}
	left := []string{render.Line{st.title.Span(title)}.Render(l.treeW, nil)}
	left = append(left, render.Block(t.view(st, true), l.treeW, t.h))
	if l.detailsN > 0 {
		left = append(left, render.Block(t.details(st, l.treeW, l.detailsN), l.treeW, l.detailsN))
	}
	treePane := render.Block(strings.Split(strings.Join(left, "\n"), "\n"), l.treeW, l.treeH)
	hexPane := l.hexPane(st)
	if l.side {
		return render.SideBySide(treePane, hexPane, st.dim.Paint("│"))
	}
	return treePane + "\n" + hexPane
}

// hexPane draws the file bytes, or the decoded page.
func (l *layoutView) hexPane(st *styles) string {
	if !l.decoded {
		return l.hex.view(st)
	}
	lines := []string{render.Line{st.title.Span("decoded page of pfn " + l.explainPFN.String())}.Render(l.hexW, nil)}
	switch {
	case l.page == nil:
		lines = append(lines, render.Line{st.dim.Span("reading…")}.Render(l.hexW, nil))
	case l.page.err != nil:
		lines = append(lines, render.Line{st.err.Span("error: " + errText(l.page.err))}.Render(l.hexW, nil))
	default:
		ps := l.c.pageSize()
		base := uint64(l.explainPFN) * ps
		digits := hexDigits(base+ps, 8)
		bpr := chooseBPR(l.hexW, digits)
		rows := int(ps) / bpr
		top := clamp(l.decTop, 0, max(rows-(l.hexH-1), 0))
		var b strings.Builder
		for r := top; r < rows && len(lines) < l.hexH; r++ {
			b.Reset()
			hexRow(&b, st, digits, bpr, base+uint64(r*bpr), l.page.data[r*bpr:(r+1)*bpr], nil)
			lines = append(lines, b.String())
		}
	}
	return render.Block(lines, l.hexW, l.hexH)
}
