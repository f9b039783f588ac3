package open_test

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader"
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
		d, err := reader.OpenSources(reader.Source{Name: "big.vmcore", R: cr, Size: size})
		if err != nil {
			t.Fatal(err)
		}
		in := d.Info()
		if in.MaxPFN != memory/4096 || in.Pages[model.StatePresent] != memory/4096 || in.OSRelease != "6.1" {
			t.Fatalf("info: %+v", in)
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
	d, err := reader.OpenSources(reader.Source{Name: path, R: cr, Size: st.Size()})
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

// TestDetect checks the probe chain on each magic and on garbage.
func TestDetect(t *testing.T) {
	be32 := func(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }
	aix512 := make([]byte, 600)
	copy(aix512[512:], be32(0xEEEEEEED))
	cases := []struct {
		name string
		head []byte
		kind reader.Kind
		off  int64
	}{
		{"flattened", append([]byte("makedumpfile\x00\x00\x00\x00"), 0, 0, 0, 0, 0, 0, 0, 1), reader.KindFlattened, 0},
		{"kdump", []byte("KDUMP   \x06\x00\x00\x00"), reader.KindKdump, 0},
		{"diskdump", []byte("DISKDUMP\x01\x00\x00\x00"), reader.KindDiskdump, 0},
		{"elf", []byte("\x7fELF\x02\x01\x01"), reader.KindELF, 0},
		{"xen legacy", append([]byte{0xed, 0xeb, 0x0f, 0xf0}, make([]byte, 20)...), reader.KindXenLegacy, 0},
		{"aix at 0", append(be32(0xEEEEEEEE), make([]byte, 20)...), reader.KindAIX, 0},
		{"aix at 512", aix512, reader.KindAIX, 512},
	}
	for _, c := range cases {
		d, err := reader.Detect(reader.Source{Name: c.name, R: bytes.NewReader(c.head), Size: int64(len(c.head))})
		if err != nil || d.Kind != c.kind || d.Offset != c.off {
			t.Errorf("%s: %+v, %v", c.name, d, err)
		}
	}
	for _, garbage := range [][]byte{nil, []byte("hello"), bytes.Repeat([]byte{0xff}, 5000)} {
		_, err := reader.Detect(reader.Source{Name: "junk", R: bytes.NewReader(garbage), Size: int64(len(garbage))})
		if !errors.Is(err, model.ErrUnrecognized) || !strings.Contains(err.Error(), "tried") || !strings.Contains(err.Error(), "junk") {
			t.Errorf("garbage %q: %v", garbage[:min(len(garbage), 8)], err)
		}
	}
}
