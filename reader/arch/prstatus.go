package arch

import (
	"debug/elf"
	"encoding/binary"
	"fmt"

	"dumpscope/model"
)

// Architecture names, as the JSON contract spells them.
const (
	X8664   = "x86_64"
	I386    = "i386"
	IA64    = "ia64"
	AArch64 = "aarch64"
	ARM     = "arm"
	PPC64   = "ppc64"
	PPC64LE = "ppc64le"
	S390X   = "s390x"
	RISCV64 = "riscv64"
)

// prstatusPrefix is the part of struct elf_prstatus before pr_reg, for a
// word size of 8 or 4 bytes (formats.md §3.4).
func prstatusPrefix(word int) []Spec {
	tv := 2 * word // struct timeval
	pid := 16 + 2*word
	f := []Spec{
		{Name: "pr_info.si_signo", Off: 0, Size: 4, Meaning: "signal number"},
		{Name: "pr_info.si_code", Off: 4, Size: 4, Meaning: "signal code"},
		{Name: "pr_info.si_errno", Off: 8, Size: 4, Meaning: "errno"},
		{Name: "pr_cursig", Off: 12, Size: 2, Meaning: "current signal"},
		{Name: "pr_sigpend", Off: 16, Size: word, Meaning: "pending signals"},
		{Name: "pr_sighold", Off: 16 + word, Size: word, Meaning: "held (blocked) signals"},
		{Name: "pr_pid", Off: pid, Size: 4, Meaning: "pid of the task on this CPU (QEMU: vCPU index + 1)"},
		{Name: "pr_ppid", Off: pid + 4, Size: 4, Meaning: "parent pid"},
		{Name: "pr_pgrp", Off: pid + 8, Size: 4, Meaning: "process group"},
		{Name: "pr_sid", Off: pid + 12, Size: 4, Meaning: "session id"},
	}
	t := pid + 16
	for _, n := range []string{"pr_utime", "pr_stime", "pr_cutime", "pr_cstime"} {
		f = append(f,
			Spec{Name: n + ".tv_sec", Off: t, Size: word, Meaning: "seconds"},
			Spec{Name: n + ".tv_usec", Off: t + word, Size: word, Meaning: "microseconds"})
		t += tv
	}
	return f
}

// prstatus builds an elf_prstatus layout: prefix, the registers at regOff
// (each regSize bytes, names in order), then pr_fpvalid.
func prstatus(arch string, word, size int, regs []Spec) *Struct {
	f := prstatusPrefix(word)
	f = append(f, regs...)
	last := regs[len(regs)-1]
	f = append(f, Spec{Name: "pr_fpvalid", Off: last.Off + last.Size, Size: 4, Meaning: "FPU registers valid"})
	return newStruct("elf_prstatus", arch, size, f)
}

func withBits(specs []Spec) []Spec {
	for i := range specs {
		specs[i].Bits = bitsFor(specs[i].Name)
		switch specs[i].Name {
		case "cs", "ds", "es", "fs", "gs", "ss":
			specs[i].Group = model.GroupSegment
		case "rflags", "eflags":
			specs[i].Group = model.GroupFlags
		}
	}
	return specs
}

// The elf_prstatus layouts are built on first use (lazyStruct): a process
// that opens one dump needs one of them, and building all of them at start
// cost a millisecond of every command.
var prstatusX8664, prstatusI386, prstatusAArch64, prstatusARM, prstatusPPC64, prstatusS390X, prstatusRISCV64 lazyStruct

// PrstatusX8664 is elf_prstatus of x86_64 (336 bytes, pr_reg at 112).
func PrstatusX8664() *Struct {
	return prstatusX8664.get(func() *Struct {
		return prstatus(X8664, 8, 336, withBits(seq(112, 8, model.GroupGeneral, true,
			"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax",
			"rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "rflags", "rsp", "ss",
			"fs_base", "gs_base", "ds", "es", "fs", "gs")))
	})
}

// PrstatusI386 is elf_prstatus of i386 (144 bytes, pr_reg at 72).
func PrstatusI386() *Struct {
	return prstatusI386.get(func() *Struct {
		return prstatus(I386, 4, 144, withBits(seq(72, 4, model.GroupGeneral, true,
			"ebx", "ecx", "edx", "esi", "edi", "ebp", "eax", "ds", "es", "fs", "gs",
			"orig_eax", "eip", "cs", "eflags", "esp", "ss")))
	})
}

// PrstatusAArch64 is elf_prstatus of aarch64 (392 bytes).
func PrstatusAArch64() *Struct {
	return prstatusAArch64.get(func() *Struct {
		var names []string
		for i := 0; i <= 30; i++ {
			names = append(names, fmt.Sprintf("x%d", i))
		}
		return prstatus(AArch64, 8, 392, seq(112, 8, model.GroupGeneral, true, append(names, "sp", "pc", "pstate")...))
	})
}

// PrstatusARM is elf_prstatus of 32-bit ARM (148 bytes).
func PrstatusARM() *Struct {
	return prstatusARM.get(func() *Struct {
		var names []string
		for i := 0; i <= 15; i++ {
			names = append(names, fmt.Sprintf("r%d", i))
		}
		return prstatus(ARM, 4, 148, seq(72, 4, model.GroupGeneral, true, append(names, "cpsr", "orig_r0")...))
	})
}

// PrstatusPPC64 is elf_prstatus of ppc64 and ppc64le (504 bytes).
func PrstatusPPC64() *Struct {
	return prstatusPPC64.get(func() *Struct {
		var names []string
		for i := 0; i <= 31; i++ {
			names = append(names, fmt.Sprintf("gpr%d", i))
		}
		names = append(names, "nip", "msr", "orig_gpr3", "ctr", "link", "xer", "ccr", "softe",
			"trap", "dar", "dsisr", "result", "unused44", "unused45", "unused46", "unused47")
		return prstatus(PPC64, 8, 504, seq(112, 8, model.GroupGeneral, true, names...))
	})
}

// PrstatusS390X is elf_prstatus of s390x (336 bytes).
func PrstatusS390X() *Struct {
	return prstatusS390X.get(func() *Struct {
		regs := []Spec{
			{Name: "psw_mask", Off: 112, Size: 8, Group: model.GroupControl, Reg: true, Meaning: "program status word: mask"},
			{Name: "psw_addr", Off: 120, Size: 8, Group: model.GroupControl, Reg: true, Meaning: "program status word: instruction address"},
		}
		for i := 0; i < 16; i++ {
			regs = append(regs, Spec{Name: fmt.Sprintf("gpr%d", i), Off: 128 + 8*i, Size: 8, Group: model.GroupGeneral, Reg: true, Meaning: "general-purpose register"})
		}
		for i := 0; i < 16; i++ {
			regs = append(regs, Spec{Name: fmt.Sprintf("acr%d", i), Off: 256 + 4*i, Size: 4, Group: model.GroupSegment, Reg: true, Meaning: "access register"})
		}
		regs = append(regs, Spec{Name: "orig_gpr2", Off: 320, Size: 8, Group: model.GroupGeneral, Reg: true, Meaning: "original gpr2"})
		return prstatus(S390X, 8, 336, regs)
	})
}

// PrstatusRISCV64 is elf_prstatus of riscv64 (376 bytes; pc then x1..x31).
func PrstatusRISCV64() *Struct {
	return prstatusRISCV64.get(func() *Struct {
		names := []string{"pc"}
		for i := 1; i <= 31; i++ {
			names = append(names, fmt.Sprintf("x%d", i))
		}
		return prstatus(RISCV64, 8, 376, seq(112, 8, model.GroupGeneral, true, names...))
	})
}

// FromELF maps an ELF header's e_machine (with its class and byte order,
// which tell ppc64 from ppc64le and riscv64 from riscv32) to the
// contract's architecture names.
func FromELF(m elf.Machine, c elf.Class, o binary.ByteOrder) string {
	switch m {
	case elf.EM_X86_64:
		return X8664
	case elf.EM_386:
		return I386
	case elf.EM_AARCH64:
		return AArch64
	case elf.EM_ARM:
		return ARM
	case elf.EM_PPC64:
		if o == binary.ByteOrder(binary.LittleEndian) {
			return PPC64LE
		}
		return PPC64
	case elf.EM_S390:
		return S390X
	case elf.EM_RISCV:
		if c == elf.ELFCLASS64 {
			return RISCV64
		}
		return "riscv32"
	case elf.EM_IA_64:
		return IA64
	}
	return fmt.Sprintf("unknown (e_machine %d)", uint16(m))
}

// PrstatusFor picks the elf_prstatus layout for an architecture and a
// descriptor size. On x86 the size decides, because QEMU writes i386
// prstatus notes into EM_X86_64 files when the first vCPU is not in long
// mode (formats.md §3.6).
func PrstatusFor(archName string, descSize int) (*Struct, bool) {
	switch archName {
	case X8664, I386:
		switch descSize {
		case PrstatusX8664().Size:
			return PrstatusX8664(), true
		case PrstatusI386().Size:
			return PrstatusI386(), true
		}
		return nil, false
	case AArch64:
		return PrstatusAArch64(), descSize >= PrstatusAArch64().Size
	case ARM:
		return PrstatusARM(), descSize >= PrstatusARM().Size
	case PPC64, PPC64LE:
		return PrstatusPPC64(), descSize >= PrstatusPPC64().Size
	case S390X:
		return PrstatusS390X(), descSize >= PrstatusS390X().Size
	case RISCV64:
		return PrstatusRISCV64(), descSize >= PrstatusRISCV64().Size
	}
	return nil, false
}

// PrstatusLayout returns the elf_prstatus layout of the architecture that
// a descriptor of desc's length holds, or why there is none.
func PrstatusLayout(archName string, desc []byte) (*Struct, error) {
	s, ok := PrstatusFor(archName, len(desc))
	if !ok {
		return nil, fmt.Errorf("no %s elf_prstatus layout is %d bytes long", archName, len(desc))
	}
	return s, nil
}

// DecodePrstatus decodes an NT_PRSTATUS descriptor into a register set.
func DecodePrstatus(archName string, order binary.ByteOrder, desc []byte, base int64) (model.RegisterSet, error) {
	s, err := PrstatusLayout(archName, desc)
	if err != nil {
		return model.RegisterSet{}, err
	}
	set := model.RegisterSet{Source: model.SourcePrstatus, Arch: s.Arch, Registers: s.Registers(order, desc, base), Offset: model.FileOff(base)}
	if pid, ok := s.Value(order, desc, "pr_pid"); ok {
		p := int64(int32(pid))
		set.PID = &p
	}
	if sig, ok := s.Value(order, desc, "pr_cursig"); ok {
		v := int64(int16(sig))
		set.Signal = &v
	}
	return set, nil
}
