package unwind

import (
	"errors"
	"fmt"
)

// state is unwind_orc.c's struct unwind_state: where the unwind stands.
type state struct {
	pc, sp, bp uint64
	// bpKnown is false while bp is unknown (a scanned start): an entry
	// that needs it fails.
	bpKnown bool
	// signal: pc is an exact instruction (an interrupted context, a
	// signal-type entry's ip), looked up as is rather than pc-1.
	signal bool
	// regs is the pt_regs the last step found (nil after a call frame);
	// prevRegs the full pt_regs a partial one followed (an NMI in early
	// IRQ entry code), as unwind_orc.c's get_reg reads them.
	regs     *PtRegs
	fullRegs bool
	prevRegs *PtRegs
	reliable bool
}

// reg returns a register from the last full pt_regs, as get_reg does.
func (s *state) reg(r Reg) (uint64, bool) {
	src := s.prevRegs
	if s.regs != nil && s.fullRegs {
		src = s.regs
	}
	if src == nil {
		return 0, false
	}
	switch r {
	case RegBP:
		return src.Regs.BP, true
	case RegAX:
		return src.Regs.AX, true
	case RegDX:
		return src.Regs.DX, true
	case RegDI:
		return src.Regs.DI, true
	case RegR10:
		return src.Regs.R10, true
	case RegR13:
		return src.Regs.R13, true
	}
	return 0, false
}

// orcLoop steps until the trace ends, checking each move between stacks.
func (w *walker) orcLoop(s state) {
	for {
		r := w.orcStep(s)
		if r.end == EndUser {
			w.tr.UserRegs = r.next.regs
		}
		if r.end != 0 {
			w.finish(r.end, r.err)
			return
		}
		onKnown, err := w.moveTo(s.sp, r.next.sp, r.mayswitch)
		if err != nil {
			w.finish(EndError, fmt.Errorf("pc %#x: %w", s.pc, err))
			return
		}
		f := r.frame
		f.Stack = w.cur.Kind
		f.Reliable = s.reliable && (f.How == FromORC || f.How == FromCode) && onKnown && w.isText(f.PC)
		if !w.add(f) {
			return
		}
		s = r.next
		s.reliable = f.Reliable
	}
}

// stepResult is the outcome of one ORC step.
type stepResult struct {
	next  state
	frame Frame // the caller's frame (Stack and Reliable unset)
	// mayswitch: the step may move to another stack (see moveTo).
	mayswitch bool
	// end is set when the trace ends here; for EndUser next.regs holds
	// the user-mode pt_regs.
	end End
	err error
}

// orcStep is unwind_orc.c's unwind_next_frame: from the frame at s, find
// the caller's frame, or why the trace ends. It reads memory only (stack
// reads must lie on known stacks); the caller decides the move.
func (w *walker) orcStep(s state) stepResult {
	fail := func(format string, args ...any) stepResult {
		return stepResult{next: s, end: EndError, err: fmt.Errorf(format, args...)}
	}
	addr := s.pc
	if !s.signal {
		addr--
	}
	how := FromORC
	e, err := w.u.orc.Find(addr)
	if err != nil {
		if !errors.Is(err, errNoEntry) {
			return fail("pc %#x: %v", s.pc, err)
		}
		// Code no table covers: a module whose table was not given, or
		// generated code (BPF programs), for which unwind_orc.c guesses a
		// frame-pointer frame. Known code is analysed first.
		if !w.isText(addr) {
			return fail("pc %#x: no ORC entry and not known code", s.pc)
		}
		if ce, ok := w.codeEntry(addr); ok {
			e, how = ce, FromCode
		} else {
			e, how = fpEntry, FromORCGuess
		}
	}
	if e.Type == TypeUndefined && how == FromORC {
		// objtool skipped the function (STACK_FRAME_NON_STANDARD):
		// compute its frame from its code (see codeEntry).
		if ce, ok := w.codeEntry(addr); ok {
			e, how = ce, FromCode
		}
	}
	switch e.Type {
	case TypeUndefined:
		return fail("pc %#x: its ORC entry is undefined (%v)", s.pc, e)
	case TypeEndOfStack:
		return stepResult{next: s, end: EndStack}
	}

	// Find the previous frame's stack pointer, the CFA.
	var sp uint64
	indirect := false
	switch e.SPReg {
	case RegSP:
		sp = s.sp + uint64(int64(e.SPOffset))
	case RegSPIndirect:
		sp, indirect = s.sp, true
	case RegBP, RegBPIndirect:
		if !s.bpKnown {
			return fail("pc %#x: the CFA is bp-based and bp is unknown", s.pc)
		}
		sp = s.bp + uint64(int64(e.SPOffset))
		indirect = e.SPReg == RegBPIndirect
	default:
		v, ok := s.reg(e.SPReg)
		if !ok {
			return fail("pc %#x: the CFA is %s, which only a pt_regs gives", s.pc, e.SPReg)
		}
		sp = v
	}
	if indirect {
		v, err := w.stackWord(sp)
		if err != nil {
			return fail("pc %#x: indirect CFA: %v", s.pc, err)
		}
		sp = v
		// Since 5.12 (commit 87ccc826bf1c) the offset applies after the
		// dereference; kernels before used SP_INDIRECT only with
		// offset 0, so both readings agree.
		if e.SPReg == RegSPIndirect {
			sp += uint64(int64(e.SPOffset))
		}
	}

	next := state{bp: s.bp, bpKnown: s.bpKnown, signal: e.Signal}
	f := Frame{How: how}
	switch e.Type {
	case TypeCall:
		ip, err := w.stackWord(sp - 8)
		if err != nil {
			return fail("pc %#x: return address: %v", s.pc, err)
		}
		next.pc, next.sp = ip, sp
		f.PC, f.Call, f.SP, f.Slot = ip, !e.Signal, sp, sp-8
	case TypeRegs:
		var b [ptRegs64Size]byte
		if err := w.stackRead(sp, b[:]); err != nil {
			return fail("pc %#x: pt_regs: %v", s.pc, err)
		}
		regs := &PtRegs{Addr: sp, Regs: decodeRegs64(b[:])}
		if regs.Regs.UserMode() {
			return stepResult{next: state{regs: regs}, end: EndUser}
		}
		next.pc, next.sp, next.regs, next.fullRegs = regs.Regs.IP, regs.Regs.SP, regs, true
		f.PC, f.SP, f.Slot, f.Regs = regs.Regs.IP, regs.Regs.SP, sp+iretOffset64, regs
	case TypeRegsPartial:
		var b [iretSize64]byte
		if err := w.stackRead(sp, b[:]); err != nil {
			return fail("pc %#x: iret frame: %v", s.pc, err)
		}
		regs := &PtRegs{Addr: sp - iretOffset64, Partial: true, Regs: decodeIret64(b[:])}
		if regs.Regs.UserMode() {
			return stepResult{next: state{regs: regs}, end: EndUser}
		}
		if s.regs != nil && s.fullRegs {
			next.prevRegs = s.regs
		}
		next.pc, next.sp, next.regs = regs.Regs.IP, regs.Regs.SP, regs
		f.PC, f.SP, f.Slot, f.Regs = regs.Regs.IP, regs.Regs.SP, sp, regs
	default:
		return fail("pc %#x: ORC entry type %v", s.pc, e.Type)
	}

	// Find the previous frame's bp.
	switch e.BPReg {
	case RegUndefined:
		if v, ok := next.reg(RegBP); ok {
			next.bp, next.bpKnown = v, true
		}
	case RegPrevSP:
		v, err := w.stackWord(sp + uint64(int64(e.BPOffset)))
		if err != nil {
			return fail("pc %#x: saved bp: %v", s.pc, err)
		}
		next.bp, next.bpKnown = v, true
	case RegBP:
		if !s.bpKnown {
			return fail("pc %#x: bp is saved relative to bp, which is unknown", s.pc)
		}
		v, err := w.stackWord(s.bp + uint64(int64(e.BPOffset)))
		if err != nil {
			return fail("pc %#x: saved bp: %v", s.pc, err)
		}
		next.bp = v
	default:
		return fail("pc %#x: bp register %v", s.pc, e.BPReg)
	}

	mayswitch := indirect || e.SPReg == RegBP || e.Type != TypeCall
	return stepResult{next: next, frame: f, mayswitch: mayswitch}
}
