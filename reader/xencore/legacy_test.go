package xencore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/xencore"
)

func openLegacy(t testing.TB, b []byte) *xencore.File {
	t.Helper()
	f, err := xencore.NewLegacyFile(source("legacy.core", b))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// legacyPages lists machine frames in no particular order, as
// xc_get_pfn_list returns them.
func legacyPages(n int) []dumptest.XenLegacyPage {
	var out []dumptest.XenLegacyPage
	for i := 0; i < n; i++ {
		out = append(out, dumptest.XenLegacyPage{MFN: uint64(0x20000 + (i*7919)%1000)})
	}
	return out
}

// TestLegacy reads legacy cores of 32-bit tools (2800-byte contexts,
// 4-byte index), x86_64 tools (5168, 8) and the short-lived revision with
// 2800-byte contexts and a uint64 index, PV and HVM, in both byte orders.
func TestLegacy(t *testing.T) {
	for _, c := range []struct {
		name   string
		core   dumptest.XenLegacyCore
		arch   string
		ipName string
		ip     uint64
	}{
		{"x86_32 tools", dumptest.XenLegacyCore{ContextSize: 2800, VCPUs: [][]byte{x86Regs(0, false).Context32(le)}}, "i386", "eip", 0xc1000000},
		{"x86_64 tools", dumptest.XenLegacyCore{VCPUs: [][]byte{x86Regs(0, true).Context64(le), x86Regs(1, true).Context64(le)}}, "x86_64", "rip", 0xffffffff81000000},
		{"3.1-dev uint64 index", dumptest.XenLegacyCore{ContextSize: 2800, IndexWord: 8, VCPUs: [][]byte{x86Regs(0, false).Context32(le)}}, "i386", "eip", 0xc1000000},
		{"HVM", dumptest.XenLegacyCore{HVM: true, VCPUs: [][]byte{x86Regs(0, true).Context64(le)}}, "x86_64", "rip", 0xffffffff81000000},
		{"big-endian", dumptest.XenLegacyCore{Order: binary.BigEndian, VCPUs: [][]byte{x86Regs(0, true).Context64(binary.BigEndian)}}, "x86_64", "rip", 0xffffffff81000000},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.core.Pages = legacyPages(1000)
			b := c.core.Bytes()
			f := openLegacy(t, b)
			in := dumptest.InfoWithCounts(t, f)
			if in.Format != model.FormatXenCoreLegacy || in.FrameKind != xencore.FrameMachine || in.Arch != c.arch ||
				in.PageSize != 4096 || in.MaxPFN != 0x20000+1000 || in.CPUs != len(c.core.VCPUs) || in.HeaderVersion != nil {
				t.Fatalf("info %+v", in)
			}
			if in.Pages[model.StatePresent] != 1000 || in.Pages[model.StateNotInDump] != 0x20000 {
				t.Errorf("page counts %v", in.Pages)
			}
			if len(in.Warnings) != 0 {
				t.Errorf("warnings %v", in.Warnings)
			}
			buf := make([]byte, 4096)
			for _, p := range c.core.Pages {
				pi, err := f.ReadPage(model.PFN(p.MFN), buf, reader.ReadOptions{})
				if err != nil || !bytes.Equal(buf, dumptest.Pattern(p.MFN, 4096)) || pi.MFN != nil {
					t.Fatalf("mfn %#x: %v %+v", p.MFN, err, pi)
				}
			}
			if pi := f.PageInfo(0x1ffff); pi.State != model.StateNotInDump {
				t.Errorf("mfn 0x1ffff: %s", pi.State)
			}
			sets, _ := f.Registers()
			if len(sets) != len(c.core.VCPUs) {
				t.Fatalf("%d register sets", len(sets))
			}
			if ip, _ := sets[0].Get(c.ipName); ip != c.ip || sets[0].Source != model.SourceXenVCPUContext {
				t.Errorf("%s = %#x", c.ipName, ip)
			}
			var runs []model.PageRun
			f.Runs(context.Background(), 0, false, func(r model.PageRun) bool { runs = append(runs, r); return true })
			if fmt.Sprint(runs) != fmt.Sprint([]model.PageRun{{Start: 0, Count: 0x20000, State: model.StateNotInDump}, {Start: 0x20000, Count: 1000, State: model.StatePresent}}) {
				t.Errorf("runs %v", runs)
			}
			root, err := f.Layout()
			if err != nil || root.Children[0].Name != "xc_core_header" || len(root.Children[0].Children) != 6 {
				t.Fatalf("layout %v %+v", err, root)
			}
			var probs []model.Problem
			f.Check(context.Background(), func(p model.Problem) { probs = append(probs, p) })
			if len(probs) != 0 {
				t.Errorf("check: %v", probs)
			}
		})
	}
}

// TestLegacyDamaged: a repeated machine frame, a truncated file, no magic.
func TestLegacyDamaged(t *testing.T) {
	core := dumptest.XenLegacyCore{VCPUs: [][]byte{x86Regs(0, true).Context64(le)}, Pages: legacyPages(20)}
	core.Pages[7].MFN = core.Pages[3].MFN
	b := core.Bytes()
	f := openLegacy(t, b)
	var probs []model.Problem
	f.Check(context.Background(), func(p model.Problem) { probs = append(probs, p) })
	if len(probs) != 1 || probs[0].Code.String() != "duplicate-mfn" || probs[0].PFN == nil || uint64(*probs[0].PFN) != core.Pages[3].MFN {
		t.Fatalf("check: %v", probs)
	}
	// The first page of a repeated frame is the one read.
	buf := make([]byte, 4096)
	if pi, _ := f.ReadPage(model.PFN(core.Pages[3].MFN), buf, reader.ReadOptions{}); int64(pi.FileOffset) != int64(len(b))-17*4096 {
		t.Errorf("repeated mfn reads page at %#x", pi.FileOffset)
	}

	cut := b[:len(b)-4096*5-100]
	f = openLegacy(t, cut)
	if !hasProblem(f.Info().Warnings, "truncated", "6 of 20 pages are missing") {
		t.Errorf("warnings %v", f.Info().Warnings)
	}
	in := dumptest.InfoWithCounts(t, f)
	if in.Pages[model.StatePresent] != 14 || in.Pages[model.StateLost] != 6 {
		t.Errorf("counts %v", in.Pages)
	}
	pi, err := f.ReadPage(model.PFN(core.Pages[19].MFN), buf, reader.ReadOptions{})
	if pi.State != model.StateLost || !errors.Is(err, model.ErrPageAbsent) {
		t.Errorf("last page: %s %v", pi.State, err)
	}
	if _, err := f.ReadPage(model.PFN(core.Pages[0].MFN), buf, reader.ReadOptions{}); err != nil {
		t.Errorf("first page of a cut file: %v", err)
	}

	if _, err := xencore.NewLegacyFile(source("x", make([]byte, 24))); !errors.Is(err, model.ErrUnrecognized) {
		t.Errorf("no magic: %v", err)
	}
	if _, err := xencore.NewLegacyFile(source("x", b[:10])); !errors.Is(err, model.ErrTruncated) {
		t.Errorf("short header: %v", err)
	}
	// An index offset before the contexts and a pages offset inside the
	// index open with problems.
	bad := append([]byte(nil), b...)
	le.PutUint32(bad[16:], 8)
	le.PutUint32(bad[20:], 50)
	f = openLegacy(t, bad)
	if !hasProblem(f.Info().Warnings, "bad-legacy-header", "precedes") || !hasProblem(f.Info().Warnings, "bad-legacy-header", "no room") {
		t.Errorf("warnings %v", f.Info().Warnings)
	}
	f.Info()
	f.Layout()
}
