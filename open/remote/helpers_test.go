package remote

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// secret is put in every test URL's query string; no name or error may
// show it.
const secret = "X-Amz-Signature=SECRETSECRET"

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// fileServer serves one object with http.ServeContent (Range, If-Range,
// If-Match, If-Unmodified-Since), with an ETag header when etag is set
// and Last-Modified when modTime is not zero. It records what it was
// asked.
type fileServer struct {
	mu      sync.Mutex
	data    []byte
	etag    string
	modTime time.Time
	headers []http.Header // request headers, in order

	requests atomic.Int64
	active   atomic.Int64
	maxActiv atomic.Int64
	delay    atomic.Int64 // nanoseconds before each answer
}

func (s *fileServer) set(data []byte, etag string, modTime time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data, s.etag, s.modTime = data, etag, modTime
}

func (s *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	n := s.active.Add(1)
	defer s.active.Add(-1)
	for {
		m := s.maxActiv.Load()
		if n <= m || s.maxActiv.CompareAndSwap(m, n) {
			break
		}
	}
	s.mu.Lock()
	data, etag, modTime := s.data, s.etag, s.modTime
	s.headers = append(s.headers, r.Header.Clone())
	s.mu.Unlock()
	if d := time.Duration(s.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", modTime, bytes.NewReader(data))
}

// ranges returns the Range headers the server received.
func (s *fileServer) ranges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, h := range s.headers {
		out = append(out, h.Get("Range"))
	}
	return out
}

func (s *fileServer) header(i int) http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headers[i]
}

// serve starts a loopback server for h and returns the URL of its object,
// with a secret query string.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/dumps/vmcore?" + secret
}

// testOptions are small and quick: 16 KiB blocks, fast retries, short
// timeouts.
func testOptions() Options {
	return Options{
		BlockSize:      16 << 10,
		Backoff:        time.Millisecond,
		Attempts:       3,
		IdleTimeout:    time.Second,
		RequestTimeout: 3 * time.Second,
	}
}

func mustOpen(t testing.TB, rawURL string, opt Options) *Object {
	t.Helper()
	o, err := Open(context.Background(), rawURL, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

// checkRead reads [off, off+n) and compares every byte with want, the
// source; it returns the error ReadAt gave.
func checkRead(t testing.TB, o *Object, want []byte, off int64, n int) error {
	t.Helper()
	p := make([]byte, n)
	got, err := o.ReadAt(p, off)
	if got < 0 || got > n {
		t.Fatalf("ReadAt(%d, %d) = %d", off, n, got)
	}
	end := min(off+int64(n), int64(len(want)))
	if off < int64(len(want)) {
		if exp := int(end - off); got > exp {
			t.Fatalf("ReadAt(%d, %d) = %d bytes, the object has only %d there", off, n, got, exp)
		}
		if !bytes.Equal(p[:got], want[off:off+int64(got)]) {
			t.Fatalf("ReadAt(%d, %d): wrong bytes", off, n)
		}
	} else if got != 0 {
		t.Fatalf("ReadAt(%d, %d) past the end = %d", off, n, got)
	}
	if err == nil && got < n {
		t.Fatalf("ReadAt(%d, %d) = %d bytes and no error", off, n, got)
	}
	noSecret(t, err)
	return err
}

// noSecret fails when an error shows the URL's query string.
func noSecret(t testing.TB, err error) {
	t.Helper()
	if err != nil && (strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "Signature")) {
		t.Fatalf("error shows the query string: %v", err)
	}
}

// parseRange parses a request's "bytes=a-b".
func parseRange(h string) (first, last int64, ok bool) {
	a, b, ok := strings.Cut(strings.TrimPrefix(h, "bytes="), "-")
	if !ok || !strings.HasPrefix(h, "bytes=") {
		return 0, 0, false
	}
	f, err1 := strconv.ParseInt(a, 10, 64)
	l, err2 := strconv.ParseInt(b, 10, 64)
	return f, l, err1 == nil && err2 == nil
}

// writeRange answers a ranged GET of data honestly, by hand (the hostile
// servers change one thing of it).
func writeRange(w http.ResponseWriter, data []byte, first, last int64) {
	last = min(last, int64(len(data))-1)
	w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(data)))
	w.Header().Set("Content-Length", strconv.FormatInt(last-first+1, 10))
	w.WriteHeader(http.StatusPartialContent)
	w.Write(data[first : last+1])
}
