package aix_test

import (
	"context"
	"testing"

	"dumpscope/model"
	"dumpscope/reader/dumptest"
)

// cutDump writes a dump of four components of the given table kind, the
// first with one area of n bytes, and returns it cut where component 1
// starts: the file ends right after component 0.
func cutDump(magic uint32, n uint64) ([]byte, int64) {
	var comps []dumptest.AIXComponent
	for i, name := range []string{"one", "two", "three", "four"} {
		comps = append(comps, dumptest.AIXComponent{Magic: magic, Name: name, Areas: []dumptest.AIXArea{
			{Name: "area", Addr: 0x10000000 * uint64(i+1), Len: n, Segval: 7, Seed: uint64(i)},
		}})
	}
	d := &dumptest.AIXDump{Components: comps, End: dumptest.AIXEndMarker}
	b, lay := d.Bytes()
	return b[:lay.Tables[1]], lay.Tables[1]
}

// TestCutAtComponentBoundary: a dump cut exactly where a component starts
// has lost the components after it; unless the cut could be a complete
// AIX 4 dump (a 32-bit table whose last area fills its block), that is an
// error (issue 12, item 14).
func TestCutAtComponentBoundary(t *testing.T) {
	for _, tc := range []struct {
		name    string
		magic   uint32
		aligned bool
		sev     model.Severity
	}{
		{"64-bit tables, off a block", dumptest.AIXMagic64, false, model.SeverityError},
		{"64-bit tables, on a block", dumptest.AIXMagic64, true, model.SeverityError},
		{"32-bit tables, off a block", dumptest.AIXMagic32, false, model.SeverityError},
		{"32-bit tables, on a block", dumptest.AIXMagic32, true, model.SeverityWarning},
	} {
		var b []byte
		for n := uint64(100); ; n++ {
			var end int64
			b, end = cutDump(tc.magic, n)
			if (end%512 == 0) == tc.aligned {
				break
			}
		}
		f, _ := open(t, b, 0)
		comps, _ := f.Components()
		if len(comps) != 1 {
			t.Fatalf("%s: %d components", tc.name, len(comps))
		}
		var found bool
		for _, p := range f.Info().Warnings {
			if p.Code == model.CodeMissingEndMarker {
				found = p.Severity == tc.sev
				if !found {
					t.Fatalf("%s: %v", tc.name, p)
				}
			}
		}
		var checked []model.Problem
		if err := f.Check(context.Background(), func(p model.Problem) { checked = append(checked, p) }); err != nil || !found {
			t.Fatalf("%s: missing-end-marker %v: %v %v", tc.name, found, f.Info().Warnings, err)
		}
	}
}

// TestLostPagesCounted: an area whose bitmap says present but whose data
// the file does not hold counts those pages as lost; present, absent and
// lost add up to the area's pages (issue 12, item 7).
func TestLostPagesCounted(t *testing.T) {
	d := &dumptest.AIXDump{Components: []dumptest.AIXComponent{{Magic: dumptest.AIXMagic64, Name: "c", Areas: []dumptest.AIXArea{
		{Name: "a", Addr: 0x100000, Len: 8 * 4096, Segval: dumptest.AIXRealSegval64, Absent: []uint64{1, 6}},
		{Name: "b", Addr: 0x200000, Len: 4 * 4096, Segval: dumptest.AIXRealSegval64},
	}}}}
	b, lay := d.Bytes()
	a := lay.Areas[0][0]
	f, _ := open(t, b[:a.DataOff+2*4096+10], 0) // 2 of the 6 present pages survive
	comps, _ := f.Components()
	e0, e1 := comps[0].Entries[0], comps[0].Entries[1]
	if e0.PagesPresent != 2 || e0.PagesAbsent != 2 || e0.PagesLost != 4 || e0.Complete {
		t.Fatalf("cut area: %+v", e0)
	}
	if e1.PagesPresent != 0 || e1.PagesAbsent != 0 || e1.PagesLost != 4 || e1.Complete {
		t.Fatalf("unreached area: %+v", e1)
	}
	c, err := f.Counts(context.Background())
	if err != nil || c[model.StateLost] != 8 || c[model.StatePresent] != 2 || c[model.StateNotInDump] < 2 {
		t.Fatalf("counts %v, %v", c, err)
	}
}

// TestLayoutManyEntries: a table of 20000 areas gives a layout of bounded
// size, the entries beyond the limit summarised (issue 12, item 12).
func TestLayoutManyEntries(t *testing.T) {
	for _, magic := range []uint32{dumptest.AIXMagic64, dumptest.AIXMagicU64} {
		areas := make([]dumptest.AIXArea, 20000)
		for i := range areas {
			areas[i] = dumptest.AIXArea{Name: "a", Addr: uint64(i) * 0x10000, Len: 16, Segval: 7, Seed: uint64(i)}
		}
		d := &dumptest.AIXDump{Components: []dumptest.AIXComponent{{Magic: magic, Name: "many", Areas: areas}}}
		b, _ := d.Bytes()
		f, _ := open(t, b, 0)
		root, err := f.Layout()
		if err != nil {
			t.Fatal(err)
		}
		nodes, more := 0, false
		root.Walk(func(n *model.Field, _ int) bool {
			nodes++
			more = more || n.Value == "15904 more entries"
			return true
		})
		if nodes > 4096*20 || !more {
			t.Fatalf("%#x: %d nodes, summary %v", magic, nodes, more)
		}
	}
}
