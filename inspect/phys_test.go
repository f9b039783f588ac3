package inspect_test

import (
	"bytes"
	"debug/elf"
	"errors"
	"testing"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// TestReadPhysPartialFrames: bytes of a frame that a segment stores in
// part are served; the rest of the frame is not in the dump and is named
// as such, or zero-filled on request (issue 12, item 5).
func TestReadPhysPartialFrames(t *testing.T) {
	data := dumptest.Pattern(7, 0x1000)
	core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Machine: elf.EM_X86_64, DataAlign: 8,
		Segments: []dumptest.ELFSegment{{Paddr: 0x1800, Data: data}}}
	b, _ := core.Bytes()
	d, err := open.Sources(reader.Source{Name: "p.vmcore", R: bytes.NewReader(b), Size: int64(len(b))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got := make([]byte, 0x1000)
	if absent, err := inspect.ReadPhys(d, 0x1800, got, false); err != nil || len(absent) != 0 || !bytes.Equal(got, data) {
		t.Fatalf("stored range: %v, %v", absent, err)
	}
	got = make([]byte, 0x1200)
	_, err = inspect.ReadPhys(d, 0x1700, got, false)
	var ge *inspect.GapError
	if !errors.As(err, &ge) || !errors.Is(err, model.ErrPageAbsent) || ge.Start != 0x1700 || ge.End != 0x1800 || ge.PFN != 1 {
		t.Fatalf("read before the segment: %v", err)
	}
	absent, err := inspect.ReadPhys(d, 0x1700, got, true)
	if err != nil || len(absent) != 2 || !absent[0].Gap || absent[1].Start != 0x2800 || absent[1].End != 0x2900 {
		t.Fatalf("zero-filled: %+v, %v", absent, err)
	}
	if !bytes.Equal(got[0x100:0x1100], data) || !bytes.Equal(got[:0x100], make([]byte, 0x100)) {
		t.Fatal("zero-filled read differs")
	}
}
