package kdump

import (
	"bytes"
	"context"
	"fmt"

	"dumpscope/model"
	"dumpscope/reader/elfnote"
)

// Check verifies what reading pages does not: header consistency, the
// bitmaps against each other, every descriptor's place in the file, the
// shared zero page, VMCOREINFO against the notes, and which tools can open
// the file as it is (formats.md §1.15). Lost pages, bad descriptors and
// pages that do not decode are reported by verify's page pass.
func (f *File) Check(ctx context.Context, report func(model.Problem)) error {
	h := f.Header
	name := f.src.Name
	p := func(sev model.Severity, code model.Code, off int64, format string, args ...any) {
		report(model.NewProblem(sev, code, name, off, format, args...))
	}
	bs := int64(h.BlockSize)
	if f.isKdump() && h.SubHdrSize < 1 {
		p(model.SeverityError, model.CodeBadHeader, -1, "sub_hdr_size is %d; a kdump file needs at least one block for the sub-header", h.SubHdrSize)
	}
	need := 2 * ((int64((f.maxMapnr+7)/8) + bs - 1) / bs)
	if !f.bm.single && int64(h.BitmapBlocks) < need {
		p(model.SeverityError, model.CodeBadHeader, -1, "bitmap_blocks %d is too small for max_mapnr %#x (%d needed)", h.BitmapBlocks, f.maxMapnr, need)
	}
	if f.version >= 6 && f.Sub.MaxMapnr64 != 0 && uint64(h.MaxMapnr) != min(f.Sub.MaxMapnr64, 0xffffffff) {
		p(model.SeverityError, model.CodeBadHeader, -1, "max_mapnr %#x disagrees with max_mapnr_64 %#x", h.MaxMapnr, f.Sub.MaxMapnr64)
	}
	if unknown := h.Status &^ 0x3f; unknown != 0 {
		p(model.SeverityWarning, model.CodeBadHeader, -1, "status has unknown bits %#x", unknown)
	}
	if codecs := h.Status & (FlagZlib | FlagLZO | FlagSnappy | FlagZstd); codecs&(codecs-1) != 0 {
		p(model.SeverityWarning, model.CodeBadHeader, -1, "status announces more than one codec (%#x)", codecs)
	}
	notes := f.loadNotes()
	if pr := countPrstatus(notes.notes); f.isKdump() && f.version >= 4 && pr != int(h.NrCPUs) {
		p(model.SeverityWarning, model.CodeCPUCountMismatch, f.Sub.OffsetNote,
			"nr_cpus is %d but the notes hold %d NT_PRSTATUS notes (offline CPUs have none)", h.NrCPUs, pr)
	}
	if v := notes.vmci; v != nil && f.version >= 4 {
		if nv := elfnote.VMCoreInfoFromNotes(notes.notes); nv != nil && !bytes.Equal(nv.Raw, v.Raw) {
			p(model.SeverityWarning, model.CodeVMCoreInfoMismatch, f.Sub.OffsetVMCoreInfo, "offset_vmcoreinfo points at text that differs from the VMCOREINFO note")
		}
	}
	if err := f.checkDescriptors(ctx, p); err != nil {
		return err
	}
	f.compatNotes(p)
	return nil
}

func countPrstatus(notes []model.Note) int {
	n := 0
	for _, x := range notes {
		if x.Name == elfnote.NamePrstatus && x.Type == elfnote.NTPrstatus {
			n++
		}
	}
	return n
}

// checkDescriptors walks every descriptor once, in order, and checks what
// a page read does not: offsets into the headers, bitmaps or descriptor
// table, flags naming several codecs or one the header does not announce,
// reserved page_flags, bitmap 2 bits without bitmap 1 bits, and that the
// shared zero page is zero.
func (f *File) checkDescriptors(ctx context.Context, p func(model.Severity, model.Code, int64, string, ...any)) error {
	if err := f.loadData(); err != nil {
		p(model.SeverityError, model.CodeTruncated, f.bm.off[1], "bitmap 2 cannot be read to count the descriptors: %v", err)
		return nil
	}
	if f.dataStart > f.src.Len() {
		p(model.SeverityError, model.CodeTruncated, f.descs.off, "bitmap 2 announces %d descriptors (up to %#x) but the file ends at %#x",
			f.nDescs, f.dataStart, f.src.Len())
	}
	announced := f.Header.Status & (FlagZlib | FlagLZO | FlagSnappy | FlagZstd)
	var idx uint64
	zeroChecked := false
	// The descriptors are read through a window of the range reader's
	// buffers, which the page pass reuses: the block cache would keep (and
	// allocate) a block for every 256 frames.
	bufs := f.rangeBuffers()
	defer f.ranges.Put(bufs)
	win := f.window(bufs)
	// Visit the set bits of bitmap 2 in [start, end), a 64-bit word at a time.
	err := f.bm.eachSet(ctx, f.start, f.end, func(pfn uint64, in1 bool) bool {
		if !in1 {
			p(model.SeverityError, model.CodeBitmapMismatch, f.bm.off[1]+int64(pfn/8), "pfn %#x is in bitmap 2 (stored) but not in bitmap 1 (RAM)", pfn)
		}
		d, err := f.descs.at(win, idx)
		idx++
		if err != nil {
			return false // lost pages: reported by the page pass
		}
		off := f.descs.offsetOf(idx - 1)
		codecs := d.Flags & (FlagZlib | FlagLZO | FlagSnappy | FlagZstd)
		switch {
		case d.Offset == 0:
			return true // lost: reported by the page pass
		case d.Offset < f.dataStart:
			p(model.SeverityError, model.CodeBadPageDescriptor, off, "page_desc[%d] (pfn %#x) points at %#x, before the page data at %#x", idx-1, pfn, d.Offset, f.dataStart)
		case codecs&(codecs-1) != 0:
			p(model.SeverityWarning, model.CodeBadPageDescriptor, off, "page_desc[%d] (pfn %#x) names several codecs (flags %#x)", idx-1, pfn, d.Flags)
		case codecs != 0 && codecs&announced == 0 && d.Size != uint32(f.pageSize):
			p(model.SeverityWarning, model.CodeBadPageDescriptor, off, "page_desc[%d] (pfn %#x) uses %s, which the header does not announce", idx-1, pfn, codecOf(d.Flags))
		}
		if d.Flags&^0x27 != 0 || d.PageFlags != 0 {
			p(model.SeverityNote, model.CodeBadPageDescriptor, off, "page_desc[%d] (pfn %#x) has reserved bits set (flags %#x, page_flags %#x)", idx-1, pfn, d.Flags, d.PageFlags)
		}
		if !zeroChecked && d.Offset == f.dataStart && d.Size == uint32(f.pageSize) && codecs == 0 {
			zeroChecked = true
			page := make([]byte, f.pageSize)
			if f.src.ReadAt(page, d.Offset, "shared zero page") == nil && !bytes.Equal(page, make([]byte, f.pageSize)) && f.version >= 1 && f.Sub.DumpLevel&1 != 0 {
				// Not an error by itself: without zero-page exclusion the
				// first page written may be any page.
				p(model.SeverityNote, model.CodeZeroPage, d.Offset, "the first page image is not zero although zero pages are excluded")
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	if idx != f.nDescs && idx < f.nDescs && f.dataStart <= f.src.Len() {
		p(model.SeverityError, model.CodeBitmapMismatch, f.descs.off, "bitmap 2 counts %d pages in this file but only %d could be walked", f.nDescs, idx)
	}
	return nil
}

// compatNotes says which common tools cannot open the file as it is.
func (f *File) compatNotes(p func(model.Severity, model.Code, int64, string, ...any)) {
	for _, c := range []struct {
		bit  uint32
		what string
	}{{FlagSnappy, "snappy"}, {FlagZstd, "zstd"}} {
		if f.Header.Status&c.bit != 0 {
			p(model.SeverityNote, model.CodeCodecSupport, -1,
				"pages are %s-compressed: common crash and makedumpfile builds (Debian's among them) lack %s and cannot read them; dumpscope and a makedumpfile built with %s can",
				c.what, c.what, c.what)
		}
	}
	if archFromMachine(f.Header.Utsname.Machine) == "" {
		p(model.SeverityNote, model.CodeNoArchName, 12+260, "utsname.machine is %q: tools that take the architecture from the header (crash, libkdumpfile) cannot tell it", f.Header.Utsname.Machine)
	}
	if f.isKdump() && f.Header.Utsname.Release == "" && f.Header.Utsname.Machine != "" {
		p(model.SeverityNote, model.CodeQEMUKdump, 12, "the utsname holds only machine (%s), as QEMU writes it: libkdumpfile 0.5.1 reports neither the architecture nor the registers of such files", f.Header.Utsname.Machine)
	}
}

// Check verifies every part, and that the parts fit together.
func (s *Set) Check(ctx context.Context, report func(model.Problem)) error {
	for _, p := range s.parts {
		if err := p.Check(ctx, report); err != nil {
			return err
		}
	}
	for i := 1; i < len(s.parts); i++ {
		a, b := s.parts[i-1], s.parts[i]
		if a.end != b.start {
			report(model.NewProblem(model.SeverityWarning, model.CodeMissingSplitPart, b.src.Name, -1,
				"the split parts are not contiguous: %s ends at pfn %#x, %s starts at %#x", a.src.Name, a.end, b.src.Name, b.start))
		}
		if !bytes.Equal(a.VMCoreInfoRaw(), b.VMCoreInfoRaw()) {
			report(model.NewProblem(model.SeverityWarning, model.CodeSplitMismatch, b.src.Name, -1, "VMCOREINFO differs from %s's", a.src.Name))
		}
	}
	return nil
}

// VMCoreInfoRaw returns the raw VMCOREINFO text, or nil.
func (f *File) VMCoreInfoRaw() []byte {
	if v := f.loadNotes().vmci; v != nil {
		return v.Raw
	}
	return nil
}

// String names the file and its range, for messages.
func (f *File) String() string { return fmt.Sprintf("%s (pfns %#x-%#x)", f.src.Name, f.start, f.end) }
