package xencore_test

import (
	"context"
	"debug/elf"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/xencore"
)

// exercise calls every entry point of an opened dump; none may panic, and
// what one says must agree with the others.
func exercise(t *testing.T, f *xencore.File) {
	in := f.Info()
	if in.PageSize <= 0 || in.PageSize&(in.PageSize-1) != 0 {
		t.Fatalf("page size %d", in.PageSize)
	}
	if _, err := f.Layout(); err != nil {
		t.Fatalf("Layout of an opened file failed: %v", err)
	}
	f.Notes()
	f.Registers()
	f.VMCoreInfo()
	buf := make([]byte, f.Info().PageSize)
	n := 0
	err := f.Runs(context.Background(), 0, true, func(r model.PageRun) bool {
		for _, pfn := range []model.PFN{r.Start, r.End() - 1} {
			pi, err := f.ReadPage(pfn, buf, reader.ReadOptions{})
			if pi.State != r.State {
				t.Fatalf("pfn %s: run says %s, PageInfo %s", pfn, r.State, pi.State)
			}
			if (err == nil) != (pi.State == model.StatePresent) {
				t.Fatalf("pfn %s: %s but ReadPage says %v", pfn, pi.State, err)
			}
			f.ExplainPage(pfn)
		}
		n++
		return n < 200
	})
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	f.Check(context.Background(), func(model.Problem) {})
	f.PageInfo(model.PFN(^uint64(0)))
}

// fuzzSeeds are writer-made dumps of every variant, small enough to mutate.
func fuzzSeeds() [][]byte {
	var out [][]byte
	for _, v := range variants() {
		c := v.core
		if len(c.Pages) > 3 {
			c.Pages = c.Pages[:3]
		}
		c.PageSize = 1024
		if c.SharedInfo != nil {
			c.SharedInfo = c.SharedInfo[:1024]
		}
		c.MappedRegsSize = 4096
		b, _ := c.Bytes()
		out = append(out, b)
	}
	live := pvCore(4)
	live.InvalidTail = 2
	live.PageSize = 1024
	out = append(out, mustBytes(live))
	return out
}

// FuzzXenCore opens arbitrary bytes as an ELF Xen dump-core: section
// headers, the string table, the notes, the section sizes, the frame
// table and the contexts all come from the input.
func FuzzXenCore(f *testing.F) {
	for _, b := range fuzzSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := xencore.NewFile(source("fuzz", b))
		if err != nil {
			return
		}
		exercise(t, file)
	})
}

// FuzzXenLegacy opens arbitrary bytes as a legacy Xen core.
func FuzzXenLegacy(f *testing.F) {
	for _, c := range []dumptest.XenLegacyCore{
		{ContextSize: 2800, VCPUs: [][]byte{x86Regs(0, false).Context32(le)}, Pages: legacyPages(3)},
		{VCPUs: [][]byte{x86Regs(0, true).Context64(le)}, Pages: legacyPages(2)},
		{ContextSize: 2800, IndexWord: 8, HVM: true, Pages: legacyPages(2)},
	} {
		f.Add(c.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := xencore.NewLegacyFile(source("fuzz", b))
		if err != nil {
			return
		}
		exercise(t, file)
	})
}

// FuzzXenNotes mutates only the .note.Xen section of a valid dump, so the
// fuzzer spends its time in note parsing.
func FuzzXenNotes(f *testing.F) {
	core := dumptest.XenCore{Machine: elf.EM_386, Version: sampleVersion, PageSize: 1024,
		VCPUs: [][]byte{x86Regs(0, false).Context32(le)}, Pages: dumptest.SortedXenPages(0, 2, nil, nil)}
	base, lay := core.Bytes()
	notes := lay.Sections[".note.Xen"]
	f.Add(base[notes.Off : notes.Off+notes.Size])
	core.Tools32 = true
	b32, lay32 := core.Bytes()
	f.Add(b32[lay32.Sections[".note.Xen"].Off:][:lay32.Sections[".note.Xen"].Size])
	f.Fuzz(func(t *testing.T, n []byte) {
		b := append([]byte(nil), base...)
		size := min(len(n), int(notes.Size))
		copy(b[notes.Off:], n[:size])
		le.PutUint64(b[lay.Sections[".note.Xen"].HeaderOff+shSize:], uint64(size))
		file, err := xencore.NewFile(source("fuzz", b))
		if err != nil {
			t.Fatalf("a dump with damaged notes does not open: %v", err)
		}
		exercise(t, file)
	})
}
