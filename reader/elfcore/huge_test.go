package elfcore_test

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"dumpscope/model"
	"dumpscope/reader/dumptest"
)

// hugeCore is an ELF whose only PT_LOAD stores 4 pages at 0x1000 and
// claims memsz zero-filled bytes in all (issue 12, item 2).
func hugeCore(memsz uint64) ([]byte, dumptest.ELFLayout) {
	core := &dumptest.ELFCore{
		Class: elf.ELFCLASS64, Order: binary.LittleEndian, Machine: elf.EM_X86_64,
		Segments: []dumptest.ELFSegment{{Paddr: 0x1000, Data: dumptest.Pattern(1, 4*4096), Memsz: memsz}},
	}
	return core.Bytes()
}

// TestHugeZeroFill: a header that claims 2^62 bytes beyond what it stores
// costs a few runs, not 2^50 steps; the counts are exact.
func TestHugeZeroFill(t *testing.T) {
	// The second ends one page below 2^64, the highest page-aligned end.
	for _, memsz := range []uint64{1 << 62, ^uint64(0) - 0x1fff} {
		b, _ := hugeCore(memsz)
		f := openBytes(t, b)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var runs []model.PageRun
		err := f.Runs(ctx, 0, false, func(r model.PageRun) bool { runs = append(runs, r); return true })
		if err != nil {
			t.Fatalf("memsz %#x: runs: %v", memsz, err)
		}
		c, err := f.Counts(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		frames := (0x1000 + memsz) / 4096
		want := model.StateCounts{model.StateNotInDump: 1, model.StatePresent: 4, model.StateZeroFill: frames - 5}
		if len(runs) != 3 || fmt.Sprint(c) != fmt.Sprint(want) || uint64(f.Info().MaxPFN) != frames {
			t.Fatalf("memsz %#x: runs %v, counts %v (want %v), max pfn %d", memsz, runs, c, want, f.Info().MaxPFN)
		}
		if pi := f.PageInfo(model.PFN(frames - 1)); pi.State != model.StateZeroFill {
			t.Fatalf("last frame: %+v", pi)
		}
	}
}

// TestHugeFileSize: p_filesz and p_offset beyond 2^63 give warnings with
// unsigned numbers, not an overflowed count.
func TestHugeFileSize(t *testing.T) {
	b, lay := hugeCore(0xc2634800000001bd)
	le := binary.LittleEndian
	ph := lay.Phoff + 56 // the PT_LOAD after the PT_NOTE
	le.PutUint64(b[ph+32:], 0xc2634800000001bd)
	f := openBytes(t, b)
	missing := uint64(0xc2634800000001bd) - (uint64(len(b)) - uint64(lay.SegmentOffsets[0]))
	if !hasWarning(f, "truncated", fmt.Sprintf("%d of %d bytes missing", missing, uint64(0xc2634800000001bd))) {
		t.Fatalf("warnings %v", f.Info().Warnings)
	}
	le.PutUint64(b[ph+8:], ^uint64(0)-10) // p_offset: offset + size overflows
	f = openBytes(t, b)
	if !hasWarning(f, "bad-program-header", "overflows") {
		t.Fatalf("warnings %v", f.Info().Warnings)
	}
}
