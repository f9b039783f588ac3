package remote

import (
	"bytes"
	"context"
	"fmt"
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
// fetched. Run:
//
//	go test -run XXX -bench . -benchtime 2x ./open/remote/
const (
	benchRTT  = 20 * time.Millisecond
	benchRate = 100e6 // bytes per second per response
	benchSize = 32 << 20
)

// wanServer serves data behind a round-trip delay and a rate limit.
type wanServer struct {
	data []byte
	etag string
}

func (s *wanServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-time.After(benchRTT):
	case <-r.Context().Done():
		return
	}
	w.Header().Set("ETag", s.etag)
	http.ServeContent(&pacedWriter{ResponseWriter: w, start: time.Now()}, r, "", time.Time{}, bytes.NewReader(s.data))
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
	srv := &wanServer{data: randomBytes(benchSize, 25), etag: `"bench"`}
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
