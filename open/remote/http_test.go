package remote

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestReadMatchesSource reads objects of awkward sizes in several
// patterns through http.ServeContent and compares every byte.
func TestReadMatchesSource(t *testing.T) {
	const bs = 16 << 10
	for _, size := range []int{0, 1, 100, bs - 1, bs, bs + 1, 10 * bs, 10*bs + 123} {
		data := randomBytes(size, uint64(size))
		srv := &fileServer{}
		srv.set(data, `"v1"`, time.Time{})
		url := serve(t, srv)
		o := mustOpen(t, url, testOptions())
		if o.Size() != int64(size) {
			t.Fatalf("size %d: Size() = %d", size, o.Size())
		}
		// Whole, in one read, and one byte more.
		if err := checkRead(t, o, data, 0, size+1); err != io.EOF {
			t.Fatalf("size %d: read past the end: err %v, want io.EOF", size, err)
		}
		// Odd-sized sequential pieces.
		for off := 0; off < size; off += 777 {
			if err := checkRead(t, o, data, int64(off), 777); err != nil && err != io.EOF {
				t.Fatalf("size %d: %v", size, err)
			}
		}
		// Blocks backwards, straddling block boundaries.
		for off := size - 1; off >= 0; off -= bs / 2 {
			checkRead(t, o, data, int64(off), bs)
		}
		// At and past the end, and empty reads.
		if n, err := o.ReadAt(make([]byte, 5), int64(size)); n != 0 || err != io.EOF {
			t.Fatalf("size %d: ReadAt at the end = %d, %v", size, n, err)
		}
		if n, err := o.ReadAt(nil, 0); n != 0 || err != nil {
			t.Fatalf("size %d: empty ReadAt = %d, %v", size, n, err)
		}
		if _, err := o.ReadAt(make([]byte, 1), -1); !errors.Is(err, fs.ErrInvalid) {
			t.Fatalf("size %d: negative offset: %v", size, err)
		}
	}
}

// TestRequestsPerRead checks what a read costs: Open fetches block 0; a
// 4 KiB read elsewhere costs one request of one aligned block; a read
// across a boundary two blocks in one request; repeated reads none.
func TestRequestsPerRead(t *testing.T) {
	const bs = 16 << 10
	data := randomBytes(40*bs, 1)
	srv := &fileServer{}
	srv.set(data, `"v1"`, time.Time{})
	o := mustOpen(t, serve(t, srv), testOptions())
	if got := srv.ranges(); len(got) != 1 || got[0] != "bytes=0-16383" {
		t.Fatalf("Open sent %q, want one GET of block 0", got)
	}
	checkRead(t, o, data, 5*bs+100, 4096)
	checkRead(t, o, data, 9*bs-10, 20)
	checkRead(t, o, data, 5*bs+200, 4096)
	checkRead(t, o, data, 100, 100)
	want := []string{"bytes=0-16383", "bytes=81920-98303", "bytes=131072-163839"}
	if got := srv.ranges(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("ranges %q, want %q", got, want)
	}
	s := o.Stats()
	if s.Requests != 3 || s.BytesFetched != 4*bs || s.CacheHits != 2 || s.CacheMisses != 3 || s.ReadAhead != 0 || s.Retries != 0 {
		t.Fatalf("stats %+v", s)
	}
	if s.Reads != 4 || s.BytesRead != 4096+20+4096+100 {
		t.Fatalf("stats %+v", s)
	}
}

// TestETagPinning: every request after the first carries If-Match with
// the ETag; a replaced object is an error for every block not yet read,
// the blocks read before stay readable, and no further request is made.
func TestETagPinning(t *testing.T) {
	const bs = 16 << 10
	data := randomBytes(8*bs, 2)
	srv := &fileServer{}
	srv.set(data, `"v1"`, time.Unix(1700000000, 0))
	o := mustOpen(t, serve(t, srv), testOptions())
	if v := o.Stats().Validator; v != "etag" {
		t.Fatalf("validator %q", v)
	}
	checkRead(t, o, data, bs, 10)
	if err := o.Err(); err != nil {
		t.Fatalf("Err after good reads: %v", err)
	}
	if h := srv.header(1); h.Get("If-Match") != `"v1"` || h.Get("If-Unmodified-Since") != "" {
		t.Fatalf("second request's conditions: %v", h)
	}
	srv.set(randomBytes(8*bs, 3), `"v2"`, time.Unix(1700000100, 0))
	err := checkRead(t, o, data, 3*bs, 10)
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("read after the change: %v, want ErrChanged", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusPreconditionFailed || e.Op != "read" || e.Off != 3*bs {
		t.Fatalf("error %#v", err)
	}
	before := srv.requests.Load()
	if err := checkRead(t, o, data, 5*bs, 10); !errors.Is(err, ErrChanged) {
		t.Fatalf("later read: %v", err)
	}
	if srv.requests.Load() != before {
		t.Fatal("a request was made after the object was seen changed")
	}
	if err := checkRead(t, o, data, bs+5, 100); err != nil {
		t.Fatalf("cached block after the change: %v", err)
	}
	// Err keeps the first failure, whatever later reads did.
	if ferr := o.Err(); ferr == nil || ferr.Error() != err.Error() {
		t.Fatalf("Err = %v, want the first failure %v", ferr, err)
	}
	o.Close()
	if _, cerr := o.ReadAt(make([]byte, 1), 0); !errors.Is(cerr, fs.ErrClosed) {
		t.Fatalf("read after Close: %v", cerr)
	}
	if ferr := o.Err(); ferr == nil || ferr.Error() != err.Error() {
		t.Fatalf("Err after a read after Close = %v", ferr)
	}
}

// TestLastModifiedPinning: without an ETag, requests carry
// If-Unmodified-Since with Last-Modified (no If-Range); a newer object is
// ErrChanged.
func TestLastModifiedPinning(t *testing.T) {
	const bs = 16 << 10
	data := randomBytes(8*bs, 4)
	mod := time.Unix(1700000000, 0)
	srv := &fileServer{}
	srv.set(data, "", mod)
	o := mustOpen(t, serve(t, srv), testOptions())
	if v := o.Stats().Validator; v != "last-modified" {
		t.Fatalf("validator %q", v)
	}
	checkRead(t, o, data, 2*bs, 10)
	h := srv.header(1)
	lm := mod.UTC().Format(http.TimeFormat)
	if h.Get("If-Unmodified-Since") != lm || h.Get("If-Range") != "" || h.Get("If-Match") != "" {
		t.Fatalf("conditions %v", h)
	}
	srv.set(randomBytes(8*bs, 5), "", mod.Add(time.Hour))
	if err := checkRead(t, o, data, 4*bs, 10); !errors.Is(err, ErrChanged) {
		t.Fatalf("read after the change: %v", err)
	}
}

// TestWeakETagAndNoValidator: a weak ETag is not used in If-Match (it
// could never match) but is still compared; with no validator at all only
// a size change can be seen, and it is.
func TestWeakETagAndNoValidator(t *testing.T) {
	const bs = 16 << 10
	data := randomBytes(8*bs, 6)
	srv := &fileServer{}
	srv.set(data, `W/"w1"`, time.Time{})
	o := mustOpen(t, serve(t, srv), testOptions())
	checkRead(t, o, data, 2*bs, 10)
	if h := srv.header(1); h.Get("If-Match") != "" || o.Stats().Validator != "weak-etag" {
		t.Fatalf("weak ETag sent as If-Match: %v", h)
	}
	srv.set(data, `W/"w2"`, time.Time{})
	if err := checkRead(t, o, data, 4*bs, 10); !errors.Is(err, ErrChanged) {
		t.Fatalf("changed weak ETag: %v", err)
	}

	srv2 := &fileServer{}
	srv2.set(data, "", time.Time{})
	o2 := mustOpen(t, serve(t, srv2), testOptions())
	if v := o2.Stats().Validator; v != "size" {
		t.Fatalf("validator %q", v)
	}
	checkRead(t, o2, data, 2*bs, 10)
	srv2.set(append(append([]byte{}, data...), 1), "", time.Time{})
	if err := checkRead(t, o2, data, 4*bs, 10); !errors.Is(err, ErrChanged) {
		t.Fatalf("grown object: %v", err)
	}
}

// TestReadAhead: a sequential scan in small reads is served by few large
// requests fetched ahead; random reads fetch nothing ahead.
func TestReadAhead(t *testing.T) {
	const bs = 16 << 10
	data := randomBytes(256*bs, 7)
	srv := &fileServer{}
	srv.set(data, `"v1"`, time.Time{})
	opt := testOptions()
	o := mustOpen(t, serve(t, srv), opt)
	for off := int64(0); off < int64(len(data)); off += 4096 {
		if err := checkRead(t, o, data, off, 4096); err != nil {
			t.Fatal(err)
		}
	}
	s := o.Stats()
	if s.BytesFetched != int64(len(data)) {
		t.Fatalf("fetched %d bytes of %d", s.BytesFetched, len(data))
	}
	if s.ReadAhead < 200 || s.Requests > 40 {
		t.Fatalf("sequential scan: %d requests, %d blocks ahead: %v", s.Requests, s.ReadAhead, s)
	}

	// Random reads (a fixed draw: a stream of blocks b, b+1, b+2 read
	// in that order among the others would rightly be taken as
	// sequential).
	o2 := mustOpen(t, serve(t, srv), opt)
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		checkRead(t, o2, data, r.Int64N(256)*bs+123, 4096)
	}
	if s := o2.Stats(); s.ReadAhead != 0 || s.BytesFetched > 51*bs {
		t.Fatalf("random reads fetched ahead: %v", s)
	}

	opt.ReadAhead = -1
	o3 := mustOpen(t, serve(t, srv), opt)
	for off := int64(0); off < 64*bs; off += 4096 {
		checkRead(t, o3, data, off, 4096)
	}
	if s := o3.Stats(); s.ReadAhead != 0 || s.Requests != 64 {
		t.Fatalf("read-ahead off: %v", s)
	}
}

// TestNames: names and errors never show user information or the query
// string.
func TestNames(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	raw := strings.Replace(srv.URL, "http://", "http://user:pa55word@", 1) + "/a/b%20c/vmcore?" + secret + "#frag"
	_, err := Open(context.Background(), raw, testOptions())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("404: %v", err)
	}
	noSecret(t, err)
	if strings.Contains(err.Error(), "pa55word") || strings.Contains(err.Error(), "frag") {
		t.Fatalf("error shows credentials: %v", err)
	}
	if want := srv.URL + "/a/b%20c/vmcore: open"; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q does not start with %q", err, want)
	}
	for _, bad := range []string{"ftp://host/x?" + secret, "http://%zz/x?" + secret, "http:///x?" + secret, "s3://bucket?" + secret} {
		_, err := Open(context.Background(), bad, testOptions())
		if err == nil {
			t.Fatalf("%s: no error", bad)
		}
		noSecret(t, err)
	}
	for s, want := range map[string]bool{"https://h/x": true, "S3://b/k": true, "http://h": true, "/tmp/x": false, "file:///x": false, "vmcore": false} {
		if IsURL(s) != want {
			t.Errorf("IsURL(%q) != %v", s, want)
		}
	}
}

// TestTLSAndHeader: https through a test TLS server, with an extra header
// (an Authorization) on every request.
func TestTLSAndHeader(t *testing.T) {
	data := randomBytes(100000, 8)
	srv := &fileServer{}
	srv.set(data, `"v1"`, time.Time{})
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0ken" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	ts.StartTLS()
	defer ts.Close()
	opt := testOptions()
	opt.Transport = ts.Client().Transport
	if _, err := Open(context.Background(), ts.URL+"/vmcore", opt); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("without the header: %v", err)
	}
	opt.Header = http.Header{"Authorization": {"Bearer t0ken"}}
	o := mustOpen(t, ts.URL+"/vmcore", opt)
	if err := checkRead(t, o, data, 0, len(data)); err != nil {
		t.Fatal(err)
	}
	// Without the test server's certificate pool, https fails at once. The
	// first request also loads the system's roots, which on a loaded
	// machine may outlast the short idle bound of testOptions (that
	// failure would be retried, and the test would count two attempts).
	opt.Transport = nil
	opt.IdleTimeout, opt.RequestTimeout = time.Minute, time.Minute
	_, err := Open(context.Background(), ts.URL+"/vmcore", opt)
	if err == nil || strings.Contains(err.Error(), "t0ken") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Attempts != 1 {
		t.Fatalf("a certificate error is not retried: %v", err)
	}
}

// TestCloseAndCancel: Close ends reads under way promptly and later reads
// fail with fs.ErrClosed; a cancelled Open returns at once.
func TestCloseAndCancel(t *testing.T) {
	data := randomBytes(1<<20, 9)
	srv := &fileServer{}
	srv.set(data, `"v1"`, time.Time{})
	o := mustOpen(t, serve(t, srv), testOptions())
	srv.delay.Store(int64(2 * time.Second))
	done := make(chan error)
	go func() {
		_, err := o.ReadAt(make([]byte, 100), 500000)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	o.Close()
	if err := <-done; !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("read under Close: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	if _, err := o.ReadAt(make([]byte, 10), 0); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	if o.Close() != nil {
		t.Fatal("second Close")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := Open(ctx, serve(t, srv), testOptions()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled Open: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("cancelled Open took %v", d)
	}
}

func TestOptions(t *testing.T) {
	for _, bs := range []int64{3000, 2 << 10, 32 << 20, 12 << 10} {
		if _, err := Open(context.Background(), "http://127.0.0.1:1/x", Options{BlockSize: bs}); err == nil || !strings.Contains(err.Error(), "block size") {
			t.Fatalf("block size %d: %v", bs, err)
		}
	}
	o, _ := Options{BlockSize: 1 << 20, CacheSize: 1, ReadAhead: 64 << 20}.resolved()
	if o.CacheSize != 2<<20 || o.ReadAhead != 1<<20 {
		t.Fatalf("resolved %+v", o)
	}
}

// TestStatsForms: the text and JSON forms carry the counts.
func TestStatsForms(t *testing.T) {
	data := randomBytes(50000, 10)
	srv := &fileServer{}
	srv.set(data, `"v1"`, time.Time{})
	o := mustOpen(t, serve(t, srv), testOptions())
	checkRead(t, o, data, 20000, 30000)
	s := o.Stats()
	text := s.String()
	for _, want := range []string{"/dumps/vmcore: 2 requests", "48.8 KiB fetched of 48.8 KiB", "in 1 call", "pinned by etag"} {
		if !strings.Contains(text, want) {
			t.Errorf("String() = %q, lacks %q", text, want)
		}
	}
	noSecret(t, errors.New(text))
	var m map[string]any
	b, err := json.Marshal(s)
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("JSON: %s, %v", b, err)
	}
	if m["requests"] != float64(2) || m["bytes_fetched"] != float64(50000) || m["validator"] != "etag" || m["wait_seconds"] == nil {
		t.Fatalf("JSON %s", b)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://u:p@bucket.s3.amazonaws.com/a/vmcore?X-Amz-Signature=abc#x": "https://bucket.s3.amazonaws.com/a/vmcore",
		"http://h:8080/x%20y?sig=1":    "http://h:8080/x%20y",
		"http://%zz@h/x?sig=1":         "http://h/x",
		"s3://bucket/key?with=literal": "s3://bucket/key?with=literal",
		"http://h/a@b/vmcore?sig=1":    "http://h/a@b/vmcore",
		"http://u:p@h@h2:1/x#frag":     "http://h2:1/x",
		"http://":                      "http://",
		"/var/crash/vmcore":            "/var/crash/vmcore",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		`--pfn: "http://h/x?X-Amz-Signature=abc" is not a number`:             `--pfn: "http://h/x" is not a number`,
		"got HTTPS://u:p@h/a?sig=1 and https://h/b?sig=2, then /tmp/x?y":      "got HTTPS://h/a and https://h/b, then /tmp/x?y",
		"http://[::1/vmcore?sig=1: not a valid URL":                           "http://[::1/vmcore: not a valid URL",
		"s3://bucket/key?literal: NoSuchKey; nothing to redact in plain text": "s3://bucket/key?literal: NoSuchKey; nothing to redact in plain text",
	} {
		if got := RedactText(in); got != want {
			t.Errorf("RedactText(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string][2]string{
		"s3://b/k":           {"b", "k"},
		"S3://b/dir/k?x#y":   {"b", "dir/k?x#y"},
		"s3://b/dir%20x/k y": {"b", "dir%20x/k y"},
	} {
		b, k, err := parseS3URL(in)
		if err != nil || b != want[0] || k != want[1] {
			t.Errorf("parseS3URL(%q) = %q, %q, %v", in, b, k, err)
		}
	}
}

// TestBackoff: retries wait Backoff doubled per retry, with jitter in the
// upper half, at most maxBackoff, or a bounded Retry-After.
func TestBackoff(t *testing.T) {
	o := &Object{opt: Options{Backoff: 100 * time.Millisecond}}
	for fails, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 10: maxBackoff} {
		for range 20 {
			if d := o.backoff(fails, errors.New("x")); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want %v/2 to %v", fails, d, want, want)
			}
		}
	}
	for h, want := range map[string]time.Duration{"3": 3 * time.Second, "100": maxRetryAfter, "-1": 0, "soon": 0, "": 0} {
		if got := retryAfter(http.Header{"Retry-After": {h}}); got != want {
			t.Errorf("Retry-After %q = %v, want %v", h, got, want)
		}
	}
	e := failure(nil, 503, true, "x")
	e.retryAfter = 3 * time.Second
	if d := o.backoff(1, e); d != 3*time.Second {
		t.Fatalf("Retry-After not honoured: %v", d)
	}
}
