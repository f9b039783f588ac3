package codec

import (
	"sync"
	"testing"

	"dumpscope/model"
)

const benchPageSize = 4096

// benchPages is the deterministic benchmark corpus: 1024 pages of 4 KiB,
// every kind of corpus page in turn.
var benchPages = sync.OnceValue(func() [][]byte { return testPages(1024, benchPageSize) })

// BenchmarkDecode decodes 4 KiB pages on one goroutine. Like makedumpfile,
// it keeps only the pages that the codec shrinks (the others are stored
// raw). LZO streams are the liblzo2 lzo1x_1 fixtures; BenchmarkLZORef
// (-tags lzoref) compares with liblzo2 on the full corpus.
//
//	go test -run XXX -bench BenchmarkDecode -cpu 1 ./reader/codec/
func BenchmarkDecode(b *testing.B) {
	compress := compressors(b)
	for _, c := range []model.Codec{model.CodecZlib, model.CodecLZO, model.CodecSnappy, model.CodecZstd} {
		var streams [][]byte
		if c == model.CodecLZO {
			for _, f := range readLZOFixtures(b, "lzo1x_1.pages") {
				if f.rawLen == benchPageSize && len(f.stream) < f.rawLen {
					streams = append(streams, f.stream)
				}
			}
		} else {
			for _, p := range benchPages() {
				if s := compress[c](p); len(s) < len(p) {
					streams = append(streams, s)
				}
			}
		}
		b.Run(string(c), func(b *testing.B) {
			d := NewDecoder(benchPageSize)
			defer d.Close()
			dst := make([]byte, benchPageSize)
			b.SetBytes(benchPageSize)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := d.Decode(c, streams[i], dst); err != nil {
					b.Fatalf("page %d: %v", i, err)
				}
				if i++; i == len(streams) {
					i = 0
				}
			}
		})
	}
}
