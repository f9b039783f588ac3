package xencore_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/xencore"
)

var le = binary.LittleEndian

func source(name string, b []byte) reader.Source {
	return reader.Source{Name: name, R: bytes.NewReader(b), Size: int64(len(b))}
}

func open(t testing.TB, b []byte) *xencore.File {
	t.Helper()
	f, err := xencore.NewFile(source("test.core", b))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sampleVersion is a XEN_VERSION with every string field set.
var sampleVersion = dumptest.XenVersion{Major: 4, Minor: 16, Extra: ".2-pre", Compiler: "gcc (Debian 12.2.0-14) 12.2.0",
	CompileBy: "pkg-xen-devel", CompileDomain: "lists.alioth.debian.org", CompileDate: "Tue Aug 13 2024",
	Capabilities: "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64", Changeset: "deadbeef12", VirtStart: 0xffff800000000000, PageSize: 4096}

// x86Regs returns vCPU cpu's registers with recognisable values.
func x86Regs(cpu int, guest64 bool) *dumptest.XenX86Regs {
	r := &dumptest.XenX86Regs{Flags: 1<<5 | 1<<2 | 1, IP: 0xffffffff81000000 + uint64(cpu)*0x10, RFlags: 0x246,
		SP: 0xffffc90000100000 + uint64(cpu)*0x1000, CS: 0xe033, SS: 0xe02b, KernelSS: 0xe02b, VMAssist: 4,
		Traps: []dumptest.XenTrap{{Vector: 14, CS: 0xe033, Address: 0xffffffff81a00000}}}
	for i := range r.GPR {
		r.GPR[i] = uint64(cpu)<<16 | uint64(i)
	}
	r.CtrlReg[0], r.CtrlReg[4] = 0x80050033, 0x6f0
	r.CtrlReg[3] = 0x12345 << 12
	if !guest64 {
		r.IP, r.SP = 0xc1000000+uint64(cpu)*0x10, 0xc2000000
		r.CS, r.SS = 0xe019, 0xe021
		r.CtrlReg[3] = dumptest.XenCR3For32(0x123456)
	}
	return r
}

type variant struct {
	name      string
	core      dumptest.XenCore
	arch      string
	ipName    string
	ip        func(cpu int) uint64
	frameKind string
	mappedSet bool
}

func hole(pfn uint64) bool { return pfn >= 0xa0 && pfn < 0x100 } // the PC I/O hole

func variants() []variant {
	pages := dumptest.SortedXenPages(0, 300, hole, func(pfn uint64) uint64 { return 0x80000 + pfn*3 })
	pvPages := append(append([]dumptest.XenPage(nil), pages...), dumptest.XenPage{PFN: 0x10000, GMFN: 0x7777})
	x64 := func(hvm bool) [][]byte {
		return [][]byte{x86Regs(0, true).Context64(le), x86Regs(1, true).Context64(le)}
	}
	x32 := func(n int) [][]byte {
		var out [][]byte
		for cpu := 0; cpu < n; cpu++ {
			out = append(out, x86Regs(cpu, false).Context32(le))
		}
		return out
	}
	ia64 := func(cpu int) []byte {
		r := &dumptest.IA64Regs{IP: 0xa000000100000000 + uint64(cpu)*0x20, PSR: 1 << 13, Flags: 8}
		r.R[12] = 0xe000000000100000
		return r.Context(le)
	}
	mapped := func(cpu int) []byte {
		m := &dumptest.IA64Mapped{VPSR: 1<<14 | uint64(cpu), Banknum: 1}
		return m.Bytes(le, 16384)
	}
	ver := sampleVersion
	ver16k := sampleVersion
	ver16k.PageSize = 16384
	x86ip := func(cpu int) uint64 { return 0xffffffff81000000 + uint64(cpu)*0x10 }
	x32ip := func(cpu int) uint64 { return 0xc1000000 + uint64(cpu)*0x10 }
	return []variant{
		{name: "x86_64 PV", arch: "x86_64", ipName: "rip", ip: x86ip, frameKind: xencore.FrameGuest,
			core: dumptest.XenCore{Machine: elf.EM_X86_64, VCPUs: x64(false), Pages: pvPages, Version: ver,
				SharedInfo: dumptest.XenSharedInfoX8664(le, 4096, 0x10001, 0xabcde, 1700000000)}},
		{name: "x86_64 HVM", arch: "x86_64", ipName: "rip", ip: x86ip, frameKind: xencore.FrameGuest,
			core: dumptest.XenCore{Machine: elf.EM_X86_64, HVM: true, VCPUs: x64(true), Pages: pages, Version: ver}},
		{name: "x86_32 PV, 64-bit tools", arch: "i386", ipName: "eip", ip: x32ip, frameKind: xencore.FrameGuest,
			core: dumptest.XenCore{Machine: elf.EM_386, VCPUs: x32(3), Pages: pvPages, Version: ver, SharedInfo: make([]byte, 4096)}},
		{name: "x86_32 PV, 32-bit tools", arch: "i386", ipName: "eip", ip: x32ip, frameKind: xencore.FrameGuest,
			core: dumptest.XenCore{Machine: elf.EM_386, Tools32: true, VCPUs: x32(1), Pages: pvPages, Version: ver}},
		{name: "x86_32 HVM", arch: "i386", ipName: "eip", ip: x32ip, frameKind: xencore.FrameGuest,
			core: dumptest.XenCore{Machine: elf.EM_386, HVM: true, VCPUs: x32(2), Pages: pages, Version: ver}},
		{name: "ia64 PV", arch: "ia64", ipName: "ip", ip: func(cpu int) uint64 { return 0xa000000100000000 + uint64(cpu)*0x20 },
			frameKind: xencore.FrameGuest, mappedSet: true,
			core: dumptest.XenCore{Machine: elf.EM_IA_64, PFNTable: true, PageSize: 16384, VCPUs: [][]byte{ia64(0), ia64(1)},
				MappedRegs: [][]byte{mapped(0), mapped(1)}, MappedRegsSize: 16384, IA64LibxcOffsets: true,
				SharedInfo: bytes.Repeat([]byte{0x5a}, 16384), Pages: pages[:40], Version: ver16k}},
		{name: "ia64 PV, consistent offsets", arch: "ia64", ipName: "ip", ip: func(cpu int) uint64 { return 0xa000000100000000 + uint64(cpu)*0x20 },
			frameKind: xencore.FrameGuest, mappedSet: true,
			core: dumptest.XenCore{Machine: elf.EM_IA_64, PFNTable: true, PageSize: 16384, VCPUs: [][]byte{ia64(0)},
				MappedRegs: [][]byte{mapped(0)}, MappedRegsSize: 16384, SharedInfo: bytes.Repeat([]byte{0x5a}, 16384), Pages: pages[:40], Version: ver16k}},
		{name: "ia64 HVM", arch: "ia64", ipName: "ip", ip: func(cpu int) uint64 { return 0xa000000100000000 + uint64(cpu)*0x20 },
			frameKind: xencore.FrameGuest,
			core:      dumptest.XenCore{Machine: elf.EM_IA_64, HVM: true, PageSize: 16384, VCPUs: [][]byte{ia64(0)}, Pages: pages[:40], Version: ver16k}},
	}
}

// TestRoundTrip writes every variant and reads back its info, pages,
// frame runs, registers, notes and layout.
func TestRoundTrip(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			b, lay := v.core.Bytes()
			f := open(t, b)
			ps := int64(v.core.PageSize)
			if ps == 0 {
				ps = 4096
			}
			checkInfo(t, f, v, ps)
			checkPages(t, f, v, ps)
			checkRegisters(t, f, v)
			checkNotes(t, f, v, lay)
			checkLayout(t, f, b)
			var probs []model.Problem
			if err := f.Check(context.Background(), func(p model.Problem) { probs = append(probs, p) }); err != nil {
				t.Fatal(err)
			}
			for _, p := range append(f.Info().Warnings, probs...) {
				if p.Severity != model.SeverityNote {
					t.Errorf("unexpected problem: %s", p)
				}
			}
			if got := hasProblem(f.Info().Warnings, "ia64-section-order", "swapped offsets"); got != v.core.IA64LibxcOffsets {
				t.Errorf("ia64-section-order reported: %v", got)
			}
		})
	}
}

func checkInfo(t *testing.T, f *xencore.File, v variant, ps int64) {
	t.Helper()
	in := dumptest.InfoWithCounts(t, f)
	last := v.core.Pages[len(v.core.Pages)-1].PFN
	if in.Format != model.FormatXenCore || in.Arch != v.arch || in.PageSize != ps || in.CPUs != len(v.core.VCPUs) ||
		uint64(in.MaxPFN) != last+1 || in.FrameKind != v.frameKind || in.HeaderVersion == nil || *in.HeaderVersion != 1 {
		t.Fatalf("info: %+v", in)
	}
	if got := in.Pages[model.StatePresent]; got != uint64(len(v.core.Pages)) {
		t.Errorf("info counts %d present pages, want %d", got, len(v.core.Pages))
	}
	if got := in.Pages[model.StateNotInDump]; got != last+1-uint64(len(v.core.Pages)) {
		t.Errorf("info counts %d frames not in the dump", got)
	}
	want := "XC_CORE_MAGIC"
	if v.core.HVM {
		want = "XC_CORE_MAGIC_HVM"
	}
	if len(in.Flags) != 1 || in.Flags[0] != want {
		t.Errorf("flags %v", in.Flags)
	}
	if f.Version == nil || f.Version.Compiler != sampleVersion.Compiler || f.Version.CompileDomain != sampleVersion.CompileDomain ||
		f.Version.Capabilities != sampleVersion.Capabilities || f.Version.Changeset != sampleVersion.Changeset ||
		f.Version.CompileDate != sampleVersion.CompileDate || f.Version.Extra != ".2-pre" || f.Version.Major != 4 || f.Version.Minor != 16 {
		t.Errorf("xen version %+v", f.Version)
	}
	// Both the 64-bit layout and the 32-bit one (32-bit tools, or 64-bit
	// tools moving pagesize for a 32-bit guest) give the page size.
	if f.Version != nil && f.Version.PageSize != v.core.Version.PageSize {
		t.Errorf("XEN_VERSION pagesize %d, want %d (layout32 %v)", f.Version.PageSize, v.core.Version.PageSize, f.Version.Layout32)
	}
	wantVirt := sampleVersion.VirtStart
	if v.core.Machine == elf.EM_386 {
		wantVirt &= 0xffffffff
	}
	if f.Version != nil && f.Version.VirtStart != wantVirt {
		t.Errorf("virt_start %#x, want %#x", f.Version.VirtStart, wantVirt)
	}
}

func checkPages(t *testing.T, f *xencore.File, v variant, ps int64) {
	t.Helper()
	buf := make([]byte, ps)
	listed := map[uint64]bool{}
	for i, p := range v.core.Pages {
		listed[p.PFN] = true
		pi, err := f.ReadPage(model.PFN(p.PFN), buf, reader.ReadOptions{})
		if err != nil {
			t.Fatalf("pfn %#x: %v", p.PFN, err)
		}
		if !bytes.Equal(buf, dumptest.Pattern(p.PFN, int(ps))) {
			t.Fatalf("pfn %#x: wrong bytes (page %d)", p.PFN, i)
		}
		pv := !v.core.HVM && !v.core.PFNTable
		switch {
		case pv && (pi.MFN == nil || *pi.MFN != p.GMFN):
			t.Fatalf("pfn %#x: mfn %v, want %#x", p.PFN, pi.MFN, p.GMFN)
		case !pv && pi.MFN != nil:
			t.Fatalf("pfn %#x: an mfn in a dump without .xen_p2m", p.PFN)
		}
		if pi.State != model.StatePresent || pi.Codec != model.CodecNone || pi.StoredSize != ps {
			t.Fatalf("pfn %#x: %+v", p.PFN, pi)
		}
		// Machine frames (what PV page tables hold) lead back to the page.
		mfn := p.PFN
		if pv {
			mfn = p.GMFN
		}
		if got, ok, err := f.MachineFrame(mfn); err != nil || !ok || uint64(got) != p.PFN {
			t.Fatalf("machine frame %#x: pfn %s %v %v, want %#x", mfn, got, ok, err, p.PFN)
		}
	}
	if _, ok, _ := f.MachineFrame(0x7ffffff); ok {
		t.Error("an absent machine frame was found")
	}
	for _, pfn := range []uint64{0xa0, 0xff, 0x9999, 0x20000, 1 << 40} {
		if listed[pfn] {
			continue
		}
		pi, err := f.ReadPage(model.PFN(pfn), buf, reader.ReadOptions{})
		if pi.State != model.StateNotInDump || err == nil {
			t.Errorf("pfn %#x: %s, %v", pfn, pi.State, err)
		}
	}
	// Runs: present runs exactly where pages are.
	var got []model.PageRun
	if err := f.Runs(context.Background(), 0, true, func(r model.PageRun) bool { got = append(got, r); return true }); err != nil {
		t.Fatal(err)
	}
	var want []model.PageRun
	next := uint64(0)
	for _, p := range v.core.Pages {
		if p.PFN > next {
			want = appendRun(want, model.PageRun{Start: model.PFN(next), Count: p.PFN - next, State: model.StateNotInDump})
		}
		want = appendRun(want, model.PageRun{Start: model.PFN(p.PFN), Count: 1, State: model.StatePresent})
		next = p.PFN + 1
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("runs\n got %v\nwant %v", got, want)
	}
	// Runs from the middle start at the frame asked for.
	got = got[:0]
	f.Runs(context.Background(), 0x20, false, func(r model.PageRun) bool { got = append(got, r); return false })
	if len(got) != 1 || got[0].Start != 0x20 {
		t.Errorf("runs from 0x20: %v", got)
	}
}

func appendRun(rs []model.PageRun, r model.PageRun) []model.PageRun {
	if n := len(rs); n > 0 && rs[n-1].State == r.State && rs[n-1].End() == r.Start {
		rs[n-1].Count += r.Count
		return rs
	}
	return append(rs, r)
}

func checkRegisters(t *testing.T, f *xencore.File, v variant) {
	t.Helper()
	sets, err := f.Registers()
	if err != nil {
		t.Fatal(err)
	}
	want := len(v.core.VCPUs)
	if v.mappedSet {
		want *= 2
	}
	if len(sets) != want {
		t.Fatalf("%d register sets, want %d", len(sets), want)
	}
	cpu := 0
	for _, s := range sets {
		if s.Source == model.SourceIA64MappedRegs {
			if vpsr, _ := s.Get("vpsr"); vpsr != 1<<14|uint64(s.CPU) {
				t.Errorf("cpu %d: vpsr %#x", s.CPU, vpsr)
			}
			continue
		}
		if s.Source != model.SourceXenVCPUContext || s.CPU != cpu || s.Arch != v.arch {
			t.Fatalf("set %d: cpu %d source %s arch %s", cpu, s.CPU, s.Source, s.Arch)
		}
		if ip, ok := s.Get(v.ipName); !ok || ip != v.ip(cpu) {
			t.Errorf("cpu %d: %s = %#x, want %#x", cpu, v.ipName, ip, v.ip(cpu))
		}
		if v.arch == "x86_64" || v.arch == "i386" {
			flags := "rflags"
			if v.arch == "i386" {
				flags = "eflags"
			}
			if fl, _ := s.Get(flags); fl != 0x246 {
				t.Errorf("cpu %d: %s %#x", cpu, flags, fl)
			}
			if cr0, _ := s.Get("cr0"); cr0 != 0x80050033 {
				t.Errorf("cpu %d: cr0 %#x", cpu, cr0)
			}
			_, pvOnly := s.Get("kernel_sp")
			if pvOnly == v.core.HVM {
				t.Errorf("cpu %d: kernel_sp exported %v for HVM %v", cpu, pvOnly, v.core.HVM)
			}
		}
		cpu++
	}
}

func checkNotes(t *testing.T, f *xencore.File, v variant, lay dumptest.XenLayout) {
	t.Helper()
	notes, _ := f.Notes()
	types := []uint32{xencore.NoteNone, xencore.NoteHeader, xencore.NoteXenVersion, xencore.NoteFormatVersion}
	if len(notes) != 4 {
		t.Fatalf("%d notes", len(notes))
	}
	for i, n := range notes {
		if n.Name != "Xen" || n.Type != types[i] || int64(n.Offset) != lay.NoteOffsets[types[i]] || n.Summary == "" {
			t.Errorf("note %d: %+v", i, n)
		}
	}
	if !strings.Contains(notes[1].Summary, fmt.Sprintf("%d vCPUs", len(v.core.VCPUs))) || notes[3].Summary != "format 0.1" {
		t.Errorf("summaries %q, %q", notes[1].Summary, notes[3].Summary)
	}
	if _, err := f.VMCoreInfo(); err == nil || !strings.Contains(err.Error(), "no VMCOREINFO") {
		t.Errorf("VMCoreInfo: %v", err)
	}
}

// checkLayout checks the layout tree stays inside the file, labels the
// ELF header, every section header and the known sections.
func checkLayout(t *testing.T, f *xencore.File, b []byte) {
	t.Helper()
	root, err := f.Layout()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	root.Walk(func(n *model.Field, depth int) bool {
		if n.Offset < 0 || int64(n.End()) > int64(len(b)) {
			t.Errorf("layout node %s at %#x+%d outside the file", n.Name, n.Offset, n.Size)
		}
		names[n.Name]++
		return true
	})
	for _, want := range []string{"Elf64_Ehdr", "e_shstrndx", "xch_magic", "xch_page_size", "capabilities", "pagesize",
		"version", ".xen_pages data", ".xen_prstatus data", "vcpu_guest_context[0]", "[0]"} {
		if names[want] == 0 {
			t.Errorf("layout lacks %q", want)
		}
	}
	if names["Elf64_Shdr[0]"] != 1 || names[fmt.Sprintf("Elf64_Shdr[%d]", len(f.Sections)-1)] != 1 {
		t.Error("layout lacks section headers")
	}
}
