package elfcore_test

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/elfcore"
)

// failingReaderAt fails every read that touches [from, to).
type failingReaderAt struct {
	r        io.ReaderAt
	from, to int64
}

func (f failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < f.to && off+int64(len(p)) > f.from {
		return 0, errors.New("injected read error")
	}
	return f.r.ReadAt(p, off)
}

// TestReadRangeMatchesReadPage reads every frame of files with long
// segments (several spans), overlaps, partial and zero-filled frames,
// holes, a cut file and a failing read, through ReadRange and through
// ReadPage: the same PageInfo, bytes and errors, frame by frame.
func TestReadRangeMatchesReadPage(t *testing.T) {
	long := dumptest.Pattern(11, 600*4096) // more than two spans of 1 MiB
	core := &dumptest.ELFCore{
		Class: elf.ELFCLASS64, Machine: elf.EM_X86_64,
		Segments: []dumptest.ELFSegment{
			{Paddr: 0, Data: long},
			{Paddr: 0x10000, Memsz: 4 * 4096}, // under the long segment: it loses
			{Paddr: 0x300000, Data: dumptest.Pattern(12, 3*4096)},
			{Paddr: 0x303800, Data: dumptest.Pattern(13, 0x1000)}, // two partial frames
			{Paddr: 0x310000, Data: dumptest.Pattern(14, 4096), Memsz: 0x3000},
			{Paddr: 0x320000, Memsz: 0x5000, Unbacked: true},
			{Paddr: 0x330000, Data: dumptest.Pattern(15, 300*4096)},
		},
	}
	b, lay := core.Bytes()
	cases := []struct {
		name string
		r    io.ReaderAt
		size int64
	}{
		{"whole", bytes.NewReader(b), int64(len(b))},
		{"cut", bytes.NewReader(b[:lay.SegmentOffsets[6]+100*4096+10]), lay.SegmentOffsets[6] + 100*4096 + 10},
		{"read error", failingReaderAt{bytes.NewReader(b), lay.SegmentOffsets[0] + 300*4096, lay.SegmentOffsets[0] + 301*4096}, int64(len(b))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := elfcore.NewFile(reader.Source{Name: "test.vmcore", R: tc.r, Size: tc.size})
			if err != nil {
				t.Fatal(err)
			}
			const frames = 0x330 + 300 + 3
			for _, start := range []model.PFN{0, 7, 0x2ff} {
				pfn := start
				err := f.ReadRange(context.Background(), start, frames-uint64(start), reader.ReadOptions{Strict: true}, func(pi model.PageInfo, page []byte, err error) bool {
					want := make([]byte, 4096)
					wpi, werr := f.ReadPage(pfn, want, reader.ReadOptions{Strict: true})
					if !reflect.DeepEqual(pi, wpi) {
						t.Fatalf("pfn %#x: ReadRange gives %+v, ReadPage %+v", pfn, pi, wpi)
					}
					if fmt.Sprint(err) != fmt.Sprint(werr) {
						t.Fatalf("pfn %#x: ReadRange error %v, ReadPage %v", pfn, err, werr)
					}
					if err == nil && !bytes.Equal(page, want) {
						t.Fatalf("pfn %#x: the bytes differ", pfn)
					}
					pfn++
					return true
				})
				if err != nil || pfn != frames {
					t.Fatalf("from %#x: stopped at %#x of %#x: %v", start, pfn, frames, err)
				}
			}
		})
	}
}

// TestReadRangeStops: fn returning false stops the range at once.
func TestReadRangeStops(t *testing.T) {
	core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Machine: elf.EM_X86_64,
		Segments: []dumptest.ELFSegment{{Paddr: 0, Data: dumptest.Pattern(3, 64*4096)}}}
	b, _ := core.Bytes()
	f := openBytes(t, b)
	n := 0
	err := f.ReadRange(context.Background(), 0, 64, reader.ReadOptions{}, func(model.PageInfo, []byte, error) bool {
		n++
		return n < 5
	})
	if err != nil || n != 5 {
		t.Fatalf("%d calls, %v; want 5", n, err)
	}
}

// TestReadRangeReadsSpans: frames one PT_LOAD stores in a row are read a
// megabyte at a time, not a page at a time.
func TestReadRangeReadsSpans(t *testing.T) {
	core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Machine: elf.EM_X86_64,
		Segments: []dumptest.ELFSegment{{Paddr: 0, Data: dumptest.Pattern(4, 1024*4096)}}}
	b, _ := core.Bytes()
	cr := &dumptest.CountingReaderAt{R: bytes.NewReader(b)}
	g, err := elfcore.NewFile(reader.Source{Name: "test.vmcore", R: cr, Size: int64(len(b))})
	if err != nil {
		t.Fatal(err)
	}
	g.PageInfo(0) // the index is built on first use
	before := cr.Calls()
	if err := g.ReadRange(context.Background(), 0, 1024, reader.ReadOptions{}, func(model.PageInfo, []byte, error) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if calls := cr.Calls() - before; calls > 4 {
		t.Fatalf("1024 frames (4 MiB) took %d reads, want 4", calls)
	}
}
