package ui

import (
	"dumpscope/ui/render"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// listModel is a scrolling list of styled lines with a cursor row: the
// body of the views whose content is bounded (Overview, Notes, VMCOREINFO,
// CPUs, Verify, help). It draws only the visible rows.
type listModel struct {
	keys        NavKeys
	lines       []render.Line
	cursor, top int
	w, h        int
}

func newList() listModel { return listModel{keys: newNavKeys()} }

// setLines replaces the content, keeping the cursor where it was if it
// still exists.
func (l *listModel) setLines(lines []render.Line) {
	l.lines = lines
	l.cursor = clamp(l.cursor, 0, len(lines)-1)
	l.scrollToCursor()
}

func (l *listModel) setSize(w, h int) {
	l.w, l.h = w, h
	l.scrollToCursor()
}

// moveTo puts the cursor on row i and scrolls it into view.
func (l *listModel) moveTo(i int) {
	l.cursor = clamp(i, 0, len(l.lines)-1)
	l.scrollToCursor()
}

func (l *listModel) scrollToCursor() {
	if l.h <= 0 {
		return
	}
	l.top = scrolledTop(l.cursor, l.top, l.h, len(l.lines))
}

// handleKey moves the cursor for a navigation key; it reports whether the
// key was one.
func (l *listModel) handleKey(msg tea.KeyPressMsg) bool {
	k := l.keys
	switch {
	case key.Matches(msg, k.Up):
		l.moveTo(l.cursor - 1)
	case key.Matches(msg, k.Down):
		l.moveTo(l.cursor + 1)
	case key.Matches(msg, k.PageUp):
		l.top = max(l.top-l.h, 0)
		l.moveTo(l.cursor - l.h)
	case key.Matches(msg, k.PageDown):
		l.top = clamp(l.top+l.h, 0, max(len(l.lines)-l.h, 0))
		l.moveTo(l.cursor + l.h)
	case key.Matches(msg, k.Top):
		l.moveTo(0)
	case key.Matches(msg, k.Bottom):
		l.moveTo(len(l.lines) - 1)
	default:
		return false
	}
	return true
}

// mouse scrolls with the wheel and selects with a click; y is relative to
// the list's first row.
func (l *listModel) mouse(msg tea.MouseMsg, y int) bool {
	m := msg.Mouse()
	switch msg.(type) {
	case tea.MouseWheelMsg:
		switch m.Button {
		case tea.MouseWheelUp:
			l.moveTo(l.cursor - 3)
		case tea.MouseWheelDown:
			l.moveTo(l.cursor + 3)
		default:
			return false
		}
		return true
	case tea.MouseClickMsg:
		if m.Button == tea.MouseLeft && y >= 0 && y < l.h && l.top+y < len(l.lines) {
			l.moveTo(l.top + y)
			return true
		}
	}
	return false
}

// view draws the visible rows, the cursor row reversed.
func (l *listModel) view(st *styles, showCursor bool) string {
	rows := make([]string, 0, l.h)
	for i := l.top; i < len(l.lines) && i < l.top+l.h; i++ {
		var sel *render.Pen
		if showCursor && i == l.cursor {
			sel = &st.selected
		}
		rows = append(rows, l.lines[i].Render(l.w, sel))
	}
	return render.Block(rows, l.w, l.h)
}

// search moves the cursor to the next line containing query (case
// insensitive), wrapping around; it reports whether one was found.
func (l *listModel) search(query string, dir searchDir) bool {
	i, ok := findLine(len(l.lines), l.cursor, query, dir, func(i int) string { return l.lines[i].Plain() })
	if ok {
		l.moveTo(i)
	}
	return ok
}

// findLine finds the next of n items whose text contains query, starting
// at from (inclusive for a new search), wrapping around.
func findLine(n, from int, query string, dir searchDir, text func(int) string) (int, bool) {
	if n == 0 || query == "" {
		return 0, false
	}
	q := strings.ToLower(query)
	step, start := 1, from
	switch dir {
	case searchNext:
		start = from + 1
	case searchPrev:
		step, start = -1, from-1
	}
	for k := 0; k < n; k++ {
		i := ((start+step*k)%n + n) % n
		if strings.Contains(strings.ToLower(text(i)), q) {
			return i, true
		}
	}
	return 0, false
}

// searchStatus is the status line after a search.
func searchStatus(query string, found bool) tea.Cmd {
	if found {
		return nil
	}
	return status("no match for " + query)
}
