package kdump

import (
	"fmt"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/elfnote"
)

// Layout describes every structure of the file: the main header field by
// field, the sub-header of the file's version and layout, the notes, the
// bitmaps, the descriptor table and page data as ranges, and eraseinfo.
// Individual descriptors are shown on demand by ExplainPage.
func (f *File) Layout() (*model.Field, error) {
	h := f.Header
	bs := int64(h.BlockSize)
	root := &model.Field{Name: "kdump-compressed file", File: f.src.Name, Size: f.src.Len(),
		Value:   fmt.Sprintf("%q version %d, %v", h.Signature, h.HeaderVersion, f.order),
		Meaning: "makedumpfile's format: headers, two bitmaps, one descriptor per stored page, compressed pages"}
	if !f.isKdump() {
		root.Name, root.Meaning = "diskdump file", "Red Hat diskdump: the same layout as kdump-compressed with an architecture-specific sub-header"
	}
	b := make([]byte, headerSize(f.HeaderLayout))
	if err := f.src.ReadAt(b, 0, "disk_dump_header"); err != nil {
		return nil, err
	}
	root.Add(f.mainLayout(b))
	if f.isKdump() {
		sb := make([]byte, subHeaderSize(f.SubLayout))
		n, _ := f.src.R.ReadAt(sb, bs)
		root.Add(f.subLayout(sb[:n], bs))
	} else {
		root.Add(&model.Field{Name: "disk_dump_sub_header", Offset: model.FileOff(bs), Size: int64(h.SubHdrSize) * bs,
			Meaning: "diskdump: architecture-specific register save area of the crashing CPU"})
	}
	ni := f.loadNotes()
	if len(ni.notes) > 0 {
		notes := &model.Field{Name: "notes", Offset: model.FileOff(f.Sub.OffsetNote), Size: int64(f.Sub.SizeNote),
			Value: fmt.Sprintf("%d notes", len(ni.notes)), Meaning: "verbatim copy of the ELF PT_NOTE segment: CPU registers, VMCOREINFO, QEMU CPU state"}
		for _, n := range ni.notes {
			notes.Add(elfnote.NoteLayout(n, f.src, f.order, ni.arch))
		}
		root.Add(notes)
	}
	if v := ni.vmci; v != nil && f.version >= 3 && f.Sub.OffsetVMCoreInfo > 0 {
		root.Add(&model.Field{Name: "VMCOREINFO (offset_vmcoreinfo)", Offset: model.FileOff(f.Sub.OffsetVMCoreInfo), Size: int64(len(v.Raw)),
			Value: fmt.Sprintf("%d entries", len(v.Entries)), Meaning: "the VMCOREINFO text, pointed at directly by the sub-header (inside the notes copy)",
			Children: elfnote.TextLines(v.Raw, f.Sub.OffsetVMCoreInfo)})
	}
	bm := f.bm
	names := [2]string{"bitmap 1", "bitmap 2"}
	meanings := [2]string{"one bit per pfn, least significant bit first: set = the frame is RAM (not a hole)",
		"one bit per pfn: set = the page is stored in this file (not excluded by the dump level, inside this split part)"}
	for which := 0; which < 2; which++ {
		if bm.single && which == 1 {
			break
		}
		name, meaning := names[which], meanings[which]
		if bm.single {
			name, meaning = "bitmap", "the only bitmap (old diskdump layout): set = the page is stored"
		}
		node := root.Add(&model.Field{Name: name, Offset: model.FileOff(bm.off[which]), Size: bm.span,
			Value: fmt.Sprintf("%d bytes for %d frames", bm.size, f.maxMapnr), Meaning: meaning})
		if pad := bm.span - bm.size; pad > 0 {
			node.Add(&model.Field{Name: "bits below max_mapnr", Offset: model.FileOff(bm.off[which]), Size: bm.size, Meaning: "the bytes the reader uses"})
			node.Add(&model.Field{Name: "(padding)", Offset: model.FileOff(bm.off[which] + bm.size), Size: pad,
				Meaning: "rest of the bitmap blocks, beyond max_mapnr: never read (makedumpfile does not write it)"})
		}
	}
	descs := &model.Field{Name: "page_desc table", Offset: model.FileOff(f.descs.off), Meaning: "24-byte page_desc {offset, size, flags, page_flags}, one per set bit of bitmap 2 in pfn order; `page` and the layout drill-down show single entries"}
	if err := f.loadData(); err == nil {
		descs.Size = int64(f.nDescs) * descSize
		descs.Value = fmt.Sprintf("%d descriptors", f.nDescs)
		end := f.src.Len()
		if f.version >= 5 && f.Sub.OffsetEraseInfo > 0 {
			end = f.Sub.OffsetEraseInfo
		}
		if end > f.dataStart && end < 1<<62 {
			root.Add(descs)
			root.Add(&model.Field{Name: "page data", Offset: model.FileOff(f.dataStart), Size: end - f.dataStart,
				Value: "compressed and raw page images", Meaning: "page images in pfn order; the shared zero page comes first when zero pages are excluded"})
		} else {
			root.Add(descs)
		}
	} else {
		descs.Value = "unknown: " + err.Error()
		root.Add(descs)
	}
	if e := ni.erase; len(e) > 0 {
		root.Add(&model.Field{Name: "eraseinfo", Offset: model.FileOff(f.Sub.OffsetEraseInfo), Size: int64(len(e)),
			Meaning: "what makedumpfile --config erased from memory", Children: elfnote.TextLines(e, f.Sub.OffsetEraseInfo)})
	}
	return root, nil
}

// mainLayout labels disk_dump_header.
func (f *File) mainLayout(b []byte) *model.Field {
	h := f.Header
	s := reader.NewStruct("disk_dump_header", fmt.Sprintf("main header (%d-bit layout), block 0", f.HeaderLayout), 0, b, f.order)
	s.Raw("signature", 0, 8, "\"KDUMP   \" (makedumpfile) or \"DISKDUMP\" (diskdump)", fmt.Sprintf("%q", h.Signature))
	s.Uint("header_version", 8, 4, "which sub-header fields exist (1-6)")
	uts := s.Raw("utsname", 12, 390, "copy of the kernel's struct new_utsname (QEMU fills only machine)", "")
	sub := reader.NewStruct("", "", 12, b[12:402], f.order)
	for i, n := range []string{"sysname", "nodename", "release", "version", "machine", "domainname"} {
		sub.Text(n, 65*i, 65, "uname "+n)
	}
	uts.Children = sub.Node.Children
	uts.Value = fmt.Sprintf("%s %s %s", h.Utsname.Sysname, h.Utsname.Release, h.Utsname.Machine)
	pad := 2
	if f.HeaderLayout == Header64 {
		pad = 6
	}
	s.Raw("(padding)", 402, pad, "alignment of the timestamp")
	for _, fl := range mainFields(f.HeaderLayout) {
		note := ""
		switch fl.name {
		case "status":
			note = fmt.Sprint(statusFlags(h.Signature, h.Status))
		case "max_mapnr":
			if f.version >= 6 && f.Sub.MaxMapnr64 != 0 {
				note = "(max_mapnr_64 is authoritative)"
			}
		}
		s.Uint(fl.name, fl.off, fl.size, fl.meaning, note)
	}
	return s.Node
}

// subLayout labels kdump_sub_header with the fields of the file's version;
// the bytes of fields newer than the version are labelled as unused.
func (f *File) subLayout(b []byte, base int64) *model.Field {
	s := reader.NewStruct("kdump_sub_header", fmt.Sprintf("sub-header, %v layout, header version %d", f.SubLayout, f.Header.HeaderVersion), base, b, f.order)
	pos := 0
	for _, fl := range subFields(f.SubLayout) {
		if fl.off+fl.size > len(b) {
			break
		}
		if fl.off > pos {
			s.Raw("(padding)", pos, fl.off-pos, "alignment")
		}
		if fl.since > f.version {
			s.Raw(fl.name, fl.off, fl.size, fmt.Sprintf("not in version %d (added in version %d): %s", f.version, fl.since, fl.meaning))
		} else {
			s.Uint(fl.name, fl.off, fl.size, fl.meaning)
		}
		pos = fl.off + fl.size
	}
	return s.Node
}

// ExplainPage shows every structure used to find frame pfn: its bits in
// both bitmaps, the rank that selects its descriptor, the descriptor, and
// the stored page.
func (f *File) ExplainPage(pfn model.PFN) (*model.Field, error) {
	p := uint64(pfn)
	pi, idx, d, ok := f.lookup(p)
	root := &model.Field{Name: fmt.Sprintf("pfn %s", pfn), File: f.src.Name, Offset: -1, Value: string(pi.State), Meaning: pi.Reason}
	for which, name := range []string{"bitmap 1", "bitmap 2"} {
		if p >= f.maxMapnr {
			break
		}
		v, off, err := f.bm.byteAt(which, p)
		if err != nil {
			root.Add(&model.Field{Name: name + " byte", Offset: model.FileOff(off), Size: 1, Value: "unreadable", Meaning: err.Error()})
			continue
		}
		set := v>>(p%8)&1 == 1
		root.Add(&model.Field{Name: name + " byte", Offset: model.FileOff(off), Size: 1,
			Value:   fmt.Sprintf("%08b: bit %d = %v", v, p%8, set),
			Meaning: fmt.Sprintf("byte pfn/8 = %#x of %s; bit pfn%%8, least significant first", p/8, name)})
	}
	if ok {
		off := f.descs.offsetOf(idx)
		b := make([]byte, descSize)
		if f.src.ReadAt(b, off, "page_desc") == nil {
			s := reader.NewStruct(fmt.Sprintf("page_desc[%d]", idx), fmt.Sprintf("descriptor number %d = set bits of bitmap 2 before this pfn (from pfn %#x)", idx, f.start), off, b, f.order)
			s.Uint("offset", 0, 8, "file offset of the stored page")
			s.Uint("size", 8, 4, "bytes stored (a full block means raw)")
			s.Uint("flags", 12, 4, "how the page is stored", string(codecOf(d.Flags)))
			s.Uint("page_flags", 16, 8, "reserved, 0")
			root.Add(s.Node)
		}
		if pi.State == model.StatePresent {
			v := string(pi.Codec)
			if pi.ZeroPage {
				v += ", the shared zero page"
			}
			root.Add(&model.Field{Name: "stored page", Offset: model.FileOff(d.Offset), Size: int64(d.Size), Value: v,
				Meaning: fmt.Sprintf("decodes to one %d-byte page at physical %s", f.pageSize, pi.PhysAddr)})
		}
	}
	return root, nil
}
