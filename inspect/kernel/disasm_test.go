package kernel

import (
	"strings"
	"testing"

	"dumpscope/model"
)

// TestDisasmPageCrossing: an instruction that starts near a page's end is
// decoded with the next page's bytes; when that page is not in the dump
// the instruction is reported as cut off, not as whatever its first bytes
// look like.
func TestDisasmPageCrossing(t *testing.T) {
	k, mem, _ := x8664Kernel(t, pageOffsetL4, 0x1000000)
	// nop; nop; call rel32 (5 bytes) across 0x1201000; ret.
	code := []byte{0x90, 0x90, 0xe8, 0x10, 0x00, 0x00, 0x00, 0xc3}
	const at = 0x1201000 - 3 // phys; text va = startKernelMap + at - phys_base
	mem.write(at-1, code)
	va := model.VirtAddr(startKernelMap + at - 1 - 0x1000000)
	dis, err := k.Disassemble(bg, DisasmOptions{Addr: &va, Count: 4})
	if err != nil {
		t.Fatal(err)
	}
	got := dis.Instructions
	if len(got) < 4 || got[2].Text != "callq 0xffffffff80201013" || got[2].Bytes != "e810000000" || got[3].Text != "retq" {
		t.Fatalf("across the page end: %+v", got)
	}
	if got[2].Target == nil || *got[2].Target != va+2+5+0x10 {
		t.Errorf("call target %v", got[2].Target)
	}
	if !got[0].Marked || !strings.Contains(dis.Notes[0], "no symbols") {
		t.Errorf("mark and notes: %+v %v", got[0], dis.Notes)
	}
	// Without the second page.
	delete(mem.pages, 0x1201000/4096)
	dis, err = k.Disassemble(bg, DisasmOptions{Addr: &va, Count: 4})
	if err != nil {
		t.Fatal(err)
	}
	got = dis.Instructions
	if len(got) != 3 || !got[2].Bad || got[2].Bytes != "e810" || !strings.Contains(got[2].Why, "next page is not readable") {
		t.Errorf("cut off: %+v", got)
	}
	if !strings.Contains(strings.Join(dis.Notes, " "), "not_in_dump") {
		t.Errorf("notes should say why the code ends: %v", dis.Notes)
	}
}
