package dumptest

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// KexecX8664 describes an x86_64 ELF vmcore as the kernel's /proc/vmcore
// presents it after kexec (program headers right after the ELF header, one
// PT_LOAD per RAM range at its direct-map address, a VMCOREINFO note),
// holding just enough of a kernel for makedumpfile 1.7.2 to filter it with
// any dump level: a utsname, a page table for its address translation and
// a FLATMEM mem_map of zeroed struct pages. makedumpfile's side of each
// structure: makedumpfile.c check_release (init_uts_ns), get_mem_type and
// get_mm_flatmem (mem_map), arch/x86_64.c vtop4_x86_64 (init_top_pgt) and
// get_page_offset_x86_64 (PAGE_OFFSET from the PT_LOAD).
type KexecX8664 struct {
	// Pages is the number of frames (pfn 0 to Pages-1), at least
	// KexecFirstFree+1 plus the mem_map's frames.
	Pages int
	// Fill writes the contents of frame pfn into page; it is not called for
	// the frames the kernel structures occupy. Nil leaves every frame zero.
	Fill func(pfn uint64, page []byte)
	// Anon lists frames whose struct page says "anonymous user memory"
	// (PAGE_MAPPING_ANON in page.mapping), which dump level 8 excludes.
	Anon func(pfn uint64) bool
	// Release is OSRELEASE and utsname.release (default "6.1.0-test").
	Release string
}

// Frames the kernel structures of KexecX8664 occupy.
const (
	kexecUtsPFN    = 16 // struct new_utsname (init_uts_ns.name)
	kexecMemMapPFN = 17 // the mem_map pointer
	kexecPGDPFN    = 18 // init_top_pgt
	kexecPUDPFN    = 19 // one PUD mapping the first GiB with a 1 GiB page
	kexecArrayPFN  = 20 // struct page array, 64 bytes a frame
	kexecPageSize  = 4096
	kexecPageOff   = 0xffff888000000000 // x86_64 __PAGE_OFFSET (4-level)
	kexecKernelMap = 0xffffffff80000000 // __START_KERNEL_map
)

// KexecFirstFree returns the first frame after the kernel structures of a
// dump of n frames: Fill writes every frame below 16 and from here on.
func KexecFirstFree(n int) uint64 {
	return kexecArrayPFN + (uint64(n)*64+kexecPageSize-1)/kexecPageSize
}

// Bytes builds the ELF file.
func (k *KexecX8664) Bytes() []byte {
	le := binary.LittleEndian
	n := k.Pages
	first := KexecFirstFree(n)
	if uint64(n) <= first {
		panic(fmt.Sprintf("dumptest: KexecX8664 needs more than %d frames", first))
	}
	rel := k.Release
	if rel == "" {
		rel = "6.1.0-test"
	}
	mem := make([]byte, n*kexecPageSize)
	for pfn := uint64(0); pfn < uint64(n); pfn++ {
		if (pfn < kexecUtsPFN || pfn >= first) && k.Fill != nil {
			k.Fill(pfn, mem[pfn*kexecPageSize:(pfn+1)*kexecPageSize])
		}
	}
	at := func(pfn uint64) []byte { return mem[pfn*kexecPageSize:] }
	for i, s := range []string{"Linux", "kexec-test", rel, "#1 SMP", "x86_64", "(none)"} {
		copy(at(kexecUtsPFN)[65*i:], s) // __NEW_UTS_LEN + 1
	}
	le.PutUint64(at(kexecMemMapPFN), kexecPageOff+kexecArrayPFN*kexecPageSize)
	// PGD entry for the direct map -> the PUD; PUD[0] maps 1 GiB at 0
	// (present, rw, accessed, dirty; PSE for the large page).
	pgdIndex := (uint64(kexecPageOff) >> 39) & 511
	le.PutUint64(at(kexecPGDPFN)[8*pgdIndex:], kexecPUDPFN*kexecPageSize|0x63)
	le.PutUint64(at(kexecPUDPFN), 0xe3)
	for pfn := uint64(0); pfn < uint64(n); pfn++ {
		if k.Anon != nil && k.Anon(pfn) {
			page := at(kexecArrayPFN)[pfn*64:]
			le.PutUint64(page[24:], kexecPageOff+0x1000|1) // page.mapping: an anon_vma | PAGE_MAPPING_ANON
			le.PutUint32(page[52:], 1)                     // page._refcount
		}
	}
	vmci := fmt.Sprintf("OSRELEASE=%s\nPAGESIZE=%d\n"+
		"SYMBOL(init_uts_ns)=%x\nOFFSET(uts_namespace.name)=0\n"+
		"SYMBOL(mem_map)=%x\nSYMBOL(init_top_pgt)=%x\n"+
		"SIZE(page)=64\nOFFSET(page.flags)=0\nOFFSET(page._refcount)=52\nOFFSET(page.mapping)=24\n"+
		"OFFSET(page.lru)=8\nOFFSET(page._mapcount)=48\nOFFSET(page.private)=40\n"+
		"NUMBER(PG_lru)=4\nNUMBER(PG_private)=13\nNUMBER(PG_swapcache)=10\nNUMBER(PG_swapbacked)=19\n"+
		"NUMBER(PG_slab)=9\nNUMBER(PG_head_mask)=65536\nNUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\n"+
		"NUMBER(phys_base)=0\nNUMBER(pgtable_l5_enabled)=0\nKERNELOFFSET=0\nCRASHTIME=1700000000\n",
		rel, kexecPageSize,
		uint64(kexecPageOff+kexecUtsPFN*kexecPageSize),
		uint64(kexecPageOff+kexecMemMapPFN*kexecPageSize),
		uint64(kexecKernelMap+kexecPGDPFN*kexecPageSize))
	regs := make([]uint64, 27)
	regs[16] = kexecKernelMap + 0x1000 // rip
	core := &ELFCore{
		Class: elf.ELFCLASS64, Order: le, Machine: elf.EM_X86_64,
		Notes: []ELFNote{
			{Name: "CORE", Type: 1, Desc: PrstatusX8664(le, 1, regs)},
			{Name: "VMCOREINFO", Desc: []byte(vmci)},
		},
		Segments: []ELFSegment{{Paddr: 0, Vaddr: kexecPageOff, Data: mem}},
	}
	b, _ := core.Bytes()
	return b
}
