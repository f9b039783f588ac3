package xencore_test

import (
	"debug/elf"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/xencore"
)

// hugeCore is a Xen dump-core of n pages that exists only as a function:
// the headers come from a small writer-made dump with the counts and
// offsets patched, the page area reads as zeros and .xen_p2m entry i is
// {pfn 2i, gmfn 0x100000+i}, the last `invalid` entries all ones. It lets
// a test open a dump with a 256 MiB frame table without writing one.
type hugeCore struct {
	head             []byte // headers, notes, contexts; up to the page area
	pagesOff, tabOff int64
	n, invalid, size int64
}

func newHugeCore(t testing.TB, n, invalid int64) *hugeCore {
	core := dumptest.XenCore{Machine: elf.EM_X86_64, Version: sampleVersion, VCPUs: [][]byte{x86Regs(0, true).Context64(le)},
		Pages: dumptest.SortedXenPages(0, 4, nil, nil)}
	b, lay := core.Bytes()
	h := &hugeCore{n: n, invalid: invalid}
	pages, p2m, str := lay.Sections[".xen_pages"], lay.Sections[".xen_p2m"], lay.Sections[".shstrtab"]
	h.pagesOff, h.tabOff = pages.Off, pages.Off+n*4096
	h.size = h.tabOff + n*16
	head := append([]byte(nil), b[:h.pagesOff]...)
	// Move the string table into the padding before the pages.
	pr := lay.Sections[".xen_prstatus"]
	strAt := pr.Off + pr.Size
	if strAt+str.Size > h.pagesOff {
		t.Fatal("no room for .shstrtab")
	}
	copy(head[strAt:], b[str.Off:str.Off+str.Size])
	le.PutUint64(head[str.HeaderOff+shOffset:], uint64(strAt))
	le.PutUint64(head[pages.HeaderOff+shSize:], uint64(n*4096))
	le.PutUint64(head[p2m.HeaderOff+shOffset:], uint64(h.tabOff))
	le.PutUint64(head[p2m.HeaderOff+shSize:], uint64(n*16))
	le.PutUint64(head[lay.NoteOffsets[dumptest.XenNoteHeader]+16+16:], uint64(n)) // xch_nr_pages
	h.head = head
	return h
}

// ReadAt generates the bytes of [off, off+len(p)).
func (h *hugeCore) ReadAt(p []byte, off int64) (int, error) {
	for i := range p {
		o := off + int64(i)
		switch {
		case o < int64(len(h.head)):
			p[i] = h.head[o]
		case o < h.tabOff:
			p[i] = 0
		case o < h.size:
			e, k := (o-h.tabOff)/16, (o-h.tabOff)%16
			v := uint64(2 * e)
			if k >= 8 {
				v = uint64(0x100000 + e)
			}
			if e >= h.n-h.invalid {
				v = ^uint64(0)
			}
			p[i] = byte(v >> (8 * (k % 8)))
		default:
			return i, errEOF
		}
	}
	return len(p), nil
}

var errEOF = model.ErrTruncated

// TestOpenReadsBounded opens dumps of a thousand and of sixteen million
// pages through a counting reader: opening and Info read the same few
// kilobytes, however long the frame table is. With trailing invalid
// entries Info binary-searches for their start, which costs one block.
func TestOpenReadsBounded(t *testing.T) {
	type result struct{ bytes, calls int64 }
	measure := func(n, invalid int64) result {
		h := newHugeCore(t, n, invalid)
		c := &dumptest.CountingReaderAt{R: h}
		f, err := xencore.NewFile(reader.Source{Name: "huge.core", R: c, Size: h.size})
		if err != nil {
			t.Fatal(err)
		}
		in := dumptest.InfoWithCounts(t, f)
		valid := n - invalid
		if uint64(in.MaxPFN) != uint64(2*(valid-1)+1) || in.Pages[model.StatePresent] != uint64(valid) || len(in.Warnings) != 0 {
			t.Fatalf("n=%d: info %+v", n, in)
		}
		r := result{c.Bytes(), c.Calls()}
		// A lookup in the middle reads one block and a few first keys.
		pfn := model.PFN(2 * (valid / 2))
		if pi := f.PageInfo(pfn); pi.State != model.StatePresent || pi.MFN == nil || *pi.MFN != uint64(0x100000+valid/2) {
			t.Fatalf("n=%d: pfn %s: %+v", n, pfn, pi)
		}
		if pi := f.PageInfo(pfn + 1); pi.State != model.StateNotInDump {
			t.Fatalf("odd pfn: %+v", pi)
		}
		if lookup := c.Bytes() - r.bytes; lookup > 80<<10 {
			t.Errorf("n=%d: two lookups read %d bytes", n, lookup)
		}
		t.Logf("n=%d (%d invalid): open+Info read %d bytes in %d calls; table is %d bytes", n, invalid, r.bytes, r.calls, n*16)
		return r
	}
	for _, invalid := range []int64{0, 1000} {
		small, large := measure(2000, invalid), measure(16<<20, invalid)
		if large.bytes > 256<<10 || large.bytes > small.bytes+128<<10 || large.calls > small.calls+32 {
			t.Errorf("%d invalid entries: open+Info read %d bytes (%d calls) for 16M pages, %d (%d) for 2000",
				invalid, large.bytes, large.calls, small.bytes, small.calls)
		}
	}
}
