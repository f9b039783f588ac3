package arch

import "dumpscope/model"

// bitDef names a bit range of a register.
type bitDef struct {
	name    string
	shift   uint
	width   uint
	meaning string
}

// bitTable names the bit ranges of a register. The tables are constant
// data: nothing is built for them when the program starts.
type bitTable []bitDef

// decode is the table's BitsFunc.
func (t bitTable) decode(dst []model.BitField, v uint64) []model.BitField {
	for _, d := range t {
		dst = append(dst, model.BitField{Name: d.name, Shift: d.shift, Width: d.width,
			Value: (v >> d.shift) & (1<<d.width - 1), Meaning: d.meaning})
	}
	return dst
}

// x86 EFLAGS/RFLAGS (Intel SDM vol. 1 §3.4.3).
var flagsBits = bitTable{
	{"CF", 0, 1, "carry"},
	{"PF", 2, 1, "parity"},
	{"AF", 4, 1, "auxiliary carry"},
	{"ZF", 6, 1, "zero"},
	{"SF", 7, 1, "sign"},
	{"TF", 8, 1, "trap (single step)"},
	{"IF", 9, 1, "interrupts enabled"},
	{"DF", 10, 1, "direction"},
	{"OF", 11, 1, "overflow"},
	{"IOPL", 12, 2, "I/O privilege level"},
	{"NT", 14, 1, "nested task"},
	{"RF", 16, 1, "resume"},
	{"VM", 17, 1, "virtual-8086 mode"},
	{"AC", 18, 1, "alignment check / SMAP access"},
	{"VIF", 19, 1, "virtual interrupt flag"},
	{"VIP", 20, 1, "virtual interrupt pending"},
	{"ID", 21, 1, "CPUID available"},
}

// CR0 (Intel SDM vol. 3 §2.5).
var cr0Bits = bitTable{
	{"PE", 0, 1, "protected mode"},
	{"MP", 1, 1, "monitor coprocessor"},
	{"EM", 2, 1, "x87 emulation"},
	{"TS", 3, 1, "task switched"},
	{"ET", 4, 1, "extension type"},
	{"NE", 5, 1, "native FPU errors"},
	{"WP", 16, 1, "write protect in supervisor mode"},
	{"AM", 18, 1, "alignment mask"},
	{"NW", 29, 1, "not write-through"},
	{"CD", 30, 1, "cache disable"},
	{"PG", 31, 1, "paging"},
}

// CR3 without PCIDs (Intel SDM vol. 3 §4.5).
var cr3Bits = bitTable{
	{"PWT", 3, 1, "page-level write-through"},
	{"PCD", 4, 1, "page-level cache disable"},
	{"PCID", 0, 12, "process-context identifier (when CR4.PCIDE)"},
	{"base", 12, 40, "frame of the top-level page table (physical address >> 12)"},
	{"NOFLUSH", 63, 1, "do not flush TLB on load (PCID)"},
}

// CR4 (Intel SDM vol. 3 §2.5).
var cr4Bits = bitTable{
	{"VME", 0, 1, "virtual-8086 mode extensions"},
	{"PVI", 1, 1, "protected-mode virtual interrupts"},
	{"TSD", 2, 1, "time stamp disable"},
	{"DE", 3, 1, "debugging extensions"},
	{"PSE", 4, 1, "page size extensions"},
	{"PAE", 5, 1, "physical address extension"},
	{"MCE", 6, 1, "machine check enable"},
	{"PGE", 7, 1, "global pages"},
	{"PCE", 8, 1, "performance counters at CPL 3"},
	{"OSFXSR", 9, 1, "FXSAVE/FXRSTOR support"},
	{"OSXMMEXCPT", 10, 1, "SIMD exceptions"},
	{"UMIP", 11, 1, "user-mode instruction prevention"},
	{"LA57", 12, 1, "5-level paging"},
	{"VMXE", 13, 1, "VMX enable"},
	{"SMXE", 14, 1, "SMX enable"},
	{"FSGSBASE", 16, 1, "RDFSBASE etc. enabled"},
	{"PCIDE", 17, 1, "process-context identifiers"},
	{"OSXSAVE", 18, 1, "XSAVE enabled"},
	{"KL", 19, 1, "key locker"},
	{"SMEP", 20, 1, "supervisor-mode execution prevention"},
	{"SMAP", 21, 1, "supervisor-mode access prevention"},
	{"PKE", 22, 1, "protection keys for user pages"},
	{"CET", 23, 1, "control-flow enforcement"},
	{"PKS", 24, 1, "protection keys for supervisor pages"},
}

// Segment selector (Intel SDM vol. 3 §3.4.2).
var selectorBits = bitTable{
	{"RPL", 0, 2, "requested privilege level"},
	{"TI", 2, 1, "table indicator (1 = LDT)"},
	{"index", 3, 13, "descriptor index"},
}

// QEMU's segment cache flags are the descriptor's second dword (QEMU
// target/i386/cpu.h DESC_* masks).
var segFlagsBits = bitTable{
	{"type", 8, 4, "segment type"},
	{"S", 12, 1, "code/data (1) or system (0)"},
	{"DPL", 13, 2, "descriptor privilege level"},
	{"P", 15, 1, "present"},
	{"AVL", 20, 1, "available to software"},
	{"L", 21, 1, "64-bit code segment"},
	{"B", 22, 1, "default operand size 32-bit"},
	{"G", 23, 1, "limit in 4 KiB units"},
}

// DR7 (Intel SDM vol. 3 §17.2.4).
var dr7Bits = bitTable{
	{"L0", 0, 1, "local enable bp 0"}, {"G0", 1, 1, "global enable bp 0"},
	{"L1", 2, 1, "local enable bp 1"}, {"G1", 3, 1, "global enable bp 1"},
	{"L2", 4, 1, "local enable bp 2"}, {"G2", 5, 1, "global enable bp 2"},
	{"L3", 6, 1, "local enable bp 3"}, {"G3", 7, 1, "global enable bp 3"},
	{"GD", 13, 1, "general detect"},
	{"RW0", 16, 2, "bp 0 condition"}, {"LEN0", 18, 2, "bp 0 length"},
	{"RW1", 20, 2, "bp 1 condition"}, {"LEN1", 22, 2, "bp 1 length"},
	{"RW2", 24, 2, "bp 2 condition"}, {"LEN2", 26, 2, "bp 2 length"},
	{"RW3", 28, 2, "bp 3 condition"}, {"LEN3", 30, 2, "bp 3 length"},
}

// bitsFor picks the decoder for a register by its name.
func bitsFor(name string) BitsFunc {
	switch name {
	case "rflags", "eflags":
		return flagsBits.decode
	case "cr0":
		return cr0Bits.decode
	case "cr3":
		return cr3Bits.decode
	case "cr4":
		return cr4Bits.decode
	case "cs", "ds", "es", "fs", "gs", "ss", "ldt", "tr":
		return selectorBits.decode
	case "dr7", "debugreg7":
		return dr7Bits.decode
	}
	return nil
}

// regMeaning returns a one-line meaning for a register name.
func regMeaning(n string) string {
	switch n {
	case "rip", "eip", "pc", "nip", "ip":
		return "instruction pointer"
	case "rsp", "esp", "sp":
		return "stack pointer"
	case "rbp", "ebp":
		return "frame pointer"
	case "rflags", "eflags":
		return "flags register"
	case "orig_rax", "orig_eax":
		return "syscall number / -1 (not a syscall)"
	case "fs_base":
		return "FS segment base (per-thread data)"
	case "gs_base":
		return "GS segment base (per-CPU data in the kernel)"
	case "cs":
		return "code segment selector"
	case "ss":
		return "stack segment selector"
	case "ds", "es", "fs", "gs":
		return "data segment selector"
	case "cr0":
		return "control register 0: protection and paging switches"
	case "cr2":
		return "page-fault linear address"
	case "cr3":
		return "page-table root"
	case "cr4":
		return "control register 4: paging and feature switches"
	case "kernel_gs_base":
		return "GS base swapped in by SWAPGS"
	}
	return "general-purpose register " + n
}
