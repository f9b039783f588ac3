package open_test

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"os"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/aix"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/elfcore"
	"dumpscope/reader/flat"
	"dumpscope/reader/kdump"
	"dumpscope/reader/xencore"
)

// sparseFile is a huge virtual file: a real head followed by zeros. It
// stands in for a 100 GiB dump without needing one.
type sparseFile struct {
	head []byte
	size int64
}

func (s *sparseFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off+int64(n) < s.size {
		i := off + int64(n)
		if i < int64(len(s.head)) {
			n += copy(p[n:], s.head[i:])
			continue
		}
		p[n] = 0
		n++
	}
	if n < len(p) {
		return n, errors.New("EOF")
	}
	return n, nil
}

// TestInfoReadsOnlyHeadersELF shows that info on an ELF vmcore reads the
// headers and notes only, whatever the file size: the same bytes for a
// 2 MiB and a 100 GiB file, and nothing of the PT_LOAD data.
func TestInfoReadsOnlyHeadersELF(t *testing.T) {
	var reads []int64
	for _, memory := range []uint64{2 << 20, 100 << 30} {
		core := &dumptest.ELFCore{
			Class: elf.ELFCLASS64, Machine: elf.EM_X86_64, QEMULayout: true,
			Notes: []dumptest.ELFNote{
				{Name: "CORE", Type: 1, Desc: make([]byte, 336)},
				{Name: "VMCOREINFO", Desc: []byte("OSRELEASE=6.1\nPAGESIZE=4096\n")},
			},
			// One PT_LOAD that claims `memory` bytes of stored data.
			Segments: []dumptest.ELFSegment{{Paddr: 0, Data: make([]byte, 4096)}},
		}
		head, lay := core.Bytes()
		head = head[:lay.SegmentOffsets[0]]
		// Patch p_filesz/p_memsz of the PT_LOAD to the large size.
		ph := head[lay.Phoff+56:]
		for _, off := range []int{32, 40} {
			putLE64(ph[off:], memory)
		}
		size := lay.SegmentOffsets[0] + int64(memory)
		cr := &dumptest.CountingReaderAt{R: &sparseFile{head: head, size: size}}
		d, err := open.Sources(reader.Source{Name: "big.vmcore", R: cr, Size: size})
		if err != nil {
			t.Fatal(err)
		}
		in := d.Info()
		counts, err := d.Counts(context.Background())
		if err != nil || uint64(in.MaxPFN) != memory/4096 || counts[model.StatePresent] != memory/4096 || in.OSRelease != "6.1" {
			t.Fatalf("info: %+v %v %v", in, counts, err)
		}
		if cr.MaxEnd() > lay.SegmentOffsets[0] {
			t.Fatalf("info read up to %#x, past the headers and notes (data starts at %#x)", cr.MaxEnd(), lay.SegmentOffsets[0])
		}
		reads = append(reads, cr.Bytes())
	}
	if reads[0] != reads[1] {
		t.Fatalf("info read %d bytes of the small dump but %d of the large one", reads[0], reads[1])
	}
	t.Logf("info reads %d bytes", reads[0])
}

func putLE64(b []byte, v uint64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

// TestInfoReadsOnlyHeadersFixture does the same on the largest real ELF
// fixture.
func TestInfoReadsOnlyHeadersFixture(t *testing.T) {
	path := dumptest.Fixture(t, "x86_64/qemu-elf-paging.vmcore")
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	st, _ := fh.Stat()
	cr := &dumptest.CountingReaderAt{R: fh}
	d, err := open.Sources(reader.Source{Name: path, R: cr, Size: st.Size()})
	if err != nil {
		t.Fatal(err)
	}
	d.Info()
	// The oracle: notes at 5512 (4824 bytes); the first PT_LOAD data at 10336.
	if cr.MaxEnd() > 10336 {
		t.Fatalf("info read up to %#x: page data was read", cr.MaxEnd())
	}
	t.Logf("info read %d bytes in %d calls of a %d-byte file", cr.Bytes(), cr.Calls(), st.Size())
}

// TestDetect checks the probe chain on each magic and on garbage: the
// first format that matches, and where its first structure starts.
func TestDetect(t *testing.T) {
	be32 := func(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }
	aix512 := make([]byte, 600)
	copy(aix512[512:], be32(0xEEEEEEED))
	xenELF := make([]byte, 64)
	copy(xenELF, "\x7fELF\x02\x01\x01")
	xenELF[60] = 3 // e_shnum 3, e_phnum 0
	cases := []struct {
		name   string
		head   []byte
		format string
		off    int64
	}{
		{"flattened", append([]byte("makedumpfile\x00\x00\x00\x00"), 0, 0, 0, 0, 0, 0, 0, 1), flat.Format().Name, 0},
		{"kdump", []byte("KDUMP   \x06\x00\x00\x00"), kdump.Format.Name, 0},
		{"diskdump", []byte("DISKDUMP\x01\x00\x00\x00"), kdump.Format.Name, 0},
		{"elf", []byte("\x7fELF\x02\x01\x01"), elfcore.Format.Name, 0},
		{"xen dump-core", xenELF, xencore.Format.Name, 0},
		{"xen legacy", append([]byte{0xed, 0xeb, 0x0f, 0xf0}, make([]byte, 20)...), xencore.LegacyFormat.Name, 0},
		{"aix at 0", append(be32(0xEEEEEEEE), make([]byte, 20)...), aix.Format.Name, 0},
		{"aix at 512", aix512, aix.Format.Name, 512},
	}
	for _, c := range cases {
		fs, ms, err := reader.Detect(reader.Source{Name: c.name, R: bytes.NewReader(c.head), Size: int64(len(c.head))}, open.Chain(), reader.ProbeSize)
		if err != nil || fs[0].Name != c.format || ms[0].Offset != c.off {
			t.Errorf("%s: %v %v, %v", c.name, fs, ms, err)
		}
	}
	for _, garbage := range [][]byte{nil, []byte("hello"), bytes.Repeat([]byte{0xff}, 5000)} {
		_, _, err := reader.Detect(reader.Source{Name: "junk", R: bytes.NewReader(garbage), Size: int64(len(garbage))}, open.Chain(), reader.ProbeSize)
		if !errors.Is(err, model.ErrUnrecognized) || !strings.Contains(err.Error(), "tried") || !strings.Contains(err.Error(), "junk") {
			t.Errorf("garbage %q: %v", garbage[:min(len(garbage), 8)], err)
		}
	}
}
