package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// This file moves blocks from the server to the readers: which blocks a
// read needs and which requests fetch them (request), one request with
// its checks, timeouts and retries (fetchRange, fetchOnce), and handing
// each block to the readers waiting for it (deliver).

// request returns the calls for blocks [b0, b1], starting a fetch for
// those neither cached nor already being fetched, and the read-ahead the
// read earns. Consecutive missing blocks, wanted or fetched ahead, are
// fetched by one request of at most runMax blocks.
func (o *Object) request(b0, b1 int64) ([]*blockCall, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil, o.closedError()
	}
	calls := make([]*blockCall, 0, b1-b0+1)
	var runs []run
	for b := b0; b <= b1; b++ {
		if data, ok := o.blocks.get(b); ok {
			o.stats.hits.Add(1)
			calls = append(calls, &blockCall{data: data})
			continue
		}
		o.stats.misses.Add(1)
		c, ok := o.inflight[b]
		if !ok {
			c = o.startLocked(b, &runs)
		}
		calls = append(calls, c)
	}
	if first, last, ok := o.ra.observe(b0, b1); ok {
		for b := first; b <= last; b++ {
			if _, ok := o.inflight[b]; ok {
				continue
			}
			if _, ok := o.blocks.index[b]; ok {
				continue
			}
			o.stats.ahead.Add(1)
			o.startLocked(b, &runs)
		}
	}
	o.wg.Add(len(runs))
	for _, r := range runs {
		go o.fetchRun(r.first, r.last)
	}
	return calls, nil
}

// run is a range of consecutive blocks fetched together.
type run struct{ first, last int64 }

// startLocked registers a call for block b and adds the block to the
// last run when it extends it, or starts a new run.
func (o *Object) startLocked(b int64, runs *[]run) *blockCall {
	c := &blockCall{done: make(chan struct{})}
	o.inflight[b] = c
	if n := len(*runs); n > 0 {
		r := &(*runs)[n-1]
		if r.last == b-1 && r.last-r.first+1 < o.runMax {
			r.last = b
			return c
		}
	}
	*runs = append(*runs, run{b, b})
	return c
}

// blockLen is the length of block b (the last one may be short).
func (o *Object) blockLen(b int64) int64 {
	return min(o.bs, o.size-b*o.bs)
}

// deliver completes the call of block b and caches the block.
func (o *Object) deliver(b int64, data []byte, err error) {
	o.mu.Lock()
	c := o.inflight[b]
	delete(o.inflight, b)
	if err == nil {
		o.blocks.put(b, data)
	}
	o.mu.Unlock()
	if c != nil {
		c.data, c.err = data, err
		close(c.done)
	}
}

// fetchRun fetches blocks [first, last]: those the disk cache holds from
// there, the others over the network.
func (o *Object) fetchRun(first, last int64) {
	defer o.wg.Done()
	if o.disk == nil {
		o.fetchRange(first, last)
		return
	}
	var missing []run
	for b := first; b <= last; b++ {
		if data, ok := o.disk.get(b, o.blockLen(b)); ok {
			o.stats.diskHits.Add(1)
			o.deliver(b, data, nil)
			continue
		}
		if n := len(missing); n > 0 && missing[n-1].last == b-1 {
			missing[n-1].last = b
		} else {
			missing = append(missing, run{first: b, last: b})
		}
	}
	for _, r := range missing {
		o.fetchRange(r.first, r.last)
	}
}

// fetchRange fetches blocks [first, last] with as many requests as it
// takes: after a failure that delivered some blocks, the next request
// asks for the rest; transient failures are retried with backoff, at
// most Attempts requests in a row without progress.
func (o *Object) fetchRange(first, last int64) {
	next, fails := first, 0
	for next <= last {
		if err := o.changedErr(); err != nil {
			o.fail(next, last, err)
			return
		}
		select {
		case o.sem <- struct{}{}:
		case <-o.ctx.Done():
			o.fail(next, last, o.closedError())
			return
		}
		n, err := o.fetchOnce(next, last)
		<-o.sem
		next += n
		if err == nil {
			continue
		}
		if n > 0 {
			fails = 0
		}
		fails++
		off := next * o.bs
		span := min((last+1)*o.bs, o.size) - off
		if !isTransient(err) || fails >= o.opt.Attempts || o.ctx.Err() != nil {
			err = o.errorFor("read", off, span, err, fails)
			if errors.Is(err, ErrChanged) {
				o.mu.Lock()
				if o.changed == nil {
					o.changed = err
				}
				o.mu.Unlock()
			}
			o.fail(next, last, err)
			return
		}
		o.stats.retries.Add(1)
		if !sleep(o.ctx, o.backoff(fails, err)) {
			o.fail(next, last, o.closedError())
			return
		}
	}
}

func (o *Object) changedErr() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.changed
}

func (o *Object) fail(first, last int64, err error) {
	for b := first; b <= last; b++ {
		o.deliver(b, nil, err)
	}
}

// fetchOnce makes one request for blocks [first, last] and delivers the
// blocks as their bytes arrive, the last one only once the body is seen
// to end where the range does. It returns how many blocks it delivered.
func (o *Object) fetchOnce(first, last int64) (int64, error) {
	off := first * o.bs
	end := min((last+1)*o.bs, o.size) - 1
	a := o.newAttempt(o.ctx)
	defer a.end()
	r, err := o.get.get(a.ctx, off, end, &o.pin)
	if err != nil {
		return 0, o.transportError(o.ctx, a, err)
	}
	defer r.body.Close()
	if e := checkRange(r, off, end, &o.pin); e != nil {
		return 0, e
	}
	body := &idleReader{r: r.body, a: a, fetched: &o.stats.fetched}
	for b := first; b <= last; b++ {
		buf := make([]byte, o.blockLen(b))
		if k, err := io.ReadFull(body, buf); err != nil {
			return b - first, o.bodyError(o.ctx, a, err, b*o.bs-off+int64(k), end-off+1)
		}
		if b == last {
			if e := o.readEnd(o.ctx, a, body); e != nil {
				return b - first, e
			}
		}
		o.deliver(b, buf, nil)
		if o.disk != nil && o.disk.put(b, buf) {
			o.stats.diskPuts.Add(1)
		}
	}
	return last - first + 1, nil
}

// open makes the opening request, retried like any other, and returns
// the object's first block.
func (o *Object) open(ctx context.Context) ([]byte, error) {
	last := o.bs - 1
	for fails := 1; ; fails++ {
		data, err := o.openOnce(ctx, last)
		if err == nil {
			return data, nil
		}
		if !isTransient(err) || fails >= o.opt.Attempts || ctx.Err() != nil {
			return nil, o.errorFor("open", -1, -1, err, fails)
		}
		o.stats.retries.Add(1)
		if !sleep(ctx, o.backoff(fails, err)) {
			return nil, o.errorFor("open", -1, -1, failure(ctx.Err(), 0, false, "cancelled"), fails)
		}
	}
}

// openOnce GETs bytes [0, last], learns the size and pins the version
// from the response (checkOpen), and returns the first block.
func (o *Object) openOnce(ctx context.Context, last int64) ([]byte, error) {
	a := o.newAttempt(ctx)
	defer a.end()
	r, err := o.get.get(a.ctx, 0, last, nil)
	if err != nil {
		return nil, o.transportError(ctx, a, err)
	}
	defer r.body.Close()
	op, e := checkOpen(r, last)
	if e != nil {
		return nil, e
	}
	if op.empty416 {
		r.body.Close()
		return nil, o.openEmpty(ctx, last)
	}
	body := &idleReader{r: r.body, a: a, fetched: &o.stats.fetched}
	var data []byte
	if op.n >= 0 {
		data = make([]byte, op.n)
		if k, err := io.ReadFull(body, data); err != nil {
			return nil, o.bodyError(ctx, a, err, int64(k), op.n)
		}
		if e := o.readEnd(ctx, a, body); e != nil {
			return nil, e
		}
	} else {
		// A 200 without Content-Length: read no more than was asked.
		data, err = io.ReadAll(io.LimitReader(body, last+2))
		if err != nil {
			return nil, o.bodyError(ctx, a, err, int64(len(data)), -1)
		}
		if int64(len(data)) > last+1 {
			return nil, noRangeWhole(-1)
		}
		op.pin.size = int64(len(data))
	}
	o.pin, o.size = op.pin, op.pin.size
	return data, nil
}

// openEmpty handles a 416 to the opening range without a Content-Range
// telling the size (S3 answers so for an empty object): a GET without
// Range must then find an empty object, and nothing else is accepted.
func (o *Object) openEmpty(ctx context.Context, last int64) error {
	a := o.newAttempt(ctx)
	defer a.end()
	r, err := o.get.get(a.ctx, -1, -1, nil)
	if err != nil {
		return o.transportError(ctx, a, err)
	}
	defer r.body.Close()
	if r.status != http.StatusOK {
		return statusError(r)
	}
	nonEmpty := r.contentLength > 0
	if r.contentLength < 0 {
		var one [1]byte
		k, _ := io.ReadFull(r.body, one[:])
		nonEmpty = k > 0
	}
	if nonEmpty {
		return failure(ErrNoRange, http.StatusRequestedRangeNotSatisfiable, false,
			"the server refused bytes 0-%d (416) of an object that is not empty: its range support is broken", last)
	}
	o.pin, o.size = pinOf(0, r.header), 0
	return nil
}

// readEnd checks that the body ends where the range does.
func (o *Object) readEnd(parent context.Context, a *attempt, body io.Reader) error {
	var one [1]byte
	k, err := io.ReadFull(body, one[:])
	switch {
	case k > 0:
		return failure(ErrProtocol, http.StatusPartialContent, false, "the body is longer than the range asked for")
	case err == io.EOF:
		return nil
	}
	return o.transportError(parent, a, err)
}

// Errors of one request.
var (
	errIdle    = errors.New("idle timeout")
	errRequest = errors.New("request timeout")
)

// attempt is the context of one request: it ends at RequestTimeout, or
// when no byte came for IdleTimeout (the timer restarts at each read).
type attempt struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   context.CancelFunc
	idle   *time.Timer
	d      time.Duration
}

func (o *Object) newAttempt(parent context.Context) *attempt {
	c, cancel := context.WithCancelCause(parent)
	ctx, stop := context.WithTimeoutCause(c, o.opt.RequestTimeout, errRequest)
	a := &attempt{ctx: ctx, cancel: cancel, stop: stop, d: o.opt.IdleTimeout}
	a.idle = time.AfterFunc(a.d, func() { cancel(errIdle) })
	return a
}

func (a *attempt) end() {
	a.idle.Stop()
	a.stop()
	a.cancel(nil)
}

// idleReader restarts the idle timer at each read that brings bytes, and
// counts them.
type idleReader struct {
	r       io.Reader
	a       *attempt
	fetched *atomic.Int64
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.a.idle.Reset(r.a.d)
		r.fetched.Add(int64(n))
	}
	return n, err
}

// transportError classifies a failure to get or read a response: Close
// or the caller's cancellation end the work; our timeouts, resets,
// refused connections and other network failures are transient; a
// refused redirect, a certificate that does not verify, an unknown host
// and anything unrecognised (such as missing credentials) are not.
func (o *Object) transportError(parent context.Context, a *attempt, err error) *Error {
	if o.ctx != nil && o.ctx.Err() != nil {
		return failure(fs.ErrClosed, 0, false, "object closed")
	}
	if parent.Err() != nil {
		return failure(parent.Err(), 0, false, "cancelled (%v)", parent.Err())
	}
	switch context.Cause(a.ctx) {
	case errIdle:
		return failure(ErrTimeout, 0, true, "no data for %v", o.opt.IdleTimeout)
	case errRequest:
		return failure(ErrTimeout, 0, true, "the request took longer than %v", o.opt.RequestTimeout)
	}
	return failure(err, 0, transientNetError(err), "%v", err)
}

func transientNetError(err error) bool {
	var (
		re   *redirectError
		dns  *net.DNSError
		ua   x509.UnknownAuthorityError
		hn   x509.HostnameError
		ci   x509.CertificateInvalidError
		cv   *tls.CertificateVerificationError
		rhe  tls.RecordHeaderError
		nerr net.Error
	)
	switch {
	case errors.As(err, &re), errors.Is(err, ErrRedirect),
		errors.As(err, &ua), errors.As(err, &hn), errors.As(err, &ci), errors.As(err, &cv), errors.As(err, &rhe):
		return false
	case errors.As(err, &dns):
		return dns.IsTimeout || dns.IsTemporary
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &nerr):
		return true
	}
	// HTTP/2 stream resets and GOAWAYs have unexported types.
	return strings.Contains(err.Error(), "http2:") || strings.Contains(err.Error(), "stream error")
}

// bodyError classifies a failure while reading a body of want bytes
// after got arrived (want is -1 when unknown).
func (o *Object) bodyError(parent context.Context, a *attempt, err error, got, want int64) *Error {
	if a.ctx.Err() == nil && (err == io.EOF || err == io.ErrUnexpectedEOF) {
		return failure(io.ErrUnexpectedEOF, http.StatusPartialContent, true, "the body ended after %d of %d bytes", got, want)
	}
	return o.transportError(parent, a, err)
}

// backoff is the wait before retry number fails: Backoff doubled per
// retry up to maxBackoff, the upper half drawn at random so that parallel
// readers do not retry in step, or the server's Retry-After if longer.
func (o *Object) backoff(fails int, err error) time.Duration {
	d := o.opt.Backoff
	for i := 1; i < fails && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	d = d/2 + rand.N(d/2+1)
	var e *Error
	if errors.As(err, &e) && e.retryAfter > d {
		d = e.retryAfter
	}
	return d
}

// sleep waits d, or until ctx ends (false). The timer needs no Stop: since
// Go 1.23 an unreferenced timer is collected whether or not it fired.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}
