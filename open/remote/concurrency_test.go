package remote

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentRandomReads: many goroutines read random ranges through
// a small cache (blocks are evicted while others are fetched), every byte
// compared. Run with -race.
func TestConcurrentRandomReads(t *testing.T) {
	const bs = 16 << 10
	data := randomBytes(300*bs+555, 16)
	srv := &fileServer{}
	srv.set(data, `"v1"`, time.Time{})
	opt := testOptions()
	opt.CacheSize = 24 * bs
	opt.Parallel = 4
	o := mustOpen(t, serve(t, srv), opt)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 17))
			for range 60 {
				off := r.Int64N(int64(len(data)) + bs)
				n := 1 + r.IntN(3*bs)
				if g%4 == 0 {
					// Some goroutines scan: read-ahead runs beside random reads.
					off = int64(r.IntN(8)) * 37 * bs
					for k := range 20 {
						checkRead(t, o, data, off+int64(k*4096), 4096)
					}
					continue
				}
				checkRead(t, o, data, off, n)
			}
		}()
	}
	wg.Wait()
	if m := srv.maxActiv.Load(); m > int64(opt.Parallel) {
		t.Fatalf("%d requests at once, Parallel is %d", m, opt.Parallel)
	}
	t.Log(o.Stats())
}

// TestSharedFetch: goroutines that want the same block at the same time
// share one request; goroutines that want different blocks run their
// requests in parallel, at most Parallel at once.
func TestSharedFetch(t *testing.T) {
	const bs = 16 << 10
	data := randomBytes(64*bs, 18)
	srv := &fileServer{}
	srv.set(data, `"v1"`, time.Time{})
	opt := testOptions()
	opt.Parallel = 3
	opt.ReadAhead = -1
	o := mustOpen(t, serve(t, srv), opt)
	srv.delay.Store(int64(50 * time.Millisecond))

	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			checkRead(t, o, data, 7*bs+100, 1000)
		}()
	}
	wg.Wait()
	if got := srv.requests.Load(); got != 2 {
		t.Fatalf("10 readers of one block: %d requests, want 2 (Open and one GET)", got)
	}

	for i := range 9 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			checkRead(t, o, data, int64(20+2*i)*bs, 1000)
		}()
	}
	wg.Wait()
	if m := srv.maxActiv.Load(); m != 3 {
		t.Fatalf("%d requests at once, want Parallel = 3", m)
	}
	if s := o.Stats(); s.Wait < 9*50*time.Millisecond || !strings.Contains(s.String(), "waited") {
		t.Fatalf("wait time not counted: %v", s)
	}
}
