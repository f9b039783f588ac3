package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"
)

// progress draws the progress of long work (verify, find, rearrange,
// pages) on one line of stderr, at most five times a second, and only when
// stderr is a terminal: in a pipe or a file it would be noise, so there it
// draws nothing. Its methods are safe for concurrent use (verify's workers
// report from several goroutines) and do nothing on a nil *progress.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	unit  string
	last  time.Time
	drawn bool
}

// newProgress returns the progress line of label ("verifying"), counting
// unit ("pages", "bytes"), or nil when stderr is not a terminal.
func newProgress(label, unit string) *progress {
	if !showProgress(os.Stderr) {
		return nil
	}
	return &progress{w: os.Stderr, label: label, unit: unit}
}

// showProgress decides whether progress is drawn on f: only on a terminal.
func showProgress(f *os.File) bool { return isTerminal(f) }

// isTerminal reports whether f is a terminal: one that answers a
// terminal's ioctl, not any character device (/dev/null is one too, and
// rearrange IN - > /dev/null must not be refused as a terminal).
func isTerminal(f *os.File) bool { return term.IsTerminal(f.Fd()) }

// update redraws the line with done of total (total 0: unknown).
func (p *progress) update(done, total uint64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.last) < 200*time.Millisecond {
		return
	} else {
		p.last = now
	}
	if total > 0 {
		fmt.Fprintf(p.w, "\r\033[K%s: %.0f%% (%d of %d %s)", p.label, 100*float64(min(done, total))/float64(total), done, total, p.unit)
	} else {
		fmt.Fprintf(p.w, "\r\033[K%s: %d %s", p.label, done, p.unit)
	}
	p.drawn = true
}

// updater adapts update to the int64 callbacks of indexing and copying.
func (p *progress) updater() func(done, total int64) {
	return func(done, total int64) { p.update(uint64(max(done, 0)), uint64(max(total, 0))) }
}

// print runs write, which writes output lines to out, with the progress
// line out of their way: erased first, out flushed after, redrawn by the
// next update. Without a progress line it only runs write.
func (p *progress) print(out *bufio.Writer, write func()) {
	if p == nil {
		write()
		return
	}
	p.clear()
	p.mu.Lock()
	defer p.mu.Unlock()
	write()
	out.Flush()
}

// clear erases the line, if one was drawn.
func (p *progress) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}
