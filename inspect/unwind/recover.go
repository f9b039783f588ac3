package unwind

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// Frames that plain unwinding cannot reach from the saved registers, and
// how they are recovered soundly: a return address is a candidate only
// when it is code and follows a call instruction; it is accepted only when
// unwinding from it with ORC lands exactly on something already known (the
// NMI's pt_regs, the saved frame), each return address on the way
// following a call whose direct target, when it has one, does not
// contradict the function below it.
//
// Both searches keep the deepest accepted candidate. A stale return
// address (from a call that has returned) can still pass every check when
// it chains through the same slots; the call-target check rejects it
// where the live call is a direct call to another function, as when
// crash_nmi_callback's halt overwrote the slot of its earlier calls.

// nmiFrameWords is what asm_exc_nmi (arch/x86/entry/entry_64.S, since
// 3.3) keeps at the top of the NMI stack, top down: the hardware's iret
// frame (5 words), the saved rdx, the "NMI executing" word, the "iret"
// copy (5), the "outermost" copy (5, which is the ip..ss part of the
// pt_regs) and the rest of the pt_regs (16). The NMI entry clears "NMI
// executing" when it returns.
const (
	nmiFrameWords = 5 + 1 + 1 + 5 + 5 + 16
	nmiExecuting  = 16 + 5 + 5 // word index from the pt_regs
)

// recoverNMI checks whether the CPU was stopped inside an NMI whose
// pt_regs are the registers (the kdump shootdown's crash_nmi_callback
// saves the NMI's pt_regs as the CPU's prstatus), and if so adds the NMI
// handler's frames, found on the NMI stack. It returns the NMI's pt_regs,
// or nil.
func (w *walker) recoverNMI(r Regs) *PtRegs {
	if w.stacks == nil || w.u.word != 8 {
		return nil
	}
	nmi, ok := w.stacks.ByKind(StackNMI)
	if !ok || nmi.Hi-nmi.Lo < nmiFrameWords*8 || nmi.contains(r.SP, 1) {
		return nil
	}
	at := nmi.Hi - nmiFrameWords*8
	var b [nmiFrameWords * 8]byte
	if err := w.u.mem.read(at, b[:]); err != nil {
		return nil
	}
	pt := decodeRegs64(b[:])
	want := r
	want.DS, want.ES, want.FS, want.GS = 0, 0, 0, 0
	if binary.LittleEndian.Uint64(b[nmiExecuting*8:]) != 1 || pt != want {
		return nil
	}
	regs := &PtRegs{Addr: at, Regs: pt}
	w.tr.Notes = append(w.tr.Notes, fmt.Sprintf("the registers are the pt_regs the NMI entry saved at %#x, and the NMI stack says an NMI is executing: the CPU stopped in an NMI handler", at))
	chain := w.scanChain(nmi, at-8, goal{regsAt: at}, FromNMIScan)
	if len(chain) == 0 {
		w.tr.Notes = append(w.tr.Notes, "no return address on the NMI stack unwinds exactly to that pt_regs: the NMI handler's frames are not shown")
		return regs
	}
	w.tr.Notes = append(w.tr.Notes, fmt.Sprintf("%d frames of the NMI handler found on the NMI stack from %#x, each checked by ORC to unwind to that pt_regs", len(chain), chain[0].Slot))
	w.visited |= 1 << StackNMI
	for _, f := range chain {
		if !w.add(f) {
			break
		}
	}
	return regs
}

// recoverCallee handles registers the code saved itself (SavedByCode):
// when the word just below the saved sp is a return address into the same
// function, after a direct call, and ORC unwinds it to the same caller
// frame as the registers, the function is the same activation and made
// that call after saving the registers; the callee's frames are found
// below and must unwind exactly to that slot. On a kdump's panicking CPU
// this shows machine_kexec (__crash_kexec's last call, which never
// returns) where crash_setup_regs saved the registers earlier.
func (w *walker) recoverCallee(r Regs, start state) (state, bool) {
	note := func(format string, args ...any) (state, bool) {
		w.tr.Notes = append(w.tr.Notes, "no frames recovered after the saved registers: "+fmt.Sprintf(format, args...))
		return start, false
	}
	slot := r.SP - 8
	ret, err := w.stackWord(slot)
	if err != nil {
		return note("word below sp: %v", err)
	}
	fn, ok1 := w.funcStart(ret)
	fnIP, ok2 := w.funcStart(r.IP)
	if !ok1 || !ok2 || fn != fnIP {
		return note("the word below sp (%#x) is not a return address into the function of ip %#x", ret, r.IP)
	}
	target, direct, ok := w.followsCall(ret)
	if !ok || !direct || w.isThunk(target) {
		return note("the return address %#x does not follow a direct call", ret)
	}
	viaRet := w.orcStep(state{pc: ret, sp: r.SP, bp: r.BP, bpKnown: true})
	viaRegs := w.orcStep(start)
	if viaRet.end != 0 || viaRegs.end != 0 || viaRet.next.sp != viaRegs.next.sp || viaRet.next.pc != viaRegs.next.pc {
		return note("the return address %#x and ip %#x do not unwind to the same caller frame", ret, r.IP)
	}
	chain := w.scanChain(w.cur, slot-8, goal{slot: slot, target: target}, FromCallScan)
	if len(chain) == 0 {
		return note("no frame of the function called at %#x unwinds exactly to its return address at %#x", ret, slot)
	}
	reliable := start.reliable && w.isText(r.IP)
	for i := range chain {
		chain[i].Reliable = chain[i].Reliable && reliable
	}
	self := Frame{PC: ret, Call: true, SP: r.SP, Slot: slot, Stack: w.cur.Kind, How: FromCallScan, Reliable: reliable && w.isText(ret)}
	below := fmt.Sprintf("%d frames", len(chain))
	if len(chain) == 1 {
		below = "1 frame"
	}
	w.tr.Notes = append(w.tr.Notes, fmt.Sprintf("the registers were saved at ip %#x; the same activation later called %#x (return address %#x at %#x), which did not return: %s found below and checked by ORC",
		r.IP, target, ret, slot, below))
	for _, f := range append(chain, self) {
		if !w.add(f) {
			return start, true
		}
	}
	return state{pc: ret, sp: r.SP, bp: r.BP, bpKnown: true, reliable: self.Reliable}, true
}

// goal is what a scanned chain must reach: a REGS step whose pt_regs is
// at regsAt, or a call step that reads its return address from slot (the
// link there must be a direct call to target's function).
type goal struct {
	regsAt uint64
	slot   uint64
	target uint64
}

// maxScanSteps bounds the ORC steps one scan may take over all its
// candidates (a stack of 2048 words, each unwinding many frames, would
// otherwise cost millions of steps on hostile data).
const maxScanSteps = 8192

// scanChain scans the stack down from the slot at from and returns the
// frames of the deepest candidate that reaches the goal (nil if none).
func (w *walker) scanChain(st Stack, from uint64, g goal, how How) []Frame {
	var best []Frame
	w.scanBudget = maxScanSteps
	for s := from; s >= st.Lo && st.contains(s, 8) && w.scanBudget > 0; s -= 8 {
		pc, err := w.u.mem.word(s, 8)
		if err != nil || !w.isText(pc) {
			continue
		}
		if _, _, ok := w.followsCall(pc); !ok {
			continue
		}
		if frames := w.tryChain(st, s, pc, g, how); frames != nil {
			best = frames
		}
		if s < 8 {
			break
		}
	}
	return best
}

// tryChain unwinds from a candidate return address pc at slot s with call
// frames only, on one stack, and returns its frames if it reaches the
// goal.
func (w *walker) tryChain(st Stack, s, pc uint64, g goal, how How) []Frame {
	frames := []Frame{{PC: pc, Call: true, SP: s + 8, Slot: s, Stack: st.Kind, How: how, Reliable: true}}
	sp, bp, bpKnown := s+8, uint64(0), false
	for range w.u.maxFrames {
		if w.scanBudget--; w.scanBudget < 0 {
			return nil
		}
		e, err := w.u.orc.Find(pc - 1)
		if err != nil || e.Type != TypeCall && e.Type != TypeRegs {
			return nil
		}
		var cfa uint64
		switch {
		case e.SPReg == RegSP:
			cfa = sp + uint64(int64(e.SPOffset))
		case e.SPReg == RegBP && bpKnown:
			cfa = bp + uint64(int64(e.SPOffset))
		default:
			return nil
		}
		if e.Type == TypeRegs {
			if g.regsAt != 0 && cfa == g.regsAt {
				return frames
			}
			return nil
		}
		if cfa <= sp || !st.contains(cfa-8, 8) {
			return nil
		}
		slot := cfa - 8
		if g.slot != 0 && slot > g.slot || g.regsAt != 0 && cfa > g.regsAt {
			return nil
		}
		ret, err := w.u.mem.word(slot, 8)
		if err != nil || !w.isText(ret) {
			return nil
		}
		switch w.callLink(ret, pc) {
		case linkNone, linkContradicted:
			return nil
		case linkUnknown:
			if g.slot != 0 && slot == g.slot {
				return nil
			}
		}
		if g.slot != 0 && slot == g.slot {
			if start, ok := w.funcStart(pc); !ok || start != g.target {
				return nil
			}
			return frames
		}
		switch e.BPReg {
		case RegPrevSP:
			v, err := w.u.mem.word(cfa+uint64(int64(e.BPOffset)), 8)
			if err != nil {
				return nil
			}
			bp, bpKnown = v, true
		case RegBP:
			if !bpKnown {
				return nil
			}
			v, err := w.u.mem.word(bp+uint64(int64(e.BPOffset)), 8)
			if err != nil {
				return nil
			}
			bp = v
		}
		frames = append(frames, Frame{PC: ret, Call: true, SP: cfa, Slot: slot, Stack: st.Kind, How: how, Reliable: true})
		pc, sp = ret, cfa
	}
	return nil
}

func (w *walker) funcStart(pc uint64) (uint64, bool) {
	if w.u.text == nil {
		return 0, false
	}
	return w.u.text.FuncStart(pc)
}

// link is what the call before a return address says about the frame
// below it.
type link uint8

const (
	linkNone         link = iota // no call instruction ends at the return address
	linkUnknown                  // an indirect call, or a call through a thunk
	linkVerified                 // a direct call to the function below
	linkContradicted             // a direct call to another function
)

// callLink classifies the call before ret against deeperPC, a pc of the
// frame that call is supposed to have made. A direct call to a thunk
// (retpolines: __x86_indirect_thunk_*), or into the padding just before
// the function (call-depth tracking thunks, 6.2+), says nothing. A tail
// call (the callee jumped to another function) also looks contradicted:
// the search then loses that candidate, never gains a wrong one.
func (w *walker) callLink(ret, deeperPC uint64) link {
	target, direct, ok := w.followsCall(ret)
	if !ok {
		return linkNone
	}
	fn, ok := w.funcStart(deeperPC)
	if !direct || !ok {
		return linkUnknown
	}
	switch {
	case target == fn:
		return linkVerified
	case target < fn && fn-target <= 64, w.isThunk(target):
		return linkUnknown
	}
	return linkContradicted
}

// callSite is what followsCall found before a return address.
type callSite struct {
	target     uint64
	direct, ok bool
}

// followsCall decodes the instruction that ends at ret: a call, direct
// (e8 rel32: its target) or indirect (ff /2). Answers are remembered for
// the walker's life.
func (w *walker) followsCall(ret uint64) (target uint64, direct bool, ok bool) {
	if c, seen := w.calls[ret]; seen {
		return c.target, c.direct, c.ok
	}
	target, direct, ok = w.decodeCallBefore(ret)
	if w.calls == nil {
		w.calls = map[uint64]callSite{}
	}
	if len(w.calls) < 1<<16 {
		w.calls[ret] = callSite{target, direct, ok}
	}
	return target, direct, ok
}

func (w *walker) decodeCallBefore(ret uint64) (target uint64, direct bool, ok bool) {
	const back = 16
	if ret < back {
		return 0, false, false
	}
	var code [back]byte
	if err := w.u.mem.read(ret-back, code[:]); err != nil {
		// The call may start on a readable page after an unreadable
		// one: try the longest direct call alone.
		if err := w.u.mem.read(ret-5, code[back-5:]); err != nil {
			return 0, false, false
		}
	}
	mode := 64
	if w.u.word == 4 {
		mode = 32
	}
	if code[back-5] == 0xe8 {
		if inst, err := x86asm.Decode(code[back-5:], mode); err == nil && inst.Op == x86asm.CALL && inst.Len == 5 {
			rel := int64(int32(binary.LittleEndian.Uint32(code[back-4:])))
			t := ret + uint64(rel)
			if mode == 32 {
				t &= 0xffffffff
			}
			return t, true, true
		}
	}
	for n := 2; n <= 10; n++ {
		inst, err := x86asm.Decode(code[back-n:], mode)
		if err != nil || inst.Op != x86asm.CALL || inst.Len != n {
			continue
		}
		switch inst.Args[0].(type) {
		case x86asm.Reg, x86asm.Mem:
			return 0, false, true
		}
	}
	return 0, false, false
}

// isThunk says whether code at a call target only passes control on: its
// first instruction (after ENDBR) jumps to another function or through a
// register (a jump thunk, an LFENCE retpoline after its LFENCE), or calls
// into itself (a retpoline: call .Ldo_rop; ...; mov %reg,(%rsp); ret). A
// jump within the function (a static branch, as native_halt's over VERW)
// is ordinary code.
func (w *walker) isThunk(target uint64) bool {
	var code [20]byte
	if err := w.u.mem.read(target, code[:]); err != nil {
		return false
	}
	at, b := target, code[:]
	if isEndbr(b) {
		at, b = at+4, b[4:]
	}
	mode := 64
	if w.u.word == 4 {
		mode = 32
	}
	inst, err := x86asm.Decode(b, mode)
	if err != nil {
		return false
	}
	rel, direct := inst.Args[0].(x86asm.Rel)
	dest := at + uint64(inst.Len) + uint64(int64(rel))
	switch inst.Op {
	case x86asm.LFENCE:
		return true
	case x86asm.JMP:
		if !direct {
			return true
		}
		fn, ok := w.funcStart(dest)
		return !ok || fn != target
	case x86asm.CALL:
		return direct && dest > target && dest-target < 64
	}
	return false
}
