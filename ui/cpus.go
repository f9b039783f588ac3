package ui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// cpusView shows one vCPU at a time: every register set the dump holds for
// it (prstatus, qemu-cpu-state, xen-vcpu-context, ...), registers grouped,
// flags and control registers decoded bit by bit, addresses named by
// kallsyms; and beside (wide screens) or above the registers, the code
// pane: the instructions at its instruction pointer and the text
// pointers on its stack (cpucode.go).
type cpusView struct {
	c      *Common
	keys   CPUKeys
	sets   []model.RegisterSet
	err    error
	loaded bool
	cpus   []int // CPU indexes in order
	idx    int   // index into cpus
	list   listModel
	code   cpuCode
	syms   *kernel.Symbols // nil until read, or when kallsyms cannot be read
	g      cpuGeometry
}

// cpuGeometry places the registers and the code pane: side by side on
// wide screens, the code pane on top otherwise (none when too short).
type cpuGeometry struct {
	side         bool
	regsW, regsH int
	codeW, codeH int // codeH counts the pane's title row
}

// cpuSideWidth is the width from which the panes stand side by side.
const cpuSideWidth = 160

type registersMsg struct {
	sets []model.RegisterSet
	err  error
}

func newCPUsView(c *Common) *cpusView {
	return &cpusView{c: c, keys: newCPUKeys(), list: newList(), code: newCPUCode(c)}
}

func (v *cpusView) Name() string      { return "cpus" }
func (v *cpusView) Title() string     { return "CPUs" }
func (v *cpusView) Keys() help.KeyMap { return v.keys }

func (v *cpusView) SetSize(w, h int) {
	var g cpuGeometry
	switch {
	case w >= cpuSideWidth:
		g.side = true
		g.codeW = w * 11 / 20
		g.regsW, g.regsH, g.codeH = w-g.codeW-1, h, h
	case h >= 8:
		g.codeW, g.codeH = w, max(h*9/20, 4)
		g.regsW, g.regsH = w, h-g.codeH
	default:
		g.regsW, g.regsH = w, h
	}
	resized := g.regsW != v.g.regsW || g.codeW != v.g.codeW
	v.g = g
	v.list.setSize(g.regsW, g.regsH)
	v.code.list.setSize(g.codeW, max(g.codeH-1, 0))
	if resized {
		v.rebuild()
	}
}

// View draws the registers and the code pane; the focused pane has the
// cursor, and the code pane's title says when it has the focus (▶).
func (v *cpusView) View() string {
	st, g := v.c.St, v.g
	regs := v.list.view(st, !v.code.focused)
	if g.codeH == 0 {
		return regs
	}
	title := "Code"
	if len(v.cpus) > 0 {
		title = v.code.title(v.cpus[v.idx])
	}
	code := paneTitle(st, title, v.code.focused, g.codeW)
	if g.codeH > 1 {
		code += "\n" + v.code.list.view(st, v.code.focused)
	}
	if g.side {
		return render.SideBySide(regs, code, st.dim.Paint("│"))
	}
	return code + "\n" + regs
}

// Init reads the registers and kallsyms (to name addresses).
func (v *cpusView) Init() tea.Cmd {
	d := v.c.S.Dump()
	return tea.Batch(func() tea.Msg {
		sets, err := d.Registers()
		return registersMsg{sets, err}
	}, loadSymbols(v.c))
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
		return v.ensureCode()
	case symbolsMsg:
		v.syms = msg.syms
		v.rebuild()
	case disasmMsg, stackMsg, cpuTraceMsg:
		// Bring the marked instruction into view when the selected CPU's
		// code arrives (its stack, when the stack arrives); other CPUs'
		// only fill the cache.
		cpu := v.code.take(msg)
		if len(v.cpus) > 0 && cpu == v.cpus[v.idx] {
			_, code := msg.(disasmMsg)
			cur := v.code.list.cursor
			v.rebuildCode(code)
			if !code {
				v.code.list.moveTo(cur)
			}
		}
	case selectCPUMsg:
		if i := slices.Index(v.cpus, msg.cpu); i >= 0 {
			return v.selectCPU(i)
		}
		return status(fmt.Sprintf("no registers for CPU %d", msg.cpu))
	case cpuFrameMsg:
		if i := slices.Index(v.cpus, msg.cpu); i >= 0 {
			v.idx = i
			v.rebuild()
		}
		if msg.f == (frameRef{}) {
			delete(v.code.at, msg.cpu)
		} else {
			v.code.at[msg.cpu] = msg.f
		}
		v.code.focused = v.g.codeH > 1
		return v.ensureCode()
	case themeMsg:
		v.rebuild()
	}
	return nil
}

func (v *cpusView) key(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, v.keys.PrevCPU):
		return v.selectCPU(v.idx - 1)
	case key.Matches(msg, v.keys.NextCPU):
		return v.selectCPU(v.idx + 1)
	case key.Matches(msg, v.keys.Focus):
		v.code.focused = !v.code.focused && v.g.codeH > 1
	case key.Matches(msg, v.keys.Syntax):
		v.code.intel = !v.code.intel
		v.rebuildCode(true)
		return v.ensureCode()
	case v.code.focused && (key.Matches(msg, v.keys.Open) || key.Matches(msg, v.keys.Code)):
		return v.frameCode()
	case v.code.focused && key.Matches(msg, v.keys.Memory):
		return v.frameMemory()
	case v.code.focused:
		v.code.list.handleKey(msg)
	default:
		v.list.handleKey(msg)
	}
	return nil
}

// mouse scrolls or selects in the pane under the pointer, which takes the
// focus on a click.
func (v *cpusView) mouse(msg tea.MouseMsg) tea.Cmd {
	mo, g := msg.Mouse(), v.g
	inCode := g.codeH > 1 && (g.side && mo.X > g.regsW || !g.side && mo.Y < g.codeH)
	if _, click := msg.(tea.MouseClickMsg); click && mo.Button == tea.MouseLeft {
		v.code.focused = inCode
	}
	switch {
	case inCode:
		v.code.list.mouse(msg, mo.Y-1)
	case g.side:
		v.list.mouse(msg, mo.Y)
	default:
		v.list.mouse(msg, mo.Y-g.codeH)
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
	return v.ensureCode()
}

// ensureCode reads the selected CPU's code and stack if they are not read.
func (v *cpusView) ensureCode() tea.Cmd {
	if len(v.cpus) == 0 {
		return nil
	}
	cmd := v.code.ensure(v.cpus[v.idx])
	v.rebuildCode(true)
	return cmd
}

// rebuildCode lays out the code pane of the selected CPU.
func (v *cpusView) rebuildCode(recentre bool) {
	if len(v.cpus) == 0 {
		why := "reading registers…"
		if v.loaded {
			why = "no CPU registers in this dump: there is no instruction pointer to disassemble at"
		}
		v.code.list.setLines([]render.Line{{v.c.St.dim.Span(why)}})
		return
	}
	v.code.rebuild(v.cpus[v.idx], v.g.codeW, recentre)
}

// Commands adds :cpu N.
func (v *cpusView) Commands() []Command {
	return []Command{{Name: "cpu", Args: "N", Help: "show CPU N (index as stored in the dump)", Run: func(a string) (tea.Cmd, error) {
		n, err := present.ParseNumber(a)
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
	var lines []render.Line
	switch {
	case !v.loaded:
		lines = []render.Line{{st.dim.Span("reading registers…")}}
	case v.err != nil:
		lines = []render.Line{{st.err.Span("error: " + errText(v.err))}}
	case len(v.cpus) == 0:
		lines = []render.Line{{st.dim.Span("this dump holds no CPU registers")}}
	default:
		cpu := v.cpus[v.idx]
		lines = append(lines, render.Line{st.title.Span(fmt.Sprintf("CPU %d", cpu)),
			st.dim.Span(fmt.Sprintf("  (%d of %d; [ and ] or :cpu N switch)", v.idx+1, len(v.cpus)))})
		for _, s := range v.sets {
			if s.CPU == cpu {
				lines = append(lines, render.Line{})
				lines = append(lines, v.setLines(s)...)
			}
		}
	}
	v.list.setLines(lines)
	v.rebuildCode(false)
}

// setLines draws one register set.
func (v *cpusView) setLines(s model.RegisterSet) []render.Line {
	st := v.c.St
	head := fmt.Sprintf("── %s · file offset %#x ──", present.RegisterSetTitle(s), s.Offset)
	out := []render.Line{{st.title.Span(head)}}
	for _, g := range present.RegisterGroups(s) {
		regs := g.Regs
		out = append(out, render.Line{st.label.Span(g.Name)})
		switch g.Name {
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

// regLine is "  name  0x…  sym+0x13  [set bits]".
func (v *cpusView) regLine(r model.Register, summary bool) render.Line {
	st := v.c.St
	l := render.Line{st.label.Span("  " + render.Pad(r.Name, 15)), st.value.Span(present.RegisterValue(r))}
	if sym := v.regSym(r); sym != "" {
		l = append(l, st.title.Span("  "+sym))
	}
	if summary && r.Bits != nil {
		l = append(l, st.title.Span("  "+model.FormatBits(r.Bits)))
	}
	return l
}

// regSym names a register's value: the instruction and stack pointers by
// any symbol that holds them (code, or a stack in kernel data such as
// init_stack), other registers when they point into kernel code.
func (v *cpusView) regSym(r model.Register) string {
	if pc, spName := present.PCSP(v.c.Info.Arch); r.Name == pc || r.Name == spName {
		return symOff(v.syms, r.Value)
	}
	return textSym(v.syms, r.Value)
}

// maxSymW bounds the symbol column of the general registers.
const maxSymW = 32

// columns lays general registers out in as many columns as fit, each value
// followed by its symbol when a register of the set has one.
func (v *cpusView) columns(regs []model.Register) []render.Line {
	st := v.c.St
	nameW, valW, symW := 0, 0, 0
	for _, r := range regs {
		nameW = max(nameW, render.Width(r.Name))
		valW = max(valW, 2+2*max(r.Size, 1))
		if s := v.regSym(r); s != "" {
			symW = max(symW, min(render.Width(s), maxSymW)+1)
		}
	}
	cellW := nameW + 1 + valW + symW + 3
	cols := max((v.g.regsW-2)/cellW, 1)
	var out []render.Line
	for i := 0; i < len(regs); i += cols {
		l := render.Line{render.Text("  ")}
		for _, r := range regs[i:min(i+cols, len(regs))] {
			l = append(l, st.label.Span(render.Pad(r.Name, nameW)+" "),
				st.value.Span(render.Pad(present.RegisterValue(r), valW+1)))
			if symW > 0 {
				l = append(l, st.title.Span(render.Pad(v.regSym(r), symW)))
			}
			l = append(l, render.Text("  "))
		}
		out = append(out, l)
	}
	return out
}

// bitLines decode a register bit by bit: bit range, name, value, meaning;
// set bits are bold, so they show without colour.
func bitLines(st *styles, r model.Register) []render.Line {
	var out []render.Line
	for _, b := range r.Bits {
		valPen := st.dim
		if b.Value != 0 {
			valPen = st.title
		}
		out = append(out, render.Line{st.dim.Span("      " + render.Pad(present.BitRange(b), 11)), st.label.Span(render.Pad(b.Name, 11)),
			valPen.Span(render.Pad(present.BitValue(b), 12)), st.dim.Span(b.Meaning)})
	}
	return out
}

// frameCode shows the code of the frame under the code pane's cursor;
// the place before is remembered, so ctrl+o goes back.
func (v *cpusView) frameCode() tea.Cmd {
	if len(v.cpus) == 0 {
		return nil
	}
	cpu := v.cpus[v.idx]
	bt, a, ok := v.code.frameAt(cpu)
	if !ok || a.frame < 0 {
		return status("select a frame of the stack: enter or d shows its code")
	}
	return navigate(v.Name(), cpuFrameMsg{cpu, frameOf(bt.Frames[a.frame])})
}

// frameMemory shows the stack slot of the frame under the code pane's
// cursor (or the register block) in the Memory view.
func (v *cpusView) frameMemory() tea.Cmd {
	if len(v.cpus) == 0 {
		return nil
	}
	bt, a, ok := v.code.frameAt(v.cpus[v.idx])
	if !ok {
		return status("select a frame of the stack: m shows its stack slot in Memory")
	}
	return showFrameMemory(bt, a)
}

// Cancel goes back from a frame's code to the instruction pointer's.
func (v *cpusView) Cancel() bool {
	if len(v.cpus) == 0 {
		return false
	}
	cpu := v.cpus[v.idx]
	if _, ok := v.code.at[cpu]; !ok {
		return false
	}
	delete(v.code.at, cpu)
	v.rebuildCode(true)
	return true
}

// cpuPlace is a position of the view, for the jump history.
type cpuPlace struct {
	idx              int
	frame            frameRef
	focused          bool
	regsTop, regsCur int
	codeTop, codeCur int
}

// Location implements Locator.
func (v *cpusView) Location() any {
	p := cpuPlace{idx: v.idx, focused: v.code.focused, regsTop: v.list.top, regsCur: v.list.cursor, codeTop: v.code.list.top, codeCur: v.code.list.cursor}
	if len(v.cpus) > 0 {
		p.frame = v.code.at[v.cpus[v.idx]]
	}
	return p
}

// Restore implements Locator.
func (v *cpusView) Restore(loc any) tea.Cmd {
	p, ok := loc.(cpuPlace)
	if !ok || len(v.cpus) == 0 {
		return nil
	}
	v.idx = clamp(p.idx, 0, len(v.cpus)-1)
	cpu := v.cpus[v.idx]
	if p.frame == (frameRef{}) {
		delete(v.code.at, cpu)
	} else {
		v.code.at[cpu] = p.frame
	}
	v.code.focused = p.focused
	v.rebuild()
	cmd := v.ensureCode()
	v.list.top, v.code.list.top = p.regsTop, p.codeTop
	v.list.moveTo(p.regsCur)
	v.code.list.moveTo(p.codeCur)
	return cmd
}

// Search finds a register, bit, value or symbol in the focused pane.
func (v *cpusView) Search(q string, d searchDir) tea.Cmd {
	if v.code.focused {
		return searchStatus(q, v.code.list.search(q, d))
	}
	return searchStatus(q, v.list.search(q, d))
}

// Status shows which CPU is on show.
func (v *cpusView) Status() string {
	if len(v.cpus) == 0 {
		return ""
	}
	return fmt.Sprintf("CPU %d (%d of %d)", v.cpus[v.idx], v.idx+1, len(v.cpus))
}
