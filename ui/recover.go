package ui

import (
	"context"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect/kernel"
)

// The session builds its kernel engine on first use, and for a dump
// without a VMCOREINFO note (QEMU without -device vmcoreinfo, a note that
// was lost) that first use searches every stored frame for the VMCOREINFO
// text (inspect.Options.Recover): seconds on a large dump. Whichever job
// asks first pays for it; the search reports through a Progress the root
// shows in the status line, and esc stops it wherever the user is.

// Progress relays the progress of the session's search of memory for
// VMCOREINFO (inspect.Options.RecoverProgress is its Report) to the UI:
// the root listens for its reports and shows them in the status line. It
// samples the reports as jobs do, so no timer runs.
type Progress struct {
	mu          sync.Mutex
	done, total uint64
	last        time.Time
	ready       chan struct{} // holds one token while a report waits to be shown
}

// NewProgress returns a relay; give its Report to the session's options
// and the relay itself to Options.VMCoreInfoSearch.
func NewProgress() *Progress { return &Progress{ready: make(chan struct{}, 1)} }

// Report records how many frames were searched of how many; it never
// blocks.
func (p *Progress) Report(done, total uint64) {
	p.mu.Lock()
	now := time.Now()
	if done < total && now.Sub(p.last) < 40*time.Millisecond {
		p.mu.Unlock()
		return
	}
	p.done, p.total, p.last = done, total, now
	p.mu.Unlock()
	select {
	case p.ready <- struct{}{}:
	default: // a report is waiting already; it will read the new values
	}
}

// finish marks the search over (done, cancelled or failed).
func (p *Progress) finish() {
	p.mu.Lock()
	active := p.done < p.total
	p.done = p.total
	p.mu.Unlock()
	if active {
		select {
		case p.ready <- struct{}{}:
		default:
		}
	}
}

// searchMsg is the search's progress as the root shows it.
type searchMsg struct{ done, total uint64 }

// wait returns the next report, or nil once ctx ends.
func (p *Progress) wait(ctx context.Context) tea.Cmd {
	return func() tea.Msg {
		select {
		case <-p.ready:
			p.mu.Lock()
			defer p.mu.Unlock()
			return searchMsg{p.done, p.total}
		case <-ctx.Done():
			return nil
		}
	}
}

// builds are the contexts of the engine calls waiting for the engine to
// be built, so that esc stops a search whichever job started it.
type builds struct {
	mu     sync.Mutex
	next   uint64
	cancel map[uint64]context.CancelFunc
}

func (b *builds) add(cancel context.CancelFunc) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cancel == nil {
		b.cancel = map[uint64]context.CancelFunc{}
	}
	b.next++
	b.cancel[b.next] = cancel
	return b.next
}

func (b *builds) remove(id uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.cancel, id)
}

// stop cancels every waiting call; it reports whether there was one.
func (b *builds) stop() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.cancel {
		c()
	}
	return len(b.cancel) > 0
}

// kernel returns the engine, or why it cannot run on this dump (not x86,
// not little-endian). The first call builds it, which may search memory
// for VMCOREINFO: under ctx, and under a context esc cancels (a search
// cancelled is not kept: the next call searches again). Call it only from
// commands and jobs.
func (c *Common) kernel(ctx context.Context) (*kernel.Kernel, error) {
	if _, built := c.S.VMCoreInfoOrigin(); built {
		return c.S.KernelContext(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	id := c.builds.add(cancel)
	defer c.builds.remove(id)
	k, err := c.S.KernelContext(ctx)
	if c.Search != nil {
		c.Search.finish()
	}
	return k, err
}
