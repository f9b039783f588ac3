package arch

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"

	"dumpscope/model"
)

// Xen's vcpu_guest_context for x86 (xen/include/public/arch-x86/xen.h,
// xen-x86_32.h, xen-x86_64.h; formats.md §5.1-§5.6). A Xen dump-core's
// .xen_prstatus section holds one per vCPU. The structure starts with the
// FPU image, the VGCF_* flags and cpu_user_regs, then the PV guest's
// virtual IDT (trap_ctxt), LDT and GDT, kernel stack, the control and
// debug registers, the event callbacks and vm_assist; the x86_64 variant
// ends with the segment bases.
//
// Register names follow Xen's structures, lower case: "rflags" (x86_64) or
// "eflags" (x86_32) from user_regs, "cr0".."cr7" from ctrlreg[],
// "dr0".."dr7" from debugreg[], "gdt_frame0".."gdt_frame15" from
// gdt_frames[]. For PV guests cr3 (and cr1, the x86_64 user page table)
// holds a machine frame in xen_pfn_to_cr3 encoding; its Bits show the
// frame as "mfn". For HVM guests the PV-only members (trap table, LDT,
// GDT, kernel stack, callbacks, vm_assist) are meaningless and are left
// out of the register set, though the layout still labels them.

// Sizes of the x86 contexts.
const (
	XenContextX8632Size = 2800
	XenContextX8664Size = 5168
)

// VGCF_* flags of the x86 context (§5.6).
var xenVGCFBits = bitTable{
	{"VGCF_i387_valid", 0, 1, "fpu_ctxt holds valid FPU state"},
	{"VGCF_HVM_GUEST", 1, 1, "HVM guest (Xen 3.0.x only; removed Nov 2006)"},
	{"VGCF_in_kernel", 2, 1, "the vCPU was running in guest kernel mode"},
	{"VGCF_failsafe_disables_events", 3, 1, "the failsafe callback masks events"},
	{"VGCF_syscall_disables_events", 4, 1, "the syscall callback masks events"},
	{"VGCF_online", 5, 1, "the vCPU is online"},
}

// VMASST_TYPE_* bits of vm_assist (xen/include/public/xen.h).
var xenVMAssistBits = bitTable{
	{"4gb_segments", 0, 1, "emulate 4 GiB segments"},
	{"4gb_segments_notify", 1, 1, "notify on 4 GiB segment emulation"},
	{"writable_pagetables", 2, 1, "writable page tables"},
	{"pae_extended_cr3", 3, 1, "PAE page directories above 4 GiB"},
	{"architectural_iopl", 4, 1, "architectural IOPL semantics"},
	{"runstate_update_flag", 5, 1, "runstate update flag"},
	{"m2p_strict", 32, 1, "strict M2P mapping (x86_64)"},
}

// xenCR3Bits64 decodes an x86_64 PV cr3: xen_pfn_to_cr3(mfn) = mfn << 12.
var xenCR3Bits64 = bitTable{
	{"mfn", 12, 52, "machine frame of the top-level page table (xen_cr3_to_pfn: cr3 >> 12)"},
}

// xenCR3Bits32 decodes an x86_32 PV cr3. xen_pfn_to_cr3(mfn) stores the
// mfn's low 20 bits in cr3[31:12] and its bits above 20 in cr3[11:0], a
// 32-bit rotate left by 12; xen_cr3_to_pfn rotates back (§5.4).
func xenCR3Bits32(dst []model.BitField, v uint64) []model.BitField {
	return append(dst, model.BitField{Name: "mfn", Shift: 0, Width: 32, Value: uint64(bits.RotateLeft32(uint32(v), -12)),
		Meaning: "machine frame of the page directory: xen_cr3_to_pfn(cr3) = cr3 rotated right by 12 (32-bit)"})
}

// XenCR3ToMFN returns the machine frame an x86 PV cr3 value names, for a
// 64-bit or 32-bit guest (xen_cr3_to_pfn).
func XenCR3ToMFN(cr3 uint64, guest64 bool) uint64 {
	if guest64 {
		return cr3 >> 12
	}
	return uint64(bits.RotateLeft32(uint32(cr3), -12))
}

// xenCtx describes one width of the x86 context: where each member is and
// how wide words are.
type xenCtx struct {
	arch        string
	size        int
	word        int // unsigned long
	userRegs    int // offset of cpu_user_regs
	userRegsEnd int
	traps       int // offset of trap_ctxt[0]
	trapSize    int
	trapAddr    int // offset of address inside trap_info
	ldt         int // ldt_base; ldt_ents, gdt_frames, gdt_ents, kernel_ss/sp, ctrlreg, debugreg follow
}

var (
	xenCtx64 = xenCtx{arch: X8664, size: XenContextX8664Size, word: 8, userRegs: 520, userRegsEnd: 720, traps: 720, trapSize: 16, trapAddr: 8, ldt: 4816}
	xenCtx32 = xenCtx{arch: I386, size: XenContextX8632Size, word: 4, userRegs: 516, userRegsEnd: 584, traps: 584, trapSize: 8, trapAddr: 4, ldt: 2632}
)

// userRegs lays out cpu_user_regs (§5.1, §5.2) at base.
func (c xenCtx) userRegsSpecs() []Spec {
	b := c.userRegs
	reg := func(name string, off, size int, group string) Spec {
		return Spec{Name: name, Off: b + off, Size: size, Group: group, Reg: true, Meaning: regMeaning(name), Bits: bitsFor(name)}
	}
	private := func(name string, off, size int) Spec {
		return Spec{Name: name, Off: b + off, Size: size, Meaning: "private to Xen (" + name + " of the last exception)"}
	}
	upcall := Spec{Name: "saved_upcall_mask", Group: model.GroupFlags, Reg: true, Size: 1,
		Meaning: "event upcall mask saved on entry (eflags.IF == !saved_upcall_mask)"}
	if c.word == 8 {
		var f []Spec
		for i, n := range []string{"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi"} {
			f = append(f, reg(n, 8*i, 8, model.GroupGeneral))
		}
		upcall.Off = b + 140
		return append(f, private("error_code", 120, 4), private("entry_vector", 124, 4),
			reg("rip", 128, 8, model.GroupGeneral), reg("cs", 136, 2, model.GroupSegment), upcall,
			reg("rflags", 144, 8, model.GroupFlags), reg("rsp", 152, 8, model.GroupGeneral),
			reg("ss", 160, 2, model.GroupSegment), reg("es", 168, 2, model.GroupSegment), reg("ds", 176, 2, model.GroupSegment),
			reg("fs", 184, 2, model.GroupSegment), reg("gs", 192, 2, model.GroupSegment))
	}
	var f []Spec
	for i, n := range []string{"ebx", "ecx", "edx", "esi", "edi", "ebp", "eax"} {
		f = append(f, reg(n, 4*i, 4, model.GroupGeneral))
	}
	upcall.Off = b + 38
	return append(f, private("error_code", 28, 2), private("entry_vector", 30, 2),
		reg("eip", 32, 4, model.GroupGeneral), reg("cs", 36, 2, model.GroupSegment), upcall,
		reg("eflags", 40, 4, model.GroupFlags), reg("esp", 44, 4, model.GroupGeneral),
		reg("ss", 48, 2, model.GroupSegment), reg("es", 52, 2, model.GroupSegment), reg("ds", 56, 2, model.GroupSegment),
		reg("fs", 60, 2, model.GroupSegment), reg("gs", 64, 2, model.GroupSegment))
}

// build returns the context layout for PV or HVM guests.
func (c xenCtx) build(hvm bool) *Struct {
	w := c.word
	pvOnly := func(s Spec) Spec {
		if hvm {
			s.Reg = false
			s.Meaning += " (PV only; meaningless for HVM guests)"
		}
		return s
	}
	f := []Spec{
		{Name: "fpu_ctxt", Off: 0, Size: 512, Meaning: "FPU/SSE registers: FXSAVE image (FSAVE without FXSR), valid when VGCF_i387_valid"},
		{Name: "flags", Off: 512, Size: w, Group: model.GroupFlags, Reg: true, Bits: xenVGCFBits.decode, Meaning: "VGCF_* flags of the context"},
	}
	f = append(f, c.userRegsSpecs()...)
	for i := 0; i < 256; i++ {
		t := c.traps + i*c.trapSize
		p := fmt.Sprintf("trap_ctxt[%d].", i)
		f = append(f,
			Spec{Name: p + "vector", Off: t, Size: 1, Meaning: "exception vector"},
			Spec{Name: p + "flags", Off: t + 1, Size: 1, Meaning: "bits 0-1: privilege level that may raise it with INT; bit 2: clear event enable on entry"},
			Spec{Name: p + "cs", Off: t + 2, Size: 2, Meaning: "handler code selector"},
			Spec{Name: p + "address", Off: t + c.trapAddr, Size: w, Meaning: "handler address (0: no handler)"})
	}
	l := c.ldt
	seg := func(name string, off int, meaning string, bits BitsFunc) Spec {
		return pvOnly(Spec{Name: name, Off: off, Size: w, Group: model.GroupSegment, Reg: true, Meaning: meaning, Bits: bits})
	}
	f = append(f,
		seg("ldt_base", l, "LDT linear address", nil),
		seg("ldt_ents", l+w, "number of LDT entries", nil))
	for i := 0; i < 16; i++ {
		f = append(f, seg(fmt.Sprintf("gdt_frame%d", i), l+2*w+i*w, fmt.Sprintf("gdt_frames[%d]: machine frame of GDT page %d", i, i), nil))
	}
	gdtEnts := l + 18*w
	f = append(f,
		seg("gdt_ents", gdtEnts, "number of GDT entries", nil),
		seg("kernel_ss", gdtEnts+w, "guest kernel stack selector (virtual TSS SS1)", selectorBits.decode),
		seg("kernel_sp", gdtEnts+2*w, "guest kernel stack pointer (virtual TSS SP1)", nil))
	ctrl := gdtEnts + 3*w
	for i := 0; i < 8; i++ {
		n := fmt.Sprintf("cr%d", i)
		s := Spec{Name: n, Off: ctrl + i*w, Size: w, Group: model.GroupControl, Reg: true, Bits: bitsFor(n),
			Meaning: fmt.Sprintf("ctrlreg[%d]: %s", i, xenCRMeaning(i, c.word == 8, hvm))}
		if !hvm && (i == 3 || (i == 1 && c.word == 8)) {
			s.Bits = xenCR3Bits64.decode
			if c.word == 4 {
				s.Bits = xenCR3Bits32
			}
		}
		f = append(f, s)
	}
	dbg := ctrl + 8*w
	for i := 0; i < 8; i++ {
		n := fmt.Sprintf("dr%d", i)
		f = append(f, Spec{Name: n, Off: dbg + i*w, Size: w, Group: model.GroupDebug, Reg: true, Bits: bitsFor(n),
			Meaning: fmt.Sprintf("debugreg[%d]: %s", i, drMeaning(i))})
	}
	cb := dbg + 8*w
	other := func(name string, off int, meaning string) Spec {
		return pvOnly(Spec{Name: name, Off: off, Size: w, Group: model.GroupOther, Reg: true, Meaning: meaning})
	}
	if c.word == 4 {
		f = append(f,
			other("event_callback_cs", cb, "code selector of the event (upcall) callback"),
			other("event_callback_eip", cb+4, "address of the event (upcall) callback"),
			other("failsafe_callback_cs", cb+8, "code selector of the failsafe callback"),
			other("failsafe_callback_eip", cb+12, "address of the failsafe callback"))
		cb += 16
	} else {
		f = append(f,
			other("event_callback_eip", cb, "address of the event (upcall) callback"),
			other("failsafe_callback_eip", cb+8, "address of the failsafe callback"),
			other("syscall_callback_eip", cb+16, "address of the SYSCALL callback"))
		cb += 24
	}
	va := other("vm_assist", cb, "VMASST_TYPE_* assists the guest enabled")
	va.Bits = xenVMAssistBits.decode
	f = append(f, va)
	if c.word == 8 {
		base := func(name string, off int, meaning string) Spec {
			return Spec{Name: name, Off: off, Size: 8, Group: model.GroupSegment, Reg: true, Meaning: meaning}
		}
		f = append(f,
			base("fs_base", cb+8, "FS segment base"),
			base("gs_base_kernel", cb+16, "GS base in guest kernel mode"),
			base("gs_base_user", cb+24, "GS base in guest user mode"))
	}
	return newStruct("vcpu_guest_context", c.arch, c.size, f)
}

func xenCRMeaning(i int, is64, hvm bool) string {
	switch i {
	case 0:
		return regMeaning("cr0")
	case 1:
		if is64 && !hvm {
			return "user-mode page-table root of the PV guest (xen_pfn_to_cr3 encoding)"
		}
		return "reserved"
	case 2:
		return regMeaning("cr2")
	case 3:
		if hvm {
			return "page-table root (guest physical address)"
		}
		return "page-table root: a machine frame in xen_pfn_to_cr3 encoding"
	case 4:
		return regMeaning("cr4")
	}
	return "reserved"
}

func drMeaning(i int) string {
	switch {
	case i < 4:
		return fmt.Sprintf("breakpoint %d linear address", i)
	case i == 6:
		return "debug status"
	case i == 7:
		return "debug control"
	}
	return "reserved (alias of dr6/dr7)"
}

// The four x86 context layouts. They are built on first use (lazyStruct):
// each has over a thousand fields, and most processes never open a Xen
// dump.
var xenContextX8664PV, xenContextX8664HVM, xenContextX8632PV, xenContextX8632HVM lazyStruct

// XenContextX8664PV is the x86_64 PV guest's vcpu_guest_context.
func XenContextX8664PV() *Struct {
	return xenContextX8664PV.get(func() *Struct { return xenCtx64.build(false) })
}

// XenContextX8664HVM is the x86_64 HVM guest's.
func XenContextX8664HVM() *Struct {
	return xenContextX8664HVM.get(func() *Struct { return xenCtx64.build(true) })
}

// XenContextX8632PV is the i386 PV guest's.
func XenContextX8632PV() *Struct {
	return xenContextX8632PV.get(func() *Struct { return xenCtx32.build(false) })
}

// XenContextX8632HVM is the i386 HVM guest's.
func XenContextX8632HVM() *Struct {
	return xenContextX8632HVM.get(func() *Struct { return xenCtx32.build(true) })
}

// XenContextFor returns the vcpu_guest_context layout for a guest of the
// given architecture (x86_64 or i386), PV or HVM.
func XenContextFor(archName string, hvm bool) (*Struct, bool) {
	switch {
	case archName == X8664 && hvm:
		return XenContextX8664HVM(), true
	case archName == X8664:
		return XenContextX8664PV(), true
	case archName == I386 && hvm:
		return XenContextX8632HVM(), true
	case archName == I386:
		return XenContextX8632PV(), true
	}
	return nil, false
}

// DecodeXenContext decodes one .xen_prstatus record (or a legacy core's
// context) that starts at file offset base. The record may be longer than
// the context (5168-byte records of 32-bit guests); it must not be
// shorter.
func DecodeXenContext(archName string, hvm bool, order binary.ByteOrder, rec []byte, base int64) (model.RegisterSet, error) {
	s, ok := XenContextFor(archName, hvm)
	if !ok {
		return model.RegisterSet{}, fmt.Errorf("no Xen vcpu_guest_context layout for %s", archName)
	}
	if len(rec) < s.Size {
		return model.RegisterSet{}, fmt.Errorf("%s vcpu_guest_context needs %d bytes, the record has %d", archName, s.Size, len(rec))
	}
	return model.RegisterSet{Source: model.SourceXenVCPUContext, Arch: s.Arch, Registers: s.Registers(order, rec[:s.Size], base), Offset: model.FileOff(base)}, nil
}

// XenContextLayout labels a context record as a tree: fpu_ctxt, flags,
// user_regs with its members, trap_ctxt with its 256 trap_info entries,
// then the descriptor tables, control and debug registers, callbacks and
// segment bases. Bytes of the record beyond the context are labelled as
// trailing data.
func XenContextLayout(s *Struct, order binary.ByteOrder, rec []byte, base int64) []*model.Field {
	c := xenCtx64
	if s.Arch == I386 {
		c = xenCtx32
	}
	flat := s.Layout(order, rec, base)
	var out []*model.Field
	var user, traps *model.Field
	var trap *model.Field
	for _, n := range flat {
		rel := int(int64(n.Offset) - base)
		switch {
		case rel >= c.userRegs && rel < c.userRegsEnd:
			if user == nil {
				user = &model.Field{Name: "user_regs", Offset: model.FileOff(base + int64(c.userRegs)), Size: int64(c.userRegsEnd - c.userRegs),
					Value: "cpu_user_regs", Meaning: "the guest's general, segment and flags registers"}
				out = append(out, user)
			}
			user.Add(n)
		case rel >= c.traps && rel < c.traps+256*c.trapSize:
			if traps == nil {
				traps = &model.Field{Name: "trap_ctxt", Offset: model.FileOff(base + int64(c.traps)), Size: int64(256 * c.trapSize),
					Meaning: "the PV guest's virtual IDT: 256 trap_info entries"}
				out = append(out, traps)
			}
			i := (rel - c.traps) / c.trapSize
			if at := model.FileOff(base + int64(c.traps+i*c.trapSize)); trap == nil || trap.Offset != at {
				trap = &model.Field{Name: fmt.Sprintf("trap_ctxt[%d]", i), Offset: at, Size: int64(c.trapSize),
					Meaning: "trap_info: vector, flags, cs, address"}
				traps.Add(trap)
			}
			n.Name = strings.TrimPrefix(n.Name, trap.Name+".")
			trap.Add(n)
		default:
			out = append(out, n)
		}
	}
	set := 0
	if traps != nil {
		for _, t := range traps.Children {
			t.Value = trapSummary(t, order, rec, base)
			if !strings.HasPrefix(t.Value, "unset") {
				set++
			}
		}
		traps.Value = fmt.Sprintf("%d handlers set", set)
	}
	return out
}

// trapSummary decodes one trap_info entry for its layout node.
func trapSummary(t *model.Field, order binary.ByteOrder, rec []byte, base int64) string {
	off := int(int64(t.Offset) - base)
	if off+int(t.Size) > len(rec) {
		return "cut short"
	}
	e := rec[off : off+int(t.Size)]
	var addr uint64
	if len(e) == 16 {
		addr = order.Uint64(e[8:])
	} else {
		addr = uint64(order.Uint32(e[4:]))
	}
	if addr == 0 {
		return "unset (address 0)"
	}
	return fmt.Sprintf("vector %d, dpl %d, if %d, cs %#x, address %#x", e[0], e[1]&3, e[1]>>2&1, order.Uint16(e[2:]), addr)
}
