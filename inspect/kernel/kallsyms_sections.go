package kernel

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	"dumpscope/model"
)

// kallsyms has no sizes: a symbol ends where the next one starts
// (kernel/kallsyms.c get_symbol_pos), or where its section ends. The
// sections are bounded by symbols the linker scripts define
// (include/asm-generic/sections.h, include/asm-generic/vmlinux.lds.h);
// between them lie alignment gaps and tables that no symbol of the
// sections covers. A kernel built without CONFIG_KALLSYMS_ALL keeps only
// the symbols of [_stext, _etext] and [_sinittext, _einittext]
// (scripts/kallsyms.c symbol_valid), and the kernel then names only
// addresses inside them (is_ksym_addr): data addresses stay unnamed, as
// they must, rather than becoming _etext plus a few megabytes.

// sectionBounds are the start and end symbols of the image's sections.
var sectionBounds = [][2]string{
	{"_stext", "_etext"},
	{"_sinittext", "_einittext"},
	{"__start_rodata", "__end_rodata"},
	{"_sdata", "_edata"},
	{"__bss_start", "__bss_stop"},
	{"__init_begin", "__init_end"},
}

// textBounds are the ranges scripts/kallsyms.c keeps without
// --all-symbols.
var textBounds = [][2]string{{"_stext", "_etext"}, {"_sinittext", "_einittext"}}

// imageEnd ends the image (is_kernel: [_stext, _end]).
const imageEnd = "_end"

// bounds returns the [start, end) ranges of pairs that kallsyms has.
func (s *Symbols) bounds(pairs [][2]string) [][2]uint64 {
	var out [][2]uint64
	for _, p := range pairs {
		a, b := s.Lookup(p[0]), s.Lookup(p[1])
		if len(a) > 0 && len(b) > 0 && a[0].Addr < b[0].Addr {
			out = append(out, [2]uint64{uint64(a[0].Addr), uint64(b[0].Addr)})
		}
	}
	return out
}

// innermost returns the smallest range that holds va.
func innermost(rs [][2]uint64, va uint64) ([2]uint64, bool) {
	var best [2]uint64
	ok := false
	for _, r := range rs {
		if va >= r[0] && va < r[1] && (!ok || r[1]-r[0] < best[1]-best[0]) {
			best, ok = r, true
		}
	}
	return best, ok
}

// index sorts the address-bearing symbols and sets sizes and bounds.
func (s *Symbols) index(percpu []bool) {
	s.byAddr = make([]int, 0, len(s.syms))
	for i := range s.syms {
		if !percpu[i] {
			s.byAddr = append(s.byAddr, i)
		}
	}
	slices.SortStableFunc(s.byAddr, func(a, b int) int { return cmp.Compare(s.syms[a].Addr, s.syms[b].Addr) })
	if len(s.byAddr) == 0 {
		return
	}
	// Like the kernel's is_kernel(), _end itself still belongs to the
	// image.
	s.lo = uint64(s.syms[s.byAddr[0]].Addr)
	s.hi = uint64(s.syms[s.byAddr[len(s.byAddr)-1]].Addr) + 1
	s.text = s.bounds(textBounds)
	s.all = len(s.text) == 0
	for _, i := range s.byAddr {
		va := uint64(s.syms[i].Addr)
		in := false
		for _, r := range s.text {
			in = in || va >= r[0] && va <= r[1] // symbol_in_range includes the end
		}
		if !in {
			s.all = true
			break
		}
	}
	sections := s.bounds(sectionBounds)
	ends := map[uint64]bool{}
	for _, r := range sections {
		ends[r[1]] = true
	}
	if e := s.Lookup(imageEnd); len(e) > 0 {
		ends[uint64(e[0].Addr)] = true
	}
	// Walk down from the top so each symbol's next higher address is at
	// hand, aliases included, in one pass.
	next, haveNext := uint64(0), false
	for j := len(s.byAddr) - 1; j >= 0; j-- {
		sym := &s.syms[s.byAddr[j]]
		va := uint64(sym.Addr)
		if j+1 < len(s.byAddr) && s.syms[s.byAddr[j+1]].Addr > sym.Addr {
			next, haveNext = uint64(s.syms[s.byAddr[j+1]].Addr), true
		}
		end := va
		switch sec, in := innermost(sections, va); {
		case ends[va]:
			// A section's end marker (_etext, _einittext, _edata, _end)
			// covers nothing: what follows it is another section or a gap.
		case in:
			end = sec[1]
			if haveNext && next < end {
				end = next
			}
		case !s.all:
			// Outside the text of a kernel that keeps text symbols only.
		case haveNext:
			end = next
		}
		sym.Size = end - va
	}
}

// Addr resolves an address to the symbol that contains it. Among symbols
// at one address it picks the first in kallsyms order whose size covers
// the address, as the kernel's get_symbol_pos picks the first. Addresses
// outside the kernel image (below its lowest symbol or beyond its
// highest, _end), in the gaps between its sections, and, for a kernel
// without CONFIG_KALLSYMS_ALL, outside its text have no symbol; module
// symbols are not in the core kallsyms tables (see Kernel.Symbolize).
func (s *Symbols) Addr(addr uint64) (model.SymbolRef, bool) {
	if addr < s.lo || addr >= s.hi || len(s.byAddr) == 0 {
		return model.SymbolRef{}, false
	}
	if !s.all && !inRanges(s.text, addr) {
		return model.SymbolRef{}, false
	}
	j := sort.Search(len(s.byAddr), func(j int) bool { return uint64(s.syms[s.byAddr[j]].Addr) > addr }) - 1
	if j < 0 {
		return model.SymbolRef{}, false
	}
	at := s.syms[s.byAddr[j]].Addr
	for j > 0 && s.syms[s.byAddr[j-1]].Addr == at {
		j--
	}
	for ; j < len(s.byAddr) && s.syms[s.byAddr[j]].Addr == at; j++ {
		sym := s.syms[s.byAddr[j]]
		if off := addr - uint64(sym.Addr); off == 0 || off < sym.Size {
			return model.SymbolRef{Addr: model.VirtAddr(addr), Symbol: sym, Offset: off}, true
		}
	}
	return model.SymbolRef{}, false
}

// AllSymbols reports whether kallsyms holds data symbols too (the kernel
// was built with CONFIG_KALLSYMS_ALL): init_task, __start_BTF, modules
// and the ORC tables are then named.
func (s *Symbols) AllSymbols() bool { return s.all }

// AddrErr is Addr with an error for addresses no symbol covers.
func (s *Symbols) AddrErr(addr uint64) (model.SymbolRef, error) {
	if r, ok := s.Addr(addr); ok {
		return r, nil
	}
	if addr >= s.lo && addr < s.hi {
		what := "between the image's sections, where no symbol lies"
		if !s.all {
			what = "outside the kernel's text, and kallsyms holds text symbols only (no CONFIG_KALLSYMS_ALL)"
		}
		return model.SymbolRef{}, fmt.Errorf("%#x lies %s: %w", addr, what, model.ErrNotFound)
	}
	return model.SymbolRef{}, fmt.Errorf("%#x lies outside the kernel image (kallsyms covers %#x-%#x; module addresses are not in it): %w",
		addr, s.lo, s.hi, model.ErrNotFound)
}

// addrOf returns the address of the first symbol with the name.
func (s *Symbols) addrOf(name string) (uint64, bool) {
	if i, ok := s.first(name); ok {
		return uint64(s.syms[i].Addr), true
	}
	return 0, false
}
