package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"dumpscope/model"
)

// The kernel's virtual memory map (Documentation/arch/x86/x86_64/mm.rst,
// arch/x86/include/asm/page_64_types.h, arch/x86/Kconfig for i386).
const (
	// startKernelMap is __START_KERNEL_map: the kernel image is mapped
	// from here at phys_base (x86_64).
	startKernelMap = 0xffffffff80000000
	// defaultKernelImageSize is KERNEL_IMAGE_SIZE without KASLR, used when
	// VMCOREINFO has no NUMBER(KERNEL_IMAGE_SIZE).
	defaultKernelImageSize = 512 << 20
	// pageOffsetL4 and pageOffsetL5 are __PAGE_OFFSET_BASE_L4/_L5, the
	// direct map's base without CONFIG_RANDOMIZE_MEMORY.
	pageOffsetL4 = 0xffff888000000000
	pageOffsetL5 = 0xff11000000000000
	// i386 vmalloc reserve (arch/x86/mm/pgtable_32.c __VMALLOC_RESERVE):
	// the direct map ("lowmem") ends this far below 4 GiB at most.
	i386VmallocReserve = 128 << 20
)

// i386PageOffsets are the values of CONFIG_PAGE_OFFSET the VMSPLIT choices
// of arch/x86/Kconfig give, the default (3G/1G) first.
var i386PageOffsets = []uint64{0xc0000000, 0xb0000000, 0x80000000, 0x78000000, 0x40000000}

// space is the kernel's virtual address space: the paging mode and root,
// and the linear mappings that give arithmetic shortcuts.
type space struct {
	mode     *pagingMode
	root     uint64
	rootFrom string
	physMask uint64 // NUMBER(sme_mask): not an address bit
	pageSize uint64

	// The direct map: [pageOffset, pageOffset+directSize) maps physical
	// [0, directSize).
	pageOffset     uint64
	pageOffsetFrom string
	directSize     uint64

	// The kernel text map (x86_64): [startKernelMap, +textSize) maps
	// physical phys_base onwards.
	hasText  bool
	textSize uint64
	physBase uint64

	// notes say what was assumed rather than read.
	notes []string
}

// kernelSpace returns the kernel's address space, built on first use.
func (k *Kernel) kernelSpace(ctx context.Context) (*space, error) {
	return k.space.get(ctx, func(ctx context.Context) (*space, error) {
		mem := k.memIn(ctx)
		if k.arch == "x86_64" {
			return k.setupX8664(mem)
		}
		return k.setupI386(mem)
	})
}

// setupX8664 finds the kernel's page tables from VMCOREINFO: the root is
// init_top_pgt (init_level4_pgt before Linux 4.13), at its kernel-image
// address minus __START_KERNEL_map plus phys_base (__pa_symbol,
// arch/x86/include/asm/page_64.h). Without VMCOREINFO it falls back to a
// CPU's cr3.
func (k *Kernel) setupX8664(mem physMem) (*space, error) {
	s := &space{mode: modeX8664L4, pageSize: k.pageSize}
	v := k.vmci
	if v == nil {
		return k.spaceFromCR3(mem, s, "the dump has no VMCOREINFO")
	}
	if n, ok := v.Number("pgtable_l5_enabled"); ok && n != 0 {
		s.mode = modeX8664L5
	}
	if n, ok := v.Number("phys_base"); ok {
		s.physBase = uint64(n)
	} else {
		s.notes = append(s.notes, "VMCOREINFO has no NUMBER(phys_base): assuming 0")
	}
	if n, ok := v.Number("sme_mask"); ok {
		s.physMask = uint64(n)
	}
	s.hasText = true
	s.textSize = defaultKernelImageSize
	if n, ok := v.Number("KERNEL_IMAGE_SIZE"); ok && n > 0 && n <= 1<<31 {
		s.textSize = uint64(n)
	}
	var sym uint64
	for _, name := range []string{"init_top_pgt", "init_level4_pgt", "swapper_pg_dir"} {
		if a, ok := v.Symbol(name); ok {
			sym, s.rootFrom = a, "SYMBOL("+name+") in VMCOREINFO"
			break
		}
	}
	if s.rootFrom == "" {
		return k.spaceFromCR3(mem, s, "VMCOREINFO has neither SYMBOL(init_top_pgt) nor SYMBOL(swapper_pg_dir)")
	}
	if sym < startKernelMap {
		return nil, &MissingError{File: k.name, What: "the kernel page tables",
			Err: fmt.Errorf("%s = %#x is not a kernel-image address: %w", s.rootFrom, sym, model.ErrNotFound)}
	}
	s.root = sym - startKernelMap + s.physBase
	k.findPageOffset(mem, s)
	return s, nil
}

// findPageOffset sets the direct map's base. SYMBOL(page_offset_base), when
// VMCOREINFO has it, names the variable that holds it (with
// CONFIG_RANDOMIZE_MEMORY); otherwise it is __PAGE_OFFSET_BASE of the
// paging mode. Either is checked by translating the root table's own
// direct-map address; when that fails, the page tables are scanned for
// the lowest kernel address that maps physical 0 on a 1 GiB boundary,
// which is where KASLR puts the direct map (arch/x86/mm/kaslr.c).
func (k *Kernel) findPageOffset(mem physMem, s *space) {
	s.directSize = k.maxPhys
	cand, from := uint64(pageOffsetL4), "__PAGE_OFFSET_BASE_L4 (no KASLR)"
	if s.mode == modeX8664L5 {
		cand, from = pageOffsetL5, "__PAGE_OFFSET_BASE_L5 (no KASLR)"
	}
	if sym, ok := k.vmci.Symbol("page_offset_base"); ok {
		var b [8]byte
		if tr, err := s.translate(mem, sym); err == nil && mem.readPhys(uint64(tr.PhysAddr), b[:]) == nil {
			cand, from = binary.LittleEndian.Uint64(b[:]), "page_offset_base (SYMBOL in VMCOREINFO)"
		}
	}
	// The root table and every VMCOREINFO symbol in the image lie in RAM,
	// so the direct map must map each at PAGE_OFFSET + its physical address.
	probes := []uint64{s.root}
	for _, a := range k.anchors() {
		if a.va >= startKernelMap && a.va-startKernelMap < s.textSize {
			probes = append(probes, a.va-startKernelMap+s.physBase)
		}
	}
	switch checkLinear(mem, s, cand, probes) {
	case linearAgrees:
		s.pageOffset, s.pageOffsetFrom = cand, from+", checked against the page tables"
		return
	case linearDisagrees:
		if va, ok := scanDirectMap(mem, s.mode, s.root, s.physMask); ok {
			s.pageOffset, s.pageOffsetFrom = va, "found by scanning the page tables for the mapping of physical 0"
			return
		}
	}
	s.pageOffset, s.pageOffsetFrom = cand, from+", unchecked"
	s.notes = append(s.notes, "the direct map's base could not be checked: the page tables that map it are not in the dump")
}

// linearCheck is the outcome of checkLinear.
type linearCheck int

const (
	linearUnknown   linearCheck = iota // no probe could be walked to the end
	linearAgrees                       // a probe maps as the offset says, none otherwise
	linearDisagrees                    // a probe maps elsewhere or not at all
)

// checkLinear tests a direct-map base: each probe physical address pa
// must be mapped at base+pa. Probes whose page tables are not in the dump
// say nothing; the first that can be walked decides.
func checkLinear(mem physMem, s *space, base uint64, probes []uint64) linearCheck {
	for _, pa := range probes {
		tr, err := walk(mem, s.mode, s.root, base+pa, s.physMask)
		var te *TableError
		switch {
		case err == nil && uint64(tr.PhysAddr) == pa:
			return linearAgrees
		case err == nil || !errors.As(err, &te):
			return linearDisagrees
		}
	}
	return linearUnknown
}

// anchor is a VMCOREINFO symbol: a known kernel address.
type anchor struct {
	name string
	va   uint64
}

// anchors lists VMCOREINFO's SYMBOL() entries that are addresses of kernel
// variables. SYMBOL(mem_section) is left out: with SPARSEMEM_EXTREME it is
// the pointer's value (VMCOREINFO_SYMBOL_ARRAY), not its address.
func (k *Kernel) anchors() []anchor {
	var out []anchor
	if k.vmci == nil {
		return nil
	}
	for _, e := range k.vmci.Entries {
		name, ok := strings.CutPrefix(e.Key, "SYMBOL(")
		if !ok || !strings.HasSuffix(name, ")") {
			continue
		}
		name = strings.TrimSuffix(name, ")")
		if va, ok := k.vmci.Symbol(name); ok && name != "mem_section" {
			out = append(out, anchor{name, va})
		}
	}
	return out
}

// setupI386 finds the kernel's page directory, swapper_pg_dir, at its
// address minus PAGE_OFFSET (__pa, arch/x86/include/asm/page_32.h).
// PAGE_OFFSET is a build option not in VMCOREINFO, so each VMSPLIT value
// is tried and the one under which swapper_pg_dir maps itself wins.
func (k *Kernel) setupI386(mem physMem) (*space, error) {
	s := &space{mode: modeI386, pageSize: k.pageSize}
	v := k.vmci
	if v == nil {
		return k.spaceFromCR3(mem, s, "the dump has no VMCOREINFO")
	}
	if c, _ := v.Get("CONFIG_X86_PAE"); c == "y" {
		s.mode = modeI386PAE
	}
	sym, ok := v.Symbol("swapper_pg_dir")
	if !ok {
		return k.spaceFromCR3(mem, s, "VMCOREINFO has no SYMBOL(swapper_pg_dir)")
	}
	s.rootFrom = "SYMBOL(swapper_pg_dir) in VMCOREINFO"
	var fallback *uint64
	for _, po := range i386PageOffsets {
		if sym < po || sym-po >= k.maxPhys {
			continue
		}
		if fallback == nil {
			fallback = &po
		}
		s.root = sym - po
		var probes []uint64
		for _, a := range append([]anchor{{"swapper_pg_dir", sym}}, k.anchors()...) {
			if a.va >= po && a.va-po < k.maxPhys {
				probes = append(probes, a.va-po)
			}
		}
		if checkLinear(mem, s, po, probes) == linearAgrees {
			s.pageOffset = po
			s.pageOffsetFrom = fmt.Sprintf("%#x: VMCOREINFO's symbols map to themselves minus it", po)
			s.setLowmem(k.maxPhys)
			return s, nil
		}
	}
	if fallback == nil {
		return nil, &MissingError{File: k.name, What: "the kernel page tables",
			Err: fmt.Errorf("SYMBOL(swapper_pg_dir) = %#x lies in no direct map this dump's RAM allows: %w", sym, model.ErrNotFound)}
	}
	s.root, s.pageOffset = sym-*fallback, *fallback
	s.pageOffsetFrom = fmt.Sprintf("%#x, unchecked: no VMCOREINFO symbol's page tables are in the dump", *fallback)
	s.notes = append(s.notes, "PAGE_OFFSET could not be checked against the page tables")
	s.setLowmem(k.maxPhys)
	return s, nil
}

// setLowmem bounds the i386 direct map: RAM up to 4 GiB minus PAGE_OFFSET
// minus the vmalloc reserve.
func (s *space) setLowmem(maxPhys uint64) {
	s.directSize = maxPhys
	if lim := (1 << 32) - s.pageOffset - i386VmallocReserve; s.directSize > lim {
		s.directSize = lim
	}
}

// spaceFromCR3 roots the kernel space at the first CPU's cr3 when
// VMCOREINFO cannot (why says what is missing). The kernel half of every
// process's page tables is the same, so any CPU's tables translate kernel
// addresses.
func (k *Kernel) spaceFromCR3(mem physMem, s *space, why string) (*space, error) {
	for _, cpu := range k.cpuIndexes() {
		c, err := k.cpuSpace(mem, s, cpu)
		if err == nil {
			c.notes = append(c.notes, why+": using cr3 of CPU "+fmt.Sprint(cpu))
			return c, nil
		}
	}
	return nil, &MissingError{File: k.name, What: "the kernel page tables",
		Err:  fmt.Errorf("%s, and no CPU's registers include cr3: %w", why, model.ErrNotFound),
		Hint: "QEMU dumps record cr3 in their QEMU CPU-state notes; kdump dumps carry VMCOREINFO"}
}

// cpuSpace is base rooted at a CPU's cr3. The paging mode follows the same
// register set's cr4 (LA57 bit 12 on x86_64, PAE bit 5 on i386) when it
// has one.
func (k *Kernel) cpuSpace(mem physMem, base *space, cpu int) (*space, error) {
	cr3, set, ok := k.cpuReg(cpu, "cr3")
	if !ok {
		return nil, &MissingError{File: k.name, What: fmt.Sprintf("cr3 of CPU %d", cpu),
			Err:  fmt.Errorf("no register set of CPU %d holds cr3: %w", cpu, model.ErrNotFound),
			Hint: "prstatus notes carry no control registers; QEMU dumps add them in their QEMU CPU-state notes"}
	}
	s := *base
	s.notes = append([]string(nil), base.notes...)
	if cr4, ok := set.Get("cr4"); ok {
		switch {
		case k.arch == "x86_64" && cr4&(1<<12) != 0:
			s.mode = modeX8664L5
		case k.arch == "x86_64":
			s.mode = modeX8664L4
		case cr4&(1<<5) != 0:
			s.mode = modeI386PAE
		default:
			s.mode = modeI386
		}
	}
	s.root = cr3 & s.mode.rootMask &^ s.physMask
	s.rootFrom = fmt.Sprintf("cr3 of CPU %d (%s)", cpu, set.Source)
	if set.Source == model.SourceXenVCPUContext {
		s.notes = append(s.notes, "a Xen PV guest's cr3 and page-table entries hold machine frames; only HVM guests translate this way")
	}
	if s.pageOffset == 0 {
		if k.arch == "x86_64" {
			k.findPageOffsetNoVMCI(mem, &s)
		} else {
			s.pageOffset, s.pageOffsetFrom = i386PageOffsets[0], "CONFIG_PAGE_OFFSET default (3G/1G split), assumed"
			s.setLowmem(k.maxPhys)
		}
	}
	return &s, nil
}

// findPageOffsetNoVMCI finds the x86_64 direct map without VMCOREINFO: the
// default base if the tables confirm it, else the scan.
func (k *Kernel) findPageOffsetNoVMCI(mem physMem, s *space) {
	s.directSize = k.maxPhys
	cand := uint64(pageOffsetL4)
	if s.mode == modeX8664L5 {
		cand = pageOffsetL5
	}
	if tr, err := walk(mem, s.mode, s.root, cand+s.root, s.physMask); err == nil && uint64(tr.PhysAddr) == s.root {
		s.pageOffset, s.pageOffsetFrom = cand, "__PAGE_OFFSET_BASE (no KASLR), checked against the page tables"
		return
	}
	if va, ok := scanDirectMap(mem, s.mode, s.root, s.physMask); ok {
		s.pageOffset, s.pageOffsetFrom = va, "found by scanning the page tables for the mapping of physical 0"
		return
	}
	s.pageOffset, s.pageOffsetFrom = cand, "__PAGE_OFFSET_BASE (no KASLR), unchecked"
}

// shortcut is the arithmetic translation of va when it lies in the direct
// map or the kernel text map.
func (s *space) shortcut(va uint64) *model.VtopShortcut {
	if s.hasText && va >= startKernelMap && va-startKernelMap < s.textSize {
		return &model.VtopShortcut{Kind: MethodKernelText, PhysAddr: model.PhysAddr(va - startKernelMap + s.physBase)}
	}
	if s.pageOffset != 0 && va >= s.pageOffset && va-s.pageOffset < s.directSize {
		return &model.VtopShortcut{Kind: MethodDirectMap, PhysAddr: model.PhysAddr(va - s.pageOffset)}
	}
	return nil
}

// translate walks the page tables for va and compares the walk with the
// shortcut. When a page-table page is not in the dump and the address lies
// in a linear map, the shortcut answers, marked as unchecked.
func (s *space) translate(mem physMem, va uint64) (model.Translation, error) {
	tr, err := walk(mem, s.mode, s.root, va, s.physMask)
	tr.RootFrom = s.rootFrom
	sc := s.shortcut(va)
	tr.Shortcut = sc
	var te *TableError
	switch {
	case err == nil && sc != nil:
		agrees := sc.PhysAddr == tr.PhysAddr
		sc.Agrees = &agrees
		if !agrees {
			tr.Note = fmt.Sprintf("the %s gives %s but the page tables map %s; the page tables win", sc.Kind, sc.PhysAddr, tr.PhysAddr)
		}
	case errors.As(err, &te) && sc != nil:
		tr.Mapped, tr.PhysAddr, tr.PageSize, tr.Method = true, sc.PhysAddr, s.pageSize, sc.Kind
		tr.Note = fmt.Sprintf("the page-table walk stopped (%v); the %s gives the address, unchecked", err, sc.Kind)
		return tr, nil
	}
	return tr, err
}

// mapping returns the page that maps va, for reads: its virtual and
// physical start and its size. It takes translate's answer, without the
// record of the walk where the walk succeeds (the page tables win over a
// shortcut); where it fails, translate decides, and says why.
func (s *space) mapping(mem physMem, va uint64) (vaStart, paStart, size uint64, err error) {
	if pa, size, ok := resolve(mem, s.mode, s.root, va, s.physMask); ok {
		off := va & (size - 1)
		return va - off, pa - off, size, nil
	}
	tr, err := s.translate(mem, va)
	if err != nil {
		return 0, 0, 0, err
	}
	// A shortcut's answer is unchecked: trust it for one page only.
	size = s.pageSize
	if tr.Method == MethodWalk {
		size = tr.PageSize
	}
	off := va & (size - 1)
	return va - off, uint64(tr.PhysAddr) - off, size, nil
}

// scanBudget bounds the page-table reads of scanDirectMap. The direct
// map is the first region KASLR places (page_offset_base, then
// vmalloc_base, then vmemmap_base), so a real scan ends after a few reads.
const scanBudget = 256

// scanDirectMap finds the lowest kernel-half address, on a 1 GiB boundary
// at or above the unrandomized base, whose mapping is physical address 0:
// the start of the direct map. It descends only through present entries
// and reads at most scanBudget table pages.
func scanDirectMap(mem physMem, mode *pagingMode, root, physMask uint64) (uint64, bool) {
	if mode != modeX8664L4 && mode != modeX8664L5 {
		return 0, false
	}
	start := uint64(pageOffsetL4)
	if mode == modeX8664L5 {
		start = pageOffsetL5
	}
	budget := scanBudget
	table := make([]byte, 4096)
	var rec func(tbl uint64, li int, base uint64) (uint64, bool)
	rec = func(tbl uint64, li int, base uint64) (uint64, bool) {
		if budget--; budget < 0 || mem.readPhys(tbl, table) != nil {
			return 0, false
		}
		entries := make([]uint64, 512)
		for i := range entries {
			entries[i] = binary.LittleEndian.Uint64(table[i*8:])
		}
		lv := mode.levels[li]
		for idx, e := range entries {
			va := signExtend(base|uint64(idx)<<lv.shift, mode.vaBits)
			if va+(1<<lv.shift)-1 < start || e&pteP == 0 {
				continue
			}
			if lv.shift == 30 {
				if budget -= 3; budget >= 0 && mapsPhysZero(mem, mode, li, e, physMask) {
					return va, true
				}
				continue
			}
			if budget < 0 {
				return 0, false
			}
			if r, ok := rec(frameAddr(mode, e, physMask), li+1, va); ok {
				return r, true
			}
		}
		return 0, false
	}
	return rec(root, 0, 0)
}

// mapsPhysZero reports whether the present PDPT entry e maps physical 0
// at its first byte: a 1 GiB page at 0, or a first PD entry (2 MiB page or
// first PT entry) at 0.
func mapsPhysZero(mem physMem, mode *pagingMode, li int, e, physMask uint64) bool {
	for ; ; li++ {
		lv := mode.levels[li]
		if (lv.large && e&ptePS != 0) || li == len(mode.levels)-1 {
			return largeFrame(mode, lv, e, physMask) == 0
		}
		var b [8]byte
		if mem.readPhys(frameAddr(mode, e, physMask), b[:]) != nil {
			return false
		}
		if e = binary.LittleEndian.Uint64(b[:]); e&pteP == 0 {
			return false
		}
	}
}

// signExtend copies bit bits-1 of va into the bits above it.
func signExtend(va uint64, bits uint) uint64 {
	sh := 64 - bits
	return uint64(int64(va<<sh) >> sh)
}
