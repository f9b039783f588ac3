package dumptest

import (
	"debug/elf"
	"encoding/binary"
	"sort"
)

// Xen dump-core writers, built from ../shared/docs/formats.md §4 (the ELF
// dump-core of libxc/libxenguest xg_core.c and the legacy pre-ELF core)
// and §5 (vcpu_guest_context of x86_32, x86_64 and ia64, ia64
// mapped_regs_t).

// Xen dump-core constants (formats.md §4.3, §4.7).
const (
	XenMagicPV  = 0xF00FEBED // XC_CORE_MAGIC
	XenMagicHVM = 0xF00FEBEE // XC_CORE_MAGIC_HVM

	XenNoteNone    = 0x2000000 // XEN_ELFNOTE_DUMPCORE_NONE
	XenNoteHeader  = 0x2000001 // XEN_ELFNOTE_DUMPCORE_HEADER
	XenNoteVersion = 0x2000002 // XEN_ELFNOTE_DUMPCORE_XEN_VERSION
	XenNoteFormat  = 0x2000003 // XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION

	// Sizes of the context records (formats.md §5.4, §5.5, §5.7, §5.8).
	XenContextX8632Size = 2800
	XenContextX8664Size = 5168
	IA64ContextSize     = 22208
	IA64MappedRegsSize  = 4096
)

// XenVersion is the XEN_VERSION note descriptor's content (formats.md §4.4).
type XenVersion struct {
	Major, Minor                                    uint64
	Extra                                           string // char[16]
	Compiler, CompileBy, CompileDomain, CompileDate string // 64, 16, 32, 32
	Capabilities                                    string // char[1024]
	Changeset                                       string // char[64]
	VirtStart                                       uint64 // platform_parameters.virt_start
	PageSize                                        uint64
}

// XenPage is one page of a dump-core: its guest frame, its machine frame
// (PV only) and its bytes (nil: Pattern(PFN, page size)).
type XenPage struct {
	PFN, GMFN uint64
	Data      []byte
}

// XenCore describes an ELF Xen dump-core to write (formats.md §4.1-§4.5).
type XenCore struct {
	Order   binary.ByteOrder // default little-endian
	Machine elf.Machine      // EM_X86_64, EM_386 or EM_IA_64 (the guest's width on x86)
	HVM     bool             // XC_CORE_MAGIC_HVM and .xen_pfn; otherwise PV
	// PFNTable forces .xen_pfn for a PV guest (ia64 PV domains are
	// auto-translated and use .xen_pfn too).
	PFNTable bool
	PageSize int // default 4096 (16384 for ia64)
	// Tools32 writes as 32-bit x86 tools did: XEN_VERSION with a 4-byte
	// virt_start (descsz 1276) and, unless RecordSize says otherwise,
	// 2800-byte .xen_prstatus records.
	Tools32 bool
	// RecordSize is sh_entsize of .xen_prstatus. Default: 5168 on x86
	// (vcpu_guest_context_any_t, libxc since 2009), 2800 for Tools32 and
	// EM_386, 22208 on ia64.
	RecordSize int
	VCPUs      [][]byte // context images, padded or cut to RecordSize
	// MappedRegs are ia64 PV mapped_regs_t images, one per vCPU, in a
	// .xen_ia64_mapped_regs section with MappedRegsSize-byte records
	// (default max(4096, PageSize)).
	MappedRegs     [][]byte
	MappedRegsSize int
	// IA64LibxcOffsets writes the section offsets as libxc did on ia64:
	// the headers reserve the mapped-regs area before shared info, but the
	// data is written shared info first (formats.md §4.2).
	IA64LibxcOffsets bool
	SharedInfo       []byte // nil: no .xen_shared_info
	Pages            []XenPage
	// InvalidTail appends entries of all ones with zero pages, as a live
	// dump whose domain shrank writes them.
	InvalidTail   int
	Version       XenVersion
	FormatVersion uint64 // 0 means 1 (format 0.1)
	// Overrides for damaged files: header fields as written (0 = true
	// value) and notes to leave out.
	Magic          uint64
	HeaderPages    uint64
	HeaderPageSize uint64
	HeaderVCPUs    uint64
	OmitNotes      map[uint32]bool
	// ReverseSections lists the section headers after the null entry in
	// reverse order, to test lookup by name.
	ReverseSections bool
}

// XenSection locates one written section.
type XenSection struct {
	Index     int
	HeaderOff int64 // file offset of its Elf64_Shdr
	Off, Size int64 // sh_offset, sh_size as written
}

// XenLayout says where the writer put things, for tests that corrupt files.
type XenLayout struct {
	Size        int64
	Sections    map[string]XenSection
	NoteOffsets map[uint32]int64 // file offset of each note's header, by type
}

// Bytes builds the file in libxc's order: ELF header, section headers,
// notes, prstatus, shared info, arch context, padding to a page, pages,
// p2m/pfn table, string table.
func (c *XenCore) Bytes() ([]byte, XenLayout) {
	o := c.Order
	if o == nil {
		o = binary.LittleEndian
	}
	ps := c.PageSize
	if ps == 0 {
		ps = 4096
		if c.Machine == elf.EM_IA_64 {
			ps = 16384
		}
	}
	rec := c.RecordSize
	if rec == 0 {
		switch {
		case c.Machine == elf.EM_IA_64:
			rec = IA64ContextSize
		case c.Tools32 && c.Machine == elf.EM_386:
			rec = XenContextX8632Size
		default:
			rec = XenContextX8664Size
		}
	}
	mrSize := c.MappedRegsSize
	if mrSize == 0 {
		mrSize = max(4096, ps)
	}
	pfnTable := c.HVM || c.PFNTable
	tableName, entSize := ".xen_p2m", 16
	if pfnTable {
		tableName, entSize = ".xen_pfn", 8
	}

	// Section names in header order (formats.md §4.2).
	names := []string{"", ".shstrtab", ".note.Xen", ".xen_prstatus"}
	if len(c.MappedRegs) > 0 {
		names = append(names, ".xen_ia64_mapped_regs")
	}
	if c.SharedInfo != nil {
		names = append(names, ".xen_shared_info")
	}
	names = append(names, ".xen_pages", tableName)
	if c.ReverseSections {
		for i, j := 1, len(names)-1; i < j; i, j = i+1, j-1 {
			names[i], names[j] = names[j], names[i]
		}
	}
	var strtab []byte
	nameOff := map[string]int{}
	for _, n := range names {
		nameOff[n] = len(strtab)
		if n != "" {
			strtab = append(strtab, n...)
		}
		strtab = append(strtab, 0)
	}

	notes, noteRel := c.notes(o, ps)
	nsec := len(names)
	notesOff := 64 + 64*nsec
	secs := map[string]XenSection{}
	set := func(name string, off, size int) {
		secs[name] = XenSection{Off: int64(off), Size: int64(size)}
	}
	pos := notesOff
	set(".note.Xen", pos, len(notes))
	pos += len(notes)
	set(".xen_prstatus", pos, rec*len(c.VCPUs))
	pos += rec * len(c.VCPUs)
	// Data order: shared info, then the arch context (mapped regs).
	shOff, mrOff := pos, pos
	if c.SharedInfo != nil {
		mrOff += ps
	}
	mrLen := mrSize * len(c.MappedRegs)
	if c.SharedInfo != nil {
		set(".xen_shared_info", shOff, ps)
	}
	if len(c.MappedRegs) > 0 {
		set(".xen_ia64_mapped_regs", mrOff, mrLen)
	}
	pos = mrOff + mrLen
	if c.IA64LibxcOffsets && c.SharedInfo != nil && len(c.MappedRegs) > 0 {
		// Headers: mapped regs first, then shared info.
		set(".xen_ia64_mapped_regs", shOff, mrLen)
		set(".xen_shared_info", shOff+mrLen, ps)
	}
	pos = (pos + ps - 1) / ps * ps
	n := len(c.Pages) + c.InvalidTail
	set(".xen_pages", pos, n*ps)
	pagesOff := pos
	pos += n * ps
	set(tableName, pos, n*entSize)
	tableOff := pos
	pos += n * entSize
	set(".shstrtab", pos, len(strtab))
	strOff := pos
	pos += len(strtab)

	b := make([]byte, pos)
	// ELF header (formats.md §4.1).
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	b[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	if o == binary.ByteOrder(binary.BigEndian) {
		b[elf.EI_DATA] = byte(elf.ELFDATA2MSB)
	}
	b[elf.EI_VERSION] = 1
	b[elf.EI_ABIVERSION] = 1
	o.PutUint16(b[16:], uint16(elf.ET_CORE))
	o.PutUint16(b[18:], uint16(c.Machine))
	o.PutUint32(b[20:], 1)
	o.PutUint64(b[40:], 64) // e_shoff
	o.PutUint16(b[52:], 64) // e_ehsize
	o.PutUint16(b[54:], 56) // e_phentsize
	o.PutUint16(b[58:], 64) // e_shentsize
	o.PutUint16(b[60:], uint16(nsec))
	for i, name := range names {
		if name == ".shstrtab" {
			o.PutUint16(b[62:], uint16(i))
		}
	}
	// Section headers.
	for i, name := range names {
		h := b[64+64*i:]
		s := secs[name]
		s.Index, s.HeaderOff = i, int64(64+64*i)
		secs[name] = s
		if name == "" {
			continue
		}
		typ, align, ent := uint32(elf.SHT_PROGBITS), 8, 0
		switch name {
		case ".shstrtab":
			typ, align = uint32(elf.SHT_STRTAB), 0
		case ".note.Xen":
			typ, align = uint32(elf.SHT_NOTE), 0
		case ".xen_prstatus":
			ent = rec
		case ".xen_shared_info":
			ent = ps
		case ".xen_ia64_mapped_regs":
			ent = mrSize
		case ".xen_pages":
			align, ent = ps, ps
		default:
			ent = entSize
		}
		o.PutUint32(h[0:], uint32(nameOff[name]))
		o.PutUint32(h[4:], typ)
		o.PutUint64(h[24:], uint64(s.Off))
		o.PutUint64(h[32:], uint64(s.Size))
		o.PutUint64(h[48:], uint64(align))
		o.PutUint64(h[56:], uint64(ent))
	}
	copy(b[notesOff:], notes)
	for i, v := range c.VCPUs {
		copy(b[int(secs[".xen_prstatus"].Off)+i*rec:][:rec], v)
	}
	if c.SharedInfo != nil {
		copy(b[shOff:][:ps], c.SharedInfo)
	}
	for i, m := range c.MappedRegs {
		copy(b[mrOff+i*mrSize:][:mrSize], m)
	}
	for i, p := range c.Pages {
		data := p.Data
		if data == nil {
			data = Pattern(p.PFN, ps)
		}
		copy(b[pagesOff+i*ps:][:ps], data)
		e := b[tableOff+i*entSize:]
		o.PutUint64(e, p.PFN)
		if !pfnTable {
			o.PutUint64(e[8:], p.GMFN)
		}
	}
	for i := len(c.Pages); i < n; i++ {
		e := b[tableOff+i*entSize:][:entSize]
		for k := range e {
			e[k] = 0xff
		}
	}
	copy(b[strOff:], strtab)
	lay := XenLayout{Size: int64(pos), Sections: secs, NoteOffsets: map[uint32]int64{}}
	for typ, rel := range noteRel {
		lay.NoteOffsets[typ] = int64(notesOff) + rel
	}
	return b, lay
}

// notes builds .note.Xen: four notes with the 16-byte header {namesz 4,
// descsz, type, "Xen\0"} (formats.md §4.3).
func (c *XenCore) notes(o binary.ByteOrder, ps int) ([]byte, map[uint32]int64) {
	magic := c.Magic
	if magic == 0 {
		magic = XenMagicPV
		if c.HVM {
			magic = XenMagicHVM
		}
	}
	pick := func(over uint64, v int) uint64 {
		if over != 0 {
			return over
		}
		return uint64(v)
	}
	hdr := make([]byte, 32)
	o.PutUint64(hdr[0:], magic)
	o.PutUint64(hdr[8:], pick(c.HeaderVCPUs, len(c.VCPUs)))
	o.PutUint64(hdr[16:], pick(c.HeaderPages, len(c.Pages)+c.InvalidTail))
	o.PutUint64(hdr[24:], pick(c.HeaderPageSize, ps))
	fv := c.FormatVersion
	if fv == 0 {
		fv = 1
	}
	fmtDesc := make([]byte, 8)
	o.PutUint64(fmtDesc, fv)
	var out []byte
	rel := map[uint32]int64{}
	for _, n := range []struct {
		typ  uint32
		desc []byte
	}{{XenNoteNone, nil}, {XenNoteHeader, hdr}, {XenNoteVersion, c.versionDesc(o)}, {XenNoteFormat, fmtDesc}} {
		if c.OmitNotes[n.typ] {
			continue
		}
		rel[n.typ] = int64(len(out))
		var h [16]byte
		o.PutUint32(h[0:], 4)
		o.PutUint32(h[4:], uint32(len(n.desc)))
		o.PutUint32(h[8:], n.typ)
		copy(h[12:], "Xen\x00")
		out = append(out, h[:]...)
		out = append(out, n.desc...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out, rel
}

// versionDesc builds xen_dumpcore_elfnote_xen_version_desc (formats.md
// §4.4): 1280 bytes from 64-bit tools, 1276 from 32-bit x86 tools. 64-bit
// tools dumping a 32-bit guest move pagesize 4 bytes down (libxc's
// memmove) and keep descsz 1280.
func (c *XenCore) versionDesc(o binary.ByteOrder) []byte {
	v := c.Version
	size := 1280
	if c.Tools32 {
		size = 1276
	}
	b := make([]byte, size)
	o.PutUint64(b[0:], v.Major)
	o.PutUint64(b[8:], v.Minor)
	copy(b[16:32], v.Extra)
	copy(b[32:96], v.Compiler)
	copy(b[96:112], v.CompileBy)
	copy(b[112:144], v.CompileDomain)
	copy(b[144:176], v.CompileDate)
	copy(b[176:1200], v.Capabilities)
	copy(b[1200:1264], v.Changeset)
	if c.Tools32 {
		o.PutUint32(b[1264:], uint32(v.VirtStart))
		o.PutUint64(b[1268:], v.PageSize)
		return b
	}
	o.PutUint64(b[1264:], v.VirtStart)
	o.PutUint64(b[1272:], v.PageSize)
	if c.Machine == elf.EM_386 {
		copy(b[1268:1276], b[1272:1280])
	}
	return b
}

// XenTrap is one trap_info entry (formats.md §5.3).
type XenTrap struct {
	Vector, Flags uint8
	CS            uint16
	Address       uint64
}

// XenX86Regs is the content of an x86 vcpu_guest_context (formats.md §5.4,
// §5.5), named as in Xen's public headers.
type XenX86Regs struct {
	Flags uint64 // VGCF_*
	// GPR in cpu_user_regs order: x86_64 r15 r14 r13 r12 rbp rbx r11 r10
	// r9 r8 rax rcx rdx rsi rdi; x86_32 uses the first seven as ebx ecx
	// edx esi edi ebp eax.
	GPR                              [15]uint64
	IP, RFlags, SP                   uint64
	CS, SS, ES, DS, FS, GS           uint16
	SavedUpcallMask                  uint8
	Traps                            []XenTrap // trap_ctxt[0...]
	LDTBase, LDTEnts                 uint64
	GDTFrames                        [16]uint64
	GDTEnts, KernelSS, KernelSP      uint64
	CtrlReg, DebugReg                [8]uint64
	EventCallbackCS, EventCallbackIP uint64
	FailsafeCS, FailsafeIP           uint64
	SyscallIP, VMAssist              uint64
	FSBase, GSBaseKernel, GSBaseUser uint64
}

// Context64 builds an x86_64 vcpu_guest_context (5168 bytes, §5.5).
func (r *XenX86Regs) Context64(o binary.ByteOrder) []byte {
	b := make([]byte, XenContextX8664Size)
	o.PutUint64(b[512:], r.Flags)
	u := b[520:] // cpu_user_regs, §5.2
	for i, v := range r.GPR {
		o.PutUint64(u[8*i:], v)
	}
	o.PutUint64(u[128:], r.IP)
	o.PutUint16(u[136:], r.CS)
	u[140] = r.SavedUpcallMask
	o.PutUint64(u[144:], r.RFlags)
	o.PutUint64(u[152:], r.SP)
	for i, s := range []uint16{r.SS, r.ES, r.DS, r.FS, r.GS} {
		o.PutUint16(u[160+8*i:], s)
	}
	for i, t := range r.Traps[:min(len(r.Traps), 256)] {
		e := b[720+16*i:]
		e[0], e[1] = t.Vector, t.Flags
		o.PutUint16(e[2:], t.CS)
		o.PutUint64(e[8:], t.Address)
	}
	words := []struct {
		off int
		v   uint64
	}{{4816, r.LDTBase}, {4824, r.LDTEnts}, {4960, r.GDTEnts}, {4968, r.KernelSS}, {4976, r.KernelSP},
		{5112, r.EventCallbackIP}, {5120, r.FailsafeIP}, {5128, r.SyscallIP}, {5136, r.VMAssist},
		{5144, r.FSBase}, {5152, r.GSBaseKernel}, {5160, r.GSBaseUser}}
	for _, w := range words {
		o.PutUint64(b[w.off:], w.v)
	}
	for i := 0; i < 16; i++ {
		o.PutUint64(b[4832+8*i:], r.GDTFrames[i])
	}
	for i := 0; i < 8; i++ {
		o.PutUint64(b[4984+8*i:], r.CtrlReg[i])
		o.PutUint64(b[5048+8*i:], r.DebugReg[i])
	}
	return b
}

// Context32 builds an x86_32 vcpu_guest_context (2800 bytes, §5.4).
func (r *XenX86Regs) Context32(o binary.ByteOrder) []byte {
	b := make([]byte, XenContextX8632Size)
	o.PutUint32(b[512:], uint32(r.Flags))
	u := b[516:] // cpu_user_regs, §5.1
	for i := 0; i < 7; i++ {
		o.PutUint32(u[4*i:], uint32(r.GPR[i]))
	}
	o.PutUint32(u[32:], uint32(r.IP))
	o.PutUint16(u[36:], r.CS)
	u[38] = r.SavedUpcallMask
	o.PutUint32(u[40:], uint32(r.RFlags))
	o.PutUint32(u[44:], uint32(r.SP))
	for i, s := range []uint16{r.SS, r.ES, r.DS, r.FS, r.GS} {
		o.PutUint16(u[48+4*i:], s)
	}
	for i, t := range r.Traps[:min(len(r.Traps), 256)] {
		e := b[584+8*i:]
		e[0], e[1] = t.Vector, t.Flags
		o.PutUint16(e[2:], t.CS)
		o.PutUint32(e[4:], uint32(t.Address))
	}
	words := []struct {
		off int
		v   uint64
	}{{2632, r.LDTBase}, {2636, r.LDTEnts}, {2704, r.GDTEnts}, {2708, r.KernelSS}, {2712, r.KernelSP},
		{2780, r.EventCallbackCS}, {2784, r.EventCallbackIP}, {2788, r.FailsafeCS}, {2792, r.FailsafeIP}, {2796, r.VMAssist}}
	for _, w := range words {
		o.PutUint32(b[w.off:], uint32(w.v))
	}
	for i := 0; i < 16; i++ {
		o.PutUint32(b[2640+4*i:], uint32(r.GDTFrames[i]))
	}
	for i := 0; i < 8; i++ {
		o.PutUint32(b[2716+4*i:], uint32(r.CtrlReg[i]))
		o.PutUint32(b[2748+4*i:], uint32(r.DebugReg[i]))
	}
	return b
}

// XenCR3For32 encodes a machine frame as an x86_32 PV cr3:
// xen_pfn_to_cr3(mfn) = mfn << 12 | mfn >> 20, 32-bit (formats.md §5.4).
func XenCR3For32(mfn uint32) uint64 { return uint64(mfn<<12 | mfn>>20) }

// IA64Regs is the content of an ia64 vcpu_guest_context (formats.md §5.8).
type IA64Regs struct {
	Flags                        uint64
	R                            [32]uint64
	B                            [8]uint64
	Bank                         [16]uint64
	IP, PSR, CFM                 uint64
	PR                           uint64
	NaTs, BNaTs                  uint32
	AR, CR                       [128]uint64
	DBR, IBR, RR                 [8]uint64
	PKR                          [16]uint64
	EventCallbackIP, PrivregsPFN uint64
}

// Context builds the 22208-byte context; regs starts at 16.
func (r *IA64Regs) Context(o binary.ByteOrder) []byte {
	b := make([]byte, IA64ContextSize)
	o.PutUint64(b[0:], r.Flags)
	g := b[16:]
	put := func(off int, v []uint64) {
		for i, x := range v {
			o.PutUint64(g[off+8*i:], x)
		}
	}
	put(0, r.R[:])
	put(256, r.B[:])
	put(320, r.Bank[:])
	put(448, []uint64{r.IP, r.PSR, r.CFM, r.PR})
	o.PutUint32(g[480:], r.NaTs)
	o.PutUint32(g[484:], r.BNaTs)
	put(488, r.AR[:])
	put(1512, r.CR[:])
	put(4592, r.DBR[:])
	put(4656, r.IBR[:])
	put(4720, r.RR[:])
	put(4784, r.PKR[:])
	o.PutUint64(b[22192:], r.EventCallbackIP)
	o.PutUint64(b[22200:], r.PrivregsPFN)
	return b
}

// IA64Mapped is the content of an ia64 mapped_regs_t (formats.md §5.7).
type IA64Mapped struct {
	VAC, VDC, VHPI               uint64
	VGR, VBGR                    [16]uint64
	VNaT, VBNaT, VPSR, VPR       uint64
	VCR                          [128]uint64
	InterruptCollection, Pending int32
	MetaphysicalMode, Banknum    int32
	RRS, KRS                     [8]uint64
	ITCOffset, ITCLast           uint64
}

// Bytes builds the 4096-byte structure padded to size.
func (m *IA64Mapped) Bytes(o binary.ByteOrder, size int) []byte {
	b := make([]byte, max(size, IA64MappedRegsSize))
	put := func(off int, v ...uint64) {
		for i, x := range v {
			o.PutUint64(b[off+8*i:], x)
		}
	}
	put(0, m.VAC, m.VDC)
	put(256, m.VHPI)
	put(1024, m.VGR[:]...)
	put(1152, m.VBGR[:]...)
	put(1280, m.VNaT, m.VBNaT)
	put(1424, m.VPSR, m.VPR)
	put(2048, m.VCR[:]...)
	o.PutUint32(b[3088:], uint32(m.InterruptCollection))
	o.PutUint32(b[3104:], uint32(m.Pending))
	o.PutUint32(b[3144:], uint32(m.MetaphysicalMode))
	o.PutUint32(b[3148:], uint32(m.Banknum))
	put(3152, m.RRS[:]...)
	put(3216, m.KRS[:]...)
	put(3408, m.ITCOffset, m.ITCLast)
	return b
}

// XenSharedInfoX8664 builds an x86_64 shared_info page with the fields a
// test checks: vcpu_info[0] pending flags, wallclock and arch.max_pfn /
// pfn_to_mfn_frame_list_list (Xen public/xen.h, arch-x86/xen.h).
func XenSharedInfoX8664(o binary.ByteOrder, ps int, maxPFN, frameListList uint64, wcSec uint32) []byte {
	b := make([]byte, ps)
	b[0] = 1 // vcpu_info[0].evtchn_upcall_pending
	o.PutUint32(b[3076:], wcSec)
	o.PutUint64(b[3088:], maxPFN)
	o.PutUint64(b[3096:], frameListList)
	return b
}

// XenLegacyPage is one page of a legacy core: its machine frame and bytes
// (nil: Pattern(MFN, 4096)).
type XenLegacyPage struct {
	MFN  uint64
	Data []byte
}

// XenLegacyCore describes a pre-ELF Xen core (formats.md §4.7).
type XenLegacyCore struct {
	Order binary.ByteOrder
	HVM   bool
	// ContextSize is the tools-native vcpu_guest_context size: 2800
	// (32-bit dom0) or 5168 (x86_64 dom0, the default).
	ContextSize int
	// IndexWord is the size of an index entry (the tools' unsigned long):
	// default 4 with 2800-byte contexts, else 8.
	IndexWord int
	VCPUs     [][]byte
	Pages     []XenLegacyPage // in index order (not sorted)
	// PagesOffset overrides xch_pages_offset (0: the page-rounded end of
	// the index).
	PagesOffset uint32
}

// Bytes builds the file: xc_core_header, contexts, index, padding, pages.
func (c *XenLegacyCore) Bytes() []byte {
	o := c.Order
	if o == nil {
		o = binary.LittleEndian
	}
	const ps = 4096
	ctx := c.ContextSize
	if ctx == 0 {
		ctx = XenContextX8664Size
	}
	word := c.IndexWord
	if word == 0 {
		word = 8
		if ctx == XenContextX8632Size {
			word = 4
		}
	}
	magic := uint32(XenMagicPV)
	if c.HVM {
		magic = XenMagicHVM
	}
	ctxOff := 24
	idxOff := ctxOff + ctx*len(c.VCPUs)
	pagesOff := (idxOff + word*len(c.Pages) + ps - 1) / ps * ps
	if c.PagesOffset != 0 {
		pagesOff = int(c.PagesOffset)
	}
	b := make([]byte, max(pagesOff+ps*len(c.Pages), idxOff+word*len(c.Pages)))
	for i, v := range []uint32{magic, uint32(len(c.VCPUs)), uint32(len(c.Pages)), uint32(ctxOff), uint32(idxOff), uint32(pagesOff)} {
		o.PutUint32(b[4*i:], v)
	}
	for i, v := range c.VCPUs {
		copy(b[ctxOff+i*ctx:][:ctx], v)
	}
	for i, p := range c.Pages {
		if word == 4 {
			o.PutUint32(b[idxOff+4*i:], uint32(p.MFN))
		} else {
			o.PutUint64(b[idxOff+8*i:], p.MFN)
		}
		data := p.Data
		if data == nil {
			data = Pattern(p.MFN, ps)
		}
		if pagesOff+(i+1)*ps <= len(b) {
			copy(b[pagesOff+i*ps:][:ps], data)
		}
	}
	return b
}

// SortedXenPages returns n pages with ascending guest frames starting at
// first, skipping every frame for which hole returns true, and machine
// frames from mfn(pfn).
func SortedXenPages(first uint64, n int, hole func(uint64) bool, mfn func(uint64) uint64) []XenPage {
	var out []XenPage
	for pfn := first; len(out) < n; pfn++ {
		if hole != nil && hole(pfn) {
			continue
		}
		p := XenPage{PFN: pfn}
		if mfn != nil {
			p.GMFN = mfn(pfn)
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PFN < out[j].PFN })
	return out
}
