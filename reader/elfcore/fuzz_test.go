package elfcore_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"reflect"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/elfcore"
)

// FuzzELF opens arbitrary bytes as an ELF vmcore and exercises every entry
// point. Seeds: the head of every real ELF fixture (headers and notes) and
// writer-made files of each class and byte order.
func FuzzELF(f *testing.F) {
	le, be := binary.LittleEndian, binary.BigEndian
	for _, c := range []dumptest.ELFCore{
		{Class: elf.ELFCLASS64, Order: le, Machine: elf.EM_X86_64, QEMULayout: true,
			Notes: []dumptest.ELFNote{
				{Name: "CORE", Type: 1, Desc: dumptest.PrstatusX8664(le, 1, []uint64{1, 2})},
				{Name: "QEMU", Desc: dumptest.QEMUCPUState(440, [18]uint64{1}, [5]uint64{0x80050033}, 0)},
				{Name: "VMCOREINFO", Desc: []byte("OSRELEASE=6.1\nPAGESIZE=4096\n")},
			},
			Segments:  []dumptest.ELFSegment{{Paddr: 0x1000, Data: make([]byte, 64), Memsz: 0x3000}, {Paddr: 0x8000, Unbacked: true, Memsz: 0x1000}},
			DataAlign: 16},
		{Class: elf.ELFCLASS32, Order: le, Machine: elf.EM_386,
			Notes:    []dumptest.ELFNote{{Name: "CORE", Type: 1, Desc: dumptest.PrstatusI386(le, 1, []uint32{1})}},
			Segments: []dumptest.ELFSegment{{Paddr: 0x800, Data: make([]byte, 100)}}, DataAlign: 4},
		{Class: elf.ELFCLASS64, Order: be, Machine: elf.EM_PPC64, PNXNum: true,
			Notes:    []dumptest.ELFNote{{Name: "CORE", Type: 1, Desc: dumptest.PrstatusPPC64(be, 1, nil)}},
			Segments: []dumptest.ELFSegment{{Paddr: 0, Data: make([]byte, 32)}}, DataAlign: 8},
	} {
		b, _ := c.Bytes()
		f.Add(b)
	}
	if dir := os.Getenv("DUMPSCOPE_FIXTURES"); dir != "" || fixturesPresent() {
		for _, name := range []string{"x86_64/qemu-elf-paging.vmcore", "x86_64/qemu-elf-mini.vmcore", "i386/qemu-elf-mini.vmcore"} {
			fh, err := os.Open(dumptest.Fixture(f, name))
			if err != nil {
				continue
			}
			head := make([]byte, 16<<10)
			n, _ := io.ReadFull(fh, head)
			fh.Close()
			f.Add(head[:n])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := elfcore.NewFile(reader.Source{Name: "fuzz", R: bytes.NewReader(b), Size: int64(len(b))})
		if err != nil {
			return
		}
		file.Info()
		if _, err := file.Layout(); err != nil {
			t.Fatalf("Layout of an opened file failed: %v", err)
		}
		file.Registers()
		file.VMCoreInfo()
		buf := make([]byte, file.Info().PageSize)
		n := 0
		file.Runs(context.Background(), 0, false, func(r model.PageRun) bool {
			file.ReadPage(r.Start, buf, reader.ReadOptions{})
			file.ReadPage(r.End()-1, buf, reader.ReadOptions{})
			// ReadRange (spans of whole frames) agrees with ReadPage on
			// the first frames of the run.
			pfn := r.Start
			want := make([]byte, len(buf))
			file.ReadRange(context.Background(), r.Start, min(r.Count, 64), reader.ReadOptions{}, func(pi model.PageInfo, page []byte, err error) bool {
				wpi, werr := file.ReadPage(pfn, want, reader.ReadOptions{})
				if !reflect.DeepEqual(pi, wpi) || fmt.Sprint(err) != fmt.Sprint(werr) || (err == nil && !bytes.Equal(page, want)) {
					t.Fatalf("pfn %#x: ReadRange gives %+v, %v; ReadPage %+v, %v", pfn, pi, err, wpi, werr)
				}
				pfn++
				return true
			})
			for _, pfn := range []model.PFN{r.Start, r.End() - 1} {
				pi := file.PageInfo(pfn)
				rs := file.Defined(pfn)
				if (rs != nil) != pi.Partial {
					t.Fatalf("pfn %#x: partial %v, defined %v", pfn, pi.Partial, rs)
				}
				lo, hi := pfn.Addr(uint64(len(buf))), pfn.Addr(uint64(len(buf)))+model.PhysAddr(len(buf))
				for i, d := range rs {
					if d[0] < lo || d[1] > hi || d[1] <= d[0] || (i > 0 && d[0] <= rs[i-1][1]) {
						t.Fatalf("pfn %#x: defined ranges %v", pfn, rs)
					}
				}
			}
			n++
			return n < 1000
		})
	})
}

func fixturesPresent() bool {
	_, err := os.Stat("../../../shared/fixtures/MANIFEST.tsv")
	return err == nil
}
