package inspect_test

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"testing"
	"time"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open/opentest"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// hugeZeroFill opens an ELF whose PT_LOAD stores 2 pages at 0x1000 (the
// second ending in "NEE") and claims 2^62 bytes in all, zero-filled beyond
// them, then a second PT_LOAD beyond that storing "DLE...".
func hugeZeroFill(t *testing.T) reader.Dump {
	t.Helper()
	data := dumptest.Pattern(3, 2*4096)
	copy(data[100:], "NEEDLE")
	copy(data[len(data)-3:], "NEE") // the zeros after it do not complete it
	core := &dumptest.ELFCore{
		Class: elf.ELFCLASS64, Order: binary.LittleEndian, Machine: elf.EM_X86_64,
		Segments: []dumptest.ELFSegment{
			{Paddr: 0x1000, Data: data, Memsz: 1 << 62},
			{Paddr: 1<<62 + 0x1000, Data: append([]byte("DLE NEEDLE"), make([]byte, 4086)...)},
		},
	}
	b, _ := core.Bytes()
	return opentest.Bytes(t, "huge.vmcore", b)
}

// TestVerifyHugeZeroFill: verify counts 2^50 zero-fill frames without
// reading them (issue 12, item 2).
func TestVerifyHugeZeroFill(t *testing.T) {
	d := hugeZeroFill(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := inspect.Verify(ctx, d, inspect.VerifyOptions{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	zero := uint64(1<<62)/4096 - 2
	if !r.OK || r.ZeroFillPages != zero || r.PagesChecked != zero+3 || r.BytesChecked != 3*4096 {
		t.Fatalf("ok %v, %d pages checked, %d zero-fill, %d bytes: %v", r.OK, r.PagesChecked, r.ZeroFillPages, r.BytesChecked, r.Problems)
	}
}

// TestFindHugeZeroFill: find steps over 2^50 zero-fill frames at once,
// still sees that "NEE" followed by zeros is no match, and finds the hit
// beyond them; an all-zero pattern matches inside the zero fill.
func TestFindHugeZeroFill(t *testing.T) {
	d := hugeZeroFill(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var hits []model.PhysAddr
	err := inspect.Find(ctx, d, []byte("NEEDLE"), inspect.FindOptions{}, func(h model.SearchHit) bool {
		hits = append(hits, h.PhysAddr)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0] != 0x1000+100 || hits[1] != 1<<62+0x1000+4 {
		t.Fatalf("hits %#x", hits)
	}
	hits = nil
	err = inspect.Find(ctx, d, []byte{0, 0, 0, 0}, inspect.FindOptions{Max: 3}, func(h model.SearchHit) bool {
		hits = append(hits, h.PhysAddr)
		return true
	})
	if err != nil || len(hits) != 3 || hits[0] != 0x3000 || hits[2] != 0x3002 {
		t.Fatalf("zero pattern: hits %#x, %v", hits, err)
	}
}
