package remote

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// The benchmarks put a WAN in front of a loopback server: every request
// waits benchRTT before its answer, and each response body flows at most
// benchRate bytes per second (one TCP stream from object storage). They
// compare block sizes and read patterns by time, requests and bytes
// fetched, on a synthetic 4 GiB object and (BenchmarkRemoteTriage in
// dump_test.go) on real dumps. Run:
//
//	go test -run XXX -bench . -benchtime 3x ./open/remote/
//
// Measured on the 2-core VM, shared (ms per op, requests, MiB fetched):
//
//	                                 64 KiB blocks    256 KiB          1 MiB
//	scan 16 MiB in 64 KiB reads      253 ms 11 16.2   198 ms  9 16.3   291 ms  8 17.4
//	  same, no read-ahead                     -      1545 ms 64 16.0   547 ms 16 16.0
//	4 scans of 4 MiB in parallel     252 ms 32 28.6   204 ms 25 28.7   218 ms 21 27.6
//	128 random 4 KiB reads, 8 gor.   393 ms 128 8.0   468 ms 128 32    791 ms 126 126
//	triage, 15 MiB kdump (panic)     465 ms 20 4.8    442 ms 12 4.9    318 ms  5 4.5
//	triage, 20 MiB ELF vmcore        294 ms 15 1.8    202 ms  8 2.0    227 ms  6 6.0
//
// (triage: open, kernel log, kallsyms.) 256 KiB is the default: a random
// page read costs a round trip plus block/bandwidth, 2.6 ms more than
// 20 ms at 256 KiB but 10.5 ms and four times the bytes at 1 MiB;
// 64 KiB saves little time but takes about 1.7 times the requests of
// 256 KiB in triage, whose reads depend on each other (header, then
// bitmaps, then descriptors, then page tables), and requests are what
// object stores bill. Sequential throughput comes from read-ahead, not
// from the block size: without it a scan runs 8 times slower.
const (
	benchRTT  = 20 * time.Millisecond
	benchRate = 100e6 // bytes per second per response
	benchSize = 4 << 30
)

// wanServer serves data (or, when data is nil, size synthetic bytes)
// behind a round-trip delay and a rate limit.
type wanServer struct {
	data []byte
	size int64
	etag string
}

// synthetic is a reproducible object of any size made up on the fly, so
// that a multi-GiB dump costs no memory.
type synthetic struct {
	size, off int64
}

func (s *synthetic) Read(p []byte) (int, error) {
	if s.off >= s.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), s.size-s.off))
	for i := range n {
		x := uint64(s.off+int64(i)) * 0x9e3779b97f4a7c15
		p[i] = byte(x >> 56)
	}
	s.off += int64(n)
	return n, nil
}

func (s *synthetic) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		s.off = off
	case io.SeekCurrent:
		s.off += off
	case io.SeekEnd:
		s.off = s.size + off
	}
	return s.off, nil
}

func (s *wanServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-time.After(benchRTT):
	case <-r.Context().Done():
		return
	}
	w.Header().Set("ETag", s.etag)
	var content io.ReadSeeker = bytes.NewReader(s.data)
	if s.data == nil {
		content = &synthetic{size: s.size}
	}
	http.ServeContent(&pacedWriter{ResponseWriter: w, start: time.Now()}, r, "", time.Time{}, content)
}

// pacedWriter holds a body to benchRate.
type pacedWriter struct {
	http.ResponseWriter
	start time.Time
	sent  int64
}

func (p *pacedWriter) Write(b []byte) (int, error) {
	total := 0
	for len(b) > 0 {
		n := min(len(b), 32<<10)
		k, err := p.ResponseWriter.Write(b[:n])
		total += k
		p.sent += int64(k)
		if err != nil {
			return total, err
		}
		b = b[n:]
		due := p.start.Add(time.Duration(float64(p.sent) / benchRate * float64(time.Second)))
		if d := time.Until(due); d > time.Millisecond {
			time.Sleep(d)
		}
	}
	return total, nil
}

type benchPattern struct {
	name  string
	bytes int64 // read per op, for MB/s
	run   func(b *testing.B, o *Object)
}

func scan(b *testing.B, o *Object, from, to int64) {
	p := make([]byte, 64<<10)
	for off := from; off < to; off += int64(len(p)) {
		if _, err := o.ReadAt(p, off); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPatterns() []benchPattern {
	return []benchPattern{
		{"seq-64KiB-reads", 16 << 20, func(b *testing.B, o *Object) { scan(b, o, 0, 16<<20) }},
		{"4-parallel-scans", 16 << 20, func(b *testing.B, o *Object) {
			var wg sync.WaitGroup
			for g := range int64(4) {
				wg.Add(1)
				go func() { defer wg.Done(); scan(b, o, g*8<<20, g*8<<20+4<<20) }()
			}
			wg.Wait()
		}},
		{"random-4KiB-x128-8-goroutines", 0, func(b *testing.B, o *Object) {
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(g), 99))
					p := make([]byte, 4096)
					for range 16 {
						if _, err := o.ReadAt(p, r.Int64N(benchSize/4096)*4096); err != nil {
							b.Error(err)
						}
					}
				}()
			}
			wg.Wait()
		}},
	}
}

func BenchmarkRemote(b *testing.B) {
	srv := &wanServer{size: benchSize, etag: `"bench"`}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	type variant struct {
		bs        int64
		readAhead int64
	}
	variants := []variant{{64 << 10, 0}, {256 << 10, 0}, {1 << 20, 0}, {256 << 10, -1}, {1 << 20, -1}}
	for _, pat := range benchPatterns() {
		for _, v := range variants {
			if v.readAhead < 0 && pat.bytes == 0 {
				continue // random reads fetch nothing ahead anyway
			}
			name := fmt.Sprintf("%s/block-%dKiB", pat.name, v.bs>>10)
			if v.readAhead < 0 {
				name += "-no-readahead"
			}
			b.Run(name, func(b *testing.B) {
				if pat.bytes > 0 {
					b.SetBytes(pat.bytes)
				}
				var st Stats
				for range b.N {
					o, err := Open(context.Background(), ts.URL+"/vmcore", Options{BlockSize: v.bs, ReadAhead: v.readAhead})
					if err != nil {
						b.Fatal(err)
					}
					pat.run(b, o)
					o.Close()
					s := o.Stats()
					st.Requests += s.Requests
					st.BytesFetched += s.BytesFetched
				}
				b.ReportMetric(float64(st.Requests)/float64(b.N), "requests/op")
				b.ReportMetric(float64(st.BytesFetched)/float64(b.N)/(1<<20), "MiB-fetched/op")
			})
		}
	}
}
