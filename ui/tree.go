package ui

import (
	"fmt"
	"strings"

	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// fieldTree is a collapsible view of a model.Field tree (the layout, or a
// page's explanation). Only the open part of the tree is flattened into
// rows, and only the visible rows are drawn, so a table of 65,535 program
// headers costs nothing until it is opened.
type fieldTree struct {
	root        *model.Field
	title       string
	open        map[*model.Field]bool
	rows        []treeRow
	cursor, top int
	w, h        int
	offDigits   int
	// parent and order are built on the first search or locate.
	parent map[*model.Field]*model.Field
	order  []*model.Field
}

// treeRow is a visible node, its depth and the file it lies in.
type treeRow struct {
	node  *model.Field
	depth int
	file  string
}

// newFieldTree shows root with its first two levels open.
func newFieldTree(root *model.Field, title string) *fieldTree {
	t := &fieldTree{root: root, title: title, open: map[*model.Field]bool{}}
	t.open[root] = true
	if len(root.Children) <= 64 {
		for _, c := range root.Children {
			if len(c.Children) <= 64 {
				t.open[c] = true
			}
		}
	}
	t.offDigits = hexDigits(uint64(max(root.End(), 0)), 4)
	t.flatten()
	return t
}

// flatten rebuilds the visible rows, keeping the cursor on its node.
func (t *fieldTree) flatten() {
	var cur *model.Field
	if t.cursor < len(t.rows) {
		cur = t.rows[t.cursor].node
	}
	t.rows = t.rows[:0]
	var walk func(n *model.Field, depth int, file string)
	walk = func(n *model.Field, depth int, file string) {
		if n.File != "" {
			file = n.File
		}
		t.rows = append(t.rows, treeRow{n, depth, file})
		if t.open[n] {
			for _, c := range n.Children {
				walk(c, depth+1, file)
			}
		}
	}
	walk(t.root, 0, "")
	t.cursor = 0
	for i, r := range t.rows {
		if r.node == cur {
			t.cursor = i
			break
		}
	}
	t.scroll()
}

func (t *fieldTree) setSize(w, h int) { t.w, t.h = w, h; t.scroll() }

func (t *fieldTree) scroll() {
	if t.h <= 0 {
		return
	}
	t.top = scrolledTop(t.cursor, t.top, t.h, len(t.rows))
}

func (t *fieldTree) moveTo(i int) {
	t.cursor = clamp(i, 0, len(t.rows)-1)
	t.scroll()
}

// selected returns the row under the cursor.
func (t *fieldTree) selected() treeRow { return t.rows[t.cursor] }

// toggle opens or closes the selected node.
func (t *fieldTree) toggle() {
	n := t.selected().node
	if len(n.Children) == 0 {
		return
	}
	t.open[n] = !t.open[n]
	t.flatten()
}

// expand opens the selected node, or steps into it when open.
func (t *fieldTree) expand() {
	n := t.selected().node
	switch {
	case len(n.Children) == 0:
	case !t.open[n]:
		t.open[n] = true
		t.flatten()
	default:
		t.moveTo(t.cursor + 1)
	}
}

// collapse closes the selected node, or goes to its parent when closed.
func (t *fieldTree) collapse() {
	r := t.selected()
	if t.open[r.node] && len(r.node.Children) > 0 {
		t.open[r.node] = false
		t.flatten()
		return
	}
	for i := t.cursor - 1; i >= 0; i-- {
		if t.rows[i].depth < r.depth {
			t.moveTo(i)
			return
		}
	}
}

// index builds the parent links and the depth-first order of every node.
func (t *fieldTree) index() {
	if t.parent != nil {
		return
	}
	t.parent = map[*model.Field]*model.Field{}
	t.root.Walk(func(n *model.Field, _ int) bool {
		t.order = append(t.order, n)
		for _, c := range n.Children {
			t.parent[c] = n
		}
		return true
	})
}

// reveal opens every ancestor of n and selects it.
func (t *fieldTree) reveal(n *model.Field) {
	t.index()
	for p := t.parent[n]; p != nil; p = t.parent[p] {
		t.open[p] = true
	}
	t.flatten()
	for i, r := range t.rows {
		if r.node == n {
			t.moveTo(i)
			// Put the match in the upper part of the pane.
			t.top = clamp(i-t.h/3, 0, max(len(t.rows)-t.h, 0))
			return
		}
	}
}

// search finds the next node, in depth-first order from the selected one,
// whose name, value or meaning contains query, and reveals it.
func (t *fieldTree) search(query string, dir searchDir) bool {
	t.index()
	cur := t.selected().node
	from := 0
	for i, n := range t.order {
		if n == cur {
			from = i
			break
		}
	}
	i, ok := findLine(len(t.order), from, query, dir, func(i int) string {
		n := t.order[i]
		return n.Name + " = " + n.Value + " " + n.Meaning
	})
	if ok {
		t.reveal(t.order[i])
	}
	return ok
}

// locate selects the deepest node of file whose bytes hold off.
func (t *fieldTree) locate(file string, off int64) bool {
	var best *model.Field
	var walk func(n *model.Field, f string)
	walk = func(n *model.Field, f string) {
		if n.File != "" {
			f = n.File
		}
		if f != "" && file != "" && f != file {
			return
		}
		if n.Holds(model.FileOff(off)) {
			best = n
		}
		for _, c := range n.Children {
			if c.Offset < 0 || c.Holds(model.FileOff(off)) {
				walk(c, f)
			}
		}
	}
	walk(t.root, "")
	if best == nil {
		return false
	}
	t.reveal(best)
	return true
}

// view draws the visible rows: offset, indentation, open/closed marker,
// name and value.
func (t *fieldTree) view(st *styles, focused bool) []string {
	out := make([]string, 0, t.h)
	for i := t.top; i < len(t.rows) && i < t.top+t.h; i++ {
		r := t.rows[i]
		n := r.node
		mark := "  "
		switch {
		case len(n.Children) > 0 && t.open[n]:
			mark = "▾ "
		case len(n.Children) > 0:
			mark = "▸ "
		}
		off := strings.Repeat(" ", t.offDigits+2)
		if n.Offset >= 0 {
			off = fmt.Sprintf("%*s", t.offDigits+2, fmt.Sprintf("%#x", n.Offset))
		}
		l := render.Line{st.addr.Span(off + " "), st.dim.Span(strings.Repeat("  ", r.depth) + mark), st.value.Span(n.Name)}
		if n.Value != "" {
			l = append(l, st.dim.Span(" = "), st.title.Span(n.Value))
		}
		var sel *render.Pen
		if i == t.cursor && focused {
			sel = &st.selected
		}
		out = append(out, l.Render(t.w, sel))
	}
	return out
}

// details describes the selected node in up to n lines of width w.
func (t *fieldTree) details(st *styles, w, n int) []string {
	r := t.selected()
	f := r.node
	where := "no file location"
	if f.Offset >= 0 {
		where = fmt.Sprintf("file offset %#x (%d), %s", f.Offset, f.Offset, present.Count(int(f.Size), "byte"))
	}
	if f.StreamOffset != nil {
		where += fmt.Sprintf(", stream offset %#x", *f.StreamOffset)
	}
	if r.file != "" && len(t.fileSet()) > 1 {
		where += " in " + r.file
	}
	lines := []render.Line{{st.title.Span(f.Name), st.dim.Span("  " + where)}}
	// The value and the meaning wrap under their labels; what does not
	// fit in n lines ends with ….
	labelled := func(label, text string) {
		for i, s := range render.Wrap(text, max(w-8, 8)) {
			if i > 0 {
				label = ""
			}
			lines = append(lines, render.Line{st.label.Span(render.Pad(label, 8)), st.value.Span(s)})
		}
	}
	if f.Value != "" {
		labelled("value", f.Value)
	}
	if f.Meaning != "" {
		labelled("meaning", f.Meaning)
	}
	if len(lines) > n && n > 0 {
		last := lines[n-1]
		lines = append(lines[:n-1], append(last[:len(last):len(last)], st.dim.Span(" …")))
	}
	return render.Lines(lines[:min(len(lines), n)], w)
}

// fileSet lists the distinct files named in the tree's top levels.
func (t *fieldTree) fileSet() map[string]bool {
	s := map[string]bool{}
	if t.root.File != "" {
		s[t.root.File] = true
	}
	for _, c := range t.root.Children {
		if c.File != "" {
			s[c.File] = true
		}
	}
	return s
}
