package ui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// cpuCode is the CPUs view's code pane: the instructions around the
// selected CPU's instruction pointer (the engine decodes from the start of
// the function that holds it, so the instructions before it are real ones)
// and the words on its stack that point into kernel text. Each is read
// once per CPU (and syntax) by a command and kept; the pane is a list the
// user can focus and scroll.
type cpuCode struct {
	c       *Common
	intel   bool
	focused bool
	dis     map[disKey]codeResult[*kernel.Disassembly]
	stacks  map[int]codeResult[[]model.StackWord]
	list    listModel
	marked  int // the list row of the instruction at the instruction pointer; -1 if none
}

// disKey names one disassembly: a CPU's, in one syntax.
type disKey struct {
	cpu   int
	intel bool
}

// codeResult is a read's outcome; done is false while it is pending.
type codeResult[T any] struct {
	val  T
	err  error
	done bool
}

type (
	disasmMsg struct {
		key disKey
		dis *kernel.Disassembly
		err error
	}
	stackMsg struct {
		cpu   int
		words []model.StackWord
		err   error
	}
)

// codeCount is how many instructions are disassembled (a quarter of them
// before the instruction pointer).
const codeCount = 32

func newCPUCode(c *Common) cpuCode {
	return cpuCode{c: c, dis: map[disKey]codeResult[*kernel.Disassembly]{},
		stacks: map[int]codeResult[[]model.StackWord]{}, list: newList(), marked: -1}
}

// ensure starts the reads CPU cpu's pane needs that are not done or under
// way.
func (p *cpuCode) ensure(cpu int) tea.Cmd {
	c := p.c
	var cmds []tea.Cmd
	key := disKey{cpu, p.intel}
	if _, ok := p.dis[key]; !ok {
		p.dis[key] = codeResult[*kernel.Disassembly]{}
		cmds = append(cmds, func() tea.Msg {
			k, err := c.kernel(c.Ctx)
			if err != nil {
				return disasmMsg{key: key, err: err}
			}
			dis, err := k.Disassemble(c.Ctx, kernel.DisasmOptions{CPU: key.cpu, Count: codeCount, Intel: key.intel})
			return disasmMsg{key: key, dis: dis, err: err}
		})
	}
	if _, ok := p.stacks[cpu]; !ok {
		p.stacks[cpu] = codeResult[[]model.StackWord]{}
		cmds = append(cmds, func() tea.Msg {
			k, err := c.kernel(c.Ctx)
			if err != nil {
				return stackMsg{cpu: cpu, err: err}
			}
			words, err := k.Stack(c.Ctx, cpu)
			return stackMsg{cpu: cpu, words: words, err: err}
		})
	}
	return tea.Batch(cmds...)
}

// take records the result of a read (a disasmMsg or a stackMsg) and
// returns the CPU it is about.
func (p *cpuCode) take(msg tea.Msg) int {
	switch msg := msg.(type) {
	case disasmMsg:
		p.dis[msg.key] = codeResult[*kernel.Disassembly]{val: msg.dis, err: msg.err, done: true}
		return msg.key.cpu
	case stackMsg:
		p.stacks[msg.cpu] = codeResult[[]model.StackWord]{val: msg.words, err: msg.err, done: true}
		return msg.cpu
	}
	return -1
}

// title heads the pane: which CPU, the address and its symbol, the syntax.
func (p *cpuCode) title(cpu int) string {
	syntax := "GNU syntax (i: Intel)"
	if p.intel {
		syntax = "Intel syntax (i: GNU)"
	}
	pc, _ := present.PCSP(p.c.Info.Arch)
	t := fmt.Sprintf("Code of CPU %d", cpu)
	if d := p.dis[disKey{cpu, p.intel}]; d.val != nil {
		t += fmt.Sprintf(" at %s %s", pc, d.val.Addr)
		if d.val.Location != "" {
			t += " " + d.val.Location
		}
	}
	return t + " · " + syntax
}

// rebuild lays out CPU cpu's pane in w cells; with recentre the
// instruction at the instruction pointer is brought into view.
func (p *cpuCode) rebuild(cpu, w int, recentre bool) {
	st := p.c.St
	var lines []render.Line
	p.marked = -1
	switch d := p.dis[disKey{cpu, p.intel}]; {
	case !d.done:
		lines = append(lines, render.Line{st.dim.Span("disassembling…")})
	case d.err != nil:
		lines = append(lines, whyLines(st, "no code: the instructions cannot be read", d.err, w)...)
	default:
		for _, n := range d.val.Notes {
			for _, s := range render.Wrap("note: "+n, max(w-2, 10)) {
				lines = append(lines, render.Line{st.dim.Span("  " + s)})
			}
		}
		for i, l := range p.instLines(st, d.val.Instructions, w) {
			if d.val.Instructions[i].Marked {
				p.marked = len(lines)
			}
			lines = append(lines, l)
		}
	}
	_, spName := present.PCSP(p.c.Info.Arch)
	lines = append(lines, render.Line{}, render.Line{st.title.Span("Stack"), st.dim.Span(fmt.Sprintf("  words from %s up that point into kernel text", spName))})
	switch s := p.stacks[cpu]; {
	case !s.done:
		lines = append(lines, render.Line{st.dim.Span("reading the stack…")})
	case s.err != nil:
		lines = append(lines, whyLines(st, "no stack: it cannot be read", s.err, w)...)
	case len(s.val) == 0:
		lines = append(lines, render.Line{st.dim.Span("  no word on the stack points into kernel text")})
	default:
		digits := p.addrDigits()
		for _, sw := range s.val {
			lines = append(lines, render.Line{st.addr.Span(fmt.Sprintf("  %0*x", digits, uint64(sw.Addr))),
				st.value.Span(fmt.Sprintf("  %0*x", digits, uint64(sw.Value))), st.title.Span("  " + sw.Symbol)})
		}
	}
	p.list.setLines(lines)
	if recentre && p.marked >= 0 {
		p.list.top = max(p.marked-p.list.h/4, 0)
		p.list.moveTo(p.marked)
	}
}

func (p *cpuCode) addrDigits() int {
	if p.c.Info.Arch == "i386" {
		return 8
	}
	return 16
}

// instLines draws instructions as objdump does: address, <symbol+off>,
// bytes (when there is room) and the instruction with its branch target
// named. The instruction at the instruction pointer starts with "=>" and
// is bold, so it shows without colour.
func (p *cpuCode) instLines(st *styles, insts []model.Instruction, w int) []render.Line {
	locW, bytesW := 0, 0
	for _, in := range insts {
		locW = max(locW, render.Width(in.Location)+2)
		bytesW = max(bytesW, len(in.Bytes)*3/2)
	}
	locW = min(locW, 36)
	bytesW = min(bytesW, 21)
	if w < 100 {
		bytesW = 0
	}
	out := make([]render.Line, 0, len(insts))
	for _, in := range insts {
		p := present.Instruction(in)
		textPen, locPen := st.value, st.dim
		if in.Marked {
			textPen, locPen = st.title, st.title
		}
		l := render.Line{textPen.Span(p.Mark + " "), st.addr.Span(p.Addr), render.Text(" ")}
		if locW > 0 {
			l = append(l, locPen.Span(render.Pad(p.Location, locW)+" "))
		}
		if bytesW > 0 {
			l = append(l, st.dim.Span(render.Pad(p.Bytes, bytesW)+" "))
		}
		out = append(out, append(l, textPen.Span(p.Text)))
	}
	return out
}
