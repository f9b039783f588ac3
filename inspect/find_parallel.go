package inspect

import (
	"context"
	"sync"

	"dumpscope/model"
	"dumpscope/reader"
)

// A parallel Find splits the frames to search into steps, in address
// order, as Runs finds them: chunks of findChunk stored frames, which
// workers read and search on their own, and the steps that need no
// reading (a run of zero-fill frames, frames without data). The calling
// goroutine takes the steps back in order and passes the hits on, so hits
// come in address order and hit is never called concurrently:
//
//   - a chunk's worker finds the matches that lie inside the chunk, and
//     keeps the first and last len(pattern)-1 bytes of the chunk;
//   - the caller finds the matches that cross from one step into the next
//     (the previous step's tail joined to the chunk's head), then passes
//     on the chunk's own matches, so the order is that of the serial
//     search.
//
// A chunk with more than maxChunkHits matches (a pattern of zeros in zero
// pages matches at every offset) is searched again by the caller, serially:
// memory stays bounded whatever the pattern.

// maxChunkHits bounds the matches a worker keeps for one chunk.
const maxChunkHits = 1024

// findStep is one step of a parallel Find.
type findStep struct {
	kind  findStepKind
	run   model.PageRun // stepZeroRun
	start model.PFN     // stepChunk, stepZeroFrames
	n     uint64
	// Set by the worker of a stepChunk before done is closed.
	res  chunkResult
	done chan struct{}
}

type findStepKind uint8

const (
	stepChunk      findStepKind = iota // stored frames, searched by a worker
	stepZeroRun                        // zero-fill frames, pattern not all zeros
	stepZeroFrames                     // zero-fill frames, pattern of zeros
	stepGap                            // frames without data: no match crosses them
)

// chunkResult is what a worker found in one chunk.
type chunkResult struct {
	hits     []model.SearchHit // matches inside the chunk, in order
	overflow bool              // more than maxChunkHits: search it again serially
	err      error             // ReadRange's error
	// head is the first len(pattern)-1 bytes of the chunk's first frame,
	// when it could be read (headOK); tail the last len(pattern)-1 bytes
	// of its last frame, when it could be read (tailOK).
	head, tail     []byte
	headOK, tailOK bool
}

// parallel searches with jobs goroutines reading and searching chunks;
// total is the dump's frame count, for progress.
func (s *searcher) parallel(ctx context.Context, d reader.Dump, opts FindOptions, total uint64, jobs int) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	// ordered carries every step, in order, to this goroutine; work carries
	// the chunks to the workers. ordered's capacity bounds the steps in
	// flight, hence memory.
	ordered := make(chan *findStep, 4*jobs)
	work := make(chan *findStep, 2*jobs)
	var runsErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ordered)
		defer close(work)
		runsErr = s.steps(ctx, d, opts.From, func(st *findStep) bool {
			select {
			case ordered <- st:
			case <-ctx.Done():
				return false
			}
			if st.kind != stepChunk {
				return true
			}
			select {
			case work <- st:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.newChunkSearcher()
			for st := range work {
				if ctx.Err() == nil {
					c.search(ctx, d, st)
				}
				close(st.done)
			}
		}()
	}

	for st := range ordered {
		if ctx.Err() != nil {
			break
		}
		if opts.Progress != nil {
			opts.Progress(uint64(st.start), total)
		}
		var more bool
		switch st.kind {
		case stepGap:
			s.havePrev, more = false, true
		case stepZeroRun:
			more = s.zeroRun(st.run)
		case stepZeroFrames:
			more = s.zeroFrames(st.start, st.n)
		case stepChunk:
			select {
			case <-st.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if st.res.err != nil {
				return st.res.err
			}
			if st.res.overflow {
				if err := s.frames(ctx, d, st.start, st.n, nil); err != nil {
					return err
				}
				more = !s.stopped
			} else {
				more = s.join(st.start, st.n, &st.res)
			}
		}
		if !more {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return runsErr
}

// steps walks the frames from `from` in order and hands each step to
// emit, until emit returns false.
func (s *searcher) steps(ctx context.Context, d reader.Dump, from model.PFN, emit func(*findStep) bool) error {
	return d.Runs(ctx, from, false, func(r model.PageRun) bool {
		switch {
		case r.State == model.StateZeroFill && !s.zeroPattern:
			return emit(&findStep{kind: stepZeroRun, run: r, start: r.Start})
		case r.State != model.StatePresent && r.State != model.StateZeroFill:
			return emit(&findStep{kind: stepGap, start: r.Start})
		}
		kind := stepChunk
		if r.State != model.StatePresent {
			kind = stepZeroFrames
		}
		for off := uint64(0); off < r.Count; {
			n := min(r.Count-off, findChunk)
			st := &findStep{kind: kind, start: r.Start + model.PFN(off), n: n}
			if kind == stepChunk {
				st.done = make(chan struct{})
			}
			off += n
			if !emit(st) {
				return false
			}
		}
		return true
	})
}

// chunkSearcher is a worker's searcher, reused from chunk to chunk.
type chunkSearcher struct {
	w   *searcher
	res *chunkResult // the chunk being searched
}

func (s *searcher) newChunkSearcher() *chunkSearcher {
	c := &chunkSearcher{}
	c.w = newSearcher(s.pattern, s.ps, 0, func(h model.SearchHit) bool {
		if len(c.res.hits) == maxChunkHits {
			c.res.overflow = true
			return false
		}
		c.res.hits = append(c.res.hits, h)
		return true
	})
	return c
}

// search reads and searches a chunk's frames on their own: the matches
// inside them, and their head and tail for the caller to join.
func (c *chunkSearcher) search(ctx context.Context, d reader.Dump, st *findStep) {
	res := &st.res
	c.res = res
	c.w.havePrev, c.w.stopped = false, false
	keep := len(c.w.pattern) - 1
	res.err = c.w.frames(ctx, d, st.start, st.n, func(page []byte) {
		res.head, res.headOK = append([]byte(nil), page[:keep]...), true
	})
	// The searcher keeps the tail of the last frame it searched.
	if last := st.start + model.PFN(st.n) - 1; c.w.havePrev && c.w.prevPFN == last {
		res.tail, res.tailOK = append([]byte(nil), c.w.tail...), true
	}
	if res.overflow {
		res.hits, res.head, res.tail = nil, nil, nil
	}
	c.res = nil
}

// join passes on the matches that cross into the chunk from the step
// before it, then the chunk's own, and keeps its tail. It returns false
// once the search must stop.
func (s *searcher) join(start model.PFN, n uint64, res *chunkResult) bool {
	if res.headOK && !s.search(start, res.head) {
		return false
	}
	for _, h := range res.hits {
		if !s.emit(h) {
			return false
		}
	}
	if res.tailOK {
		s.tail = append(s.tail[:0], res.tail...)
		s.prevPFN, s.havePrev = start+model.PFN(n)-1, true
	} else {
		s.havePrev = false
	}
	return true
}
