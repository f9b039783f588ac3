package unwind

import (
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// Frame-pointer unwinding (arch/x86/kernel/unwind_frame.c), for i386 and
// x86_64 kernels built with CONFIG_UNWINDER_FRAME_POINTER: each function
// pushes bp and points bp at it, so bp is a chain of {saved bp, return
// address} pairs. Entry code marks a pt_regs in the chain by encoding its
// address in bp (ENCODE_FRAME_POINTER): on x86_64 the address + 1 (an odd
// bp), on i386 the address with its top bit cleared.

// fpFromRegs unwinds from a CPU's registers: frame 0 is the ip, then the
// bp chain.
func (w *walker) fpFromRegs(r Regs) {
	f0 := Frame{PC: r.IP, SP: r.SP, Stack: w.cur.Kind, How: FromRegisters, Reliable: w.isText(r.IP)}
	if !w.add(f0) {
		return
	}
	prevEnd := r.SP
	ws := uint64(w.u.word)
	// An ip in its function's prologue, before bp points at the new
	// frame, leaves the caller out of the bp chain; its return address is
	// then at sp (before the push of bp) or just above (after it). A
	// function without that prologue (a frameless leaf, asm) leaves the
	// caller out too: its code says where the return address is.
	off, ok, hasPrologue := w.prologue(r.IP)
	how := FromPrologue
	if !hasPrologue {
		if e, found := w.codeEntry(r.IP); found && e.BPReg == RegUndefined {
			off, ok, how = uint64(e.SPOffset)-ws, true, FromCode
		}
	}
	if ok {
		slot := r.SP + off
		ret, err := w.stackWord(slot)
		if err != nil {
			w.finish(EndError, fmt.Errorf("return address of the function at ip %#x (no frame yet): %w", r.IP, err))
			return
		}
		f := Frame{PC: ret, Call: true, SP: slot + ws, Slot: slot, Stack: w.cur.Kind, How: how, Reliable: f0.Reliable && w.isText(ret)}
		if !w.add(f) {
			return
		}
		prevEnd = slot + ws
	}
	w.fpChain(r.BP, prevEnd, f0.Reliable)
}

// fpChain follows the bp chain from bp; prevEnd is the end of what the
// frames so far occupy on the stack (a frame must lie above it).
func (w *walker) fpChain(bp, prevEnd uint64, reliable bool) {
	ws := uint64(w.u.word)
	regsSize := uint64(ptRegs64Size)
	if ws == 4 {
		regsSize = ptRegs32Size
	}
	for {
		if bp == 0 {
			w.finish(EndStack, nil)
			return
		}
		if at, ok := w.encodedRegs(bp); ok {
			onKnown, err := w.moveTo(prevEnd-1, at, true)
			if err != nil {
				w.finish(EndError, fmt.Errorf("encoded frame pointer %#x: %w", bp, err))
				return
			}
			regs, err := w.readRegs(at)
			if err != nil {
				w.finish(EndError, fmt.Errorf("pt_regs at %#x (frame pointer %#x): %w", at, bp, err))
				return
			}
			if regs.Regs.UserMode() {
				w.tr.UserRegs = regs
				w.finish(EndUser, nil)
				return
			}
			f := Frame{PC: regs.Regs.IP, SP: regs.Regs.SP, Slot: at + 12*ws, Stack: w.cur.Kind, Regs: regs, How: FromFramePointer}
			if ws == 8 {
				f.Slot = at + iretOffset64
			}
			reliable = reliable && onKnown && w.isText(f.PC)
			f.Reliable = reliable
			if !w.add(f) {
				return
			}
			bp, prevEnd = regs.Regs.BP, at+regsSize
			continue
		}
		onKnown, err := w.moveTo(prevEnd-1, bp, true)
		if err != nil {
			w.finish(EndError, fmt.Errorf("frame pointer %#x: %w", bp, err))
			return
		}
		next, err1 := w.stackWord(bp)
		ret, err2 := w.stackWord(bp + ws)
		if err1 != nil || err2 != nil {
			w.finish(EndError, fmt.Errorf("frame at %#x: %w", bp, firstErr(err1, err2)))
			return
		}
		if w.u.text != nil && !w.isText(ret) {
			w.finish(EndError, fmt.Errorf("return address %#x at %#x is not known code", ret, bp+ws))
			return
		}
		reliable = reliable && onKnown && w.isText(ret)
		f := Frame{PC: ret, Call: true, SP: bp + 2*ws, Slot: bp + ws, Stack: w.cur.Kind, How: FromFramePointer, Reliable: reliable}
		if !w.add(f) {
			return
		}
		// unwind_frame.c's is_last_task_frame: the frame just below the
		// pt_regs at the top of a task stack (TOP_OF_KERNEL_STACK_PADDING
		// is 0 on x86_64, 8 or 16 on i386) is the last; the pt_regs are
		// the user-mode registers of a system call, or unused.
		if w.cur.Kind == StackTask {
			if at, last := w.lastTaskFrame(bp, regsSize); last {
				if regs, err := w.readRegs(at); err == nil && regs.Regs.UserMode() {
					w.tr.UserRegs = regs
					w.finish(EndUser, nil)
				} else {
					w.finish(EndStack, nil)
				}
				return
			}
		}
		bp, prevEnd = next, bp+2*ws
	}
}

// lastTaskFrame reports whether the frame at bp is the last of a task
// stack, and where the task's pt_regs lie (unwind_frame.c
// is_last_task_frame): bp is two words below the pt_regs at the top of
// the stack, or three when the function realigned its stack and pushed a
// copy of its return address. Without the exact padding, each padding
// x86 kernels use is tried.
func (w *walker) lastTaskFrame(bp, regsSize uint64) (uint64, bool) {
	ws := uint64(w.u.word)
	if w.u.pad == nil {
		for _, pad := range []uint64{0, 8, 16} {
			if bp+2*ws+regsSize+pad == w.cur.Hi {
				return bp + 2*ws, true
			}
		}
		return 0, false
	}
	if *w.u.pad+regsSize+2*ws > w.cur.Hi-w.cur.Lo {
		return 0, false
	}
	regs := w.cur.Hi - *w.u.pad - regsSize
	lastBP := regs - 2*ws
	if bp == lastBP {
		return regs, true
	}
	if bp == lastBP-ws {
		a, err1 := w.stackWord(bp + ws)
		b, err2 := w.stackWord(lastBP + ws)
		return regs, err1 == nil && err2 == nil && a == b
	}
	return 0, false
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// encodedRegs decodes ENCODE_FRAME_POINTER (unwind_frame.c
// decode_frame_pointer).
func (w *walker) encodedRegs(bp uint64) (uint64, bool) {
	if w.u.word == 8 {
		return bp &^ 1, bp&1 != 0
	}
	return bp | 0x80000000, bp&0x80000000 == 0
}

// readRegs reads a whole pt_regs from a known stack.
func (w *walker) readRegs(at uint64) (*PtRegs, error) {
	if w.u.word == 4 {
		var b [ptRegs32Size]byte
		if err := w.stackRead(at, b[:]); err != nil {
			return nil, err
		}
		return &PtRegs{Addr: at, Regs: decodeRegs32(b[:])}, nil
	}
	var b [ptRegs64Size]byte
	if err := w.stackRead(at, b[:]); err != nil {
		return nil, err
	}
	return &PtRegs{Addr: at, Regs: decodeRegs64(b[:])}, nil
}

// maxPrologue bounds how far into a function the standard prologue is
// looked for (after ENDBR and the fentry NOP).
const maxPrologue = 32

// prologue decodes the start of the function holding pc. When pc is at or
// before the point where the standard prologue "push %bp; mov %sp,%bp"
// has completed, it returns where the return address is relative to sp: 0
// before the push, one word after it. hasPrologue says whether the
// function begins with that prologue at all.
func (w *walker) prologue(pc uint64) (off uint64, ok bool, hasPrologue bool) {
	if w.u.text == nil {
		return 0, false, true
	}
	start, found := w.u.text.FuncStart(pc)
	if !found || pc < start {
		return 0, false, true
	}
	var code [maxPrologue + 16]byte
	if err := w.u.mem.read(start, code[:]); err != nil {
		return 0, false, true
	}
	mode := 64
	if w.u.word == 4 {
		mode = 32
	}
	push := uint64(0)
	for i := 0; i < maxPrologue; {
		if push == 0 && isEndbr(code[i:]) {
			i += 4
			continue
		}
		inst, err := x86asm.Decode(code[i:], mode)
		if err != nil {
			return 0, false, false
		}
		at := start + uint64(i)
		switch {
		case push == 0 && isPushBP(inst):
			push = at
		case push != 0 && isMovSPBP(inst):
			// The frame is set up once the mov has executed.
			switch {
			case pc <= push:
				return 0, true, true
			case pc <= at:
				return uint64(w.u.word), true, true
			}
			return 0, false, true
		case push == 0 && inst.Op == x86asm.NOP:
			// The fentry NOP and alignment padding keep sp.
		default:
			return 0, false, false
		}
		i += inst.Len
	}
	return 0, false, false
}

func isPushBP(inst x86asm.Inst) bool {
	return inst.Op == x86asm.PUSH && (inst.Args[0] == x86asm.RBP || inst.Args[0] == x86asm.EBP)
}

func isMovSPBP(inst x86asm.Inst) bool {
	return inst.Op == x86asm.MOV && (inst.Args[0] == x86asm.RBP && inst.Args[1] == x86asm.RSP ||
		inst.Args[0] == x86asm.EBP && inst.Args[1] == x86asm.ESP)
}

// isEndbr recognises ENDBR64 and ENDBR32 (f3 0f 1e fa/fb).
func isEndbr(b []byte) bool {
	return len(b) >= 4 && b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && (b[3] == 0xfa || b[3] == 0xfb)
}
