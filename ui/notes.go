package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// notesView lists the dump's notes (Dump.Notes) and shows the selected
// note's record in the file: 12-byte header, padded name and descriptor.
type notesView struct {
	c      *Common
	keys   ListKeys
	notes  []model.Note
	err    string
	loaded bool
	list   listModel
	hex    *fileHex
	w, h   int
	listH  int
	cursor int
}

type notesMsg struct {
	notes []model.Note
	err   error
}

func newNotesView(c *Common) *notesView {
	return &notesView{c: c, keys: ListKeys{newNavKeys()}, list: newList(), hex: newFileHex(c), cursor: -1}
}

func (n *notesView) Name() string      { return "notes" }
func (n *notesView) Title() string     { return "Notes" }
func (n *notesView) Keys() help.KeyMap { return n.keys }

func (n *notesView) Init() tea.Cmd {
	d := n.c.S.Dump()
	return func() tea.Msg {
		notes, err := d.Notes()
		return notesMsg{notes, err}
	}
}

func (n *notesView) SetSize(w, h int) {
	n.w, n.h = w, h
	// The list takes what it needs up to 45% (one header row).
	want := len(n.notes) + 1
	n.listH = clamp(want, 2, max(h*45/100, 2))
	n.list.setSize(w, n.listH-1)
	n.hex.setSize(w, max(h-n.listH, 1))
}

func (n *notesView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case notesMsg:
		n.loaded = true
		if msg.err != nil {
			n.err = errText(msg.err)
		}
		n.notes = msg.notes
		n.rebuild()
		n.SetSize(n.w, n.h)
		return n.follow()
	case themeMsg:
		n.rebuild()
	case fileChunkMsg:
		n.hex.update(msg)
	case tea.KeyPressMsg:
		if n.list.handleKey(msg) {
			return n.follow()
		}
	case tea.MouseMsg:
		if n.list.mouse(msg, msg.Mouse().Y-1) {
			return n.follow()
		}
	}
	return nil
}

// follow shows the selected note's record in the hex pane.
func (n *notesView) follow() tea.Cmd {
	if len(n.notes) == 0 {
		return nil
	}
	if n.cursor != n.list.cursor {
		n.cursor = n.list.cursor
		nt := n.notes[n.cursor]
		n.hex.show(nt.File, int64(nt.Offset), nt.RecordSize(), fmt.Sprintf("note %d record: 12-byte header, name %q, %d-byte descriptor at %#x",
			nt.Index, nt.Name, nt.DescSize, nt.DescOffset))
	}
	return n.hex.ensure()
}

func (n *notesView) rebuild() {
	st := n.c.St
	lines := make([]render.Line, 0, len(n.notes))
	pens := []render.Pen{st.value, st.addr, st.title, st.value, st.value, st.dim}
	for _, nt := range n.notes {
		lines = append(lines, noteColumns(present.NoteRow(nt), pens))
	}
	n.list.setLines(lines)
}

// noteWidths are the widths of present.NoteColumns (the summary takes the
// rest); negative widths align right.
var noteWidths = []int{-3, -10, 11, 24, -7, 0}

// noteColumns lays out a row of present.NoteRow, or the headings, in
// columns.
func noteColumns(cells []string, pens []render.Pen) render.Line {
	var l render.Line
	for i, c := range cells {
		switch w := noteWidths[i]; {
		case w < 0:
			c = fmt.Sprintf("%*s ", -w, c)
		case w > 0:
			c = render.Pad(c, w)
		}
		if i == len(cells)-2 {
			c += " "
		}
		l = append(l, pens[i].Span(c))
	}
	return l
}

func (n *notesView) header() render.Line {
	st := n.c.St
	return noteColumns(present.NoteColumns, []render.Pen{st.label, st.label, st.label, st.label, st.label, st.label})
}

func (n *notesView) View() string {
	st := n.c.St
	switch {
	case !n.loaded:
		return render.Block([]string{render.Line{st.dim.Span("reading the notes…")}.Render(n.w, nil)}, n.w, n.h)
	case n.err != "" && len(n.notes) == 0:
		return render.Block([]string{render.Line{st.err.Span("error: " + n.err)}.Render(n.w, nil)}, n.w, n.h)
	case len(n.notes) == 0:
		return render.Block([]string{render.Line{st.dim.Span("this dump has no notes")}.Render(n.w, nil)}, n.w, n.h)
	}
	top := n.header().Render(n.w, nil) + "\n" + n.list.view(st, true)
	return strings.Join([]string{top, n.hex.view(st)}, "\n")
}

// Search finds a note by any of its columns.
func (n *notesView) Search(q string, d searchDir) tea.Cmd {
	ok := n.list.search(q, d)
	return tea.Batch(searchStatus(q, ok), n.follow())
}

// Status shows the position in the list.
func (n *notesView) Status() string {
	if len(n.notes) == 0 {
		return ""
	}
	return fmt.Sprintf("note %d/%d", n.list.cursor+1, len(n.notes))
}
