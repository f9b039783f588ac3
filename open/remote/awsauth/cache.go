package awsauth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// expiryWindow is how long before they expire cached credentials are
// fetched again, so that a request signed with them does not reach AWS
// after they have stopped working.
const expiryWindow = 5 * time.Minute

// Cached returns a Provider that gives the credentials p last returned
// until 5 minutes before they expire (for ever when they do not), and
// fetches from p at most once at a time: other callers wait for that
// fetch, each for no longer than its own ctx allows, and share its
// result. An error is returned to those waiting for it, not kept.
func Cached(p Provider) Provider {
	return newCache(p, time.Now)
}

type cache struct {
	p   Provider
	now func() time.Time

	mu     sync.Mutex
	creds  Credentials
	valid  bool
	flight *fetch // nil: no fetch under way
}

// fetch is one call of the provider; done is closed when it has returned.
type fetch struct {
	done  chan struct{}
	creds Credentials
	err   error
	// callerGone says that the error came from the ctx of the caller that
	// ran the fetch: the others try again rather than share it.
	callerGone bool
}

func newCache(p Provider, now func() time.Time) *cache {
	return &cache{p: p, now: now}
}

// fresh says whether c can still be handed out at t.
func fresh(c Credentials, t time.Time) bool {
	return c.Expires.IsZero() || t.Before(c.Expires.Add(-expiryWindow))
}

// Retrieve gives the cached credentials, or fetches them.
func (c *cache) Retrieve(ctx context.Context) (Credentials, error) {
	for {
		c.mu.Lock()
		if c.valid && fresh(c.creds, c.now()) {
			creds := c.creds
			c.mu.Unlock()
			return creds, nil
		}
		if f := c.flight; f != nil {
			c.mu.Unlock()
			select {
			case <-ctx.Done():
				return Credentials{}, ctx.Err()
			case <-f.done:
			}
			if f.callerGone {
				continue
			}
			return f.creds, f.err
		}
		f := &fetch{done: make(chan struct{})}
		c.flight = f
		c.mu.Unlock()
		return c.run(ctx, f)
	}
}

// errProviderPanicked is what those waiting for a fetch get when the
// provider panicked (the panic goes on up the fetching caller's stack).
var errProviderPanicked = errors.New("the AWS credentials provider panicked")

// run calls the provider for f and publishes its result.
func (c *cache) run(ctx context.Context, f *fetch) (Credentials, error) {
	f.err = errProviderPanicked
	defer c.finish(ctx, f)
	f.creds, f.err = c.p.Retrieve(ctx)
	return f.creds, f.err
}

// finish publishes f's result: it keeps credentials, and lets the waiters
// go.
func (c *cache) finish(ctx context.Context, f *fetch) {
	c.mu.Lock()
	if f.err == nil {
		c.creds, c.valid = f.creds, true
	}
	c.flight = nil
	c.mu.Unlock()
	f.callerGone = f.err != nil && ctx.Err() != nil &&
		(errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded))
	close(f.done)
}
