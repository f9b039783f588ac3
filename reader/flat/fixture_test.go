package flat_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/flat"
)

const qemuFlat = "x86_64/qemu-kdump-zlib.flat"

func openStream(t *testing.T, path string) *flat.File {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	st, _ := fh.Stat()
	f, err := flat.NewFile(reader.Source{Name: path, R: fh, Size: st.Size()})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestRearrangeFixture rebuilds QEMU's stream and compares with the sha256
// of makedumpfile -R's output given by the oracle.
func TestRearrangeFixture(t *testing.T) {
	o := dumptest.LoadOracle(t, qemuFlat)
	f := openStream(t, dumptest.Fixture(t, qemuFlat))
	h := sha256.New()
	n, err := f.Rearrange(context.Background(), h, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != o.Flattened.MakedumpfileRSHA256 || n != o.Flattened.ReassembledSize {
		t.Fatalf("rearranged %d bytes with sha256 %s; makedumpfile -R: %d bytes, %s", n, got, o.Flattened.ReassembledSize, o.Flattened.MakedumpfileRSHA256)
	}
	recs, end := f.Records()
	if recs != int64(o.Flattened.Records) || !end {
		t.Fatalf("%d records (end marker %v), oracle %d", recs, end, o.Flattened.Records)
	}
}

// TestFlatFixturePages reads every frame of QEMU's stream (2^20-frame
// bitmaps) through reader.Open and compares with the oracle.
func TestFlatFixturePages(t *testing.T) {
	o := dumptest.LoadOracle(t, qemuFlat)
	exp := dumptest.Expect(t, qemuFlat, o)
	d, err := open.Open(dumptest.Fixture(t, qemuFlat))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := d.Info()
	if in.Format != model.FormatKdump || in.Container != model.ContainerFlattened || in.MaxPFN != 1<<20 {
		t.Fatalf("info: %+v", in)
	}
	buf := make([]byte, d.Info().PageSize)
	present := 0
	err = d.Runs(context.Background(), 0, true, func(r model.PageRun) bool {
		for pfn := uint64(r.Start); pfn < uint64(r.End()); pfn++ {
			want := exp.At(pfn)
			if string(r.State) != want.State {
				t.Fatalf("pfn %#x: run state %s, oracle %s", pfn, r.State, want.State)
			}
			if want.State != "present" {
				continue
			}
			present++
			if _, err := d.ReadPage(model.PFN(pfn), buf, reader.ReadOptions{}); err != nil {
				t.Fatalf("pfn %#x: %v", pfn, err)
			}
			if sum := sha256.Sum256(buf); hex.EncodeToString(sum[:]) != want.SHA256 {
				t.Fatalf("pfn %#x: sha256 differs from the oracle", pfn)
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if present != 5184 {
		t.Fatalf("%d present pages, oracle 5184", present)
	}
	v, err := d.VMCoreInfo()
	if err != nil || string(v.Raw) != o.Kdump.VMCoreInfo {
		t.Fatalf("VMCOREINFO: %v", err)
	}
	sets, _ := d.Registers()
	if len(sets) != 4 { // two prstatus and two QEMU CPU states
		t.Fatalf("%d register sets", len(sets))
	}
}

// TestInfoIsLazy shows that info on the stream, frame counts included,
// reads only the records holding the headers and bitmaps, not the whole
// stream (a quick count from the last page descriptor, which the writer
// puts near the stream's end, once read every record header).
func TestInfoIsLazy(t *testing.T) {
	path := dumptest.Fixture(t, qemuFlat)
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	st, _ := fh.Stat()
	cr := &dumptest.CountingReaderAt{R: fh}
	d, err := open.Sources(reader.Source{Name: path, R: cr, Size: st.Size()})
	if err != nil {
		t.Fatal(err)
	}
	// What `info --no-crash` asks: the headers and the frame counts.
	if _, err := inspect.New(d).InfoWithCounts(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cr.MaxEnd() > st.Size()/2 { // the headers, the bitmaps and one batch of record headers
		t.Fatalf("info read up to %d of a %d-byte stream", cr.MaxEnd(), st.Size())
	}
	t.Logf("info read %d bytes (up to offset %d) of a %d-byte stream", cr.Bytes(), cr.MaxEnd(), st.Size())
}
