package unwind

import (
	"encoding/binary"
	"strings"
	"testing"
)

// A synthetic kernel: functions, an ORC table (v3) and stacks in a fake
// memory.
const (
	tBase = 0xffffffff81000000
	fA    = tBase + 0x000  // saves bp: sp+16, bp at CFA-16
	fB    = tBase + 0x100  // sp+8
	fC    = tBase + 0x200  // sp+24
	fTop  = tBase + 0x300  // end of stack
	fE    = tBase + 0x400  // entry code: a pt_regs at sp
	fI    = tBase + 0x500  // calls a handler on the IRQ stack (stack swizzle at +0x20)
	fH    = tBase + 0x600  // sp+8
	fU    = tBase + 0x700  // undefined
	fLoop = tBase + 0x800  // a broken entry: sp+0
	fP    = tBase + 0x900  // an iret frame at sp
	fJ    = tBase + 0xa00  // CFA from bp (5.8–5.11 asm_call_on_stack)
	fX    = tBase + 0x1000 // no ORC entry: code analysis

	stkTask = 0xffffc90000010000
	stkIRQ  = 0xffffc90000100000
	stkNMI  = 0xfffffe0000010000
	ipTable = 0xffffffff82000000
)

func synthRows() []orcRow {
	return []orcRow{
		{fA, eCall8}, {fA + 1, eCall16BP}, {fB, eCall8}, {fC, Entry{Type: TypeCall, SPReg: RegSP, SPOffset: 24}},
		{fTop, eEnd}, {fE, eRegs}, {fI, eCall8}, {fI + 0x20, eSwizzle}, {fI + 0x30, eCall8}, {fH, eCall8},
		{fU, eUndef}, {fLoop, Entry{Type: TypeCall, SPReg: RegSP}}, {fP, eRegsIret}, {fP + 0x80, eUndef},
		{fJ, eCallBPBase}, {fJ + 0x80, eUndef},
	}
}

var synthText = fakeText{{fA, 0x100}, {fB, 0x100}, {fC, 0x100}, {fTop, 0x100}, {fE, 0x100}, {fI, 0x100}, {fH, 0x100},
	{fU, 0x100}, {fLoop, 0x100}, {fP, 0x100}, {fJ, 0x100}, {fX, 0x100}}

func synthUnwinder(t *testing.T, mem *fakeMem, rows []orcRow) *Unwinder {
	t.Helper()
	ip, raw := encodeTable(t, LayoutV3, ipTable, rows)
	tab, err := NewTable("vmlinux", LayoutV3, ipTable, ip, raw)
	if err != nil {
		t.Fatal(err)
	}
	u, err := New(Config{Mem: mem, ORC: NewORC(tab), Text: synthText})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func kernelRegs(ip, sp, bp uint64) Regs {
	return Regs{IP: ip, SP: sp, BP: bp, CS: 0x10, SS: 0x18, Flags: 0x246}
}

var taskStacks = StackSet{{StackTask, stkTask, stkTask + 0x4000}, {StackIRQ, stkIRQ, stkIRQ + 0x4000}, {StackNMI, stkNMI, stkNMI + 0x2000}}

// checkFrames compares PCs, and the stacks and ways when given.
func checkFrames(t *testing.T, tr *Trace, pcs []uint64, end End) {
	t.Helper()
	var got []uint64
	for _, f := range tr.Frames {
		got = append(got, f.PC)
	}
	if len(got) != len(pcs) || tr.End != end {
		t.Fatalf("frames %#x end %v (%v), want %#x end %v", got, tr.End, tr.Err, pcs, end)
	}
	for i := range pcs {
		if got[i] != pcs[i] || tr.Frames[i].Level != i {
			t.Fatalf("frame %d: %#x, want %#x (all %#x)", i, got[i], pcs[i], got)
		}
	}
}

// The call chain on the task stack, as __unwind_start from regs.
func TestORCCallChain(t *testing.T) {
	mem := newFakeMem()
	u := synthUnwinder(t, mem, synthRows())
	sp := uint64(stkTask + 0x3e00)
	mem.put64(sp, 0xdead0001, fB+0x20, fC+0x30, 0, 0, fTop+5) // saved bp, returns
	tr := u.CPU(kernelRegs(fA+0x10, sp, 0x1234), taskStacks, SavedInterrupted)
	checkFrames(t, tr, []uint64{fA + 0x10, fB + 0x20, fC + 0x30, fTop + 5}, EndStack)
	want := []struct {
		sp, slot uint64
		how      How
		call     bool
	}{{sp, 0, FromRegisters, false}, {sp + 16, sp + 8, FromORC, true}, {sp + 24, sp + 16, FromORC, true}, {sp + 48, sp + 40, FromORC, true}}
	for i, w := range want {
		f := tr.Frames[i]
		if f.SP != w.sp || f.Slot != w.slot || f.How != w.how || f.Call != w.call || !f.Reliable || f.Stack != StackTask {
			t.Errorf("frame %d: %+v, want %+v", i, f, w)
		}
	}
	if len(tr.Reliable()) != 4 {
		t.Errorf("reliable frames %d", len(tr.Reliable()))
	}
}

// An interrupt: the handler on the IRQ stack, the stack swizzle back to
// the task stack, the entry code's pt_regs, the interrupted code.
func TestORCInterruptStackSwitch(t *testing.T) {
	mem := newFakeMem()
	u := synthUnwinder(t, mem, synthRows())
	isp := uint64(stkIRQ + 0x3f00)
	tsp := uint64(stkTask + 0x3d00)
	mem.put64(isp, fI+0x25, tsp) // return into fI, then the saved task sp at the IRQ stack's top
	mem.put64(tsp, fE+0x15)      // fI's caller: the entry code
	regsAt := tsp + 8
	var pt [21]uint64
	pt[4] = 0xb0b0 // bp
	pt[16], pt[17], pt[18], pt[19], pt[20] = fB+0x20, 0x10, 0x246, stkTask+0x3e10, 0x18
	mem.put64(regsAt, pt[:]...)
	mem.put64(stkTask+0x3e10, fC+0x30, 0, 0, fTop+5)
	tr := u.CPU(kernelRegs(fH+8, isp, 0), taskStacks, SavedInterrupted)
	checkFrames(t, tr, []uint64{fH + 8, fI + 0x25, fE + 0x15, fB + 0x20, fC + 0x30, fTop + 5}, EndStack)
	stacks := []StackKind{StackIRQ, StackIRQ, StackTask, StackTask, StackTask, StackTask}
	for i, k := range stacks {
		if tr.Frames[i].Stack != k || !tr.Frames[i].Reliable {
			t.Errorf("frame %d on %v reliable %v, want %v", i, tr.Frames[i].Stack, tr.Frames[i].Reliable, k)
		}
	}
	f := tr.Frames[3]
	if f.Regs == nil || f.Regs.Addr != regsAt || f.Regs.Regs.BP != 0xb0b0 || f.Call || f.Slot != regsAt+iretOffset64 {
		t.Errorf("regs frame %+v regs %+v", f, f.Regs)
	}

	// A pt_regs of user mode ends the kernel stack (a system call).
	pt[17] = 0x33
	mem.put64(regsAt, pt[:]...)
	u = synthUnwinder(t, mem, synthRows()) // a new page cache: memory changed
	tr = u.CPU(kernelRegs(fH+8, isp, 0), taskStacks, SavedInterrupted)
	checkFrames(t, tr, []uint64{fH + 8, fI + 0x25, fE + 0x15}, EndUser)
	if tr.UserRegs == nil || tr.UserRegs.Regs.IP != fB+0x20 || tr.UserRegs.Addr != regsAt {
		t.Errorf("user regs %+v", tr.UserRegs)
	}

	// Back to a stack already unwound: refused.
	pt[17], pt[19] = 0x10, stkIRQ+0x3f80
	mem.put64(regsAt, pt[:]...)
	u = synthUnwinder(t, mem, synthRows())
	tr = u.CPU(kernelRegs(fH+8, isp, 0), taskStacks, SavedInterrupted)
	if tr.End != EndError || !strings.Contains(tr.Err.Error(), "already unwound") {
		t.Errorf("revisit: %v %v", tr.End, tr.Err)
	}
}

// A frame whose CFA comes from bp may move to another stack (5.8–5.11's
// asm_call_on_stack kept the old stack in bp).
func TestORCSwitchThroughBP(t *testing.T) {
	mem := newFakeMem()
	u := synthUnwinder(t, mem, synthRows())
	isp, tsp := uint64(stkIRQ+0x3f00), uint64(stkTask+0x3d00)
	mem.put64(isp, fJ+0x10)
	mem.put64(tsp, 0xbeef, fTop+5)
	tr := u.CPU(kernelRegs(fH+8, isp, tsp), taskStacks, SavedInterrupted)
	checkFrames(t, tr, []uint64{fH + 8, fJ + 0x10, fTop + 5}, EndStack)
	if tr.Frames[2].Stack != StackTask || !tr.Frames[2].Reliable {
		t.Errorf("after the switch: %+v", tr.Frames[2])
	}
}

// A call frame cannot move to another stack: only entry frames and saved
// stack pointers do.
func TestORCSwitchNeedsEntryFrame(t *testing.T) {
	mem := newFakeMem()
	u := synthUnwinder(t, mem, synthRows())
	adjacent := StackSet{{StackIRQ, stkIRQ, stkIRQ + 0x4000}, {StackTask, stkIRQ + 0x4000, stkIRQ + 0x8000}}
	sp := uint64(stkIRQ + 0x4000 - 0x10)
	mem.put64(sp, 0, 0, 0, 0) // fC's return slot lies on the task stack
	mem.put64(sp+16, fB+0x20)
	tr := u.CPU(kernelRegs(fC+0x10, sp, 0), adjacent, SavedInterrupted)
	if tr.End != EndError || !strings.Contains(tr.Err.Error(), "without an entry frame") || len(tr.Frames) != 1 {
		t.Errorf("call frame switching stacks: %v %v %d", tr.End, tr.Err, len(tr.Frames))
	}
}

// An iret frame (REGS_PARTIAL): ip and sp from it, the other registers
// from the full pt_regs before it.
func TestORCPartialRegs(t *testing.T) {
	mem := newFakeMem()
	u := synthUnwinder(t, mem, synthRows())
	sp := uint64(stkTask + 0x3c00)
	mem.put64(sp, fB+0x20, 0x10, 0x246, stkTask+0x3e10, 0x18)
	mem.put64(stkTask+0x3e10, fC+0x30, 0, 0, fTop+5)
	tr := u.CPU(kernelRegs(fP+8, sp, 0x77), taskStacks, SavedInterrupted)
	checkFrames(t, tr, []uint64{fP + 8, fB + 0x20, fC + 0x30, fTop + 5}, EndStack)
	if r := tr.Frames[1].Regs; r == nil || !r.Partial || r.Addr != sp-iretOffset64 || tr.Frames[1].Call {
		t.Errorf("iret frame %+v", tr.Frames[1])
	}
}

// Undefined entries, broken entries, missing memory: an error, the frames
// so far kept.
func TestORCErrors(t *testing.T) {
	mem := newFakeMem()
	u := synthUnwinder(t, mem, synthRows())
	sp := uint64(stkTask + 0x3e00)
	mem.put64(sp, fU+0x10, fLoop+0x10)
	tr := u.CPU(kernelRegs(fB+4, sp, 0), taskStacks, SavedInterrupted)
	checkFrames(t, tr, []uint64{fB + 4, fU + 0x10}, EndError)
	if !strings.Contains(tr.Err.Error(), "undefined") {
		t.Errorf("undefined entry: %v", tr.Err)
	}
	// sp+0: the stack does not grow.
	tr = u.CPU(kernelRegs(fLoop+4, sp+8, 0), taskStacks, SavedInterrupted)
	if tr.End != EndError || !strings.Contains(tr.Err.Error(), "wrong direction") {
		t.Errorf("loop: %v %v", tr.End, tr.Err)
	}
	// Code no table covers and no Text knows.
	tr = u.CPU(kernelRegs(0xffffffffa0000000, sp, 0), taskStacks, SavedInterrupted)
	if tr.End != EndError || tr.Frames[0].Reliable || !strings.Contains(tr.Err.Error(), "not known code") {
		t.Errorf("unknown code: %v %v", tr.End, tr.Err)
	}
	// A stack page that is not in the dump.
	tr = u.CPU(kernelRegs(fB+4, stkTask+0x1000, 0), taskStacks, SavedInterrupted)
	if tr.End != EndError || !strings.Contains(tr.Err.Error(), "return address") {
		t.Errorf("absent stack: %v %v", tr.End, tr.Err)
	}
	// ip 0, a call through a NULL pointer: the null entry finds the
	// caller at sp.
	mem.put64(sp, fC+0x30, 0, 0, fTop+5)
	u = synthUnwinder(t, mem, synthRows())
	tr = u.CPU(kernelRegs(0, sp, 0), taskStacks, SavedInterrupted)
	checkFrames(t, tr, []uint64{0, fC + 0x30, fTop + 5}, EndStack)
	if tr.Frames[0].Reliable {
		t.Error("ip 0 is reliable")
	}
	// User-mode registers: no kernel frames.
	tr = u.CPU(Regs{IP: 0x400000, SP: 0x7ffc0000, CS: 0x33}, taskStacks, SavedInterrupted)
	if len(tr.Frames) != 0 || tr.End != EndUser || tr.UserRegs == nil {
		t.Errorf("user mode: %+v", tr)
	}
}

// Without stack bounds the unwinder still walks, within a bounded window,
// but no frame is reliable; the frame limit stops long chains.
func TestORCDegradedAndLimit(t *testing.T) {
	mem := newFakeMem()
	u := synthUnwinder(t, mem, synthRows())
	sp := uint64(stkTask + 0x3e00)
	mem.put64(sp, 0xdead0001, fB+0x20, fC+0x30, 0, 0, fTop+5)
	tr := u.CPU(kernelRegs(fA+0x10, sp, 0), nil, SavedInterrupted)
	checkFrames(t, tr, []uint64{fA + 0x10, fB + 0x20, fC + 0x30, fTop + 5}, EndStack)
	if len(tr.Reliable()) != 0 || len(tr.Notes) == 0 {
		t.Errorf("degraded: %d reliable, notes %q", len(tr.Reliable()), tr.Notes)
	}
	for i := uint64(0); i < 512; i++ {
		mem.put64(stkTask+0x1000+8*i, fB+0x20)
	}
	u2, _ := New(Config{Mem: mem, ORC: u.orc, Text: synthText, MaxFrames: 16})
	tr = u2.CPU(kernelRegs(fB+4, stkTask+0x1000, 0), taskStacks, SavedInterrupted)
	if len(tr.Frames) != 16 || tr.End != EndLimit {
		t.Errorf("limit: %d frames, %v", len(tr.Frames), tr.End)
	}
}

// A sleeping task: inactive_task_frame at thread.sp (x86_64 6.1: r15 r14
// r13 r12 bx bp ret_addr).
func TestORCTask(t *testing.T) {
	mem := newFakeMem()
	u := synthUnwinder(t, mem, synthRows())
	tsp := uint64(stkTask + 0x3d00)
	frame := InactiveTaskFrame{Size: 56, BP: 40, RetAddr: 48}
	mem.put64(tsp, 15, 14, 13, 12, 11, 0xbbbb, fA+0x10)
	sp := tsp + 56
	mem.put64(sp, 0xdead0001, fB+0x20, fC+0x30, 0, 0, fTop+5)
	tr := u.Task(TaskStart{ThreadSP: tsp, Frame: frame}, taskStacks)
	checkFrames(t, tr, []uint64{fA + 0x10, fB + 0x20, fC + 0x30, fTop + 5}, EndStack)
	if f := tr.Frames[0]; f.How != FromTaskFrame || !f.Call || f.Slot != tsp+48 || f.SP != sp || !f.Reliable {
		t.Errorf("task frame %+v", f)
	}
	// A new task returns to ret_from_fork: a signal frame.
	tr = u.Task(TaskStart{ThreadSP: tsp, Frame: frame, RetFromFork: fA + 0x10}, taskStacks)
	if tr.Frames[0].Call {
		t.Error("ret_from_fork frame is a call")
	}
	tr = u.Task(TaskStart{ThreadSP: tsp, Frame: InactiveTaskFrame{Size: 8, BP: 40, RetAddr: 48}}, taskStacks)
	if tr.End != EndError || len(tr.Frames) != 0 {
		t.Errorf("bad layout: %v", tr.End)
	}
}

// A function with no ORC data: its frame from its code.
func TestCodeAnalysis(t *testing.T) {
	mem := newFakeMem()
	u := synthUnwinder(t, mem, synthRows())
	code := []byte{
		0x0f, 0x1f, 0x44, 0x00, 0x00, // nopl (fentry)
		0x55,                   // push %rbp          (+5)
		0x53,                   // push %rbx          (+6)
		0x48, 0x83, 0xec, 0x20, // sub $0x20,%rsp     (+7)
		0x74, 0x04, // je +4 → +0x11             (+0xb)
		0x9c,             // pushfq (+0xd)
		0x8f, 0x04, 0x24, // popq (%rsp) (+0xe): a pop into memory
		0xe8, 0x00, 0x00, 0x00, 0x00, // call (+0x11) → returns to +0x16
		0x48, 0x83, 0xc4, 0x20, // add $0x20,%rsp
		0x5b, 0x5d, 0xc3, // pop %rbx; pop %rbp; ret
	}
	mem.write(fX, code)
	sp := uint64(stkTask + 0x3e00)
	mem.put64(sp, fX+0x16)
	mem.put64(sp+8+0x20, 0x5555, 0xbbbb, fTop+5) // rbx, rbp, return
	tr := u.CPU(kernelRegs(fH+4, sp, 0), taskStacks, SavedInterrupted)
	checkFrames(t, tr, []uint64{fH + 4, fX + 0x16, fTop + 5}, EndStack)
	if f := tr.Frames[2]; f.How != FromCode || !f.Reliable || f.SP != sp+8+0x38 {
		t.Errorf("code frame %+v", f)
	}
	e, ok := (&walker{u: u}).codeEntry(fX + 0x15)
	if !ok || e.SPOffset != 0x38 || e.BPReg != RegPrevSP || e.BPOffset != -16 {
		t.Errorf("code entry %v %v", e, ok)
	}
	// Paths that disagree: refused.
	code[0xd], code[0xe], code[0xf], code[0x10] = 0x9c, 0x90, 0x90, 0x90 // pushfq without pop
	mem.write(fX, code)
	u = synthUnwinder(t, mem, synthRows())
	if e, ok := (&walker{u: u}).codeEntry(fX + 0x15); ok {
		t.Errorf("ambiguous code gave %v", e)
	}
	// sp from a register: refused.
	mem.write(fX+7, []byte{0x48, 0x89, 0xc4, 0x90}) // mov %rax,%rsp
	u = synthUnwinder(t, mem, synthRows())
	if e, ok := (&walker{u: u}).codeEntry(fX + 0x15); ok {
		t.Errorf("sp from a register gave %v", e)
	}
}

// The NMI stack of an NMI in progress: the handler's frames are found and
// put first.
func TestNMIRecovery(t *testing.T) {
	mem := newFakeMem()
	u := synthUnwinder(t, mem, synthRows())
	// Calls for the return addresses to follow: fE+0x10 calls fB, fB+0x1b
	// calls fH, fA+0x2b calls fC.
	putCall(mem, fE+0x10, fB)
	putCall(mem, fB+0x1b, fH)
	putCall(mem, fA+0x2b, fC)
	top := uint64(stkNMI + 0x2000)
	at := top - nmiFrameWords*8
	r := kernelRegs(fB+0x20, stkTask+0x3e10, 0x42)
	r.AX, r.OrigAX = 7, ^uint64(0)
	var words [nmiFrameWords]uint64
	words[4], words[10], words[15] = r.BP, r.AX, r.OrigAX
	words[16], words[17], words[18], words[19], words[20] = r.IP, r.CS, r.Flags, r.SP, r.SS
	words[nmiExecuting] = 1
	mem.put64(at, words[:]...)
	mem.put64(at-8, fE+0x15)  // entry code called the handler
	mem.put64(at-16, fB+0x20) // the handler, halted after its call at fB+0x1b
	mem.put64(at-40, fA+0x30) // stale: fA's frame does not end at the pt_regs
	mem.put64(stkTask+0x3e10, fC+0x30, 0, 0, fTop+5)
	tr := u.CPU(r, taskStacks, SavedInterrupted)
	checkFrames(t, tr, []uint64{fB + 0x20, fE + 0x15, fB + 0x20, fC + 0x30, fTop + 5}, EndStack)
	for i, how := range []How{FromNMIScan, FromNMIScan, FromRegisters, FromORC, FromORC} {
		if f := tr.Frames[i]; f.How != how || !f.Reliable {
			t.Errorf("frame %d: %v reliable %v, want %v", i, f.How, f.Reliable, how)
		}
	}
	if f := tr.Frames[2]; f.Regs == nil || f.Regs.Addr != at || f.Stack != StackTask {
		t.Errorf("interrupted frame %+v", f)
	}
	// Not executing any more: the pt_regs is stale, nothing recovered.
	words[nmiExecuting] = 0
	mem.put64(at, words[:]...)
	u = synthUnwinder(t, mem, synthRows())
	tr = u.CPU(r, taskStacks, SavedInterrupted)
	checkFrames(t, tr, []uint64{fB + 0x20, fC + 0x30, fTop + 5}, EndStack)
}

// putCall writes a direct call (e8 rel32) at va to target.
func putCall(mem *fakeMem, va, target uint64) {
	var b [5]byte
	b[0] = 0xe8
	binary.LittleEndian.PutUint32(b[1:], uint32(int32(int64(target-(va+5)))))
	mem.write(va, b[:])
}
