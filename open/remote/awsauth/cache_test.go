package awsauth

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingProvider counts its calls, each of which gives keys numbered by
// the call, lasting life (0: for ever), or err; with gate set, each call
// waits for a value on it first.
type countingProvider struct {
	calls   atomic.Int64
	running atomic.Int64 // calls under way
	overlap atomic.Bool  // two calls were under way at once
	now     func() time.Time
	life    time.Duration
	err     error
	gate    chan struct{}
}

func (p *countingProvider) Retrieve(ctx context.Context) (Credentials, error) {
	n := p.calls.Add(1)
	if p.running.Add(1) > 1 {
		p.overlap.Store(true)
	}
	defer p.running.Add(-1)
	if p.gate != nil {
		select {
		case <-p.gate:
		case <-ctx.Done():
			return Credentials{}, ctx.Err()
		}
	}
	if p.err != nil {
		return Credentials{}, p.err
	}
	c := Credentials{AccessKeyID: "key" + strconv.FormatInt(n, 10), SecretAccessKey: "secret"}
	if p.life != 0 {
		c.Expires = p.now().Add(p.life)
	}
	return c, nil
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestCachedExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	p := &countingProvider{now: clock.now, life: time.Hour}
	c := newCache(p, clock.now)
	ctx := context.Background()
	get := func(want string) {
		t.Helper()
		creds, err := c.Retrieve(ctx)
		if err != nil || creds.AccessKeyID != want {
			t.Fatalf("at %v: %q, %v; want %q", clock.now().Format("15:04:05"), creds.AccessKeyID, err, want)
		}
	}
	get("key1")
	get("key1")
	clock.advance(55*time.Minute - time.Second) // 5 min and 1 s before expiry
	get("key1")
	clock.advance(time.Second) // 5 min before: fetched again
	get("key2")
	get("key2")
	if n := p.calls.Load(); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}

	// Credentials that do not expire are kept for ever.
	p = &countingProvider{now: clock.now}
	c = newCache(p, clock.now)
	get("key1")
	clock.advance(1000 * time.Hour)
	get("key1")

	// Credentials that already are within the window are handed out, and
	// not kept.
	p = &countingProvider{now: clock.now, life: time.Minute}
	c = newCache(p, clock.now)
	get("key1")
	get("key2")
}

func TestCachedErrorNotKept(t *testing.T) {
	boom := errors.New("boom")
	p := &countingProvider{err: boom}
	c := Cached(p)
	for range 3 {
		if _, err := c.Retrieve(context.Background()); !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
	}
	if n := p.calls.Load(); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
	p.err = nil
	if creds, err := c.Retrieve(context.Background()); err != nil || creds.AccessKeyID != "key4" {
		t.Errorf("after the error: %+v, %v", creds, err)
	}
}

func TestCachedOneFetchAtATime(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	for _, fail := range []bool{false, true} {
		p := &countingProvider{now: clock.now, life: time.Hour, gate: make(chan struct{})}
		if fail {
			p.err = errors.New("no credentials here")
		}
		c := newCache(p, clock.now)
		const n = 64
		var wg sync.WaitGroup
		results := make(chan error, n)
		keys := make(chan string, n)
		for range n {
			wg.Go(func() {
				creds, err := c.Retrieve(context.Background())
				results <- err
				keys <- creds.AccessKeyID
			})
		}
		// Let the one call through once the others wait for it.
		for p.calls.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		close(p.gate)
		wg.Wait()
		close(results)
		close(keys)
		for err := range results {
			if (err != nil) != fail {
				t.Errorf("fail %v: err = %v", fail, err)
			}
		}
		for k := range keys {
			if !fail && k != "key1" {
				t.Errorf("key %q", k)
			}
		}
		if p.overlap.Load() {
			t.Errorf("fail %v: calls overlapped", fail)
		}
		if got := p.calls.Load(); got != 1 {
			t.Errorf("fail %v: %d calls, want 1", fail, got)
		}
	}
}

func TestCachedRace(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	p := &countingProvider{now: clock.now, life: 10 * time.Minute}
	c := newCache(p, clock.now)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				if g == 0 && i%20 == 0 {
					clock.advance(3 * time.Minute)
				}
				before := clock.now()
				creds, err := c.Retrieve(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if !fresh(creds, before) {
					t.Errorf("stale credentials %+v at %v", creds, clock.now())
					return
				}
			}
		})
	}
	wg.Wait()
	if p.overlap.Load() {
		t.Error("calls overlapped")
	}
	// 10 advances of 3 minutes; credentials last 10, are kept 5: a call
	// every other advance at most, and at least one per 10 minutes.
	if n := p.calls.Load(); n < 3 || n > 11 {
		t.Errorf("%d calls", n)
	}
}

func TestCachedWaiterContext(t *testing.T) {
	p := &countingProvider{gate: make(chan struct{})}
	c := Cached(p)
	fetcherDone := make(chan error, 1)
	go func() {
		_, err := c.Retrieve(context.Background())
		fetcherDone <- err
	}()
	for p.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// A waiter whose ctx ends gives up without waiting for the fetch.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Retrieve(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter: %v", err)
	}
	close(p.gate)
	if err := <-fetcherDone; err != nil {
		t.Errorf("fetcher: %v", err)
	}
	if n := p.calls.Load(); n != 1 {
		t.Errorf("%d calls", n)
	}
}

func TestCachedFetcherContext(t *testing.T) {
	// The fetching caller's ctx ends: it gets the ctx's error, and a
	// waiter fetches for itself rather than share that error.
	p := &countingProvider{gate: make(chan struct{})}
	c := Cached(p)
	ctx, cancel := context.WithCancel(context.Background())
	fetcherDone := make(chan error, 1)
	go func() {
		_, err := c.Retrieve(ctx)
		fetcherDone <- err
	}()
	for p.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	waiterDone := make(chan error, 1)
	go func() {
		creds, err := c.Retrieve(context.Background())
		if err == nil && creds.AccessKeyID != "key2" {
			err = errors.New("got " + creds.AccessKeyID)
		}
		waiterDone <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-fetcherDone; !errors.Is(err, context.Canceled) {
		t.Errorf("fetcher: %v", err)
	}
	close(p.gate)
	if err := <-waiterDone; err != nil {
		t.Errorf("waiter: %v", err)
	}
}

func TestCachedPanic(t *testing.T) {
	c := Cached(panicProvider{})
	func() {
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		_, _ = c.Retrieve(context.Background())
	}()
	// Nothing was kept, and no fetch is left under way.
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = recover() }()
		_, _ = c.Retrieve(context.Background())
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("second call hangs")
	}
}

type panicProvider struct{}

func (panicProvider) Retrieve(context.Context) (Credentials, error) { panic("provider bug") }
