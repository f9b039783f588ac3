package kernel

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"dumpscope/model"
)

// le is the byte order of both supported architectures. The tests name it
// so; the package spells binary.LittleEndian out, as a package variable
// would give it an init function, which every process runs.
var le = binary.LittleEndian

// pageMem is a sparse guest physical memory for tests and fuzzing: pages
// never written are "not in the dump".
type pageMem struct {
	pages map[uint64][]byte // pfn → 4096 bytes
}

func newPageMem() *pageMem { return &pageMem{pages: map[uint64][]byte{}} }

func (m *pageMem) readPhys(addr uint64, p []byte) error {
	for len(p) > 0 {
		pg, ok := m.pages[addr/4096]
		if !ok {
			return model.AbsentError("", model.PageInfo{PFN: model.PFN(addr / 4096), State: model.StateNotInDump, Reason: "not in the test memory"})
		}
		n := copy(p, pg[addr%4096:])
		p, addr = p[n:], addr+uint64(n)
	}
	return nil
}

// write stores b at addr, creating pages as needed.
func (m *pageMem) write(addr uint64, b []byte) {
	for len(b) > 0 {
		pg, ok := m.pages[addr/4096]
		if !ok {
			pg = make([]byte, 4096)
			m.pages[addr/4096] = pg
		}
		n := copy(pg[addr%4096:], b)
		b, addr = b[n:], addr+uint64(n)
	}
}

func (m *pageMem) put64(addr, v uint64) {
	var b [8]byte
	le.PutUint64(b[:], v)
	m.write(addr, b[:])
}

func (m *pageMem) put32(addr uint64, v uint32) {
	var b [4]byte
	le.PutUint32(b[:], v)
	m.write(addr, b[:])
}

func (m *pageMem) put16(addr uint64, v uint16) {
	m.write(addr, []byte{byte(v), byte(v >> 8)})
}

// testKernel is a Kernel over a synthetic memory.
func testKernel(arch, vmcoreinfo string, mem physMem, maxPhys uint64, regs ...model.RegisterSet) *Kernel {
	k := &Kernel{name: "test.vmcore", arch: arch, format: model.FormatELF, pageSize: 4096, maxPhys: maxPhys, mem: mem, regs: regs}
	if vmcoreinfo != "" {
		k.vmci = model.ParseVMCoreInfo([]byte(vmcoreinfo))
	}
	return k
}

// ptBuilder writes page tables of one mode into a pageMem, taking table
// pages from next upwards.
type ptBuilder struct {
	mem  *pageMem
	mode *pagingMode
	root uint64
	next uint64
}

func newPTBuilder(mem *pageMem, mode *pagingMode, tablesAt uint64) *ptBuilder {
	b := &ptBuilder{mem: mem, mode: mode, next: tablesAt}
	b.root = b.alloc()
	return b
}

func (b *ptBuilder) alloc() uint64 {
	a := b.next
	b.next += 4096
	b.mem.write(a, make([]byte, 4096))
	return a
}

func (b *ptBuilder) entry(addr uint64) uint64 {
	var buf [8]byte
	if err := b.mem.readPhys(addr, buf[:b.mode.entrySize]); err != nil {
		panic(err)
	}
	if b.mode.entrySize == 4 {
		return uint64(le.Uint32(buf[:]))
	}
	return le.Uint64(buf[:])
}

func (b *ptBuilder) setEntry(addr, v uint64) {
	if b.mode.entrySize == 4 {
		b.mem.put32(addr, uint32(v))
		return
	}
	b.mem.put64(addr, v)
}

// mapPage maps va to pa with a page of size bytes (4 KiB or a large size
// of the mode) and extra flags; tables on the way are created writable.
// For a 4 MiB i386 page, pa's bits above 31 go to PSE-36's bits 20:13.
func (b *ptBuilder) mapPage(va, pa, size, flags uint64) {
	table := b.root
	for i, lv := range b.mode.levels {
		idx := (va >> lv.shift) & (1<<lv.bits - 1)
		ea := table + idx*uint64(b.mode.entrySize)
		if uint64(1)<<lv.shift == size {
			e := pa | flags | pteP
			if i < len(b.mode.levels)-1 {
				e |= ptePS
			}
			if b.mode.entrySize == 4 && size == 4<<20 {
				e = pa&0xffc00000 | (pa>>32&0xff)<<13 | flags | pteP | ptePS
			}
			b.setEntry(ea, e)
			return
		}
		e := b.entry(ea)
		if lv.large && e&ptePS != 0 {
			panic(fmt.Sprintf("%#x: a large page of %s is in the way", va, lv.name))
		}
		if e&pteP == 0 {
			next := b.alloc()
			e = next | pteP
			if !(b.mode == modeI386PAE && i == 0) {
				e |= pteRW
			}
			b.setEntry(ea, e)
		}
		table = frameAddr(b.mode, e, 0)
	}
	panic(fmt.Sprintf("size %#x is no page size of %s (%d levels, %d bits)", size, b.mode.name, len(b.mode.levels), bits.Len64(size)))
}
