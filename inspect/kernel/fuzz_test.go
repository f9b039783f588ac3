package kernel

import (
	"fmt"
	"testing"

	"dumpscope/model"
)

// The fuzz targets feed hostile memory to every decoder that follows
// pointers, lengths and indexes found in memory: the page-table walker
// (with the address-space setup and the direct-map scan), the printk ring
// buffer, the structured log_buf and kallsyms. Memory is one blob at a
// fixed address; everything outside it is "not in the dump". Each must
// return an error or a result, never hang, panic or allocate without
// bound.

// blobMem places blob at base in an otherwise empty memory.
func blobMem(base uint64, blob []byte) *pageMem {
	m := newPageMem()
	m.write(base, blob)
	return m
}

// snapshot returns n bytes of m from addr (absent pages as zeros).
func (m *pageMem) snapshot(addr, n uint64) []byte {
	out := make([]byte, n)
	for i := uint64(0); i < n; i++ {
		if pg, ok := m.pages[(addr+i)/4096]; ok {
			out[i] = pg[(addr+i)%4096]
		}
	}
	return out
}

var fuzzModes = []*pagingMode{modeX8664L4, modeX8664L5, modeI386, modeI386PAE}

// maxFuzzBlob bounds the memory a fuzz input describes (16 pages), which
// keeps executions and the minimisation of large inputs fast.
const maxFuzzBlob = 16 << 12

func FuzzWalk(f *testing.F) {
	for i, mode := range fuzzModes {
		mem := newPageMem()
		b := newPTBuilder(mem, mode, 0)
		va := uint64(0xffffffff80200000)
		if mode.vaBits == 32 {
			va = 0xc0200000
		}
		b.mapPage(va, 0x5000, 4<<10, pteRW)
		b.mapPage(va+0x400000, 0x400000, uint64(1)<<mode.levels[len(mode.levels)-2].shift, pteRW)
		f.Add(byte(i), b.root, va+0x123, mem.snapshot(0, b.next))
	}
	f.Fuzz(func(t *testing.T, sel byte, root, va uint64, blob []byte) {
		if len(blob) > maxFuzzBlob {
			return
		}
		mem := blobMem(0, blob)
		mode := fuzzModes[int(sel)%len(fuzzModes)]
		tr, err := walk(mem, mode, root, va, 0)
		if err == nil && (!tr.Mapped || len(tr.Steps) == 0) {
			t.Fatalf("walk succeeded without a mapping: %+v", tr)
		}
		if len(tr.Steps) > len(mode.levels) {
			t.Fatalf("%d steps in a %d-level mode", len(tr.Steps), len(mode.levels))
		}
		// resolve, the walk of reads, answers exactly where walk does.
		if pa, size, ok := resolve(mem, mode, root, va, 0); ok != (err == nil) || ok && (pa != uint64(tr.PhysAddr) || size != tr.PageSize) {
			t.Fatalf("resolve gives %#x (page %#x) ok %v, walk %#x (page %#x) err %v", pa, size, ok, tr.PhysAddr, tr.PageSize, err)
		}
		scanDirectMap(mem, mode, root, 0)
		// The address-space setup over the same memory: the root symbol
		// where the seeds put their tables.
		arch, vmci := "x86_64", fmt.Sprintf("SYMBOL(init_top_pgt)=%x\nNUMBER(phys_base)=%d\n", uint64(startKernelMap)+root, int64(sel)<<12)
		if mode.vaBits == 32 {
			arch, vmci = "i386", fmt.Sprintf("SYMBOL(swapper_pg_dir)=%x\n", 0xc0000000+root&0x3fffffff)
			if mode == modeI386PAE {
				vmci += "CONFIG_X86_PAE=y\n"
			}
		} else if mode == modeX8664L5 {
			vmci += "NUMBER(pgtable_l5_enabled)=1\n"
		}
		k := testKernel(arch, vmci, mem, uint64(len(blob))+1<<20)
		if _, err := k.Space(bg); err == nil {
			k.Translate(bg, model.VirtAddr(va))
			k.DirectMapAddr(bg, model.PhysAddr(va&0xffffff))
			k.ReadVirt(bg, model.VirtAddr(va), make([]byte, 64))
		}
	})
}

// prbSeed writes a ring buffer into a blob at base, with the prb variable
// at base itself.
func prbSeed(t testing.TB, base uint64, arch, vmci string, ptr uint64) []byte {
	mem := newPageMem()
	l := layoutOf(t, arch, vmci)
	l.prb = base
	mask := uint64(1)<<(8*ptr) - 1
	w := &prbWriter{mem: mem, l: l, ptr: ptr, countBits: 3, sizeBits: 8,
		rb: base + 0x40, descs: base + 0x100, infos: base + 0x200, data: base + 0x600,
		firstID: mask>>2 - 1, lpos: 1<<8 - 2*ptr, longMask: mask}
	w.write(testRecords()[:6])
	return mem.snapshot(base, 0x700)
}

func FuzzPRB(f *testing.F) {
	const base = 0x100000
	f.Add(false, prbSeed(f, base, "x86_64", prbInfo64, 8))
	f.Add(true, prbSeed(f, base, "i386", prbInfo32, 4))
	l64, l32 := layoutOf(f, "x86_64", prbInfo64), layoutOf(f, "i386", prbInfo32)
	l64.prb, l32.prb = base, base
	f.Fuzz(func(t *testing.T, is32 bool, blob []byte) {
		if len(blob) > maxFuzzBlob {
			return
		}
		l := l64
		if is32 {
			l = l32
		}
		recs, _ := readPRB(blobMem(base, blob).readPhys, l)
		if len(recs) > len(blob) {
			t.Fatalf("%d records from %d bytes", len(recs), len(blob))
		}
	})
}

func FuzzLogBuf(f *testing.F) {
	mem := newPageMem()
	k := testKernel("x86_64", logBufInfo, mem, 0)
	l, err := k.logBufLayout()
	if err != nil {
		f.Fatal(err)
	}
	// The variables and the buffer in one blob at log_buf.
	base := l.logBuf
	mem.put64(base, base+0x100)
	mem.put32(l.logBufLen, 256)
	mem.put32(l.firstIdx, 0)
	mem.put32(l.nextIdx, 48)
	mem.put16(base+0x100+8, 48)
	mem.put16(base+0x100+10, 11)
	mem.write(base+0x100+24, []byte("hello world"))
	f.Add(mem.snapshot(base, 0x200))
	f.Fuzz(func(t *testing.T, blob []byte) {
		if len(blob) > maxFuzzBlob {
			return
		}
		recs, _ := readLogBuf(blobMem(base, blob).readPhys, l)
		if len(recs) > len(blob) {
			t.Fatalf("%d records from %d bytes", len(recs), len(blob))
		}
	})
}

// fuzzKallsymsAddrs places the tables in a blob at 0x200000: the count
// and base first, then the token index, token table, names and offsets.
func fuzzKallsymsAddrs(ptrSize int, absolute bool) kallsymsAddrs {
	const base = 0x200000
	a := kallsymsAddrs{numSyms: base, tokenIndex: base + 0x10, tokenTable: base + 0x400, names: base + 0x1000, ptrSize: ptrSize}
	if absolute {
		a.addresses = base + 0x3000
	} else {
		a.offsets, a.relativeBase = base+0x3000, base+0x8
	}
	return a
}

func FuzzKallsyms(f *testing.F) {
	for _, c := range []struct {
		mode    string
		ptrSize int
		base    uint64
	}{{"absolute-percpu", 8, 0xffffffff81000000}, {"relative", 4, 0xc1000000}, {"absolute", 4, 0xc1000000}, {"place-relative", 4, 0x200000}} {
		mem := newPageMem()
		a := fuzzKallsymsAddrs(c.ptrSize, c.mode == "absolute")
		syms := testSymbols(c.base)
		if c.mode != "absolute-percpu" {
			syms = syms[2:]
		}
		(&kallsymsWriter{mem: mem, a: a, mode: c.mode, base: c.base}).write(syms)
		f.Add(byte(c.ptrSize), c.mode == "absolute", mem.snapshot(a.numSyms, 0x3100))
	}
	f.Fuzz(func(t *testing.T, ptrSize byte, absolute bool, blob []byte) {
		if len(blob) > maxFuzzBlob {
			return
		}
		ps := 8
		if ptrSize == 4 {
			ps = 4
		}
		a := fuzzKallsymsAddrs(ps, absolute)
		s, err := decodeKallsyms(blobMem(a.numSyms, blob).readPhys, a, map[string]uint64{"_stext": 0xffffffff81000000})
		if err != nil {
			return
		}
		if s.Len() > len(blob) {
			t.Fatalf("%d symbols from %d bytes", s.Len(), len(blob))
		}
		for _, sym := range s.All()[:min(s.Len(), 8)] {
			s.Addr(uint64(sym.Addr) + 1)
			s.Lookup(sym.Name)
		}
	})
}

// TestFuzzSeeds checks that the seeds are valid inputs, so the fuzzers
// start from memory the decoders accept.
func TestFuzzSeeds(t *testing.T) {
	const base = 0x100000
	for _, c := range []struct {
		arch, vmci string
		ptr        uint64
	}{{"x86_64", prbInfo64, 8}, {"i386", prbInfo32, 4}} {
		l := layoutOf(t, c.arch, c.vmci)
		l.prb = base
		recs, err := readPRB(blobMem(base, prbSeed(t, base, c.arch, c.vmci, c.ptr)).readPhys, l)
		if err != nil || len(recs) != 4 {
			t.Errorf("%s ring seed: %d records, %v", c.arch, len(recs), err)
		}
	}
	for _, abs := range []bool{false, true} {
		a := fuzzKallsymsAddrs(4, abs)
		mode := "relative"
		if abs {
			mode = "absolute"
		}
		mem := newPageMem()
		(&kallsymsWriter{mem: mem, a: a, mode: mode, base: 0xc1000000}).write(testSymbols(0xc1000000)[2:])
		s, err := decodeKallsyms(blobMem(a.numSyms, mem.snapshot(a.numSyms, 0x3100)).readPhys, a, nil)
		if err != nil || s.Len() != 11 {
			t.Errorf("kallsyms seed (%s): %v", mode, err)
		}
	}
}
