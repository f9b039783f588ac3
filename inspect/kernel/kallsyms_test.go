package kernel

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"dumpscope/model"
)

// ksym is a symbol to write into synthetic kallsyms tables.
type ksym struct {
	name   string
	typ    byte
	addr   uint64
	percpu bool // a per-CPU offset (absolute with --absolute-percpu)
}

// kallsymsWriter writes the tables scripts/kallsyms.c generates: tokens
// are the single characters used plus a few multi-character ones, names
// are compressed greedily.
type kallsymsWriter struct {
	mem  *pageMem
	a    kallsymsAddrs
	mode string // "relative", "absolute-percpu", "absolute", "place-relative"
	base uint64 // kallsyms_relative_base
	// short writes every length as one byte, as kernels before 6.1 did.
	short bool
}

var multiTokens = []string{"init_", "_text", "native_", "cpu"}

func (w *kallsymsWriter) write(syms []ksym) {
	var tokens []string
	seen := map[string]bool{}
	for _, t := range multiTokens {
		tokens, seen[t] = append(tokens, t), true
	}
	for _, s := range syms {
		for _, c := range string(s.typ) + s.name {
			if !seen[string(c)] {
				tokens, seen[string(c)] = append(tokens, string(c)), true
			}
		}
	}
	var table []byte
	for i := 0; i < 256; i++ {
		w.mem.put16(w.a.tokenIndex+uint64(2*i), uint16(len(table)))
		if i < len(tokens) {
			table = append(table, tokens[i]...)
		}
		table = append(table, 0)
	}
	w.mem.write(w.a.tokenTable, table)
	var names []byte
	for _, s := range syms {
		var comp []byte
		for rest := string(s.typ) + s.name; rest != ""; {
			for i, t := range tokens { // multi-character tokens come first
				if strings.HasPrefix(rest, t) {
					comp, rest = append(comp, byte(i)), rest[len(t):]
					break
				}
			}
		}
		if len(comp) < 0x80 || w.short {
			names = append(names, byte(len(comp)))
		} else {
			names = append(names, byte(len(comp))|0x80, byte(len(comp)>>7))
		}
		names = append(names, comp...)
	}
	w.mem.write(w.a.names, names)
	w.mem.put32(w.a.numSyms, uint32(len(syms)))
	ptr := func(at, v uint64) {
		if w.a.ptrSize == 8 {
			w.mem.put64(at, v)
		} else {
			w.mem.put32(at, uint32(v))
		}
	}
	for i, s := range syms {
		switch w.mode {
		case "absolute":
			ptr(w.a.addresses+uint64(i*w.a.ptrSize), s.addr)
		case "relative":
			w.mem.put32(w.a.offsets+uint64(4*i), uint32(s.addr-w.base))
		case "place-relative":
			w.mem.put32(w.a.offsets+uint64(4*i), uint32(s.addr-(w.a.offsets+uint64(4*i))))
		case "absolute-percpu":
			off := int32(s.addr)
			if !s.percpu {
				off = int32(int64(w.base) - 1 - int64(s.addr))
			}
			w.mem.put32(w.a.offsets+uint64(4*i), uint32(off))
		}
	}
	if w.mode != "absolute" && w.mode != "place-relative" {
		ptr(w.a.relativeBase, w.base)
	}
}

func testSymbols(base uint64) []ksym {
	long := "a_rust_symbol_" + strings.Repeat("z", 200) // more than 127 tokens: a two-byte length
	return []ksym{
		{"fixed_percpu_data", 'D', 0, true},
		{"cpu_tss_rw", 'D', 0x5000, true},
		{"_text", 'T', base, false},
		{"_stext", 'T', base, false},
		{"startup_64", 'T', base, false},
		{"native_safe_halt", 't', base + 0x1000, false},
		{"__cpuidle_text_end", 'T', base + 0x1014, false},
		{"default_idle", 't', base + 0x1014, false},
		{long, 'T', base + 0x1100, false},
		{"init_uts_ns", 'D', base + 0x80000, false},
		{"dup", 't', base + 0x90000, false},
		{"dup", 't', base + 0x90010, false},
		{"_end", 'B', base + 0x100000, false},
	}
}

func TestKallsyms(t *testing.T) {
	for _, c := range []struct {
		mode    string
		ptrSize int
		base    uint64
	}{
		{"absolute-percpu", 8, 0xffffffff81000000},
		{"relative", 8, 0xffffffff81000000},
		{"relative", 4, 0xc1000000},
		{"absolute", 4, 0xc1000000},
	} {
		t.Run(c.mode+"/"+map[int]string{4: "32", 8: "64"}[c.ptrSize], func(t *testing.T) {
			mem := newPageMem()
			a := kallsymsAddrs{names: 0x10000, numSyms: 0xf000, tokenTable: 0x20000, tokenIndex: 0x21000, ptrSize: c.ptrSize}
			if c.mode == "absolute" {
				a.addresses = 0x30000
			} else {
				a.offsets, a.relativeBase = 0x30000, 0xf008
			}
			syms := testSymbols(c.base)
			if c.mode != "absolute-percpu" {
				syms = syms[2:] // per-CPU offsets only exist with --absolute-percpu
			}
			(&kallsymsWriter{mem: mem, a: a, mode: c.mode, base: c.base}).write(syms)
			s, err := decodeKallsyms(mem.readPhys, a, map[string]uint64{"_stext": c.base, "init_uts_ns": c.base + 0x80000, "prb": 0x1234})
			if err != nil {
				t.Fatal(err)
			}
			if s.Len() != len(syms) || s.Mode != c.mode {
				t.Errorf("%d symbols as %s, want %d as %s", s.Len(), s.Mode, len(syms), c.mode)
			}
			for _, want := range syms {
				found := false
				for _, got := range s.Lookup(want.name) {
					found = found || (uint64(got.Addr) == want.addr && got.Type == string(want.typ))
				}
				if !found {
					t.Errorf("%s: got %+v, want %c at %#x", want.name, s.Lookup(want.name), want.typ, want.addr)
				}
			}
			for _, q := range []struct {
				addr uint64
				want string
			}{
				{c.base + 0x1013, "native_safe_halt+0x13/0x14"},
				{c.base + 0x1014, "__cpuidle_text_end+0x0/0xec"}, // the first alias in kallsyms order
				{c.base, "_text+0x0/0x1000"},
				{c.base + 0x90018, "dup+0x8/0x6fff0"},
				{c.base + 0xfffff, "dup+0x6ffef/0x6fff0"},
			} {
				r, err := s.AddrErr(q.addr)
				if err != nil || r.String() != q.want {
					t.Errorf("%#x: got %s, %v; want %s", q.addr, r, err, q.want)
				}
			}
			if r, err := s.AddrErr(c.base + 0x100000); err != nil || r.String() != "_end+0x0/0x0" {
				t.Errorf("_end itself (the kernel's is_kernel includes it): %s %v", r, err)
			}
			for _, out := range []uint64{c.base - 1, c.base + 0x100001, 0x5000} {
				if _, err := s.AddrErr(out); !errors.Is(err, model.ErrNotFound) {
					t.Errorf("%#x outside the image: %v", out, err)
				}
			}
			if _, err := s.LookupErr("no_such"); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("unknown name: %v", err)
			}
		})
	}
}

// TestKallsymsCorrupt: implausible counts and names fail cleanly, and
// tables that disagree with VMCOREINFO are not trusted.
func TestKallsymsCorrupt(t *testing.T) {
	setup := func() (*pageMem, kallsymsAddrs) {
		mem := newPageMem()
		a := kallsymsAddrs{names: 0x10000, numSyms: 0xf000, tokenTable: 0x20000, tokenIndex: 0x21000,
			offsets: 0x30000, relativeBase: 0xf008, ptrSize: 8}
		(&kallsymsWriter{mem: mem, a: a, mode: "relative", base: 0xffffffff81000000}).write(testSymbols(0xffffffff81000000)[2:])
		return mem, a
	}
	mem, a := setup()
	mem.put32(a.numSyms, 1<<30)
	if _, err := decodeKallsyms(mem.readPhys, a, nil); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("huge count: %v", err)
	}
	mem, a = setup()
	mem.put32(a.numSyms, 1000) // more names than written: zero lengths follow
	if _, err := decodeKallsyms(mem.readPhys, a, nil); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("count beyond the names: %v", err)
	}
	mem, a = setup()
	delete(mem.pages, a.names/4096)
	if _, err := decodeKallsyms(mem.readPhys, a, nil); !errors.Is(err, model.ErrPageAbsent) {
		t.Errorf("names not in the dump: %v", err)
	}
	mem, a = setup()
	if _, err := decodeKallsyms(mem.readPhys, a, map[string]uint64{"_stext": 0xffffffff82000000}); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("disagreeing anchor: %v", err)
	}
	mem, a = setup()
	mem.write(a.tokenTable, []byte(strings.Repeat("x", 300))) // token 0 never ends
	if _, err := decodeKallsyms(mem.readPhys, a, nil); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("unterminated token: %v", err)
	}
}

// TestKallsymsEncodings: each address encoding is recognised by where it
// puts _stext, whatever the other anchors say, including the
// place-relative offsets of 7.0 (no kallsyms_relative_base), and both
// name-length forms are read from the data alone.
func TestKallsymsEncodings(t *testing.T) {
	const base = 0xffffffff81000000
	long := strings.Repeat("y", 130) // one-byte form: a length byte of 0x83
	for _, c := range []struct {
		mode  string
		short bool
	}{
		{"place-relative", false},
		{"relative", true},
		{"absolute-percpu", true},
		{"absolute-percpu", false},
	} {
		t.Run(fmt.Sprintf("%s/short=%v", c.mode, c.short), func(t *testing.T) {
			mem := newPageMem()
			a := kallsymsAddrs{names: 0x10000, numSyms: 0xf000, tokenTable: 0x20000, tokenIndex: 0x21000, offsets: 0x30000, ptrSize: 8}
			if c.mode != "place-relative" {
				a.relativeBase = 0xf008
			}
			syms := testSymbols(base)
			if c.mode != "absolute-percpu" {
				syms = syms[2:]
			}
			syms = append(syms, ksym{long, 't', base + 0x20000, false}, ksym{"after_long", 't', base + 0x20010, false})
			if c.mode == "place-relative" {
				// Offsets count from their slots: 64-bit addresses need the
				// tables near the image, as in a real kernel.
				off := uint64(base + 0x200000)
				a = kallsymsAddrs{names: off + 0x10000, numSyms: off + 0xf000, tokenTable: off + 0x20000, tokenIndex: off + 0x21000, offsets: off + 0x30000, ptrSize: 8}
			}
			(&kallsymsWriter{mem: mem, a: a, mode: c.mode, base: base, short: c.short}).write(syms)
			s, err := decodeKallsyms(mem.readPhys, a, map[string]uint64{"_stext": base})
			if err != nil {
				t.Fatal(err)
			}
			if s.Mode != c.mode || s.BigNames == c.short {
				t.Errorf("read as %s (big names %v), want %s (short %v)", s.Mode, s.BigNames, c.mode, c.short)
			}
			if got := s.Lookup("after_long"); len(got) != 1 || uint64(got[0].Addr) != base+0x20010 {
				t.Errorf("the symbol after the long one: %+v", got)
			}
			if got := s.Lookup(long); len(got) != 1 {
				t.Errorf("long name: %+v", got)
			}
		})
	}
}

// TestKallsymsSections: sizes end at the next symbol or at the end of the
// symbol's section; section end markers have no size; addresses in the
// gaps between sections, and outside the text of a kernel that keeps
// text symbols only, have no symbol.
func TestKallsymsSections(t *testing.T) {
	const base = 0xc1000000
	text := []ksym{
		{"_text", 'T', base, false},
		{"_stext", 'T', base, false},
		{"do_one", 't', base + 0x100, false},
		{"last_text", 'T', base + 0x200, false},
		{"_etext", 'T', base + 0x280, false},
		{"_sinittext", 'T', base + 0x10000, false},
		{"init_fn", 't', base + 0x10000, false},
		{"_einittext", 'T', base + 0x10400, false},
	}
	data := []ksym{
		{"__start_rodata", 'D', base + 0x1000, false},
		{"a_table", 'r', base + 0x1000, false},
		{"__end_rodata", 'D', base + 0x1800, false},
		{"_sdata", 'D', base + 0x4000, false},
		{"init_task", 'D', base + 0x4000, false},
		{"_edata", 'D', base + 0x5000, false},
		{"orc_in_gap", 'r', base + 0x6000, false},
		{"__init_begin", 'D', base + 0xf000, false},
		{"__init_end", 'D', base + 0x11000, false},
		{"_end", 'B', base + 0x20000, false},
	}
	sorted := func(syms []ksym) []ksym {
		sort.SliceStable(syms, func(i, j int) bool { return syms[i].addr < syms[j].addr })
		return syms
	}
	decode := func(t *testing.T, syms []ksym) *Symbols {
		mem := newPageMem()
		a := kallsymsAddrs{names: 0x10000, numSyms: 0xf000, tokenTable: 0x20000, tokenIndex: 0x21000, addresses: 0x30000, ptrSize: 4}
		(&kallsymsWriter{mem: mem, a: a, mode: "absolute"}).write(syms)
		s, err := decodeKallsyms(mem.readPhys, a, map[string]uint64{"_stext": base})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	check := func(t *testing.T, s *Symbols, want map[uint64]string) {
		t.Helper()
		for addr, w := range want {
			r, ok := s.Addr(addr)
			got := "-"
			if ok {
				got = r.String()
			}
			if got != w {
				t.Errorf("%#x: %s, want %s", addr, got, w)
			}
		}
	}
	t.Run("all", func(t *testing.T) {
		s := decode(t, sorted(append(append([]ksym{}, text...), data...)))
		if !s.AllSymbols() {
			t.Error("data symbols present, yet not KALLSYMS_ALL")
		}
		check(t, s, map[uint64]string{
			base + 0x210:   "last_text+0x10/0x80", // ends at _etext
			base + 0x280:   "_etext+0x0/0x0",
			base + 0x281:   "-", // the gap after the text
			base + 0x1700:  "__start_rodata+0x700/0x800",
			base + 0x1800:  "__end_rodata+0x0/0x0",
			base + 0x4fff:  "_sdata+0xfff/0x1000",
			base + 0x6100:  "orc_in_gap+0x100/0x9000", // between sections: to the next symbol
			base + 0x10100: "_sinittext+0x100/0x400",
			base + 0x10400: "_einittext+0x0/0x0",
			base + 0x10500: "-", // init data after the init text: no symbol covers it
			base + 0x20000: "_end+0x0/0x0",
		})
	})
	t.Run("text only", func(t *testing.T) {
		s := decode(t, text)
		if s.AllSymbols() {
			t.Error("text symbols only, yet KALLSYMS_ALL")
		}
		check(t, s, map[uint64]string{
			base + 0x210:   "last_text+0x10/0x80",
			base + 0x280:   "-", // _etext is not text
			base + 0x1000:  "-", // data: no symbol, not _etext+0xd80
			base + 0x10100: "_sinittext+0x100/0x400",
			base + 0x10400: "-",
		})
		if e := s.Lookup("_etext"); len(e) != 1 || e[0].Size != 0 {
			t.Errorf("_etext: %+v", e)
		}
		if _, err := s.AddrErr(base + 0x1000); err == nil || !strings.Contains(err.Error(), "CONFIG_KALLSYMS_ALL") {
			t.Errorf("data address: %v", err)
		}
	})
}

// TestPageStream: a stream reads in chunks of many pages, keeps the pages
// before one it cannot read when a chunk fails, fails only a reader that
// asks for bytes at or past that page, with the page's own error, and
// stops at its limit.
func TestPageStream(t *testing.T) {
	const base, bad = 0x10000, 0x10000 + 5*cursorChunk // the sixth page is absent
	errAbsent := errors.New("absent page")
	var reads [][2]uint64
	read := func(va uint64, p []byte) error {
		reads = append(reads, [2]uint64{va, uint64(len(p))})
		if va < bad && va+uint64(len(p)) > bad || va == bad {
			return fmt.Errorf("virtual %#x: %w", va, errAbsent)
		}
		for i := range p {
			p[i] = byte(va + uint64(i))
		}
		return nil
	}
	s := newPageStream(read, base+10, 0)
	if err := s.need(s.start + 5*cursorChunk - 10); err != nil {
		t.Fatalf("the bytes before the absent page: %v", err)
	}
	if got := s.data[s.start+100]; got != 110 { // base's low byte is 0
		t.Errorf("byte 100 of the stream is %#x, want 110", got)
	}
	err := s.need(s.start + 5*cursorChunk - 9)
	if !errors.Is(err, errAbsent) || !strings.Contains(err.Error(), fmt.Sprintf("virtual %#x", bad)) {
		t.Errorf("a byte of the absent page: %v", err)
	}
	if len(reads) != 7 || reads[0] != [2]uint64{base, streamChunk} {
		t.Errorf("reads %x: want one chunk from the page start, then the pages up to the absent one", reads)
	}
	s = newPageStream(read, base+streamChunk, 0)
	s.limit = 3 * cursorChunk
	if err := s.need(streamChunk + 1); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("past the limit: %v", err)
	}
}

// TestNameIndex: every name finds all its symbols in kallsyms order,
// names that share a start or a hash slot stay apart, and absent names
// (and an empty table) find nothing.
func TestNameIndex(t *testing.T) {
	var list []model.Symbol
	for i := range 3000 {
		list = append(list, model.Symbol{Name: fmt.Sprintf("sym%d", i%1000), Addr: model.VirtAddr(i)})
	}
	s := &Symbols{syms: list}
	s.indexNames()
	for i := range 1000 {
		got := s.indexes(fmt.Sprintf("sym%d", i))
		if len(got) != 3 || got[0] != i || got[1] != i+1000 || got[2] != i+2000 {
			t.Fatalf("sym%d: indexes %v, want [%d %d %d]", i, got, i, i+1000, i+2000)
		}
	}
	for _, name := range []string{"sym1000", "sym", ""} {
		if got := s.indexes(name); got != nil {
			t.Errorf("%q: indexes %v, want none", name, got)
		}
	}
	if got := (&Symbols{}).Lookup("sym1"); got != nil {
		t.Errorf("an empty table finds %v", got)
	}
}

// TestTypeString checks typeString against the conversion it saves: the
// same string for every byte, and no allocation for an ASCII letter.
func TestTypeString(t *testing.T) {
	if len(asciiLetters) != 0x80 {
		t.Fatalf("asciiLetters holds %d bytes, want 128", len(asciiLetters))
	}
	for c := range 256 {
		if got, want := typeString(byte(c)), string(rune(c)); got != want {
			t.Errorf("typeString(%#x) = %q, want %q", c, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = typeString('T') }); n != 0 {
		t.Errorf("typeString('T') allocates %v times", n)
	}
}
