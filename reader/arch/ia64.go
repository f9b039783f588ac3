package arch

import (
	"encoding/binary"
	"fmt"

	"dumpscope/model"
)

// ia64 structures of Xen dump-cores (xen/include/public/arch-ia64.h, final
// version before ia64 was removed in Xen 4.3; formats.md §5.7, §5.8):
//
//   - vcpu_guest_context (22208 bytes), one per vCPU in .xen_prstatus: the
//     VGCF flags, vcpu_guest_context_regs (general, branch, banked,
//     application and control registers, floating point, debug, region and
//     protection-key registers, translation registers, the register
//     backing store image), the event callback and the privregs frame;
//   - mapped_regs_t (4096 bytes, padded to the tools' page size), one per
//     vCPU of a PV guest in .xen_ia64_mapped_regs: the registers Xen and
//     the guest share (virtual psr, control registers, register banks,
//     region registers).
//
// Register names are Xen's, lower case: r0..r31, b0..b7, bank0..bank15,
// the application registers by their names (kr0..kr7, rsc, bsp, ...),
// the control registers by theirs (dcr, itm, iva, ...), dbr0.., ibr0..,
// rr0.., pkr0...

// Sizes of the ia64 structures.
const (
	IA64ContextSize    = 22208
	IA64MappedRegsSize = 4096
)

// ia64 processor status register (Intel Itanium SDM vol. 2 §3.3.2).
var ia64PSRBits = bitTable{
	{"be", 1, 1, "big-endian memory access"}, {"up", 2, 1, "user performance monitor enable"},
	{"ac", 3, 1, "alignment check"}, {"mfl", 4, 1, "lower FP registers written"},
	{"mfh", 5, 1, "upper FP registers written"}, {"ic", 13, 1, "interruption collection"},
	{"i", 14, 1, "interrupts enabled"}, {"pk", 15, 1, "protection key checks"},
	{"dt", 17, 1, "data address translation"}, {"dfl", 18, 1, "lower FP registers disabled"},
	{"dfh", 19, 1, "upper FP registers disabled"}, {"sp", 20, 1, "secure performance monitors"},
	{"pp", 21, 1, "privileged performance monitor enable"}, {"di", 22, 1, "disable instruction set transition"},
	{"si", 23, 1, "secure interval timer"}, {"db", 24, 1, "debug breakpoint fault"},
	{"lp", 25, 1, "lower-privilege transfer trap"}, {"tb", 26, 1, "taken branch trap"},
	{"rt", 27, 1, "register stack translation"}, {"cpl", 32, 2, "current privilege level"},
	{"is", 34, 1, "instruction set (1 = IA-32)"}, {"mc", 35, 1, "machine check abort mask"},
	{"it", 36, 1, "instruction address translation"}, {"id", 37, 1, "instruction debug fault disable"},
	{"da", 38, 1, "data access fault disable"}, {"dd", 39, 1, "data debug fault disable"},
	{"ss", 40, 1, "single step"}, {"ri", 41, 2, "restart instruction slot"},
	{"ed", 43, 1, "exception deferral"}, {"bn", 44, 1, "register bank"},
	{"ia", 45, 1, "instruction access-bit fault disable"}, {"vm", 46, 1, "virtual machine"},
}

// VGCF_* flags of the ia64 context (§5.8).
var ia64VGCFBits = bitTable{
	{"VGCF_EXTRA_REGS", 1, 1, "extra registers are set"},
	{"VGCF_SET_CR_IRR", 2, 1, "cr.irr[0:3] are set"},
	{"VGCF_online", 3, 1, "the vCPU is online"},
	{"VGCF_SET_AR_ITC", 4, 1, "PV ar.itc (itc_offset, itc_last) is set"},
}

// Virtualization acceleration and disable controls of mapped_regs (§5.7).
var (
	ia64VACBits = bitTable{
		{"a_int", 0, 1, "accelerate interrupts"}, {"a_from_int_cr", 1, 1, "accelerate reads of interruption CRs"},
		{"a_to_int_cr", 2, 1, "accelerate writes of interruption CRs"}, {"a_from_psr", 3, 1, "accelerate psr reads"},
		{"a_from_cpuid", 4, 1, "accelerate cpuid reads"}, {"a_cover", 5, 1, "accelerate cover"},
		{"a_bsw", 6, 1, "accelerate bank switch"},
	}
	ia64VDCBits = bitTable{
		{"d_vmsw", 0, 1, "disable vmsw"}, {"d_extint", 1, 1, "disable external interrupt control"},
		{"d_ibr_dbr", 2, 1, "disable breakpoint registers"}, {"d_pmc", 3, 1, "disable PMC"},
		{"d_to_pmd", 4, 1, "disable PMD writes"}, {"d_itm", 5, 1, "disable ITM"},
	}
)

// ia64ARNames names the application registers arN (Itanium SDM vol. 1
// §3.1.8); unnamed slots are reserved.
func ia64ARNames() map[int]string {
	return map[int]string{
		0: "kr0", 1: "kr1", 2: "kr2", 3: "kr3", 4: "kr4", 5: "kr5", 6: "kr6", 7: "kr7",
		16: "rsc", 17: "bsp", 18: "bspstore", 19: "rnat", 21: "fcr", 24: "eflag", 25: "csd",
		26: "ssd", 27: "cflg", 28: "fsr", 29: "fir", 30: "fdr", 32: "ccv", 36: "unat",
		40: "fpsr", 44: "itc", 64: "pfs", 65: "lc", 66: "ec",
	}
}

// ia64CRNames names the control registers crN (Itanium SDM vol. 2 §3.3),
// as Xen's vcpu_cr_regs and mapped_regs unions do.
func ia64CRNames() map[int]string {
	return map[int]string{
		0: "dcr", 1: "itm", 2: "iva", 8: "pta", 16: "ipsr", 17: "isr", 19: "iip", 20: "ifa",
		21: "itir", 22: "iipa", 23: "ifs", 24: "iim", 25: "iha", 64: "lid", 65: "ivr",
		66: "tpr", 67: "eoi", 68: "irr0", 69: "irr1", 70: "irr2", 71: "irr3", 72: "itv",
		73: "pmv", 74: "cmcv", 80: "lrr0", 81: "lrr1",
	}
}

// ia64CRMeanings says what each control register holds. These tables are
// made when the ia64 layouts are built, not at process start.
func ia64CRMeanings() map[string]string {
	return map[string]string{
		"dcr": "default control", "itm": "interval timer match", "iva": "interruption vector address",
		"pta": "page table address", "ipsr": "interruption psr", "isr": "interruption status",
		"iip": "interruption instruction pointer", "ifa": "interruption faulting address",
		"itir": "interruption TLB insertion", "iipa": "interruption instruction previous address",
		"ifs": "interruption function state", "iim": "interruption immediate", "iha": "interruption hash address",
		"lid": "local interrupt id", "ivr": "interrupt vector", "tpr": "task priority", "eoi": "end of interrupt",
		"itv": "interval timer vector", "pmv": "performance monitor vector", "cmcv": "corrected machine check vector",
		"lrr0": "local redirection 0", "lrr1": "local redirection 1",
	}
}

// words lays out n consecutive 8-byte fields named prefix0.. at off.
func words(prefix string, off, n int, group string, reg bool, meaning string) []Spec {
	out := make([]Spec, n)
	for i := range out {
		out[i] = Spec{Name: fmt.Sprintf("%s%d", prefix, i), Off: off + 8*i, Size: 8, Group: group, Reg: reg, Meaning: meaning}
	}
	return out
}

// regFile lays out a 128-entry register file (ar[] or cr[]) at off: named
// slots are registers, the others reserved.
func regFile(off int, names map[int]string, prefix, group string, meanings map[string]string) []Spec {
	out := make([]Spec, 128)
	for i := range out {
		s := Spec{Name: fmt.Sprintf("%s[%d]", prefix, i), Off: off + 8*i, Size: 8, Meaning: "reserved"}
		if n, ok := names[i]; ok {
			s.Name, s.Group, s.Reg = n, group, true
			s.Meaning = fmt.Sprintf("%s%d", prefix, i)
			if m := meanings[n]; m != "" {
				s.Meaning += ": " + m
			}
			if n == "ipsr" {
				s.Bits = ia64PSRBits.decode
			}
		}
		out[i] = s
	}
	return out
}

// The ia64 layouts are built on first use (lazyStruct).
var ia64Context, ia64MappedRegs lazyStruct

// IA64Context is the ia64 vcpu_guest_context (22208 bytes); regs starts
// at 16 because it is 16-byte aligned (formats.md §5.8).
func IA64Context() *Struct {
	return ia64Context.get(func() *Struct {
		const r = 16 // vcpu_guest_context_regs
		f := []Spec{{Name: "flags", Off: 0, Size: 8, Group: model.GroupFlags, Reg: true, Bits: ia64VGCFBits.decode, Meaning: "VGCF_* flags"}}
		f = append(f, words("r", r, 32, model.GroupGeneral, true, "general register")...)
		f = append(f, words("b", r+256, 8, model.GroupGeneral, true, "branch register")...)
		f = append(f, words("bank", r+320, 16, model.GroupGeneral, true, "banked register r16-r31 of the inactive bank")...)
		f = append(f,
			Spec{Name: "ip", Off: r + 448, Size: 8, Group: model.GroupGeneral, Reg: true, Meaning: "instruction pointer"},
			Spec{Name: "psr", Off: r + 456, Size: 8, Group: model.GroupFlags, Reg: true, Bits: ia64PSRBits.decode, Meaning: "processor status register"},
			Spec{Name: "cfm", Off: r + 464, Size: 8, Group: model.GroupGeneral, Reg: true, Meaning: "current frame marker"},
			Spec{Name: "pr", Off: r + 472, Size: 8, Group: model.GroupGeneral, Reg: true, Meaning: "predicate registers p0-p63"},
			Spec{Name: "nats", Off: r + 480, Size: 4, Group: model.GroupGeneral, Reg: true, Meaning: "NaT bits of r1-r31"},
			Spec{Name: "bnats", Off: r + 484, Size: 4, Group: model.GroupGeneral, Reg: true, Meaning: "NaT bits of the banked registers"},
		)
		f = append(f, regFile(r+488, ia64ARNames(), "ar", model.GroupGeneral, nil)...)
		f = append(f, regFile(r+1512, ia64CRNames(), "cr", model.GroupControl, ia64CRMeanings())...)
		for i := 0; i < 128; i++ {
			f = append(f, Spec{Name: fmt.Sprintf("f%d", i), Off: r + 2544 + 16*i, Size: 16, Meaning: "floating-point register (pt_fpreg, 82 bits in 16 bytes)"})
		}
		f = append(f, words("dbr", r+4592, 8, model.GroupDebug, true, "data breakpoint register")...)
		f = append(f, words("ibr", r+4656, 8, model.GroupDebug, true, "instruction breakpoint register")...)
		f = append(f, words("rr", r+4720, 8, model.GroupControl, true, "region register")...)
		f = append(f, words("pkr", r+4784, 16, model.GroupControl, true, "protection key register")...)
		f = append(f,
			Spec{Name: "xip", Off: r + 4912, Size: 8, Meaning: "ip at the last debug event"},
			Spec{Name: "xpsr", Off: r + 4920, Size: 8, Meaning: "psr at the last debug event"},
			Spec{Name: "xfs", Off: r + 4928, Size: 8, Meaning: "cfm at the last debug event"})
		f = append(f, words("xr", r+4936, 4, "", false, "extra register at the last debug event")...)
		for i, kind := range []string{"itr", "dtr"} {
			for j := 0; j < 12; j++ {
				off := r + 4968 + i*384 + 32*j
				p := fmt.Sprintf("tr.%ss[%d].", kind, j)
				f = append(f,
					Spec{Name: p + "pte", Off: off, Size: 8, Meaning: "translation register: page table entry"},
					Spec{Name: p + "itir", Off: off + 8, Size: 8, Meaning: "translation register: page size and key"},
					Spec{Name: p + "vadr", Off: off + 16, Size: 8, Meaning: "translation register: virtual address"},
					Spec{Name: p + "rid", Off: off + 24, Size: 8, Meaning: "translation register: region id"})
			}
		}
		f = append(f,
			Spec{Name: "excp_iipa", Off: r + 5736, Size: 8, Meaning: "physical iipa at a debug event"},
			Spec{Name: "excp_ifa", Off: r + 5744, Size: 8, Meaning: "physical ifa at a debug event"},
			Spec{Name: "excp_isr", Off: r + 5752, Size: 8, Meaning: "physical isr at a debug event"},
			Spec{Name: "excp_vector", Off: r + 5760, Size: 4, Meaning: "vector of the debug event"},
			Spec{Name: "rbs_voff", Off: r + 5764, Size: 4, Meaning: "offset / 8 of the backing store image within its 512-byte alignment"},
			Spec{Name: "rbs", Off: r + 5768, Size: 16384, Meaning: "image of the stacked registers not yet stored to memory (rbs[2048])"},
			Spec{Name: "rbs_rnat", Off: r + 22152, Size: 8, Meaning: "NaT bits of the in-memory backing store"},
			Spec{Name: "num_phys_stacked", Off: r + 22160, Size: 8, Meaning: "RSE.N_STACKED_PHYS"},
			Spec{Name: "event_callback_ip", Off: 22192, Size: 8, Group: model.GroupOther, Reg: true, Meaning: "address of the event callback"},
			Spec{Name: "privregs_pfn", Off: 22200, Size: 8, Group: model.GroupOther, Reg: true, Meaning: "frame of the mapped_regs page (VGC_PRIVREGS_HVM = 1 for HVM)"},
		)
		return newStruct("vcpu_guest_context", IA64, IA64ContextSize, f)
	})
}

// IA64MappedRegs is mapped_regs_t (4096 bytes, formats.md §5.7).
func IA64MappedRegs() *Struct {
	return ia64MappedRegs.get(func() *Struct {
		f := []Spec{
			{Name: "vac", Off: 0, Size: 8, Group: model.GroupControl, Reg: true, Bits: ia64VACBits.decode, Meaning: "virtualization acceleration control"},
			{Name: "vdc", Off: 8, Size: 8, Group: model.GroupControl, Reg: true, Bits: ia64VDCBits.decode, Meaning: "virtualization disable control"},
			{Name: "virt_env_vaddr", Off: 16, Size: 8, Meaning: "virtual environment address"},
			{Name: "reserved1", Off: 24, Size: 232, Meaning: "reserved"},
			{Name: "vhpi", Off: 256, Size: 8, Group: model.GroupControl, Reg: true, Meaning: "highest pending interrupt"},
			{Name: "reserved2", Off: 264, Size: 760, Meaning: "reserved"},
		}
		f = append(f, words("vgr", 1024, 16, model.GroupGeneral, true, "bank 1 r16-r31 (when bank 0 is active)")...)
		f = append(f, words("vbgr", 1152, 16, model.GroupGeneral, true, "bank 0 r16-r31 (when bank 1 is active)")...)
		f = append(f,
			Spec{Name: "vnat", Off: 1280, Size: 8, Group: model.GroupGeneral, Reg: true, Meaning: "NaT bits of vgr"},
			Spec{Name: "vbnat", Off: 1288, Size: 8, Group: model.GroupGeneral, Reg: true, Meaning: "NaT bits of vbgr"})
		f = append(f, words("vcpuid", 1296, 5, "", false, "virtual cpuid register")...)
		f = append(f,
			Spec{Name: "reserved3", Off: 1336, Size: 88, Meaning: "reserved"},
			Spec{Name: "vpsr", Off: 1424, Size: 8, Group: model.GroupFlags, Reg: true, Bits: ia64PSRBits.decode, Meaning: "virtual processor status register"},
			Spec{Name: "vpr", Off: 1432, Size: 8, Group: model.GroupGeneral, Reg: true, Meaning: "virtual predicate registers"},
			Spec{Name: "reserved4", Off: 1440, Size: 608, Meaning: "reserved"})
		f = append(f, regFile(2048, ia64CRNames(), "vcr", model.GroupControl, ia64CRMeanings())...)
		f = append(f,
			Spec{Name: "precover_ifs", Off: 3072, Size: 8, Group: model.GroupOther, Reg: true, Meaning: "ifs before the last cover"},
			Spec{Name: "unat", Off: 3080, Size: 8, Group: model.GroupGeneral, Reg: true, Meaning: "user NaT collection"},
			Spec{Name: "interrupt_collection_enabled", Off: 3088, Size: 4, Group: model.GroupFlags, Reg: true, Meaning: "virtual psr.ic"},
			Spec{Name: "interrupt_mask_addr", Off: 3096, Size: 8, Meaning: "address of this vCPU's evtchn_upcall_mask"},
			Spec{Name: "pending_interruption", Off: 3104, Size: 4, Group: model.GroupFlags, Reg: true, Meaning: "an interruption is pending"},
			Spec{Name: "vpsr_pp", Off: 3108, Size: 1, Meaning: "virtual psr.pp"},
			Spec{Name: "vpsr_dfh", Off: 3109, Size: 1, Meaning: "virtual psr.dfh"},
			Spec{Name: "hpsr_dfh", Off: 3110, Size: 1, Meaning: "host psr.dfh"},
			Spec{Name: "hpsr_mfh", Off: 3111, Size: 1, Meaning: "host psr.mfh"},
			Spec{Name: "reserved5_1", Off: 3112, Size: 32, Meaning: "reserved"},
			Spec{Name: "metaphysical_mode", Off: 3144, Size: 4, Group: model.GroupControl, Reg: true, Meaning: "1: metaphysical (untranslated) addressing"},
			Spec{Name: "banknum", Off: 3148, Size: 4, Group: model.GroupGeneral, Reg: true, Meaning: "active register bank (0 or 1)"})
		f = append(f, words("rrs", 3152, 8, model.GroupControl, true, "virtual region register")...)
		f = append(f, words("krs", 3216, 8, model.GroupGeneral, true, "virtual kernel register")...)
		f = append(f, words("tmp", 3280, 16, "", false, "hyperprivop scratch register")...)
		f = append(f,
			Spec{Name: "itc_offset", Off: 3408, Size: 8, Group: model.GroupOther, Reg: true, Meaning: "virtual ar.itc = machine ar.itc + itc_offset"},
			Spec{Name: "itc_last", Off: 3416, Size: 8, Group: model.GroupOther, Reg: true, Meaning: "last ar.itc given to the guest"},
			Spec{Name: "reserved5", Off: 3424, Size: 672, Meaning: "reserved (rest of the private area)"})
		return newStruct("mapped_regs_t", IA64, IA64MappedRegsSize, f)
	})
}

// DecodeIA64Context decodes an ia64 vcpu_guest_context record that starts
// at file offset base.
func DecodeIA64Context(order binary.ByteOrder, rec []byte, base int64) (model.RegisterSet, error) {
	return decodeWhole(IA64Context(), model.SourceXenVCPUContext, order, rec, base)
}

// DecodeIA64MappedRegs decodes an ia64 mapped_regs_t record.
func DecodeIA64MappedRegs(order binary.ByteOrder, rec []byte, base int64) (model.RegisterSet, error) {
	return decodeWhole(IA64MappedRegs(), model.SourceIA64MappedRegs, order, rec, base)
}

func decodeWhole(s *Struct, src model.RegSource, order binary.ByteOrder, rec []byte, base int64) (model.RegisterSet, error) {
	if len(rec) < s.Size {
		return model.RegisterSet{}, fmt.Errorf("ia64 %s needs %d bytes, the record has %d", s.Name, s.Size, len(rec))
	}
	return model.RegisterSet{Source: src, Arch: IA64, Registers: s.Registers(order, rec[:s.Size], base), Offset: model.FileOff(base)}, nil
}
