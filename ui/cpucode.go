package ui

import (
	"context"
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
// or around a frame's pc, and the CPU's stack unwound from its saved
// registers (stackpane.go); where it cannot be unwound, the reason and the
// words on the stack that point into kernel text. Each is read once per
// CPU (and syntax) by a command and kept; the pane is a list the user can
// focus and scroll, and a frame opens its code (enter, d) or its memory
// (m).
type cpuCode struct {
	c       *Common
	intel   bool
	focused bool
	dis     map[disKey]codeResult[*kernel.Disassembly]
	stacks  map[int]codeResult[[]model.StackWord]
	bts     map[int]codeResult[*model.Backtrace]
	// at is the frame whose code a CPU's pane shows (none: the
	// instruction pointer's).
	at     map[int]frameRef
	list   listModel
	marked int           // the list row of the marked instruction; -1 if none
	anch   []stackAnchor // per list row: the frame or register block it shows
}

// disKey names one disassembly: a CPU's at its instruction pointer
// (addr 0) or at a frame's pc, in one syntax.
type disKey struct {
	cpu   int
	addr  model.VirtAddr
	intel bool
}

// codeResult is a read's outcome; done is false while it is pending.
type codeResult[T any] struct {
	val  T
	err  error
	done bool
}

// readOnce returns read unless key's result is read or being read (nil
// then), and marks it as being read.
func readOnce[K comparable, V any](results map[K]codeResult[V], key K, read tea.Cmd) tea.Cmd {
	if _, ok := results[key]; ok {
		return nil
	}
	results[key] = codeResult[V]{}
	return read
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
	cpuTraceMsg struct {
		cpu int
		bt  *model.Backtrace
		err error
	}
	// cpuFrameMsg shows a frame's code in a CPU's pane (through navigate,
	// which remembers the place before); a zero frame goes back to the
	// instruction pointer.
	cpuFrameMsg struct {
		cpu int
		f   frameRef
	}
)

// codeCount is how many instructions are disassembled (a quarter of them
// before the instruction pointer).
const codeCount = 32

func newCPUCode(c *Common) cpuCode {
	return cpuCode{c: c, dis: map[disKey]codeResult[*kernel.Disassembly]{},
		stacks: map[int]codeResult[[]model.StackWord]{}, bts: map[int]codeResult[*model.Backtrace]{},
		at: map[int]frameRef{}, list: newList(), marked: -1}
}

// key is the disassembly CPU cpu's pane shows.
func (p *cpuCode) key(cpu int) disKey {
	return disKey{cpu: cpu, addr: p.at[cpu].pc, intel: p.intel}
}

// ensure starts the reads CPU cpu's pane needs that are not done or under
// way.
func (p *cpuCode) ensure(cpu int) tea.Cmd {
	c, key := p.c, p.key(cpu)
	o := kernel.DisasmOptions{CPU: key.cpu, Count: codeCount, Intel: key.intel}
	if key.addr != 0 {
		o.Addr = &key.addr
	}
	return tea.Batch(
		readOnce(p.dis, key, kernelRead(c, func(k *kernel.Kernel, ctx context.Context) (*kernel.Disassembly, error) { return k.Disassemble(ctx, o) },
			func(dis *kernel.Disassembly, err error) tea.Msg { return disasmMsg{key: key, dis: dis, err: err} })),
		readOnce(p.bts, cpu, kernelRead(c, func(k *kernel.Kernel, ctx context.Context) (*model.Backtrace, error) { return k.CPUBacktrace(ctx, cpu) },
			func(bt *model.Backtrace, err error) tea.Msg { return cpuTraceMsg{cpu: cpu, bt: bt, err: err} })),
		readOnce(p.stacks, cpu, kernelRead(c, func(k *kernel.Kernel, ctx context.Context) ([]model.StackWord, error) { return k.Stack(ctx, cpu) },
			func(words []model.StackWord, err error) tea.Msg { return stackMsg{cpu: cpu, words: words, err: err} })))
}

// take records the result of a read (a disasmMsg, a cpuTraceMsg or a
// stackMsg) and returns the CPU it is about.
func (p *cpuCode) take(msg tea.Msg) int {
	switch msg := msg.(type) {
	case disasmMsg:
		p.dis[msg.key] = codeResult[*kernel.Disassembly]{val: msg.dis, err: msg.err, done: true}
		return msg.key.cpu
	case cpuTraceMsg:
		p.bts[msg.cpu] = codeResult[*model.Backtrace]{val: msg.bt, err: msg.err, done: true}
		return msg.cpu
	case stackMsg:
		p.stacks[msg.cpu] = codeResult[[]model.StackWord]{val: msg.words, err: msg.err, done: true}
		return msg.cpu
	}
	return -1
}

// title heads the pane: which CPU, the address and its symbol (or the
// frame), the syntax.
func (p *cpuCode) title(cpu int) string {
	if f, ok := p.at[cpu]; ok {
		return codeTitle(frameRef{pc: f.pc, label: fmt.Sprintf("CPU %d %s", cpu, f.label), ret: f.ret}, p.intel)
	}
	syntax := "GNU syntax (i: Intel)"
	if p.intel {
		syntax = "Intel syntax (i: GNU)"
	}
	pc, _ := present.PCSP(p.c.Info.Arch)
	t := fmt.Sprintf("Code of CPU %d", cpu)
	if d := p.dis[p.key(cpu)]; d.val != nil {
		t += fmt.Sprintf(" at %s %s", pc, d.val.Addr)
		if d.val.Location != "" {
			t += " " + d.val.Location
		}
	}
	return t + " · " + syntax
}

// rebuild lays out CPU cpu's pane in w cells; with recentre the marked
// instruction is brought into view.
func (p *cpuCode) rebuild(cpu, w int, recentre bool) {
	st := p.c.St
	var lines []render.Line
	p.anch = nil
	add := func(a stackAnchor, ls ...render.Line) {
		for _, l := range ls {
			lines, p.anch = append(lines, l), append(p.anch, a)
		}
	}
	none := stackAnchor{frame: -1}
	p.marked = -1
	f, atFrame := p.at[cpu]
	switch d := p.dis[p.key(cpu)]; {
	case !d.done:
		add(none, render.Line{st.dim.Span("disassembling…")})
	case d.err != nil:
		add(none, whyLines(st, "no code: the instructions cannot be read", d.err, w)...)
	default:
		code, marked := codeLines(st, d.val, w, atFrame && f.ret)
		if marked >= 0 {
			p.marked = len(lines) + marked
		}
		add(none, code...)
	}
	add(none, render.Line{})
	switch bt := p.bts[cpu]; {
	case !bt.done:
		add(none, render.Line{st.title.Span("Stack"), st.dim.Span("  unwinding…")})
	case bt.err == nil && len(bt.val.Frames) > 0:
		add(none, render.Line{st.title.Span("Stack"), st.dim.Span("  enter or d: a frame's code, m: its stack slot in Memory")})
		bl, ba := backtraceLines(st, bt.val, w)
		for i := range bl {
			add(ba[i], bl[i])
		}
	default:
		if bt.err != nil {
			add(none, whyLines(st, "no unwound stack", bt.err, w)...)
		} else {
			bl, _ := backtraceLines(st, bt.val, w) // no frames: how it was tried
			add(none, bl...)
		}
		// The scan shows what is left, unless it fails for the same
		// reason.
		if sc := p.stacks[cpu]; bt.err == nil || sc.err == nil || errText(sc.err) != errText(bt.err) {
			lines = append(lines, p.scanLines(cpu, w)...)
		}
		for len(p.anch) < len(lines) {
			p.anch = append(p.anch, none)
		}
	}
	p.list.setLines(lines)
	if recentre && p.marked >= 0 {
		p.list.top = max(p.marked-p.list.h/4, 0)
		p.list.moveTo(p.marked)
	}
}

// scanLines are the words from the stack pointer up that point into
// kernel text: what is left to see where the stack cannot be unwound.
func (p *cpuCode) scanLines(cpu, w int) []render.Line {
	st := p.c.St
	_, spName := present.PCSP(p.c.Info.Arch)
	lines := []render.Line{{}, {st.title.Span("Stack words"), st.dim.Span(fmt.Sprintf("  words from %s up that point into kernel text", spName))}}
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
	return lines
}

func (p *cpuCode) addrDigits() int {
	if p.c.Info.Arch == "i386" {
		return 8
	}
	return 16
}

// frameAt returns CPU cpu's stack and the anchor of the cursor row.
func (p *cpuCode) frameAt(cpu int) (*model.Backtrace, stackAnchor, bool) {
	bt := p.bts[cpu]
	if bt.val == nil || p.list.cursor >= len(p.anch) {
		return nil, stackAnchor{}, false
	}
	return bt.val, p.anch[p.list.cursor], true
}
