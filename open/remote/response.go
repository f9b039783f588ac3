package remote

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file is the protocol: what a ranged GET must answer (RFC 9110
// §14 "Range Requests", §13 "Conditional Requests") and how each answer
// is checked before one of its bytes is used. Both backends (plain HTTP
// and S3) hand their responses here as a reply.

// reply is one response to a GET, as both backends see it.
type reply struct {
	status int
	header http.Header
	// contentLength is the Content-Length, or -1 when unknown (chunked).
	contentLength int64
	body          io.ReadCloser
	// detail is the server's own error code and message when the backend
	// decoded one (S3's "NoSuchKey: ..."), for messages.
	detail string
}

// pin identifies the version of the object that was opened. Every later
// request is conditional on it and every later response is compared with
// it, so that an object replaced under the reader is an error, never a
// mix of two versions.
type pin struct {
	size int64
	// etag is the ETag of the first response as sent (quotes included,
	// "W/" for a weak one), or "".
	etag string
	// lastModified is the Last-Modified of the first response as sent,
	// or "".
	lastModified string
}

func pinOf(size int64, h http.Header) pin {
	return pin{size: size, etag: h.Get("ETag"), lastModified: h.Get("Last-Modified")}
}

// strongETag reports whether the pinned ETag can be used in If-Match
// (RFC 9110 §13.1.1: If-Match uses the strong comparison, so a weak tag
// never matches).
func (p *pin) strongETag() bool {
	return p.etag != "" && !strings.HasPrefix(p.etag, "W/")
}

// validator names what pins the object, for Stats: "etag",
// "last-modified", or "size" when the server gave neither, and only a
// changed size can be noticed.
func (p *pin) validator() string {
	switch {
	case p.strongETag():
		return "etag"
	case p.lastModified != "":
		return "last-modified"
	case p.etag != "":
		return "weak-etag"
	}
	return "size"
}

// conditions sets the request headers that make the server refuse to
// answer from another version of the object: If-Match with a strong ETag,
// otherwise If-Unmodified-Since with Last-Modified (RFC 9110 §13.1.1,
// §13.1.4: 412 when changed).
//
// If-Range with the date is not sent: a server may take a Last-Modified
// date as a weak validator (§8.8.2.2) and then must ignore the Range,
// answering an unchanged object whole. The answers' own ETag and
// Last-Modified are compared with the pin in any case (checkValidators).
func (p *pin) conditions(h http.Header) {
	switch {
	case p.strongETag():
		h.Set("If-Match", p.etag)
	case p.lastModified != "":
		h.Set("If-Unmodified-Since", p.lastModified)
	}
}

// contentRange is a parsed Content-Range header (RFC 9110 §14.4):
// "bytes first-last/size", where size is -1 for "*" (unknown), or
// "bytes */size" (unsatisfied) sent with 416.
type contentRange struct {
	first, last, size int64
	unsatisfied       bool
}

// parseContentRange parses a Content-Range value strictly: one byte
// range, decimal digits only, first <= last < size.
func parseContentRange(s string) (contentRange, error) {
	unit, rest, ok := strings.Cut(s, " ")
	if !ok || !strings.EqualFold(unit, "bytes") {
		return contentRange{}, fmt.Errorf("Content-Range %q is not in bytes", clip(s))
	}
	rng, total, ok := strings.Cut(rest, "/")
	if !ok {
		return contentRange{}, fmt.Errorf("Content-Range %q has no total size", clip(s))
	}
	cr := contentRange{size: -1}
	if total != "*" {
		n, err := parseDecimal(total)
		if err != nil {
			return contentRange{}, fmt.Errorf("Content-Range %q: total size: %v", clip(s), err)
		}
		cr.size = n
	}
	if rng == "*" {
		if cr.size < 0 {
			return contentRange{}, fmt.Errorf("Content-Range %q gives neither range nor size", clip(s))
		}
		cr.unsatisfied = true
		return cr, nil
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return contentRange{}, fmt.Errorf("Content-Range %q has no range", clip(s))
	}
	var err error
	if cr.first, err = parseDecimal(a); err != nil {
		return contentRange{}, fmt.Errorf("Content-Range %q: first byte: %v", clip(s), err)
	}
	if cr.last, err = parseDecimal(b); err != nil {
		return contentRange{}, fmt.Errorf("Content-Range %q: last byte: %v", clip(s), err)
	}
	if cr.first > cr.last || (cr.size >= 0 && cr.last >= cr.size) {
		return contentRange{}, fmt.Errorf("Content-Range %q is not a range inside the object", clip(s))
	}
	return cr, nil
}

// parseDecimal parses a non-negative decimal number of at most 18 digits
// (no sign, no spaces), so that sums of two never overflow an int64.
func parseDecimal(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, errors.New("not a number of 1 to 18 digits")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a decimal number")
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// clip shortens a header value quoted in a message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// statusText is "404 Not Found", with the server's detail when known.
func statusText(r *reply) string {
	s := strconv.Itoa(r.status)
	if t := http.StatusText(r.status); t != "" {
		s += " " + t
	}
	if r.detail != "" {
		s += " (" + clip(r.detail) + ")"
	}
	return s
}

// maxRetryAfter bounds how long a Retry-After header may make us wait.
const maxRetryAfter = 10 * time.Second

// statusError classifies a status that is not the expected success.
func statusError(r *reply) *Error {
	st, text := r.status, statusText(r)
	switch {
	case st == http.StatusPreconditionFailed:
		return failure(ErrChanged, st, false, "HTTP %s: the object changed since it was opened", text)
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		return failure(fs.ErrPermission, st, false, "HTTP %s: access denied (missing or expired credentials, or an expired presigned URL?)", text)
	case st == http.StatusNotFound || st == http.StatusGone:
		return failure(fs.ErrNotExist, st, false, "HTTP %s: no such object", text)
	case st == http.StatusRequestTimeout || st == http.StatusTooManyRequests || (st >= 500 && st <= 599):
		e := failure(nil, st, true, "HTTP %s", text)
		e.Err = errors.New(e.Msg)
		e.retryAfter = retryAfter(r.header)
		return e
	case st >= 300 && st <= 399:
		if region := r.header.Get("X-Amz-Bucket-Region"); region != "" {
			return failure(ErrRedirect, st, false, "HTTP %s: the bucket is in region %s (set AWS_REGION=%s)", text, clip(region), clip(region))
		}
		return failure(ErrRedirect, st, false, "HTTP %s: a redirect that was not followed", text)
	}
	return failure(ErrProtocol, st, false, "unexpected HTTP %s", text)
}

// retryAfter returns the server's Retry-After delay in seconds, bounded,
// or 0.
func retryAfter(h http.Header) time.Duration {
	n, err := parseDecimal(h.Get("Retry-After"))
	if err != nil {
		return 0
	}
	return min(time.Duration(n)*time.Second, maxRetryAfter)
}

// checkEncoding refuses a body that is not the object's bytes as stored.
func checkEncoding(r *reply) *Error {
	if ce := r.header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return failure(ErrProtocol, r.status, false, "the response is %s-encoded: its bytes are not the object's", clip(ce))
	}
	if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); strings.EqualFold(mt, "multipart/byteranges") {
		return failure(ErrProtocol, r.status, false, "a multipart response to a single-range request")
	}
	return nil
}

// opaque is an entity tag without its weakness mark, for the weak
// comparison of RFC 9110 §8.8.3.2.
func opaque(tag string) string { return strings.TrimPrefix(tag, "W/") }

// checkValidators refuses a response from another version of the object
// than the pinned one, whatever the server did with our preconditions.
func checkValidators(h http.Header, p *pin) *Error {
	if p.etag != "" {
		if e := h.Get("ETag"); e != "" && opaque(e) != opaque(p.etag) {
			return failure(ErrChanged, 0, false, "the object changed since it was opened (ETag %s, now %s)", clip(p.etag), clip(e))
		}
	}
	if p.lastModified != "" {
		if lm := h.Get("Last-Modified"); lm != "" && !sameTime(lm, p.lastModified) {
			return failure(ErrChanged, 0, false, "the object changed since it was opened (Last-Modified %s, now %s)", clip(p.lastModified), clip(lm))
		}
	}
	return nil
}

func sameTime(a, b string) bool {
	if a == b {
		return true
	}
	ta, errA := http.ParseTime(a)
	tb, errB := http.ParseTime(b)
	return errA == nil && errB == nil && ta.Equal(tb)
}

// checkRange checks the response to a GET of bytes [first, last] of the
// pinned object: 206, the pinned version, a Content-Range of exactly that
// range and the pinned size, and a Content-Length that agrees.
func checkRange(r *reply, first, last int64, p *pin) *Error {
	switch r.status {
	case http.StatusPartialContent:
	case http.StatusOK:
		if e := checkValidators(r.header, p); e != nil {
			return e
		}
		return failure(ErrNoRange, r.status, false, "the server ignored the Range request and answered 200 with the whole object")
	case http.StatusRequestedRangeNotSatisfiable:
		return failure(ErrChanged, r.status, false, "HTTP %s for a range inside the %d-byte object: it shrank since it was opened", statusText(r), p.size)
	default:
		return statusError(r)
	}
	if e := checkValidators(r.header, p); e != nil {
		return e
	}
	if e := checkEncoding(r); e != nil {
		return e
	}
	vals := r.header.Values("Content-Range")
	if len(vals) != 1 {
		return failure(ErrProtocol, r.status, false, "206 with %d Content-Range headers", len(vals))
	}
	cr, err := parseContentRange(vals[0])
	if err != nil || cr.unsatisfied {
		return failure(ErrProtocol, r.status, false, "206 with a bad Content-Range %q", clip(vals[0]))
	}
	if cr.size >= 0 && cr.size != p.size {
		return failure(ErrChanged, r.status, false, "the object's size changed from %d to %d bytes since it was opened", p.size, cr.size)
	}
	if cr.first != first || cr.last != last {
		return failure(ErrProtocol, r.status, false, "asked for bytes %d-%d, the server sent %d-%d", first, last, cr.first, cr.last)
	}
	if r.contentLength >= 0 && r.contentLength != last-first+1 {
		return failure(ErrProtocol, r.status, false, "Content-Length %d for a %d-byte range", r.contentLength, last-first+1)
	}
	return nil
}

// opening is what the first response tells about the object.
type opening struct {
	pin pin
	// n is how many body bytes hold the object's first bytes: the block
	// asked for, or the whole object when it is smaller; -1 when a 200
	// gave no Content-Length and the body must be read to learn it.
	n int64
	// empty416: the server refused the range of a probably empty object
	// without saying its size; a GET without Range must tell.
	empty416 bool
}

// checkOpen checks the response to the opening GET of bytes [0, last]:
// a 206 tells the size in its Content-Range; a 200 is accepted only when
// its body is no larger than what was asked (a small object, from a
// server that answers whole objects that fit a range); a 416 means an
// empty object.
func checkOpen(r *reply, last int64) (opening, *Error) {
	switch r.status {
	case http.StatusPartialContent:
		if e := checkEncoding(r); e != nil {
			return opening{}, e
		}
		vals := r.header.Values("Content-Range")
		if len(vals) != 1 {
			return opening{}, failure(ErrNoRange, r.status, false, "206 with %d Content-Range headers", len(vals))
		}
		cr, err := parseContentRange(vals[0])
		if err != nil || cr.unsatisfied {
			return opening{}, failure(ErrProtocol, r.status, false, "206 with a bad Content-Range %q", clip(vals[0]))
		}
		if cr.size < 0 {
			return opening{}, failure(ErrNoRange, r.status, false, "the server does not tell the object's size (Content-Range %q)", clip(vals[0]))
		}
		want := min(last, cr.size-1)
		if cr.first != 0 || cr.last != want {
			return opening{}, failure(ErrProtocol, r.status, false, "asked for bytes 0-%d of a %d-byte object, the server sent %d-%d", last, cr.size, cr.first, cr.last)
		}
		if r.contentLength >= 0 && r.contentLength != want+1 {
			return opening{}, failure(ErrProtocol, r.status, false, "Content-Length %d for a %d-byte range", r.contentLength, want+1)
		}
		return opening{pin: pinOf(cr.size, r.header), n: want + 1}, nil
	case http.StatusOK:
		if e := checkEncoding(r); e != nil {
			return opening{}, e
		}
		if r.contentLength > last+1 {
			return opening{}, noRangeWhole(r.contentLength)
		}
		return opening{pin: pinOf(max(r.contentLength, 0), r.header), n: r.contentLength}, nil
	case http.StatusRequestedRangeNotSatisfiable:
		if cr, err := parseContentRange(r.header.Get("Content-Range")); err == nil && cr.unsatisfied && cr.size == 0 {
			return opening{pin: pinOf(0, r.header)}, nil
		}
		return opening{empty416: true}, nil
	}
	return opening{}, statusError(r)
}

// noRangeWhole is the error for a server that answers a Range request
// with the whole object: the body is closed at once, never downloaded.
func noRangeWhole(size int64) *Error {
	what := "the whole object"
	if size >= 0 {
		what = fmt.Sprintf("the whole %d-byte object", size)
	}
	return failure(ErrNoRange, http.StatusOK, false,
		"the server ignored the Range request and answered 200 with %s; remote dumps are read in ranges, never downloaded whole: download the file first, or serve it with Range support", what)
}
