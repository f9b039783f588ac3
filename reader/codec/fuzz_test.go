package codec

// Fuzz targets, one per codec. Each feeds arbitrary bytes to Decode and
// asserts what Decode promises for hostile input: no panic, nothing
// written outside the destination page, and success only with exactly one
// page of output, agreeing with an independent decoder where there is one.
//
//	go test -run XXX -fuzz FuzzLZO -fuzztime 2m -fuzzminimizetime 1s ./reader/codec/
//
// The seeds are valid compressed pages of a few KiB, and the fuzzer spends
// up to -fuzzminimizetime (default 60s) minimizing each new input grown
// from them, with both workers stalled meanwhile: lower it as above, or
// most of a short run goes to minimizing.
//
// The page size is a fuzz argument too (0 means 64 KiB), so that the
// fuzzer can reach success with short inputs.

import (
	"bytes"
	"compress/zlib"
	"io"
	"sync"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"

	"dumpscope/model"
)

// maxSeed bounds the size of seed inputs: the fuzzer minimizes every new
// input that finds coverage, and inputs grown from seeds of tens of KiB
// stall it for seconds each.
const maxSeed = 5000

func fuzzPageSize(ps uint16) int {
	if ps == 0 {
		return 1 << 16
	}
	return int(ps)
}

// seedPages adds valid compressed pages of every corpus kind, as 4 KiB
// pages and as short pages.
func seedPages(f *testing.F, compress func([]byte) []byte) {
	for i := range pageKinds {
		f.Add(compress(testPage(i, 4096)), uint16(4096))
		f.Add(compress(testPage(i, 4096)[:100]), uint16(100))
	}
}

// decodeFuzz runs Decode into a guarded page and checks the promises that
// hold for every codec. It returns the page and whether Decode succeeded.
func decodeFuzz(t *testing.T, d *Decoder, c model.Codec, src []byte, ps int) ([]byte, bool) {
	dst, check := guarded(ps)
	err := d.Decode(c, src, dst)
	check(t)
	if err != nil && !isCorrupt(err) {
		t.Fatalf("%v is not a corrupt-page error", err)
	}
	return dst, err == nil
}

// zlibFuzzState is reused across inputs, as the product reuses its zlib
// readers: a default and a strict Decoder, and compress/zlib's reader as
// the oracle.
type zlibFuzzState struct {
	ps              int
	lenient, strict *Decoder
	std             io.ReadCloser
	br              bytes.Reader
	out             []byte
}

var zlibFuzz zlibFuzzState

func FuzzZlib(f *testing.F) {
	seedPages(f, func(p []byte) []byte { return compressZlib(f, p) })
	f.Fuzz(func(t *testing.T, src []byte, psArg uint16) {
		ps := fuzzPageSize(psArg)
		z := &zlibFuzz
		if z.ps != ps {
			z.ps, z.lenient, z.strict = ps, NewDecoder(ps), NewDecoder(ps)
			z.strict.Strict = true
		}
		// Oracle: the standard library's zlib reader must produce the same
		// page, then a clean end (which checks the Adler-32).
		z.br.Reset(src)
		var err error
		if z.std == nil {
			z.std, err = zlib.NewReader(&z.br)
		} else {
			err = z.std.(zlib.Resetter).Reset(&z.br, nil)
		}
		want := z.out[:0]
		if err == nil {
			want, err = readAllAppend(want, io.LimitReader(z.std, int64(ps)+1))
		}
		z.out = want
		stdOK := err == nil && len(want) == ps
		for _, d := range []*Decoder{z.lenient, z.strict} {
			got, ok := decodeFuzz(t, d, model.CodecZlib, src, ps)
			wantOK := stdOK && (!d.Strict || z.br.Len() == 0)
			if ok != wantOK {
				t.Fatalf("strict=%v: we say ok=%v, compress/zlib reads %d bytes, %v", d.Strict, ok, len(want), err)
			}
			if ok && !bytes.Equal(got, want) {
				t.Fatalf("strict=%v: output differs from compress/zlib", d.Strict)
			}
		}
	})
}

// readAllAppend is io.ReadAll into b's storage.
func readAllAppend(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

func FuzzLZO(f *testing.F) {
	for _, tc := range lzoCases() {
		if len(tc.stream) <= maxSeed {
			f.Add(tc.stream, uint16(len(tc.want)))
		}
	}
	for _, name := range lzoFixtureFiles {
		for _, fx := range readLZOFixtures(f, name)[:20] {
			if len(fx.stream) <= maxSeed {
				f.Add(fx.stream, uint16(fx.rawLen))
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, psArg uint16) {
		ps := fuzzPageSize(psArg)
		got, ok := decodeFuzz(t, NewDecoder(ps), model.CodecLZO, src, ps)
		// With room to spare the decoder must reach the same verdict on
		// the first ps bytes: success into a page means exactly ps bytes.
		big := make([]byte, ps+100)
		n, err := lzo1xDecompress(src, big)
		if n < 0 || n > len(big) {
			t.Fatalf("n = %d, outside 0..%d", n, len(big))
		}
		if ok != (err == nil && n == ps) {
			t.Fatalf("Decode ok=%v, but with more room: %d bytes, %v", ok, n, err)
		}
		if ok && !bytes.Equal(got, big[:n]) {
			t.Fatal("output depends on the room")
		}
	})
}

func FuzzSnappy(f *testing.F) {
	seedPages(f, compressSnappy)
	f.Add([]byte{0x0c, 0x0c, 'a', 'b', 'c', 'd', 0x01, 0x04, 0x01, 0x00}, uint16(12))
	f.Fuzz(func(t *testing.T, src []byte, psArg uint16) {
		ps := fuzzPageSize(psArg)
		got, ok := decodeFuzz(t, NewDecoder(ps), model.CodecSnappy, src, ps)
		d := NewDecoder(ps)
		d.Strict = true
		gotStrict, okStrict := decodeFuzz(t, d, model.CodecSnappy, src, ps)
		// Strict accepts a subset of what the default accepts, with the
		// same output.
		if okStrict && (!ok || !bytes.Equal(got, gotStrict)) {
			t.Fatalf("strict ok but default ok=%v or different output", ok)
		}
		if ok {
			if n, err := snappy.DecodedLen(src); err != nil || n != ps {
				t.Fatalf("accepted a block whose length header says %d, %v", n, err)
			}
		}
	})
}

// zstdDecoders keeps a Decoder for each of the first page sizes seen: a
// zstd decoder is costly to create, and reuse across inputs is how the
// product uses it. Other sizes get a decoder for one input.
var zstdDecoders = struct {
	sync.Mutex
	m map[int]*Decoder
}{m: map[int]*Decoder{}}

func zstdDecoder(ps int) (d *Decoder, done func()) {
	zstdDecoders.Lock()
	defer zstdDecoders.Unlock()
	if d := zstdDecoders.m[ps]; d != nil {
		return d, func() {}
	}
	d = NewDecoder(ps)
	if len(zstdDecoders.m) >= 16 {
		return d, d.Close
	}
	zstdDecoders.m[ps] = d
	return d, func() {}
}

func FuzzZstd(f *testing.F) {
	seedPages(f, compressZstd)
	f.Fuzz(func(t *testing.T, src []byte, psArg uint16) {
		ps := fuzzPageSize(psArg)
		d, done := zstdDecoder(ps)
		defer done()
		got, ok := decodeFuzz(t, d, model.CodecZstd, src, ps)
		if !ok {
			return
		}
		// Oracle: an unlimited decoder must agree on the output.
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		want, err := dec.DecodeAll(src, nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("an unlimited decoder says %d bytes, %v", len(want), err)
		}
	})
}
