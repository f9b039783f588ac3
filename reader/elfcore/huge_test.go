package elfcore_test

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
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

// TestLayoutManyProgramHeaders: 100000 program headers give a layout of
// bounded size: alike ones are one node showing the first and the last,
// others are listed up to a limit and summarised beyond it (issue 12,
// item 12).
func TestLayoutManyProgramHeaders(t *testing.T) {
	const n = 100000
	for _, alike := range []bool{true, false} {
		segs := make([]dumptest.ELFSegment, n)
		segs[0] = dumptest.ELFSegment{Paddr: 0, Data: dumptest.Pattern(4, 4096)}
		for i := 1; i < n; i++ {
			segs[i] = dumptest.ELFSegment{Paddr: uint64(i) * 2 * 4096, ShareWith: 1}
			if !alike {
				segs[i].Memsz = 4096 * uint64(1+i%3) // steps that change
			}
		}
		core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Order: binary.LittleEndian, Machine: elf.EM_X86_64, Segments: segs}
		b, _ := core.Bytes()
		f := openBytes(t, b)
		root, err := f.Layout()
		if err != nil {
			t.Fatal(err)
		}
		nodes := 0
		var names []string
		root.Walk(func(fd *model.Field, depth int) bool {
			nodes++
			if depth == 2 && strings.HasPrefix(fd.Name, "Elf64_Phdr[") {
				names = append(names, fd.Name)
			}
			return true
		})
		if alike {
			// The PT_NOTE, then one run of n PT_LOADs with its first and last.
			if nodes > 100 || len(names) != 2 || names[1] != fmt.Sprintf("Elf64_Phdr[1..%d]", n) {
				t.Fatalf("alike: %d nodes, %v", nodes, names)
			}
			continue
		}
		if nodes > 12*4096+200 {
			t.Fatalf("%d nodes for %d program headers", nodes, n)
		}
		var last *model.Field
		for _, c := range root.Children {
			if c.Name == "program header table" {
				last = c.Children[len(c.Children)-1]
			}
		}
		if last == nil || last.Value != fmt.Sprintf("%d more program headers", n+1-4096) {
			t.Fatalf("the rest is not summarised: %+v", last)
		}
	}
}
