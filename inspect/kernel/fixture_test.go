package kernel

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader/dumptest"
)

// Differential tests on the real fixtures (../shared/fixtures/README.md):
// QEMU and makedumpfile dumps of one stopped Linux 6.1.192 guest per
// architecture, with kexec-tools' vmcore-dmesg output, the guest's
// System.map and libkdumpfile's reads at VMCOREINFO's symbols as oracles.

const marker = "dumpfixture: marker 0xC0FFEE hello from tiny guest"

// openKernel opens one dump (one file or a split set) of the fixtures.
func openKernel(t *testing.T, names ...string) *Kernel {
	t.Helper()
	k, err := openFixture(t, names)
	if err != nil {
		t.Fatalf("%v: %v", names, err)
	}
	return k
}

// openFixture opens the fixture files names as one dump, closed when the
// test ends, and builds its engine; the error is the open's (an engine
// that cannot be built fails the test).
func openFixture(t *testing.T, names []string) (*Kernel, error) {
	t.Helper()
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = dumptest.Fixture(t, n)
	}
	d, err := open.Open(paths...)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { d.Close() })
	k, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	return k, nil
}

// allFixtures lists every dump of the fixtures, the i386 split pair as one
// dump.
func allFixtures(t *testing.T) [][]string {
	var out [][]string
	for _, format := range []string{"ELF64", "kdump-compressed", "makedumpfile-flattened"} {
		for _, name := range dumptest.Fixtures(t, format) {
			if strings.HasSuffix(name, "-split1.kdump") {
				out = append(out, []string{name, strings.Replace(name, "-split1.", "-split2.", 1)})
				continue
			}
			if !strings.HasSuffix(name, "-split2.kdump") {
				out = append(out, []string{name})
			}
		}
	}
	return out
}

// eachFixture runs fn in a subtest for every dump of the fixtures; a dump
// that no reader of this build opens yet is skipped, and says why.
func eachFixture(t *testing.T, fn func(t *testing.T, names []string, k *Kernel)) {
	for _, names := range allFixtures(t) {
		t.Run(strings.Join(names, "+"), func(t *testing.T) {
			k, err := openFixture(t, names)
			if err != nil {
				t.Skipf("cannot be opened yet: %v", err)
			}
			fn(t, names, k)
		})
	}
}

// TestFixtureDmesgExact: the log of the full paging ELF equals
// vmcore-dmesg's output byte for byte, with no normalisation.
func TestFixtureDmesgExact(t *testing.T) {
	k := openKernel(t, "x86_64/qemu-elf-paging.vmcore")
	want, err := os.ReadFile(filepath.Join(dumptest.FixturesDir(t), "x86_64/qemu-elf-paging.vmcore.vmcore-dmesg.txt"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := k.Log(bg)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, r := range recs {
		got.WriteString(model.DmesgLine(r) + "\n")
	}
	if got.String() != string(want) {
		gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d:\n got %q\nwant %q", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%d lines, want %d", len(gl), len(wl))
	}
}

// TestFixtureDmesgMarker: every dump that holds the log pages shows the
// guest's marker line; dumps that lack them (a split part without the
// kernel's data) say so with ErrPageAbsent.
func TestFixtureDmesgMarker(t *testing.T) {
	eachFixture(t, func(t *testing.T, _ []string, k *Kernel) {
		recs, err := k.Log(bg)
		if errors.Is(err, model.ErrPageAbsent) {
			t.Skipf("the log pages are not in this dump: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Text == marker {
				return
			}
		}
		t.Errorf("%d records, none is the marker", len(recs))
	})
}

// mapSym is one System.map line.
type mapSym struct {
	addr uint64
	typ  byte
	name string
}

func readSystemMap(t *testing.T) []mapSym {
	f, err := os.Open(filepath.Join(dumptest.FixturesDir(t), "x86_64/System.map"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []mapSym
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		a, err := strconv.ParseUint(fs[0], 16, 64)
		if len(fs) != 3 || err != nil {
			t.Fatalf("System.map line %q", sc.Text())
		}
		out = append(out, mapSym{a, fs[1][0], fs[2]})
	}
	return out
}

// kallsymsTables are the tables scripts/kallsyms.c generates, which it
// leaves out of themselves (is_ignored_symbol).
var kallsymsTables = map[string]bool{
	"kallsyms_addresses": true, "kallsyms_offsets": true, "kallsyms_relative_base": true, "kallsyms_num_syms": true,
	"kallsyms_names": true, "kallsyms_markers": true, "kallsyms_seqs_of_names": true, "kallsyms_token_table": true,
	"kallsyms_token_index": true,
}

// inKallsyms reports whether scripts/kallsyms.c keeps a System.map symbol:
// it drops absolute symbols (types A and a: kexec_control_code_size,
// init_per_cpu__*) and its own tables.
func inKallsyms(s mapSym) bool {
	return s.typ != 'A' && s.typ != 'a' && !kallsymsTables[s.name]
}

// TestFixtureSymbols resolves 1000 System.map symbols both ways and every
// vCPU's instruction pointer.
func TestFixtureSymbols(t *testing.T) {
	k := openKernel(t, "x86_64/qemu-elf-paging.vmcore")
	syms, err := k.Symbols(bg)
	if err != nil {
		t.Fatal(err)
	}
	all := readSystemMap(t)
	var kept []mapSym
	for _, s := range all {
		if inKallsyms(s) {
			kept = append(kept, s)
		} else if len(syms.Lookup(s.name)) > 0 {
			t.Errorf("%s (%c) should not be in kallsyms", s.name, s.typ)
		}
	}
	if syms.Len() != len(kept) {
		t.Errorf("kallsyms has %d symbols, System.map %d that kallsyms keeps", syms.Len(), len(kept))
	}
	aliases := map[uint64][]string{}
	for _, s := range kept {
		aliases[s.addr] = append(aliases[s.addr], s.name)
	}
	rng := rand.New(rand.NewPCG(8, 1000))
	for _, i := range rng.Perm(len(kept))[:1000] {
		s := kept[i]
		found := false
		for _, got := range syms.Lookup(s.name) {
			found = found || uint64(got.Addr) == s.addr
		}
		if !found {
			t.Errorf("name %s: kallsyms gives %v, System.map %#x", s.name, syms.Lookup(s.name), s.addr)
		}
		if s.addr < 1<<32 {
			continue // a per-CPU offset (type A in kallsyms), not an address
		}
		// An address inside the symbol: the map's next higher address
		// bounds it.
		j := sort.Search(len(kept), func(j int) bool { return kept[j].addr > s.addr })
		probe := s.addr
		if j < len(kept) && kept[j].addr > s.addr+1 {
			probe = s.addr + (kept[j].addr-s.addr)/2
		}
		r, ok := syms.Addr(probe)
		if !ok || uint64(r.Symbol.Addr) != s.addr || r.Offset != probe-s.addr || !slicesContain(aliases[s.addr], r.Symbol.Name) {
			t.Errorf("address %#x: got %s, want one of %v + %#x", probe, r, aliases[s.addr], probe-s.addr)
		}
	}
	// Every vCPU's instruction pointer, as the map places it.
	for _, cpu := range k.cpuIndexes() {
		pc, _, err := k.pc(cpu)
		if err != nil {
			t.Fatal(err)
		}
		j := sort.Search(len(kept), func(j int) bool { return kept[j].addr > pc }) - 1
		want := kept[j]
		r, ok := syms.Addr(pc)
		if !ok || !slicesContain(aliases[want.addr], r.Symbol.Name) || r.Offset != pc-want.addr {
			t.Errorf("CPU %d rip %#x: got %s, System.map says %s+%#x", cpu, pc, r, want.name, pc-want.addr)
		}
		t.Logf("CPU %d rip %#x = %s", cpu, pc, r)
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestFixtureKvaddrReads reads the bytes at VMCOREINFO's symbols through
// the page tables and compares them with libkdumpfile's hashes. Where
// libkdumpfile could not translate (every i386 dump: "Infinite read
// recursion"), what this reader gets is checked against the direct map's
// arithmetic instead.
func TestFixtureKvaddrReads(t *testing.T) {
	eachFixture(t, func(t *testing.T, names []string, k *Kernel) {
		var o dumptest.Oracle
		dumptest.ReadJSON(t, names[0]+".oracle.json", &o)
		compared, crossChecked, unchecked, absent := 0, 0, 0, 0
		for _, r := range o.LibKdumpfile.KvaddrReads {
			got := make([]byte, r.Len)
			if r.Len == 0 {
				got = make([]byte, 64)
			}
			err := k.ReadVirt(bg, model.VirtAddr(r.Vaddr), got)
			switch {
			case r.SHA256 != "" && err != nil:
				t.Errorf("%s at %#x: libkdumpfile read it, this reader: %v", r.Symbol, r.Vaddr, err)
			case r.SHA256 != "":
				sum := sha256.Sum256(got)
				if hex.EncodeToString(sum[:]) != r.SHA256 {
					t.Errorf("%s at %#x: sha256 %x, libkdumpfile %s", r.Symbol, r.Vaddr, sum, r.SHA256)
				}
				compared++
			case err != nil:
				if !errors.Is(err, model.ErrPageAbsent) {
					t.Errorf("%s at %#x: %v", r.Symbol, r.Vaddr, err)
				}
				absent++
			case crossCheck(t, k, r.Symbol, r.Vaddr, got):
				crossChecked++
			default:
				unchecked++
			}
		}
		t.Logf("%d reads equal libkdumpfile's; where libkdumpfile failed: %d page-table walks equal the linear map's arithmetic, "+
			"%d read by the arithmetic alone (page tables not in the dump); %d not in this dump",
			compared, crossChecked, unchecked, absent)
	})
}

// crossCheck compares bytes read through a complete page-table walk with
// the bytes at the linear-map address, and init_uts_ns with its known
// content. It reports false when the walk could not be completed, so the
// read came from the arithmetic itself.
func crossCheck(t *testing.T, k *Kernel, sym string, va uint64, got []byte) bool {
	t.Helper()
	tr, err := k.Translate(bg, model.VirtAddr(va))
	if err != nil {
		t.Fatal(err)
	}
	sc := tr.Shortcut
	if sym == "init_uts_ns" && !strings.HasPrefix(string(got), "Linux\x00") {
		t.Errorf("init_uts_ns starts %q, want the sysname Linux", got[:8])
	}
	if tr.Method != MethodWalk || sc == nil {
		return false
	}
	want := make([]byte, len(got))
	if err := k.mem.readPhys(uint64(sc.PhysAddr), want); err != nil {
		t.Errorf("%s: %v", sym, err)
		return true
	}
	if string(got) != string(want) || !*sc.Agrees {
		t.Errorf("%s at %#x: the walk and the %s disagree", sym, va, sc.Kind)
	}
	return true
}

// TestFixtureTriage: vtop, disassembly, the stack and the summary of the
// paging ELF, and what the mini dumps say they lack.
func TestFixtureTriage(t *testing.T) {
	k := openKernel(t, "x86_64/qemu-elf-paging.vmcore")
	uts, _ := k.vmci.Symbol("init_uts_ns")
	tr, err := k.Translate(bg, model.VirtAddr(uts))
	if err != nil || len(tr.Steps) != 4 || tr.Shortcut == nil || tr.Shortcut.Agrees == nil || !*tr.Shortcut.Agrees || tr.PageState != model.StatePresent {
		t.Errorf("vtop init_uts_ns: %v %+v", err, tr)
	}
	tr1, err := k.TranslateCPU(bg, model.VirtAddr(pageOffsetL4+uint64(tr.PhysAddr)), 1)
	if err != nil || tr1.PhysAddr != tr.PhysAddr || !strings.Contains(tr1.RootFrom, "cr3 of CPU 1") {
		t.Errorf("vtop via CPU 1's cr3: %v %+v", err, tr1)
	}

	dis, err := k.Disassemble(bg, DisasmOptions{CPU: 0, Count: 8})
	if err != nil {
		t.Fatal(err)
	}
	var marked int
	for i, in := range dis.Instructions {
		if in.Marked {
			marked = i
		}
	}
	if in := dis.Instructions; marked < 2 || in[marked].Text != "ret" || in[marked-1].Text != "hlt" || in[marked-2].Text != "sti" ||
		in[marked].Location != "native_safe_halt+0x13" {
		t.Errorf("disassembly at rip: %+v", dis.Instructions)
	}
	intel, err := k.Disassemble(bg, DisasmOptions{CPU: 0, Count: 8, Intel: true})
	if err != nil || intel.Instructions[marked].Text != "ret" {
		t.Errorf("Intel syntax: %v %+v", err, intel)
	}

	s := k.Summary(bg, 5)
	if s.CrashCPU != nil || !strings.Contains(s.CrashCPUReason, "QEMU") || len(s.CPUs) != 2 ||
		s.CPUs[0].PCSymbol != "native_safe_halt+0x13/0x14" || s.OSRelease != "6.1.192" || len(s.Problems) != 0 {
		t.Errorf("summary: %+v", s)
	}
	if len(s.LastLog) != 5 || s.LastLog[4].Text != "dumpfixture: pattern holder pid 32 len 983040" {
		t.Errorf("last log: %+v", s.LastLog)
	}
	var chain []string
	for _, w := range s.Stack {
		chain = append(chain, w.Symbol)
	}
	if !strings.Contains(strings.Join(chain, " "), "start_kernel+") {
		t.Errorf("CPU 0's stack lacks start_kernel: %v", chain)
	}

	// The i386 mini dump keeps only .data..bss: the code and kallsyms are
	// not there, and the errors say why and what would keep them.
	mini := openKernel(t, "i386/qemu-elf-mini.vmcore")
	_, err = mini.Disassemble(bg, DisasmOptions{CPU: 0})
	if !errors.Is(err, model.ErrPageAbsent) || !strings.Contains(err.Error(), "paging=false and begin/length") {
		t.Errorf("i386 mini disasm: %v", err)
	}
	ms := mini.Summary(bg, 3)
	if len(ms.LastLog) != 3 || len(ms.Problems) == 0 || !strings.Contains(ms.Problems[0], "kallsyms") {
		t.Errorf("i386 mini summary: %+v", ms)
	}
}
