package remote

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors classify what went wrong with a remote object; test them
// with errors.Is. A missing object also matches fs.ErrNotExist and a
// refused one fs.ErrPermission, as an os.Open error would; reads of a
// closed object fail with fs.ErrClosed.
var (
	// ErrNoRange: the server does not answer Range requests with the
	// range (it sent the whole object, or no usable Content-Range).
	ErrNoRange = errors.New("server does not support range requests")
	// ErrChanged: the object changed after it was opened (its ETag,
	// Last-Modified or size differ, or a precondition failed). Reading
	// stops rather than mix bytes of two versions.
	ErrChanged = errors.New("object changed while reading")
	// ErrProtocol: a response does not match its request (wrong
	// Content-Range, body length, encoding).
	ErrProtocol = errors.New("invalid response")
	// ErrRedirect: the server redirects to another host or scheme, or
	// more than maxRedirects times, which is not followed (see httpget.go).
	ErrRedirect = errors.New("redirect not followed")
	// ErrTimeout: a request took longer than Options.RequestTimeout, or
	// no byte arrived for Options.IdleTimeout.
	ErrTimeout = errors.New("timed out")
)

// Error reports a failed open or read of a remote object. Name is the
// object's redacted name (never a query string, where presigned URLs keep
// their signature). Off and Len give the byte range of a failed read, or
// -1. The message starts with the name:
//
//	https://host/dumps/vmcore: read bytes 0x40000-0x7ffff: HTTP 503 Service Unavailable (after 4 attempts)
type Error struct {
	Name   string
	Op     string // "open" or "read"
	Off    int64
	Len    int64
	Status int // HTTP status of the failing response, or 0
	// Attempts is how many requests were made for this range (1 unless
	// the failure was retried).
	Attempts int
	Msg      string
	Err      error

	// transient marks a failure worth retrying (5xx, reset, timeout).
	transient bool
	// retryAfter is the server's Retry-After, bounded, or 0.
	retryAfter time.Duration
}

func (e *Error) Error() string {
	s := e.Name + ": " + e.Op
	if e.Off >= 0 && e.Len > 0 {
		s += fmt.Sprintf(" bytes %#x-%#x", e.Off, e.Off+e.Len-1)
	}
	s += ": " + e.Msg
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// failure builds the error of one response or transport failure; the
// fetch loop fills in Name, Op, range and attempts.
func failure(err error, status int, transient bool, format string, args ...any) *Error {
	return &Error{Off: -1, Len: -1, Status: status, Msg: fmt.Sprintf(format, args...), Err: err, transient: transient}
}

// isTransient reports whether a failure is worth another attempt.
func isTransient(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.transient
}
