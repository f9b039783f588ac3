package unwind

import (
	"maps"
	"slices"
	"testing"
)

// TestRegsByName: the names NT_PRSTATUS gives each architecture's
// registers read back into the same fields, a pt_regs names them so (all
// 21 of x86_64, all 17 of i386), and a partial one only its iret frame.
func TestRegsByName(t *testing.T) {
	x86_64 := []string{"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax",
		"rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "rflags", "rsp", "ss"}
	i386 := []string{"ebx", "ecx", "edx", "esi", "edi", "ebp", "eax", "ds", "es", "fs", "gs",
		"orig_eax", "eip", "cs", "eflags", "esp", "ss"}
	for _, c := range []struct {
		name  string
		i386  bool
		names []string
		iret  []string
	}{
		{"x86_64", false, x86_64, []string{"rip", "cs", "rflags", "rsp", "ss"}},
		{"i386", true, i386, []string{"eip", "cs", "eflags", "esp", "ss"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := map[string]uint64{}
			for i, n := range c.names {
				in[n] = 0x100 + uint64(i)
			}
			r := RegsFromNames(func(n string) (uint64, bool) { v, ok := in[n]; return v, ok })
			full := (&PtRegs{Regs: r}).ByName(c.i386)
			if !maps.Equal(full, in) {
				t.Errorf("ByName = %v, want %v", full, in)
			}
			partial := (&PtRegs{Regs: r, Partial: true}).ByName(c.i386)
			if got := slices.Sorted(maps.Keys(partial)); !slices.Equal(got, slices.Sorted(slices.Values(c.iret))) {
				t.Errorf("partial names %v, want %v", got, c.iret)
			}
			for n, v := range partial {
				if v != in[n] {
					t.Errorf("partial %s = %#x, want %#x", n, v, in[n])
				}
			}
		})
	}
	// The other spellings of notes: "xds" for ds, "ax" for eax.
	r := RegsFromNames(func(n string) (uint64, bool) {
		v, ok := map[string]uint64{"xds": 0x7b, "ax": 5, "ip": 0xc0001000}[n]
		return v, ok
	})
	if r.DS != 0x7b || r.AX != 5 || r.IP != 0xc0001000 {
		t.Errorf("other spellings: ds %#x ax %#x ip %#x", r.DS, r.AX, r.IP)
	}
}
