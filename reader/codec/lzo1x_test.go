package codec

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dumpscope/model"
)

// lzoCase is a hand-built LZO1X stream. Each is assembled from the format
// description in the kernel's Documentation/staging/lzo.rst (summarized at
// the top of lzo1x.go); the expected output is worked out by hand.
type lzoCase struct {
	name   string
	stream []byte
	want   []byte // nil with wantErr
	// dstLen is the output room; 0 means len(want) (exactly enough), or
	// 100 bytes for an error case.
	dstLen  int
	wantErr string
}

// seq returns n distinct-looking literal bytes, so that a match copied
// from the wrong distance shows up.
func seq(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// cat concatenates byte strings and single bytes.
func cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case []byte:
			b = append(b, p...)
		case string:
			b = append(b, p...)
		case int:
			b = append(b, byte(p))
		default:
			panic(fmt.Sprintf("cat: %T", p))
		}
	}
	return b
}

var lzoEnd = []byte{0x11, 0x00, 0x00} // M4 with distance 16384: end of stream

func lzoCases() []lzoCase {
	l2100 := seq(1, 2100)   // literal run: 00, 8 zero bytes, 42 → 3+15+8*255+42
	l3100 := seq(2, 3100)   // 00, 12 zero bytes, 22 → 3+15+12*255+22
	l16400 := seq(3, 16400) // 00, 64 zero bytes, 62 → 3+15+64*255+62
	l33000 := seq(4, 33000) // 00, 129 zero bytes, 87 → 3+15+129*255+87
	run := func(zeros, last int) []byte { return cat(0x00, make([]byte, zeros), last) }
	l533 := seq(5, 533)

	return []lzoCase{
		{name: "end marker only", stream: lzoEnd, want: []byte{}},
		{name: "first byte 22: 5 literals", stream: cat(0x16, "hello", lzoEnd), want: []byte("hello")},
		{name: "first byte 255: 238 literals", stream: cat(0xff, seq(6, 238), lzoEnd), want: seq(6, 238)},
		{
			// 21-17 = 4 literals leave state 4; M2 (0 1 L=1 DDD=3 SS=0, H=0): length 4, distance 4.
			name: "first byte 21 then M2", stream: cat(0x15, "abcd", 0x6c, 0x00, lzoEnd),
			want: []byte("abcdabcd"),
		},
		{
			// 19-17 = 2 literals leave state 2, so 0..15 is a 2-byte match:
			// 0000 DD=1 SS=0, H=0: distance (0<<2)+1+1 = 2.
			name: "first byte 19 then 2-byte M1", stream: cat(0x13, "ab", 0x04, 0x00, lzoEnd),
			want: []byte("abab"),
		},
		{
			// 1 literal; M1 distance 1 (overlapping) with S=3; 3 literals;
			// M1 0000 DD=2 SS=0: distance 3.
			name:   "2-byte M1 after 1 and 3 literals",
			stream: cat(0x12, "a", 0x03, 0x00, "xyz", 0x08, 0x00, lzoEnd),
			want:   []byte("aaaxyzxy"),
		},
		{name: "literal run, short", stream: cat(0x02, "hello", lzoEnd), want: []byte("hello")},
		{name: "literal run, 15", stream: cat(0x0f, seq(7, 18), lzoEnd), want: seq(7, 18)},
		{name: "literal run, extended by one byte", stream: cat(0x00, 0x01, seq(8, 19), lzoEnd), want: seq(8, 19)},
		{name: "literal run, extended by zero bytes", stream: cat(run(2, 5), l533, lzoEnd), want: l533},
		{
			// After a literal run (state 4), 0000 DD=2 SS=0, H=1 is a 3-byte
			// match at distance (1<<2)+2+2049 = 2055.
			name: "3-byte M1 after a literal run", stream: cat(run(8, 42), l2100, 0x08, 0x01, lzoEnd),
			want: cat(l2100, l2100[2100-2055:][:3]),
		},
		{
			// The largest such distance: (255<<2)+3+2049 = 3072, S=2.
			name:   "3-byte M1 at distance 3072 with 2 literals",
			stream: cat(run(12, 22), l3100, 0x0e, 0xff, "XY", lzoEnd),
			want:   cat(l3100, l3100[28:31], "XY"),
		},
		{
			// 0 1 L=1 DDD=0 SS=0, H=0: 4 bytes at distance 1.
			name: "M2 overlapping run", stream: cat(0x12, "z", 0x60, 0x00, lzoEnd),
			want: []byte("zzzzz"),
		},
		{
			// 1 LL=3 DDD=0 SS=1, H=1: 8 bytes at distance (1<<3)+0+1 = 9, then 1 literal.
			name: "M2 8 bytes then 1 literal", stream: cat(0x1a, "abcdefghi", 0xe1, 0x01, "!", lzoEnd),
			want: []byte("abcdefghiabcdefgh!"),
		},
		{
			// M2 at its largest distance: H=255, DDD=7: (255<<3)+7+1 = 2048.
			name: "M2 at distance 2048", stream: cat(run(8, 42), l2100, 0xfc, 0xff, lzoEnd),
			want: cat(l2100, l2100[52:][:8]),
		},
		{
			// 001 L=3: length 5; LE16 D=4 SS=0: distance 5.
			name: "M3 short", stream: cat(0x16, "hello", 0x23, 0x10, 0x00, lzoEnd),
			want: []byte("hellohello"),
		},
		{
			// L=0: length 2+31+67 = 100 at distance 3 (overlapping).
			name:   "M3 extended, overlapping",
			stream: cat(0x14, "abc", 0x20, 0x43, 0x08, 0x00, lzoEnd),
			want:   []byte(strings.Repeat("abc", 35)[:103]),
		},
		{
			// L=0, one zero byte, 12: length 2+31+255+12 = 300 at distance 1.
			name:   "M3 extended by zero bytes",
			stream: cat(0x14, "abc", 0x20, 0x00, 0x0c, 0x00, 0x00, lzoEnd),
			want:   cat("abc", bytes.Repeat([]byte("c"), 300)),
		},
		{
			// LE16 = 16383<<2|3: distance 16384, the largest M3 distance; S=3.
			name:   "M3 at distance 16384 with 3 literals",
			stream: cat(run(64, 62), l16400, 0x21, 0xff, 0xff, "XYZ", lzoEnd),
			want:   cat(l16400, l16400[16:19], "XYZ"),
		},
		{
			// 0001 H=0 L=7: length 9, LE16 D=6: distance 16390. Then
			// L=0 extended by 1: length 10, D=25: distance 16409 (from the
			// very first byte), S=1 and one literal.
			name: "M4 below 32 KiB",
			stream: cat(run(64, 62), l16400, 0x17, 0x18, 0x00,
				0x10, 0x01, 0x65, 0x00, "!", lzoEnd),
			want: cat(l16400, l16400[10:19], l16400[:10], "!"),
		},
		{
			// 0001 H=1 L=2: length 4, distance 16384+16384+100.
			name:   "M4 above 32 KiB",
			stream: cat(run(129, 87), l33000, 0x1a, 0x90, 0x01, lzoEnd),
			want:   cat(l33000, l33000[33000-32868:][:4]),
		},
		{
			// 0001 H=1 L=7 D=16383: the largest distance, 49151.
			name:   "M4 at distance 49151",
			stream: cat(run(192, 222), seq(9, 49200), 0x1f, 0xfc, 0xff, lzoEnd),
			want:   cat(seq(9, 49200), seq(9, 49200)[49:][:9]),
		},

		// End markers that are not the canonical 11 00 00. liblzo2's
		// lzo1x_decompress_safe ends the stream on any M4 whose distance
		// field is 0 and H is 0, whatever its length and S bits, and so do
		// we (see lzo1x.go).
		{name: "end marker with extended length", stream: []byte{0x10, 0x30, 0x00, 0x00}, want: []byte{}},
		{name: "end marker extended by zero bytes", stream: cat(0x16, "hello", 0x10, 0x00, 0x01, 0x00, 0x00), want: []byte("hello")},
		{name: "end marker with length 4", stream: cat(0x16, "hello", 0x12, 0x00, 0x00), want: []byte("hello")},
		{name: "end marker with S=3", stream: cat(0x16, "hello", 0x11, 0x03, 0x00), want: []byte("hello")},

		// Errors.
		{name: "empty input", stream: []byte{}, wantErr: "empty input"},
		{name: "no end marker", stream: cat(0x16, "hello"), wantErr: "without an end marker"},
		{name: "truncated end marker", stream: []byte{0x11, 0x00}, wantErr: "inside a match"},
		{name: "input after end marker", stream: cat(lzoEnd, 0x00), wantErr: "after the end marker"},
		{name: "first literals past input", stream: cat(0x16, "hel"), wantErr: "literals but"},
		{name: "literal run past input", stream: cat(0x02, "hell"), wantErr: "literals but"},
		{name: "input ends in a length", stream: []byte{0x00, 0x00, 0x00}, wantErr: "inside a length"},
		{name: "input ends in M2", stream: cat(0x16, "hello", 0x60), wantErr: "inside a match"},
		{name: "input ends in M3", stream: cat(0x16, "hello", 0x23, 0x10), wantErr: "inside a match"},
		{name: "input ends in M4", stream: cat(0x16, "hello", 0x19), wantErr: "inside a match"},
		{name: "input ends in M1", stream: cat(0x13, "ab", 0x04), wantErr: "inside a match"},
		{name: "trailing literal past input", stream: cat(0x16, "hello", 0x61, 0x00), wantErr: "literals but"},
		{name: "M2 before the output", stream: cat(0x16, "hello", 0x54, 0x00, lzoEnd), wantErr: "reaches before"},
		// A first byte above 17 is a literal count, so only an M4 (16, 17) can
		// open the stream with a match.
		{name: "M4 with no output", stream: cat(0x11, 0x04, 0x00, lzoEnd), wantErr: "reaches before"},
		{name: "M1 before the output", stream: cat(0x16, "hello", 0x00, 0x00, lzoEnd), wantErr: "reaches before"},
		{name: "M4 before the output", stream: cat(0x16, "hello", 0x19, 0x04, 0x00, lzoEnd), wantErr: "reaches before"},
		{name: "literals overflow", stream: cat(0x16, "hello", lzoEnd), dstLen: 4, wantErr: "overflow"},
		{name: "match overflows", stream: cat(0x16, "hello", 0x23, 0x10, 0x00, lzoEnd), dstLen: 9, wantErr: "overflow"},
		{name: "trailing literal overflows", stream: cat(0x16, "hello", 0x61, 0x00, "!", lzoEnd), dstLen: 9, wantErr: "overflow"},
	}
}

func TestLZOHandBuilt(t *testing.T) {
	for _, tc := range lzoCases() {
		t.Run(tc.name, func(t *testing.T) {
			dstLen := tc.dstLen
			if dstLen == 0 {
				dstLen = len(tc.want)
				if tc.wantErr != "" {
					dstLen = 100 // room enough to reach the error
				}
			}
			dst, check := guarded(dstLen)
			n, err := lzo1xDecompress(tc.stream, dst)
			check(t)
			if n < 0 || n > dstLen {
				t.Fatalf("n = %d, outside 0..%d", n, dstLen)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != len(tc.want) || !bytes.Equal(dst[:n], tc.want) {
				t.Fatalf("decoded %d bytes %.40q, want %d bytes %.40q", n, dst[:n], len(tc.want), tc.want)
			}
			// More output room changes nothing.
			big := make([]byte, len(tc.want)+100)
			if n, err := lzo1xDecompress(tc.stream, big); err != nil || !bytes.Equal(big[:n], tc.want) {
				t.Fatalf("with room to spare: n=%d err=%v", n, err)
			}
			// One byte less room must fail, without panicking.
			if len(tc.want) > 0 {
				if _, err := lzo1xDecompress(tc.stream, make([]byte, len(tc.want)-1)); err == nil {
					t.Fatal("decoding into one byte less room succeeded")
				}
			}
		})
	}
}

// guarded returns an n-byte slice inside a larger buffer and a check that
// fails the test if anything wrote to the bytes around it. The slice's
// capacity reaches into the guard bytes after it, as a page cut from a
// larger buffer would: a decoder must respect len(dst), not cap(dst).
func guarded(n int) ([]byte, func(testing.TB)) {
	const guard = 64
	buf := make([]byte, guard+n+guard)
	before, after := buf[:guard], buf[guard+n:]
	for i := range guard {
		before[i], after[i] = 0xa5, 0xa5
	}
	dst := buf[guard : guard+n]
	return dst, func(t testing.TB) {
		t.Helper()
		for i := range guard {
			if before[i] != 0xa5 || after[i] != 0xa5 {
				t.Fatalf("a byte outside the %d-byte destination was written", n)
			}
		}
	}
}

// LZO fixtures: pages of the test corpus compressed by liblzo2, written by
// `go test -tags lzoref -run TestLZOFixtures -write-lzo-fixtures
// ./reader/codec/` (lzo_ref_test.go, which also checks that they are
// current). Each record is the uncompressed length (LE32), the SHA-256 of
// the uncompressed page, the compressed length (LE32) and the stream, so
// the plain tests can check them without liblzo2.

// lzoFixturePages are the corpus pages (index, size) in each fixture file.
var lzoFixturePages = func() [][2]int {
	var ps [][2]int
	for i := range 30 {
		ps = append(ps, [2]int{i, 4096})
	}
	// 64 KiB pages: text, pattern and long back-references reach M4.
	return append(ps, [2]int{1, 65536}, [2]int{5, 65536}, [2]int{8, 65536})
}()

var lzoFixtureFiles = []string{"lzo1x_1.pages", "lzo1x_999.pages"}

type lzoFixture struct {
	rawLen int
	sum    [32]byte
	stream []byte
}

func readLZOFixtures(t testing.TB, name string) []lzoFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var fs []lzoFixture
	for len(b) > 0 {
		if len(b) < 40 {
			t.Fatalf("%s: truncated record", name)
		}
		var f lzoFixture
		f.rawLen = int(binary.LittleEndian.Uint32(b))
		copy(f.sum[:], b[4:36])
		n := int(binary.LittleEndian.Uint32(b[36:]))
		if n > len(b)-40 {
			t.Fatalf("%s: truncated record", name)
		}
		f.stream, b = b[40:40+n], b[40+n:]
		fs = append(fs, f)
	}
	if len(fs) != len(lzoFixturePages) {
		t.Fatalf("%s holds %d pages, want %d", name, len(fs), len(lzoFixturePages))
	}
	return fs
}

// TestLZOFixtures decodes real lzo1x_1 and lzo1x_999 output.
func TestLZOFixtures(t *testing.T) {
	for _, name := range lzoFixtureFiles {
		for i, f := range readLZOFixtures(t, name) {
			dst, check := guarded(f.rawLen)
			n, err := lzo1xDecompress(f.stream, dst)
			check(t)
			if err != nil || n != f.rawLen || sha256.Sum256(dst) != f.sum {
				t.Fatalf("%s page %d: n=%d err=%v, or wrong bytes", name, i, n, err)
			}
			if _, err := lzo1xDecompress(f.stream, make([]byte, f.rawLen-1)); err == nil {
				t.Fatalf("%s page %d: one byte less room succeeded", name, i)
			}
			// Through Decode, with the right page size and with others.
			d := NewDecoder(f.rawLen)
			if err := d.Decode(model.CodecLZO, f.stream, dst); err != nil || sha256.Sum256(dst) != f.sum {
				t.Fatalf("%s page %d: Decode: %v", name, i, err)
			}
			for _, ps := range []int{f.rawLen - 1, f.rawLen + 1} {
				if err := NewDecoder(ps).Decode(model.CodecLZO, f.stream, make([]byte, ps)); !isCorrupt(err) {
					t.Fatalf("%s page %d as a %d-byte page: err = %v, want a corrupt-page error", name, i, ps, err)
				}
			}
		}
	}
}
