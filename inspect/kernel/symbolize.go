package kernel

import (
	"context"
	"sort"

	"dumpscope/model"
)

// Addresses are named from two tables: kallsyms for the kernel image
// (Symbols) and each module's own symbol table (modules.go), as the
// kernel's %pS does (kernel/kallsyms.c kallsyms_lookup, then
// kernel/module/kallsyms.c module_address_lookup).

// Symbolize names an address: a kallsyms symbol of the kernel image, or
// a symbol of the module whose memory holds it ("name+0x1c/0x80
// [module]"). Module symbols need the kernel's BTF (struct module): they
// are read on the first address outside the image, and without BTF such
// addresses stay unnamed.
func (k *Kernel) Symbolize(ctx context.Context, addr uint64) (model.SymbolRef, bool) {
	syms, err := k.Symbols(ctx)
	if err == nil {
		if r, ok := syms.Addr(addr); ok {
			return r, true
		}
		if addr >= syms.lo && addr < syms.hi {
			return model.SymbolRef{}, false // inside the image, where modules never lie
		}
	}
	ms, _ := k.moduleSet(ctx)
	if ms == nil {
		return model.SymbolRef{}, false
	}
	return ms.lookup(addr)
}

// symbolizer returns Symbolize bound to a context, for code that names
// many addresses.
func (k *Kernel) symbolizer(ctx context.Context) func(uint64) (model.SymbolRef, bool) {
	return func(addr uint64) (model.SymbolRef, bool) { return k.Symbolize(ctx, addr) }
}

// module returns the module whose memory holds addr, and the region.
func (ms *moduleSet) module(addr uint64) (*kmodule, modRegion, bool) {
	for _, m := range ms.mods {
		var best modRegion
		ok := false
		for _, r := range m.regions {
			if addr >= r.lo && addr < r.hi && (!ok || r.hi-r.lo < best.hi-best.lo) {
				best, ok = r, true
			}
		}
		if ok {
			return m, best, true
		}
	}
	return nil, modRegion{}, false
}

// lookup names an address inside a module: the closest symbol at or
// below it in the same region; its size runs to the next symbol or the
// region's end (find_kallsyms_symbol).
func (ms *moduleSet) lookup(addr uint64) (model.SymbolRef, bool) {
	m, reg, ok := ms.module(addr)
	if !ok {
		return model.SymbolRef{}, false
	}
	j := sort.Search(len(m.syms), func(j int) bool { return m.syms[j].addr > addr }) - 1
	if j < 0 || m.syms[j].addr < reg.lo {
		return model.SymbolRef{}, false
	}
	for j > 0 && m.syms[j-1].addr == m.syms[j].addr {
		j-- // the first of aliases, in symbol-table order
	}
	s := m.syms[j]
	end := reg.hi
	for n := j + 1; n < len(m.syms); n++ {
		if m.syms[n].addr > s.addr {
			end = min(end, m.syms[n].addr)
			break
		}
	}
	return model.SymbolRef{Addr: model.VirtAddr(addr), Offset: addr - s.addr, Module: m.info.Name,
		Symbol: model.Symbol{Name: s.name, Addr: model.VirtAddr(s.addr), Type: string(s.typ), Size: end - s.addr}}, true
}

// isTextType reports whether an nm letter marks code.
func isTextType(t string) bool {
	switch t {
	case "t", "T", "w", "W":
		return true
	}
	return false
}

// codeIndex tells the unwinder where functions start: kallsyms text
// symbols of the image and the modules' text symbols.
type codeIndex struct {
	syms *Symbols
	mods *moduleSet // nil without BTF
}

// FuncStart implements unwind.Text.
func (c codeIndex) FuncStart(pc uint64) (uint64, bool) {
	if r, ok := c.syms.Addr(pc); ok {
		if isTextType(r.Symbol.Type) {
			return uint64(r.Symbol.Addr), true
		}
		return 0, false
	}
	if c.mods == nil {
		return 0, false
	}
	r, ok := c.mods.lookup(pc)
	if !ok || !isTextType(r.Symbol.Type) {
		return 0, false
	}
	return uint64(r.Symbol.Addr), true
}
