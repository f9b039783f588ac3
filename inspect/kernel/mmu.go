package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"

	"dumpscope/model"
)

// This file walks x86 page tables. The formats are the Intel SDM's (vol.
// 3A, §4.3 32-bit paging, §4.4 PAE paging, §4.5 4- and 5-level paging) as
// the kernel spells them in arch/x86/include/asm/pgtable_types.h
// (_PAGE_BIT_PRESENT … _PAGE_BIT_NX) and pgtable_{32,64}_types.h (shifts
// and table sizes).

// level is one level of a page-table hierarchy.
type level struct {
	name  string // Intel's name of the table: pml5, pml4, pdpt, pd, pt
	shift uint   // lowest virtual-address bit the level translates
	bits  uint   // width of the index
	// large is true when an entry with the PS bit maps a page of 1<<shift
	// bytes instead of pointing to a table.
	large bool
}

// pagingMode is one x86 paging mode.
type pagingMode struct {
	name      string
	levels    []level
	entrySize int // 8, or 4 for 32-bit paging
	// vaBits is the width of a virtual address: 48 or 57 (higher bits must
	// copy the top one, "canonical"), or 32.
	vaBits uint
	// rootMask selects the table address in cr3.
	rootMask uint64
}

var (
	// x86_64 with 4-level paging: PGD=PML4 (bits 47:39), PUD=PDPT
	// (38:30, 1 GiB pages), PMD=PD (29:21, 2 MiB pages), PTE=PT (20:12).
	modeX8664L4 = &pagingMode{"x86_64 4-level", []level{
		{"pml4", 39, 9, false}, {"pdpt", 30, 9, true}, {"pd", 21, 9, true}, {"pt", 12, 9, false},
	}, 8, 48, 0x000ffffffffff000}
	// x86_64 with 5-level paging (CONFIG_X86_5LEVEL and LA57): a PML5 above
	// (bits 56:48).
	modeX8664L5 = &pagingMode{"x86_64 5-level", []level{
		{"pml5", 48, 9, false}, {"pml4", 39, 9, false}, {"pdpt", 30, 9, true}, {"pd", 21, 9, true}, {"pt", 12, 9, false},
	}, 8, 57, 0x000ffffffffff000}
	// i386 without PAE: a page directory of 1024 4-byte entries (bits
	// 31:22, 4 MiB pages with PSE) and page tables (21:12).
	modeI386 = &pagingMode{"i386 2-level", []level{
		{"pd", 22, 10, true}, {"pt", 12, 10, false},
	}, 4, 32, 0xfffff000}
	// i386 with PAE (CONFIG_X86_PAE): 8-byte entries, a 4-entry PDPT
	// (bits 31:30) that cr3 points to (32-byte aligned), page directories
	// (29:21, 2 MiB pages) and page tables.
	modeI386PAE = &pagingMode{"i386 PAE", []level{
		{"pdpt", 30, 2, false}, {"pd", 21, 9, true}, {"pt", 12, 9, false},
	}, 8, 32, 0xffffffe0}
)

// Entry bits (pgtable_types.h _PAGE_BIT_*).
const (
	pteP   = 1 << 0  // present
	pteRW  = 1 << 1  // writable
	pteUS  = 1 << 2  // user accessible
	ptePWT = 1 << 3  // write-through
	ptePCD = 1 << 4  // cache disabled
	pteA   = 1 << 5  // accessed
	pteD   = 1 << 6  // dirty
	ptePS  = 1 << 7  // page size: a large page (PAT in a PT entry)
	pteG   = 1 << 8  // global
	pteNX  = 1 << 63 // no execute (64-bit entries)
	// addr64 selects the frame address of a 64-bit entry (bits 51:12).
	addr64 = 0x000ffffffffff000
)

var flagNames = []struct {
	bit  uint64
	name string
}{
	{pteP, "present"}, {pteRW, "rw"}, {pteUS, "user"}, {ptePWT, "pwt"}, {ptePCD, "pcd"},
	{pteA, "accessed"}, {pteD, "dirty"}, {ptePS, "large"}, {pteG, "global"}, {pteNX, "nx"},
}

// entryFlags names the set bits of an entry. Bit 7 is "large" only where
// the level allows large pages (in a PT entry it selects a PAT type), and a
// PAE PDPT entry has only present, pwt and pcd.
func entryFlags(lv level, last bool, pdpte bool, e uint64) []string {
	out := []string{}
	for _, f := range flagNames {
		if e&f.bit == 0 {
			continue
		}
		switch {
		case f.bit == ptePS && !lv.large && last:
			out = append(out, "pat")
			continue
		case f.bit == ptePS && !lv.large:
			continue
		case pdpte && f.bit != pteP && f.bit != ptePWT && f.bit != ptePCD:
			continue
		}
		out = append(out, f.name)
	}
	return out
}

// NotMappedError says that the page tables do not map an address.
type NotMappedError struct {
	VirtAddr uint64
	// Level and Index name the entry that is not present; Level is empty
	// for an address the mode cannot express (not canonical).
	Level string
	Index int
	Entry uint64
}

func (e *NotMappedError) Error() string {
	if e.Level == "" {
		return fmt.Sprintf("%#x is not a canonical address of this paging mode", e.VirtAddr)
	}
	return fmt.Sprintf("%#x is not mapped: %s[%d] = %#x is not present", e.VirtAddr, e.Level, e.Index, e.Entry)
}

func (e *NotMappedError) Unwrap() error { return model.ErrNotFound }

// TableError says that a page-table entry could not be read.
type TableError struct {
	Level     string
	EntryAddr uint64
	Err       error
}

func (e *TableError) Error() string {
	return fmt.Sprintf("cannot read %s entry at physical %#x: %v", e.Level, e.EntryAddr, e.Err)
}

func (e *TableError) Unwrap() error { return e.Err }

// walk translates va through the tables rooted at root. physMask clears
// bits of entries that are not address bits (AMD SME's encryption bit,
// NUMBER(sme_mask)). It returns the translation so far even on error, so a
// failed walk still shows where it stopped. A walk reads at most one entry
// per level.
func walk(mem physMem, mode *pagingMode, root, va, physMask uint64) (model.Translation, error) {
	tr := model.Translation{VirtAddr: model.VirtAddr(va), Paging: mode.name, Root: model.PhysAddr(root), Steps: []model.VtopStep{}}
	if !canonical(mode, va) {
		return tr, &NotMappedError{VirtAddr: va}
	}
	table := root
	for i, lv := range mode.levels {
		last := i == len(mode.levels)-1
		idx, ea, e, err := readEntry(mem, mode, lv, table, va)
		if err != nil {
			return tr, err
		}
		pdpte := mode == modeI386PAE && i == 0
		step := model.VtopStep{Level: lv.name, Index: int(idx), EntryAddr: model.PhysAddr(ea), Entry: model.Hex(e),
			Flags: entryFlags(lv, last, pdpte, e)}
		if e&pteP == 0 {
			tr.Steps = append(tr.Steps, step)
			return tr, &NotMappedError{VirtAddr: va, Level: lv.name, Index: int(idx), Entry: e}
		}
		next, large := nextFrame(mode, lv, e, physMask)
		step.Large = large
		p := model.PhysAddr(next)
		step.Next = &p
		tr.Steps = append(tr.Steps, step)
		if large || last {
			size := uint64(1) << lv.shift
			tr.Mapped = true
			tr.PageSize = size
			tr.PhysAddr = model.PhysAddr(next | va&(size-1))
			tr.Method = MethodWalk
			return tr, nil
		}
		table = next
	}
	return tr, errors.New("page-table walk fell through") // unreachable: the last level returns
}

// readEntry reads the entry of level lv that maps va in the table at
// table: its index, physical address and value.
func readEntry(mem physMem, mode *pagingMode, lv level, table, va uint64) (idx, ea, e uint64, err error) {
	var buf [8]byte
	idx = (va >> lv.shift) & (1<<lv.bits - 1)
	ea = table + idx*uint64(mode.entrySize)
	if err := mem.readPhys(ea, buf[:mode.entrySize]); err != nil {
		return idx, ea, 0, &TableError{Level: lv.name, EntryAddr: ea, Err: err}
	}
	e = binary.LittleEndian.Uint64(buf[:])
	if mode.entrySize == 4 {
		e = uint64(binary.LittleEndian.Uint32(buf[:4]))
	}
	return idx, ea, e, nil
}

// nextFrame is where the present entry e of level lv leads: the next
// table, or the large page it maps (large).
func nextFrame(mode *pagingMode, lv level, e, physMask uint64) (next uint64, large bool) {
	if lv.large && e&ptePS != 0 {
		return largeFrame(mode, lv, e, physMask), true
	}
	return frameAddr(mode, e, physMask), false
}

// resolve is walk without the record of the steps, for reads: the
// physical address of va and the size of the page that maps it. ok is
// false wherever walk would fail; walk then says why.
func resolve(mem physMem, mode *pagingMode, root, va, physMask uint64) (phys, size uint64, ok bool) {
	if !canonical(mode, va) {
		return 0, 0, false
	}
	table := root
	for i, lv := range mode.levels {
		_, _, e, err := readEntry(mem, mode, lv, table, va)
		if err != nil || e&pteP == 0 {
			return 0, 0, false
		}
		next, large := nextFrame(mode, lv, e, physMask)
		if large || i == len(mode.levels)-1 {
			size = uint64(1) << lv.shift
			return next | va&(size-1), size, true
		}
		table = next
	}
	return 0, 0, false
}

// canonical reports whether va is expressible in the mode: for x86_64 the
// bits above vaBits-1 copy bit vaBits-1; for i386 va fits 32 bits.
func canonical(mode *pagingMode, va uint64) bool {
	if mode.vaBits == 32 {
		return va>>32 == 0
	}
	top := int64(va) >> (mode.vaBits - 1)
	return top == 0 || top == -1
}

// frameAddr is the table or page address an entry points to.
func frameAddr(mode *pagingMode, e, physMask uint64) uint64 {
	if mode.entrySize == 4 {
		return e & 0xfffff000
	}
	return e & addr64 &^ physMask
}

// largeFrame is the address of the large page an entry maps. In a 64-bit
// entry bit 12 is PAT and the low address bits are zero; a 4 MiB entry of
// 32-bit paging carries physical address bits 39:32 in bits 20:13 (PSE-36).
func largeFrame(mode *pagingMode, lv level, e, physMask uint64) uint64 {
	if mode.entrySize == 4 {
		return e&0xffc00000 | (e>>13&0xff)<<32
	}
	return e & addr64 &^ physMask &^ (1<<lv.shift - 1)
}

// Translation methods.
const (
	MethodWalk       = "page-table walk"
	MethodDirectMap  = "direct map"
	MethodKernelText = "kernel text map"
)
