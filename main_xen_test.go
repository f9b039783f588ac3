package main

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"

	"dumpscope/reader/dumptest"
)

// writeXenDumps writes writer-made Xen cores for the scripts: an x86_64 PV
// domain (p2m table), an x86_32 HVM domain (pfn table) and a legacy core.
func writeXenDumps(dir string) error {
	le := binary.LittleEndian
	regs := dumptest.XenX86Regs{Flags: 0x25, IP: 0xffffffff81000100, SP: 0xffff880001234000, RFlags: 0x246,
		CS: 0xe033, SS: 0xe02b, CtrlReg: [8]uint64{0x80050033, 0, 0, 0x1234000, 0x2660}}
	pv := &dumptest.XenCore{Machine: elf.EM_X86_64,
		Pages: dumptest.SortedXenPages(0, 32, func(p uint64) bool { return p == 7 }, func(p uint64) uint64 { return 0x8000 + p*3 }),
		VCPUs: [][]byte{regs.Context64(le), regs.Context64(le)}}
	pvb, _ := pv.Bytes()
	regs32 := dumptest.XenX86Regs{Flags: 0x25, IP: 0xc0100000, SP: 0xc1000000, RFlags: 0x202, CS: 0x60,
		CtrlReg: [8]uint64{0x80050033, 0, 0, dumptest.XenCR3For32(0x123456)}}
	hvm := &dumptest.XenCore{Machine: elf.EM_386, HVM: true,
		Pages: dumptest.SortedXenPages(0x100, 16, nil, nil),
		VCPUs: [][]byte{regs32.Context32(le)}}
	hvmb, _ := hvm.Bytes()
	legacy := &dumptest.XenLegacyCore{VCPUs: [][]byte{regs.Context64(le)},
		Pages: []dumptest.XenLegacyPage{{MFN: 0x500}, {MFN: 0x123}, {MFN: 0x321}}}
	for name, b := range map[string][]byte{"pv.xen": pvb, "hvm32.xen": hvmb, "legacy.xen": legacy.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
