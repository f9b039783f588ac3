package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"dumpscope/reader/dumptest"
)

// writeKdumpDumps writes the writer-made kdump files the scripts use: a
// version 6 zlib dump, its flattened stream, a split set of three parts,
// and damaged copies.
func writeKdumpDumps(dir string) error {
	pages := map[uint64][]byte{}
	for i := uint64(0); i < 64; i++ {
		p := make([]byte, 4096)
		if i%4 != 3 { // every fourth page is zero (the shared zero page)
			copy(p, fmt.Sprintf("page %d of synth.kdump\n", i))
			copy(p[100:], dumptest.Pattern(i, 512))
		}
		pages[i*2] = p
	}
	var excluded []uint64
	for i := uint64(0); i < 64; i += 2 {
		excluded = append(excluded, i*2+1)
	}
	le := binary.LittleEndian
	k := &dumptest.Kdump{Version: 6, Codec: "zlib", MaxMapnr: 160, Pages: pages, Excluded: excluded,
		SharedZeroPage: true, DumpLevel: 31, NrCPUs: 1, Timestamp: 1700000000,
		Utsname:    [6]string{"Linux", "synth", "6.1.0-synth", "#1 SMP", "x86_64", "(none)"},
		Notes:      []dumptest.ELFNote{{Name: "CORE", Type: 1, Desc: dumptest.PrstatusX8664(le, 1, []uint64{0xf, 0xe})}},
		VMCoreInfo: []byte("OSRELEASE=6.1.0-synth\nPAGESIZE=4096\nNUMBER(phys_base)=0\nKERNELOFFSET=0\nBUILD-ID=0123456789abcdef0123456789abcdef01234567\n"),
		EraseInfo:  []byte("erase jiffies size 8\n"),
	}
	b, lay := k.Bytes()
	files := map[string][]byte{
		"synth.kdump": b,
		"synth.flat":  dumptest.Flatten(b, 5000),
	}
	for i, part := range k.SplitParts(3) {
		files[fmt.Sprintf("synth.kdump.%d", i+1)] = part
	}
	// A flipped bit inside the compressed image of pfn 2.
	bad := append([]byte(nil), b...)
	bad[lay.PageOff[2]+30] ^= 0x01
	files["badpage.kdump"] = bad
	files["cut.kdump"] = b[:lay.DataOff+(lay.EraseOff-lay.DataOff)/2]
	files["noend.flat"] = files["synth.flat"][:len(files["synth.flat"])-16]
	files["cutrec.flat"] = files["synth.flat"][:4096+16+5000+16+1000] // inside the second record
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
