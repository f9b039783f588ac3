package ui

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
)

// Long work (the flattened index, the minimap's page runs, verify, find)
// runs as a job: a goroutine with its own context, reporting progress and
// its result as messages. The owner keeps the *job, re-arms job.wait after
// every progress message and cancels through job.cancel (esc).

var jobSeq atomic.Uint64

// jobFunc does the work; it calls progress now and then and returns its
// result.
type jobFunc func(ctx context.Context, progress func(done, total uint64)) (any, error)

// job is one run of a jobFunc.
type job struct {
	id         uint64
	name       string
	cancel     context.CancelFunc
	progress   chan jobProgressMsg
	done       chan jobDoneMsg
	doneN, tot uint64
	finished   bool
}

// jobProgressMsg reports how far a job got.
type jobProgressMsg struct {
	id          uint64
	done, total uint64
}

// jobDoneMsg carries a job's result; err is context.Canceled when it was
// cancelled.
type jobDoneMsg struct {
	id  uint64
	val any
	err error
}

// startJob starts fn under a context derived from parent and returns the
// job and the command that waits for its first message.
func startJob(parent context.Context, name string, fn jobFunc) (*job, tea.Cmd) {
	ctx, cancel := context.WithCancel(parent)
	j := &job{
		id: jobSeq.Add(1), name: name, cancel: cancel,
		progress: make(chan jobProgressMsg, 1),
		done:     make(chan jobDoneMsg, 1),
	}
	go func() {
		// Progress is sampled: a message at most every 40 ms, never
		// blocking (a stale one in the channel is replaced), never going
		// backwards. fn may report from several goroutines (verify's
		// workers), hence the lock.
		var mu sync.Mutex
		var last time.Time
		var shown uint64
		report := func(done, total uint64) {
			mu.Lock()
			defer mu.Unlock()
			now := time.Now()
			if done < shown || (now.Sub(last) < 40*time.Millisecond && done != total) {
				return
			}
			last, shown = now, done
			select {
			case <-j.progress:
			default:
			}
			select {
			case j.progress <- jobProgressMsg{id: j.id, done: done, total: total}:
			default:
			}
		}
		val, err := fn(ctx, report)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		cancel()
		j.done <- jobDoneMsg{id: j.id, val: val, err: err}
	}()
	return j, j.wait
}

// wait returns the job's next message: progress, or the result once it is
// done (the result wins when both are ready).
func (j *job) wait() tea.Msg {
	select {
	case d := <-j.done:
		return d
	default:
	}
	select {
	case d := <-j.done:
		return d
	case p := <-j.progress:
		return p
	}
}

// running reports whether the job exists and has not finished.
func (j *job) running() bool { return j != nil && !j.finished }

// update records a message of this job and returns the command to keep
// listening (nil once it is done). ok is false when the message belongs to
// another job.
func (j *job) update(msg tea.Msg) (cmd tea.Cmd, ok bool) {
	if j == nil {
		return nil, false
	}
	switch m := msg.(type) {
	case jobProgressMsg:
		if m.id != j.id {
			return nil, false
		}
		j.doneN, j.tot = m.done, m.total
		return j.wait, true
	case jobDoneMsg:
		if m.id != j.id {
			return nil, false
		}
		j.finished = true
		return nil, true
	}
	return nil, false
}

// follow is update for an owner that acts on the job's result: it returns
// the command that keeps listening or, once the job is done, what done
// makes of its result. ok is false when the message belongs to another
// job.
func (j *job) follow(msg tea.Msg, done func(jobDoneMsg) tea.Cmd) (cmd tea.Cmd, ok bool) {
	cmd, ok = j.update(msg)
	if d, isDone := msg.(jobDoneMsg); ok && isDone {
		return done(d), true
	}
	return cmd, ok
}

// jobDone pairs a job with what its owner does with its result, for
// followJobs.
type jobDone struct {
	j    *job
	done func(jobDoneMsg) tea.Cmd
}

// followJobs gives msg to the first of an owner's jobs it belongs to (see
// follow); ok is false when it belongs to none of them.
func followJobs(msg tea.Msg, jobs ...jobDone) (cmd tea.Cmd, ok bool) {
	for _, f := range jobs {
		if cmd, ok = f.j.follow(msg, f.done); ok {
			return cmd, true
		}
	}
	return nil, false
}

// readJob is the job of a view that reads its content once (the tasks, the
// log, the crash analysis): started when the view is first shown, and
// again when it is shown after esc cancelled the read.
type readJob struct {
	*job
	cancelled bool // the last read was cancelled: the view says so
}

// start starts fn as the read unless one is running.
func (r *readJob) start(c *Common, name string, fn jobFunc) tea.Cmd {
	if r.running() {
		return nil
	}
	r.cancelled = false
	var cmd tea.Cmd
	r.job, cmd = startJob(c.Ctx, name, fn)
	return cmd
}

// cancelled reports whether the job ended because it was cancelled.
func (d jobDoneMsg) cancelled() bool { return errors.Is(d.err, context.Canceled) }

// stop cancels the job; its done message still arrives.
func (j *job) stop() bool {
	if !j.running() {
		return false
	}
	j.cancel()
	return true
}

// percent is how far the job got, 0..100.
func (j *job) percent() float64 {
	if j == nil || j.tot == 0 {
		return 0
	}
	return 100 * float64(j.doneN) / float64(j.tot)
}

// progressBar draws w cells of a bar without colour: "[#####.....]".
func progressBar(pct float64, w int) string {
	if w < 3 {
		return ""
	}
	in := w - 2
	n := int(pct / 100 * float64(in))
	n = clamp(n, 0, in)
	b := make([]byte, 0, w)
	b = append(b, '[')
	for i := 0; i < in; i++ {
		if i < n {
			b = append(b, '#')
		} else {
			b = append(b, '.')
		}
	}
	return string(append(b, ']'))
}
