package reader

import "dumpscope/model"

// RunWriter merges adjacent runs of the same state (and zero-page flag)
// before passing them on, so that readers can produce runs piece by piece.
type RunWriter struct {
	Yield   func(model.PageRun) bool
	cur     model.PageRun
	stopped bool
}

// Add adds a run; it returns false once Yield has asked to stop.
func (w *RunWriter) Add(r model.PageRun) bool {
	if w.stopped || r.Count == 0 {
		return !w.stopped
	}
	if w.cur.Count > 0 && w.cur.State == r.State && w.cur.ZeroPage == r.ZeroPage && w.cur.End() == r.Start {
		w.cur.Count += r.Count
		return true
	}
	if w.cur.Count > 0 && !w.Yield(w.cur) {
		w.stopped = true
		return false
	}
	w.cur = r
	return true
}

// Flush passes on the last run.
func (w *RunWriter) Flush() {
	if !w.stopped && w.cur.Count > 0 {
		w.Yield(w.cur)
		w.cur = model.PageRun{}
	}
}
