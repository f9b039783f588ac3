package kdump_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"maps"
	"os"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/kdump"
)

// exercise calls every entry point of a file that opened, and checks
// that ReadRange gives what ReadPage gives for the first frames, and that
// Counts gives what Runs gives.
func exercise(t *testing.T, f *kdump.File, maxFrames uint64) {
	ctx := context.Background()
	f.Info()
	if _, err := f.Layout(); err != nil {
		t.Fatalf("Layout of an opened file failed: %v", err)
	}
	f.Registers()
	f.VMCoreInfo()
	buf := make([]byte, f.Info().PageSize)
	n := uint64(0)
	f.Runs(ctx, 0, true, func(r model.PageRun) bool {
		f.ReadPage(r.Start, buf, reader.ReadOptions{})
		f.ExplainPage(r.Start)
		n += r.Count
		return n < maxFrames
	})
	f.Check(ctx, func(model.Problem) {})
	one, loose := make([]byte, len(buf)), make([]byte, len(buf))
	first := min(uint64(f.Info().MaxPFN), 256)
	f.ReadRange(ctx, 0, first, reader.ReadOptions{Strict: true}, func(pi model.PageInfo, page []byte, err error) bool {
		_, err1 := f.ReadPage(pi.PFN, one, reader.ReadOptions{Strict: true})
		if (err == nil) != (err1 == nil) || err == nil && !bytes.Equal(page, one) {
			t.Fatalf("pfn %#x: ReadRange gives error %v, ReadPage %v (or other bytes)", pi.PFN, err, err1)
		}
		// A page the strict decoders accept reads the same through the
		// shortcuts of ordinary reads (page cache, shared zero page).
		if _, err2 := f.ReadPage(pi.PFN, loose, reader.ReadOptions{}); err == nil && (err2 != nil || !bytes.Equal(page, loose)) {
			t.Fatalf("pfn %#x: strict read fine, ordinary read gives error %v (or other bytes)", pi.PFN, err2)
		}
		return true
	})
	// A frame's state is the same before and after a count, which tells
	// the lookups where bitmap 2 lies within bitmap 1.
	states := make([]model.PageState, first)
	for pfn := range states {
		states[pfn] = f.PageInfo(model.PFN(pfn)).State
	}
	if counts, err := f.Counts(ctx); err == nil {
		for pfn, st := range states {
			if now := f.PageInfo(model.PFN(pfn)).State; now != st {
				t.Fatalf("pfn %#x: state %v before the count, %v after", pfn, st, now)
			}
		}
		runs := model.StateCounts{}
		if f.Runs(ctx, 0, false, func(r model.PageRun) bool { runs.Add(r.State, r.Count); return true }) == nil && !maps.Equal(counts, runs) {
			t.Fatalf("Counts %v, Runs %v", counts, runs)
		}
	}
}

// FuzzHeader opens arbitrary bytes as a kdump file: the header parser,
// sub-header layout choice, notes and bitmaps.
func FuzzHeader(f *testing.F) {
	for _, v := range []int32{0, 3, 6} {
		for _, sub := range []string{"64", "32packed", "32padded"} {
			k := baseDump(v, "zlib", 12)
			k.Sub, k.Header32 = sub, sub != "64"
			b, _ := k.Bytes()
			f.Add(b)
		}
	}
	for _, name := range []string{"x86_64/mdf-zlib-d31-split1of8.kdump", "i386/mdf-zstd-d31-split1of8.kdump"} {
		if !fixturesPresent() {
			break
		}
		fh, err := os.Open(dumptest.Fixture(f, name))
		if err != nil {
			continue
		}
		head := make([]byte, 40<<10)
		n, _ := io.ReadFull(fh, head)
		fh.Close()
		f.Add(head[:n])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := kdump.NewFile(reader.Source{Name: "fuzz", R: bytes.NewReader(b), Size: int64(len(b))})
		if err != nil {
			return
		}
		exercise(t, file, 1<<16)
	})
}

// FuzzDescriptors keeps a valid header and fuzzes the bitmaps,
// descriptors and page data: the rank index and descriptor lookup.
func FuzzDescriptors(f *testing.F) {
	for _, c := range []string{"zlib", "lzo", "snappy", "zstd", "none"} {
		k := baseDump(6, c, 24)
		b, lay := k.Bytes()
		f.Add(c, b[lay.Bitmap1Off:])
	}
	f.Fuzz(func(t *testing.T, codec string, tail []byte) {
		k := baseDump(6, "zlib", 24)
		b, lay := k.Bytes()
		b = append(b[:lay.Bitmap1Off:lay.Bitmap1Off], tail...)
		binary.LittleEndian.PutUint32(b[424:], uint32(len(codec))&0x27) // status
		file, err := kdump.NewFile(reader.Source{Name: "fuzz", R: bytes.NewReader(b), Size: int64(len(b))})
		if err != nil {
			t.Fatalf("a valid header failed to open: %v", err)
		}
		exercise(t, file, 1<<12)
	})
}

func fixturesPresent() bool {
	_, err := os.Stat("../../../shared/fixtures/MANIFEST.tsv")
	return err == nil || os.Getenv("DUMPSCOPE_FIXTURES") != ""
}
