package inspect

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// VMCOREINFO recovery: copies of real dumps without their note (written
// with dumptest.StripVMCoreInfo) must give the same answers as the
// originals, and a memory holding a forged text beside the kernel's must
// report both and use the kernel's.

var bg = context.Background()

// openSession opens a dump as the CLI does: with the search of memory
// for a missing VMCOREINFO.
func openSession(t *testing.T, paths ...string) *Session {
	t.Helper()
	d, err := open.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	s := NewWithOptions(d, Options{Recover: true})
	t.Cleanup(func() { s.Close() })
	return s
}

// stripped writes a copy of the dump file at path without VMCOREINFO and
// returns its path.
func stripped(t *testing.T, path string) string {
	t.Helper()
	s := openSession(t, path)
	lay, err := s.Dump().Layout()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, n := dumptest.StripVMCoreInfo(b, lay)
	if n == 0 {
		t.Fatalf("%s: nothing to strip", path)
	}
	p := filepath.Join(t.TempDir(), "stripped-"+filepath.Base(path))
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sameAnswers checks that a session on a stripped copy answers as the one
// on the original: release, build id, crash time; the log; kallsyms; a
// page-table walk; the crash analysis; the verdict.
func sameAnswers(t *testing.T, orig, strip *Session) {
	t.Helper()
	ko, err := orig.KernelContext(bg)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := strip.KernelContext(bg)
	if err != nil {
		t.Fatal(err)
	}
	origin, _ := strip.VMCoreInfoOrigin()
	if origin.Source != model.VMCoreInfoFromMemory || origin.Search == nil || origin.Search.Chosen == nil {
		t.Fatalf("origin %+v", origin)
	}
	// The recovered text is the note's, byte for byte.
	if !bytes.Equal(ks.VMCoreInfo().Raw, ko.VMCoreInfo().Raw) {
		t.Errorf("recovered text at %s differs from the note:\n%s", origin.PhysAddr, ks.VMCoreInfo().Raw)
	}
	io, is := orig.Info(), strip.Info()
	if is.VMCoreInfo || !strings.HasPrefix(is.VMCoreInfoFrom, "memory at ") || is.OSRelease != io.OSRelease || is.BuildID != io.BuildID ||
		!reflect.DeepEqual(is.CrashTime, io.CrashTime) {
		t.Errorf("info: %+v\noriginal: %+v", is, io)
	}
	lo, err1 := ko.Log(bg)
	ls, err2 := ks.Log(bg)
	if err1 != nil || err2 != nil || len(lo) < 50 || !reflect.DeepEqual(lo, ls) {
		t.Errorf("logs differ: %d and %d records (%v, %v)", len(lo), len(ls), err1, err2)
	}
	so, err1 := ko.Symbols(bg)
	ss, err2 := ks.Symbols(bg)
	if err1 != nil || err2 != nil || so.Len() != ss.Len() || !reflect.DeepEqual(so.Lookup("start_kernel"), ss.Lookup("start_kernel")) {
		t.Errorf("kallsyms differ: %v %v", err1, err2)
	}
	uts, _ := ko.VMCoreInfo().Symbol("init_uts_ns")
	to, err1 := ko.Translate(bg, model.VirtAddr(uts))
	ts, err2 := ks.Translate(bg, model.VirtAddr(uts))
	if err1 != nil || err2 != nil || !reflect.DeepEqual(to, ts) {
		t.Errorf("vtop differs: %+v %v / %+v %v", to, err1, ts, err2)
	}
	ao, err1 := orig.Crash(bg)
	as, err2 := strip.Crash(bg)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(ao, as) {
		t.Errorf("crash analyses differ:\n%+v\n%+v", ao, as)
	}
	vo, err1 := orig.Verdict(bg)
	vs, err2 := strip.Verdict(bg)
	if err1 != nil || err2 != nil || vo.Ready != vs.Ready || len(vo.Capabilities) != len(vs.Capabilities) {
		t.Fatalf("verdicts: %+v %v / %+v %v", vo, err1, vs, err2)
	}
	for i := range vo.Capabilities {
		if vo.Capabilities[i].Supported != vs.Capabilities[i].Supported {
			t.Errorf("%s: %+v / %+v", vo.Capabilities[i].Name, vo.Capabilities[i], vs.Capabilities[i])
		}
	}
	if vs.Capability(model.CapVMCoreInfo).Detail == vo.Capability(model.CapVMCoreInfo).Detail || len(vs.Problems) != len(vo.Problems)+1 ||
		vs.Problems[len(vs.Problems)-1].Code != model.CodeVMCoreInfoRecovered {
		t.Errorf("the stripped verdict should say where VMCOREINFO came from: %+v", vs)
	}
}

// TestRecoverStrippedELF: the tiny QEMU ELF of ../shared/fixtures without
// its note.
func TestRecoverStrippedELF(t *testing.T) {
	path := dumptest.Fixture(t, "x86_64/qemu-elf-paging.vmcore")
	sp := stripped(t, path)
	strip := openSession(t, sp)
	if _, err := strip.Dump().VMCoreInfo(); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("the copy still has VMCOREINFO: %v", err)
	}
	sameAnswers(t, openSession(t, path), strip)
	origin, _ := strip.VMCoreInfoOrigin()
	// vmcoreinfo_data (page-aligned) and vmcoreinfo_note (24 bytes into
	// its page) of one kernel, both valid: the note is the one chosen.
	s := origin.Search
	if len(s.Candidates) != 2 || s.Candidates[*s.Chosen].Form != "note" || s.Candidates[0].Kernel != s.Candidates[1].Kernel ||
		!s.Candidates[0].Valid || !s.Candidates[1].Valid || s.PagesSearched != 5088 {
		t.Errorf("search %+v", s)
	}
	for _, c := range s.Candidates {
		if off := uint64(c.PhysAddr) % 4096; (c.Form == "note") != (off == noteHeader) || (c.Form == "text" && off != 0) {
			t.Errorf("%s at %s", c.Form, c.PhysAddr)
		}
	}
}

// TestRecoverStrippedKdump: the Debian panic dump with its kdump
// sub-header and note stripped; the note copy (with CRASHTIME) is chosen
// over vmcoreinfo_data (without: kexec's safe copy got it).
func TestRecoverStrippedKdump(t *testing.T) {
	path := dumptest.KernelFixture(t, "panic-sysrq-mdf-zlib-d31.kdump")
	strip := openSession(t, stripped(t, path))
	sameAnswers(t, openSession(t, path), strip)
	origin, _ := strip.VMCoreInfoOrigin()
	s := origin.Search
	c := s.Candidates[*s.Chosen]
	if c.Form != "note" || c.CrashTime == nil || len(s.Candidates) != 2 || s.Hits != 3 {
		t.Errorf("search %+v", s)
	}
	tr, err := strip.Triage(bg)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Why.Signature == nil || tr.Why.Signature.Title != "kernel panic: sysrq triggered crash" || tr.What.Release != "6.1.0-57-amd64" ||
		tr.What.BuildID == "" || tr.What.CrashTime == nil || tr.VMCoreInfo.Source != model.VMCoreInfoFromMemory || !tr.Usable.Ready {
		t.Errorf("triage %+v", tr)
	}
}

// forge rewrites a VMCOREINFO text as another kernel's: every SYMBOL()
// and KERNELOFFSET moved by delta, and a CRASHTIME, so that a chooser
// that preferred crashed kernels without checking would take it.
func forge(raw []byte, delta uint64) []byte {
	re := regexp.MustCompile(`(?m)^(SYMBOL\([^)]*\)|KERNELOFFSET)=([0-9a-f]+)$`)
	out := re.ReplaceAllFunc(raw, func(m []byte) []byte {
		k, v, _ := strings.Cut(string(m), "=")
		var n uint64
		fmt.Sscanf(v, "%x", &n)
		return []byte(fmt.Sprintf("%s=%x", k, n+delta))
	})
	return append(out, "CRASHTIME=1700000000\n"...)
}

// TestRecoverTwoKernels: memory holds the kernel's texts and a forged one
// (another KASLR layout, with CRASHTIME); all are reported, the forged one
// fails the checks, the kernel's is used.
func TestRecoverTwoKernels(t *testing.T) {
	path := dumptest.Fixture(t, "x86_64/qemu-elf-paging.vmcore")
	orig := openSession(t, path)
	v, err := orig.Dump().VMCoreInfo()
	if err != nil {
		t.Fatal(err)
	}
	sp := stripped(t, path)
	b, err := os.ReadFile(sp)
	if err != nil {
		t.Fatal(err)
	}
	// A zero page of RAM receives the forged text.
	d := openSession(t, sp).Dump()
	page := make([]byte, 4096)
	var at model.PageInfo
	for pfn := model.PFN(0x1000); pfn < 0x13e0; pfn++ {
		pi, err := d.ReadPage(pfn, page, reader.ReadOptions{})
		if err == nil && pi.State == model.StatePresent && bytes.Count(page, []byte{0}) == len(page) && pi.FileOffset > 0 {
			at = pi
			break
		}
	}
	if at.FileOffset <= 0 {
		t.Fatal("no zero page to write into")
	}
	fake := forge(v.Raw, 0x2000000)
	copy(b[at.FileOffset:], fake)
	two := filepath.Join(t.TempDir(), "two-kernels.vmcore")
	if err := os.WriteFile(two, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openSession(t, two)
	search, got, err := RecoverVMCoreInfo(bg, s.Dump(), RecoverOptions{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(search.Candidates) != 3 || got == nil || !bytes.Equal(got.Raw, v.Raw) {
		t.Fatalf("search %+v", search)
	}
	kernels := map[int]bool{}
	for _, c := range search.Candidates {
		kernels[c.Kernel] = true
		forged := c.PhysAddr == at.PhysAddr
		if forged == c.Valid || (forged && (c.CrashTime == nil || !strings.Contains(c.Reason, "kallsyms"))) {
			t.Errorf("candidate %+v", c)
		}
	}
	if len(kernels) != 2 || search.Candidates[*search.Chosen].PhysAddr == at.PhysAddr {
		t.Errorf("kernels %v, chosen %d", kernels, *search.Chosen)
	}
	// The session uses the kernel's, and says what it found.
	k, err := s.KernelContext(bg)
	if err != nil || !bytes.Equal(k.VMCoreInfo().Raw, v.Raw) {
		t.Fatalf("session: %v", err)
	}
	origin, _ := s.VMCoreInfoOrigin()
	if !strings.Contains(origin.Reason, "of 2 kernel(s), 2 valid") {
		t.Errorf("reason %q", origin.Reason)
	}
}

// TestRecoverNothing: a partial dump whose memory holds no VMCOREINFO:
// the search says so, and the engine goes on without one.
func TestRecoverNothing(t *testing.T) {
	path := dumptest.Fixture(t, "x86_64/qemu-elf-mini.vmcore")
	s := openSession(t, stripped(t, path))
	if _, err := s.KernelContext(bg); err != nil {
		t.Fatal(err)
	}
	origin, _ := s.VMCoreInfoOrigin()
	if origin.Source != model.VMCoreInfoFromNone || origin.Search == nil || origin.Search.Hits != 0 || origin.Search.PagesSearched != 534 ||
		!strings.Contains(origin.Reason, "not in the dump's memory") {
		t.Errorf("origin %+v", origin)
	}
	v, err := s.Verdict(bg)
	if err != nil || v.Ready || v.Capability(model.CapVMCoreInfo).Supported {
		t.Errorf("verdict %+v %v", v, err)
	}
}

// TestVMCoreInfoOverride: a --vmcoreinfo text replaces the dump's, is
// checked, and gives Info its release.
func TestVMCoreInfoOverride(t *testing.T) {
	path := dumptest.Fixture(t, "x86_64/qemu-elf-paging.vmcore")
	d, err := open.Open(stripped(t, path))
	if err != nil {
		t.Fatal(err)
	}
	orig := openSession(t, path)
	v, _ := orig.Dump().VMCoreInfo()
	s := NewWithOptions(d, Options{VMCoreInfo: model.ParseVMCoreInfo(v.Raw), VMCoreInfoFile: "saved.txt"})
	defer s.Close()
	if in := s.Info(); in.OSRelease != "6.1.192" || in.VMCoreInfoFrom != "file saved.txt" {
		t.Errorf("info before the engine: %+v", in)
	}
	if _, err := s.KernelContext(bg); err != nil {
		t.Fatal(err)
	}
	origin, _ := s.VMCoreInfoOrigin()
	if origin.Source != model.VMCoreInfoFromFile || origin.Search != nil || !strings.Contains(origin.Reason, "kallsyms decodes") {
		t.Errorf("origin %+v", origin)
	}
	// A text for another layout is used, and the reason says it is wrong.
	d2, _ := open.Open(path)
	bad := NewWithOptions(d2, Options{VMCoreInfo: model.ParseVMCoreInfo(forge(v.Raw, 0x2000000)), VMCoreInfoFile: "wrong.txt"})
	defer bad.Close()
	if _, err := bad.KernelContext(bg); err != nil {
		t.Fatal(err)
	}
	if o, _ := bad.VMCoreInfoOrigin(); !strings.Contains(o.Reason, "does not describe this memory") {
		t.Errorf("origin %+v", o)
	}
}

// TestVMCoreInfoOtherPageSize: a VMCOREINFO of another page size is
// refused with an error, for every feature that asks for the engine; the
// engine was nil with no error, and every kernel command panicked on it.
func TestVMCoreInfoOtherPageSize(t *testing.T) {
	for _, text := range []string{"OSRELEASE=6.1.0\nPAGESIZE=8192\n", "OSRELEASE=6.1.0\nPAGESIZE=0\n", "OSRELEASE=6.1.0\nPAGESIZE=4k\n"} {
		v := model.ParseVMCoreInfo([]byte(text))
		d := openELF(t, nil)
		if why := PageSizeMismatch(d, v); !strings.Contains(why, "the dump's page size is 4096") {
			t.Errorf("%q: PageSizeMismatch %q", text, why)
		}
		s := NewWithOptions(d, Options{VMCoreInfo: v, VMCoreInfoFile: "other.txt"})
		k, err := s.KernelContext(bg)
		if k != nil || err == nil || !strings.Contains(err.Error(), "--vmcoreinfo other.txt does not describe this dump") {
			t.Errorf("%q: engine %v, %v", text, k != nil, err)
		}
		if _, err := s.Crash(bg); err == nil {
			t.Errorf("%q: Crash without an engine gave no error", text)
		}
		s.Close()
	}
	if why := PageSizeMismatch(openELF(t, nil), model.ParseVMCoreInfo([]byte("OSRELEASE=6.1.0\nPAGESIZE=4096\n"))); why != "" {
		t.Errorf("the same page size: %q", why)
	}
}

// TestVMCoreInfoFactsAgree: the release, build id and crash time that a
// dump's own VMCOREINFO note gives Info (the format reader's side) are the
// ones the session gives Info when the same text comes from a file
// (--vmcoreinfo, the session's side), for the text the kernel writes and
// for edited copies of it.
func TestVMCoreInfoFactsAgree(t *testing.T) {
	crashTime := func(n int64) *int64 { return &n }
	for _, c := range []struct {
		name, text string
		release    string
		crash      *int64
	}{
		{"kernel", "OSRELEASE=6.1.0\nPAGESIZE=4096\nBUILD-ID=0123abcd\nCRASHTIME=1700000000\n", "6.1.0", crashTime(1700000000)},
		{"CRLF and blank lines", "OSRELEASE=6.1.0\r\nPAGESIZE=4096\r\n\r\n\nCRASHTIME=1700000000\r\n", "6.1.0", crashTime(1700000000)},
		{"blanks around the number", "OSRELEASE=6.1.0\nPAGESIZE=4096\nCRASHTIME= 1700000000 \t\n", "6.1.0", crashTime(1700000000)},
		{"repeated keys, the first wins", "OSRELEASE=6.1.0\nPAGESIZE=4096\nCRASHTIME=-5\nCRASHTIME=7\nOSRELEASE=later\n", "6.1.0", crashTime(-5)},
		{"NUL padding", "OSRELEASE=6.1.0\nPAGESIZE=4096\nCRASHTIME=42\x00\x00\x00", "6.1.0", crashTime(42)},
		{"hex is not a crash time", "OSRELEASE=6.1.0\nPAGESIZE=4096\nCRASHTIME=0x10\n", "6.1.0", nil},
		{"no crash time", "OSRELEASE=6.1.0\nPAGESIZE=4096\n", "6.1.0", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			withNote := openELF(t, []byte(c.text))
			fromNote := withNote.Info()
			plain := openELF(t, nil)
			s := NewWithOptions(plain, Options{VMCoreInfo: model.ParseVMCoreInfo([]byte(c.text)), VMCoreInfoFile: "saved.txt"})
			defer s.Close()
			fromFile := s.Info()
			if fromNote.OSRelease != c.release || fromFile.OSRelease != c.release {
				t.Errorf("release: note %q, file %q, want %q", fromNote.OSRelease, fromFile.OSRelease, c.release)
			}
			if fromNote.BuildID != fromFile.BuildID {
				t.Errorf("build id: note %q, file %q", fromNote.BuildID, fromFile.BuildID)
			}
			show := func(p *int64) any {
				if p == nil {
					return nil
				}
				return *p
			}
			if show(fromNote.CrashTime) != show(c.crash) || show(fromFile.CrashTime) != show(c.crash) {
				t.Errorf("crash time: note %v, file %v, want %v", show(fromNote.CrashTime), show(fromFile.CrashTime), show(c.crash))
			}
		})
	}
}

// openELF opens a small x86_64 ELF vmcore with vmcoreinfo as its
// VMCOREINFO note, or with no note when vmcoreinfo is nil.
func openELF(t *testing.T, vmcoreinfo []byte) reader.Dump {
	t.Helper()
	core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Order: binary.LittleEndian, Machine: elf.EM_X86_64,
		Segments: []dumptest.ELFSegment{{Data: dumptest.Pattern(1, 0x2000)}}}
	if vmcoreinfo != nil {
		core.Notes = []dumptest.ELFNote{{Name: "VMCOREINFO", Desc: vmcoreinfo}}
	}
	b, _ := core.Bytes()
	d, err := open.Sources(reader.Source{Name: "t.vmcore", R: bytes.NewReader(b), Size: int64(len(b))})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestKernelKey: copies of one kernel's text share a key whether or not
// they hold CRASHTIME (and however their lines end); another value gives
// another key.
func TestKernelKey(t *testing.T) {
	base := "OSRELEASE=6.1.0\nPAGESIZE=4096\nSYMBOL(_stext)=ffffffff81000000\n"
	for _, same := range []string{
		"CRASHTIME=1700000000\n" + base,
		base + "CRASHTIME=1700000000\n",
		strings.ReplaceAll(base, "\n", "\n\n") + "\x00\x00",
	} {
		if kernelKey([]byte(same)) != kernelKey([]byte(base)) {
			t.Errorf("%q has another key than %q", same, base)
		}
	}
	if kernelKey([]byte(strings.Replace(base, "81000000", "82000000", 1))) == kernelKey([]byte(base)) {
		t.Error("texts with different _stext share a key")
	}
}
