package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Hostile servers: each answer that is not exactly the range asked, of
// the version opened, must be a clear error (or a retry that then
// succeeds), quickly, and no read may ever return a wrong byte.

// honest answers like a good server: ETag "v1", 206 with the range, 200
// without Range, 416 past the end.
func honest(w http.ResponseWriter, r *http.Request, data []byte) {
	honestAs(w, r, data, `"v1"`)
}

func honestAs(w http.ResponseWriter, r *http.Request, data []byte, etag string) {
	w.Header().Set("ETag", etag)
	first, last, ok := parseRange(r.Header.Get("Range"))
	switch {
	case !ok:
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data)
	case first >= int64(len(data)):
		w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(data)))
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
	default:
		writeRange(w, data, first, last)
	}
}

// reset closes the connection with a TCP RST instead of answering.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// wait sleeps d or until the client gives up.
func wait(r *http.Request, d time.Duration) {
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

// partial writes a 206 for the range asked whose body stops halfway;
// with chunked, it declares no Content-Length.
func partial(w http.ResponseWriter, r *http.Request, data []byte, chunked bool) {
	first, last, _ := parseRange(r.Header.Get("Range"))
	last = min(last, int64(len(data))-1)
	w.Header().Set("ETag", `"v1"`)
	w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(data)))
	if !chunked {
		w.Header().Set("Content-Length", strconv.FormatInt(last-first+1, 10))
	}
	w.WriteHeader(http.StatusPartialContent)
	w.Write(data[first : first+(last-first+1)/2])
}

type hostileCase struct {
	name string
	size int // of the object; 0 means 10 blocks and a bit
	// h answers request number n (1 is Open's).
	h   func(w http.ResponseWriter, r *http.Request, data []byte, n int64)
	opt func(*Options)
	// openErr is what Open must fail with; readErr what some read must
	// fail with (any of them); neither: every read succeeds.
	openErr []error
	readErr []error
	// check looks at the object or the error afterwards.
	check func(t *testing.T, o *Object, err error)
}

var resetErrs = []error{syscall.ECONNRESET, io.EOF, io.ErrUnexpectedEOF}

func hostileCases() []hostileCase {
	const bs = 16 << 10
	afterOpen := func(bad func(w http.ResponseWriter, r *http.Request, data []byte)) func(http.ResponseWriter, *http.Request, []byte, int64) {
		return func(w http.ResponseWriter, r *http.Request, data []byte, n int64) {
			if n == 1 {
				honest(w, r, data)
				return
			}
			bad(w, r, data)
		}
	}
	always := func(bad func(w http.ResponseWriter, r *http.Request, data []byte)) func(http.ResponseWriter, *http.Request, []byte, int64) {
		return func(w http.ResponseWriter, r *http.Request, data []byte, n int64) { bad(w, r, data) }
	}
	// once is bad for request 2 only: a retry must then succeed.
	once := func(bad func(w http.ResponseWriter, r *http.Request, data []byte)) func(http.ResponseWriter, *http.Request, []byte, int64) {
		return func(w http.ResponseWriter, r *http.Request, data []byte, n int64) {
			if n == 2 {
				bad(w, r, data)
				return
			}
			honest(w, r, data)
		}
	}
	retried := func(t *testing.T, o *Object, err error) {
		if s := o.Stats(); s.Retries != 1 {
			t.Errorf("retries %d, want 1: %v", s.Retries, s)
		}
	}
	attempts := func(want int) func(t *testing.T, o *Object, err error) {
		return func(t *testing.T, o *Object, err error) {
			var e *Error
			if !errors.As(err, &e) || e.Attempts != want {
				t.Errorf("want %d attempts: %#v", want, err)
			}
		}
	}
	status := func(code int) func(w http.ResponseWriter, r *http.Request, data []byte) {
		return func(w http.ResponseWriter, r *http.Request, data []byte) {
			if code == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "0")
			}
			http.Error(w, http.StatusText(code), code)
		}
	}
	// Short enough for a quick test, long enough for a loaded machine to
	// answer the opening request in time.
	fast := func(o *Options) { o.IdleTimeout, o.Attempts = 500*time.Millisecond, 2 }
	return []hostileCase{
		{name: "ignores Range", h: always(func(w http.ResponseWriter, r *http.Request, data []byte) {
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Write(data)
		}), openErr: []error{ErrNoRange}},
		{name: "ignores Range, chunked", h: always(func(w http.ResponseWriter, r *http.Request, data []byte) {
			w.(http.Flusher).Flush()
			w.Write(data)
		}), openErr: []error{ErrNoRange}},
		{name: "ignores Range after Open", h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) {
			w.Header().Set("ETag", `"v1"`)
			w.Write(data)
		}), readErr: []error{ErrNoRange}},
		{name: "whole tiny object as 200", size: 777, h: always(func(w http.ResponseWriter, r *http.Request, data []byte) {
			w.Header().Set("ETag", `"v1"`)
			w.Write(data)
		})},
		{name: "short body", h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) { partial(w, r, data, false) }),
			readErr: []error{io.ErrUnexpectedEOF}, check: attempts(3)},
		{name: "short body once", h: once(func(w http.ResponseWriter, r *http.Request, data []byte) { partial(w, r, data, false) }), check: retried},
		{name: "short chunked body", h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) { partial(w, r, data, true) }),
			readErr: []error{io.ErrUnexpectedEOF}},
		{name: "longer chunked body", h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) {
			first, last, _ := parseRange(r.Header.Get("Range"))
			last = min(last, int64(len(data))-1)
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(data)))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[first : last+1])
			w.Write([]byte("more"))
		}), readErr: []error{ErrProtocol}},
		{name: "other start", h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) {
			first, last, _ := parseRange(r.Header.Get("Range"))
			writeRange(w, data, first-bs, last-bs)
		}), readErr: []error{ErrProtocol}},
		{name: "shorter range", h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) {
			first, last, _ := parseRange(r.Header.Get("Range"))
			writeRange(w, data, first, last-1)
		}), readErr: []error{ErrProtocol}},
		{name: "other total", h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) {
			first, last, _ := parseRange(r.Header.Get("Range"))
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(data)+bs))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[first : last+1])
		}), readErr: []error{ErrChanged}},
		{name: "Content-Length disagrees", h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) {
			first, last, _ := parseRange(r.Header.Get("Range"))
			last = min(last, int64(len(data))-1)
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(data)))
			w.Header().Set("Content-Length", strconv.FormatInt(last-first, 10))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[first:last])
		}), readErr: []error{ErrProtocol}},
		{name: "ETag changes, If-Match ignored", h: func(w http.ResponseWriter, r *http.Request, data []byte, n int64) {
			if n < 3 {
				honest(w, r, data)
				return
			}
			other := append([]byte{}, data...)
			other[0] ^= 1
			honestAs(w, r, other, `"v2"`)
		}, readErr: []error{ErrChanged}},
		{name: "no answer within the idle timeout", opt: fast, h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) {
			wait(r, 5*time.Second)
		}), readErr: []error{ErrTimeout}, check: attempts(2)},
		{name: "body stalls", opt: fast, h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) {
			partial(w, r, data, false)
			w.(http.Flusher).Flush()
			wait(r, 5*time.Second)
		}), readErr: []error{ErrTimeout}},
		{name: "body trickles past the request timeout", opt: func(o *Options) { o.RequestTimeout, o.Attempts = 300*time.Millisecond, 1 },
			h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) {
				first, last, _ := parseRange(r.Header.Get("Range"))
				last = min(last, int64(len(data))-1)
				w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(data)))
				w.WriteHeader(http.StatusPartialContent)
				for i := first; i <= last && r.Context().Err() == nil; i++ {
					w.Write(data[i : i+1])
					w.(http.Flusher).Flush()
					wait(r, 20*time.Millisecond)
				}
			}), readErr: []error{ErrTimeout}},
		{name: "connection reset", h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) { reset(w) }),
			readErr: resetErrs, check: attempts(3)},
		{name: "connection reset at Open", h: always(func(w http.ResponseWriter, r *http.Request, data []byte) { reset(w) }),
			openErr: resetErrs},
		// Go's transport itself retries a GET whose reused connection
		// dies before any answer, so this may not reach our retries.
		{name: "connection reset once", h: once(func(w http.ResponseWriter, r *http.Request, data []byte) { reset(w) })},
		{name: "500 then success", h: once(status(http.StatusInternalServerError)), check: retried},
		{name: "503 always", h: afterOpen(status(http.StatusServiceUnavailable)), readErr: []error{errAnything},
			check: func(t *testing.T, o *Object, err error) {
				var e *Error
				if !errors.As(err, &e) || e.Status != 503 || e.Attempts != 3 || !strings.Contains(e.Error(), "503 Service Unavailable") {
					t.Errorf("503: %#v", err)
				}
			}},
		{name: "403", h: always(status(http.StatusForbidden)), openErr: []error{fs.ErrPermission}, check: attempts(1)},
		{name: "404", h: always(status(http.StatusNotFound)), openErr: []error{fs.ErrNotExist}},
		{name: "deleted after Open", h: afterOpen(status(http.StatusNotFound)), readErr: []error{fs.ErrNotExist}},
		{name: "412", h: afterOpen(status(http.StatusPreconditionFailed)), readErr: []error{ErrChanged}},
		{name: "416 after Open", h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) {
			w.Header().Set("Content-Range", "bytes */100")
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		}), readErr: []error{ErrChanged}},
		{name: "gzip-encoded", h: always(func(w http.ResponseWriter, r *http.Request, data []byte) {
			w.Header().Set("Content-Encoding", "gzip")
			honest(w, r, data)
		}), openErr: []error{ErrProtocol}},
		{name: "multipart answer", h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) {
			w.Header().Set("Content-Type", "multipart/byteranges; boundary=x")
			honest(w, r, data)
		}), readErr: []error{ErrProtocol}},
		{name: "unknown total", h: always(func(w http.ResponseWriter, r *http.Request, data []byte) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/*", bs-1))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[:bs])
		}), openErr: []error{ErrNoRange}},
		{name: "two Content-Ranges", h: afterOpen(func(w http.ResponseWriter, r *http.Request, data []byte) {
			first, last, _ := parseRange(r.Header.Get("Range"))
			last = min(last, int64(len(data))-1)
			w.Header().Add("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(data)))
			w.Header().Add("Content-Range", "bytes 0-0/1")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[first : last+1])
		}), readErr: []error{ErrProtocol}},
		{name: "bad Content-Range", h: always(func(w http.ResponseWriter, r *http.Request, data []byte) {
			w.Header().Set("Content-Range", "bytes 0-x/5")
			w.WriteHeader(http.StatusPartialContent)
		}), openErr: []error{ErrProtocol}},
		{name: "empty object, 416 without size", size: -1, h: func(w http.ResponseWriter, r *http.Request, data []byte, n int64) {
			if r.Header.Get("Range") != "" {
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return
			}
			w.Header().Set("ETag", `"e"`)
			w.WriteHeader(http.StatusOK)
		}, check: func(t *testing.T, o *Object, err error) {
			if o.Size() != 0 || o.Stats().Requests != 2 || o.Stats().Validator != "etag" {
				t.Errorf("empty object: %v", o.Stats())
			}
		}},
		{name: "416 for an object that is not empty", h: func(w http.ResponseWriter, r *http.Request, data []byte, n int64) {
			if r.Header.Get("Range") != "" {
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return
			}
			honest(w, r, data)
		}, openErr: []error{ErrNoRange}},
		{name: "redirect without Location", h: always(status(http.StatusFound)), openErr: []error{ErrRedirect}},
	}
}

func TestHostileServers(t *testing.T) {
	const bs = 16 << 10
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			size := 10*bs + 77
			switch {
			case c.size > 0:
				size = c.size
			case c.size < 0:
				size = 0
			}
			data := randomBytes(size, uint64(len(c.name)))
			var n atomic.Int64
			url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c.h(w, r, data, n.Add(1))
			}))
			opt := testOptions()
			if c.opt != nil {
				c.opt(&opt)
			}
			start := time.Now()
			defer func() {
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("took %v", d)
				}
			}()
			o, err := Open(context.Background(), url, opt)
			noSecret(t, err)
			if c.openErr != nil {
				if !isAny(err, c.openErr) {
					t.Fatalf("Open: %v, want one of %v", err, c.openErr)
				}
				if c.check != nil {
					c.check(t, nil, err)
				}
				t.Logf("%v", err)
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer o.Close()
			// Every 4 KiB piece, in random order, compared byte for byte.
			var readErr error
			r := rand.New(rand.NewPCG(3, 4))
			for _, i := range r.Perm(size/4096 + 1) {
				if err := checkRead(t, o, data, int64(i)*4096, 4096); err != nil && err != io.EOF {
					readErr = err
					break
				}
			}
			switch {
			case c.readErr == nil && readErr != nil:
				t.Fatalf("read: %v", readErr)
			case c.readErr != nil && !isAny(readErr, c.readErr):
				t.Fatalf("read: %v, want one of %v", readErr, c.readErr)
			}
			if readErr != nil {
				t.Logf("%v", readErr)
			}
			if c.check != nil {
				c.check(t, o, readErr)
			}
		})
	}
}

// errAnything, as a wanted error, matches any error.
var errAnything = errors.New("any error")

func isAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) || (t == errAnything && err != nil) {
			return true
		}
	}
	return false
}

// TestIgnoredRangeNotDownloaded: a server that answers a range with a
// huge whole object is left at once; the client does not drain it.
func TestIgnoredRangeNotDownloaded(t *testing.T) {
	var written atomic.Int64
	chunk := make([]byte, 1<<20)
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(1<<30))
		for range 1 << 10 {
			k, err := w.Write(chunk)
			written.Add(int64(k))
			if err != nil {
				return
			}
		}
	}))
	start := time.Now()
	_, err := Open(context.Background(), url, testOptions())
	if !errors.Is(err, ErrNoRange) || !strings.Contains(err.Error(), "whole 1073741824-byte object") {
		t.Fatalf("Open: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if d, w := time.Since(start), written.Load(); d > 2*time.Second || w > 64<<20 {
		t.Fatalf("the whole object was pulled: %v, %d bytes written by the server", d, w)
	}
}

// TestRedirects: same-host redirects are followed (the query string of
// the target stays hidden); a redirect to another host is refused with
// ErrRedirect naming the target.
func TestRedirects(t *testing.T) {
	data := randomBytes(50000, 11)
	srv := &fileServer{}
	srv.set(data, `"v1"`, time.Time{})
	other := httptest.NewServer(srv)
	defer other.Close()
	mux := http.NewServeMux()
	mux.Handle("/real/vmcore", srv)
	mux.HandleFunc("/same", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/real/vmcore?"+secret, http.StatusFound)
	})
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/vmcore?"+secret, http.StatusTemporaryRedirect)
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	o := mustOpen(t, ts.URL+"/same?"+secret, testOptions())
	if err := checkRead(t, o, data, 0, len(data)); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), ts.URL+"/away?"+secret, testOptions())
	noSecret(t, err)
	if !errors.Is(err, ErrRedirect) || !strings.Contains(err.Error(), other.URL) {
		t.Fatalf("cross-host redirect: %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Attempts != 1 {
		t.Fatalf("a refused redirect is not retried: %v", err)
	}
}
