package kdump_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"runtime"
	"sync/atomic"
	"testing"

	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// TestReadRangeReusesBuffers reads the same 256 frames again and again, as
// verify does chunk after chunk: after the first call, a call allocates
// nothing in proportion to the frames it reads (the page and the span of
// stored images come from a pool).
func TestReadRangeReusesBuffers(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops sync.Pool items at random: reuse cannot be measured under -race")
	}
	k := baseDump(6, "snappy", 400)
	b, _ := k.Bytes()
	d := openBytes(t, "reuse.kdump", b)
	defer d.Close()
	ctx := context.Background()
	read := func() {
		n := 0
		err := d.ReadRange(ctx, 0, 256, reader.ReadOptions{Strict: true}, func(pi model.PageInfo, page []byte, err error) bool {
			if pi.State == model.StatePresent && err == nil {
				n++
			}
			return true
		})
		if err != nil || n == 0 {
			t.Fatalf("ReadRange: %d pages, %v", n, err)
		}
	}
	read()
	// Absent frames build their error (a few allocations each); what must
	// not happen is a page or a span buffer per call.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const calls = 20
	for range calls {
		read()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / calls; per > 64<<10 {
		t.Errorf("a ReadRange of 256 frames allocates %d bytes: buffers are not reused", per)
	}
}

// TestCountsMatchRuns checks that the counting scan gives the states Runs
// gives without detail, frame for frame summed, on whole, split, single-
// bitmap and truncated files and on a large sparse address space.
func TestCountsMatchRuns(t *testing.T) {
	type tc struct {
		name string
		b    []byte
	}
	var cases []tc
	for _, k := range []*dumptest.Kdump{baseDump(6, "zlib", 400), baseDump(0, "none", 100), baseDump(3, "lzo", 50)} {
		b, lay := k.Bytes()
		cases = append(cases, tc{fmt.Sprint(k), b})
		for _, cut := range []int64{lay.Bitmap1Off + 10, lay.Bitmap2Off + 5, lay.Bitmap2Off + 4096 + 3, lay.DescOff + 7} {
			if cut < int64(len(b)) {
				cases = append(cases, tc{fmt.Sprintf("%v cut at %#x", k, cut), b[:cut]})
			}
		}
	}
	split := baseDump(6, "zlib", 300)
	split.Split = &[2]uint64{100, 333}
	b, _ := split.Bytes()
	cases = append(cases, tc{"split part", b})
	_, big, _ := bigDump(1 << 24)
	cases = append(cases, tc{"64 GiB sparse", big})
	for _, c := range cases {
		d, err := open.Sources(reader.Source{Name: c.name, R: bytes.NewReader(c.b), Size: int64(len(c.b))})
		if err != nil {
			continue // a cut that leaves no dump to open
		}
		got, err := d.Counts(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := model.StateCounts{}
		if err := d.Runs(context.Background(), 0, false, func(r model.PageRun) bool {
			want.Add(r.State, r.Count)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: Counts %v, Runs %v", c.name, got, want)
		}
		d.Close()
	}
}

// TestQuickCounts checks the present count read from the descriptor
// table's extent against the bitmaps' count, on writer-made files with
// and without the shared zero page, on split parts and on the real
// fixtures; and that a first descriptor that points elsewhere gives no
// count rather than a wrong one.
func TestQuickCounts(t *testing.T) {
	// wantKnown: true, the count must be known (makedumpfile's layout);
	// false, it must not be; either way a known count must be right.
	check := func(name string, d reader.Dump, wantKnown bool) {
		t.Helper()
		q, ok := d.(reader.QuickCounter)
		if !ok {
			t.Fatalf("%s: %T gives no quick counts", name, d)
		}
		known, scan := q.QuickCounts(), q.CountScanBytes()
		if scan <= 0 {
			t.Errorf("%s: scan of %d bytes", name, scan)
		}
		full, err := d.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n, have := known[model.StatePresent]
		if have != wantKnown || (have && n != full[model.StatePresent]) {
			t.Errorf("%s: quick present %d (known %v), counted %d", name, n, have, full[model.StatePresent])
		}
		if scan := q.CountScanBytes(); scan != 0 {
			t.Errorf("%s: after Counts, still %d bytes to scan", name, scan)
		}
	}
	for _, zero := range []bool{false, true} {
		k := baseDump(6, "zlib", 300)
		k.SharedZeroPage = zero
		b, lay := k.Bytes()
		check(fmt.Sprintf("zero page %v", zero), openBytes(t, "q.kdump", b), true)
		// The first descriptor points ten descriptors further: its count
		// would be ten too many, and the last descriptor it implies is
		// page data.
		bad := bytes.Clone(b)
		off := int64(binary.LittleEndian.Uint64(bad[lay.DescOff:]))
		binary.LittleEndian.PutUint64(bad[lay.DescOff:], uint64(off+24*10))
		check(fmt.Sprintf("zero page %v, first descriptor moved", zero), openBytes(t, "q.kdump", bad), false)
	}
	// A whole file by makedumpfile; in the parts of this --split run the
	// first image does not follow the descriptors, so they give no count.
	for name, want := range map[string]bool{"x86_64/mdf-zlib-d31.kdump": true, "x86_64/mdf-lzo-d31-split1of8.kdump": false} {
		path := dumptest.Fixture(t, name)
		d, err := open.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		check(name, d, want)
		d.Close()
	}
}

// TestPageCacheKeepsDecodedPagesOnly: a compressed page read again comes
// from the page cache (no read of the file), a page stored raw is read
// again (caching it would cost as much as the read).
func TestPageCacheKeepsDecodedPagesOnly(t *testing.T) {
	for _, tc := range []struct {
		codec  string
		cached bool
	}{{"snappy", true}, {"none", false}} {
		k := baseDump(6, tc.codec, 64)
		b, _ := k.Bytes()
		cr := &dumptest.CountingReaderAt{R: bytes.NewReader(b)}
		d, err := open.Sources(reader.Source{Name: tc.codec + ".kdump", R: cr, Size: int64(len(b))})
		if err != nil {
			t.Fatal(err)
		}
		// The first frame (in frame order, not map order) whose page the
		// writer stored with the codec under test: a pattern page no codec
		// shrinks is stored raw even in a compressed dump.
		pfn, found := model.PFN(0), false
		for p := model.PFN(0); p < model.PFN(k.MaxMapnr) && !found; p++ {
			pi := d.PageInfo(p)
			found = pi.State == model.StatePresent && !pi.ZeroPage && string(pi.Codec) == tc.codec
			pfn = p
		}
		if !found {
			t.Fatalf("%s: no page is stored with %s", tc.codec, tc.codec)
		}
		buf := make([]byte, 4096)
		if _, err := d.ReadPage(pfn, buf, reader.ReadOptions{}); err != nil {
			t.Fatal(err)
		}
		before := cr.Calls()
		if _, err := d.ReadPage(pfn, buf, reader.ReadOptions{}); err != nil {
			t.Fatal(err)
		}
		if hit := cr.Calls() == before; hit != tc.cached {
			t.Errorf("%s: the second read of pfn %d came from the cache: %v, want %v", tc.codec, pfn, hit, tc.cached)
		}
		d.Close()
	}
}

// TestReadRangeReadsZeroPageOnce reads every frame in small chunks, as
// verify does: the shared zero page's image is read from the file once,
// not once per chunk, and a chunk's zero pages arrive as zeros even when
// the caller wrote into the one an earlier chunk gave it (within one call
// the zero pages share one buffer, valid only during the call).
func TestReadRangeReadsZeroPageOnce(t *testing.T) {
	d, c := openZeroCounted(t)
	defer d.Close()
	zeros, chunks := 0, 0
	for start := uint64(0); start < uint64(d.Info().MaxPFN); start += 16 {
		chunks++
		var last []byte
		err := d.ReadRange(context.Background(), model.PFN(start), 16, reader.ReadOptions{Strict: true}, func(pi model.PageInfo, page []byte, err error) bool {
			if !pi.ZeroPage || err != nil {
				return true
			}
			zeros++
			if !bytes.Equal(page, make([]byte, len(page))) {
				t.Fatalf("zero page %#x is not zeros", pi.PFN)
			}
			last = page
			return true
		})
		if last != nil {
			last[0] = 0xff // the caller's to write once the call is over
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if zeros < 2 || chunks < 2 {
		t.Fatalf("%d zero pages in %d chunks: the test dump needs more", zeros, chunks)
	}
	if c.n.Load() != 1 {
		t.Errorf("the shared zero page was read %d times for %d zero pages in %d chunks, want once", c.n.Load(), zeros, chunks)
	}
}

// openZeroCounted opens a dump with a shared zero page, counting the reads
// of the file that start at the zero page's image (the page data's first).
func openZeroCounted(t *testing.T) (reader.Dump, *offsetCounter) {
	t.Helper()
	k := baseDump(6, "zlib", 400)
	b, lay := k.Bytes()
	c := &offsetCounter{r: bytes.NewReader(b), off: lay.DataOff}
	d, err := open.Sources(reader.Source{Name: "zero.kdump", R: c, Size: int64(len(b))})
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}

// offsetCounter counts the reads that start at one offset.
type offsetCounter struct {
	r   *bytes.Reader
	off int64
	n   atomic.Int64
}

func (c *offsetCounter) ReadAt(p []byte, off int64) (int, error) {
	if off == c.off {
		c.n.Add(1)
	}
	return c.r.ReadAt(p, off)
}

// TestReadPageReadsZeroPageOnce: ReadPage, too, reads the shared zero
// page's image once per file; a strict read goes to the file every time.
func TestReadPageReadsZeroPageOnce(t *testing.T) {
	d, c := openZeroCounted(t)
	defer d.Close()
	for _, strict := range []bool{false, true} {
		zeros, before := 0, c.n.Load()
		for pfn := model.PFN(0); pfn < model.PFN(d.Info().MaxPFN); pfn++ {
			page := bytes.Repeat([]byte{0xaa}, 4096)
			pi, err := d.ReadPage(pfn, page, reader.ReadOptions{Strict: strict})
			if err != nil || !pi.ZeroPage {
				continue
			}
			zeros++
			if !bytes.Equal(page, make([]byte, len(page))) {
				t.Fatalf("zero page %#x is not zeros", pfn)
			}
		}
		want := int64(1)
		if strict {
			want = int64(zeros)
		}
		if zeros < 2 {
			t.Fatalf("%d zero pages: the test dump needs more", zeros)
		}
		if n := c.n.Load() - before; n != want {
			t.Errorf("strict %v: the shared zero page was read %d times for %d zero pages, want %d", strict, n, zeros, want)
		}
	}
}
