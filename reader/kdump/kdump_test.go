package kdump_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/kdump"
)

// pageSet makes n varied pages: random, text, zeros, repeated bytes, and
// half-zero pages, so every codec stores some compressed and some raw.
func pageSet(n, bs int, seed uint64) map[uint64][]byte {
	pages := map[uint64][]byte{}
	for i := 0; i < n; i++ {
		p := make([]byte, bs)
		switch i % 5 {
		case 0:
			p = dumptest.Pattern(seed+uint64(i), bs)
		case 1:
			copy(p, strings.Repeat(fmt.Sprintf("page %d of a test dump; ", i), bs/20))
		case 2: // zero
		case 3:
			for j := range p {
				p[j] = byte(i)
			}
		case 4:
			copy(p[bs/2:], dumptest.Pattern(seed^uint64(i), bs/2))
		}
		pages[uint64(i)*3/2] = p // leaves holes and excluded frames between
	}
	return pages
}

func openBytes(t *testing.T, name string, b []byte) reader.Dump {
	t.Helper()
	d, err := open.Sources(reader.Source{Name: name, R: bytes.NewReader(b), Size: int64(len(b))})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// roundTrip checks every frame of d against k.
func roundTrip(t *testing.T, d reader.Dump, k *dumptest.Kdump) {
	t.Helper()
	buf := make([]byte, d.Info().PageSize)
	excluded := map[uint64]bool{}
	for _, p := range k.Excluded {
		excluded[p] = true
	}
	lo, hi := uint64(0), k.MaxMapnr
	if k.Split != nil {
		lo, hi = k.Split[0], k.Split[1]
	}
	for pfn := uint64(0); pfn < k.MaxMapnr+2; pfn++ {
		pi := d.PageInfo(model.PFN(pfn))
		want := model.StateNotInDump
		page, stored := k.Pages[pfn]
		switch {
		case pfn >= k.MaxMapnr || pfn < lo || pfn >= hi:
		case stored:
			want = model.StatePresent
		case excluded[pfn] && (k.Version == 0 || k.Signature == "DISKDUMP"):
			want = model.StateZeroFill
		case excluded[pfn]:
			want = model.StateExcluded
		}
		if pi.State != want {
			t.Fatalf("%v pfn %#x: %s (%s), want %s", k, pfn, pi.State, pi.Reason, want)
		}
		_, err := d.ReadPage(model.PFN(pfn), buf, reader.ReadOptions{})
		switch want {
		case model.StatePresent:
			if err != nil || !bytes.Equal(buf, page) {
				t.Fatalf("%v pfn %#x (%s): err %v, bytes equal %v", k, pfn, pi.Codec, err, bytes.Equal(buf, page))
			}
		case model.StateZeroFill:
			if err != nil || !bytes.Equal(buf, make([]byte, len(buf))) {
				t.Fatalf("%v pfn %#x: zero fill: %v", k, pfn, err)
			}
		default:
			var pe *model.PageError
			if !errors.As(err, &pe) || pe.PFN != model.PFN(pfn) || !errors.Is(err, model.ErrPageAbsent) {
				t.Fatalf("%v pfn %#x: error %v", k, pfn, err)
			}
		}
	}
}

func baseDump(version int32, codec string, n int) *dumptest.Kdump {
	pages := pageSet(n, 4096, uint64(version))
	var excluded []uint64
	for i := 0; i < n; i++ {
		p := uint64(i) * 3 / 2
		if _, ok := pages[p+1]; !ok && i%2 == 0 {
			excluded = append(excluded, p+1)
		}
	}
	return &dumptest.Kdump{
		Version: version, Codec: codec, MaxMapnr: uint64(n)*3/2 + 9, Pages: pages, Excluded: excluded,
		Utsname: [6]string{"Linux", "host", "6.1.0", "#1 SMP", "x86_64", "(none)"}, NrCPUs: 2, DumpLevel: 31,
		SharedZeroPage: version >= 1,
		VMCoreInfo:     []byte("OSRELEASE=6.1.0\nPAGESIZE=4096\n"),
		Notes:          []dumptest.ELFNote{{Name: "CORE", Type: 1, Desc: dumptest.PrstatusX8664(binary.LittleEndian, 1, []uint64{1, 2, 3})}},
	}
}

// TestVersions reads files of every header version, 0 to 6, and an
// unknown later one, in every sub-header layout.
func TestVersions(t *testing.T) {
	for v := int32(0); v <= 7; v++ {
		for _, layout := range []struct {
			sub   string
			hdr32 bool
			mach  string
		}{{"64", false, "x86_64"}, {"32packed", true, "i686"}, {"32padded", true, "armv7l"}, {"32padded", false, "armv7l"}} {
			k := baseDump(v, "zlib", 60)
			k.Sub, k.Header32, k.Utsname[4] = layout.sub, layout.hdr32, layout.mach
			if layout.sub != "64" {
				k.Notes = nil // prstatus of x86_64 would not fit an ARM dump
			}
			b, _ := k.Bytes()
			d := openBytes(t, fmt.Sprintf("v%d-%s", v, layout.sub), b)
			roundTrip(t, d, k)
			in := d.Info()
			if *in.HeaderVersion != int64(v) {
				t.Errorf("%v: header version %v", k, *in.HeaderVersion)
			}
			_, err := d.VMCoreInfo()
			if (v >= 3) != (err == nil) {
				t.Errorf("%v: VMCOREINFO error %v", k, err)
			}
			kf := d.(*kdump.File)
			if v >= 3 {
				wantSub := map[string]kdump.SubLayout{"64": kdump.Sub64, "32packed": kdump.Sub32Packed, "32padded": kdump.Sub32Padded}[layout.sub]
				if kf.SubLayout != wantSub {
					t.Errorf("%v hdr32=%v: sub-header layout %v, want %v", k, layout.hdr32, kf.SubLayout, wantSub)
				}
			}
			hasUnknown := false
			for _, w := range in.Warnings {
				hasUnknown = hasUnknown || w.Code.String() == "unknown-header-version"
			}
			if hasUnknown != (v > 6) {
				t.Errorf("%v: unknown-version warning %v", k, hasUnknown)
			}
		}
	}
}

// TestCodecsWholeFiles writes files of thousands of pages per codec.
func TestCodecsWholeFiles(t *testing.T) {
	for _, c := range []string{"none", "zlib", "lzo", "snappy", "zstd"} {
		k := baseDump(6, c, 3000)
		b, _ := k.Bytes()
		d := openBytes(t, c, b)
		roundTrip(t, d, k)
		in := d.Info()
		if c != "none" && (len(in.Compression) != 1 || string(in.Compression[0]) != c) {
			t.Errorf("%s: compression %v", c, in.Compression)
		}
		// Some pages of every codec are stored compressed.
		compressed := 0
		for pfn := range k.Pages {
			if d.PageInfo(model.PFN(pfn)).Codec == model.Codec(c) {
				compressed++
			}
		}
		if c != "none" && compressed < 1000 {
			t.Errorf("%s: only %d pages compressed", c, compressed)
		}
	}
}

// TestDiskdumpAndBigEndian reads an old DISKDUMP file and big-endian files
// with 64 KiB blocks.
func TestDiskdumpAndBigEndian(t *testing.T) {
	k := baseDump(0, "zlib", 40)
	k.Signature, k.Notes, k.VMCoreInfo = "DISKDUMP", nil, nil
	b, _ := k.Bytes()
	d := openBytes(t, "diskdump", b)
	roundTrip(t, d, k)
	if d.Info().Format != model.FormatDiskdump {
		t.Fatal("format is not diskdump")
	}
	for _, sub := range []string{"64", "32packed"} {
		k := baseDump(6, "zstd", 40)
		k.Order, k.BlockSize, k.Sub, k.Header32 = binary.BigEndian, 65536, sub, sub != "64"
		k.Utsname[4] = "ppc64"
		k.Notes = nil
		k.Pages = pageSet(40, 65536, 7)
		b, _ := k.Bytes()
		d := openBytes(t, "be-"+sub, b)
		roundTrip(t, d, k)
		if in := d.Info(); in.Endian != model.BigEndian || in.PageSize != 65536 || in.Arch != "ppc64" {
			t.Fatalf("info %+v", in)
		}
	}
}

// TestEraseInfo shows eraseinfo in the info details and the layout.
func TestEraseInfo(t *testing.T) {
	k := baseDump(5, "lzo", 20)
	k.EraseInfo = []byte("erase jiffies size 8\nerase modules nullify\n")
	b, _ := k.Bytes()
	d := openBytes(t, "erase", b)
	if got := d.(*kdump.File).EraseInfo(); !bytes.Equal(got, k.EraseInfo) {
		t.Fatalf("eraseinfo %q", got)
	}
	l, err := d.Layout()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	l.Walk(func(n *model.Field, _ int) bool {
		found = found || (n.Name == "erase" && n.Value == "jiffies size 8")
		return true
	})
	if !found {
		t.Fatal("eraseinfo line not in the layout")
	}
}

// TestIncomplete reads an INCOMPLETE dump: pages never written are lost,
// the others readable.
func TestIncomplete(t *testing.T) {
	k := baseDump(6, "snappy", 50)
	k.Incomplete, k.Written = true, 20
	b, lay := k.Bytes()
	d := openBytes(t, "incomplete", b)
	lost, ok := 0, 0
	for pfn, page := range k.Pages {
		pi := d.PageInfo(model.PFN(pfn))
		buf := make([]byte, 4096)
		_, err := d.ReadPage(model.PFN(pfn), buf, reader.ReadOptions{})
		if lay.DescIndex[pfn] >= 20 {
			if pi.State != model.StateLost || err == nil {
				t.Fatalf("pfn %#x: %s, %v", pfn, pi.State, err)
			}
			lost++
		} else {
			if err != nil || !bytes.Equal(buf, page) {
				t.Fatalf("pfn %#x: %v", pfn, err)
			}
			ok++
		}
	}
	if lost != 30 || ok != 20 {
		t.Fatalf("lost %d ok %d", lost, ok)
	}
	var sawIncomplete bool
	for _, w := range d.Info().Warnings {
		sawIncomplete = sawIncomplete || w.Code.String() == "incomplete"
	}
	if !sawIncomplete {
		t.Fatal("no incomplete warning")
	}
	var runsLost uint64
	d.Runs(context.Background(), 0, true, func(r model.PageRun) bool {
		if r.State == model.StateLost {
			runsLost += r.Count
		}
		return true
	})
	if runsLost != 30 {
		t.Fatalf("detailed runs count %d lost pages", runsLost)
	}
}

// TestSplitSets joins parts in any order, warns about missing parts and
// refuses parts of different dumps or overlapping ranges.
func TestSplitSets(t *testing.T) {
	k := baseDump(6, "zlib", 300)
	parts := k.SplitParts(4)
	src := func(i int, b []byte) reader.Source {
		return reader.Source{Name: fmt.Sprintf("part%d", i), R: bytes.NewReader(b), Size: int64(len(b))}
	}
	d, err := open.Sources(src(3, parts[3]), src(1, parts[1]), src(0, parts[0]), src(2, parts[2]))
	if err != nil {
		t.Fatal(err)
	}
	whole := *k
	roundTrip(t, d, &whole)
	if w := d.Info().Warnings; len(w) != 0 {
		t.Fatalf("complete set warns: %v", w)
	}
	// Parts 0 and 2: part 1's and 3's frames are not in the dump.
	d, err = open.Sources(src(0, parts[0]), src(2, parts[2]))
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, w := range d.Info().Warnings {
		if w.Code.String() == "missing-split-part" && w.Severity == model.SeverityWarning {
			missing++
		}
	}
	if missing != 2 {
		t.Fatalf("warnings %v", d.Info().Warnings)
	}
	step := (k.MaxMapnr + 3) / 4
	for pfn := range k.Pages {
		pi := d.PageInfo(model.PFN(pfn))
		inGiven := pfn/step == 0 || pfn/step == 2
		if inGiven != (pi.State == model.StatePresent) {
			t.Fatalf("pfn %#x: %s", pfn, pi.State)
		}
	}
	// A part of another dump.
	other := baseDump(6, "zlib", 300)
	other.Utsname[3] = "#2 SMP"
	otherParts := other.SplitParts(4)
	if _, err := open.Sources(src(0, parts[0]), src(1, otherParts[1])); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Fatalf("mismatched parts: %v", err)
	}
	// The message names the field that differs, where it is, and both
	// values, also where two fields print alike elsewhere.
	for _, c := range []struct {
		off  int
		b    []byte
		want string
	}{
		{416, []byte{5}, `timestamp.tv_usec 5 vs 0, disk_dump_header.timestamp.tv_usec at offset 0x1a0`},
		{12 + 5*65, []byte("example.org"), `utsname.domainname "example.org" vs "(none)", disk_dump_header.utsname.domainname at offset 0x151`},
	} {
		p1 := append([]byte(nil), parts[1]...)
		copy(p1[c.off:], c.b)
		_, err := open.Sources(src(0, parts[0]), src(1, p1))
		if err == nil || !strings.HasSuffix(err.Error(), c.want) {
			t.Errorf("part 1 changed at %#x: %v, want it to end %q", c.off, err, c.want)
		}
	}
	if _, err := open.Sources(src(0, parts[0]), src(1, parts[0])); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Fatalf("overlapping parts: %v", err)
	}
	full, _ := k.Bytes()
	if _, err := open.Sources(src(0, parts[0]), src(1, full)); err == nil || !strings.Contains(err.Error(), "not a part") {
		t.Fatalf("complete dump in a set: %v", err)
	}
}

// TestFlattenedWriterMade reads writer-made flattened streams, including a
// sub-header rewritten at the end (later records win).
func TestFlattenedWriterMade(t *testing.T) {
	k := baseDump(6, "zstd", 200)
	k.EraseInfo = []byte("erase x size 4\n")
	b, lay := k.Bytes()
	// Write the file with eraseinfo fields zeroed first, then rewrite the
	// sub-header at the end, as makedumpfile does.
	early := append([]byte(nil), b...)
	binary.LittleEndian.PutUint64(early[lay.SubHeaderOff+64:], 0)
	binary.LittleEndian.PutUint64(early[lay.SubHeaderOff+72:], 0)
	stream := dumptest.Flatten(early, 3000, [2]int64{lay.SubHeaderOff, lay.SubHeaderOff + 104})
	copy(stream[len(stream)-16-104:], b[lay.SubHeaderOff:lay.SubHeaderOff+104])
	d := openBytes(t, "flat", stream)
	if in := d.Info(); in.Container != model.ContainerFlattened {
		t.Fatalf("container %s", in.Container)
	}
	roundTrip(t, d, k)
	if err := d.(reader.Indexer).Index(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	// After indexing, the rewritten sub-header is what reads.
	d2 := openBytes(t, "flat", stream)
	hasErase := func() bool {
		for _, kv := range d2.Info().Details {
			if kv.Key == "eraseinfo" {
				return true
			}
		}
		return false
	}
	if hasErase() {
		t.Fatal("eraseinfo before the index: the early sub-header has none")
	}
	d2.(reader.Indexer).Index(context.Background(), nil)
	if !hasErase() {
		t.Fatalf("no eraseinfo after the rewrite: %v", d2.Info().Details)
	}
}
