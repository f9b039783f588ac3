package ui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dumpscope/model"
)

// cpusView shows one vCPU at a time: every register set the dump holds for
// it (prstatus, qemu-cpu-state, xen-vcpu-context, ...), registers grouped,
// flags and control registers decoded bit by bit.
type cpusView struct {
	c      *Common
	keys   CPUKeys
	sets   []model.RegisterSet
	err    error
	loaded bool
	cpus   []int // CPU indexes in order
	idx    int   // index into cpus
	list   listModel
	w      int
}

type registersMsg struct {
	sets []model.RegisterSet
	err  error
}

// regGroups is the order groups are shown in; unknown groups follow.
var regGroups = []string{model.GroupGeneral, model.GroupFlags, model.GroupSegment, model.GroupControl, model.GroupDebug, model.GroupOther}

func newCPUsView(c *Common) *cpusView {
	k := CPUKeys{NavKeys: newNavKeys(),
		PrevCPU: bind([]string{"[", "left", "h"}, "[/h", "previous CPU"),
		NextCPU: bind([]string{"]", "right", "l"}, "]/l", "next CPU")}
	return &cpusView{c: c, keys: k, list: newList()}
}

func (v *cpusView) Name() string      { return "cpus" }
func (v *cpusView) Title() string     { return "CPUs" }
func (v *cpusView) Keys() help.KeyMap { return v.keys }
func (v *cpusView) View() string      { return v.list.view(v.c.St, true) }

func (v *cpusView) SetSize(w, h int) {
	v.list.setSize(w, h)
	if w != v.w {
		v.w = w
		v.rebuild()
	}
}

func (v *cpusView) Init() tea.Cmd {
	d := v.c.Dump
	return func() tea.Msg {
		sets, err := d.Registers()
		return registersMsg{sets, err}
	}
}

func (v *cpusView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case registersMsg:
		v.loaded, v.sets, v.err = true, msg.sets, msg.err
		v.cpus = nil
		for _, s := range v.sets {
			if !slices.Contains(v.cpus, s.CPU) {
				v.cpus = append(v.cpus, s.CPU)
			}
		}
		slices.Sort(v.cpus)
		v.rebuild()
	case themeMsg:
		v.rebuild()
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, v.keys.PrevCPU):
			return v.selectCPU(v.idx - 1)
		case key.Matches(msg, v.keys.NextCPU):
			return v.selectCPU(v.idx + 1)
		}
		v.list.handleKey(msg)
	case tea.MouseMsg:
		v.list.mouse(msg, msg.Mouse().Y)
	}
	return nil
}

func (v *cpusView) selectCPU(i int) tea.Cmd {
	if len(v.cpus) == 0 {
		return nil
	}
	v.idx = clamp(i, 0, len(v.cpus)-1)
	v.rebuild()
	v.list.moveTo(0)
	return nil
}

// Commands adds :cpu N.
func (v *cpusView) Commands() []Command {
	return []Command{{Name: "cpu", Args: "N", Help: "show CPU N (index as stored in the dump)", Run: func(a string) (tea.Cmd, error) {
		n, err := parseNum(a)
		if err != nil {
			return nil, err
		}
		i := slices.Index(v.cpus, int(n))
		if i < 0 {
			return nil, fmt.Errorf("no registers for CPU %d (CPUs: %s)", n, intsText(v.cpus))
		}
		return v.selectCPU(i), nil
	}}}
}

func intsText(xs []int) string {
	if len(xs) == 0 {
		return "none"
	}
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " ")
}

// rebuild lays out the selected CPU's register sets.
func (v *cpusView) rebuild() {
	st := v.c.St
	var lines []line
	switch {
	case !v.loaded:
		lines = []line{{sp(st.dim, "reading registers…")}}
	case v.err != nil:
		lines = []line{{sp(st.err, "error: "+errText(v.err))}}
	case len(v.cpus) == 0:
		lines = []line{{sp(st.dim, "this dump holds no CPU registers")}}
	default:
		cpu := v.cpus[v.idx]
		lines = append(lines, line{sp(st.title, fmt.Sprintf("CPU %d", cpu)),
			sp(st.dim, fmt.Sprintf("  (%d of %d; [ and ] or :cpu N switch)", v.idx+1, len(v.cpus)))})
		for _, s := range v.sets {
			if s.CPU == cpu {
				lines = append(lines, line{})
				lines = append(lines, v.setLines(s)...)
			}
		}
	}
	v.list.setLines(lines)
}

// setLines draws one register set.
func (v *cpusView) setLines(s model.RegisterSet) []line {
	st := v.c.St
	head := fmt.Sprintf("── %s · %s", s.Source, s.Arch)
	if s.PID != nil {
		head += fmt.Sprintf(" · pid %d", *s.PID)
	}
	if s.Signal != nil && *s.Signal != 0 {
		head += fmt.Sprintf(" · signal %d", *s.Signal)
	}
	head += fmt.Sprintf(" · file offset %#x ──", s.Offset)
	out := []line{{sp(st.title, head)}}
	groups := map[string][]model.Register{}
	order := slices.Clone(regGroups)
	for _, r := range s.Registers {
		if !slices.Contains(order, r.Group) {
			order = append(order, r.Group)
		}
		groups[r.Group] = append(groups[r.Group], r)
	}
	for _, g := range order {
		regs := groups[g]
		if len(regs) == 0 {
			continue
		}
		out = append(out, line{sp(st.label, g)})
		switch g {
		case model.GroupFlags, model.GroupControl:
			for _, r := range regs {
				out = append(out, v.regLine(r, true))
				out = append(out, bitLines(st, r)...)
			}
		case model.GroupGeneral:
			out = append(out, v.columns(regs)...)
		default:
			for _, r := range regs {
				out = append(out, v.regLine(r, true))
			}
		}
	}
	return out
}

// regLine is "  name  0x…  [set bits]".
func (v *cpusView) regLine(r model.Register, summary bool) line {
	st := v.c.St
	l := line{sp(st.label, "  "+padRight(r.Name, 15)), sp(st.value, fmt.Sprintf("0x%0*x", 2*max(r.Size, 1), r.Value))}
	if summary && r.Bits != nil {
		l = append(l, sp(st.title, "  "+bitsSummary(r.Bits)))
	}
	return l
}

// columns lays general registers out in as many columns as fit.
func (v *cpusView) columns(regs []model.Register) []line {
	st := v.c.St
	nameW, valW := 0, 0
	for _, r := range regs {
		nameW = max(nameW, textWidth(r.Name))
		valW = max(valW, 2+2*max(r.Size, 1))
	}
	cellW := nameW + 1 + valW + 3
	cols := max((v.w-2)/cellW, 1)
	var out []line
	for i := 0; i < len(regs); i += cols {
		l := line{sp(pen{}, "  ")}
		for _, r := range regs[i:min(i+cols, len(regs))] {
			l = append(l, sp(st.label, padRight(r.Name, nameW)+" "),
				sp(st.value, padRight(fmt.Sprintf("0x%0*x", 2*max(r.Size, 1), r.Value), valW+3)))
		}
		out = append(out, l)
	}
	return out
}

// bitLines decode a register bit by bit: bit range, name, value, meaning;
// set bits are bold, so they show without colour.
func bitLines(st *styles, r model.Register) []line {
	var out []line
	for _, b := range r.Bits {
		where := fmt.Sprintf("bit  %2d", b.Shift)
		if b.Width > 1 {
			where = fmt.Sprintf("bits %2d-%d", b.Shift, b.Shift+b.Width-1)
		}
		valPen := st.dim
		if b.Value != 0 {
			valPen = st.title
		}
		val := fmt.Sprint(b.Value)
		if b.Width > 4 {
			val = fmt.Sprintf("%#x", b.Value)
		}
		out = append(out, line{sp(st.dim, "      "+padRight(where, 11)), sp(st.label, padRight(b.Name, 11)),
			sp(valPen, padRight(val, 12)), sp(st.dim, b.Meaning)})
	}
	return out
}

// bitsSummary names the set bits and the non-zero fields.
func bitsSummary(bits []model.BitField) string {
	var parts []string
	for _, b := range bits {
		switch {
		case b.Width == 1 && b.Value != 0:
			parts = append(parts, b.Name)
		case b.Width > 1 && b.Value != 0:
			parts = append(parts, fmt.Sprintf("%s=%#x", b.Name, b.Value))
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// Search finds a register, bit or value.
func (v *cpusView) Search(q string, d searchDir) tea.Cmd {
	return searchStatus(q, v.list.search(q, d))
}

// Status shows which CPU is on show.
func (v *cpusView) Status() string {
	if len(v.cpus) == 0 {
		return ""
	}
	return fmt.Sprintf("CPU %d (%d of %d)", v.cpus[v.idx], v.idx+1, len(v.cpus))
}
