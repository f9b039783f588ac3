package ui

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dumpscope/model"
	"dumpscope/ui/render"
)

// vmcoreinfoView shows VMCOREINFO grouped by kind of key (SYMBOL, OFFSET,
// SIZE, LENGTH, NUMBER, other), or the raw text exactly as stored.
type vmcoreinfoView struct {
	c      *Common
	keys   VMCoreInfoKeys
	v      *model.VMCoreInfo
	err    error
	loaded bool
	raw    bool
	list   listModel
}

type vmcoreinfoMsg struct {
	v   *model.VMCoreInfo
	err error
}

// vmcoreinfoGroups are the groups in display order with what their values
// mean.
var vmcoreinfoGroups = []struct{ name, meaning string }{
	{"other", "release, page size, build id, crash time and the like"},
	{"SYMBOL", "addresses of kernel symbols (hex, no 0x)"},
	{"OFFSET", "offsets of structure members in bytes (decimal)"},
	{"SIZE", "sizes of structures in bytes (decimal)"},
	{"LENGTH", "lengths of arrays (decimal)"},
	{"NUMBER", "constants (decimal, or 0x-hex on some architectures)"},
}

func newVMCoreInfoView(c *Common) *vmcoreinfoView {
	k := VMCoreInfoKeys{NavKeys: newNavKeys(), Raw: bind([]string{"r"}, "r", "grouped / raw text")}
	return &vmcoreinfoView{c: c, keys: k, list: newList()}
}

func (v *vmcoreinfoView) Name() string      { return "vmcoreinfo" }
func (v *vmcoreinfoView) Title() string     { return "VMCOREINFO" }
func (v *vmcoreinfoView) Keys() help.KeyMap { return v.keys }
func (v *vmcoreinfoView) SetSize(w, h int)  { v.list.setSize(w, h) }
func (v *vmcoreinfoView) View() string      { return v.list.view(v.c.St, true) }

func (v *vmcoreinfoView) Init() tea.Cmd {
	d := v.c.S.Dump()
	return func() tea.Msg {
		vi, err := d.VMCoreInfo()
		return vmcoreinfoMsg{vi, err}
	}
}

func (v *vmcoreinfoView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case vmcoreinfoMsg:
		v.loaded, v.v, v.err = true, msg.v, msg.err
		v.rebuild()
	case themeMsg:
		v.rebuild()
	case tea.KeyPressMsg:
		if key.Matches(msg, v.keys.Raw) {
			v.raw = !v.raw
			v.rebuild()
			v.list.moveTo(0)
			return nil
		}
		v.list.handleKey(msg)
	case tea.MouseMsg:
		v.list.mouse(msg, msg.Mouse().Y)
	}
	return nil
}

func (v *vmcoreinfoView) rebuild() {
	st := v.c.St
	var lines []render.Line
	switch {
	case !v.loaded:
		lines = []render.Line{{st.dim.Span("reading VMCOREINFO…")}}
	case v.err != nil && errors.Is(v.err, model.ErrNotFound):
		lines = []render.Line{{st.warn.Span("! this dump has no VMCOREINFO")},
			{st.dim.Span("  debuggers need the matching vmlinux to find symbols and structure offsets")}}
	case v.err != nil:
		lines = []render.Line{{st.err.Span("error: " + errText(v.err))}}
	case v.raw:
		lines = append(lines, v.where(st, "raw text exactly as stored (r: grouped)"))
		for _, s := range strings.Split(strings.TrimRight(string(v.v.Raw), "\n\x00"), "\n") {
			lines = append(lines, render.Line{st.value.Span(s)})
		}
	default:
		lines = append(lines, v.where(st, fmt.Sprintf("%d entries, grouped (r: raw text)", len(v.v.Entries))))
		groups := map[string][]model.VMCoreInfoEntry{}
		keyW := 0
		for _, e := range v.v.Entries {
			groups[e.Group()] = append(groups[e.Group()], e)
			keyW = max(keyW, render.Width(e.Key))
		}
		keyW = min(keyW, 40)
		for _, g := range vmcoreinfoGroups {
			es := groups[g.name]
			if len(es) == 0 {
				continue
			}
			lines = append(lines, render.Line{}, render.Line{st.title.Span(fmt.Sprintf("%s (%d)", g.name, len(es))), st.dim.Span("  " + g.meaning)})
			for _, e := range es {
				lines = append(lines, render.Line{st.label.Span("  " + render.Pad(e.Key, keyW) + "  "), st.value.Span(e.Value)})
			}
		}
	}
	v.list.setLines(lines)
}

// where says where the text lies in the file.
func (v *vmcoreinfoView) where(st *styles, what string) render.Line {
	loc := fmt.Sprintf("VMCOREINFO, %d bytes at file offset %#x", len(v.v.Raw), v.v.FileOffset)
	if v.v.File != "" && len(v.c.Info.Files) > 1 {
		loc += " of " + v.v.File
	}
	return render.Line{st.title.Span(loc), st.dim.Span("  " + what)}
}

// Search finds a key or value.
func (v *vmcoreinfoView) Search(q string, d searchDir) tea.Cmd {
	return searchStatus(q, v.list.search(q, d))
}
