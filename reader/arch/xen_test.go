package arch_test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/reader/arch"
	"dumpscope/reader/dumptest"
)

// sampleX86 returns a context with a distinct value in every member, so a
// field read from the wrong offset is noticed.
func sampleX86() *dumptest.XenX86Regs {
	r := &dumptest.XenX86Regs{
		Flags: 0x25, IP: 0xffffffff81000123, RFlags: 0x246, SP: 0xffffc90000003f00,
		CS: 0xe033, SS: 0xe02b, ES: 0x2b, DS: 0x2b, FS: 0x63, GS: 0x6b, SavedUpcallMask: 1,
		LDTBase: 0x7000, LDTEnts: 12, GDTEnts: 0x200, KernelSS: 0xe02b, KernelSP: 0xffffc90000004000,
		EventCallbackCS: 0x61, EventCallbackIP: 0xffffffff81001000, FailsafeCS: 0x62, FailsafeIP: 0xffffffff81002000,
		SyscallIP: 0xffffffff81003000, VMAssist: 1<<2 | 1<<32,
		FSBase: 0x7f0000001000, GSBaseKernel: 0xffff888000000000, GSBaseUser: 0x7f0000002000,
		Traps: []dumptest.XenTrap{{Vector: 0, Flags: 0, CS: 0xe033, Address: 0xffffffff81800000}, {Vector: 1, Flags: 7, CS: 0xe033, Address: 0xffffffff81800100}},
	}
	for i := range r.GPR {
		r.GPR[i] = 0x1000 + uint64(i)
	}
	for i := range r.GDTFrames {
		r.GDTFrames[i] = 0x50000 + uint64(i)
	}
	for i := range r.CtrlReg {
		r.CtrlReg[i] = 0xc000 + uint64(i)
	}
	r.CtrlReg[0] = 0x80050033
	r.CtrlReg[3] = 0x123456 << 12
	for i := range r.DebugReg {
		r.DebugReg[i] = 0xd000 + uint64(i)
	}
	return r
}

func reg(t *testing.T, s model.RegisterSet, name string) model.Register {
	t.Helper()
	for _, r := range s.Registers {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("register %s missing", name)
	return model.Register{}
}

func TestXenContextX8664(t *testing.T) {
	le := binary.LittleEndian
	r := sampleX86()
	rec := r.Context64(le)
	set, err := arch.DecodeXenContext(arch.X8664, false, le, rec, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if set.Source != model.SourceXenVCPUContext || set.Arch != arch.X8664 {
		t.Fatalf("set %+v", set)
	}
	want := map[string]uint64{
		"flags": 0x25, "rip": r.IP, "rflags": 0x246, "rsp": r.SP, "cs": 0xe033, "ss": 0xe02b, "es": 0x2b, "ds": 0x2b,
		"fs": 0x63, "gs": 0x6b, "saved_upcall_mask": 1, "ldt_base": 0x7000, "ldt_ents": 12, "gdt_ents": 0x200,
		"kernel_ss": 0xe02b, "kernel_sp": r.KernelSP, "event_callback_eip": r.EventCallbackIP,
		"failsafe_callback_eip": r.FailsafeIP, "syscall_callback_eip": r.SyscallIP, "vm_assist": r.VMAssist,
		"fs_base": r.FSBase, "gs_base_kernel": r.GSBaseKernel, "gs_base_user": r.GSBaseUser,
		"cr0": 0x80050033, "cr3": 0x123456 << 12, "cr7": 0xc007, "dr0": 0xd000, "dr7": 0xd007,
		"gdt_frame0": 0x50000, "gdt_frame15": 0x5000f,
	}
	for i, n := range []string{"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi"} {
		want[n] = 0x1000 + uint64(i)
	}
	for n, v := range want {
		if got := reg(t, set, n); got.Value != v {
			t.Errorf("%s = %#x, want %#x", n, got.Value, v)
		}
	}
	if _, ok := set.Get("error_code"); ok {
		t.Error("error_code is private to Xen and must not be a register")
	}
	// The rip register's file offset: context base + user_regs (520) + 128.
	if got := reg(t, set, "rip"); got.Offset != 1000+648 || got.Size != 8 {
		t.Errorf("rip at %d size %d", got.Offset, got.Size)
	}
	cr3 := reg(t, set, "cr3")
	if len(cr3.Bits) != 1 || cr3.Bits[0].Name != "mfn" || cr3.Bits[0].Value != 0x123456 {
		t.Errorf("cr3 bits %+v", cr3.Bits)
	}
	if b := bitNamed(reg(t, set, "flags").Bits, "VGCF_online"); b == nil || b.Value != 1 {
		t.Error("VGCF_online not decoded")
	}
	if b := bitNamed(reg(t, set, "vm_assist").Bits, "m2p_strict"); b == nil || b.Value != 1 {
		t.Error("m2p_strict not decoded")
	}
	if b := bitNamed(reg(t, set, "rflags").Bits, "IF"); b == nil || b.Value != 1 {
		t.Error("rflags.IF not decoded")
	}
	checkGroups(t, set)
}

func bitNamed(bits []model.BitField, name string) *model.BitField {
	for i := range bits {
		if bits[i].Name == name {
			return &bits[i]
		}
	}
	return nil
}

// checkGroups checks every register is in one of the CPU view's groups.
func checkGroups(t *testing.T, s model.RegisterSet) {
	t.Helper()
	ok := map[string]bool{model.GroupGeneral: true, model.GroupSegment: true, model.GroupControl: true,
		model.GroupDebug: true, model.GroupFlags: true, model.GroupOther: true}
	for _, r := range s.Registers {
		if !ok[r.Group] || r.Name != strings.ToLower(r.Name) {
			t.Errorf("register %q has group %q", r.Name, r.Group)
		}
	}
}

func TestXenContextX8632(t *testing.T) {
	le := binary.LittleEndian
	r := sampleX86()
	r.CtrlReg[3] = dumptest.XenCR3For32(0x1234567) // a frame above 2^20
	rec := r.Context32(le)
	// 64-bit tools write 5168-byte records for 32-bit guests: the context
	// is the first 2800 bytes.
	long := append(rec, make([]byte, arch.XenContextX8664Size-len(rec))...)
	for _, b := range [][]byte{rec, long} {
		set, err := arch.DecodeXenContext(arch.I386, false, le, b, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]uint64{"ebx": 0x1000, "ecx": 0x1001, "eax": 0x1006, "eip": r.IP & 0xffffffff, "eflags": 0x246,
			"esp": r.SP & 0xffffffff, "cs": 0xe033, "gs": 0x6b, "event_callback_cs": 0x61, "event_callback_eip": r.EventCallbackIP & 0xffffffff,
			"failsafe_callback_cs": 0x62, "vm_assist": 4, "kernel_sp": r.KernelSP & 0xffffffff, "dr7": 0xd007, "gdt_frame15": 0x5000f}
		for n, v := range want {
			if got := reg(t, set, n); got.Value != v {
				t.Errorf("%s = %#x, want %#x", n, got.Value, v)
			}
		}
		for _, n := range []string{"rip", "fs_base", "syscall_callback_eip"} {
			if _, ok := set.Get(n); ok {
				t.Errorf("x86_32 context has %s", n)
			}
		}
		cr3 := reg(t, set, "cr3")
		if cr3.Bits[0].Value != 0x1234567 {
			t.Errorf("cr3 %#x decodes to mfn %#x, want 0x1234567", cr3.Value, cr3.Bits[0].Value)
		}
		if arch.XenCR3ToMFN(cr3.Value, false) != 0x1234567 || arch.XenCR3ToMFN(0x5000, true) != 5 {
			t.Error("XenCR3ToMFN")
		}
	}
	if _, err := arch.DecodeXenContext(arch.I386, false, le, rec[:2799], 0); err == nil {
		t.Error("a short record decoded")
	}
}

// TestXenContextHVM checks that PV-only members are not registers of an
// HVM guest and that cr3 is decoded as an ordinary CR3.
func TestXenContextHVM(t *testing.T) {
	le := binary.LittleEndian
	r := sampleX86()
	set, err := arch.DecodeXenContext(arch.X8664, true, le, r.Context64(le), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"ldt_base", "gdt_frame0", "kernel_sp", "event_callback_eip", "vm_assist"} {
		if _, ok := set.Get(n); ok {
			t.Errorf("HVM context exports PV-only %s", n)
		}
	}
	if b := bitNamed(reg(t, set, "cr3").Bits, "base"); b == nil || b.Value != 0x123456 {
		t.Error("HVM cr3 not decoded as a CR3")
	}
	if _, ok := set.Get("fs_base"); !ok {
		t.Error("fs_base missing")
	}
}

// TestXenContextLayout checks the layout tree covers every byte of the
// record exactly once and decodes the trap table.
func TestXenContextLayout(t *testing.T) {
	le := binary.LittleEndian
	r := sampleX86()
	for _, tc := range []struct {
		s   *arch.Struct
		rec []byte
	}{
		{arch.XenContextX8664PV(), r.Context64(le)},
		{arch.XenContextX8632PV(), append(r.Context32(le), make([]byte, 2368)...)},
		{arch.XenContextX8632HVM(), r.Context32(le)},
	} {
		nodes := arch.XenContextLayout(tc.s, le, tc.rec, 4096)
		var leaves []*model.Field
		var traps *model.Field
		for _, n := range nodes {
			(&model.Field{Children: []*model.Field{n}}).Walk(func(f *model.Field, _ int) bool {
				if len(f.Children) == 0 && f.Name != "" {
					leaves = append(leaves, f)
				}
				return true
			})
			if n.Name == "trap_ctxt" {
				traps = n
			}
		}
		pos := int64(4096)
		for _, l := range leaves {
			if int64(l.Offset) != pos {
				t.Fatalf("%s: leaf %s at %d, expected %d", tc.s.Arch, l.Name, l.Offset, pos)
			}
			pos += l.Size
		}
		if pos != 4096+int64(len(tc.rec)) {
			t.Fatalf("%s: layout ends at %d, record ends at %d", tc.s.Arch, pos, 4096+len(tc.rec))
		}
		if traps == nil || len(traps.Children) != 256 || traps.Value != "2 handlers set" {
			t.Fatalf("%s: trap table %+v", tc.s.Arch, traps)
		}
		if v := traps.Children[1].Value; !strings.Contains(v, "vector 1, dpl 3, if 1, cs 0xe033") {
			t.Errorf("trap_ctxt[1] = %q", v)
		}
	}
}

func TestXenContextOffsets(t *testing.T) {
	// Spot checks against formats.md §5.4/§5.5 tables.
	for _, c := range []struct {
		s    *arch.Struct
		name string
		off  int
	}{
		{arch.XenContextX8664PV(), "flags", 512}, {arch.XenContextX8664PV(), "rax", 600}, {arch.XenContextX8664PV(), "rip", 648},
		{arch.XenContextX8664PV(), "ldt_base", 4816}, {arch.XenContextX8664PV(), "gdt_ents", 4960}, {arch.XenContextX8664PV(), "cr0", 4984},
		{arch.XenContextX8664PV(), "dr0", 5048}, {arch.XenContextX8664PV(), "vm_assist", 5136}, {arch.XenContextX8664PV(), "gs_base_user", 5160},
		{arch.XenContextX8632PV(), "eflags", 556}, {arch.XenContextX8632PV(), "ldt_base", 2632}, {arch.XenContextX8632PV(), "kernel_sp", 2712},
		{arch.XenContextX8632PV(), "cr0", 2716}, {arch.XenContextX8632PV(), "dr0", 2748}, {arch.XenContextX8632PV(), "vm_assist", 2796},
	} {
		f, ok := c.s.Field(c.name)
		if !ok || f.Off != c.off {
			t.Errorf("%s %s at %d, want %d", c.s.Arch, c.name, f.Off, c.off)
		}
	}
	if _, ok := arch.XenContextFor("aarch64", false); ok {
		t.Error("aarch64 context layout exists")
	}
	if fmt.Sprint(arch.XenContextX8664PV().Size, arch.XenContextX8632PV().Size) != "5168 2800" {
		t.Error("context sizes")
	}
}

// FuzzXenContext decodes arbitrary bytes as every Xen context layout: the
// registers must be the bytes at their offsets and the layout must cover
// the record exactly.
func FuzzXenContext(f *testing.F) {
	r := sampleX86()
	f.Add(r.Context64(binary.LittleEndian))
	f.Add(r.Context32(binary.LittleEndian))
	f.Add((&dumptest.IA64Regs{IP: 1, PSR: 1 << 44}).Context(binary.LittleEndian))
	f.Add((&dumptest.IA64Mapped{VPSR: 3}).Bytes(binary.LittleEndian, 4096))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		le := binary.LittleEndian
		for _, hvm := range []bool{false, true} {
			for _, a := range []string{arch.X8664, arch.I386} {
				set, err := arch.DecodeXenContext(a, hvm, le, b, 0)
				s, _ := arch.XenContextFor(a, hvm)
				if (err == nil) != (len(b) >= s.Size) {
					t.Fatalf("%s: %d bytes decode: %v", a, len(b), err)
				}
				for _, r := range set.Registers {
					if got := readLE(b[r.Offset : int64(r.Offset)+int64(r.Size)]); got != r.Value {
						t.Fatalf("%s %s = %#x, bytes say %#x", a, r.Name, r.Value, got)
					}
				}
				pos := int64(0)
				var walk func(fs []*model.Field)
				walk = func(fs []*model.Field) {
					for _, n := range fs {
						if len(n.Children) > 0 {
							walk(n.Children)
							continue
						}
						if int64(n.Offset) != pos {
							t.Fatalf("%s layout: %s at %d, expected %d", a, n.Name, n.Offset, pos)
						}
						pos += n.Size
					}
				}
				walk(arch.XenContextLayout(s, le, b, 0))
				if pos != int64(len(b)) {
					t.Fatalf("%s layout covers %d of %d bytes", a, pos, len(b))
				}
			}
		}
		for _, dec := range []func(binary.ByteOrder, []byte, int64) (model.RegisterSet, error){arch.DecodeIA64Context, arch.DecodeIA64MappedRegs} {
			set, err := dec(le, b, 0)
			if err != nil {
				continue
			}
			for _, r := range set.Registers {
				if got := readLE(b[int64(r.Offset) : int64(r.Offset)+int64(r.Size)]); got != r.Value {
					t.Fatalf("ia64 %s = %#x, bytes say %#x", r.Name, r.Value, got)
				}
			}
		}
		arch.IA64Context().Layout(le, b, 0)
		arch.IA64MappedRegs().Layout(le, b, 0)
	})
}

func readLE(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
