package kernel

import (
	"strings"
	"testing"

	"dumpscope/model"
)

// Modules of kernels the fixtures are not: struct module with mem[]
// (Linux 6.4 and later) and with core_layout (4.5 to 6.3), written with
// their BTF.

// moduleWorld is a kernel with two modules in its direct map.
type moduleWorld struct {
	k   *Kernel
	mem *pageMem
}

const (
	modHead   = 0x100000 // physical addresses in the direct map
	modTaints = 0x101000
	modStruct = 0x102000 // one struct module per page
	modSyms   = 0x110000 // symtab, strtab and typetab of module i at +i*0x1000
	modText   = 0xffffffffc0000000
)

func va(pa uint64) uint64 { return pageOffsetL4 + pa }

// buildModules writes the world; memLayout selects mem[] over core_layout.
func buildModules(t *testing.T, memLayout bool) *moduleWorld {
	t.Helper()
	k, mem, _ := x8664Kernel(t, pageOffsetL4, 0x1000000)
	g := newBTFGen()
	i32 := g.intType("int", 4, true)
	u32 := g.intType("unsigned int", 4, false)
	ulong := g.intType("long unsigned int", 8, false)
	char := g.intType("char", 1, true)
	boolean := g.intType("_Bool", 1, false)
	void := g.ptr(0)
	lhID := g.n + 1
	lh := g.structType("list_head", 16, member{"next", lhID + 1, 0}, member{"prev", lhID + 1, 8})
	g.ptr(lh)
	state := g.enumType("module_state", "MODULE_STATE_LIVE", "MODULE_STATE_COMING", "MODULE_STATE_GOING", "MODULE_STATE_UNFORMED")
	ks := g.structType("mod_kallsyms", 32, member{"symtab", void, 0}, member{"num_symtab", u32, 8},
		member{"strtab", g.ptr(char), 16}, member{"typetab", g.ptr(char), 24})
	arch := g.structType("mod_arch_specific", 24, member{"num_orcs", u32, 0}, member{"orc_unwind_ip", g.ptr(i32), 8}, member{"orc_unwind", void, 16})
	name := g.array(char, u32, 56)
	g.structType("taint_flag", 3, member{"c_true", char, 0}, member{"c_false", char, 1}, member{"module", boolean, 2})
	common := []member{{"state", state, 0}, {"list", lh, 8}, {"name", name, 24}}
	var size uint32
	if memLayout {
		g.enumType("mod_mem_type", "MOD_TEXT", "MOD_DATA", "MOD_RODATA", "MOD_RO_AFTER_INIT", "MOD_INIT_TEXT", "MOD_INIT_DATA", "MOD_INIT_RODATA", "MOD_MEM_NUM_TYPES")
		mm := g.structType("module_memory", 16, member{"base", void, 0}, member{"size", u32, 8})
		size = 256
		g.structType("module", size, append(common, member{"mem", g.array(mm, u32, 7), 80}, member{"taints", ulong, 192},
			member{"kallsyms", g.ptr(ks), 200}, member{"arch", arch, 208})...)
	} else {
		ml := g.structType("module_layout", 24, member{"base", void, 0}, member{"size", u32, 8}, member{"text_size", u32, 12})
		size = 192
		g.structType("module", size, append(common, member{"core_layout", ml, 80}, member{"init_layout", ml, 104},
			member{"taints", ulong, 128}, member{"kallsyms", g.ptr(ks), 136}, member{"arch", arch, 144})...)
	}
	spec := g.spec(t)
	syms := symbolsOf([]model.Symbol{
		{Name: "_stext", Type: "T", Addr: startKernelMap + 0x200000}, {Name: "_etext", Type: "T", Addr: startKernelMap + 0x300000},
		{Name: "modules", Type: "D", Addr: model.VirtAddr(va(modHead))},
		{Name: "taint_flags", Type: "D", Addr: model.VirtAddr(va(modTaints))},
		{Name: "_end", Type: "B", Addr: model.VirtAddr(va(modTaints) + 0x1000)},
	})
	withObjects(k, syms, spec)
	// taint_flags[12] is TAINT_OOT_MODULE ('O'), [13] TAINT_UNSIGNED_MODULE
	// ('E'), both module taints; [0] 'P' is not lettered per module here.
	for i := 0; i < 19; i++ {
		mem.write(modTaints+uint64(3*i), []byte{'A' + byte(i), '-', 0})
	}
	mem.write(modTaints+3*12, []byte{'O', ' ', 1})
	mem.write(modTaints+3*13, []byte{'E', ' ', 1})
	type sym struct {
		name string
		typ  byte
		off  uint64
	}
	mods := []struct {
		name   string
		state  uint32
		text   uint64
		taints uint64
		syms   []sym
	}{
		{"beta", 1, modText + 0x10000, 0, []sym{{"b_init", 't', 0}}},
		{"alpha", 0, modText, 1<<12 | 1<<13 | 1, []sym{{"a_first", 't', 0}, {"$x", 't', 0x8}, {"a_second", 'T', 0x20}, {"a_data", 'd', 0x2000}}},
	}
	nodes := []uint64{va(modHead)}
	for i, m := range mods {
		at := uint64(modStruct + i*0x1000)
		b := make([]byte, size)
		le.PutUint32(b[0:], m.state)
		copy(b[24:], m.name)
		sizes := []uint64{0x1000, 0x2000, 0x800, 0x100, 0x400, 0, 0} // text data rodata ro_after_init init_text
		if memLayout {
			bases := []uint64{m.text, m.text + 0x2000, m.text + 0x5000, m.text + 0x6000, m.text + 0x8000, 0, 0}
			for j := range 7 {
				le.PutUint64(b[80+16*j:], bases[j])
				le.PutUint32(b[80+16*j+8:], uint32(sizes[j]))
			}
			le.PutUint64(b[192:], m.taints)
			le.PutUint64(b[200:], va(at+0x800))
			le.PutUint32(b[208:], 7)
			le.PutUint64(b[216:], va(at+0x900))
			le.PutUint64(b[224:], va(at+0xa00))
		} else {
			le.PutUint64(b[80:], m.text)
			le.PutUint32(b[88:], 0x3000)
			le.PutUint32(b[92:], 0x1000)
			le.PutUint64(b[104:], m.text+0x8000)
			le.PutUint32(b[112:], 0x400)
			le.PutUint32(b[116:], 0x400)
			le.PutUint64(b[128:], m.taints)
			le.PutUint64(b[136:], va(at+0x800))
		}
		mem.write(at, b)
		// mod_kallsyms and its tables.
		tabs := uint64(modSyms + i*0x1000)
		symtab := make([]byte, 24*(len(m.syms)+1))
		strtab := []byte{0}
		types := []byte{0}
		for j, s := range m.syms {
			e := symtab[24*(j+1):]
			le.PutUint32(e, uint32(len(strtab)))
			e[4] = 0x12            // STB_GLOBAL, STT_FUNC
			le.PutUint16(e[6:], 1) // a defined section
			le.PutUint64(e[8:], m.text+s.off)
			strtab = append(append(strtab, s.name...), 0)
			types = append(types, s.typ)
		}
		mem.write(tabs, symtab)
		mem.write(tabs+0x400, strtab)
		mem.write(tabs+0x800, types)
		ksb := make([]byte, 32)
		le.PutUint64(ksb, va(tabs))
		le.PutUint32(ksb[8:], uint32(len(m.syms)+1))
		le.PutUint64(ksb[16:], va(tabs+0x400))
		le.PutUint64(ksb[24:], va(tabs+0x800))
		mem.write(at+0x800, ksb)
		nodes = append(nodes, va(at+8))
	}
	for i, n := range nodes { // the list: head, beta, alpha
		mem.put64(n-va(0), nodes[(i+1)%len(nodes)])
		mem.put64(n-va(0)+8, nodes[(i+len(nodes)-1)%len(nodes)])
	}
	return &moduleWorld{k: k, mem: mem}
}

func TestModulesLayouts(t *testing.T) {
	for _, c := range []struct {
		name      string
		memLayout bool
		size      uint64
		regions   string
		orc       int
	}{
		{"mem[] (6.4+)", true, 0x1000 + 0x2000 + 0x800 + 0x100, "text data rodata ro_after_init init_text", 7},
		{"core_layout (4.5-6.3)", false, 0x3000, "text core init_text init", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := buildModules(t, c.memLayout)
			mods, err := w.k.Modules(bg)
			if err != nil || len(mods) != 2 {
				t.Fatalf("%d modules, %v", len(mods), err)
			}
			a, b := mods[0], mods[1] // sorted by base: alpha first
			var kinds []string
			for _, r := range a.Regions {
				kinds = append(kinds, r.Kind)
			}
			if a.Name != "alpha" || b.Name != "beta" || a.State != "live" || b.State != "coming" || uint64(a.Base) != modText ||
				a.Size != c.size || strings.Join(kinds, " ") != c.regions || a.Taints != "OE" || a.TaintMask != 1<<12|1<<13|1 ||
				a.Symbols != 3 || b.Symbols != 1 || a.ORCEntries != c.orc || a.BTF {
				t.Errorf("alpha %+v\nbeta %+v", a, b)
			}
			data, gap := "a_data+0x4/0x2000 [alpha]", "-"
			if !c.memLayout {
				// One core region holds text and data: symbols run to the
				// next one or the core's end.
				data, gap = "a_data+0x4/0x1000 [alpha]", "a_second+0x17e0/0x1fe0 [alpha]"
			}
			for _, q := range []struct {
				addr uint64
				want string
			}{
				{modText + 0x10, "a_first+0x10/0x20 [alpha]"},   // the mapping symbol $x is skipped
				{modText + 0x30, "a_second+0x10/0xfe0 [alpha]"}, // to the end of the text
				{modText + 0x2004, data},
				{modText + 0x10003, "b_init+0x3/0x1000 [beta]"}, // another module
				{modText + 0x1800, gap},                         // past the text, before the data
				{modText + 0x9000000, "-"},                      // no module
			} {
				got := "-"
				if r, ok := w.k.Symbolize(bg, q.addr); ok {
					got = r.String()
				}
				if got != q.want {
					t.Errorf("%#x: %s, want %s", q.addr, got, q.want)
				}
			}
			// Code in a module is code to the unwinder.
			u, err := w.k.unwindSetup(bg)
			if err != nil {
				t.Fatal(err)
			}
			if fn, ok := u.text.FuncStart(modText + 0x24); !ok || fn != modText+0x20 {
				t.Errorf("FuncStart in a module: %#x %v", fn, ok)
			}
			if _, ok := u.text.FuncStart(modText + 0x2004); ok {
				t.Error("module data taken for code")
			}
		})
	}
}

// TestModulesHostile: a module list that loops, and a struct module whose
// symbol count is absurd, end with errors, not hangs or huge reads.
func TestModulesHostile(t *testing.T) {
	w := buildModules(t, true)
	w.mem.put64(modStruct+0x1000+8, va(modStruct+8)) // alpha → beta again
	mods, err := w.k.Modules(bg)
	if err == nil || !strings.Contains(err.Error(), "leads back to") || len(mods) != 2 {
		t.Errorf("loop: %d modules, %v", len(mods), err)
	}
	w = buildModules(t, true)
	w.mem.put32(modStruct+0x800+8, 1<<30) // beta's num_symtab
	mods, err = w.k.Modules(bg)
	if err == nil || !strings.Contains(err.Error(), "num_symtab") || len(mods) != 2 {
		t.Errorf("symbols: %d modules, %v", len(mods), err)
	}
}
