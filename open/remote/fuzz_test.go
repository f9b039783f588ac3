package remote

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
)

// FuzzContentRange: the parser never panics, and what it accepts is a
// range inside the object that prints back to itself.
func FuzzContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-0/1", "bytes 0-16383/163917", "bytes */0", "bytes */163917", "bytes 5-9/*",
		"BYTES 1-2/3", "bytes 2-1/3", "bytes 0-3/3", "bytes -1-2/3", "bytes +1-2/3", "bytes 0-999999999999999999/9999999999999999999",
		"bytes  0-1/2", "bytes 0-1/2 ", "items 0-1/2", "bytes 0-1", "bytes */*", "bytes 00-01/02"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cr, err := parseContentRange(s)
		if err != nil {
			return
		}
		var back string
		switch {
		case cr.unsatisfied:
			if cr.size < 0 {
				t.Fatalf("%q: unsatisfied without size", s)
			}
			back = fmt.Sprintf("bytes */%d", cr.size)
		case cr.first < 0 || cr.first > cr.last || (cr.size >= 0 && cr.last >= cr.size):
			t.Fatalf("%q: accepted %+v", s, cr)
		case cr.size < 0:
			back = fmt.Sprintf("bytes %d-%d/*", cr.first, cr.last)
		default:
			back = fmt.Sprintf("bytes %d-%d/%d", cr.first, cr.last, cr.size)
		}
		if cr2, err := parseContentRange(back); err != nil || cr2 != cr {
			t.Fatalf("%q: %+v prints as %q, which parses as %+v, %v", s, cr, back, cr2, err)
		}
	})
}

// FuzzCheckResponse: whatever the headers, a response accepted for a
// range holds exactly that range of the pinned object, and an accepted
// opening response tells a size consistent with what is read.
func FuzzCheckResponse(f *testing.F) {
	f.Add(206, "bytes 16384-32767/163917", int64(16384), `"v1"`, "", "", int64(16384), int64(32767), int64(163917))
	f.Add(206, "bytes 0-16383/163917", int64(-1), `"v1"`, "", "", int64(0), int64(16383), int64(163917))
	f.Add(200, "", int64(100), `"v1"`, "", "", int64(0), int64(16383), int64(100))
	f.Add(416, "bytes */0", int64(0), "", "", "", int64(0), int64(16383), int64(0))
	f.Add(206, "bytes 0-99/100", int64(100), `W/"x"`, "Mon, 02 Jan 2006 15:04:05 GMT", "identity", int64(0), int64(16383), int64(100))
	f.Add(503, "", int64(-1), "", "", "", int64(0), int64(1), int64(2))
	f.Fuzz(func(t *testing.T, status int, crange string, clen int64, etag, lm, ce string, first, last, size int64) {
		h := http.Header{}
		if crange != "" {
			h.Set("Content-Range", crange)
		}
		if etag != "" {
			h.Set("ETag", etag)
		}
		if lm != "" {
			h.Set("Last-Modified", lm)
		}
		if ce != "" {
			h.Set("Content-Encoding", ce)
		}
		r := &reply{status: status, header: h, contentLength: max(clen, -1), body: http.NoBody}
		p := &pin{size: size, etag: `"v1"`, lastModified: "Mon, 02 Jan 2006 15:04:05 GMT"}
		if err := checkRange(r, first, last, p); err == nil {
			cr, perr := parseContentRange(crange)
			switch {
			case status != http.StatusPartialContent, perr != nil, cr.first != first, cr.last != last,
				cr.size != -1 && cr.size != size, r.contentLength != -1 && r.contentLength != last-first+1,
				ce != "" && !strings.EqualFold(ce, "identity"), etag != "" && opaque(etag) != `"v1"`:
				t.Fatalf("accepted %d %q len %d etag %q ce %q for bytes %d-%d of %d", status, crange, clen, etag, ce, first, last, size)
			}
		}
		if last < 0 {
			return
		}
		op, err := checkOpen(r, last)
		if err != nil || op.empty416 {
			return
		}
		switch status {
		case http.StatusPartialContent:
			cr, _ := parseContentRange(crange)
			if op.pin.size != cr.size || op.n != min(last, cr.size-1)+1 || op.n <= 0 || op.n > last+1 {
				t.Fatalf("open accepted %q for 0-%d: %+v", crange, last, op)
			}
		case http.StatusOK:
			if op.n > last+1 || op.n != r.contentLength {
				t.Fatalf("open accepted a 200 of %d bytes for 0-%d", clen, last)
			}
		case http.StatusRequestedRangeNotSatisfiable:
			if op.pin.size != 0 || op.n != 0 {
				t.Fatalf("open accepted a 416 as %+v", op)
			}
		default:
			t.Fatalf("open accepted status %d", status)
		}
	})
}

// fuzzServer serves one random object; each request is answered as the
// fuzz input of its URL path says: honestly, or with one of the faults
// of the hostile tests.
type fuzzServer struct {
	data   []byte
	mu     sync.Mutex
	plans  map[string][]byte
	serial atomic.Int64
}

const (
	faultHonest = iota
	fault500
	faultShort
	faultShift
	faultWhole
	faultReset
	faultETag
	faultLength
	faultLonger
	faultTotal
	faults
)

func (s *fuzzServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	plan := s.plans[r.URL.Path]
	var b byte
	if len(plan) > 0 {
		b = plan[0]
		s.plans[r.URL.Path] = plan[1:]
	}
	s.mu.Unlock()
	fault := b % faults
	first, last, ok := parseRange(r.Header.Get("Range"))
	if !ok || first >= int64(len(s.data)) {
		honest(w, r, s.data)
		return
	}
	last = min(last, int64(len(s.data))-1)
	switch fault {
	case fault500:
		http.Error(w, "oops", http.StatusInternalServerError)
	case faultShort:
		partial(w, r, s.data, b/faults%2 == 0)
	case faultShift:
		if first > 0 {
			writeRange(w, s.data, first-1, last-1)
		} else {
			writeRange(w, s.data, first+1, last+1)
		}
	case faultWhole:
		w.Write(s.data)
	case faultReset:
		reset(w)
	case faultETag:
		honestAs(w, r, s.data, `"other"`)
	case faultLength:
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(s.data)))
		w.Header().Set("Content-Length", strconv.FormatInt(last-first, 10))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(s.data[first:last])
	case faultLonger:
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(s.data)))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(s.data[first : last+1])
		w.Write([]byte{0})
	case faultTotal:
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(s.data)-1))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(s.data[first : last+1])
	default:
		honest(w, r, s.data)
	}
}

// FuzzReadAt drives random ReadAt patterns, some concurrent, with random
// options, against a server whose every answer may be faulty: each read
// returns the source's bytes, or fewer and an error; never a wrong byte,
// never a hang.
func FuzzReadAt(f *testing.F) {
	srv := &fuzzServer{data: randomBytes(150000, 24), plans: map[string][]byte{}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	f.Add(uint8(0), []byte{}, []byte("\x00\x00\x00\x10\x00\x00\x00\x40\x00\x00\x40\x00\x00\x80\x00\x01\x00\x00"))
	f.Add(uint8(0x35), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []byte("\x01\x00\x00\xff\xff\x01\x02\x00\x00\x00\x10\x01\x02\x40\x00\x00\x10\x00"))
	f.Add(uint8(0xff), []byte{0, 0, 2, 0, 6, 0, 9}, bytes.Repeat([]byte{0, 0x20, 0, 0, 0x10, 0}, 20))
	f.Fuzz(func(t *testing.T, cfg uint8, plan, ops []byte) {
		path := fmt.Sprintf("/%d", srv.serial.Add(1))
		srv.mu.Lock()
		srv.plans[path] = plan
		srv.mu.Unlock()
		defer func() {
			srv.mu.Lock()
			delete(srv.plans, path)
			srv.mu.Unlock()
		}()
		opt := Options{
			BlockSize:      4096 << (cfg & 3),
			CacheSize:      int64(4096<<(cfg&3)) * int64(2+(cfg>>2&7)),
			ReadAhead:      int64(cfg>>5&1)*(1<<20) - 1,
			Parallel:       1 + int(cfg>>6),
			Attempts:       2,
			Backoff:        time.Millisecond,
			IdleTimeout:    time.Second,
			RequestTimeout: 2 * time.Second,
		}
		start := time.Now()
		o, err := Open(context.Background(), ts.URL+path, opt)
		if err != nil {
			return
		}
		defer o.Close()
		var wg sync.WaitGroup
		for i := 0; i+6 <= len(ops) && i < 6*40; i += 6 {
			off := int64(binary.LittleEndian.Uint32(ops[i:])&0xffffff) % (int64(len(srv.data)) + 5000)
			n := int(binary.LittleEndian.Uint16(ops[i+4:])) % 70000
			read := func() {
				p := make([]byte, n)
				got, err := o.ReadAt(p, off)
				want := srv.data[min(off, int64(len(srv.data))):min(off+int64(n), int64(len(srv.data)))]
				if got > len(want) || !bytes.Equal(p[:got], want[:got]) {
					t.Errorf("ReadAt(%d, %d) = %d bytes, not the source's", off, n, got)
				}
				if got < n && err == nil || got == n && err != nil && err != io.EOF {
					t.Errorf("ReadAt(%d, %d) = %d, %v", off, n, got, err)
				}
			}
			if ops[i+5]&0x80 != 0 {
				wg.Add(1)
				go func() { defer wg.Done(); read() }()
			} else {
				read()
			}
		}
		wg.Wait()
		if d := time.Since(start); d > 20*time.Second {
			t.Fatalf("took %v", d)
		}
	})
}

// FuzzRedactText: a URL's query string and user information never
// survive RedactText, wherever the URL stands in a message and whatever
// surrounds it; the message around it is kept; redacting twice changes
// nothing.
func FuzzRedactText(f *testing.F) {
	for _, s := range [][3]string{
		{`--pfn: "`, "https://u:p@h.example/a/vmcore", `" is not a number`},
		{"got ", "HTTP://h:8080/x%20y", ", then more"},
		{"", "http://[::1/vmcore", ": not a valid URL"},
		{"(", "https://h/b", ")."},
		{"s3://bucket/key?literal and ", "http://h", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	const secret = "Sig5ecret"
	f.Fuzz(func(t *testing.T, before, url, after string) {
		// A URL as messages quote it: no spaces or control characters,
		// which end it.
		if !IsURL(url) || strings.HasPrefix(strings.ToLower(url), "s3") || strings.ContainsAny(url, "?#@\"'<>") ||
			strings.ContainsFunc(url, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) ||
			strings.Contains(before+url+after, secret) || strings.Contains(url, "//") && strings.Count(url, "//") > 1 {
			return
		}
		// before must end where a URL may start; after must not continue it.
		if before != "" && !strings.ContainsAny(before[len(before)-1:], " \t\n\"'(<:=,") {
			return
		}
		if after != "" && !strings.ContainsAny(after[:1], " \t\n\"'<>") && !strings.ContainsAny(after[:1], ".,;:!?)") {
			return
		}
		in := before + url + "?X-Amz-Signature=" + secret + after
		out := RedactText(in)
		if strings.Contains(out, secret) || strings.Contains(out, "X-Amz-") {
			t.Fatalf("RedactText(%q) = %q shows the query string", in, out)
		}
		if withUser := before + "http://user:" + secret + "@h/x" + after; strings.Contains(RedactText(withUser), secret) {
			t.Fatalf("RedactText(%q) = %q shows the password", withUser, RedactText(withUser))
		}
		if !strings.HasPrefix(out, before) {
			t.Fatalf("RedactText(%q) = %q lost what came before the URL", in, out)
		}
		if again := RedactText(out); again != out {
			t.Fatalf("RedactText is not idempotent: %q, then %q", out, again)
		}
	})
}
