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

// componentsView is for dumps made of named memory areas (AIX component
// dumps, reader.AreaReader): the components and their entries on one side,
// the selected entry's data by address on the other, with pages that were
// not dumped marked "--". Data is read in chunks by commands, into an LRU.
type componentsView struct {
	c      *Common
	keys   ComponentsKeys
	comps  []model.Component
	err    error
	loaded bool
	rows   []compRow
	list   listModel
	top    uint64 // offset into the selected entry of the first hex row
	cache  *lru[areaKey, *areaChunk]
	pend   map[areaKey]bool

	w, h, listH, hexH int
}

// compRow is a list row: a component (entry -1) or one of its entries.
type compRow struct{ comp, entry int }

type areaKey struct {
	comp, entry int
	chunk       uint64
}

type areaChunk struct {
	data []byte
	gaps []model.AreaGap
	err  error
}

type componentsMsg struct {
	comps []model.Component
	err   error
}

type areaMsg struct {
	key   areaKey
	chunk *areaChunk
}

func newComponentsView(c *Common) *componentsView {
	k := ComponentsKeys{NavKeys: newNavKeys(),
		HexDown: bind([]string{"J"}, "J", "data down"), HexUp: bind([]string{"K"}, "K", "data up"),
		HexPageDown: bind([]string{"ctrl+d"}, "ctrl+d", "data page down"), HexPageUp: bind([]string{"ctrl+u"}, "ctrl+u", "data page up")}
	return &componentsView{c: c, keys: k, list: newList(), cache: newLRU[areaKey, *areaChunk](128), pend: map[areaKey]bool{}}
}

func (v *componentsView) Name() string      { return "components" }
func (v *componentsView) Title() string     { return "Components" }
func (v *componentsView) Keys() help.KeyMap { return v.keys }

func (v *componentsView) Init() tea.Cmd {
	ar, ok := v.c.S.Dump().(reader.AreaReader)
	if !ok {
		return nil
	}
	return func() tea.Msg {
		comps, err := ar.Components()
		return componentsMsg{comps, err}
	}
}

func (v *componentsView) SetSize(w, h int) {
	v.w, v.h = w, h
	v.listH = clamp(len(v.rows)+1, 3, max(h*40/100, 3))
	v.hexH = max(h-v.listH, 1)
	v.list.setSize(w, v.listH-1)
}

func (v *componentsView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case componentsMsg:
		v.loaded, v.comps, v.err = true, msg.comps, msg.err
		v.rows = nil
		for i, c := range v.comps {
			v.rows = append(v.rows, compRow{i, -1})
			for j := range c.Entries {
				v.rows = append(v.rows, compRow{i, j})
			}
		}
		v.rebuild()
		v.SetSize(v.w, v.h)
		return v.ensure()
	case areaMsg:
		delete(v.pend, msg.key)
		v.cache.put(msg.key, msg.chunk)
	case themeMsg:
		v.rebuild()
	case tea.KeyPressMsg:
		k := v.keys
		rows := uint64(max(v.hexH-1, 1))
		switch {
		case key.Matches(msg, k.HexDown):
			v.scroll(int64(rows / 2))
		case key.Matches(msg, k.HexUp):
			v.scroll(-int64(rows / 2))
		case key.Matches(msg, k.HexPageDown):
			v.scroll(int64(rows))
		case key.Matches(msg, k.HexPageUp):
			v.scroll(-int64(rows))
		default:
			before := v.list.cursor
			v.list.handleKey(msg)
			if v.list.cursor != before {
				v.top = 0
			}
		}
		return v.ensure()
	case tea.MouseMsg:
		before := v.list.cursor
		if v.list.mouse(msg, msg.Mouse().Y-1) && v.list.cursor != before {
			v.top = 0
		}
		return v.ensure()
	}
	return nil
}

// entry returns the selected entry, if an entry row is selected.
func (v *componentsView) entry() (compRow, *model.AreaEntry) {
	if len(v.rows) == 0 {
		return compRow{}, nil
	}
	r := v.rows[v.list.cursor]
	if r.entry < 0 {
		return r, nil
	}
	return r, &v.comps[r.comp].Entries[r.entry]
}

const areaBPR = 16

func (v *componentsView) scroll(rows int64) {
	_, e := v.entry()
	if e == nil {
		return
	}
	last := (max(e.Length, 1) - 1) / areaBPR * areaBPR
	t := int64(v.top) + rows*areaBPR
	v.top = uint64(clamp64(t, 0, int64(last)))
}

func clamp64(v, lo, hi int64) int64 { return min(max(v, lo), hi) }

// ensure reads the chunks the visible rows of the selected entry need.
func (v *componentsView) ensure() tea.Cmd {
	r, e := v.entry()
	ar, ok := v.c.S.Dump().(reader.AreaReader)
	if e == nil || !ok || e.Length == 0 {
		return nil
	}
	comp := v.comps[r.comp]
	first := v.top / fileChunk
	last := min(v.top+uint64(max(v.hexH-1, 1))*areaBPR, e.Length) - 1
	var cmds []tea.Cmd
	for ch := first; ch <= last/fileChunk; ch++ {
		k := areaKey{r.comp, r.entry, ch}
		if _, ok := v.cache.peek(k); ok || v.pend[k] {
			continue
		}
		v.pend[k] = true
		ci, ei := comp.Index, e.Index
		addr := uint64(e.Address) + ch*fileChunk
		n := min(fileChunk, e.Length-ch*fileChunk)
		cmds = append(cmds, func() tea.Msg {
			buf := make([]byte, n)
			gaps, err := ar.ReadArea(ci, ei, addr, buf)
			return areaMsg{k, &areaChunk{data: buf, gaps: gaps, err: err}}
		})
	}
	return tea.Batch(cmds...)
}

func (v *componentsView) rebuild() {
	st := v.c.St
	lines := make([]render.Line, 0, len(v.rows))
	for _, r := range v.rows {
		c := v.comps[r.comp]
		if r.entry < 0 {
			l := render.Line{st.title.Span(fmt.Sprintf("component %d  %s", c.Index, c.Name)),
				st.dim.Span(fmt.Sprintf("  magic %s at file offset %#x, %d entr%s", c.Magic, c.Offset, len(c.Entries), pluralY(len(c.Entries))))}
			if !c.Complete {
				l = append(l, st.warn.Span("  ! incomplete (the dump ends inside it)"))
			}
			lines = append(lines, l)
			continue
		}
		e := c.Entries[r.entry]
		l := render.Line{st.value.Span(fmt.Sprintf("  %d.%d  ", c.Index, e.Index)), st.title.Span(render.Pad(e.Name, 12)),
			st.addr.Span(fmt.Sprintf(" %#18x", uint64(e.Address))), st.value.Span(fmt.Sprintf(" %10d B", e.Length)),
			st.states[model.StatePresent].Span(fmt.Sprintf("  %s %d present", present.StateGlyph(model.StatePresent), e.PagesPresent)),
			st.states[model.StateNotInDump].Span(fmt.Sprintf("  %s %d absent", present.StateGlyph(model.StateNotInDump), e.PagesAbsent))}
		if e.Real {
			l = append(l, st.dim.Span("  real"))
		}
		if !e.Complete {
			l = append(l, st.warn.Span("  ! incomplete"))
		}
		lines = append(lines, l)
	}
	v.list.setLines(lines)
}

func pluralY(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}

func (v *componentsView) View() string {
	st := v.c.St
	switch {
	case !v.loaded:
		return render.Block([]string{render.Line{st.dim.Span("reading the component tables…")}.Render(v.w, nil)}, v.w, v.h)
	case v.err != nil:
		return render.Block([]string{render.Line{st.err.Span("error: " + errText(v.err))}.Render(v.w, nil)}, v.w, v.h)
	case len(v.rows) == 0:
		return render.Block([]string{render.Line{st.dim.Span("this dump has no components")}.Render(v.w, nil)}, v.w, v.h)
	}
	head := render.Line{st.label.Span(present.Count(len(v.comps), "component") + "; J/K scroll the selected entry's data")}
	return head.Render(v.w, nil) + "\n" + v.list.view(st, true) + "\n" + v.dataPane(st)
}

// dataPane draws the selected entry's bytes by address.
func (v *componentsView) dataPane(st *styles) string {
	r, e := v.entry()
	if e == nil {
		c := v.comps[r.comp]
		return render.Block([]string{render.Line{st.dim.Span(fmt.Sprintf("component %d %s: select one of its entries to see its data", c.Index, c.Name))}.Render(v.w, nil)}, v.w, v.hexH)
	}
	base := uint64(e.Address)
	digits := hexDigits(base+e.Length, 8)
	title := render.Line{st.title.Span(fmt.Sprintf("entry %d.%d %s: %#x-%#x, %d bytes", v.comps[r.comp].Index, e.Index, e.Name, base, base+e.Length, e.Length)),
		st.dim.Span("  -- = page not in the dump")}
	lines := []string{title.Render(v.w, nil)}
	var b strings.Builder
	for row := 0; row < v.hexH-1; row++ {
		off := v.top + uint64(row*areaBPR)
		if off >= e.Length {
			break
		}
		b.Reset()
		ch, ok := v.cache.peek(areaKey{r.comp, r.entry, off / fileChunk})
		in := off % fileChunk
		switch {
		case !ok:
			hexMessageRow(&b, st, digits, base+off, "…", st.dim, v.w)
		case ch.err != nil:
			hexMessageRow(&b, st, digits, base+off, "error: "+errText(ch.err), st.err, v.w)
		default:
			data := ch.data[in:min(in+areaBPR, uint64(len(ch.data)))]
			gaps := ch.gaps
			hexRow(&b, st, digits, areaBPR, base+off, data, func(a uint64) byteMark {
				for _, g := range gaps {
					if a >= uint64(g.Address) && a < uint64(g.Address)+g.Length {
						return markAbsent
					}
				}
				return markNone
			})
		}
		lines = append(lines, b.String())
	}
	return render.Block(lines, v.w, v.hexH)
}

// Search finds a component or entry by name or address.
func (v *componentsView) Search(q string, d searchDir) tea.Cmd {
	before := v.list.cursor
	ok := v.list.search(q, d)
	if v.list.cursor != before {
		v.top = 0
	}
	return tea.Batch(searchStatus(q, ok), v.ensure())
}
