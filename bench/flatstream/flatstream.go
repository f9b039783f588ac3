// Package flatstream writes, from a plain kdump file, the flattened stream
// makedumpfile -F would write of it, record for record, for the
// benchmarks: the side-by-side benchmark's streams larger than
// makedumpfile will write from its files (it sizes its output from the
// memory sections the fixture kernel describes, 128 MiB), and the remote
// benchmarks' flattened kdump files.
//
// makedumpfile -F (makedumpfile.c, write_kdump_pages_and_bitmap_cyclic and
// write_cache) buffers page data and page descriptors in two caches of
// page_size << block_order bytes (64 KiB by default) and writes a record
// whenever one fills; each data record is followed by the record of the
// descriptors written meanwhile, so the stream alternates high logical
// offsets (data) with low ones (descriptors). The stream of a real
// makedumpfile run on the benchmark's files shows exactly that order.
package flatstream

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"os"
)

// mdfCache is makedumpfile's default cache: page_size << DEFAULT_ORDER(4).
const mdfCache = 4096 << 4

// Write writes the flattened stream of the kdump file src to w.
func Write(w io.Writer, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	t, err := readTables(in)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	head := make([]byte, 4096)
	copy(head, "makedumpfile")
	binary.BigEndian.PutUint64(head[16:], 1) // TYPE_FLAT_HEADER
	binary.BigEndian.PutUint64(head[24:], 1) // VERSION_FLAT_HEADER
	bw.Write(head)
	record := func(off, n int64) error {
		var h [16]byte
		binary.BigEndian.PutUint64(h[:8], uint64(off))
		binary.BigEndian.PutUint64(h[8:], uint64(n))
		bw.Write(h[:])
		_, err := io.Copy(bw, io.NewSectionReader(in, off, n))
		return err
	}
	// Headers and bitmaps, in cache-sized records.
	for off := int64(0); off < t.descOff; off += mdfCache {
		if err := record(off, min(mdfCache, t.descOff-off)); err != nil {
			return err
		}
	}
	// Page data and descriptors, each flushed when its cache fills, data
	// first. Images are laid out in descriptor order after the shared
	// zero page; a descriptor pointing back (at the zero page) adds no
	// data.
	descs := make([]byte, 24*4096)
	dataStart, dataEnd := int64(-1), int64(-1)
	descStart := t.descOff
	for i := int64(0); i < t.nDescs; i += 4096 {
		n := min(4096, t.nDescs-i)
		if _, err := in.ReadAt(descs[:24*n], t.descOff+24*i); err != nil {
			return err
		}
		for k := int64(0); k < n; k++ {
			off := int64(binary.LittleEndian.Uint64(descs[24*k:]))
			size := int64(binary.LittleEndian.Uint32(descs[24*k+8:]))
			if dataEnd < 0 {
				dataStart, dataEnd = off, off
			}
			if off == dataEnd {
				dataEnd += size
			}
			if dataEnd-dataStart >= mdfCache {
				if err := record(dataStart, dataEnd-dataStart); err != nil {
					return err
				}
				end := t.descOff + 24*(i+k+1)
				if err := record(descStart, end-descStart); err != nil {
					return err
				}
				dataStart, descStart = dataEnd, end
			}
		}
	}
	if dataEnd > dataStart {
		if err := record(dataStart, dataEnd-dataStart); err != nil {
			return err
		}
	}
	if end := t.descOff + 24*t.nDescs; end > descStart {
		if err := record(descStart, end-descStart); err != nil {
			return err
		}
	}
	if dataEnd < t.size && dataEnd >= 0 {
		if err := record(dataEnd, t.size-dataEnd); err != nil { // eraseinfo, if any
			return err
		}
	}
	end := make([]byte, 16)
	for i := range end {
		end[i] = 0xff
	}
	bw.Write(end)
	return bw.Flush()
}

// WriteFile writes the flattened stream of the kdump file src to the file
// dst.
func WriteFile(dst, src string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if err := Write(f, src); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// tables is where a kdump file keeps its page descriptors, how many there
// are, and the file's size.
type tables struct {
	descOff, nDescs, size int64
}

// readTables reads the tables of a little-endian 64-bit kdump file written
// by the benchmarks: the descriptors follow the bitmaps, one for each set
// bit of bitmap 2; disk_dump_header has block_size at 428, sub_hdr_size at
// 432, bitmap_blocks at 436 (formats.md §1.2).
func readTables(f *os.File) (tables, error) {
	st, err := f.Stat()
	if err != nil {
		return tables{}, err
	}
	h := make([]byte, 464)
	if _, err := f.ReadAt(h, 0); err != nil {
		return tables{}, err
	}
	if string(h[:8]) != "KDUMP   " {
		return tables{}, fmt.Errorf("not a kdump file")
	}
	bs := int64(binary.LittleEndian.Uint32(h[428:]))
	sub := int64(binary.LittleEndian.Uint32(h[432:]))
	bmBlocks := int64(binary.LittleEndian.Uint32(h[436:]))
	if bs != 4096 || sub < 1 || sub > 1<<20 || bmBlocks < 2 || bmBlocks > 1<<24 {
		return tables{}, fmt.Errorf("unexpected header: block_size %d, sub_hdr_size %d, bitmap_blocks %d", bs, sub, bmBlocks)
	}
	t := tables{descOff: (1 + sub + bmBlocks) * bs, size: st.Size()}
	half := bmBlocks * bs / 2
	bm2 := (1+sub)*bs + half
	buf := make([]byte, 1<<20)
	for off := int64(0); off < half; off += int64(len(buf)) {
		n := min(int64(len(buf)), half-off)
		if _, err := f.ReadAt(buf[:n], bm2+off); err != nil {
			return tables{}, err
		}
		for _, b := range buf[:n] {
			t.nDescs += int64(bits.OnesCount8(b))
		}
	}
	return t, nil
}
