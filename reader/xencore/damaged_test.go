package xencore_test

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/xencore"
)

func hasProblem(ps []model.Problem, code, text string) bool {
	for _, p := range ps {
		if p.Code.String() == code && strings.Contains(p.Message, text) {
			return true
		}
	}
	return false
}

func check(t *testing.T, f *xencore.File) []model.Problem {
	t.Helper()
	var probs []model.Problem
	if err := f.Check(context.Background(), func(p model.Problem) { probs = append(probs, p) }); err != nil {
		t.Fatal(err)
	}
	return probs
}

// pvCore is a small x86_64 PV dump for damage tests.
func pvCore(n int) dumptest.XenCore {
	return dumptest.XenCore{Machine: elf.EM_X86_64, Version: sampleVersion,
		VCPUs: [][]byte{x86Regs(0, true).Context64(le)},
		Pages: dumptest.SortedXenPages(0x100, n, nil, func(pfn uint64) uint64 { return pfn + 0x1000 })}
}

// Section header field offsets in Elf64_Shdr.
const (
	shOffset  = 24
	shSize    = 32
	shEntsize = 56
)

func readable(t *testing.T, f *xencore.File, pfns ...uint64) {
	t.Helper()
	buf := make([]byte, f.Info().PageSize)
	for _, pfn := range pfns {
		if _, err := f.ReadPage(model.PFN(pfn), buf, reader.ReadOptions{}); err != nil || !bytes.Equal(buf, dumptest.Pattern(pfn, int(f.Info().PageSize))) {
			t.Fatalf("pfn %#x: %v", pfn, err)
		}
	}
}

// TestTruncated cuts a dump inside .xen_p2m: the string table written last
// is gone, so section names are inferred; frames named by the surviving
// entries stay readable.
func TestTruncated(t *testing.T) {
	core := pvCore(100)
	b, lay := core.Bytes()
	p2m := lay.Sections[".xen_p2m"]
	f := open(t, b[:p2m.Off+40*16+5])
	w := f.Info().Warnings
	if !hasProblem(w, "truncated", ".shstrtab") || !hasProblem(w, "truncated", "section .xen_p2m") {
		t.Fatalf("warnings %v", w)
	}
	readable(t, f, 0x100, 0x100+39)
	if pi := f.PageInfo(0x100 + 40); pi.State != model.StateNotInDump {
		t.Errorf("frame of a lost entry: %+v", pi)
	}
	if sets, _ := f.Registers(); len(sets) != 1 {
		t.Errorf("registers of a truncated file: %d sets", len(sets))
	}
	// Cut inside .xen_pages: the table is gone, notes and registers stay.
	f = open(t, b[:lay.Sections[".xen_pages"].Off+4096*10])
	if !hasProblem(f.Info().Warnings, "truncated", "section .xen_pages") || f.Info().MaxPFN != 0 {
		t.Errorf("warnings %v, max pfn %d", f.Info().Warnings, f.Info().MaxPFN)
	}
	if sets, _ := f.Registers(); len(sets) != 1 {
		t.Error("registers lost with the pages")
	}
	if f.Header.NrPages != 100 {
		t.Error("header note lost")
	}
}

// TestPagesCut: the table survives but pages beyond the end are lost, and a
// .xen_pages smaller than the table makes the rest unreadable.
func TestPagesCut(t *testing.T) {
	core := pvCore(50)
	b, lay := core.Bytes()
	pages := lay.Sections[".xen_pages"]
	// Move the table in front of the pages area's end by shrinking
	// .xen_pages: entries 40.. name pages the section does not hold.
	le.PutUint64(b[pages.HeaderOff+shSize:], 40*4096)
	f := open(t, b)
	if !hasProblem(f.Info().Warnings, "section-size-mismatch", ".xen_pages holds 163840 bytes but nr_pages 50") {
		t.Fatalf("warnings %v", f.Info().Warnings)
	}
	pi := f.PageInfo(0x100 + 45)
	if pi.State != model.StateUnreadable || !strings.Contains(pi.Reason, "holds only 40 pages") {
		t.Fatalf("pfn beyond .xen_pages: %+v", pi)
	}
	if in := dumptest.InfoWithCounts(t, f); in.Pages[model.StateUnreadable] != 10 || in.Pages[model.StatePresent] != 40 {
		t.Errorf("counts %v", in.Pages)
	}
	readable(t, f, 0x100, 0x100+39)
	var runs []model.PageRun
	f.Runs(context.Background(), 0x100, false, func(r model.PageRun) bool { runs = append(runs, r); return true })
	if len(runs) != 2 || runs[1].State != model.StateUnreadable || runs[1].Count != 10 {
		t.Errorf("runs %v", runs)
	}
}

// TestSectionPastEOF points .xen_prstatus beyond the end of the file.
func TestSectionPastEOF(t *testing.T) {
	core := pvCore(10)
	b, lay := core.Bytes()
	pr := lay.Sections[".xen_prstatus"]
	le.PutUint64(b[pr.HeaderOff+shOffset:], uint64(len(b))+0x1000)
	f := open(t, b)
	if !hasProblem(f.Info().Warnings, "truncated", "section .xen_prstatus (sh_offset") {
		t.Fatalf("warnings %v", f.Info().Warnings)
	}
	if sets, _ := f.Registers(); len(sets) != 0 {
		t.Errorf("registers from beyond the file: %v", sets)
	}
	readable(t, f, 0x100, 0x109)
	// An absurd size must not overflow or allocate.
	le.PutUint64(b[pr.HeaderOff+shOffset:], uint64(pr.Off))
	le.PutUint64(b[pr.HeaderOff+shSize:], ^uint64(0)-5)
	f = open(t, b)
	f.Registers()
	f.Layout()
	check(t, f)
}

// TestUnsortedAndDuplicates swaps two p2m entries and repeats a frame.
func TestUnsortedAndDuplicates(t *testing.T) {
	core := pvCore(5000)
	core.Pages[100], core.Pages[4500] = core.Pages[4500], core.Pages[100]
	core.Pages[200].PFN = core.Pages[199].PFN
	b, lay := core.Bytes()
	f := open(t, b)
	probs := check(t, f)
	p2m := lay.Sections[".xen_p2m"]
	found := map[string]bool{}
	for _, p := range probs {
		found[p.Code.String()] = true
		if p.Code.String() == "unsorted-p2m" && p.Severity == model.SeverityError && p.Offset != nil && int64(*p.Offset) != p2m.Off+101*16 && int64(*p.Offset) != p2m.Off+4500*16 {
			t.Errorf("unsorted at %#x: %s", *p.Offset, p)
		}
		if p.Code.String() == "duplicate-pfn" && (p.Offset == nil || int64(*p.Offset) != p2m.Off+200*16) {
			t.Errorf("duplicate at %v: %s", p.Offset, p)
		}
	}
	if !found["unsorted-p2m"] || !found["duplicate-pfn"] {
		t.Fatalf("check: %v", probs)
	}
	// After Check every frame is found, in order, with its page.
	for _, p := range core.Pages {
		if p.PFN != core.Pages[199].PFN {
			readable(t, f, p.PFN)
		}
	}
	var runs []model.PageRun
	f.Runs(context.Background(), 0, false, func(r model.PageRun) bool { runs = append(runs, r); return true })
	for i := 1; i < len(runs); i++ {
		if runs[i].Start != runs[i-1].End() {
			t.Fatalf("runs out of order: %v", runs)
		}
	}
	// Runs on a fresh file find the disorder themselves.
	f = open(t, b)
	var present uint64
	f.Runs(context.Background(), 0, false, func(r model.PageRun) bool {
		if r.State == model.StatePresent {
			present += r.Count
		}
		return true
	})
	if present < 4990 {
		t.Errorf("runs of an unsorted table found %d present frames", present)
	}
}

// TestHeaderDamage covers bad values in the notes.
func TestHeaderDamage(t *testing.T) {
	t.Run("nr_pages", func(t *testing.T) {
		core := pvCore(10)
		core.HeaderPages = 15
		f := open(t, mustBytes(core))
		if !hasProblem(f.Info().Warnings, "section-size-mismatch", ".xen_pages") || !hasProblem(f.Info().Warnings, "section-size-mismatch", ".xen_p2m holds 160 bytes") {
			t.Fatalf("warnings %v", f.Info().Warnings)
		}
		readable(t, f, 0x100, 0x109)
	})
	t.Run("page size", func(t *testing.T) {
		core := pvCore(10)
		core.HeaderPageSize = 3000
		f := open(t, mustBytes(core))
		if !hasProblem(f.Info().Warnings, "bad-page-size", "xch_page_size is 3000") || f.Info().PageSize != 4096 {
			t.Fatalf("warnings %v, page size %d", f.Info().Warnings, f.Info().PageSize)
		}
		readable(t, f, 0x105)
	})
	t.Run("format version", func(t *testing.T) {
		core := pvCore(3)
		core.FormatVersion = 2
		f := open(t, mustBytes(core))
		if !hasProblem(f.Info().Warnings, "format-version", "0.2") || *f.Info().HeaderVersion != 2 {
			t.Fatalf("warnings %v", f.Info().Warnings)
		}
		readable(t, f, 0x101)
	})
	t.Run("no header note", func(t *testing.T) {
		core := pvCore(7)
		core.OmitNotes = map[uint32]bool{dumptest.XenNoteHeader: true}
		f := open(t, mustBytes(core))
		if !hasProblem(f.Info().Warnings, "bad-note", "XEN_ELFNOTE_DUMPCORE_HEADER") || f.Info().CPUs != 1 {
			t.Fatalf("warnings %v", f.Info().Warnings)
		}
		readable(t, f, 0x100, 0x106)
	})
	t.Run("magic", func(t *testing.T) {
		core := pvCore(3)
		core.Magic = 0x1234
		f := open(t, mustBytes(core))
		if !hasProblem(f.Info().Warnings, "bad-xen-header", "xch_magic is 0x1234") || f.HVM() {
			t.Fatalf("warnings %v", f.Info().Warnings)
		}
	})
	t.Run("short context records", func(t *testing.T) {
		core := pvCore(3)
		core.RecordSize = 2800
		core.VCPUs = [][]byte{x86Regs(0, true).Context64(le)}
		f := open(t, mustBytes(core))
		if !hasProblem(f.Info().Warnings, "bad-vcpu-context", "needs 5168") || !hasProblem(check(t, f), "bad-vcpu-context", "vCPU 0") {
			t.Fatalf("warnings %v", f.Info().Warnings)
		}
	})
	t.Run("reversed section order", func(t *testing.T) {
		core := pvCore(10)
		core.ReverseSections = true
		f := open(t, mustBytes(core))
		if len(f.Info().Warnings) != 0 {
			t.Fatalf("warnings %v", f.Info().Warnings)
		}
		readable(t, f, 0x100, 0x109)
	})
}

func mustBytes(c dumptest.XenCore) []byte {
	b, _ := c.Bytes()
	return b
}

// TestInvalidEntries covers a live dump's trailing invalid entries and
// invalid entries where they may not be.
func TestInvalidEntries(t *testing.T) {
	core := pvCore(20)
	core.InvalidTail = 5000 // more than one cached block
	b, lay := core.Bytes()
	f := open(t, b)
	in := dumptest.InfoWithCounts(t, f)
	if in.MaxPFN != 0x100+20 || in.Pages[model.StatePresent] != 20 || in.Pages[model.StateNotInDump] != 0x100 {
		t.Fatalf("info %+v", in)
	}
	probs := check(t, f)
	if !hasProblem(probs, "invalid-entries", "5000 invalid entries") || !hasProblem(probs, "invalid-entries", "max_pfn 0") {
		t.Fatalf("check %v", probs)
	}
	if pi := f.PageInfo(model.PFN(^uint64(0))); pi.State != model.StateNotInDump {
		t.Errorf("frame ~0: %+v", pi)
	}
	// A valid entry after invalid ones, and a half-invalid entry.
	p2m := lay.Sections[".xen_p2m"].Off
	le.PutUint64(b[p2m+30*16:], 0x5000)
	le.PutUint64(b[p2m+30*16+8:], 0x6000)
	le.PutUint64(b[p2m+40*16+8:], 0x7000)
	f = open(t, b)
	probs = check(t, f)
	if !hasProblem(probs, "bad-p2m-entry", "follows an invalid entry") || !hasProblem(probs, "bad-p2m-entry", "wholly invalid") ||
		hasProblem(probs, "invalid-entries", "") {
		t.Fatalf("check %v", probs)
	}
}

// TestNotXen checks what is refused outright.
func TestNotXen(t *testing.T) {
	core := pvCore(2)
	b, lay := core.Bytes()
	for name, mod := range map[string]func([]byte){
		"ELF32":   func(b []byte) { b[elf.EI_CLASS] = byte(elf.ELFCLASS32) },
		"not ELF": func(b []byte) { b[0] = 0 },
		"ET_EXEC": func(b []byte) { le.PutUint16(b[16:], uint16(elf.ET_EXEC)) },
		"no sections": func(b []byte) {
			le.PutUint16(b[60:], 0)
		},
		"no .note.Xen": func(b []byte) {
			n := lay.Sections[".note.Xen"].HeaderOff
			le.PutUint32(b[n+4:], uint32(elf.SHT_PROGBITS))
			le.PutUint32(b[n:], 1) // named .shstrtab
		},
	} {
		c := append([]byte(nil), b...)
		mod(c)
		if _, err := xencore.NewFile(source(name, c)); !errors.Is(err, model.ErrUnrecognized) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := xencore.NewFile(source("short", b[:40])); !errors.Is(err, model.ErrTruncated) {
		t.Errorf("short header: %v", err)
	}
	c := append([]byte(nil), b...)
	le.PutUint64(c[40:], uint64(len(c)))
	if _, err := xencore.NewFile(source("shoff", c)); !errors.Is(err, model.ErrTruncated) || !strings.Contains(err.Error(), "e_shoff") {
		t.Errorf("e_shoff past the end: %v", err)
	}
}
