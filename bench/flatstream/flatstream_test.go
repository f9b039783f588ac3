package flatstream

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"dumpscope/reader/dumptest"
)

// TestWriteRebuilds flattens a kdump file of zero pages (the shared zero
// page), compressible and random pages, with eraseinfo, and checks the
// stream: its records, put back at their offsets, are the file again,
// every byte once, in makedumpfile's order (header records, then data
// records of at least a cache each followed by the descriptors of the
// pages they ended).
func TestWriteRebuilds(t *testing.T) {
	const frames = 3000
	k := &dumptest.Kdump{Version: 6, Codec: "zlib", MaxMapnr: frames, NumPages: frames, SharedZeroPage: true,
		NrCPUs: 1, Utsname: [6]string{"Linux", "t", "6.1.0", "#1", "x86_64", ""},
		EraseInfo: []byte("erase mod_a\nerase mod_b size 4\n"),
		PageFunc: func(pfn uint64) []byte {
			p := make([]byte, 4096)
			switch pfn % 3 {
			case 1:
				copy(p, bytes.Repeat([]byte{byte(pfn)}, 1000))
			case 2:
				for i := range p {
					p[i] = byte((pfn*2654435761 + uint64(i)*40503) >> 7)
				}
			}
			return p
		}}
	dir := t.TempDir()
	src := filepath.Join(dir, "a.kdump")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	lay, err := k.WriteTo(f)
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	flat := filepath.Join(dir, "a.flat")
	if err := WriteFile(flat, src); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(src)
	stream, _ := os.ReadFile(flat)
	if len(stream) < 4096+16 || string(stream[:12]) != "makedumpfile" {
		t.Fatalf("stream of %d bytes does not start with makedumpfile's header", len(stream))
	}
	got := make([]byte, len(want))
	seen := make([]bool, len(want))
	var offs, sizes []int64
	rest := stream[4096:]
	for {
		if len(rest) < 16 {
			t.Fatalf("stream ends without the end marker")
		}
		off, size := int64(binary.BigEndian.Uint64(rest)), int64(binary.BigEndian.Uint64(rest[8:]))
		if off == -1 && size == -1 {
			break
		}
		if off < 0 || size <= 0 || off+size > int64(len(want)) || int64(len(rest)) < 16+size {
			t.Fatalf("record %d: offset %#x, size %#x out of the file's %#x bytes", len(offs), off, size, len(want))
		}
		for i := off; i < off+size; i++ {
			if seen[i] {
				t.Fatalf("record %d: byte %#x written twice", len(offs), i)
			}
			seen[i] = true
		}
		copy(got[off:], rest[16:16+size])
		offs, sizes = append(offs, off), append(sizes, size)
		rest = rest[16+size:]
	}
	for i, s := range seen {
		if !s {
			t.Fatalf("no record writes byte %#x of the kdump file", i)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the records put back are not the kdump file")
	}
	if len(rest) != 16 {
		t.Fatalf("%d bytes after the end marker", len(rest)-16)
	}
	// After the header records: data records of at least a cache, each
	// followed by a descriptors record, then what is left of each, then
	// eraseinfo.
	i := 0
	for i < len(offs) && offs[i] < lay.DescOff {
		i++
	}
	pairs := 0
	for ; i+1 < len(offs) && sizes[i] >= mdfCache; i += 2 {
		if offs[i] < lay.DataOff || offs[i+1] < lay.DescOff || offs[i+1] >= lay.DataOff {
			t.Fatalf("records %d and %d at %#x and %#x: not a data record and a descriptors record", i, i+1, offs[i], offs[i+1])
		}
		pairs++
	}
	if pairs < 10 {
		t.Errorf("%d data records of a cache or more, want the stream to alternate data and descriptors", pairs)
	}
	if last := offs[len(offs)-1]; last != lay.EraseOff {
		t.Errorf("last record at %#x, want eraseinfo at %#x", last, lay.EraseOff)
	}
}
