package unwind

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// StackKind names a kernel stack (arch/x86/include/asm/stacktrace.h enum
// stack_type; arch/x86/kernel/dumpstack_64.c and dumpstack_32.c).
type StackKind uint8

// The stacks. The exception stacks are x86_64's IST stacks in the
// cpu_entry_area (asm/cpu_entry_area.h ESTACKS_MEMBERS).
const (
	StackUnknown StackKind = iota
	StackTask              // the task's stack: [task->stack, +THREAD_SIZE)
	StackIRQ               // the CPU's hard IRQ stack (x86_64: softirqs too)
	StackSoftIRQ           // i386's separate softirq stack
	StackEntry             // the cpu_entry_area entry (trampoline) stack
	StackDF                // #DF IST stack
	StackNMI               // NMI IST stack
	StackDB                // #DB IST stack
	StackMCE               // #MC IST stack
	StackVC                // #VC IST stack (SEV-ES)
	StackVC2               // #VC fallback IST stack
	numStackKinds
)

var stackNames = [...]string{"unknown", "task", "IRQ", "softirq", "entry", "DF", "NMI", "DB", "MCE", "VC", "VC2"}

func (k StackKind) String() string { return enumName(stackNames[:], k, "stack") }

// Stack is one stack's bounds: [Lo, Hi).
type Stack struct {
	Kind   StackKind
	Lo, Hi uint64
}

func (s Stack) contains(va uint64, n uint64) bool {
	return va >= s.Lo && va < s.Hi && n <= s.Hi-va
}

func (s Stack) String() string { return fmt.Sprintf("%s stack %#x-%#x", s.Kind, s.Lo, s.Hi) }

// Stacks says which stack holds an address. The caller builds it per CPU
// (or per task) from what the kernel records:
//
//   - the task stack: task->stack (BTF), THREAD_SIZE long (16 KiB on
//     x86_64 without KASAN, 8 KiB on i386; kallsyms' init_stack has that
//     size); for the task running on a CPU also the per-CPU
//     cpu_current_top_of_stack (6.1; pcpu_hot.top_of_stack 6.2–6.14),
//     which is its top;
//   - the IRQ stack: per-CPU hardirq_stack_ptr (5.x–6.1; pcpu_hot in
//     6.2–6.14), which points 8 bytes below the top of an IRQ_STACK_SIZE
//     (16 KiB) stack;
//   - the exception (IST) stacks: their tops are the TSS's ist[] slots,
//     per-CPU cpu_tss_rw.x86_tss.ist[0..4] = DF, NMI, DB, MCE, VC (a
//     hardware-defined layout: ist[] at byte 36 of struct x86_hw_tss),
//     each EXCEPTION_STKSZ long (8 KiB on 6.1, from cea_exception_stacks
//     or BTF's struct cea_exception_stacks);
//   - the entry stack: the page below the TSS's sp0 (x86_64 since 4.15).
//
// An unwinder asks StackOf only about addresses it is about to read or
// move to, and ByKind for the NMI stack, where it looks for an NMI in
// progress.
type Stacks interface {
	StackOf(va uint64) (Stack, bool)
	ByKind(k StackKind) (Stack, bool)
}

// StackSet is a Stacks of a few stacks.
type StackSet []Stack

// StackOf returns the first stack that holds va.
func (s StackSet) StackOf(va uint64) (Stack, bool) {
	for _, st := range s {
		if st.contains(va, 1) {
			return st, true
		}
	}
	return Stack{}, false
}

// ByKind returns the first stack of a kind.
func (s StackSet) ByKind(k StackKind) (Stack, bool) {
	for _, st := range s {
		if st.Kind == k {
			return st, true
		}
	}
	return Stack{}, false
}

// Regs are general registers in x86_64 struct pt_regs order (r15 r14 r13
// r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss). i386
// registers use the same names (R8–R15 are zero) plus the segment
// registers DS, ES, FS, GS.
type Regs struct {
	R15, R14, R13, R12, BP, BX, R11, R10, R9, R8 uint64
	AX, CX, DX, SI, DI, OrigAX                   uint64
	IP, CS, Flags, SP, SS                        uint64
	DS, ES, FS, GS                               uint64 // i386 only
}

// UserMode says whether the registers are a user-mode context (the CPL
// in cs, as user_mode() reads it; vm86 mode is not distinguished).
func (r *Regs) UserMode() bool { return r.CS&3 != 0 }

// ptRegs64Size and ptRegs32Size are sizeof(struct pt_regs).
const (
	ptRegs64Size = 21 * 8
	ptRegs32Size = 17 * 4
	// iretOffset64 is IRET_FRAME_OFFSET, offsetof(struct pt_regs, ip).
	iretOffset64 = 16 * 8
	// iretSize64 is IRET_FRAME_SIZE: ip cs flags sp ss.
	iretSize64 = 5 * 8
)

// decodeRegs64 decodes an x86_64 struct pt_regs (arch/x86/include/asm/ptrace.h).
func decodeRegs64(b []byte) Regs {
	w := func(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
	return Regs{
		R15: w(0), R14: w(1), R13: w(2), R12: w(3), BP: w(4), BX: w(5), R11: w(6), R10: w(7), R9: w(8), R8: w(9),
		AX: w(10), CX: w(11), DX: w(12), SI: w(13), DI: w(14), OrigAX: w(15),
		IP: w(16), CS: w(17), Flags: w(18), SP: w(19), SS: w(20),
	}
}

// decodeIret64 decodes the iret frame (ip cs flags sp ss) of a partial
// pt_regs.
func decodeIret64(b []byte) Regs {
	w := func(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
	return Regs{IP: w(0), CS: w(1), Flags: w(2), SP: w(3), SS: w(4)}
}

// decodeRegs32 decodes an i386 struct pt_regs: bx cx dx si di bp ax ds es
// fs gs orig_ax ip cs flags sp ss, 4 bytes each (the segment registers as
// u16 + padding). sp and ss are what the entry code stored; kernels before
// 5.x's FIXUP_FRAME left them unset for kernel-mode entries.
func decodeRegs32(b []byte) Regs {
	w := func(i int) uint64 { return uint64(binary.LittleEndian.Uint32(b[4*i:])) }
	return Regs{
		BX: w(0), CX: w(1), DX: w(2), SI: w(3), DI: w(4), BP: w(5), AX: w(6),
		DS: w(7) & 0xffff, ES: w(8) & 0xffff, FS: w(9) & 0xffff, GS: w(10) & 0xffff, OrigAX: w(11),
		IP: w(12), CS: w(13) & 0xffff, Flags: w(14), SP: w(15), SS: w(16) & 0xffff,
	}
}

// PtRegs is a struct pt_regs found on a stack: the context an interrupt,
// exception, NMI or system call entry saved.
type PtRegs struct {
	// Addr is where the struct starts.
	Addr uint64
	// Partial: only the iret frame (ip cs flags sp ss) is known (an ORC
	// REGS_PARTIAL frame); the other registers are zero.
	Partial bool
	Regs    Regs
}

// namedReg is one of Regs' fields with the names dump notes give it:
// x86_64's, i386's ("" where that architecture lacks the register) and
// another spelling some notes use.
type namedReg struct {
	field               *uint64
	x86_64, i386, other string
}

// named lists r's fields in x86_64 pt_regs order, then i386's segment
// registers.
func (r *Regs) named() []namedReg {
	return []namedReg{
		{&r.R15, "r15", "", ""}, {&r.R14, "r14", "", ""}, {&r.R13, "r13", "", ""}, {&r.R12, "r12", "", ""},
		{&r.BP, "rbp", "ebp", "bp"}, {&r.BX, "rbx", "ebx", "bx"},
		{&r.R11, "r11", "", ""}, {&r.R10, "r10", "", ""}, {&r.R9, "r9", "", ""}, {&r.R8, "r8", "", ""},
		{&r.AX, "rax", "eax", "ax"}, {&r.CX, "rcx", "ecx", "cx"}, {&r.DX, "rdx", "edx", "dx"},
		{&r.SI, "rsi", "esi", "si"}, {&r.DI, "rdi", "edi", "di"}, {&r.OrigAX, "orig_rax", "orig_eax", "orig_ax"},
		{&r.IP, "rip", "eip", "ip"}, {&r.CS, "cs", "cs", ""}, {&r.Flags, "rflags", "eflags", "flags"},
		{&r.SP, "rsp", "esp", "sp"}, {&r.SS, "ss", "ss", ""},
		{&r.DS, "", "ds", "xds"}, {&r.ES, "", "es", "xes"}, {&r.FS, "", "fs", "xfs"}, {&r.GS, "", "gs", "xgs"},
	}
}

// RegsFromNames builds Regs from named values as dump notes name them
// (NT_PRSTATUS: "r15" … "rip", "rsp", "rflags", "orig_rax"; i386 "eax" …
// "eip", "esp", "eflags", "orig_eax", "xds" or "ds" …). Unknown names are
// ignored.
func RegsFromNames(get func(name string) (uint64, bool)) Regs {
	var r Regs
	for _, n := range r.named() {
		for _, name := range []string{n.x86_64, n.i386, n.other} {
			if v, ok := get(name); name != "" && ok {
				*n.field = v
				break
			}
		}
	}
	return r
}

// ByName returns the registers by the names the architecture's
// NT_PRSTATUS gives them (i386's when i386, else x86_64's); a partial
// pt_regs gives only its iret frame (ip, cs, flags, sp, ss).
func (p *PtRegs) ByName(i386 bool) map[string]uint64 {
	r := p.Regs
	iret := []*uint64{&r.IP, &r.CS, &r.Flags, &r.SP, &r.SS}
	out := map[string]uint64{}
	for _, n := range r.named() {
		name := n.x86_64
		if i386 {
			name = n.i386
		}
		if name != "" && (!p.Partial || slices.Contains(iret, n.field)) {
			out[name] = *n.field
		}
	}
	return out
}
