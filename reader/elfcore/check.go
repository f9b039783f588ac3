package elfcore

import (
	"context"
	"debug/elf"

	"dumpscope/model"
	"dumpscope/reader/elfnote"
)

// Check verifies what reading pages does not: one CPU state per CPU, sane
// segments, and which common tools cannot open the file as it is
// (formats.md §3.8). Truncation, bad notes and PT_LOADs past the end of the
// file are reported when the file is opened.
func (f *File) Check(ctx context.Context, report func(model.Problem)) error {
	name := f.src.Name
	p := func(sev model.Severity, code model.Code, off int64, format string, args ...any) {
		report(model.NewProblem(sev, code, name, off, format, args...))
	}
	ns := f.loadNotes()
	var pr, qemu int
	for _, n := range ns.notes {
		switch {
		case n.Name == elfnote.NamePrstatus && n.Type == elfnote.NTPrstatus:
			pr++
		case n.Name == elfnote.NameQEMU && n.Type == 0:
			qemu++
		}
	}
	if qemu > 0 && qemu != pr {
		p(model.SeverityWarning, model.CodeCPUCountMismatch, -1, "%d QEMU CPU states but %d NT_PRSTATUS notes: one prstatus per CPU is expected", qemu, pr)
	}
	if pr == 0 && qemu == 0 {
		p(model.SeverityWarning, model.CodeNoCPUState, -1, "no NT_PRSTATUS note: the registers of the crashed CPUs are not in the dump")
	}
	for _, s := range f.loadRegisters().regs {
		zero := true
		for _, r := range s.Registers {
			zero = zero && r.Value == 0
		}
		if zero && len(s.Registers) > 0 {
			p(model.SeverityWarning, model.CodeEmptyCPUState, int64(s.Offset), "CPU %d's %s registers are all zero (an offline CPU?)", s.CPU, s.Source)
		}
	}
	var loads int
	vaddrZero := 0
	for i, ph := range f.Progs {
		if ph.Type != elf.PT_LOAD {
			continue
		}
		loads++
		if ph.Paddr+ph.Memsz < ph.Paddr {
			p(model.SeverityError, model.CodeBadProgramHeader, f.progOffset(i), "PT_LOAD [%d]: p_paddr %#x + p_memsz %#x overflows", i, ph.Paddr, ph.Memsz)
		}
		if ph.Vaddr == 0 {
			vaddrZero++
		}
	}
	if loads == 0 {
		p(model.SeverityError, model.CodeNoMemory, -1, "no PT_LOAD: the file holds no memory")
	}
	// Compatibility with other tools.
	if std := uint64(f.ehsize()); f.Phoff != std && loads > 0 {
		p(model.SeverityNote, model.CodeQEMUELFLayout, 32,
			"the program headers are at %#x, not right after the ELF header (%#x), as QEMU writes them: makedumpfile 1.7.2 ignores e_phoff and rejects this file", f.Phoff, std)
	}
	if int(f.Ehsize) != f.ehsize() {
		p(model.SeverityNote, model.CodeQEMUELFLayout, 52, "e_ehsize is %d, not %d (QEMU 7.2 writes 8): readers that check it reject the file", f.Ehsize, f.ehsize())
	}
	if vaddrZero > 0 {
		p(model.SeverityNote, model.CodeNoVirtualAddresses, -1, "%d of %d PT_LOADs have p_vaddr 0: vmcore-dmesg (kexec-tools) needs kernel virtual addresses there and fails", vaddrZero, loads)
	} else if f.noKernelText(ns.vmci) {
		p(model.SeverityNote, model.CodeNoVirtualAddresses, -1,
			"no PT_LOAD maps the kernel text (VMCOREINFO SYMBOL(_stext)) at its virtual address, as QEMU writes paging=false dumps: vmcore-dmesg (kexec-tools) fails on this file")
	}
	return ctx.Err()
}

// ehsize is the standard ELF header size for the class.
func (f *File) ehsize() int {
	if f.Class == elf.ELFCLASS32 {
		return 52
	}
	return 64
}

// noKernelText reports whether VMCOREINFO names _stext and no PT_LOAD
// covers it by virtual address.
func (f *File) noKernelText(v *model.VMCoreInfo) bool {
	stext, ok := v.Symbol("_stext")
	if !ok {
		return false
	}
	for _, ph := range f.Progs {
		if ph.Type == elf.PT_LOAD && ph.Vaddr <= stext && stext < ph.Vaddr+ph.Memsz {
			return false
		}
	}
	return true
}
