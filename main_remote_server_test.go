package main

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// dumpServer serves the files of a folder as object storage serves
// objects, on loopback: net/http's file server (Range, If-Range, If-Match,
// If-Unmodified-Since), a strong ETag set by this wrapper (the file
// server sends none), and a presigned query string that every request
// must carry (a request without it is refused with 403, as S3 refuses an
// unsigned one). On request it misbehaves in one way (mode) from a given
// request on, and it can delay every answer, as a distant server would.
type dumpServer struct {
	dir  string
	mode string
	// after is the first request (counted from 1) the mode applies to;
	// times how many requests it applies to (0: every one from after on);
	// [from, to) the bytes a request asks for must overlap for the mode
	// to apply (to 0: no end), so that opening, which reads the headers,
	// succeeds and a later read fails.
	after, times, from, to int64
	// delay is waited before each answer (the benchmark's latency).
	delay time.Duration

	srv      *httptest.Server
	files    http.Handler // http.FileServer of dir
	requests atomic.Int64 // requests received
	sent     atomic.Int64 // body bytes written
	checked  atomic.Int64 // requests at the last `hits`
}

// presignQuery is the query string of every test URL: what a presigned S3
// URL carries. Its signature is a secret that no output may show.
const (
	presignSecret = "5ec2e7c0ffee5ec2e7c0ffee5ec2e7c0ffee5ec2e7c0ffee5ec2e7c0ffee5ec2"
	presignQuery  = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDTEST%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Expires=3600&X-Amz-Signature=" + presignSecret
)

// serverModes are the hostile behaviours, for `serve -mode`.
var serverModes = map[string]string{
	"norange":        "ignore Range: 200 with the whole file",
	"short":          "a 206 whose body stops halfway (the connection closes)",
	"badrange":       "a 206 whose Content-Range is not the range asked",
	"changed":        "the object changed: another ETag (If-Match then fails with 412)",
	"changed-ignore": "the object changed, and the server ignores If-Match: 206 with another ETag",
	"gzip":           "a body labelled Content-Encoding: gzip",
	"slow":           "no answer until the client gives up",
	"slowbody":       "headers and half the body, then nothing until the client gives up",
	"reset":          "the connection reset (TCP RST) instead of an answer",
	"redirect":       "302 to another host",
	"403":            "403 Forbidden",
	"404":            "404 Not Found",
	"503":            "503 Service Unavailable",
}

// start serves on a loopback port until ctx's owner calls close.
func (s *dumpServer) start() {
	s.files = http.FileServer(http.Dir(s.dir))
	s.srv = httptest.NewServer(s)
}

func (s *dumpServer) close() { s.srv.Close() }

// url is the server's base URL (no trailing slash).
func (s *dumpServer) url() string { return s.srv.URL }

// hostile reports whether request n, for bytes [first, last], is one the
// mode applies to.
func (s *dumpServer) hostile(n, first, last int64) bool {
	return s.mode != "" && n >= s.after && (s.times == 0 || n < s.after+s.times) &&
		last >= s.from && (s.to == 0 || first < s.to)
}

// requestRange is the range a request asks for: everything without a
// Range.
func requestRange(r *http.Request) (first, last int64) {
	if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &first, &last); err != nil {
		return 0, math.MaxInt64
	}
	return first, last
}

func (s *dumpServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	if s.delay > 0 && !wait(r.Context(), s.delay) {
		return
	}
	if r.URL.RawQuery != presignQuery {
		http.Error(w, "SignatureDoesNotMatch", http.StatusForbidden)
		return
	}
	// The ETag of the file as it is now: its size and modification time.
	st, err := os.Stat(filepath.Join(s.dir, filepath.FromSlash(path.Clean("/"+r.URL.Path))))
	if err != nil || !st.Mode().IsRegular() {
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return
	}
	etag := fmt.Sprintf(`"%x-%x"`, st.Size(), st.ModTime().UnixNano())
	cw := &countingWriter{ResponseWriter: w, n: &s.sent}
	if first, last := requestRange(r); !s.hostile(n, first, last) {
		cw.Header().Set("ETag", etag)
		s.files.ServeHTTP(cw, r)
		return
	}
	switch s.mode {
	case "norange":
		r.Header.Del("Range")
	case "changed":
		etag = `"changed-` + etag[1:]
	case "changed-ignore":
		etag = `"changed-` + etag[1:]
		r.Header.Del("If-Match")
	case "gzip":
		cw.Header().Set("Content-Encoding", "gzip")
	case "slow":
		wait(r.Context(), time.Minute)
		return
	case "reset":
		resetConn(w)
		return
	case "redirect":
		port := s.srv.Listener.Addr().(*net.TCPAddr).Port
		http.Redirect(w, r, fmt.Sprintf("http://localhost:%d%s?%s", port, r.URL.Path, r.URL.RawQuery), http.StatusFound)
		return
	case "403", "404", "503":
		code, _ := strconv.Atoi(s.mode)
		http.Error(w, http.StatusText(code), code)
		return
	case "short", "badrange", "slowbody":
		// Answer honestly into a recorder, then send a broken copy.
		rec := httptest.NewRecorder()
		rec.Header().Set("ETag", etag)
		s.files.ServeHTTP(rec, r)
		s.broken(w, r, rec)
		return
	}
	cw.Header().Set("ETag", etag)
	s.files.ServeHTTP(cw, r)
}

// broken sends the recorded honest answer with one thing wrong: a body
// cut halfway on a connection then closed (short), a Content-Range moved
// by one byte (badrange), or half the body and then silence (slowbody).
func (s *dumpServer) broken(w http.ResponseWriter, r *http.Request, rec *httptest.ResponseRecorder) {
	body := rec.Body.Bytes()
	h := rec.Header()
	if s.mode == "badrange" {
		var first, last, size int64
		if _, err := fmt.Sscanf(h.Get("Content-Range"), "bytes %d-%d/%d", &first, &last, &size); err == nil {
			if last+1 < size {
				first, last = first+1, last+1
			} else {
				last--
			}
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, size))
		}
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
		return
	}
	conn, bw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	h.Write(bw)
	bw.WriteString("\r\n")
	bw.Write(body[:len(body)/2])
	bw.Flush()
	if s.mode == "slowbody" {
		// Wait for the client to give up: it closes the connection.
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		bufio.NewReader(conn).ReadByte()
	}
}

// resetConn closes the connection with a TCP RST instead of answering.
func resetConn(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// wait sleeps d, or until ctx ends (false).
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// countingWriter counts the body bytes a handler writes.
type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	k, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(k))
	return k, err
}

// modeHelp lists the modes for a usage message.
func modeHelp() string {
	var b strings.Builder
	for _, m := range slices.Sorted(maps.Keys(serverModes)) {
		fmt.Fprintf(&b, "\n  %s: %s", m, serverModes[m])
	}
	return b.String()
}
