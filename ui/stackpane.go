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

// An unwound stack (model.Backtrace) is drawn as `dumpscope bt` prints it,
// in crash's words (present.FrameLine, PtRegsTitle, PtRegsLines), by the
// Tasks view and the CPUs view's code pane. Each row knows the frame or
// the register block it shows, so that a frame opens its code (the
// disassembly around its pc) or its memory (the Memory view at the stack
// slot its return address was read from).

// stackAnchor is what a row of a drawn stack shows: a frame (an index
// into Frames), a register block, or neither (-1, nil).
type stackAnchor struct {
	frame int
	regs  *model.PtRegs
}

// backtraceLines lays a trace out in w cells: its title, each frame (a
// frame not found reliably dim), the registers an interrupt or exception
// saved before the frame they lead to, the user-mode registers, how it was
// unwound and why it ends, and the unwinder's notes.
func backtraceLines(st *styles, bt *model.Backtrace, w int) ([]render.Line, []stackAnchor) {
	var lines []render.Line
	var anchors []stackAnchor
	add := func(a stackAnchor, ls ...render.Line) {
		for _, l := range ls {
			lines, anchors = append(lines, l), append(anchors, a)
		}
	}
	none := stackAnchor{frame: -1}
	regs := func(r *model.PtRegs, where string) {
		a := stackAnchor{frame: -1, regs: r}
		add(a, render.Line{st.label.Span("    " + present.PtRegsTitle(r, where))})
		for _, l := range present.PtRegsLines(r) {
			add(a, render.Line{st.dim.Span("    " + l)})
		}
	}
	add(none, render.Line{st.title.Span(present.BacktraceTitle(*bt))})
	for i, f := range bt.Frames {
		if f.Regs != nil {
			regs(f.Regs, f.Location)
		}
		pen := st.value
		if !f.Reliable {
			pen = st.dim
		}
		l := render.Line{pen.Span(present.FrameLine(f))}
		if how := present.FrameHow(f); how != "" {
			l = append(l, st.dim.Span("  "+how))
		}
		add(stackAnchor{frame: i}, l)
	}
	if bt.UserRegs != nil {
		regs(bt.UserRegs, "")
	}
	for _, s := range render.Wrap(present.BacktraceEnd(*bt), max(w, 10)) {
		add(none, render.Line{st.dim.Span(s)})
	}
	for _, n := range bt.Notes {
		for _, s := range render.Wrap("note: "+n, max(w, 10)) {
			add(none, render.Line{st.dim.Span(s)})
		}
	}
	return lines, anchors
}

// frameRef is a frame whose code is shown.
type frameRef struct {
	pc model.VirtAddr
	// label names the frame in the code pane's title ("#3
	// sysrq_handle_crash+0x16/0x20").
	label string
	// ret: pc is a return address, so the call is the instruction
	// before it.
	ret bool
}

// frameOf makes a frame's reference.
func frameOf(f model.Frame) frameRef {
	return frameRef{pc: f.PC, label: fmt.Sprintf("#%d %s", f.Level, present.OrDash(f.Location)), ret: f.ReturnAddress}
}

// showFrameMemory opens the frame or register block a stack row anchors
// in the Memory view (frameMemory says where), or says what to select.
func showFrameMemory(bt *model.Backtrace, a stackAnchor) tea.Cmd {
	va, ok := frameMemory(bt, a)
	if !ok {
		return status("select a frame or a register block: m shows it in Memory")
	}
	return navigate("memory", gotoVaddrMsg{va})
}

// frameMemory is where a frame opens in Memory: the stack slot its
// return address was read from, else its stack pointer; a register block
// opens at its own address.
func frameMemory(bt *model.Backtrace, a stackAnchor) (model.VirtAddr, bool) {
	switch {
	case a.regs != nil:
		return a.regs.Addr, true
	case a.frame < 0 || a.frame >= len(bt.Frames):
		return 0, false
	case bt.Frames[a.frame].Slot != nil:
		return *bt.Frames[a.frame].Slot, true
	}
	return bt.Frames[a.frame].SP, true
}

// codeKey names one disassembly: around an address, in one syntax.
type codeKey struct {
	addr  model.VirtAddr
	intel bool
}

// codeMsg brings a disassembly to the view named owner.
type codeMsg struct {
	owner string
	key   codeKey
	dis   *kernel.Disassembly
	err   error
}

// disassemble reads the code around key.addr in a command, for the view
// named owner.
func disassemble(c *Common, owner string, key codeKey) tea.Cmd {
	pc := key.addr
	o := kernel.DisasmOptions{Addr: &pc, Count: codeCount, Intel: key.intel}
	return kernelRead(c, func(k *kernel.Kernel, ctx context.Context) (*kernel.Disassembly, error) { return k.Disassemble(ctx, o) },
		func(dis *kernel.Disassembly, err error) tea.Msg {
			return codeMsg{owner: owner, key: key, dis: dis, err: err}
		})
}

// codeLines draws a disassembly in w cells: the engine's notes, then the
// instructions (instLines); with ret, the instruction before the marked
// one is marked as the call. It returns the row of the marked instruction
// (-1 if none).
func codeLines(st *styles, dis *kernel.Disassembly, w int, ret bool) ([]render.Line, int) {
	var lines []render.Line
	for _, n := range dis.Notes {
		for _, s := range render.Wrap("note: "+n, max(w-2, 10)) {
			lines = append(lines, render.Line{st.dim.Span("  " + s)})
		}
	}
	call := -1
	if ret {
		for i, in := range dis.Instructions {
			if in.Marked && i > 0 {
				call = i - 1
			}
		}
	}
	marked := -1
	for i, l := range instLines(st, dis.Instructions, w, call) {
		if dis.Instructions[i].Marked {
			marked = len(lines)
		}
		lines = append(lines, l)
	}
	return lines, marked
}

// instLines draws instructions as objdump does: address, <symbol+off>,
// bytes (when there is room) and the instruction with its branch target
// named. The instruction at the requested address starts with "=>" and is
// bold, so it shows without colour; the instruction at index call (the
// call a return address returns from; -1 for none) starts with "->" and
// is bold too.
func instLines(st *styles, insts []model.Instruction, w, call int) []render.Line {
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
	for i, in := range insts {
		p := present.Instruction(in)
		textPen, locPen := st.value, st.dim
		if in.Marked || i == call {
			textPen, locPen = st.title, st.title
		}
		if i == call {
			p.Mark = "->"
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

// codeTitle heads a frame's code: which frame (or address), what the
// marks mean for a return address, and the syntax.
func codeTitle(f frameRef, intel bool) string {
	t := "Code at " + f.pc.String()
	if f.label != "" {
		t = "Code of " + f.label
	}
	if f.ret {
		t += " · -> the call, => its return"
	}
	if intel {
		return t + " · Intel (i: GNU)"
	}
	return t + " · GNU (i: Intel)"
}

// stackRead is a stack read by a job.
type stackRead struct {
	bt  *model.Backtrace
	err error
}

// unwind unwinds a task's stack (a CPU's when t is nil) in a job.
func unwind(c *Common, t *model.Task, cpu int) jobFunc {
	return func(ctx context.Context, progress func(done, total uint64)) (any, error) {
		res, err := c.engineCall(ctx, progress, func(ctx context.Context, k *kernel.Kernel) (any, error) {
			var bt *model.Backtrace
			var err error
			if t != nil {
				bt, err = k.TaskBacktrace(ctx, *t)
			} else {
				bt, err = k.CPUBacktrace(ctx, cpu)
			}
			return stackRead{bt, err}, nil
		})
		if err != nil {
			// The engine cannot run: that is the stack's answer.
			return stackRead{err: err}, ctx.Err()
		}
		return res, ctx.Err()
	}
}
