//go:build cgo && lzoref

package codec

// Differential tests of the LZO1X decoder against liblzo2, the library
// makedumpfile compresses and decompresses LZO pages with. Run them with
//
//	go test -tags lzoref ./reader/codec/...
//	go test -tags lzoref -run XXX -fuzz FuzzLZODiff -fuzztime 2m -fuzzminimizetime 1s ./reader/codec/
//
// liblzo2 is GPL-2.0; it is linked only into this test binary, through
// internal/lzoref.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"dumpscope/reader/codec/internal/lzoref"
)

var writeLZOFixtures = flag.Bool("write-lzo-fixtures", false, "rewrite testdata/lzo1x_*.pages with liblzo2")

// encodeLZOFixtures lays out a fixture file (see lzoFixturePages).
func encodeLZOFixtures(pages, streams [][]byte) []byte {
	var b []byte
	for i, p := range pages {
		sum := sha256.Sum256(p)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, sum[:]...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(streams[i])))
		b = append(b, streams[i]...)
	}
	return b
}

// TestLZOFixturesCurrent checks that the fixture files are exactly what
// liblzo2 makes of the corpus today, or rewrites them with
// -write-lzo-fixtures.
func TestLZOFixturesCurrent(t *testing.T) {
	var pages [][]byte
	for _, p := range lzoFixturePages {
		pages = append(pages, testPage(p[0], p[1]))
	}
	for _, name := range lzoFixtureFiles {
		compress := lzoref.Compress1
		if name == "lzo1x_999.pages" {
			compress = lzoref.Compress999
		}
		var streams [][]byte
		for _, p := range pages {
			streams = append(streams, compress(p))
		}
		want := encodeLZOFixtures(pages, streams)
		path := filepath.Join("testdata", name)
		if *writeLZOFixtures {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: rerun with -write-lzo-fixtures", path)
		}
	}
}

// TestLZOHandBuiltRef checks the hand-built streams of lzo1x_test.go, and
// what they expect, against liblzo2: the same verdict and the same bytes.
func TestLZOHandBuiltRef(t *testing.T) {
	for _, tc := range lzoCases() {
		dstLen := tc.dstLen
		if dstLen == 0 {
			dstLen = len(tc.want)
			if tc.wantErr != "" {
				dstLen = 100
			}
		}
		dst := make([]byte, dstLen)
		n, err := lzoref.Decompress(tc.stream, dst)
		switch {
		case tc.wantErr != "" && err == nil:
			t.Errorf("%s: liblzo2 accepts it (%d bytes); we expect %q", tc.name, n, tc.wantErr)
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: liblzo2: %v", tc.name, err)
		case tc.wantErr == "" && !bytes.Equal(dst[:n], tc.want):
			t.Errorf("%s: liblzo2 decodes %d bytes %.40q, we expect %.40q", tc.name, n, dst[:n], tc.want)
		}
	}
}

// diffInput returns size bytes of runs, noise, text and back-references
// reaching up to 64 KiB back, so that compressors emit every instruction.
func diffInput(r *rand.Rand, size int) []byte {
	b := make([]byte, 0, size)
	for len(b) < size {
		n := 1 + r.IntN(300)
		if r.IntN(10) == 0 {
			n = 1 + r.IntN(5000)
		}
		n = min(n, size-len(b))
		switch k := r.IntN(6); {
		case k == 0: // a run of one byte
			b = append(b, bytes.Repeat([]byte{byte(r.IntN(4) * 0x55)}, n)...)
		case k == 1: // noise
			for range n {
				b = append(b, byte(r.Uint32()))
			}
		case k == 2: // text
			for end := len(b) + n; len(b) < end; {
				w := words[r.IntN(len(words))] + " "
				b = append(b, w[:min(len(w), end-len(b))]...)
			}
		case len(b) == 0:
			b = append(b, byte(r.Uint32()))
		default: // a back-reference, near or far
			reach := min(len(b), 1<<16)
			if r.IntN(2) == 0 {
				reach = min(len(b), 64)
			}
			from := len(b) - 1 - r.IntN(reach)
			for i := range n { // may overlap what it appends
				b = append(b, b[from+i])
			}
		}
	}
	return b
}

// diffInputSize picks the size of input i: page-sized, tiny, small, medium
// or large (up to 300 KB).
func diffInputSize(r *rand.Rand, i int) int {
	switch i % 10 {
	case 0:
		return []int{4096, 65536}[r.IntN(2)]
	case 1, 2:
		return r.IntN(65)
	case 3, 4, 5, 6:
		return r.IntN(8 << 10)
	case 7, 8:
		return r.IntN(70 << 10)
	default:
		return r.IntN(300 << 10)
	}
}

// TestLZODifferential compresses thousands of inputs with lzo1x_1_compress
// and lzo1x_999_compress and checks that we decode them exactly, and that
// one byte less output room fails cleanly.
func TestLZODifferential(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	seen := map[string]int{} // instruction forms decoded, to show the inputs cover them
	inBytes := 0
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		in := diffInput(r, diffInputSize(r, i))
		if i%10 == 0 && r.IntN(2) == 0 {
			in = testPage(i/10, len(in)) // a corpus page of the same size
		}
		inBytes += len(in)
		type variant struct {
			name   string
			stream []byte
		}
		vs := []variant{{"lzo1x_1", lzoref.Compress1(in)}}
		if len(in) <= 70<<10 { // lzo1x_999 is slow
			vs = append(vs, variant{"lzo1x_999", lzoref.Compress999(in)})
		}
		for _, v := range vs {
			where := fmt.Sprintf("input %d (%d bytes), %s", i, len(in), v.name)
			dst, check := guarded(len(in))
			got, err := lzo1xDecompress(v.stream, dst)
			check(t)
			if err != nil || got != len(in) || !bytes.Equal(dst, in) {
				t.Fatalf("%s: decoded %d bytes, err %v, or wrong bytes", where, got, err)
			}
			if len(in) > 0 {
				short, check := guarded(len(in) - 1)
				got, err := lzo1xDecompress(v.stream, short)
				check(t)
				if err == nil || got > len(short) {
					t.Fatalf("%s: one byte less room: n=%d err=%v", where, got, err)
				}
			}
			countInstructions(v.stream, seen)
		}
	}
	t.Logf("%d inputs, %d bytes; instruction forms decoded: %v", n, inBytes, seen)
	for _, form := range instructionForms {
		if seen[form] == 0 {
			t.Errorf("no %s in any stream: the inputs are too narrow", form)
		}
	}
}

// instructionForms are the forms countInstructions tells apart.
var instructionForms = []string{
	"first literals", "literal run", "long literal run", "M1 2-byte", "M1 3-byte",
	"M2", "M3", "long M3", "M4", "long M4", "far M4", "trailing literals",
}

// countInstructions tallies the instruction forms of a valid stream. It
// walks the stream with the rules of lzo1x.go but needs only the
// instruction boundaries, not the output.
func countInstructions(s []byte, seen map[string]int) {
	ip, state := 0, 0
	if s[0] > 17 {
		seen["first literals"]++
		t := int(s[0]) - 17
		ip, state = 1+t, min(t, 4)
	}
	long := func(form string) int { // skips an extended length
		seen[form]++
		n := 0
		for ; s[ip] == 0; ip++ {
			n += 255
		}
		ip++
		return n + int(s[ip-1])
	}
	for {
		inst := int(s[ip])
		ip++
		next := 0
		switch {
		case inst >= 64:
			seen["M2"]++
			next = inst & 3
			ip++
		case inst >= 32:
			seen["M3"]++
			if inst&31 == 0 {
				long("long M3")
			}
			next = int(s[ip]) & 3
			ip += 2
		case inst >= 16:
			if inst&7 == 0 {
				long("long M4")
			}
			if inst&8 == 0 && s[ip]>>2 == 0 && s[ip+1] == 0 {
				return // the end marker
			}
			seen["M4"]++
			if inst&8 != 0 {
				seen["far M4"]++ // distance above 32 KiB
			}
			next = int(s[ip]) & 3
			ip += 2
		case state == 0:
			seen["literal run"]++
			n := inst
			if n == 0 {
				n = 15 + long("long literal run")
			}
			ip += n + 3
			state = 4
			continue
		case state == 4:
			seen["M1 3-byte"]++
			next = inst & 3
			ip++
		default:
			seen["M1 2-byte"]++
			next = inst & 3
			ip++
		}
		if next > 0 {
			seen["trailing literals"]++
		}
		ip += next
		state = next
	}
}

// FuzzLZODiff runs arbitrary bytes through our decoder and liblzo2's
// lzo1x_decompress_safe with the same output room and requires the same
// verdict: both succeed with the same output, or both fail.
func FuzzLZODiff(f *testing.F) {
	for _, tc := range lzoCases() {
		if len(tc.stream) <= maxSeed {
			f.Add(tc.stream, uint16(max(len(tc.want), tc.dstLen)))
		}
	}
	for _, name := range lzoFixtureFiles {
		for _, fx := range readLZOFixtures(f, name)[:12] {
			if len(fx.stream) <= maxSeed {
				f.Add(fx.stream, uint16(fx.rawLen))
			}
		}
	}
	f.Add([]byte("\x10\x30\x00\x00"), uint16(0))
	f.Fuzz(func(t *testing.T, src []byte, room uint16) {
		dst, check := guarded(int(room))
		n, err := lzo1xDecompress(src, dst)
		check(t)
		ref := make([]byte, int(room))
		refN, refErr := lzoref.Decompress(src, ref)
		switch {
		case n < 0 || n > len(dst):
			t.Fatalf("n = %d, outside 0..%d", n, len(dst))
		case (err == nil) != (refErr == nil):
			t.Fatalf("verdicts differ: ours %d bytes, %v; liblzo2 %d bytes, %v", n, err, refN, refErr)
		case err == nil && (n != refN || !bytes.Equal(dst[:n], ref[:refN])):
			t.Fatalf("outputs differ: ours %d bytes, liblzo2 %d bytes", n, refN)
		}
	})
}

// BenchmarkLZORef decodes the benchmark corpus compressed by lzo1x_1 and
// lzo1x_999, with our decoder and with liblzo2's lzo1x_decompress_safe.
func BenchmarkLZORef(b *testing.B) {
	for _, level := range []struct {
		name     string
		compress func([]byte) []byte
	}{{"lzo1x_1", lzoref.Compress1}, {"lzo1x_999", lzoref.Compress999}} {
		var streams [][]byte
		for _, p := range benchPages() {
			if s := level.compress(p); len(s) < len(p) { // as makedumpfile stores them
				streams = append(streams, s)
			}
		}
		for _, impl := range []struct {
			name   string
			decode func(src, dst []byte) (int, error)
		}{{"ours", lzo1xDecompress}, {"liblzo2", lzoref.DecompressDirect}} {
			b.Run(level.name+"/"+impl.name, func(b *testing.B) {
				dst := make([]byte, benchPageSize)
				b.SetBytes(benchPageSize)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if n, err := impl.decode(streams[i], dst); err != nil || n != benchPageSize {
						b.Fatalf("page %d: n=%d err=%v", i, n, err)
					}
					if i++; i == len(streams) {
						i = 0
					}
				}
			})
		}
	}
}
