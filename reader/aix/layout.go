package aix

import (
	"encoding/binary"
	"fmt"
	"strings"

	"dumpscope/model"
	"dumpscope/reader"
)

// layoutChildren bounds the children of one bitmap or data node; the rest
// is summarised in one more node.
const layoutChildren = 64

// Layout returns the annotated structure of the dump in file order: the
// LVM sector if any, then every component as the dmp_add documentation
// describes it (the table, then for each data area its bitmap and its
// data), then the end marker or padding.
func (f *File) Layout() (*model.Field, error) {
	w := f.walked()
	root := &model.Field{Name: "AIX system dump", File: f.src.Name, Offset: 0, Size: f.src.Size,
		Value:   fmt.Sprintf("%d components, %s, first table at %#x", len(w.comps), f.Arch(), f.start),
		Meaning: "component dump tables one after another; after each table, for every data area it names, a bitmap of the area's pages that were in memory, then those pages' bytes (dmp_add; formats.md §6.5)"}
	if f.start > 0 {
		root.Add(&model.Field{Name: "LVM sector", Offset: 0, Size: f.start, Value: fmt.Sprintf("%d bytes", f.start),
			Meaning: "first sector of the dump logical volume (LVM control block): the writer skips it, so the first table starts at 512"})
	}
	for _, c := range w.comps {
		root.Add(f.componentLayout(c))
	}
	switch w.end {
	case endMarker:
		root.Add(&model.Field{Name: "DMP_MAGIC_END", Offset: model.FileOff(w.endOff), Size: 4, Value: fmt.Sprintf("%#08x", MagicEnd),
			Meaning: "end of the dump (AIX 5.x writes it after the last component)"})
		if rest := f.src.Size - w.endOff - 4; rest > 0 {
			root.Add(&model.Field{Name: "after the end", Offset: model.FileOff(w.endOff + 4), Size: rest, Value: fmt.Sprintf("%d bytes", rest),
				Meaning: "not part of the dump: padding to the device block size, or stale data when the whole dump device was copied"})
		}
	case endZero:
		root.Add(&model.Field{Name: "zero padding", Offset: model.FileOff(w.endOff), Size: f.src.Size - w.endOff, Value: fmt.Sprintf("%d bytes", f.src.Size-w.endOff),
			Meaning: "a zero magic ends the dump: the writer pads its last block with zeros (jflush); anything after it is not part of the dump"})
	case endUnknown:
		root.Add(&model.Field{Name: "unrecognised magic", Offset: model.FileOff(w.endOff), Size: f.src.Size - w.endOff, Value: fmt.Sprintf("%#08x", w.endMagic),
			Meaning: "no table kind starts with this word: AIX's readers stop here (\"loss of sync\"), and so does dumpscope"})
	}
	return root, nil
}

// componentLayout labels one table and the areas that follow it.
func (f *File) componentLayout(c *component) *model.Field {
	state := "complete"
	if !c.complete {
		state = "incomplete: the dump ends or breaks inside it"
	}
	n := &model.Field{Name: fmt.Sprintf("component %d %q", c.index, reader.Printable(c.head.Name)), Offset: model.FileOff(c.off), Size: c.end - c.off,
		Value:   fmt.Sprintf("%s, %s, %s", MagicName(c.head.Magic), plural(uint64(len(c.entries)), "entry"), state),
		Meaning: "one component dump table (returned by the function a kernel extension registered with dmp_add), then the bitmap and data of each of its areas in entry order"}
	hb := make([]byte, c.headAvail)
	if f.src.ReadAt(hb, c.off, "cdt_head") != nil {
		return n
	}
	n.Add(headLayout(c, hb))
	if unlimited(c.head.Magic) {
		for k := range c.entries {
			a := &c.entries[k]
			if k == maxLayoutEntries {
				n.Add(moreEntries(c, k, a.off, c.end-a.off))
				break
			}
			b := make([]byte, EntryUSize)
			if f.src.ReadAt(b, a.off, "cdt_entry_u") != nil {
				break
			}
			n.Add(entryLayout(c.head.Magic, a, b))
			f.addAreaLayout(n, a)
		}
		return n
	}
	if len(c.entries) > 0 {
		es := entrySize(c.head.Magic)
		arr := n.Add(&model.Field{Name: entryStructName(c.head.Magic) + " array", Offset: model.FileOff(c.off + HeadSize), Size: int64(len(c.entries)) * es,
			Value:   fmt.Sprintf("%d entries of %d bytes", len(c.entries), es),
			Meaning: "one entry per data area: name, length, address and segment; the areas' bitmaps and data follow the table in this order"})
		const perRead = 1024
		buf := make([]byte, min(len(c.entries), perRead)*int(es))
		listed := min(len(c.entries), maxLayoutEntries)
		for i := 0; i < listed; i += perRead {
			k := min(perRead, listed-i)
			if f.src.ReadAt(buf[:k*int(es)], c.entries[i].off, "entries") != nil {
				break
			}
			for j := 0; j < k; j++ {
				arr.Add(entryLayout(c.head.Magic, &c.entries[i+j], buf[j*int(es):(j+1)*int(es)]))
			}
		}
		if listed < len(c.entries) {
			a := &c.entries[listed]
			arr.Add(moreEntries(c, listed, a.off, int64(len(c.entries)-listed)*es))
		}
	}
	for k := range c.entries {
		if k == maxLayoutEntries {
			for _, a := range c.entries[k:] {
				if a.bmOff >= 0 {
					n.Add(&model.Field{Name: fmt.Sprintf("bitmaps and data of entries %d..%d", k, len(c.entries)-1), Offset: model.FileOff(a.bmOff),
						Size: c.end - a.bmOff, Meaning: fmt.Sprintf("not listed one by one: the layout lists %d entries of a table", maxLayoutEntries)})
					break
				}
			}
			break
		}
		f.addAreaLayout(n, &c.entries[k])
	}
	return n
}

// maxLayoutEntries bounds the entries (and areas) of one table that the
// layout lists one by one: a table may have up to MaxEntries, and the tree
// must stay small whatever a file claims.
const maxLayoutEntries = 4096

// moreEntries stands for the entries of c from k on.
func moreEntries(c *component, k int, off, size int64) *model.Field {
	return &model.Field{Name: fmt.Sprintf("entries %d..%d", k, len(c.entries)-1), Offset: model.FileOff(off), Size: size,
		Value:   fmt.Sprintf("%d more entries", len(c.entries)-k),
		Meaning: fmt.Sprintf("not listed one by one: the layout lists %d entries of a table; `areas` lists them all", maxLayoutEntries)}
}

// headLayout labels cdt_head (or cdt_head_u).
func headLayout(c *component, b []byte) *model.Field {
	name := "cdt_head"
	if unlimited(c.head.Magic) {
		name = "cdt_head_u"
	}
	s := reader.NewStruct(name, "table header: the table kind, the component's name and the table's length", c.off, b, binary.BigEndian)
	s.Node.Value = fmt.Sprintf("%q %s", reader.Printable(c.head.Name), MagicName(c.head.Magic))
	s.Uint("cdt_magic", 0, 4, "table kind: 0xEEEEEEEE 32-bit, 0xEEEEEEEF 32-bit real/virtual, 0xEEEEEEED 64-bit, 0xEEEEEEEC/0xEEEEEEEB unlimited (32/64-bit kernel)", MagicName(c.head.Magic))
	s.Text("cdt_name", 4, 16, "component name: the kernel extension that registered the table; its formatting routine in /var/adm/ras/dmprtns has the same name")
	if unlimited(c.head.Magic) {
		s.Int("cdtu_nentries", 20, 4, "number of entries: AIX writes 0 in the dump, so the entries are found by walking while each starts with its magic")
	} else {
		es := entrySize(c.head.Magic)
		s.Int("cdt_len", 20, 4, fmt.Sprintf("length of the table: this 24-byte header plus the entries, (cdt_len-24)/%d = %d entries of %s", es, len(c.entries), entryStructName(c.head.Magic)))
	}
	return s.Node
}

// entryLayout labels one entry from its bytes b.
func entryLayout(m uint32, a *area, b []byte) *model.Field {
	meaning := "one data area to dump: its name, length, address and segment"
	if a.Len == 0 {
		meaning = "an area of length 0: no bitmap and no data follow for it"
	} else if a.bmOff < 0 {
		meaning = "a data area whose bitmap and data were not reached: the file ends, or the walk stopped, before them"
	}
	s := reader.NewStruct(fmt.Sprintf("%s[%d]", entryStructName(m), a.index), meaning, a.off, b, binary.BigEndian)
	s.Node.Value = fmt.Sprintf("%q %#x+%#x", reader.Printable(a.Name), a.Addr, a.Len)
	if a.Real {
		s.Node.Value += " real"
	}
	const segMeaning = "segment register value or vmhandle of the address; "
	switch m {
	case Magic32:
		s.Text("d_name", 0, 8, "data-area name")
		s.Uint("d_len", 8, 4, "length of the area in bytes", clipNote(m, a))
		s.Uint("d_ptr", 12, 4, "32-bit effective address of the area (a real address when d_segval is DUMP_REAL_SEGVAL32)")
		s.Uint("d_segval", 16, 4, segMeaning+"0 = kernel mapping, 0x007FFFFF = DUMP_REAL_SEGVAL32 (d_ptr is real)", segNote(a))
	case MagicVR:
		s.Text("d_name", 0, 16, "data-area name")
		s.Uint("d_len", 16, 4, "length of the area in bytes", clipNote(m, a))
		s.Uint("d_addrflags", 20, 4, "address flags: 0x1 D_REAL (d_realaddr is a real address), 0x2 D_VMID (d_segval is a vmid)", vrFlags(a.AddrFlags))
		if a.Real {
			s.Uint("d_realaddr", 24, 8, "real (physical) address of the area; overlays d_ptr and d_segval")
		} else {
			s.Uint("d_ptr", 24, 4, "32-bit effective address of the area")
			s.Uint("d_segval", 28, 4, segMeaning+"a vmid when D_VMID is set")
		}
	case Magic64:
		s.Text("d_name", 0, 16, "data-area name")
		s.Uint("d_len", 16, 8, "length of the area in bytes")
		s.Uint("d_ptr", 24, 8, "64-bit effective address, or real address when d_segval is DUMP_REAL_SEGVAL64")
		s.Uint("d_segval", 32, 8, segMeaning+"0xFFFFFFFFFFFFFFFF = DUMP_GEN_SEGVAL64 (kernel mapping), 0xFFFFFFFFFFFFFFFE = DUMP_REAL_SEGVAL64 (d_ptr is real)", segNote(a))
		s.Uint("d_xmemp", 40, 8, "kernel pointer to a cross-memory descriptor: meaningless in the file")
	default:
		s.Uint("du_magic", 0, 4, "entry magic: the table goes on while the next word is DMP_MAGIC_UD32 (32-bit kernel) or DMP_MAGIC_UD64 (64-bit kernel)", MagicName(a.Magic))
		s.Text("du_name", 4, 16, "data-area name")
		s.Raw("(padding)", 20, 4, "aligns du_len to 8 bytes")
		s.Uint("du_len", 24, 8, "length of the area in bytes")
		s.Uint("du_ptr", 32, 8, "address of the area (real when du_segval is the real cookie)")
		s.Uint("du_segval", 40, 8, segMeaning+"DUMP_REAL_SEGVAL32 (0x007FFFFF) or DUMP_REAL_SEGVAL64 (0xFFFFFFFFFFFFFFFE) = du_ptr is real", segNote(a))
		s.Uint("du_xmemp", 48, 8, "kernel pointer to a cross-memory descriptor: meaningless in the file")
	}
	return s.Node
}

func clipNote(m uint32, a *area) string {
	if clipped(m, a.Entry) && a.span < a.Len {
		return fmt.Sprintf("(only %d bytes dumped: 32-bit tables stop at the end of the 256 MiB segment)", a.span)
	}
	return ""
}

func segNote(a *area) string {
	switch {
	case a.Real && a.Segval == RealSegval64:
		return "DUMP_REAL_SEGVAL64: real address"
	case a.Real:
		return "DUMP_REAL_SEGVAL32: real address"
	case a.Segval == GenSegval64:
		return "DUMP_GEN_SEGVAL64"
	}
	return ""
}

func vrFlags(v uint32) string {
	var f []string
	if v&DReal != 0 {
		f = append(f, "D_REAL")
	}
	if v&DVMID != 0 {
		f = append(f, "D_VMID")
	}
	return strings.Join(f, "|")
}

// addAreaLayout adds the bitmap and data nodes of area a, when it has any
// in the file.
func (f *File) addAreaLayout(parent *model.Field, a *area) {
	if a.npages == 0 || a.bmOff < 0 {
		return
	}
	parent.Add(f.bitmapLayout(a))
	if a.dataOff >= 0 {
		parent.Add(f.dataLayout(a))
	}
}

// bitmapLayout labels an area's bitmap byte by byte (or, for long bitmaps,
// by runs of equal bytes).
func (f *File) bitmapLayout(a *area) *model.Field {
	bmLen := a.npages/8 + min(a.npages%8, 1)
	val := fmt.Sprintf("%s: %d present, %d absent", plural(a.npages, "page"), a.count, a.bits-a.count)
	if uint64(a.bmAvail) < bmLen {
		val = fmt.Sprintf("cut: %d of %d bytes in the file", a.bmAvail, bmLen)
	}
	n := &model.Field{Name: fmt.Sprintf("bitmap of entry %d %q", a.index, reader.Printable(a.Name)), Offset: model.FileOff(a.bmOff), Size: a.bmAvail, Value: val,
		Meaning: "one bit per page of the area (ceil(npages/8) bytes), least significant bit first: bit 0 of byte 0 is the page holding the area's first byte; set = the page was in memory and its bytes follow in the data"}
	per := a.bmAvail <= layoutChildren
	for k := int64(0); k < a.bmAvail && len(n.Children) < layoutChildren; {
		blk, err := f.block(a, uint64(k/blockBytes))
		if err != nil {
			break
		}
		b := blk[k%blockBytes]
		run := int64(1)
		if !per {
			for k+run < a.bmAvail && (k+run)%blockBytes != 0 && blk[(k+run)%blockBytes] == b {
				run++
			}
		}
		n.Add(bitmapByteLayout(a, k, run, b))
		k += run
		if len(n.Children) == layoutChildren && k < a.bmAvail {
			n.Add(&model.Field{Name: "…", Offset: model.FileOff(a.bmOff + k), Size: a.bmAvail - k, Value: fmt.Sprintf("%d more bytes", a.bmAvail-k),
				Meaning: "the rest of the bitmap, not listed"})
		}
	}
	return n
}

// bitmapByteLayout labels `run` equal bitmap bytes from byte k.
func bitmapByteLayout(a *area, k, run int64, b byte) *model.Field {
	first := uint64(k) * 8
	last := min(uint64(k+run)*8, a.npages) - 1
	var present, absent []uint64
	for i := first; i <= last && run == 1; i++ {
		if b>>(i%8)&1 != 0 {
			present = append(present, i)
		} else {
			absent = append(absent, i)
		}
	}
	fd := &model.Field{Name: fmt.Sprintf("byte %d", k), Offset: model.FileOff(a.bmOff + k), Size: run,
		Value: fmt.Sprintf("%#02x (bits 7..0 = %08b)", b, b)}
	if run > 1 {
		fd.Name = fmt.Sprintf("bytes %d-%d", k, k+run-1)
		fd.Value = fmt.Sprintf("%#02x × %d", b, run)
		switch b {
		case 0xff:
			fd.Meaning = fmt.Sprintf("pages %d-%d all present", first, last)
		case 0:
			fd.Meaning = fmt.Sprintf("pages %d-%d all absent (not in memory)", first, last)
		default:
			fd.Meaning = fmt.Sprintf("pages %d-%d: the same pattern in every byte, bit 0 first", first, last)
		}
		return fd
	}
	pages := fmt.Sprintf("pages %d-%d", first, last)
	if first == last {
		pages = fmt.Sprintf("page %d", first)
	}
	fd.Meaning = fmt.Sprintf("%s, least significant bit first: present %s; absent %s", pages, pageList(present), pageList(absent))
	if unused := uint64(k+1)*8 - (last + 1); unused > 0 {
		fd.Meaning += fmt.Sprintf("; the top %d bits are unused (the area has %s)", unused, plural(a.npages, "page"))
	}
	return fd
}

func plural(n uint64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "y") {
		return fmt.Sprintf("%d %sies", n, what[:len(what)-1])
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// pageList formats page numbers as ranges: "0-3, 5".
func pageList(ps []uint64) string {
	if len(ps) == 0 {
		return "none"
	}
	var out []string
	for i := 0; i < len(ps); {
		j := i
		for j+1 < len(ps) && ps[j+1] == ps[j]+1 {
			j++
		}
		if i == j {
			out = append(out, fmt.Sprint(ps[i]))
		} else {
			out = append(out, fmt.Sprintf("%d-%d", ps[i], ps[j]))
		}
		i = j + 1
	}
	return strings.Join(out, ", ")
}

// dataLayout labels an area's data by runs of pages in the same state.
func (f *File) dataLayout(a *area) *model.Field {
	size := a.dataLen
	if !a.complete || a.inFile < a.count {
		size = f.src.Size - a.dataOff
	}
	kind := "virtual"
	if a.Real {
		kind = "real"
	}
	n := &model.Field{Name: fmt.Sprintf("data of entry %d %q", a.index, reader.Printable(a.Name)), Offset: model.FileOff(a.dataOff), Size: size,
		Value:   fmt.Sprintf("%d bytes, %d of %d pages stored (%s addresses %#x-%#x)", size, a.inFile, a.npages, kind, a.Addr, a.Addr+a.span),
		Meaning: "the bytes of the present pages in page order, byte-granular: only the part of the first and last page that the area covers is stored, and absent pages take no space"}
	c, err := f.cursorAt(a, 0)
	if err != nil {
		return n
	}
	for c.i < a.npages {
		if len(n.Children) == layoutChildren {
			n.Add(&model.Field{Name: "…", Offset: model.FileOff(a.dataAt(c.rank)), Size: 0, Value: fmt.Sprintf("pages %d-%d", c.i, a.npages-1),
				Meaning: "the rest of the area, not listed"})
			break
		}
		i0, r0 := c.i, c.rank
		st, cnt, err := c.runFrom(a.npages - c.i)
		if err != nil || cnt == 0 {
			break
		}
		n.Add(dataRunLayout(a, st, i0, i0+cnt-1, r0))
	}
	return n
}

// dataRunLayout labels pages i..j of one state.
func dataRunLayout(a *area, st pageState, i, j, rank uint64) *model.Field {
	name := fmt.Sprintf("pages %d-%d", i, j)
	if i == j {
		name = fmt.Sprintf("page %d", i)
	}
	from := a.Addr + a.pageStart(i)
	to := from
	if j < a.bits {
		to = a.Addr + a.pageStart(j) + a.chunk(j)
	}
	fd := &model.Field{Name: name, Offset: model.FileOff(a.dataAt(rank)), Value: fmt.Sprintf("addresses %#x-%#x", from, to)}
	switch st {
	case pagePresent:
		fd.Size = int64(to - from)
		fd.Meaning = "stored bytes of pages that were in memory"
		if i == 0 && a.lead > 0 {
			fd.Meaning += fmt.Sprintf("; page 0 holds only %d bytes: the area starts %#x bytes into its page", a.chunk(0), a.lead)
		}
		if j == a.npages-1 && a.tail > 0 {
			fd.Meaning += fmt.Sprintf("; the last page holds only %d bytes: the area ends %d bytes before its page does", a.chunk(j), a.tail)
		}
	case pageAbsent:
		fd.Meaning = "not in memory at dump time (bits clear): nothing is stored for them"
	default:
		fd.Meaning = "lost: the file ends before their bytes (or their bitmap bits)"
		fd.Size = 0
	}
	return fd
}

// ExplainPage shows, for frame pfn of the physical view, every structure
// involved: for each real-address area covering it, the table entry, the
// page's bitmap byte and bit, and the stored bytes.
func (f *File) ExplainPage(pfn model.PFN) (*model.Field, error) {
	ps, err := f.pieces(pfn)
	if err != nil {
		return nil, err
	}
	pi := f.pageInfo(pfn, ps, nil)
	root := &model.Field{Name: fmt.Sprintf("pfn %s", pfn), Offset: model.FileOff(max(0, int64(pi.FileOffset))), Value: string(pi.State),
		Meaning: fmt.Sprintf("physical %s-%#x; real-address areas covering it, first in dump order wins where they overlap", pi.PhysAddr, uint64(pi.PhysAddr)+PageSize)}
	if len(ps) == 0 {
		root.Meaning = pi.Reason
	}
	w := f.walked()
	for _, p := range ps {
		a := p.iv.a
		c := w.comps[a.comp]
		n := root.Add(&model.Field{Name: areaName(a.comp, a.index, a.Name), Offset: model.FileOff(a.off), Value: fmt.Sprintf("page %d of the area: %s", p.i, modelState(p.st)),
			Meaning: fmt.Sprintf("physical bytes %#x-%#x of this frame", p.from, p.to)})
		b := make([]byte, entrySize(c.head.Magic))
		if f.src.ReadAt(b, a.off, "entry") == nil {
			n.Add(entryLayout(c.head.Magic, a, b))
		}
		if p.i < a.bits {
			byteOff := a.bmOff + int64(p.i/8)
			set := p.st != pageAbsent
			n.Add(&model.Field{Name: fmt.Sprintf("bitmap byte %d, bit %d", p.i/8, p.i%8), Offset: model.FileOff(byteOff), Size: 1, Value: fmt.Sprint(boolN(set)),
				Meaning: "bit i%8 of byte i/8, least significant bit first, tells whether page i was in memory"})
		}
		if p.st == pagePresent {
			n.Add(&model.Field{Name: "data", Offset: model.FileOff(p.fileOff()), Size: int64(p.to - p.from), Value: fmt.Sprintf("%d bytes", p.to-p.from),
				Meaning: fmt.Sprintf("after %d earlier present pages of the area", p.rank)})
		}
	}
	return root, nil
}
