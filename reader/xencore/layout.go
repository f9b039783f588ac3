package xencore

import (
	"bytes"
	"fmt"
	"sort"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/arch"
	"dumpscope/reader/elfnote"
)

// Layout limits: contexts and table entries beyond these are summarized.
const (
	layoutVCPUs   = 64
	layoutEntries = 32
)

// Layout returns the annotated structure of the file: the ELF header, every
// section header, and each section's data: the notes decoded, the vCPU
// contexts field by field, shared info, the page area and the first and
// last entries of the frame table.
func (f *File) Layout() (*model.Field, error) {
	if f.Legacy != nil {
		return f.legacyLayout()
	}
	root := &model.Field{Name: "Xen dump-core", File: f.src.Name, Offset: 0, Size: f.src.Size,
		Value:   fmt.Sprintf("%s %s domain, %d vCPUs, %d pages", f.archName, domainKind(f.hvm), f.Header.NrVCPUs, f.Header.NrPages),
		Meaning: "an ELF core without program headers: named sections hold the notes, vCPU contexts, pages and frame table (Xen dump-core format 0.1)"}
	hdr := make([]byte, 64)
	if err := f.src.ReadAt(hdr, 0, "Elf64_Ehdr"); err != nil {
		return nil, err
	}
	root.Add(f.headerLayout(hdr))
	root.Add(f.sectionTableLayout())
	var data []*model.Field
	for i := range f.Sections {
		if n := f.sectionLayout(i); n != nil {
			data = append(data, n)
		}
	}
	sort.SliceStable(data, func(i, j int) bool { return data[i].Offset < data[j].Offset })
	end := model.FileOff(int64(f.Shoff) + int64(len(f.Sections))*int64(f.Shentsize))
	for _, n := range data {
		if n.Offset > end {
			root.Add(&model.Field{Name: "(padding)", Offset: end, Size: int64(n.Offset - end), Meaning: "unused bytes; libxc pads to a page boundary before .xen_pages"})
		}
		root.Add(n)
		end = max(end, n.End())
	}
	return root, nil
}

func (f *File) headerLayout(b []byte) *model.Field {
	s := reader.NewStruct("Elf64_Ehdr", "ELF header: a 64-bit core with section headers and no program headers", 0, b, f.order)
	id := s.Raw("e_ident", 0, 16, "identification bytes")
	ident := reader.NewStruct("", "", 0, b[:16], f.order)
	ident.Raw("EI_MAG0..3", 0, 4, "magic: 0x7f 'E' 'L' 'F'", fmt.Sprintf("%q", b[:4]))
	ident.Uint("EI_CLASS", 4, 1, "always 2 = ELFCLASS64 in dump-cores, even for 32-bit guests", f.Class.String())
	ident.Uint("EI_DATA", 5, 1, "byte order of the dumping tools (little-endian on x86 and ia64)", f.Data.String())
	ident.Uint("EI_VERSION", 6, 1, "ELF version, 1")
	ident.Uint("EI_OSABI", 7, 1, "OS ABI, 0 = System V", f.OSABI.String())
	ident.Uint("EI_ABIVERSION", 8, 1, "ABI version; libxc writes EV_CURRENT (1)")
	ident.Raw("EI_PAD", 9, 7, "padding, zero")
	id.Children = ident.Node.Children
	s.Uint("e_type", 16, 2, "4 = ET_CORE", f.Type.String())
	s.Uint("e_machine", 18, 2, "architecture; on x86 the guest's width (EM_386 for 32-bit guests)", f.Machine.String()+" → "+f.archName)
	s.Uint("e_version", 20, 4, "ELF version, 1")
	s.Uint("e_entry", 24, 8, "unused (0)")
	s.Uint("e_phoff", 32, 8, "0: no program headers")
	s.Uint("e_shoff", 40, 8, "file offset of the section header table (64: right after this header)")
	s.Uint("e_flags", 48, 4, "ELF_CORE_EFLAGS of the tools (0 on x86)")
	s.Uint("e_ehsize", 52, 2, "size of this header")
	s.Uint("e_phentsize", 54, 2, "size a program header would have")
	s.Uint("e_phnum", 56, 2, "0: dump-cores use sections only")
	s.Uint("e_shentsize", 58, 2, "size of one section header")
	s.Uint("e_shnum", 60, 2, "number of section headers")
	s.Uint("e_shstrndx", 62, 2, "index of .shstrtab")
	return s.Node
}

func (f *File) sectionTableLayout() *model.Field {
	ent := int64(f.Shentsize)
	tbl := &model.Field{Name: "section header table", Offset: model.FileOff(int64(f.Shoff)), Size: ent * int64(len(f.Sections)),
		Value: fmt.Sprintf("%d sections", len(f.Sections)), Meaning: "one Elf64_Shdr per section; readers find sections by name, not position"}
	raw, err := f.src.Bytes(int64(f.Shoff), ent*int64(len(f.Sections)), ent*MaxSections, "section header table")
	if err != nil {
		tbl.Value = err.Error()
		return tbl
	}
	for i, sh := range f.Sections {
		s := reader.NewStruct(fmt.Sprintf("Elf64_Shdr[%d]", i), sectionMeaning(sh.Name), f.shdrOffset(i), raw[int64(i)*ent:][:64], f.order)
		s.Node.Value = sh.Name
		if i == 0 {
			s.Node.Value = "(null)"
		}
		s.Uint("sh_name", 0, 4, "offset of the name in .shstrtab", fmt.Sprintf("%q", sh.Name))
		s.Uint("sh_type", 4, 4, "section type", sh.Type.String())
		s.Uint("sh_flags", 8, 8, "section flags (0)")
		s.Uint("sh_addr", 16, 8, "unused (0)")
		s.Uint("sh_offset", 24, 8, "file offset of the section data")
		s.Uint("sh_size", 32, 8, "size of the section data")
		s.Uint("sh_link", 40, 4, "unused (0)")
		s.Uint("sh_info", 44, 4, "unused (0)")
		s.Uint("sh_addralign", 48, 8, "alignment of the data")
		s.Uint("sh_entsize", 56, 8, entsizeMeaning(sh.Name))
		tbl.Add(s.Node)
	}
	return tbl
}

func sectionMeaning(name string) string {
	switch name {
	case "":
		return "the null section every ELF file starts with"
	case SecStrtab:
		return "section names"
	case SecNotes:
		return "the dump-core notes: marker, header, Xen version, format version"
	case SecPrstatus:
		return "vcpu_guest_context of every vCPU"
	case SecSharedInfo:
		return "the domain's shared_info page"
	case SecMappedRegs:
		return "ia64 mapped_regs_t of every vCPU (PV only)"
	case SecPages:
		return "the guest's pages, in the order of the frame table"
	case SecP2M:
		return "{pfn, gmfn} of every page: guest pseudo-physical and machine frame (PV)"
	case SecPFN:
		return "pfn of every page (HVM and ia64)"
	}
	return "a section dumpscope does not know"
}

func entsizeMeaning(name string) string {
	switch name {
	case SecPrstatus:
		return "size of one context record (5168 on x86 since Xen 4.0, also for 32-bit guests; 2800 from old 32-bit tools)"
	case SecMappedRegs:
		return "size of one mapped_regs record: max(4096, tools page size)"
	case SecPages, SecSharedInfo:
		return "the page size"
	case SecP2M:
		return "16: {u64 pfn, u64 gmfn}"
	case SecPFN:
		return "8: u64 pfn"
	}
	return "size of one entry (0: not a table)"
}

// sectionLayout labels the data of section i, or returns nil for sections
// without data in the file.
func (f *File) sectionLayout(i int) *model.Field {
	sh := f.Sections[i]
	if i == 0 || sh.Size == 0 || sh.Offset >= uint64(f.src.Size) {
		return nil
	}
	n := &model.Field{Name: sh.Name + " data", Offset: model.FileOff(int64(sh.Offset)), Size: int64(min(sh.Size, uint64(f.src.Size)-sh.Offset)), Meaning: sectionMeaning(sh.Name)}
	if f.section(sh.Name) != &f.Sections[i] {
		n.Value = "repeated section, ignored"
		return n
	}
	switch sh.Name {
	case SecStrtab:
		if b, err := f.src.Bytes(int64(n.Offset), n.Size, maxStrtab, SecStrtab); err == nil {
			n.Value = fmt.Sprintf("%q", bytes.ReplaceAll(bytes.TrimRight(b, "\x00"), []byte{0}, []byte{' '}))
		}
	case SecNotes:
		n.Value = fmt.Sprintf("%d notes", len(f.notes))
		for _, note := range f.notes {
			n.Add(f.noteLayout(note))
		}
	case SecPrstatus:
		f.ctxLayout(n)
	case SecMappedRegs:
		n.Offset, n.Size = model.FileOff(f.mapped.off), f.mapped.size
		n.Value = fmt.Sprintf("%d records of %d bytes", f.mapped.n, f.mapped.rec)
		for cpu := 0; cpu < min(f.mapped.n, layoutVCPUs); cpu++ {
			b, off, err := f.readRecord(f.mapped, cpu, maxRecord)
			c := &model.Field{Name: fmt.Sprintf("mapped_regs[%d]", cpu), Offset: model.FileOff(off), Size: f.mapped.rec, Meaning: "registers Xen shares with vCPU " + fmt.Sprint(cpu)}
			if err != nil {
				c.Value = err.Error()
			} else {
				c.Children = arch.IA64MappedRegs().Layout(f.order, b, off)
			}
			n.Add(c)
		}
	case SecSharedInfo:
		n.Offset, n.Size = model.FileOff(f.shinfo.off), f.shinfo.size
		f.sharedInfoLayout(n)
	case SecPages:
		n.Value = fmt.Sprintf("%d pages of %d bytes", f.pagesCap, f.pageSize)
		n.Meaning = "guest pages: page i is at sh_offset + i × page size and belongs to the frame named by entry i of " + f.table.name
	case SecP2M, SecPFN:
		if sh.Name == f.table.name {
			f.tableLayout(n)
		}
	}
	return n
}

func (f *File) ctxLayout(n *model.Field) {
	n.Value = fmt.Sprintf("%d records of %d bytes", f.ctx.n, f.ctx.rec)
	for cpu := 0; cpu < min(f.ctx.n, layoutVCPUs); cpu++ {
		n.Add(f.contextLayout(cpu))
	}
	if f.ctx.n > layoutVCPUs {
		n.Add(&model.Field{Name: fmt.Sprintf("(%d more contexts)", f.ctx.n-layoutVCPUs), Offset: model.FileOff(f.ctx.off + layoutVCPUs*f.ctx.rec),
			Size: int64(f.ctx.n-layoutVCPUs) * f.ctx.rec, Meaning: "not labelled here; see `dumpscope regs --cpu N`"})
	}
}

// noteLayout labels a note with the generic note layout and its decoded
// descriptor.
func (f *File) noteLayout(n model.Note) *model.Field {
	node := elfnote.NoteLayout(n, f.src, f.order, f.archName)
	var desc *model.Field
	for _, c := range node.Children {
		if c.Name == "descriptor" {
			desc = c
		}
	}
	if desc == nil || n.Desc == nil || n.Name != elfnote.NameXen {
		return node
	}
	d := reader.NewStruct("", "", int64(n.DescOffset), n.Desc, f.order)
	switch n.Type {
	case NoteNone:
		desc.Meaning = "empty: marks the file as a Xen dump-core"
	case NoteHeader:
		desc.Name, desc.Meaning = "xen_dumpcore_elfnote_header_desc", "what the domain is and how large"
		d.Uint("xch_magic", 0, 8, "0xf00febed XC_CORE_MAGIC (PV) or 0xf00febee XC_CORE_MAGIC_HVM", magicName(f.Header.Magic))
		d.Uint("xch_nr_vcpus", 8, 8, "number of records in .xen_prstatus")
		d.Uint("xch_nr_pages", 16, 8, "number of pages in .xen_pages (= entries in the frame table)")
		d.Uint("xch_page_size", 24, 8, "guest page size")
	case NoteXenVersion:
		desc.Name, desc.Meaning = "xen_dumpcore_elfnote_xen_version_desc", "the hypervisor's xen_version answers when the dump was taken"
		d.Uint("major_version", 0, 8, "XENVER_version >> 16")
		d.Uint("minor_version", 8, 8, "XENVER_version & 0xffff")
		d.Text("extra_version", verExtra, 16, "XENVER_extraversion")
		d.Text("compile_info.compiler", verCompiler, 64, "compiler that built Xen")
		d.Text("compile_info.compile_by", verCompileBy, 16, "who built it")
		d.Text("compile_info.compile_domain", verCompileDom, 32, "build host domain")
		d.Text("compile_info.compile_date", verCompileDate, 32, "build date")
		d.Text("capabilities", verCapabilities, 1024, "guest types the hypervisor runs")
		d.Text("changeset", verChangeset, 64, "source revision")
		if f.Version != nil && f.Version.Layout32 {
			d.Uint("platform_parameters.virt_start", verVirtStart, 4, "hypervisor virtual start (4 bytes: 32-bit layout)")
			d.Uint("pagesize", verVirtStart+4, 8, "XENVER_pagesize, at 1268 in the 32-bit layout (64-bit tools move it there for 32-bit guests)")
			if len(n.Desc) > verSize32 {
				d.Raw("(leftover)", verSize32, len(n.Desc)-verSize32, "bytes left behind when 64-bit tools moved pagesize down 4 bytes")
			}
		} else {
			d.Uint("platform_parameters.virt_start", verVirtStart, 8, "hypervisor virtual start")
			d.Uint("pagesize", verVirtStart+8, 8, "XENVER_pagesize")
		}
	case NoteFormatVersion:
		desc.Name, desc.Meaning = "xen_dumpcore_elfnote_format_version_desc", "dump-core format version"
		note := ""
		if len(n.Desc) >= 8 {
			note = "= " + formatVersion(f.order.Uint64(n.Desc))
		}
		d.Uint("version", 0, 8, "major in the high 32 bits, minor in the low 32; only 0.1 exists", note)
	}
	desc.Children = d.Node.Children
	return node
}

// tableLayout labels the first and last entries of the frame table.
func (f *File) tableLayout(n *model.Field) {
	t := f.table
	n.Value = fmt.Sprintf("%d entries of %d bytes", t.n, t.ent)
	label := func(i int64) {
		key, gmfn, err := t.entry(i)
		e := &model.Field{Name: fmt.Sprintf("[%d]", i), Offset: model.FileOff(t.entryOffset(i)), Size: t.ent}
		switch {
		case err != nil:
			e.Value = err.Error()
		case key == t.invalid:
			e.Value, e.Meaning = "invalid (all ones)", "no frame: a zero page padded in by a live dump"
		case t.kind == kindP2M:
			e.Value, e.Meaning = fmt.Sprintf("pfn %#x, gmfn %#x", key, gmfn), fmt.Sprintf("page %d of .xen_pages is guest frame %#x, machine frame %#x", i, key, gmfn)
			e.Add(&model.Field{Name: "pfn", Offset: e.Offset, Size: 8, Value: reader.FormatUint(key), Meaning: "guest pseudo-physical frame"})
			e.Add(&model.Field{Name: "gmfn", Offset: e.Offset + 8, Size: 8, Value: reader.FormatUint(gmfn), Meaning: "machine frame"})
		default:
			e.Value, e.Meaning = fmt.Sprintf("%s %#x", f.frameWord(), key), fmt.Sprintf("page %d is frame %#x", i, key)
		}
		n.Add(e)
	}
	head := min(t.n, layoutEntries)
	for i := int64(0); i < head; i++ {
		label(i)
	}
	tail := max(head, t.n-4)
	if tail > head {
		n.Add(&model.Field{Name: fmt.Sprintf("(%d more entries)", tail-head), Offset: model.FileOff(t.entryOffset(head)), Size: (tail - head) * t.ent,
			Meaning: "not labelled one by one; `dumpscope page --pfn N` shows the entry of a frame"})
	}
	for i := tail; i < t.n; i++ {
		label(i)
	}
}
