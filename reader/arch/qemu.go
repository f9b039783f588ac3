package arch

import (
	"encoding/binary"
	"fmt"

	"dumpscope/model"
)

// QEMU's "QEMU" note holds a QEMUCPUState (QEMU target/i386/arch_dump.c):
// version, size, the general registers in QEMU's order, ten segment caches
// of 24 bytes, cr0..cr4 and, since about 2018, kernel_gs_base. The "size"
// field says how much was written: 432 bytes before kernel_gs_base, 440
// after (formats.md §3.6).

// QEMUCPUStateMinSize is the size of the oldest QEMUCPUState.
const QEMUCPUStateMinSize = 432

var qemuSegments = []string{"cs", "ds", "es", "fs", "gs", "ss", "ldt", "tr", "gdt", "idt"}

// qemuCPUState builds the layout with register names of the given
// architecture: x86_64 names, or i386 names (eax...) for 32-bit guests,
// whose upper halves and r8..r15 are zero.
func qemuCPUState(archName string) *Struct {
	gpr := []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags"}
	if archName == I386 {
		gpr = []string{"eax", "ebx", "ecx", "edx", "esi", "edi", "esp", "ebp",
			"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "eip", "eflags"}
	}
	f := []Spec{
		{Name: "version", Off: 0, Size: 4, Meaning: "QEMUCPUState version (always 1)"},
		{Name: "size", Off: 4, Size: 4, Meaning: "bytes of the structure written (432, or 440 with kernel_gs_base)"},
	}
	for i, n := range gpr {
		s := Spec{Name: n, Off: 8 + 8*i, Size: 8, Group: model.GroupGeneral, Reg: true, Meaning: regMeaning(n), Bits: bitsFor(n)}
		if n == "rflags" || n == "eflags" {
			s.Group = model.GroupFlags
		}
		if archName == I386 && len(n) <= 3 && n[0] == 'r' {
			s.Reg = false // r8..r15 do not exist in 32-bit mode
			s.Meaning = "unused in 32-bit mode"
		}
		f = append(f, s)
	}
	for i, seg := range qemuSegments {
		off := 152 + 24*i
		isTable := seg == "gdt" || seg == "idt"
		f = append(f,
			Spec{Name: selectorName(seg), Off: off, Size: 4, Group: model.GroupSegment, Reg: !isTable, Meaning: seg + " selector", Bits: bitsFor(seg)},
			Spec{Name: seg + "_limit", Off: off + 4, Size: 4, Group: model.GroupSegment, Reg: true, Meaning: seg + " limit"},
			Spec{Name: seg + "_flags", Off: off + 8, Size: 4, Group: model.GroupSegment, Reg: !isTable, Meaning: seg + " descriptor flags (QEMU's cached second dword)", Bits: segFlagsBits.decode},
			Spec{Name: seg + "_pad", Off: off + 12, Size: 4, Meaning: "padding"},
			Spec{Name: seg + "_base", Off: off + 16, Size: 8, Group: model.GroupSegment, Reg: true, Meaning: seg + " base address"},
		)
	}
	for i := 0; i < 5; i++ {
		n := fmt.Sprintf("cr%d", i)
		f = append(f, Spec{Name: n, Off: 392 + 8*i, Size: 8, Group: model.GroupControl, Reg: i != 1, Meaning: regMeaning(n), Bits: bitsFor(n)})
	}
	f = append(f, Spec{Name: "kernel_gs_base", Off: 432, Size: 8, Group: model.GroupSegment, Reg: true, Meaning: regMeaning("kernel_gs_base")})
	return newStruct("QEMUCPUState", archName, 440, f)
}

// QEMUCPUStateX8664 and QEMUCPUStateI386 are the two namings of one layout.
// They are built on first use (lazyStruct).
var qemuCPUStateX8664, qemuCPUStateI386 lazyStruct

// QEMUCPUStateX8664 is QEMUCPUState with x86_64's register names.
func QEMUCPUStateX8664() *Struct {
	return qemuCPUStateX8664.get(func() *Struct { return qemuCPUState(X8664) })
}

// QEMUCPUStateI386 is QEMUCPUState with i386's register names.
func QEMUCPUStateI386() *Struct {
	return qemuCPUStateI386.get(func() *Struct { return qemuCPUState(I386) })
}

// QEMUCPUStateFor returns the layout with the register names of archName.
func QEMUCPUStateFor(archName string) *Struct {
	if archName == I386 {
		return QEMUCPUStateI386()
	}
	return QEMUCPUStateX8664()
}

// QEMUCPUStateLayout returns the layout of a "QEMU" note descriptor and
// the part of desc it covers: fields past the size the structure announces
// are not decoded. It fails when desc is too short or of an unknown
// version.
func QEMUCPUStateLayout(archName string, order binary.ByteOrder, desc []byte) (*Struct, []byte, error) {
	if len(desc) < QEMUCPUStateMinSize {
		return nil, nil, fmt.Errorf("QEMUCPUState is %d bytes, at least %d expected", len(desc), QEMUCPUStateMinSize)
	}
	s := QEMUCPUStateFor(archName)
	if v, _ := s.Value(order, desc, "version"); v != 1 {
		return nil, nil, fmt.Errorf("QEMUCPUState version %d, only 1 is known", v)
	}
	size, _ := s.Value(order, desc, "size")
	if size < QEMUCPUStateMinSize || size > uint64(len(desc)) {
		size = uint64(min(len(desc), s.Size))
	}
	return s, desc[:size], nil
}

// DecodeQEMUCPUState decodes a "QEMU" note descriptor. The descriptor is in
// QEMU-host byte order, which is little-endian in practice.
func DecodeQEMUCPUState(archName string, order binary.ByteOrder, desc []byte, base int64) (model.RegisterSet, error) {
	s, b, err := QEMUCPUStateLayout(archName, order, desc)
	if err != nil {
		return model.RegisterSet{}, err
	}
	return model.RegisterSet{Source: model.SourceQEMUCPUState, Arch: archName, Registers: s.Registers(order, b, base), Offset: model.FileOff(base)}, nil
}

// selectorName names a segment cache's selector field after the segment
// ("cs"), as prstatus does, so the two sources can be compared by name.
// The GDT and IDT caches have no selector.
func selectorName(seg string) string {
	if seg == "gdt" || seg == "idt" {
		return seg + "_selector"
	}
	return seg
}
