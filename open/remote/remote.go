// Package remote opens a dump where it lies: an io.ReaderAt over an
// http://, https:// (presigned S3, GCS and Azure URLs included) or
// s3://bucket/key object that fetches only the bytes its readers ask for.
//
// dumpscope's readers open a dump by reading fixed headers and then read
// what each view needs, in small reads and page reads of 4 KiB to 1 MiB,
// from several goroutines for parallel work. An Object serves those reads
// with HTTP Range requests of aligned blocks (Options.BlockSize), keeps a
// bounded LRU of blocks in memory, fetches ahead of sequential readers
// (readahead.go), runs several requests at once and shares a block
// between the readers that want it (fetch.go), retries transient
// failures with backoff, and, only when asked, keeps blocks on disk
// between runs (diskcache.go).
//
// Correctness comes first. The object is pinned at Open by the first
// response (size, ETag or Last-Modified); every later request is
// conditional on that version and every response is checked before a
// byte of it is used: status 206, a Content-Range of exactly the range
// asked and the pinned size, a body of exactly that length, the same
// validator (response.go). A server that ignores Range, a changed object,
// a wrong range, a short body or a redirect to another host is an error,
// never wrong bytes. Query strings, where presigned URLs carry their
// signature, appear in no name and no error.
package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"dumpscope/model"
)

// Options tune an Object. The zero value is the default everywhere.
type Options struct {
	// BlockSize is the unit of requests and caches: a power of two from
	// 4 KiB to 16 MiB. Default 256 KiB (see bench_test.go).
	BlockSize int64
	// CacheSize bounds the blocks kept in memory, in bytes (at least two
	// blocks). Default 64 MiB.
	CacheSize int64
	// ReadAhead is the largest window fetched ahead of a sequential
	// reader, in bytes; at most half of CacheSize. Default 8 MiB;
	// negative turns read-ahead off.
	ReadAhead int64
	// Parallel bounds the requests in flight at once. Default 8.
	Parallel int
	// Attempts bounds the requests made in a row for one range without
	// progress: the first one and its retries. Default 4.
	Attempts int
	// Backoff is the wait before the first retry; it doubles with each
	// further one, up to 5 s, with jitter. Default 250 ms.
	Backoff time.Duration
	// RequestTimeout bounds one request, its body included. Default 60 s.
	RequestTimeout time.Duration
	// IdleTimeout bounds the wait for the response and, after it, for
	// each further byte of its body. Default 15 s.
	IdleTimeout time.Duration
	// FailFast makes every read after a failed one fail at once with
	// the first failure (Err), without a request: for a caller that gives
	// up at the first failure anyway (dumpscope's commands), so that a
	// dead or refusing server costs one failed range, not retries and
	// timeouts for every block the readers still want.
	FailFast bool

	// CacheDir, when set, keeps fetched blocks on disk, keyed by the
	// object's identity (see diskcache.go), for later runs and other
	// processes. Nothing is written anywhere unless it is set.
	CacheDir string
	// CacheDirSize bounds the disk cache in bytes; the least recently
	// used blocks go first. Default 4 GiB.
	CacheDirSize int64

	// Header is sent with every http(s) request, for example an
	// Authorization header; it is never shown.
	Header http.Header
	// S3Endpoint overrides the S3 endpoint for s3:// URLs (an
	// S3-compatible store: "http://127.0.0.1:9000"); requests then use
	// path-style addressing. AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL
	// are honoured as well.
	S3Endpoint string
	// Transport replaces the HTTP transport (for tests: a TLS test
	// server's).
	Transport http.RoundTripper
}

const (
	defaultBlockSize = 256 << 10
	minBlockSize     = 4 << 10
	maxBlockSize     = 16 << 20
	// maxRequestBytes bounds one request: larger reads and read-ahead
	// windows are split into requests of this size that run in parallel,
	// and a retry repeats at most this much.
	maxRequestBytes = 4 << 20
	maxBackoff      = 5 * time.Second
	// closeGrace bounds how long Close waits for fetches under way to
	// reach the disk cache.
	closeGrace = 2 * time.Second
)

// resolved fills in defaults and checks bounds.
func (o Options) resolved() (Options, error) {
	if o.BlockSize == 0 {
		o.BlockSize = defaultBlockSize
	}
	if o.BlockSize < minBlockSize || o.BlockSize > maxBlockSize || o.BlockSize&(o.BlockSize-1) != 0 {
		return o, fmt.Errorf("block size %d is not a power of two from %d to %d", o.BlockSize, minBlockSize, maxBlockSize)
	}
	if o.CacheSize == 0 {
		o.CacheSize = 64 << 20
	}
	o.CacheSize = max(o.CacheSize, 2*o.BlockSize)
	switch {
	case o.ReadAhead == 0:
		o.ReadAhead = 8 << 20
	case o.ReadAhead < 0:
		o.ReadAhead = 0
	}
	o.ReadAhead = min(o.ReadAhead, o.CacheSize/2)
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	o.Parallel = min(o.Parallel, 64)
	if o.Attempts <= 0 {
		o.Attempts = 4
	}
	o.Attempts = min(o.Attempts, 10)
	if o.Backoff <= 0 {
		o.Backoff = 250 * time.Millisecond
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 60 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 15 * time.Second
	}
	if o.CacheDirSize <= 0 {
		o.CacheDirSize = 4 << 30
	}
	return o, nil
}

// IsURL reports whether a FILE argument names a remote object this
// package opens (http://, https:// or s3://) rather than a local path.
func IsURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "http", "https", "s3":
		return true
	}
	return false
}

// Object is a remote object opened for reading. It is an io.ReaderAt
// safe for concurrent use; Size, Name and Stats may be called at any time,
// also after Close.
type Object struct {
	name     string
	identity string // for the disk cache: the object without credentials
	size     int64
	pin      pin
	bs       int64
	nblocks  int64
	runMax   int64 // blocks per request
	opt      Options
	get      getter
	disk     *diskCache
	// diskRefused says why Options.CacheDir was not used, or is empty.
	diskRefused string
	stats       counters
	openTime    time.Duration

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	sem    chan struct{} // one token per request in flight
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	changed  error // once the object is seen changed, no more requests
	failed   error // the first failure a ReadAt returned (Err)
	blocks   *blockCache
	inflight map[int64]*blockCall
	ra       readahead
}

// Open opens the object at rawURL: http://, https:// or s3://bucket/key.
// It makes one request, a GET of the first block, which tells the size
// and pins the version; ctx bounds Open only (Close ends later requests).
// Errors match fs.ErrNotExist, fs.ErrPermission, ErrNoRange, ErrRedirect,
// ErrTimeout, ... and never show a query string.
func Open(ctx context.Context, rawURL string, opt Options) (*Object, error) {
	start := time.Now()
	opt, err := opt.resolved()
	if err != nil {
		return nil, err
	}
	o := &Object{opt: opt, bs: opt.BlockSize}
	if err := o.newGetter(ctx, rawURL); err != nil {
		return nil, err
	}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	o.sem = make(chan struct{}, opt.Parallel)
	o.blocks = newBlockCache(opt.CacheSize)
	o.inflight = make(map[int64]*blockCall)
	o.runMax = max(1, maxRequestBytes/o.bs)
	first, err := o.open(ctx)
	if err != nil {
		o.Close()
		return nil, err
	}
	o.nblocks = (o.size + o.bs - 1) / o.bs
	o.ra = newReadahead(opt.ReadAhead, o.bs, o.nblocks)
	if len(first) > 0 {
		o.blocks.put(0, first)
	}
	if opt.CacheDir != "" && o.pin.validator() != "size" {
		// Without a validator a changed object could not be told from
		// the cached one: no disk cache then.
		o.disk, o.diskRefused = openDiskCache(opt.CacheDir, opt.CacheDirSize, o.identity, o.pin, o.bs)
		// The opening block came from the network; keep it unless a copy
		// is there already (a second run must not rewrite it).
		if o.disk != nil && len(first) > 0 && !o.disk.has(0, int64(len(first))) && o.disk.put(0, first) {
			o.stats.diskPuts.Add(1)
		}
	}
	o.openTime = time.Since(start)
	return o, nil
}

// newGetter picks the backend for the URL's scheme and sets the name.
func (o *Object) newGetter(ctx context.Context, rawURL string) error {
	if strings.HasPrefix(strings.ToLower(rawURL), "s3://") {
		bucket, key, err := parseS3URL(rawURL)
		if err != nil {
			return fmt.Errorf("%s: %w", redactRaw(rawURL), err)
		}
		o.name = "s3://" + bucket + "/" + key
		g, err := newS3Getter(ctx, bucket, key, o.opt.S3Endpoint, o.opt.Transport, o.opt.Parallel, &o.stats.requests)
		if err != nil {
			return &Error{Name: o.name, Op: "open", Off: -1, Len: -1, Msg: err.Error(), Err: err}
		}
		o.get = g
		o.identity = "s3 " + g.endpoint + " " + o.name
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error quotes the whole URL: say less.
		return fmt.Errorf("%s: not a valid URL: %w", redactRaw(rawURL), model.ErrUnsupported)
	}
	o.name = redactRaw(rawURL)
	switch u.Scheme {
	case "http", "https":
	default:
		return fmt.Errorf("%s: %w: only http://, https:// and s3:// URLs are read", o.name, model.ErrUnsupported)
	}
	if u.Host == "" {
		return fmt.Errorf("%s: no host in the URL: %w", o.name, model.ErrUnsupported)
	}
	o.identity = "http " + o.name
	o.get = &httpGetter{client: newHTTPClient(o.opt.Transport, o.opt.Parallel), url: rawURL, header: o.opt.Header.Clone(), requests: &o.stats.requests}
	return nil
}

// Redact returns the name of a FILE argument for messages, titles and
// JSON: for a URL, as it was written but without user information, query
// string (where a presigned URL carries its signature) or fragment; an
// s3:// URL, whose key is literal, and a local path are returned as they
// are. Callers that name a FILE in an error before or without opening it
// must use it, never the argument itself.
func Redact(file string) string {
	if !IsURL(file) || strings.HasPrefix(strings.ToLower(file), "s3://") {
		return file
	}
	return redactRaw(file)
}

// urlInText finds the http(s) URLs in a message. It is compiled on first
// use: most processes print no message.
var urlInText struct {
	once sync.Once
	re   *regexp.Regexp
}

// RedactText returns a message with every http(s) URL in it redacted (see
// Redact): a last guard for messages that may quote a FILE argument
// where it was not expected, such as a command-line parser's complaint
// about a URL given as a flag's value.
func RedactText(s string) string {
	urlInText.once.Do(func() { urlInText.re = regexp.MustCompile(`(?i)\bhttps?://[^\s"'<>]+`) })
	return urlInText.re.ReplaceAllStringFunc(s, func(u string) string {
		// Punctuation that ends a URL ends the sentence around it.
		trimmed := strings.TrimRight(u, ".,;:!?)")
		return Redact(trimmed) + u[len(trimmed):]
	})
}

// redactRaw is a URL, any URL, without its query string, fragment and
// user information (RFC 3986 §3: the authority ends at the first '/',
// '?' or '#', and user information ends at its last '@'). It works on the
// text as written, so that it also serves URLs that do not parse, and
// gives the same name twice over.
func redactRaw(s string) string {
	s, _, _ = strings.Cut(s, "?")
	s, _, _ = strings.Cut(s, "#")
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	return scheme + "://" + authority + path
}

// Name is the object's name for messages: the URL without user
// information or query string.
func (o *Object) Name() string { return o.name }

// Size is the object's size, as pinned at Open.
func (o *Object) Size() int64 { return o.size }

// Stats returns what reading the object has cost so far.
func (o *Object) Stats() Stats {
	s := o.stats.snapshot()
	s.Name, s.Size, s.BlockSize, s.Validator, s.Open = o.name, o.size, o.bs, o.pin.validator(), o.openTime
	s.DiskRefused = o.diskRefused
	return s
}

// Close stops the requests under way, waits for them and releases the
// connections; with a disk cache it first lets them finish for up to
// closeGrace. Reads after Close fail with fs.ErrClosed.
func (o *Object) Close() error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil
	}
	o.closed = true
	o.mu.Unlock()
	if o.disk != nil {
		// Let the fetches under way (read-ahead, mostly) finish, for a
		// moment, so that their blocks reach the disk cache: a second run
		// then finds every block the first one asked for.
		done := make(chan struct{})
		go func() { o.wg.Wait(); close(done) }()
		t := time.NewTimer(closeGrace)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
	}
	if o.cancel != nil {
		o.cancel()
	}
	o.wg.Wait()
	if o.get != nil {
		o.get.closeIdle()
	}
	return nil
}

// ReadAt reads len(p) bytes at off, fetching the blocks it needs that
// are not in memory. Like any io.ReaderAt it returns io.EOF when the
// object ends before p is full.
func (o *Object) ReadAt(p []byte, off int64) (int, error) {
	o.stats.reads.Add(1)
	if off < 0 {
		return 0, &Error{Name: o.name, Op: "read", Off: -1, Len: -1, Msg: fmt.Sprintf("negative offset %d", off), Err: fs.ErrInvalid}
	}
	if off >= o.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if o.opt.FailFast {
		if err := o.Err(); err != nil {
			return 0, err
		}
	}
	end := min(off+int64(len(p)), o.size)
	b0, b1 := off/o.bs, (end-1)/o.bs
	calls, err := o.request(b0, b1)
	if err != nil {
		return 0, err
	}
	n := 0
	var waited time.Duration
	for i, c := range calls {
		if c.done != nil {
			select {
			case <-c.done:
			default:
				t := time.Now()
				<-c.done
				waited += time.Since(t)
			}
		}
		if c.err != nil {
			err = c.err
			break
		}
		base := (b0 + int64(i)) * o.bs
		from := max(off, base) - base
		to := min(end, base+int64(len(c.data))) - base
		n += copy(p[n:], c.data[from:to])
	}
	o.stats.wait.Add(int64(waited))
	o.stats.read.Add(int64(n))
	if err != nil {
		o.noteFailure(err)
		return n, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Err returns the first failure a read of the object returned (never
// io.EOF, nor a read after Close), or nil. Readers may turn a failed read
// into "not available" or a problem of the dump; a caller checks Err
// afterwards to tell that the network, not the dump, failed.
func (o *Object) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failed
}

func (o *Object) noteFailure(err error) {
	if errors.Is(err, fs.ErrClosed) {
		return
	}
	o.mu.Lock()
	if o.failed == nil {
		o.failed = err
	}
	o.mu.Unlock()
}

// closedError is the error of a read after Close.
func (o *Object) closedError() error {
	return &Error{Name: o.name, Op: "read", Off: -1, Len: -1, Msg: "object closed", Err: fs.ErrClosed}
}

// errorFor completes a failure with the object's name, the operation, the
// range [off, off+n) and the attempts made.
func (o *Object) errorFor(op string, off, n int64, err error, attempts int) error {
	var e *Error
	if !errors.As(err, &e) {
		e = failure(err, 0, false, "%v", err)
	}
	c := *e
	c.Name, c.Op, c.Off, c.Len, c.Attempts = o.name, op, off, n, attempts
	return &c
}
