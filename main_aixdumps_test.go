package main

import (
	"bytes"
	"os"
	"path/filepath"

	"dumpscope/reader/dumptest"
)

// writeAIXDumps writes the writer-made AIX dumps testdata/script/aix.txtar
// uses (formats.md §6):
//
//   - aix64.dump: the 512-byte LVM sector, a DMP_MAGIC_64 table "bos" (a
//     virtual area not starting on a page boundary with its second page
//     absent, a zero-length entry, a real-address area at 0x10800 with its
//     middle page absent), a DMP_MAGIC_U64 table "vmm" (a real page at
//     0x20000), then DMP_MAGIC_END;
//   - aix32.dump: from offset 0, a DMP_MAGIC_32 table "proc" (an area
//     clipped at its 256 MiB segment, a DUMP_REAL_SEGVAL32 page), a
//     DMP_MAGIC_VR table "thrd" (a D_REAL entry) and a DMP_MAGIC_U32 table
//     "lvm", ended by zero padding;
//   - aix-trunc.dump: aix64.dump cut in the middle of the real area's data;
//   - aix-cut.dump: aix64.dump cut where its second component starts.
func writeAIXDumps(dir string) error {
	text := func(s string, n int) []byte { return bytes.Repeat([]byte(s), n/len(s)+1)[:n] }
	d64 := &dumptest.AIXDump{Start: 512, End: dumptest.AIXEndMarker, Components: []dumptest.AIXComponent{
		{Magic: dumptest.AIXMagic64, Name: "bos", Areas: []dumptest.AIXArea{
			{Name: "kernel", Addr: 0xF100000000000800, Len: 0x2000, Segval: dumptest.AIXGenSegval64, Absent: []uint64{1},
				Data: text("AIX kernel text ", 0x2000)},
			{Name: "empty", Addr: 0x1000, Len: 0, Segval: dumptest.AIXGenSegval64},
			{Name: "realmem", Addr: 0x10800, Len: 0x2000, Segval: dumptest.AIXRealSegval64, Absent: []uint64{1},
				Data: text("real memory at 0x10800... ", 0x2000)},
		}},
		{Magic: dumptest.AIXMagicU64, Name: "vmm", Areas: []dumptest.AIXArea{
			{Name: "vmmpage", Addr: 0x20000, Len: 0x1000, Segval: dumptest.AIXRealSegval64, Data: text("vmm page ", 0x1000)},
		}},
	}}
	b64, lay := d64.Bytes()
	d32 := &dumptest.AIXDump{End: dumptest.AIXEndZeros, Components: []dumptest.AIXComponent{
		{Magic: dumptest.AIXMagic32, Name: "proc", Areas: []dumptest.AIXArea{
			{Name: "12U", Addr: 0x2FFFF000, Len: 0x2000, Segval: 0x1234, Data: text("user area ", 0x1000)},
			{Name: "realpg", Addr: 0x30000, Len: 0x1000, Segval: dumptest.AIXRealSegval32, Data: text("32-bit real page ", 0x1000)},
		}},
		{Magic: dumptest.AIXMagicVR, Name: "thrd", Areas: []dumptest.AIXArea{
			{Name: "thread", Addr: 0x100000000, Len: 0x100, AddrFlags: dumptest.AIXDReal, Data: text("VR real ", 0x100)},
		}},
		{Magic: dumptest.AIXMagicU32, Name: "lvm", Areas: []dumptest.AIXArea{
			{Name: "lvmtab", Addr: 0x50000010, Len: 0x40, Segval: 7, Data: text("lvm ", 0x40)},
		}},
	}}
	b32, _ := d32.Bytes()
	real := lay.Areas[0][2]
	files := map[string][]byte{
		"aix64.dump":     b64,
		"aix32.dump":     b32,
		"aix-trunc.dump": b64[:real.DataOff+real.DataLen/2+10],
		"aix-cut.dump":   b64[:lay.Tables[1]],
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
