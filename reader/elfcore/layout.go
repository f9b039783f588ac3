package elfcore

import (
	"bytes"
	"debug/elf"
	"fmt"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/elfnote"
)

// Layout returns the annotated structure of the file: the ELF header byte
// by byte, the section and program headers, every note with its decoded
// descriptor, and the data range of every segment.
func (f *File) Layout() (*model.Field, error) {
	root := &model.Field{Name: "ELF vmcore", File: f.src.Name, Offset: 0, Size: f.src.Len(),
		Value: fmt.Sprintf("%v %v %v", f.Class, f.Data, f.Machine), Meaning: "an ELF core file: program headers map physical memory to file offsets, notes carry CPU state and VMCOREINFO"}
	hdr := make([]byte, 64)
	if f.Class == elf.ELFCLASS32 {
		hdr = hdr[:52]
	}
	if err := f.src.ReadAt(hdr, 0, elfnote.HeaderName(f.Class)); err != nil {
		return nil, err
	}
	root.Add(f.headerLayout(hdr))
	if len(f.Sections) > 0 {
		root.Add(f.sectionsLayout())
	}
	runs := progRuns(f.Progs)
	if len(f.Progs) > 0 {
		root.Add(f.progsLayout(runs))
	}
	ns := f.loadNotes()
	notes := 0
	for i, p := range f.Progs {
		if p.Type == elf.PT_NOTE && notes < maxLayoutItems {
			root.Add(f.noteSegmentLayout(i, p, ns.notes))
			notes++
		}
	}
	f.loadDataLayout(root, runs)
	for i, s := range f.Sections {
		if s.Type == elf.SHT_STRTAB && s.Size > 0 && s.Size < 1<<16 {
			b, err := f.src.Bytes(int64(s.Offset), int64(s.Size), 1<<16, "string table")
			if err == nil {
				root.Add(&model.Field{Name: fmt.Sprintf("section [%d] data (string table)", i), Offset: model.FileOff(int64(s.Offset)), Size: int64(s.Size),
					Value: fmt.Sprintf("%q", bytes.ReplaceAll(b, []byte{0}, []byte{' '})), Meaning: "section names"})
			}
		}
	}
	return root, nil
}

func (f *File) headerLayout(b []byte) *model.Field {
	s := reader.NewStruct(elfnote.HeaderName(f.Class), "ELF header: what kind of file this is and where its tables are", 0, b, f.order)
	id := s.Raw("e_ident", 0, 16, "identification bytes", "")
	id.Value = reader.HexBytes(b[:16])
	ident := reader.NewStruct("", "", 0, b[:16], f.order)
	ident.Raw("EI_MAG0..3", 0, 4, "magic: 0x7f 'E' 'L' 'F'", fmt.Sprintf("%q", b[:4]))
	ident.Uint("EI_CLASS", 4, 1, "word size: 1 = 32-bit, 2 = 64-bit", f.Class.String())
	ident.Uint("EI_DATA", 5, 1, "byte order: 1 = little-endian, 2 = big-endian", f.Data.String())
	ident.Uint("EI_VERSION", 6, 1, "ELF version, always 1", f.Version.String())
	ident.Uint("EI_OSABI", 7, 1, "OS ABI, 0 = System V", f.OSABI.String())
	ident.Uint("EI_ABIVERSION", 8, 1, "ABI version")
	ident.Raw("EI_PAD", 9, 7, "padding, zero")
	id.Children = ident.Node.Children

	word := 8
	if f.Class == elf.ELFCLASS32 {
		word = 4
	}
	s.Uint("e_type", 16, 2, "object file type: 4 = ET_CORE, a core dump", f.Type.String())
	s.Uint("e_machine", 18, 2, "architecture of the dumped machine", f.Machine.String()+" → "+f.archName)
	s.Uint("e_version", 20, 4, "ELF version, 1")
	off := 24
	s.Uint("e_entry", off, word, "entry point: unused in cores (0)")
	s.Uint("e_phoff", off+word, word, "file offset of the program header table (QEMU puts it at 192, after the section header)")
	s.Uint("e_shoff", off+2*word, word, "file offset of the section header table; cores only need one for PN_XNUM")
	off += 3 * word
	flags := ""
	if f.Flags&FlagIncomplete != 0 {
		flags = "DUMP_ELF_INCOMPLETE"
	}
	s.Uint("e_flags", off, 4, "processor flags; makedumpfile sets bit 0 when the dump is incomplete", flags)
	eh := ""
	if int(f.Ehsize) != len(b) {
		eh = fmt.Sprintf("(expected %d; QEMU 7.2 writes 8)", len(b))
	}
	s.Uint("e_ehsize", off+4, 2, "size of this header", eh)
	s.Uint("e_phentsize", off+6, 2, "size of one program header")
	ph := ""
	if f.Phnum == pnXNum {
		ph = fmt.Sprintf("PN_XNUM: the real count %d is in section header 0's sh_info", f.declaredProgs)
	}
	s.Uint("e_phnum", off+8, 2, "number of program headers", ph)
	s.Uint("e_shentsize", off+10, 2, "size of one section header")
	s.Uint("e_shnum", off+12, 2, "number of section headers")
	s.Uint("e_shstrndx", off+14, 2, "index of the section-name string table")
	return s.Node
}

func (f *File) sectionsLayout() *model.Field {
	ent := int64(f.Shentsize)
	tbl := &model.Field{Name: "section header table", Offset: model.FileOff(int64(f.Shoff)), Size: ent * int64(len(f.Sections)),
		Value: fmt.Sprintf("%d entries", len(f.Sections)), Meaning: "section headers: in a core only for PN_XNUM (and QEMU's .shstrtab)"}
	word := 8
	name := "Elf64_Shdr"
	if f.Class == elf.ELFCLASS32 {
		word, name = 4, "Elf32_Shdr"
	}
	for i := range f.Sections {
		off := int64(f.Shoff) + int64(i)*ent
		b := make([]byte, f.shdrSize())
		if f.src.ReadAt(b, off, "section header") != nil {
			break
		}
		sh := f.Sections[i]
		s := reader.NewStruct(fmt.Sprintf("%s[%d]", name, i), "section header", off, b, f.order)
		s.Node.Value = sh.Type.String()
		o := 0
		s.Uint("sh_name", o, 4, "offset of the name in the string table")
		s.Uint("sh_type", o+4, 4, "section type", sh.Type.String())
		s.Uint("sh_flags", o+8, word, "section flags")
		o += 8 + word
		s.Uint("sh_addr", o, word, "address in memory (unused)")
		s.Uint("sh_offset", o+word, word, "file offset of the section data")
		s.Uint("sh_size", o+2*word, word, "size of the section data (PN_XNUM with sh_info 0: the program header count)")
		o += 3 * word
		info := ""
		if i == 0 && f.Phnum == pnXNum {
			info = "real program header count (PN_XNUM)"
		}
		s.Uint("sh_link", o, 4, "linked section")
		s.Uint("sh_info", o+4, 4, "extra information; in section 0 the program header count when e_phnum is PN_XNUM", info)
		s.Uint("sh_addralign", o+8, word, "alignment")
		s.Uint("sh_entsize", o+8+word, word, "size of one entry")
		tbl.Add(s.Node)
	}
	return tbl
}

// Long tables. A file may have up to MaxProgs program headers; listing
// each with its fields would take gigabytes. Runs of alike headers (same
// type, flags and sizes, addresses and offsets advancing by one step, as
// tools write them for memory in pieces) become one node showing the first
// and the last of the run, and at most maxLayoutItems headers or runs are
// listed: one node stands for the rest. The same goes for the segments'
// data. So the tree stays small whatever the header count.
const (
	maxLayoutItems = 4096
	minAlikeRun    = 4
)

// progRun is a run of consecutive program headers [first, last] that are
// alike (a run of one is a lone header).
type progRun struct{ first, last int }

func (r progRun) count() int { return r.last - r.first + 1 }

// progRuns groups the program headers into runs of alike ones.
func progRuns(progs []ProgHeader) []progRun {
	var runs []progRun
	for i := 0; i < len(progs); {
		j := i + 1
		for j < len(progs) && alike(progs[i], progs[i+1], progs[j-1], progs[j]) {
			j++
		}
		if j-i < minAlikeRun {
			for k := i; k < j; k++ {
				runs = append(runs, progRun{k, k})
			}
		} else {
			runs = append(runs, progRun{i, j - 1})
		}
		i = j
	}
	return runs
}

// alike reports whether the step from a to b (the next header) is the
// same as the step from first to second, the run's first step.
func alike(first, second, a, b ProgHeader) bool {
	return a.Type == b.Type && a.Flags == b.Flags && a.Filesz == b.Filesz && a.Memsz == b.Memsz && a.Align == b.Align &&
		b.Off-a.Off == second.Off-first.Off && b.Paddr-a.Paddr == second.Paddr-first.Paddr && b.Vaddr-a.Vaddr == second.Vaddr-first.Vaddr
}

func (f *File) progsLayout(runs []progRun) *model.Field {
	ent := int64(f.Phentsize)
	tbl := &model.Field{Name: "program header table", Offset: model.FileOff(int64(f.Phoff)), Size: ent * int64(len(f.Progs)),
		Value: fmt.Sprintf("%d entries", len(f.Progs)), Meaning: "one PT_NOTE (or several) for the notes, one PT_LOAD per memory range"}
	for k, r := range runs {
		if k == maxLayoutItems {
			rest := len(f.Progs) - r.first
			tbl.Add(&model.Field{Name: fmt.Sprintf("%s[%d..%d]", f.phdrName(), r.first, len(f.Progs)-1), Offset: model.FileOff(f.progOffset(r.first)),
				Size: ent * int64(rest), Value: fmt.Sprintf("%d more program headers", rest),
				Meaning: fmt.Sprintf("not listed one by one: the layout lists %d headers or runs of alike headers; `dumpscope pages` shows the memory they map", maxLayoutItems)})
			break
		}
		if r.count() == 1 {
			tbl.Add(f.progLayout(r.first))
			continue
		}
		a, b := f.Progs[r.first], f.Progs[r.first+1]
		run := tbl.Add(&model.Field{Name: fmt.Sprintf("%s[%d..%d]", f.phdrName(), r.first, r.last), Offset: model.FileOff(f.progOffset(r.first)),
			Size: ent * int64(r.count()), Value: fmt.Sprintf("%d alike %v headers", r.count(), a.Type),
			Meaning: fmt.Sprintf("the same but for p_offset, p_paddr and p_vaddr, which advance by %#x, %#x and %#x from one to the next: the first and the last are shown",
				b.Off-a.Off, b.Paddr-a.Paddr, b.Vaddr-a.Vaddr)})
		run.Add(f.progLayout(r.first))
		run.Add(f.progLayout(r.last))
	}
	return tbl
}

func (f *File) phdrName() string {
	if f.Class == elf.ELFCLASS32 {
		return "Elf32_Phdr"
	}
	return "Elf64_Phdr"
}

// progLayout decodes program header i field by field.
func (f *File) progLayout(i int) *model.Field {
	p := f.Progs[i]
	b := make([]byte, f.phdrSize())
	f.encodeProg(b, p)
	s := reader.NewStruct(fmt.Sprintf("%s[%d]", f.phdrName(), i), progMeaning(p), f.progOffset(i), b, f.order)
	s.Node.Value = progSummary(p, f.allOnes())
	if f.Class == elf.ELFCLASS32 {
		s.Uint("p_type", 0, 4, "segment type", p.Type.String())
		s.Uint("p_offset", 4, 4, "file offset of the segment data")
		s.Uint("p_vaddr", 8, 4, vaddrMeaning(p))
		s.Uint("p_paddr", 12, 4, "physical address of the segment")
		s.Uint("p_filesz", 16, 4, "bytes stored in the file")
		s.Uint("p_memsz", 20, 4, "bytes of memory the segment spans (beyond p_filesz: zeros)")
		s.Uint("p_flags", 24, 4, "segment permissions (R=4 W=2 X=1)")
		s.Uint("p_align", 28, 4, "alignment")
		return s.Node
	}
	s.Uint("p_type", 0, 4, "segment type", p.Type.String())
	s.Uint("p_flags", 4, 4, "segment permissions (R=4 W=2 X=1)")
	off := ""
	if p.Off == f.allOnes() {
		off = "(none: QEMU mapping not backed by dumped memory)"
	}
	s.Uint("p_offset", 8, 8, "file offset of the segment data", off)
	s.Uint("p_vaddr", 16, 8, vaddrMeaning(p))
	s.Uint("p_paddr", 24, 8, "physical address of the segment")
	s.Uint("p_filesz", 32, 8, "bytes stored in the file")
	s.Uint("p_memsz", 40, 8, "bytes of memory the segment spans (beyond p_filesz: zeros)")
	s.Uint("p_align", 48, 8, "alignment")
	return s.Node
}

// loadDataLayout adds the data of the stored PT_LOADs: one node per
// segment, one per run of alike segments, at most maxLayoutItems.
func (f *File) loadDataLayout(root *model.Field, runs []progRun) {
	ps := uint64(f.pageSize())
	stored := func(p ProgHeader) bool { return p.Type == elf.PT_LOAD && p.Filesz > 0 && p.Off != f.allOnes() }
	listed := 0
	for k, r := range runs {
		p := f.Progs[r.first]
		if !stored(p) {
			continue
		}
		if listed == maxLayoutItems {
			n := 0
			for _, q := range runs[k:] {
				if stored(f.Progs[q.first]) {
					n += q.count()
				}
			}
			root.Add(&model.Field{Name: fmt.Sprintf("PT_LOAD [%d..] data", r.first), Offset: model.FileOff(int64(p.Off)), Size: 0,
				Value:   fmt.Sprintf("%d more segments", n),
				Meaning: fmt.Sprintf("not listed one by one: the layout lists the data of %d segments or runs of alike segments", maxLayoutItems)})
			return
		}
		listed++
		if r.count() == 1 {
			root.Add(&model.Field{Name: fmt.Sprintf("PT_LOAD [%d] data", r.first), Offset: model.FileOff(int64(p.Off)), Size: int64(p.Filesz),
				Value:   fmt.Sprintf("physical %#x-%#x", p.Paddr, p.Paddr+p.Filesz),
				Meaning: fmt.Sprintf("memory image: pfn %#x-%#x, virtual %#x", p.Paddr/ps, (p.Paddr+p.Filesz-1)/ps, p.Vaddr)})
			continue
		}
		last := f.Progs[r.last]
		step := f.Progs[r.first+1].Off - p.Off
		n := &model.Field{Name: fmt.Sprintf("PT_LOAD [%d..%d] data", r.first, r.last), Offset: model.FileOff(int64(p.Off)),
			Value: fmt.Sprintf("%d segments of %#x bytes, physical %#x-%#x", r.count(), p.Filesz, p.Paddr, last.Paddr+last.Filesz)}
		switch {
		case step == 0:
			n.Size, n.Meaning = int64(p.Filesz), "the same bytes serve every segment of the run"
		case last.Off > p.Off && last.Off+last.Filesz > last.Off:
			n.Size = int64(last.Off + last.Filesz - p.Off)
			n.Meaning = fmt.Sprintf("memory images every %#x bytes of the file", step)
		default:
			n.Size = int64(p.Filesz)
			n.Meaning = fmt.Sprintf("memory images at offsets stepping by %#x (the first one is shown)", step)
		}
		root.Add(n)
	}
}

// encodeProg writes p back in the file's layout, so the table need not be
// read twice; the values are exactly those decoded at open.
func (f *File) encodeProg(b []byte, p ProgHeader) {
	o := f.order
	if f.Class == elf.ELFCLASS32 {
		o.PutUint32(b[0:], uint32(p.Type))
		o.PutUint32(b[4:], uint32(p.Off))
		o.PutUint32(b[8:], uint32(p.Vaddr))
		o.PutUint32(b[12:], uint32(p.Paddr))
		o.PutUint32(b[16:], uint32(p.Filesz))
		o.PutUint32(b[20:], uint32(p.Memsz))
		o.PutUint32(b[24:], uint32(p.Flags))
		o.PutUint32(b[28:], uint32(p.Align))
		return
	}
	o.PutUint32(b[0:], uint32(p.Type))
	o.PutUint32(b[4:], uint32(p.Flags))
	o.PutUint64(b[8:], p.Off)
	o.PutUint64(b[16:], p.Vaddr)
	o.PutUint64(b[24:], p.Paddr)
	o.PutUint64(b[32:], p.Filesz)
	o.PutUint64(b[40:], p.Memsz)
	o.PutUint64(b[48:], p.Align)
}

func progMeaning(p ProgHeader) string {
	switch p.Type {
	case elf.PT_NOTE:
		return "notes segment: CPU registers, VMCOREINFO, producer notes"
	case elf.PT_LOAD:
		return "memory segment: physical range p_paddr..p_paddr+p_memsz"
	}
	return "program header"
}

func vaddrMeaning(p ProgHeader) string {
	if p.Type == elf.PT_LOAD {
		return "kernel virtual address of the segment (0 or -1 when unknown; QEMU without paging copies p_paddr)"
	}
	return "virtual address (unused)"
}

func progSummary(p ProgHeader, none uint64) string {
	switch p.Type {
	case elf.PT_LOAD:
		s := fmt.Sprintf("PT_LOAD phys %#x-%#x", p.Paddr, p.Paddr+p.Memsz)
		if p.Off == none {
			return s + " (not backed)"
		}
		if p.Filesz < p.Memsz {
			s += fmt.Sprintf(", %#x bytes stored", p.Filesz)
		}
		return s
	case elf.PT_NOTE:
		return fmt.Sprintf("PT_NOTE %d bytes at %#x", p.Filesz, p.Off)
	}
	return p.Type.String()
}

func (f *File) noteSegmentLayout(i int, p ProgHeader, notes []model.Note) *model.Field {
	seg := &model.Field{Name: fmt.Sprintf("PT_NOTE [%d] data", i), Offset: model.FileOff(int64(p.Off)), Size: int64(p.Filesz),
		Meaning: "note records: 12-byte header, name and descriptor each padded to 4 bytes"}
	end := int64(p.Off + p.Filesz)
	n := 0
	for _, note := range notes {
		if int64(note.Offset) >= int64(p.Off) && int64(note.Offset) < end {
			seg.Add(elfnote.NoteLayout(note, f.src, f.order, f.archName))
			n++
		}
	}
	seg.Value = fmt.Sprintf("%d notes", n)
	return seg
}
