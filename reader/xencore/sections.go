package xencore

import (
	"debug/elf"

	"dumpscope/model"
	"dumpscope/reader/arch"
)

// contextSize is the size of one vCPU context of the dumped architecture,
// or 0 when it is unknown.
func contextSize(archName string) int64 {
	switch archName {
	case arch.X8664:
		return arch.XenContextX8664Size
	case arch.I386:
		return arch.XenContextX8632Size
	case arch.IA64:
		return arch.IA64ContextSize
	}
	return 0
}

// locateSections finds the data sections and checks their sizes against
// the header note (formats.md §4.2).
func (f *File) locateSections() {
	f.locateContexts()
	if s := f.section(SecSharedInfo); s != nil {
		f.shinfo = f.sectionData(s)
	}
	if s := f.section(SecMappedRegs); s != nil {
		f.locateMappedRegs(s)
	}
	f.fixIA64Order()
	f.locatePages()
	f.locateTable()
}

// locateContexts sizes the .xen_prstatus records. Since Xen 4.0 libxc
// writes vcpu_guest_context_any_t, 5168 bytes on x86 even for 32-bit
// guests; older 32-bit tools wrote 2800-byte records. sh_entsize (or
// sh_size / nr_vcpus) gives the record size; e_machine says how to read
// it.
func (f *File) locateContexts() {
	s := f.section(SecPrstatus)
	if s == nil {
		f.problem(model.SeverityError, model.CodeMissingSection, int64(f.Shoff), "no %s section: the vCPU registers are not in the dump", SecPrstatus)
		return
	}
	r := f.sectionData(s)
	nr := int64(f.Header.NrVCPUs)
	rec := int64(min(s.Entsize, 1<<40))
	hdrOff := f.shdrOffset(f.sectionIndex(SecPrstatus))
	switch {
	case nr == 0 && s.Size != 0:
		f.problem(model.SeverityError, model.CodeSectionSizeMismatch, hdrOff, "the header note says 0 vCPUs but %s holds %d bytes", SecPrstatus, s.Size)
	case rec > 0 && uint64(rec)*uint64(nr) == s.Size:
	case nr > 0 && s.Size%uint64(nr) == 0 && s.Size/uint64(nr) >= uint64(contextSize(f.archName)):
		f.problem(model.SeverityWarning, model.CodeSectionSizeMismatch, hdrOff, "%s: sh_entsize is %d but sh_size %d / %d vCPUs gives %d-byte records; using %d",
			SecPrstatus, s.Entsize, s.Size, nr, s.Size/uint64(nr), s.Size/uint64(nr))
		rec = int64(s.Size / uint64(nr))
	default:
		if rec == 0 {
			rec = contextSize(f.archName)
		}
		f.problem(model.SeverityError, model.CodeSectionSizeMismatch, hdrOff, "%s: sh_size %d does not hold %d records of %d bytes (sh_entsize %d)",
			SecPrstatus, s.Size, nr, rec, s.Entsize)
	}
	if nr == 0 && rec > 0 {
		nr = r.size / rec // no header note: trust the section
	}
	f.ctx = records{region: r, rec: rec}
	if rec > 0 {
		f.ctx.n = int(min(nr, r.size/rec))
	}
	if need := contextSize(f.archName); need > 0 && rec > 0 && rec < need {
		f.problem(model.SeverityError, model.CodeBadVCPUContext, r.off, "%s records are %d bytes but a %s vcpu_guest_context needs %d", SecPrstatus, rec, f.archName, need)
	}
}

// locateMappedRegs sizes the ia64 PV mapped_regs records: one per vCPU,
// each padded to sh_entsize = max(4096, tools page size).
func (f *File) locateMappedRegs(s *SectionHeader) {
	r := f.sectionData(s)
	rec := int64(min(s.Entsize, 1<<40))
	nr := int64(f.Header.NrVCPUs)
	if rec < arch.IA64MappedRegsSize {
		if nr > 0 && int64(s.Size)/nr >= arch.IA64MappedRegsSize {
			rec = int64(s.Size) / nr
		} else {
			rec = arch.IA64MappedRegsSize
		}
		f.problem(model.SeverityWarning, model.CodeBadSectionHeader, f.shdrOffset(f.sectionIndex(SecMappedRegs)), "%s: sh_entsize %d is smaller than mapped_regs_t; using %d-byte records", SecMappedRegs, s.Entsize, rec)
	}
	if nr == 0 {
		nr = r.size / rec
	}
	f.mapped = records{region: r, rec: rec, n: int(min(nr, r.size/rec))}
	if f.Machine != elf.EM_IA_64 {
		f.problem(model.SeverityWarning, model.CodeBadSectionHeader, r.off, "%s in a %s dump: only ia64 PV domains have mapped regs", SecMappedRegs, f.archName)
	}
}

// fixIA64Order undoes libxc's ia64 quirk: the section headers reserve the
// mapped-regs area before shared info, but the data is written shared
// info first (xc_core.c; formats.md §4.2). When the offsets follow that
// pattern exactly, the shared info page is where the headers put the
// mapped regs, and the mapped regs follow it.
func (f *File) fixIA64Order() {
	if f.shinfo.size == 0 || f.mapped.size == 0 || f.ctx.size == 0 {
		return
	}
	prEnd := f.ctx.off + f.ctx.size
	if f.mapped.off != prEnd || f.shinfo.off != f.mapped.off+f.mapped.size {
		return
	}
	f.problem(model.SeverityNote, model.CodeIA64SectionOrder, f.mapped.off,
		"%s and %s have swapped offsets, as ia64 libxc wrote them: the shared info page is at %#x and the mapped regs at %#x; tools that trust sh_offset read one as the other",
		SecSharedInfo, SecMappedRegs, f.mapped.off, f.mapped.off+f.shinfo.size)
	sh, mr := f.shinfo, f.mapped.region
	f.shinfo = region{name: sh.name, off: mr.off, size: sh.size}
	f.mapped.region = region{name: mr.name, off: mr.off + sh.size, size: mr.size}
}

// locatePages checks .xen_pages against nr_pages and the page size.
func (f *File) locatePages() {
	s := f.section(SecPages)
	if s == nil {
		f.problem(model.SeverityError, model.CodeMissingSection, int64(f.Shoff), "no %s section: no page of the domain can be read", SecPages)
		return
	}
	r := f.sectionData(s)
	f.pagesOff = r.off
	ps := uint64(f.pageSize)
	f.pagesCap = int64(min(s.Size/ps, 1<<62))
	hdrOff := f.shdrOffset(f.sectionIndex(SecPages))
	if f.Header.NrPages != 0 && s.Size != f.Header.NrPages*ps {
		f.problem(model.SeverityError, model.CodeSectionSizeMismatch, hdrOff, "%s holds %d bytes but nr_pages %d x page size %d is %d",
			SecPages, s.Size, f.Header.NrPages, ps, f.Header.NrPages*ps)
	} else if s.Size%ps != 0 {
		f.problem(model.SeverityError, model.CodeSectionSizeMismatch, hdrOff, "%s size %d is not a multiple of the page size %d", SecPages, s.Size, ps)
	}
	if s.Entsize != 0 && s.Entsize != ps {
		f.problem(model.SeverityWarning, model.CodeBadSectionHeader, hdrOff, "%s sh_entsize is %d, expected the page size %d", SecPages, s.Entsize, ps)
	}
}

// locateTable sets up the .xen_p2m or .xen_pfn table.
func (f *File) locateTable() {
	p2m, pfn := f.section(SecP2M), f.section(SecPFN)
	s, kind, ent := p2m, kindP2M, int64(16)
	switch {
	case p2m != nil && pfn != nil:
		if f.hvm {
			s, kind, ent = pfn, kindPFN, 8
		}
		f.problem(model.SeverityError, model.CodeBadSectionHeader, int64(f.Shoff), "both %s and %s are present; %s is used", SecP2M, SecPFN, s.Name)
	case pfn != nil:
		s, kind, ent = pfn, kindPFN, 8
	case p2m == nil:
		f.problem(model.SeverityError, model.CodeMissingSection, int64(f.Shoff), "neither %s nor %s is present: no page can be found by frame number", SecP2M, SecPFN)
		f.table = newFrameTable(f.src, f.order, SecP2M, kindP2M, 0, 0, 16, 8)
		return
	}
	if kind == kindP2M && f.hvm {
		f.problem(model.SeverityWarning, model.CodeBadSectionHeader, int64(s.Offset), "an HVM domain with %s: HVM dumps normally have %s", SecP2M, SecPFN)
	}
	r := f.sectionData(s)
	hdrOff := f.shdrOffset(f.sectionIndex(s.Name))
	n := int64(min(s.Size, 1<<62)) / ent
	if f.Header.NrPages != 0 {
		if s.Size != f.Header.NrPages*uint64(ent) {
			f.problem(model.SeverityError, model.CodeSectionSizeMismatch, hdrOff, "%s holds %d bytes but nr_pages %d entries of %d bytes are %d",
				s.Name, s.Size, f.Header.NrPages, ent, f.Header.NrPages*uint64(ent))
		}
		n = min(n, int64(min(f.Header.NrPages, 1<<62)))
	} else if s.Size%uint64(ent) != 0 {
		f.problem(model.SeverityError, model.CodeSectionSizeMismatch, hdrOff, "%s size %d is not a multiple of the %d-byte entry", s.Name, s.Size, ent)
	}
	if s.Entsize != 0 && s.Entsize != uint64(ent) {
		f.problem(model.SeverityWarning, model.CodeBadSectionHeader, hdrOff, "%s sh_entsize is %d, expected %d", s.Name, s.Entsize, ent)
	}
	n = min(n, r.size/ent)
	f.table = newFrameTable(f.src, f.order, s.Name, kind, r.off, n, ent, 8)
}
