package unwind

import (
	"strings"
	"testing"
)

// x86_64 frame pointers: a plain frame, a pt_regs marked by an odd bp,
// the chain's end at bp 0.
func TestFramePointer64(t *testing.T) {
	mem := newFakeMem()
	u, err := New(Config{Mem: mem, Text: synthText})
	if err != nil {
		t.Fatal(err)
	}
	sp := uint64(stkTask + 0x3d00)
	bp1 := sp + 0x10
	regsAt := sp + 0x40
	bp2 := uint64(stkTask + 0x3e80)
	mem.put64(bp1, regsAt|1, fB+0x20) // the next "frame" is a pt_regs
	var pt [21]uint64
	pt[4], pt[16], pt[17], pt[19] = bp2, fC+0x30, 0x10, stkTask+0x3e00
	mem.put64(regsAt, pt[:]...)
	mem.put64(bp2, 0, fTop+5)
	tr := u.CPU(kernelRegs(fA+0x40, sp, bp1), taskStacks, SavedInterrupted)
	if tr.Method != MethodFramePointer {
		t.Errorf("method %v", tr.Method)
	}
	checkFrames(t, tr, []uint64{fA + 0x40, fB + 0x20, fC + 0x30, fTop + 5}, EndStack)
	if f := tr.Frames[2]; f.Regs == nil || f.Regs.Addr != regsAt || f.Call || f.How != FromFramePointer {
		t.Errorf("regs frame %+v", f)
	}
	for _, f := range tr.Frames {
		if !f.Reliable {
			t.Errorf("frame %d unreliable", f.Level)
		}
	}
	// A frame below the previous one: refused.
	mem.put64(bp2, sp, fTop+5)
	u, _ = New(Config{Mem: mem, Text: synthText})
	tr = u.CPU(kernelRegs(fA+0x40, sp, bp1), taskStacks, SavedInterrupted)
	if tr.End != EndError || !strings.Contains(tr.Err.Error(), "wrong direction") {
		t.Errorf("backwards chain: %v %v", tr.End, tr.Err)
	}
	// A return address that is not code ends with an error.
	mem.put64(bp2, 0, 0x1234)
	u, _ = New(Config{Mem: mem, Text: synthText})
	tr = u.CPU(kernelRegs(fA+0x40, sp, bp1), taskStacks, SavedInterrupted)
	if tr.End != EndError || !strings.Contains(tr.Err.Error(), "not known code") {
		t.Errorf("non-code return: %v %v", tr.End, tr.Err)
	}
}

// An ip in the prologue, before bp points at the new frame: the caller is
// found at sp.
func TestFramePointerPrologue(t *testing.T) {
	mem := newFakeMem()
	mem.write(fA, []byte{0xf3, 0x0f, 0x1e, 0xfa, 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x55, 0x48, 0x89, 0xe5, 0x90})
	u, _ := New(Config{Mem: mem, Text: synthText})
	sp := uint64(stkTask + 0x3d00)
	bp := uint64(stkTask + 0x3e00)
	mem.put64(bp, 0, fTop+5)
	mem.put64(sp, fB+0x20, 0)
	tr := u.CPU(kernelRegs(fA+9, sp, bp), taskStacks, SavedInterrupted) // before push %rbp
	checkFrames(t, tr, []uint64{fA + 9, fB + 0x20, fTop + 5}, EndStack)
	if tr.Frames[1].How != FromPrologue || tr.Frames[1].Slot != sp {
		t.Errorf("prologue frame %+v", tr.Frames[1])
	}
	tr = u.CPU(kernelRegs(fA+10, sp-8, bp), taskStacks, SavedInterrupted) // after the push, before the mov
	checkFrames(t, tr, []uint64{fA + 10, fB + 0x20, fTop + 5}, EndStack)
	tr = u.CPU(kernelRegs(fA+13, sp-8, bp), taskStacks, SavedInterrupted) // frame set up: the chain alone
	checkFrames(t, tr, []uint64{fA + 13, fTop + 5}, EndStack)
}

// i386: 4-byte words, a pt_regs marked by a bp with its top bit clear,
// the last task frame under the user-mode pt_regs at the stack's top.
func TestFramePointer32(t *testing.T) {
	const (
		g1, g2, g3 = 0xc1000100, 0xc1000200, 0xc1000300
		s32        = 0xc5000000
	)
	text := fakeText{{g1, 0x100}, {g2, 0x100}, {g3, 0x100}}
	stacks := StackSet{{StackTask, s32, s32 + 0x2000}}
	mem := newFakeMem()
	u, err := New(Config{Mem: mem, Text: text, WordSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	sp := uint32(s32 + 0x1d00)
	bp1 := sp + 0x10
	regsAt := sp + 0x40
	last := uint32(s32 + 0x2000 - 8 - ptRegs32Size - 8) // padding 8, pt_regs, the frame
	mem.put32(uint64(bp1), regsAt&0x7fffffff, g2+0x20)
	var pt [17]uint32
	pt[5], pt[12], pt[13], pt[15] = last, g3+0x30, 0x60, sp+0x100
	mem.put32(uint64(regsAt), pt[:]...)
	mem.put32(uint64(last), 0xbfff0000, g1+0x50) // user bp, return into the entry code
	var user [17]uint32
	user[12], user[13], user[15] = 0x08048000, 0x73, 0xbfff0000
	mem.put32(uint64(last)+8, user[:]...)
	tr := u.CPU(Regs{IP: g1 + 0x10, SP: uint64(sp), BP: uint64(bp1), CS: 0x60}, stacks, SavedInterrupted)
	checkFrames(t, tr, []uint64{g1 + 0x10, g2 + 0x20, g3 + 0x30, g1 + 0x50}, EndUser)
	if tr.UserRegs == nil || tr.UserRegs.Regs.IP != 0x08048000 || tr.UserRegs.Regs.SP != 0xbfff0000 {
		t.Errorf("user regs %+v", tr.UserRegs)
	}
	if f := tr.Frames[2]; f.Regs == nil || f.Regs.Addr != uint64(regsAt) || f.Regs.Regs.CS != 0x60 {
		t.Errorf("regs frame %+v", f)
	}
	if _, err := New(Config{Mem: mem, WordSize: 4, ORC: &ORC{}}); err == nil {
		t.Error("ORC with 4-byte words accepted")
	}
	// A sleeping i386 task: inactive_task_frame {si di bx bp ret_addr}.
	tsp := uint64(s32 + 0x1c00)
	mem.put32(tsp, 1, 2, 3, bp1, g3+0x40)
	u, _ = New(Config{Mem: mem, Text: text, WordSize: 4})
	tr = u.Task(TaskStart{ThreadSP: tsp, Frame: InactiveTaskFrame{Size: 20, BP: 12, RetAddr: 16}}, stacks)
	checkFrames(t, tr, []uint64{g3 + 0x40, g2 + 0x20, g3 + 0x30, g1 + 0x50}, EndUser)
}
