package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"dumpscope/inspect/btf"
	"dumpscope/inspect/unwind"
	"dumpscope/model"
)

// Modules are read from the list `modules` (kernel/module/main.c) of
// struct module, linked through module.list, typed by BTF:
//
//   - memory: mem[] of struct module_memory, indexed by enum mod_mem_type
//     (MOD_TEXT, MOD_DATA, …; Linux 6.4 and later); before, core_layout
//     and init_layout (struct module_layout: base, size, text_size; 4.5
//     to 6.3); before that, module_core, core_size, core_text_size,
//     module_init, init_size, init_text_size;
//   - symbols: module.kallsyms → struct mod_kallsyms {symtab, num_symtab,
//     strtab, typetab} (4.6 and later; the members lie in the module
//     before): ELF symbols (Elf64_Sym or Elf32_Sym, fixed by the ELF
//     specification) and their nm type letters;
//   - ORC: module.arch.{orc_unwind_ip, orc_unwind, num_orcs} (x86_64
//     with CONFIG_UNWINDER_ORC, arch/x86/include/asm/module.h);
//   - taints: module.taints, lettered by the kernel's own taint_flags[]
//     (kernel/panic.c: c_true and whether it applies to modules);
//   - BTF: the module is on btf_modules (struct btf_module {list, module,
//     btf}, kernel/bpf/btf.c) when its split BTF was loaded.

// Bounds on what memory may claim.
const (
	maxModules    = 1 << 14 // modules on the list
	maxModSymbols = 1 << 20 // symbols of one module
)

// kmodule is one module as the engine keeps it.
type kmodule struct {
	info    model.Module
	regions []modRegion
	syms    []modSym // defined, named symbols, by address
	orc     unwind.ModuleORC
}

// modRegion is a module memory range [lo, hi).
type modRegion struct {
	kind   string
	lo, hi uint64
}

// modSym is one module symbol.
type modSym struct {
	name string
	typ  byte
	addr uint64
}

// moduleSet is the loaded modules, in list order.
type moduleSet struct {
	mods []*kmodule
}

func (k *Kernel) moduleSet(ctx context.Context) (*moduleSet, error) {
	return k.objs.modules.get(ctx, k.loadModules)
}

// Modules lists the loaded modules, sorted by base address as crash's
// mod does. A module whose symbols or tables cannot be read is listed
// with the error.
func (k *Kernel) Modules(ctx context.Context) ([]model.Module, error) {
	ms, err := k.moduleSet(ctx)
	if ms == nil {
		return nil, err
	}
	out := make([]model.Module, 0, len(ms.mods))
	for _, m := range ms.mods {
		out = append(out, m.info)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Base < out[j].Base })
	return out, err
}

// moduleReader is struct module's layout in this kernel.
type moduleReader struct {
	size                               uint64
	list, name, state, taints          field
	mem, memBase, memSize              field // 6.4+
	memElem, memCount                  uint64
	memKinds                           []string
	memCoreEnd                         uint64 // crash's size counts mem[] below MOD_INIT_TEXT
	core, init                         field  // 4.5–6.3: module_layout
	layBase, laySize, layText          field
	oldCore, oldCoreSize, oldCoreText  field // before 4.5
	oldInit, oldInitSize, oldInitText  field
	kallsyms                           field // struct mod_kallsyms *
	symtab, numSymtab, strtab, typetab field // in mod_kallsyms, or in module before 4.6
	symsInModule                       bool
	orcIP, orcUnwind, orcNum           field
	stateType                          btf.Type
	stateOK                            bool
}

func (k *Kernel) newModuleReader(spec *btf.Spec) (*moduleReader, error) {
	l := &layout{spec: spec}
	r := &moduleReader{size: l.size("module")}
	r.list, r.name = l.field("module.list"), l.field("module.name")
	r.state, r.taints = l.field("module.state"), l.optional("module.taints")
	if _, f, err := spec.FieldOf("module.state"); err == nil {
		r.stateType, r.stateOK = f.Type, true
	}
	if mem := l.optional("module.mem"); mem.ok {
		r.mem = mem
		r.memBase, r.memSize = l.field("module_memory.base"), l.field("module_memory.size")
		r.memElem = l.size("module_memory")
		if r.memElem > 0 {
			r.memCount = min(mem.size/r.memElem, 64)
		}
		r.memKinds, r.memCoreEnd = memKinds(spec, int(r.memCount))
	} else if core := l.optional("module.core_layout"); core.ok {
		r.core, r.init = core, l.field("module.init_layout")
		r.layBase, r.laySize, r.layText = l.field("module_layout.base"), l.field("module_layout.size"), l.field("module_layout.text_size")
	} else {
		r.oldCore, r.oldCoreSize, r.oldCoreText = l.field("module.module_core"), l.field("module.core_size"), l.field("module.core_text_size")
		r.oldInit, r.oldInitSize, r.oldInitText = l.field("module.module_init"), l.field("module.init_size"), l.field("module.init_text_size")
	}
	if ks := l.optional("module.kallsyms"); ks.ok {
		r.kallsyms = ks
		r.symtab, r.numSymtab, r.strtab = l.field("mod_kallsyms.symtab"), l.field("mod_kallsyms.num_symtab"), l.field("mod_kallsyms.strtab")
		r.typetab = l.optional("mod_kallsyms.typetab")
	} else {
		r.symsInModule = true
		r.symtab, r.numSymtab, r.strtab = l.optional("module.symtab"), l.optional("module.num_symtab"), l.optional("module.strtab")
	}
	r.orcIP, r.orcUnwind, r.orcNum = l.optional("module.arch.orc_unwind_ip"), l.optional("module.arch.orc_unwind"), l.optional("module.arch.num_orcs")
	l.scalars(r.size, r.state, r.taints, r.kallsyms, r.orcIP, r.orcUnwind, r.orcNum, r.oldCore, r.oldCoreSize, r.oldCoreText,
		r.oldInit, r.oldInitSize, r.oldInitText)
	l.scalars(0, r.memBase, r.memSize, r.layBase, r.laySize, r.layText, r.symtab, r.numSymtab, r.strtab, r.typetab)
	if r.name.off+r.name.size > r.size || r.mem.off+r.mem.size > r.size || r.core.off+r.core.size > r.size || r.init.off+r.init.size > r.size ||
		r.memElem > 1<<12 || r.symsInModule && r.symtab.off+r.symtab.size > r.size ||
		!r.symsInModule && max(r.symtab.off, r.numSymtab.off, r.strtab.off, r.typetab.off) > 1<<12 {
		l.missing = append(l.missing, "members of struct module inside it")
	}
	if err := l.check(k, "the module list"); err != nil {
		return nil, err
	}
	if r.size == 0 || r.size > 1<<20 {
		return nil, &MissingError{File: k.name, What: "the module list",
			Err: fmt.Errorf("BTF says struct module has %d bytes: %w", r.size, model.ErrCorrupt)}
	}
	return r, nil
}

// memKinds names mem[]'s entries by enum mod_mem_type ("MOD_TEXT" →
// "text") and returns the index of MOD_INIT_TEXT, where crash stops
// counting a module's size.
func memKinds(spec *btf.Spec, n int) ([]string, uint64) {
	kinds := make([]string, n)
	coreEnd := uint64(n)
	t, err := spec.FindType(btf.KindEnum, "mod_mem_type")
	for i := range kinds {
		kinds[i] = fmt.Sprintf("mem[%d]", i)
		if err != nil {
			continue
		}
		if name, ok := spec.EnumName(t, uint64(i)); ok {
			kinds[i] = strings.ToLower(strings.TrimPrefix(name, "MOD_"))
			if name == "MOD_INIT_TEXT" {
				coreEnd = uint64(i)
			}
		}
	}
	return kinds, coreEnd
}

func (k *Kernel) loadModules(ctx context.Context) (*moduleSet, error) {
	const what = "the module list"
	spec, syms, err := k.btfSymbols(ctx)
	if err != nil {
		return nil, err
	}
	head, err := k.symAddr(syms, "modules", what)
	if err != nil {
		return nil, err
	}
	r, err := k.newModuleReader(spec)
	if err != nil {
		return nil, err
	}
	withBTF := k.btfModuleSet(ctx, spec, syms)
	letters := k.taintLetters(ctx, spec, syms)
	ms := &moduleSet{}
	var errs []error
	n := 0
	err = k.walkList(ctx, head, "the module list (modules)", func(node uint64) error {
		if n++; n > maxModules {
			return &MissingError{File: k.name, What: what, Err: fmt.Errorf("more than %d modules: %w", maxModules, model.ErrCorrupt)}
		}
		m, err := k.readModule(ctx, spec, r, node-r.list.off, letters)
		if err != nil {
			errs = append(errs, err)
		}
		if m != nil {
			m.info.BTF = withBTF[uint64(m.info.Module)]
			ms.mods = append(ms.mods, m)
		}
		return ctx.Err()
	})
	if err != nil {
		errs = append(errs, err)
	}
	return ms, errors.Join(errs...)
}

// readModule reads one struct module and its symbols.
func (k *Kernel) readModule(ctx context.Context, spec *btf.Spec, r *moduleReader, addr uint64, letters []taintFlag) (*kmodule, error) {
	b, err := k.readStruct(ctx, addr, r.size)
	if err != nil {
		return nil, k.missing(fmt.Sprintf("struct module at %#x", addr), err)
	}
	m := &kmodule{info: model.Module{Module: model.VirtAddr(addr), Name: cStringAt(b, r.name), Regions: []model.ModuleRegion{}}}
	state := uintAt(b, r.state)
	m.info.State = fmt.Sprint(state)
	if r.stateOK {
		if name, ok := spec.EnumName(r.stateType, state); ok {
			m.info.State = strings.ToLower(strings.TrimPrefix(name, "MODULE_STATE_"))
		}
	}
	taints := uintAt(b, r.taints)
	m.info.TaintMask = model.Hex(taints)
	for i, f := range letters {
		if i < 64 && taints&(1<<i) != 0 && f.module {
			m.info.Taints += string(f.letter)
		}
	}
	m.readRegions(b, r)
	if r.orcNum.ok {
		m.orc = unwind.ModuleORC{Name: m.info.Name, IP: uintAt(b, r.orcIP), Unwind: uintAt(b, r.orcUnwind), Num: uintAt(b, r.orcNum)}
		if m.orc.IP != 0 && m.orc.Unwind != 0 {
			m.info.ORCEntries = int(min(m.orc.Num, 1<<31))
		}
		for _, reg := range m.regions {
			if reg.kind == "text" {
				m.orc.TextLo, m.orc.TextHi = reg.lo, reg.hi
			}
		}
	}
	if err := k.readModuleSymbols(ctx, r, b, m); err != nil {
		return m, err
	}
	return m, nil
}

// readRegions fills the module's memory regions and crash's base and
// size.
func (m *kmodule) readRegions(b []byte, r *moduleReader) {
	add := func(kind string, base, size uint64) {
		if base == 0 || size == 0 || base+size < base {
			return
		}
		m.regions = append(m.regions, modRegion{kind, base, base + size})
		m.info.Regions = append(m.info.Regions, model.ModuleRegion{Kind: kind, Base: model.VirtAddr(base), Size: size})
	}
	switch {
	case r.mem.ok:
		for i := uint64(0); i < r.memCount; i++ {
			at := r.mem.off + i*r.memElem
			base := uintAt(b, field{off: at + r.memBase.off, size: r.memBase.size, ok: true})
			size := uintAt(b, field{off: at + r.memSize.off, size: r.memSize.size, ok: true})
			if i == 0 {
				m.info.Base = model.VirtAddr(base)
			}
			if i < r.memCoreEnd {
				m.info.Size += size
			}
			add(r.memKinds[i], base, size)
		}
	case r.core.ok:
		lay := func(l, f field) uint64 { return uintAt(b, field{off: l.off + f.off, size: f.size, ok: true}) }
		base, size := lay(r.core, r.layBase), lay(r.core, r.laySize)
		m.info.Base, m.info.Size = model.VirtAddr(base), size
		add("text", base, min(lay(r.core, r.layText), size))
		add("core", base, size)
		ibase, isize := lay(r.init, r.layBase), lay(r.init, r.laySize)
		add("init_text", ibase, min(lay(r.init, r.layText), isize))
		add("init", ibase, isize)
	default:
		core, size := uintAt(b, r.oldCore), uintAt(b, r.oldCoreSize)
		m.info.Base, m.info.Size = model.VirtAddr(core), size
		add("text", core, min(uintAt(b, r.oldCoreText), size))
		add("core", core, size)
		init, isize := uintAt(b, r.oldInit), uintAt(b, r.oldInitSize)
		add("init_text", init, min(uintAt(b, r.oldInitText), isize))
		add("init", init, isize)
	}
}

// readModuleSymbols reads the module's ELF symbol table.
func (k *Kernel) readModuleSymbols(ctx context.Context, r *moduleReader, b []byte, m *kmodule) error {
	what := fmt.Sprintf("the symbols of module %s", m.info.Name)
	kb := b
	if !r.symsInModule {
		p := uintAt(b, r.kallsyms)
		if p == 0 {
			return nil
		}
		size := max(r.symtab.off+r.symtab.size, r.numSymtab.off+r.numSymtab.size, r.strtab.off+r.strtab.size, r.typetab.off+r.typetab.size)
		var err error
		if kb, err = k.readStruct(ctx, p, size); err != nil {
			return k.missing(what+" (struct mod_kallsyms)", err)
		}
	}
	if !r.symtab.ok || !r.numSymtab.ok || !r.strtab.ok {
		return nil
	}
	symtab, num, strtab := uintAt(kb, r.symtab), uintAt(kb, r.numSymtab), uintAt(kb, r.strtab)
	if num == 0 || symtab == 0 {
		return nil
	}
	if num > maxModSymbols {
		return &MissingError{File: k.name, What: what, Err: fmt.Errorf("num_symtab = %d (at most %d believed): %w", num, maxModSymbols, model.ErrCorrupt)}
	}
	esize := uint64(24) // Elf64_Sym
	if k.ptrSize() == 4 {
		esize = 16 // Elf32_Sym
	}
	raw, err := k.readStruct(ctx, symtab, num*esize)
	if err != nil {
		return k.missing(what+" (symtab)", err)
	}
	var types []byte
	if tt := uintAt(kb, r.typetab); tt != 0 {
		if types, err = k.readStruct(ctx, tt, num); err != nil {
			types = nil
		}
	}
	c := newCursor(k.reader(ctx), strtab)
	for i := uint64(1); i < num; i++ { // ELF symbol 0 is the null symbol
		e := raw[i*esize:]
		var nameOff uint32
		var value uint64
		var info byte
		var shndx uint16
		if esize == 24 {
			nameOff, info, shndx, value = binary.LittleEndian.Uint32(e), e[4], binary.LittleEndian.Uint16(e[6:]), binary.LittleEndian.Uint64(e[8:])
		} else {
			nameOff, value, info, shndx = binary.LittleEndian.Uint32(e), uint64(binary.LittleEndian.Uint32(e[4:])), e[12], binary.LittleEndian.Uint16(e[14:])
		}
		if shndx == 0 || value == 0 {
			continue // SHN_UNDEF
		}
		name, err := readCName(c, strtab+uint64(nameOff))
		if err != nil {
			return k.missing(what+" (strtab)", err)
		}
		if name == "" || strings.HasPrefix(name, "$") || strings.HasPrefix(name, ".L") || strings.HasPrefix(name, "L0") {
			continue // unnamed and mapping symbols (kernel/module/kallsyms.c is_mapping_symbol)
		}
		typ := elfTypeLetter(info)
		if i < uint64(len(types)) && types[i] != 0 {
			typ = types[i]
		}
		m.syms = append(m.syms, modSym{name: name, typ: typ, addr: value})
	}
	sort.SliceStable(m.syms, func(i, j int) bool { return m.syms[i].addr < m.syms[j].addr })
	m.info.Symbols = len(m.syms)
	return nil
}

// readCName reads a NUL-terminated name of at most maxSymName bytes.
func readCName(c *cursor, at uint64) (string, error) {
	c.seek(at)
	var buf []byte
	for len(buf) < maxSymName {
		ch, err := c.byte()
		if err != nil {
			return "", err
		}
		if ch == 0 {
			return string(buf), nil
		}
		buf = append(buf, ch)
	}
	return "", fmt.Errorf("a name at %#x runs past %d bytes: %w", at, maxSymName, model.ErrCorrupt)
}

// elfTypeLetter guesses an nm letter from st_info when the kernel keeps
// no typetab (STT_FUNC 2 → t, STT_OBJECT 1 → d).
func elfTypeLetter(info byte) byte {
	switch info & 0xf {
	case 2:
		return 't'
	case 1:
		return 'd'
	}
	return '?'
}

// taintFlag is one entry of the kernel's taint_flags[].
type taintFlag struct {
	letter byte
	module bool
}

// taintLetters reads taint_flags[] (kernel/panic.c): the letters the
// kernel prints for each taint bit. Its kallsyms size bounds the entries.
func (k *Kernel) taintLetters(ctx context.Context, spec *btf.Spec, syms *Symbols) []taintFlag {
	s := syms.Lookup("taint_flags")
	l := &layout{spec: spec}
	size := l.size("taint_flag")
	cTrue, mod := l.optional("taint_flag.c_true"), l.optional("taint_flag.module")
	if len(s) == 0 || size == 0 || !cTrue.ok || !mod.ok {
		return nil
	}
	n := min(s[0].Size/size, 64)
	b, err := k.readStruct(ctx, uint64(s[0].Addr), n*size)
	if err != nil {
		return nil
	}
	out := make([]taintFlag, n)
	for i := range out {
		e := b[uint64(i)*size : uint64(i+1)*size]
		out[i] = taintFlag{letter: byte(uintAt(e, cTrue)), module: uintAt(e, mod) != 0}
	}
	return out
}

// btfModuleSet returns the struct module addresses on btf_modules.
func (k *Kernel) btfModuleSet(ctx context.Context, spec *btf.Spec, syms *Symbols) map[uint64]bool {
	out := map[uint64]bool{}
	for _, m := range k.moduleBTFList(ctx, spec, syms) {
		out[m.module] = true
	}
	return out
}
