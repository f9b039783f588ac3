package present

import (
	"strings"
	"testing"

	"dumpscope/model"
)

func TestTaskRow(t *testing.T) {
	got := strings.Join(TaskRow(model.Task{PID: 2, PPID: 0, CPU: 1, Task: 0xffff888001234000, State: "IN", Comm: "kthreadd", KernelThread: true, Active: true}), "|")
	if got != "> 2|0|1|ffff888001234000|IN|[kthreadd]" {
		t.Errorf("%s", got)
	}
	if got := Printable("a\x1b[2Jb\xff"); got != `a\x1b[2Jb\xff` {
		t.Errorf("%s", got)
	}
}

func TestFrameLine(t *testing.T) {
	slot := model.VirtAddr(0xffffc90000013bf8)
	f := model.Frame{Level: 3, PC: 0xffffffff8147754f, SP: 0xffffc90000013c00, Slot: &slot, Location: "machine_kexec+0x1bf/0x220", Reliable: true, How: "call-scan"}
	if got := FrameLine(f); got != " #3 [ffffc90000013bf8] machine_kexec+0x1bf/0x220 at ffffffff8147754f" {
		t.Errorf("%q", got)
	}
	f.Reliable, f.Level, f.Slot = false, 12, nil
	if got := FrameLine(f); got != "#12 [ffffc90000013c00] ? machine_kexec+0x1bf/0x220 at ffffffff8147754f" {
		t.Errorf("%q", got)
	}
	if FrameHow(f) == "" || FrameHow(model.Frame{How: "orc"}) != "" {
		t.Error("FrameHow")
	}
}

func TestPtRegsLines(t *testing.T) {
	r := &model.PtRegs{Registers: map[string]model.Hex{"rip": 0xffffffff81000000, "rsp": 0x10, "rflags": 0x246, "cs": 0x10, "ss": 0x18}}
	got := strings.Join(PtRegsLines(r), "\n")
	if got != "RIP: ffffffff81000000  RSP: 0000000000000010  RFLAGS: 00000246\nCS: 0010  SS: 0018" {
		t.Errorf("%q", got)
	}
	r = &model.PtRegs{UserMode: true, Registers: map[string]model.Hex{"eip": 0xb7f0d545, "cs": 0x73}}
	if got := strings.Join(PtRegsLines(r), "\n"); got != "EIP: b7f0d545  CS: 0073" {
		t.Errorf("%q", got)
	}
}

func TestStructText(t *testing.T) {
	v := model.StructValue{Type: "struct list_head", Children: []model.StructValue{
		{Name: "next", Value: "0xffff888000001000"}, {Name: "prev", Error: "page excluded"},
		{Name: "a", Children: []model.StructValue{{Name: "[0]", Value: "1"}, {Name: "[1]", Value: "2"}}, More: 3},
	}}
	want := "struct list_head {\n  next = 0xffff888000001000,\n  prev = <page excluded>,\n  a = {1, 2, ... (3 more)}\n}\n"
	if got := StructText(v); got != want {
		t.Errorf("%q", got)
	}
}

func TestBacktraceEnd(t *testing.T) {
	bt := model.Backtrace{Method: "orc", Start: "prstatus registers of CPU 1", End: "user-mode"}
	if got := BacktraceEnd(bt); got != "unwound by orc from prstatus registers of CPU 1; ended: user-mode" {
		t.Errorf("%q", got)
	}
	bt.End, bt.Error = "error", "no ORC entry for 0xffffffff81000000"
	if got := BacktraceEnd(bt); got != "unwound by orc from prstatus registers of CPU 1; ended: error: no ORC entry for 0xffffffff81000000" {
		t.Errorf("%q", got)
	}
}
