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
	if len(got) < 4 || got[2].Text != "call 0xffffffff80201013" || got[2].Bytes != "e810000000" || got[3].Text != "ret" {
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

// TestObjdumpSyntax: the GNU syntax is objdump's as binutils 2.40 prints
// it — no operand-size suffix where the size is the mode's default — and
// a RIP-relative operand is followed by the address it reaches and its
// symbol (issue 12 item 25). The expected texts are GNU objdump 2.40's
// output for these bytes (objdump -D -b binary -m i386:x86-64
// --adjust-vma=0xffffffff81000000), with its runs of spaces as one.
func TestObjdumpSyntax(t *testing.T) {
	const base = 0xffffffff81000000
	syms := &Symbols{syms: []model.Symbol{
		{Name: "_stext", Addr: base, Type: "T"}, {Name: "jiffies", Addr: base + 0x28, Type: "D"}, {Name: "_end", Addr: base + 0x1000, Type: "B"}}}
	syms.index(make([]bool, len(syms.syms)))
	for _, tc := range []struct {
		mode  string
		code  []byte
		want  string
		intel string
	}{
		{"x86_64", []byte{0xe8, 0x00, 0x00, 0x00, 0x00}, "call 0xffffffff81000005", "call 0xffffffff81000005"},
		{"x86_64", []byte{0xc3}, "ret", "ret"},
		{"x86_64", []byte{0xff, 0xe0}, "jmp *%rax", "jmp rax"},
		{"x86_64", []byte{0xff, 0x15, 0x10, 0x00, 0x00, 0x00}, "call *0x10(%rip) # 0xffffffff81000016 <_stext+0x16>", "call qword ptr [rip+0x10] # 0xffffffff81000016 <_stext+0x16>"},
		{"x86_64", []byte{0x55}, "push %rbp", "push rbp"},
		{"x86_64", []byte{0x5d}, "pop %rbp", "pop rbp"},
		{"x86_64", []byte{0xc9}, "leave", "leave"},
		{"x86_64", []byte{0xe9, 0x00, 0x00, 0x00, 0x00}, "jmp 0xffffffff81000005", "jmp 0xffffffff81000005"},
		{"x86_64", []byte{0x48, 0x8b, 0x05, 0x21, 0x00, 0x00, 0x00}, "mov 0x21(%rip),%rax # 0xffffffff81000028 <jiffies>", "mov rax, qword ptr [rip+0x21] # 0xffffffff81000028 <jiffies>"},
		{"x86_64", []byte{0x48, 0x8d, 0x3d, 0x00, 0x20, 0x00, 0x00}, "lea 0x2000(%rip),%rdi # 0xffffffff81002007", "lea rdi, ptr [rip+0x2000] # 0xffffffff81002007"},
		{"x86_64", []byte{0x6a, 0x00}, "push $0x0", "push 0x0"},
		{"x86_64", []byte{0xc2, 0x08, 0x00}, "ret $0x8", "ret 0x8"},
		{"x86_64", []byte{0x9c}, "pushf", "pushfq"},
		{"x86_64", []byte{0x9d}, "popf", "popfq"},
		{"x86_64", []byte{0xff, 0x74, 0x24, 0x08}, "push 0x8(%rsp)", "push qword ptr [rsp+0x8]"},
		{"x86_64", []byte{0x8f, 0x04, 0x24}, "pop (%rsp)", "pop qword ptr [rsp]"},
		{"x86_64", []byte{0xf3, 0xc3}, "repz ret", "ret"},
		{"x86_64", []byte{0x48, 0xcf}, "iretq", "iretq"},
		{"i386", []byte{0xff, 0x74, 0x24, 0x08}, "push 0x8(%esp)", "push dword ptr [esp+0x8]"},
		{"i386", []byte{0x9c}, "pushf", "pushfd"},
		{"i386", []byte{0xc3}, "ret", "ret"},
	} {
		k := testKernel(tc.mode, "", newPageMem(), 0)
		pc := uint64(base)
		if tc.mode == "i386" {
			pc = 0xc1000000
		}
		for _, intel := range []bool{false, true} {
			got := k.decode(tc.code, pc, syms.Addr, intel, nil)
			want := tc.want
			if intel {
				want = tc.intel
			}
			if len(got) != 1 || strings.Join(strings.Fields(got[0].Text), " ") != want {
				t.Errorf("%s % x (intel %v): %+v, want %q", tc.mode, tc.code, intel, got, want)
			}
		}
	}
}

// TestDebianDisasmModule: code inside a module is named with its module,
// from the module's own symbols.
func TestDebianDisasmModule(t *testing.T) {
	k := openDebian(t, "panic-sysrq-mdf-zlib-d31.kdump")
	mods, err := k.Modules(bg)
	if err != nil || len(mods) == 0 {
		t.Fatalf("%v %v", mods, err)
	}
	va := mods[0].Base + 0x20
	dis, err := k.Disassemble(bg, DisasmOptions{Addr: &va, Count: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(dis.Location, " ["+mods[0].Name+"]") {
		t.Errorf("location %q", dis.Location)
	}
	for _, in := range dis.Instructions {
		if !strings.HasSuffix(in.Location, " ["+mods[0].Name+"]") {
			t.Errorf("instruction at %s: %q", in.Addr, in.Location)
		}
	}
}
