package codec

// Test corpus and compressors shared by the tests, fuzz targets and
// benchmarks of this package.
//
// The corpus is deterministic: page i of a given size is always the same
// bytes, so benchmark numbers and failures are reproducible. The page kinds
// imitate what a kernel dump holds (text, code, struct arrays, page tables,
// zero and sparse pages, noise) so that every codec instruction kind shows
// up.

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// pageKind is one way of filling a page.
type pageKind struct {
	name string
	fill func(r *rand.Rand, p []byte)
}

var pageKinds = []pageKind{
	{"zeros", func(*rand.Rand, []byte) {}},
	{"text", fillText},
	{"random", fillRandom},
	{"structs", fillStructs},
	{"pagetable", fillPageTable},
	{"pattern", fillPattern},
	{"sparse", fillSparse},
	{"code", fillCode},
	{"backrefs", fillBackrefs},
	{"mixed", fillMixed},
}

// testPage returns page i of the corpus for pages of size bytes.
func testPage(i, size int) []byte {
	r := rand.New(rand.NewPCG(uint64(size), uint64(i)))
	p := make([]byte, size)
	pageKinds[i%len(pageKinds)].fill(r, p)
	return p
}

// testPages returns pages 0..n-1 of the corpus.
func testPages(n, size int) [][]byte {
	pages := make([][]byte, n)
	for i := range pages {
		pages[i] = testPage(i, size)
	}
	return pages
}

// pageKindName names the kind of corpus page i.
func pageKindName(i int) string { return pageKinds[i%len(pageKinds)].name }

func fillRandom(r *rand.Rand, p []byte) {
	for i := range p {
		p[i] = byte(r.Uint32())
	}
}

var words = strings.Fields(`the of and to in is for struct page return if err nil
	func int unsigned long static const void kernel mm_struct task_struct
	spin_lock list_head rcu_read_lock printk KERN_INFO pfn vmalloc slab
	kmalloc GFP_KERNEL mutex_unlock atomic_inc schedule irq_enable
	0x0 0xffffffff81000000 = == != { } ( ) ; -> . , * & ||`)

// fillText writes indented lines of source-like words.
func fillText(r *rand.Rand, p []byte) {
	var b bytes.Buffer
	for b.Len() < len(p) {
		b.WriteString(strings.Repeat("\t", r.IntN(4)))
		for n := 3 + r.IntN(10); n > 0; n-- {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		b.WriteByte('\n')
	}
	copy(p, b.Bytes())
}

// fillStructs writes an array of 64-byte records shaped like struct page:
// flags, reference counts, kernel pointers into a few slabs, list links to
// neighbouring records.
func fillStructs(r *rand.Rand, p []byte) {
	vmemmap := uint64(0xffffea0000000000) + uint64(r.IntN(1<<20))<<6
	mappings := []uint64{0xffff888100a4c2d0, 0xffff888003f1e6a8, 0xffff88810c2b7f00, 0}
	for off := 0; off+64 <= len(p); off += 64 {
		self := vmemmap + uint64(off)
		e := p[off : off+64]
		binary.LittleEndian.PutUint64(e[0:], []uint64{0x17ffffc0000000, 0x17ffffc0010068, 0x17ffffc0000024}[r.IntN(3)])
		binary.LittleEndian.PutUint64(e[8:], self+64)
		binary.LittleEndian.PutUint64(e[16:], self-64)
		binary.LittleEndian.PutUint64(e[24:], mappings[r.IntN(len(mappings))])
		binary.LittleEndian.PutUint64(e[32:], uint64(off/64)+uint64(r.IntN(4)))
		binary.LittleEndian.PutUint32(e[48:], uint32(r.IntN(3)))
		binary.LittleEndian.PutUint32(e[52:], uint32(1+r.IntN(2)))
	}
}

// fillPageTable writes x86-64 page table entries: mostly consecutive PFNs
// with the usual flag bits, some holes.
func fillPageTable(r *rand.Rand, p []byte) {
	pfn := uint64(r.IntN(1 << 24))
	for off := 0; off+8 <= len(p); off += 8 {
		if r.IntN(10) == 0 {
			continue // not present
		}
		if r.IntN(20) == 0 {
			pfn = uint64(r.IntN(1 << 24))
		}
		flags := []uint64{0x63, 0x67, 0x8000000000000063, 0x25}[r.IntN(4)]
		binary.LittleEndian.PutUint64(p[off:], pfn<<12|flags)
		pfn++
	}
}

// fillPattern repeats one random pattern of 1 to 300 bytes, which gives
// overlapping matches of every length.
func fillPattern(r *rand.Rand, p []byte) {
	pat := make([]byte, 1+r.IntN(300))
	fillRandom(r, pat)
	for off := 0; off < len(p); off += len(pat) {
		copy(p[off:], pat)
	}
}

// fillSparse sets a few short random runs in a zero page.
func fillSparse(r *rand.Rand, p []byte) {
	for n := 1 + r.IntN(24); n > 0; n-- {
		off := r.IntN(len(p))
		end := min(len(p), off+1+r.IntN(8))
		fillRandom(r, p[off:end])
	}
}

// fillCode strings together x86-64-like instruction snippets with random
// immediates.
func fillCode(r *rand.Rand, p []byte) {
	snippets := [][]byte{
		{0x55, 0x48, 0x89, 0xe5}, {0x5d, 0xc3}, {0x48, 0x8b, 0x45}, {0x48, 0x89, 0x7d},
		{0xe8}, {0x0f, 0x1f, 0x44, 0x00, 0x00}, {0x48, 0x83, 0xec}, {0x74}, {0x75},
		{0x31, 0xc0}, {0x41, 0x57, 0x41, 0x56}, {0xcc, 0xcc, 0xcc, 0xcc},
	}
	for off := 0; off < len(p); {
		off += copy(p[off:], snippets[r.IntN(len(snippets))])
		imm := make([]byte, r.IntN(5))
		fillRandom(r, imm)
		off += copy(p[off:], imm)
	}
}

// fillBackrefs starts with noise and then copies earlier chunks from any
// distance up to the page size (64 KiB pages reach LZO's M4 matches).
func fillBackrefs(r *rand.Rand, p []byte) {
	head := min(len(p), 64+r.IntN(512))
	fillRandom(r, p[:head])
	for off := head; off < len(p); {
		n := min(len(p)-off, 3+r.IntN(200))
		if r.IntN(8) == 0 {
			fillRandom(r, p[off:off+n])
		} else {
			from := r.IntN(off)
			for i := range n { // may overlap: copy byte by byte
				p[off+i] = p[from+i]
			}
		}
		off += n
	}
}

// fillMixed is half text and half noise, then a zero tail.
func fillMixed(r *rand.Rand, p []byte) {
	fillText(r, p[:len(p)/2])
	fillRandom(r, p[len(p)/2:len(p)*3/4])
}

// compressZlib compresses like makedumpfile -c: a zlib stream (RFC 1950)
// at level 1.
func compressZlib(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// compressSnappy compresses like makedumpfile -p: one raw snappy block.
func compressSnappy(data []byte) []byte { return snappy.Encode(nil, data) }

var zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(err)
	}
	return enc
})

// compressZstd compresses like makedumpfile -z: one zstd frame at the
// fastest level, with the content size in the frame header.
func compressZstd(data []byte) []byte { return zstdEncoder().EncodeAll(data, nil) }
