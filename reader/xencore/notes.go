package xencore

import (
	"debug/elf"
	"fmt"
	"strings"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/elfnote"
)

// The .note.Xen section holds four notes named "Xen" (formats.md §4.3):
// NONE (an empty marker), HEADER (32 bytes: magic, nr_vcpus, nr_pages,
// page_size, each u64), XEN_VERSION (§4.4) and FORMAT_VERSION (one u64,
// major in the high half). Their 16-byte note header (namesz 4) keeps the
// descriptors 8-byte aligned; the generic ELF note walker reads them.

// Offsets inside xen_dumpcore_elfnote_xen_version_desc (formats.md §4.4).
const (
	verExtra        = 16
	verCompiler     = 32
	verCompileBy    = 96
	verCompileDom   = 112
	verCompileDate  = 144
	verCapabilities = 176
	verChangeset    = 1200
	verVirtStart    = 1264
	verSize64       = 1280
	verSize32       = 1276
)

// readNotes walks .note.Xen and decodes the four descriptors.
func (f *File) readNotes(s *SectionHeader) {
	r := f.sectionData(s)
	if r.size > maxNotes {
		f.problem(model.SeverityError, model.CodeBadSectionHeader, r.off, "%s is %d bytes; only the first %d are read", SecNotes, r.size, maxNotes)
		r.size = maxNotes
	}
	if s.Type != elf.SHT_NOTE {
		f.problem(model.SeverityWarning, model.CodeBadSectionHeader, f.shdrOffset(f.sectionIndex(SecNotes)), "%s has sh_type %v, expected SHT_NOTE", SecNotes, s.Type)
	}
	notes, probs := elfnote.ReadNotes(f.src, f.order, f.archName, r.off, r.size, 0, SecNotes)
	f.problems = append(f.problems, probs...)
	seen := map[uint32]bool{}
	for i := range notes {
		n := &notes[i]
		if n.Name != elfnote.NameXen {
			f.problem(model.SeverityWarning, model.CodeBadNote, int64(n.Offset), "%s note %d is named %q, not \"Xen\"; ignored", SecNotes, n.Index, n.Name)
			continue
		}
		if seen[n.Type] {
			f.problem(model.SeverityError, model.CodeBadNote, int64(n.Offset), "%s note %d repeats %s; the first one is used", SecNotes, n.Index, n.TypeName)
			continue
		}
		seen[n.Type] = true
		f.decodeNote(n)
	}
	f.notes = notes
	for _, typ := range []uint32{NoteNone, NoteHeader, NoteXenVersion, NoteFormatVersion} {
		if seen[typ] {
			continue
		}
		sev := model.SeverityWarning
		if typ == NoteHeader {
			sev = model.SeverityError
		}
		f.problem(sev, model.CodeBadNote, r.off, "%s lacks the %s note, which every dump-core carries", SecNotes, elfnote.TypeName(elfnote.NameXen, typ))
	}
}

// decodeNote decodes one Xen note's descriptor into the File and sets the
// note's one-line summary.
func (f *File) decodeNote(n *model.Note) {
	d, o := n.Desc, f.order
	bad := func(format string, args ...any) {
		f.problem(model.SeverityError, model.CodeBadNote, int64(n.Offset), "%s note %d (%s): "+format, append([]any{SecNotes, n.Index, n.TypeName}, args...)...)
	}
	if d == nil && n.DescSize > 0 {
		bad("descriptor of %d bytes is too large to read", n.DescSize)
		return
	}
	switch n.Type {
	case NoteNone:
		n.Summary = "marks the file as a Xen dump-core"
		if len(d) != 0 {
			bad("descriptor is %d bytes, expected none", len(d))
		}
	case NoteHeader:
		if len(d) < 32 {
			bad("descriptor is %d bytes, expected 32", len(d))
			return
		}
		f.Header = Header{Magic: o.Uint64(d[0:]), NrVCPUs: o.Uint64(d[8:]), NrPages: o.Uint64(d[16:]), PageSize: o.Uint64(d[24:])}
		n.Summary = fmt.Sprintf("%s domain, %d vCPUs, %d pages of %d bytes", magicName(f.Header.Magic), f.Header.NrVCPUs, f.Header.NrPages, f.Header.PageSize)
	case NoteXenVersion:
		v, err := f.decodeVersion(d)
		if err != "" {
			bad("%s", err)
		}
		if v != nil {
			f.Version = v
			n.Summary = fmt.Sprintf("Xen %d.%d%s, %s", v.Major, v.Minor, reader.Printable(v.Extra), reader.Printable(firstField(v.Capabilities)))
		}
	case NoteFormatVersion:
		if len(d) < 8 {
			bad("descriptor is %d bytes, expected 8", len(d))
			return
		}
		v := o.Uint64(d)
		f.FormatVersion = &v
		n.Summary = "format " + formatVersion(v)
	default:
		n.Summary = reader.HexBytes(d[:min(len(d), 16)])
	}
}

// decodeVersion reads the XEN_VERSION descriptor. virt_start is an
// unsigned long of the tools, and 64-bit tools dumping a 32-bit guest
// move pagesize down to the 32-bit offset while keeping descsz 1280
// (libxc's memmove, formats.md §4.4). So the layout follows the guest
// (e_machine EM_386) or a 1276-byte descriptor.
func (f *File) decodeVersion(d []byte) (*XenVersion, string) {
	if len(d) < verVirtStart {
		return nil, fmt.Sprintf("descriptor is %d bytes, at least %d expected", len(d), verSize32)
	}
	o := f.order
	v := &XenVersion{Major: o.Uint64(d[0:]), Minor: o.Uint64(d[8:]),
		Extra: reader.CString(d[verExtra:verCompiler]), Compiler: reader.CString(d[verCompiler:verCompileBy]),
		CompileBy: reader.CString(d[verCompileBy:verCompileDom]), CompileDomain: reader.CString(d[verCompileDom:verCompileDate]),
		CompileDate: reader.CString(d[verCompileDate:verCapabilities]), Capabilities: reader.CString(d[verCapabilities:verChangeset]),
		Changeset: reader.CString(d[verChangeset:verVirtStart])}
	v.Layout32 = f.Machine == elf.EM_386 || len(d) < verSize64
	need := verSize64
	if v.Layout32 {
		need = verSize32
	}
	if len(d) < need {
		return v, fmt.Sprintf("descriptor is %d bytes, %d expected; platform parameters and page size are missing", len(d), need)
	}
	if v.Layout32 {
		v.VirtStart = uint64(o.Uint32(d[verVirtStart:]))
		v.PageSize = o.Uint64(d[verVirtStart+4:])
	} else {
		v.VirtStart = o.Uint64(d[verVirtStart:])
		v.PageSize = o.Uint64(d[verVirtStart+8:])
	}
	if len(d) != verSize64 && len(d) != verSize32 {
		return v, fmt.Sprintf("descriptor is %d bytes, expected %d or %d", len(d), verSize64, verSize32)
	}
	return v, ""
}

func magicName(m uint64) string {
	switch m {
	case MagicPV:
		return "PV"
	case MagicHVM:
		return "HVM"
	}
	return fmt.Sprintf("unknown (magic %#x)", m)
}

func formatVersion(v uint64) string { return fmt.Sprintf("%d.%d", v>>32, v&0xffffffff) }

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

// validPageSize reports whether n is a page size a Xen guest can have: a
// power of two from 1 KiB to 1 MiB (x86 4 KiB, ia64 4-64 KiB).
func validPageSize(n uint64) bool { return n >= 1<<10 && n <= 1<<20 && n&(n-1) == 0 }

// defaultPageSize is the usual guest page size of an architecture.
func defaultPageSize(archName string) int64 {
	if archName == "ia64" {
		return 16384
	}
	return 4096
}

// checkHeader checks the header and version notes and settles the page
// size and the domain type.
func (f *File) checkHeader() {
	h := f.Header
	hdrOff, fmtOff := int64(-1), int64(-1)
	for _, n := range f.notes {
		switch {
		case n.Name != elfnote.NameXen:
		case n.Type == NoteHeader && hdrOff < 0:
			hdrOff = int64(n.DescOffset)
		case n.Type == NoteFormatVersion && fmtOff < 0:
			fmtOff = int64(n.DescOffset)
		}
	}
	switch h.Magic {
	case MagicPV, MagicHVM:
		f.hvm = h.Magic == MagicHVM
	default:
		if hdrOff >= 0 {
			f.problem(model.SeverityError, model.CodeBadXenHeader, hdrOff, "xch_magic is %#x, neither XC_CORE_MAGIC (%#x, PV) nor XC_CORE_MAGIC_HVM (%#x)", h.Magic, uint64(MagicPV), uint64(MagicHVM))
		}
		// Guess from the frame table: HVM domains have .xen_pfn.
		f.hvm = f.section(SecPFN) != nil && f.section(SecP2M) == nil && f.Machine != elf.EM_IA_64
	}
	f.pageSize = int64(h.PageSize)
	if !validPageSize(h.PageSize) {
		f.pageSize = defaultPageSize(f.archName)
		from := "the architecture's usual size"
		if f.Version != nil && validPageSize(f.Version.PageSize) {
			f.pageSize, from = int64(f.Version.PageSize), "XEN_VERSION's pagesize"
		}
		if hdrOff >= 0 {
			f.problem(model.SeverityError, model.CodeBadPageSize, hdrOff+24, "xch_page_size is %d, not a power of two between 1 KiB and 1 MiB; using %d (%s)", h.PageSize, f.pageSize, from)
		}
	}
	if h.NrVCPUs > MaxVCPUs {
		f.problem(model.SeverityError, model.CodeBadXenHeader, hdrOff+8, "xch_nr_vcpus %d exceeds the limit of %d; only %d contexts are read", h.NrVCPUs, MaxVCPUs, MaxVCPUs)
		f.Header.NrVCPUs = MaxVCPUs
	}
	switch {
	case f.FormatVersion == nil:
	case *f.FormatVersion != FormatVersion01:
		f.problem(model.SeverityWarning, model.CodeFormatVersion, fmtOff, "dump-core format version %s; dumpscope knows 0.1 and reads it as 0.1 (libkdumpfile refuses any other version)", formatVersion(*f.FormatVersion))
	}
	switch f.Machine {
	case elf.EM_X86_64, elf.EM_386, elf.EM_IA_64:
	default:
		f.problem(model.SeverityWarning, model.CodeUnknownMachine, 18, "e_machine %v: vCPU contexts of this architecture cannot be decoded (pages are readable)", f.Machine)
	}
}
