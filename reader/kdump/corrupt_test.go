package kdump_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// readAll reads every stored frame of k from d and sorts the outcomes:
// pages equal to the original, and errors by pfn.
func readAll(t *testing.T, d interface {
	ReadPage(model.PFN, []byte, reader.ReadOptions) (model.PageInfo, error)
}, k *dumptest.Kdump) (good int, bad map[uint64]error) {
	bad = map[uint64]error{}
	buf := make([]byte, 4096)
	for pfn, page := range k.Pages {
		_, err := d.ReadPage(model.PFN(pfn), buf, reader.ReadOptions{})
		switch {
		case err != nil:
			bad[pfn] = err
		case bytes.Equal(buf, page):
			good++
		default:
			t.Fatalf("pfn %#x: wrong bytes without an error", pfn)
		}
	}
	return good, bad
}

func pageErr(t *testing.T, err error, pfn uint64, code string) *model.PageError {
	t.Helper()
	var pe *model.PageError
	if !errors.As(err, &pe) {
		t.Fatalf("pfn %#x: %v is not a PageError", pfn, err)
	}
	if pe.PFN != model.PFN(pfn) || !strings.Contains(err.Error(), fmt.Sprintf("pfn %#x", pfn)) {
		t.Fatalf("error does not name pfn %#x: %v", pfn, err)
	}
	if code != "" && pe.Code.String() != code {
		t.Fatalf("pfn %#x: code %q, want %q (%v)", pfn, pe.Code, code, err)
	}
	return pe
}

// TestTruncations cuts a file inside each structure.
func TestTruncations(t *testing.T) {
	k := baseDump(6, "zlib", 200)
	b, lay := k.Bytes()
	cases := []struct {
		name string
		cut  int64
	}{
		{"inside bitmap 1", lay.Bitmap1Off + 10},
		{"inside bitmap 2", lay.Bitmap2Off + 5},
		{"inside the descriptors", lay.DescOff + 24*50 + 7},
		{"inside the page data", lay.DataOff + (lay.EraseOff-lay.DataOff)/2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := openBytes(t, "cut", b[:c.cut])
			truncated := false
			for _, w := range d.Info().Warnings {
				truncated = truncated || w.Code.String() == "truncated"
			}
			if c.cut < lay.DescOff && !truncated {
				t.Fatalf("no truncation warning: %v", d.Info().Warnings)
			}
			good, bad := readAll(t, d, k)
			for pfn, err := range bad {
				pi := d.PageInfo(model.PFN(pfn))
				if pi.State != model.StateLost && pi.State != model.StateUnreadable {
					t.Fatalf("pfn %#x failed (%v) but its state is %s", pfn, err, pi.State)
				}
				pe := pageErr(t, err, pfn, "")
				if pi.State == model.StateLost && pe.Off < 0 {
					t.Fatalf("pfn %#x: no file offset in %v", pfn, err)
				}
			}
			// Pages whose data precede the cut stay readable.
			want := 0
			for pfn := range k.Pages {
				if off, ok := lay.PageOff[pfn]; ok && c.cut > lay.DescOff+int64(lay.DescIndex[pfn]+1)*24 && off+4096 <= c.cut {
					want++
				}
			}
			if good < want {
				t.Fatalf("%d pages readable, at least %d expected", good, want)
			}
			if c.name == "inside the page data" && good == 0 {
				t.Fatal("no page survived a cut inside the data")
			}
			t.Logf("%d readable, %d not", good, len(bad))
		})
	}
}

// TestBadDescriptors corrupts single descriptors and compressed bytes.
func TestBadDescriptors(t *testing.T) {
	k := baseDump(6, "zlib", 100)
	b, lay := k.Bytes()
	// Pick three stored, compressed pages.
	var victims []uint64
	for pfn := range k.Pages {
		d := openBytes(t, "x", b)
		if d.PageInfo(model.PFN(pfn)).Codec == model.CodecZlib {
			victims = append(victims, pfn)
		}
		if len(victims) == 4 {
			break
		}
	}
	desc := func(bb []byte, pfn uint64) []byte { return bb[lay.DescOff+int64(lay.DescIndex[pfn])*24:] }
	cases := []struct {
		name   string
		mutate func(bb []byte, pfn uint64)
		state  model.PageState
		code   string
	}{
		{"offset past EOF", func(bb []byte, pfn uint64) { binary.LittleEndian.PutUint64(desc(bb, pfn), uint64(len(bb)+100)) }, model.StateUnreadable, "bad-page-descriptor"},
		{"size 0", func(bb []byte, pfn uint64) { binary.LittleEndian.PutUint32(desc(bb, pfn)[8:], 0) }, model.StateUnreadable, "bad-page-descriptor"},
		{"size larger than a block", func(bb []byte, pfn uint64) { binary.LittleEndian.PutUint32(desc(bb, pfn)[8:], 5000) }, model.StateUnreadable, "bad-page-descriptor"},
		{"corrupt compressed bytes", func(bb []byte, pfn uint64) { bb[lay.PageOff[pfn]+5] ^= 0x10 }, model.StatePresent, "bad-compressed-page"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bb := append([]byte(nil), b...)
			pfn := victims[i]
			c.mutate(bb, pfn)
			d := openBytes(t, "bad", bb)
			if pi := d.PageInfo(model.PFN(pfn)); pi.State != c.state {
				t.Fatalf("pfn %#x: state %s (%s), want %s", pfn, pi.State, pi.Reason, c.state)
			}
			good, bad := readAll(t, d, k)
			if len(bad) != 1 || good != len(k.Pages)-1 {
				t.Fatalf("%d good, bad %v", good, bad)
			}
			pe := pageErr(t, bad[pfn], pfn, c.code)
			if pe.Off < 0 || !strings.Contains(bad[pfn].Error(), fmt.Sprintf("%#x", pe.Off)) {
				t.Fatalf("the error does not give the file offset: %v", bad[pfn])
			}
		})
	}
}

// TestHostileHeaders gives header fields that would make a trusting reader
// allocate without bound or loop forever.
func TestHostileHeaders(t *testing.T) {
	k := baseDump(6, "zlib", 20)
	b, lay := k.Bytes()
	sub := lay.SubHeaderOff
	le := binary.LittleEndian
	cases := map[string]func([]byte){
		"huge max_mapnr_64":  func(bb []byte) { le.PutUint64(bb[sub+96:], 1<<50) },
		"huge bitmap_blocks": func(bb []byte) { le.PutUint32(bb[436:], 0xffffffff) },
		"huge sub_hdr_size":  func(bb []byte) { le.PutUint32(bb[432:], 0x7fffffff) },
		"huge size_note":     func(bb []byte) { le.PutUint64(bb[sub+56:], 1<<60) },
		"huge vmcoreinfo":    func(bb []byte) { le.PutUint64(bb[sub+40:], 1<<62) },
		"split range beyond": func(bb []byte) { le.PutUint32(bb[sub+12:], 1); le.PutUint64(bb[sub+88:], 1<<40) },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			bb := append([]byte(nil), b...)
			mutate(bb)
			d, err := openSrc(bb)
			if err != nil {
				if !errors.Is(err, model.ErrCorrupt) && !errors.Is(err, model.ErrTruncated) {
					t.Fatalf("open failed without a classified error: %v", err)
				}
				return
			}
			d.Info()
			d.Layout()
			buf := make([]byte, d.Info().PageSize)
			for pfn := model.PFN(0); pfn < 40; pfn++ {
				d.ReadPage(pfn, buf, reader.ReadOptions{})
			}
		})
	}
}

func openSrc(b []byte) (interface {
	Info() model.Info
	Layout() (*model.Field, error)
	ReadPage(model.PFN, []byte, reader.ReadOptions) (model.PageInfo, error)
}, error) {
	return openSources(reader.Source{Name: "hostile", R: bytes.NewReader(b), Size: int64(len(b))})
}
