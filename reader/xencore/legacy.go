package xencore

import (
	"encoding/binary"
	"fmt"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/arch"
)

// The legacy core of Xen 3.0.x (libxc xc_core.c before the ELF format,
// formats.md §4.7) is a 24-byte xc_core_header, the vCPU contexts in the
// tools' native vcpu_guest_context (2800 bytes on a 32-bit dom0, 5168 on
// x86_64), an index of the machine frame of every page (the tools'
// unsigned long: 4 or 8 bytes; one short-lived revision used uint64), and
// the pages from xch_pages_offset, rounded up to the page size. The index
// follows the hypervisor's page list, not frame order, and there is no
// guest frame number anywhere: PFN means machine frame in such a dump.

// legacyPageSize is the page size of the x86 tools that wrote legacy
// cores.
const legacyPageSize = 4096

// LegacyHeader is xc_core_header, all uint32 in dom0 byte order.
type LegacyHeader struct {
	Magic       uint32 // MagicPV or MagicHVM
	NrVCPUs     uint32 // very early versions always wrote 1
	NrPages     uint32
	CtxtOffset  uint32 // 24: contexts follow the header
	IndexOffset uint32
	PagesOffset uint32
	// ContextSize and IndexWord are deduced from the offsets: the size of
	// one context and of one index entry.
	ContextSize int64
	IndexWord   int64
}

// NewLegacyFile opens a legacy (pre-ELF) Xen core. It fails only when the
// 24-byte header cannot be read or has no Xen core magic.
func NewLegacyFile(src reader.Source) (*File, error) {
	b := make([]byte, 24)
	if err := src.ReadAt(b, 0, "xc_core_header"); err != nil {
		return nil, err
	}
	f := &File{src: src, pageSize: legacyPageSize}
	for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		if m := o.Uint32(b); m == MagicPV || m == MagicHVM {
			f.order = o
			break
		}
	}
	if f.order == nil {
		return nil, model.Errorf(src.Name, "xc_core_header", 0, model.ErrUnrecognized, "no Xen core magic (0xf00febed or 0xf00febee)")
	}
	o := f.order
	h := &LegacyHeader{Magic: o.Uint32(b[0:]), NrVCPUs: o.Uint32(b[4:]), NrPages: o.Uint32(b[8:]),
		CtxtOffset: o.Uint32(b[12:]), IndexOffset: o.Uint32(b[16:]), PagesOffset: o.Uint32(b[20:])}
	f.Legacy = h
	f.hvm = h.Magic == MagicHVM
	f.Header = Header{Magic: uint64(h.Magic), NrVCPUs: uint64(h.NrVCPUs), NrPages: uint64(h.NrPages), PageSize: legacyPageSize}
	f.legacyContexts()
	f.legacyIndex()
	return f, nil
}

// legacyContexts deduces the context size from the offsets and with it the
// architecture of the tools (which, before 32-on-64 PV guests existed, was
// the guest's).
func (f *File) legacyContexts() {
	h := f.Legacy
	bad := func(off int64, format string, args ...any) {
		f.problem(model.SeverityError, model.CodeBadLegacyHeader, off, format, args...)
	}
	f.archName = "unknown"
	if h.CtxtOffset < 24 {
		bad(12, "xch_ctxt_offset %d lies inside the 24-byte header", h.CtxtOffset)
	}
	if h.IndexOffset < h.CtxtOffset {
		bad(16, "xch_index_offset %#x precedes xch_ctxt_offset %#x", h.IndexOffset, h.CtxtOffset)
		return
	}
	nr := min(int64(h.NrVCPUs), MaxVCPUs)
	area := int64(h.IndexOffset - h.CtxtOffset)
	if nr == 0 {
		if area != 0 {
			bad(4, "xch_nr_vcpus is 0 but %d bytes lie between the contexts and the index", area)
		}
		return
	}
	h.ContextSize = area / nr
	switch {
	case area%nr != 0:
		bad(16, "%d bytes of contexts do not divide into %d vCPUs", area, nr)
	case h.ContextSize == arch.XenContextX8632Size:
		f.archName = arch.I386
	case h.ContextSize == arch.XenContextX8664Size:
		f.archName = arch.X8664
	default:
		bad(16, "contexts are %d bytes: neither 2800 (x86_32 tools) nor 5168 (x86_64 tools); registers cannot be decoded", h.ContextSize)
	}
	r := region{name: "vcpu_guest_context", off: int64(h.CtxtOffset), size: area}
	if end := r.off + r.size; end > f.src.Size {
		f.problem(model.SeverityError, model.CodeTruncated, min(r.off, f.src.Size), "the vCPU contexts end at %#x but the file ends at %#x", end, f.src.Size)
		r.size = max(0, f.src.Size-r.off)
	}
	f.ctx = records{region: r, rec: h.ContextSize}
	if h.ContextSize > 0 {
		f.ctx.n = int(min(nr, r.size/h.ContextSize))
	}
}

// legacyIndex deduces the index entry size: the tools' unsigned long,
// which goes with the context size, checked against where the pages start
// (the index end rounded up to a page).
func (f *File) legacyIndex() {
	h := f.Legacy
	n := int64(h.NrPages)
	idx, pages := int64(h.IndexOffset), int64(h.PagesOffset)
	pref, other := int64(8), int64(4)
	if h.ContextSize == arch.XenContextX8632Size {
		pref, other = 4, 8
	}
	exact := func(w int64) bool { return (idx+w*n+legacyPageSize-1)/legacyPageSize*legacyPageSize == pages }
	fits := func(w int64) bool { return idx+w*n <= pages }
	var word int64
	switch {
	case exact(pref):
		word = pref
	case exact(other):
		word = other
	case fits(pref):
		word = pref
		f.problem(model.SeverityWarning, model.CodeBadLegacyHeader, 20, "xch_pages_offset %#x is not the page-rounded end of a %d-entry index of %d-byte entries", pages, n, word)
	case fits(other):
		word = other
		f.problem(model.SeverityWarning, model.CodeBadLegacyHeader, 20, "xch_pages_offset %#x is not the page-rounded end of a %d-entry index of %d-byte entries", pages, n, word)
	default:
		word = pref
		f.problem(model.SeverityError, model.CodeBadLegacyHeader, 20, "xch_pages_offset %#x leaves no room for %d index entries from %#x; the index is cut there", pages, n, idx)
		n = max(0, pages-idx) / word
	}
	h.IndexWord = word
	if pages%legacyPageSize != 0 {
		f.problem(model.SeverityWarning, model.CodeBadLegacyHeader, 20, "xch_pages_offset %#x is not page aligned", pages)
	}
	if have := max(0, f.src.Size-idx) / word; have < n {
		f.problem(model.SeverityError, model.CodeTruncated, min(idx+have*word, f.src.Size), "the frame index is cut short: %d of %d entries are in the file", have, n)
		n = have
	}
	f.table = newFrameTable(f.src, f.order, "frame index", kindMFN, idx, n, word, word)
	f.pagesOff, f.pagesCap = pages, int64(h.NrPages)
	if end := pages + int64(h.NrPages)*legacyPageSize; end > f.src.Size {
		f.problem(model.SeverityError, model.CodeTruncated, min(pages, f.src.Size), "the pages end at %#x but the file ends at %#x: %d of %d pages are missing",
			end, f.src.Size, int64(h.NrPages)-f.availPages(), h.NrPages)
	}
}

// legacyLayout labels the header, contexts, index and page area.
func (f *File) legacyLayout() (*model.Field, error) {
	h := f.Legacy
	root := &model.Field{Name: "Xen legacy core", File: f.src.Name, Offset: 0, Size: f.src.Size,
		Value:   fmt.Sprintf("%s %s domain, %d vCPUs, %d pages", f.archName, domainKind(f.hvm), h.NrVCPUs, h.NrPages),
		Meaning: "pre-ELF Xen core (Xen 3.0.x): header, vCPU contexts, index of machine frames, pages"}
	b := make([]byte, 24)
	if err := f.src.ReadAt(b, 0, "xc_core_header"); err != nil {
		return nil, err
	}
	s := reader.NewStruct("xc_core_header", "what the domain is and where the parts of the file are", 0, b, f.order)
	s.Uint("xch_magic", 0, 4, "0xf00febed (PV) or 0xf00febee (HVM)", magicName(uint64(h.Magic)))
	s.Uint("xch_nr_vcpus", 4, 4, "number of vCPU contexts")
	s.Uint("xch_nr_pages", 8, 4, "number of pages and index entries")
	s.Uint("xch_ctxt_offset", 12, 4, "file offset of the contexts (24)")
	s.Uint("xch_index_offset", 16, 4, "file offset of the machine frame index", fmt.Sprintf("(%d-byte entries)", h.IndexWord))
	s.Uint("xch_pages_offset", 20, 4, "file offset of the pages (index end rounded up to a page)")
	root.Add(s.Node)
	if f.ctx.size > 0 {
		n := &model.Field{Name: "vCPU contexts", Offset: model.FileOff(f.ctx.off), Size: f.ctx.size, Meaning: "the tools' native vcpu_guest_context per vCPU"}
		f.ctxLayout(n)
		root.Add(n)
	}
	idx := &model.Field{Name: "frame index", Offset: model.FileOff(f.table.off), Size: f.table.n * f.table.ent,
		Meaning: "machine frame of every page, in the hypervisor's order (xc_get_pfn_list)"}
	f.tableLayout(idx)
	root.Add(idx)
	if end := int64(idx.End()); f.pagesOff > end {
		root.Add(&model.Field{Name: "(padding)", Offset: model.FileOff(end), Size: f.pagesOff - end, Meaning: "zeros up to the page boundary"})
	}
	root.Add(&model.Field{Name: "pages", Offset: model.FileOff(f.pagesOff), Size: max(0, min(int64(h.NrPages)*f.pageSize, f.src.Size-f.pagesOff)),
		Value:   fmt.Sprintf("%d pages of %d bytes", h.NrPages, f.pageSize),
		Meaning: "page i belongs to the machine frame in index entry i"})
	return root, nil
}
