package kdump_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// part is a fixture with its oracle expectation.
type part struct {
	name string
	o    *dumptest.Oracle
	exp  *dumptest.Expectation
}

func loadPart(t *testing.T, name string) part {
	o := dumptest.LoadOracle(t, name)
	return part{name, o, dumptest.Expect(t, name, o)}
}

// checkPages compares every frame's state and every present page's sha256
// with the oracle that owns the frame.
func checkPages(t *testing.T, d reader.Dump, max uint64, expect func(pfn uint64) dumptest.Expected) {
	t.Helper()
	buf := make([]byte, d.Info().PageSize)
	present := 0
	for pfn := uint64(0); pfn < max; pfn++ {
		want := expect(pfn)
		pi := d.PageInfo(model.PFN(pfn))
		if string(pi.State) != want.State {
			t.Fatalf("pfn %#x: state %s (%s), oracle %s", pfn, pi.State, pi.Reason, want.State)
		}
		if want.State != "present" {
			continue
		}
		present++
		if _, err := d.ReadPage(model.PFN(pfn), buf, reader.ReadOptions{}); err != nil {
			t.Fatalf("pfn %#x: %v", pfn, err)
		}
		sum := sha256.Sum256(buf)
		if got := hex.EncodeToString(sum[:]); got != want.SHA256 {
			t.Fatalf("pfn %#x (%s, %d bytes at %s): sha256 %s, oracle %s", pfn, pi.Codec, pi.StoredSize, pi.FileOffset, got, want.SHA256)
		}
	}
	if present == 0 {
		t.Fatal("no present page compared")
	}
	t.Logf("%d frames, %d present pages match", max, present)
}

// checkNotes compares VMCOREINFO and prstatus registers with the
// independent kdump parser's view.
func checkNotes(t *testing.T, d reader.Dump, o *dumptest.Oracle) {
	t.Helper()
	v, err := d.VMCoreInfo()
	if err != nil {
		t.Fatal(err)
	}
	if string(v.Raw) != o.Kdump.VMCoreInfo {
		t.Errorf("VMCOREINFO differs from the oracle (%d vs %d bytes)", len(v.Raw), len(o.Kdump.VMCoreInfo))
	}
	sets, _ := d.Registers()
	cpu := 0
	for _, n := range o.Kdump.Notes {
		if n.Prstatus == nil {
			continue
		}
		var s *model.RegisterSet
		for i := range sets {
			if sets[i].Source == model.SourcePrstatus && sets[i].CPU == cpu {
				s = &sets[i]
			}
		}
		if s == nil {
			t.Fatalf("CPU %d: no prstatus register set", cpu)
		}
		if s.PID == nil || *s.PID != n.Prstatus.PID {
			t.Errorf("CPU %d: pid %v, oracle %d", cpu, s.PID, n.Prstatus.PID)
		}
		for name, want := range n.Prstatus.Regs {
			if got, ok := s.Get(name); !ok || got != want {
				t.Errorf("CPU %d %s = %#x (%v), oracle %#x", cpu, name, got, ok, want)
			}
		}
		cpu++
	}
	if cpu == 0 {
		t.Fatal("the oracle has no prstatus note")
	}
}

// TestFixtures checks every kdump-compressed fixture, each opened alone.
func TestFixtures(t *testing.T) {
	for _, name := range dumptest.Fixtures(t, "kdump-compressed") {
		t.Run(name, func(t *testing.T) {
			p := loadPart(t, name)
			d, err := open.Open(dumptest.Fixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if got, want := uint64(d.Info().MaxPFN), p.o.Kdump.Bitmap.EffectiveMaxMapnr; got != want {
				t.Errorf("max pfn %d, oracle %d", got, want)
			}
			checkPages(t, d, p.exp.Max, func(pfn uint64) dumptest.Expected { return p.exp.At(pfn) })
			checkNotes(t, d, p.o)
			in := d.Info()
			if in.Arch != p.o.Arch() || in.PageSize != p.o.Kdump.BlockSize || in.OSRelease != p.o.LibKdumpfile.Uts["release"] {
				t.Errorf("info: arch %s page size %d osrelease %s; oracle %s %d %s", in.Arch, in.PageSize, in.OSRelease,
					p.o.Arch(), p.o.Kdump.BlockSize, p.o.LibKdumpfile.Uts["release"])
			}
		})
	}
}

// TestI386SplitPair opens the complete i386 split pair together, in both
// orders: every frame is served by the part that holds it.
func TestI386SplitPair(t *testing.T) {
	a, b := loadPart(t, "i386/mdf-zlib-d31-split1.kdump"), loadPart(t, "i386/mdf-zlib-d31-split2.kdump")
	fa, fb := dumptest.Fixture(t, a.name), dumptest.Fixture(t, b.name)
	for _, files := range [][]string{{fa, fb}, {fb, fa}} {
		d, err := open.Open(files...)
		if err != nil {
			t.Fatal(err)
		}
		in := d.Info()
		if in.Parts != 2 || len(in.Warnings) != 0 {
			t.Fatalf("parts %d, warnings %v", in.Parts, in.Warnings)
		}
		lo, hi := a.o.Kdump.Bitmap.Range, b.o.Kdump.Bitmap.Range
		if lo[1] != hi[0] {
			t.Fatalf("oracle ranges %v %v are not contiguous", lo, hi)
		}
		checkPages(t, d, a.exp.Max, func(pfn uint64) dumptest.Expected {
			if pfn < lo[1] {
				return a.exp.At(pfn)
			}
			return b.exp.At(pfn)
		})
		checkNotes(t, d, a.o)
		d.Close()
	}
}
