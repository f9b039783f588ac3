package codec

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"compress/zlib"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"

	"dumpscope/model"
)

// isCorrupt reports whether err is a corrupt-page error as Decode promises:
// a *Error matching ErrCorrupt and model.ErrCorrupt.
func isCorrupt(err error) bool {
	var e *Error
	return errors.As(err, &e) && errors.Is(err, ErrCorrupt) && errors.Is(err, model.ErrCorrupt)
}

// compressors are the makedumpfile-like compressors that plain go test
// has; LZO pages come from liblzo2 fixtures (lzo1x_test.go).
func compressors(t testing.TB) map[model.Codec]func([]byte) []byte {
	return map[model.Codec]func([]byte) []byte{
		model.CodecNone:   func(p []byte) []byte { return bytes.Clone(p) },
		model.CodecZlib:   func(p []byte) []byte { return compressZlib(t, p) },
		model.CodecSnappy: compressSnappy,
		model.CodecZstd:   compressZstd,
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct{ pageSize, pages int }{{4096, 300}, {65536, 30}} {
		pages := testPages(tc.pages, tc.pageSize)
		for c, compress := range compressors(t) {
			for _, strict := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%d/strict=%v", c, tc.pageSize, strict), func(t *testing.T) {
					// One decoder for all pages: its reused state must not leak
					// from page to page.
					d := NewDecoder(tc.pageSize)
					d.Strict = strict
					defer d.Close()
					var in, out int
					for i, p := range pages {
						src := compress(p)
						dst, check := guarded(tc.pageSize)
						if err := d.Decode(c, src, dst); err != nil {
							t.Fatalf("page %d (%s): %v", i, pageKindName(i), err)
						}
						check(t)
						if !bytes.Equal(dst, p) {
							t.Fatalf("page %d (%s): decoded bytes differ", i, pageKindName(i))
						}
						in, out = in+len(src), out+len(p)
					}
					t.Logf("%d pages, ratio %.3f", len(pages), float64(in)/float64(out))
				})
			}
		}
	}
}

// TestCorpusCompresses guards the corpus: every kind but noise compresses,
// so the round trips exercise matches, not just literals.
func TestCorpusCompresses(t *testing.T) {
	for i, p := range testPages(len(pageKinds), 4096) {
		n := len(compressZlib(t, p))
		if random := pageKindName(i) == "random"; random != (n >= len(p)) {
			t.Errorf("%s page: zlib makes %d bytes of 4096", pageKindName(i), n)
		}
	}
}

// decodeCase is one input that Decode must reject.
type decodeCase struct {
	name  string
	codec model.Codec
	src   []byte
	// strict decodes with Decoder.Strict set.
	strict bool
	// is, if set, must match the error with errors.Is.
	is error
}

func TestDecodeErrors(t *testing.T) {
	const ps = 4096
	page := testPage(1, ps) // text
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		b[(i+len(b))%len(b)] ^= 0x40
		return b
	}

	z := compressZlib(t, page)
	sn := compressSnappy(page)
	zs := compressZstd(page)
	cases := []decodeCase{
		{name: "raw page short", codec: model.CodecNone, src: page[:ps-1]},
		{name: "raw page long", codec: model.CodecNone, src: append(bytes.Clone(page), 0)},

		{name: "zlib short output", codec: model.CodecZlib, src: compressZlib(t, page[:ps-1])},
		{name: "zlib long output", codec: model.CodecZlib, src: compressZlib(t, append(bytes.Clone(page), 'x'))},
		{name: "zlib two pages", codec: model.CodecZlib, src: compressZlib(t, append(bytes.Clone(page), page...))},
		// The Adler-32 trailer is only checked once the reader reaches
		// the end of the stream, after the page is complete.
		{name: "zlib bad Adler-32", codec: model.CodecZlib, src: flip(z, -1), is: zlib.ErrChecksum},
		{name: "zlib bad Adler-32, first byte", codec: model.CodecZlib, src: flip(z, -4), is: zlib.ErrChecksum},
		{name: "zlib bad header", codec: model.CodecZlib, src: flip(z, 0), is: zlib.ErrHeader},
		{name: "zlib corrupt data", codec: model.CodecZlib, src: flip(z, len(z)/2)},
		{name: "zlib trailing bytes, strict", codec: model.CodecZlib, src: append(bytes.Clone(z), 0), strict: true},
		{name: "zlib empty", codec: model.CodecZlib, src: nil},

		{name: "snappy length 4095", codec: model.CodecSnappy, src: compressSnappy(page[:ps-1])},
		{name: "snappy length 4097", codec: model.CodecSnappy, src: compressSnappy(append(bytes.Clone(page), 0))},
		// The length header says 4096, the data makes 4095 bytes.
		{name: "snappy DecodedLen mismatch", codec: model.CodecSnappy, src: append([]byte{0x80, 0x20}, compressSnappy(page[:ps-1])[2:]...)},
		{name: "snappy trailing bytes", codec: model.CodecSnappy, src: append(bytes.Clone(sn), 0x00, 'x')},
		{name: "snappy bad varint", codec: model.CodecSnappy, src: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{name: "snappy empty", codec: model.CodecSnappy, src: nil},
		{name: "snappy corrupt copy", codec: model.CodecSnappy, src: []byte{0x80, 0x20, 0x00, 'a', 0x02, 0x10, 0x00}},

		{name: "zstd short output", codec: model.CodecZstd, src: compressZstd(page[:ps-1])},
		{name: "zstd long output", codec: model.CodecZstd, src: compressZstd(append(bytes.Clone(page), 0))},
		{name: "zstd frame of two pages", codec: model.CodecZstd, src: compressZstd(append(bytes.Clone(page), page...))},
		{name: "zstd frame of 64 KiB", codec: model.CodecZstd, src: compressZstd(make([]byte, 1<<16))},
		{name: "zstd bad magic", codec: model.CodecZstd, src: flip(zs, 0), is: zstd.ErrMagicMismatch},
		{name: "zstd bad checksum", codec: model.CodecZstd, src: flip(zs, -1), is: zstd.ErrCRCMismatch},
		{name: "zstd corrupt data", codec: model.CodecZstd, src: flip(zs, len(zs)/2)},
		{name: "zstd empty", codec: model.CodecZstd, src: nil},
		{name: "zstd two frames of a page", codec: model.CodecZstd, src: append(bytes.Clone(zs), zs...)},
	}
	for n := 1; n <= 8; n++ {
		cases = append(cases, decodeCase{name: fmt.Sprintf("zstd %d trailing bytes", n), codec: model.CodecZstd, src: append(bytes.Clone(zs), make([]byte, n)...)})
	}
	// Every truncation of a valid page fails.
	for _, c := range []struct {
		codec model.Codec
		src   []byte
	}{{model.CodecZlib, z}, {model.CodecSnappy, sn}, {model.CodecZstd, zs}} {
		for n := range len(c.src) {
			cases = append(cases, decodeCase{name: fmt.Sprintf("%s truncated to %d", c.codec, n), codec: c.codec, src: c.src[:n]})
		}
	}

	d := NewDecoder(ps)
	defer d.Close()
	for _, tc := range cases {
		d.Strict = tc.strict
		dst, check := guarded(ps)
		err := d.Decode(tc.codec, tc.src, dst)
		check(t)
		var e *Error
		switch {
		case err == nil:
			t.Errorf("%s: accepted", tc.name)
		case !isCorrupt(err) || !errors.As(err, &e) || e.Codec != tc.codec:
			t.Errorf("%s: %v (%T) is not a corrupt-page *Error for %s", tc.name, err, err, tc.codec)
		case tc.is != nil && !errors.Is(err, tc.is):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.is)
		}
		// The decoder still works after any error.
		d.Strict = false
		good := map[model.Codec][]byte{model.CodecNone: page, model.CodecZlib: z, model.CodecSnappy: sn, model.CodecZstd: zs}[tc.codec]
		if err := d.Decode(tc.codec, good, dst); err != nil || !bytes.Equal(dst, page) {
			t.Fatalf("%s: the next good page fails: %v", tc.name, err)
		}
	}
}

// TestDecodeLenient lists what Decode accepts beyond makedumpfile's own
// output, because makedumpfile's C readers accept it too.
func TestDecodeLenient(t *testing.T) {
	page := testPage(3, 4096)
	z, zs := compressZlib(t, page), compressZstd(page)
	half := func(b []byte) []byte { return compressZstd(b) }
	skippable := []byte{0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3}
	for _, tc := range []struct {
		name  string
		codec model.Codec
		src   []byte
	}{
		// zlib's uncompress() ignores what follows the stream.
		{"zlib trailing bytes", model.CodecZlib, append(bytes.Clone(z), 1, 2, 3)},
		// ZSTD_decompress() decodes every frame and skips skippable ones.
		{"zstd two frames of half a page", model.CodecZstd, append(half(page[:2048]), half(page[2048:])...)},
		{"zstd skippable frame first", model.CodecZstd, append(bytes.Clone(skippable), zs...)},
		{"zstd skippable frame last", model.CodecZstd, append(bytes.Clone(zs), skippable...)},
	} {
		d := NewDecoder(4096)
		dst := make([]byte, 4096)
		if err := d.Decode(tc.codec, tc.src, dst); err != nil || !bytes.Equal(dst, page) {
			t.Errorf("%s: %v", tc.name, err)
		}
		d.Close()
	}
}

// TestSnappyStrict checks that Strict rejects the S2 extension that
// klauspost's snappy.Decode accepts: a copy with offset 0 repeats the last
// offset. Standard snappy (and the C library) rejects offset 0.
func TestSnappyStrict(t *testing.T) {
	// Length 12; literal "abcd"; copy 4 bytes from offset 4 (1-byte-offset
	// copy: tag 000 000 01, offset 4); the same tag with offset 0.
	block := []byte{0x0c, 0x0c, 'a', 'b', 'c', 'd', 0x01, 0x04, 0x01, 0x00}
	d := NewDecoder(12)
	dst := make([]byte, 12)
	if err := d.Decode(model.CodecSnappy, block, dst); err != nil || string(dst) != "abcdabcdabcd" {
		t.Fatalf("non-strict: %q, %v", dst, err)
	}
	d.Strict = true
	if err := d.Decode(model.CodecSnappy, block, dst); !isCorrupt(err) || !errors.Is(err, snappy.ErrCorrupt) {
		t.Fatalf("strict: err = %v, want snappy.ErrCorrupt", err)
	}
	// The same block with a real offset is fine in both modes.
	block[9] = 0x08
	if err := d.Decode(model.CodecSnappy, block, dst); err != nil || string(dst) != "abcdabcdabcd" {
		t.Fatalf("strict, standard block: %q, %v", dst, err)
	}
}

func TestDecodeUsageErrors(t *testing.T) {
	d := NewDecoder(4096)
	page := make([]byte, 4096)
	for _, tc := range []struct {
		name  string
		d     *Decoder
		codec model.Codec
		dst   []byte
	}{
		{"dst too short", d, model.CodecNone, make([]byte, 4095)},
		{"dst too long", d, model.CodecZlib, make([]byte, 4097)},
		{"nil dst", d, model.CodecZstd, nil},
		{"unknown codec", d, model.Codec("lz4"), make([]byte, 4096)},
		{"page size 0", NewDecoder(0), model.CodecNone, nil},
		{"negative page size", NewDecoder(-1), model.CodecNone, nil},
	} {
		err := tc.d.Decode(tc.codec, page, tc.dst)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
		} else if isCorrupt(err) {
			t.Errorf("%s: %v is a corrupt-page error, but the page is fine", tc.name, err)
		}
	}
}

func TestErrorText(t *testing.T) {
	err := NewDecoder(4096).Decode(model.CodecSnappy, compressSnappy(make([]byte, 100)), make([]byte, 4096))
	if err == nil || !strings.HasPrefix(err.Error(), "snappy: ") || !strings.Contains(err.Error(), "100") {
		t.Fatalf("err = %v, want it to name the codec and the decoded length", err)
	}
}

func TestClose(t *testing.T) {
	page := testPage(4, 4096)
	src := compressZstd(page)
	d := NewDecoder(4096)
	dst := make([]byte, 4096)
	for range 3 {
		if err := d.Decode(model.CodecZstd, src, dst); err != nil || !bytes.Equal(dst, page) {
			t.Fatal(err)
		}
		d.Close()
		d.Close() // closing twice is harmless
	}
}
