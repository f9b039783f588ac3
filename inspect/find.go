package inspect

import (
	"bytes"
	"context"
	"errors"
	"runtime"

	"dumpscope/model"
	"dumpscope/reader"
)

// FindOptions configure Find.
type FindOptions struct {
	// From is the first frame to search.
	From model.PFN
	// Max stops the search after this many hits (0: no limit).
	Max int
	// Progress, if not nil, is called now and then with frames searched
	// and frames to search.
	Progress func(done, total uint64)
	// Jobs is the number of goroutines that read and search stored frames
	// (at most MaxJobs); 0 means one per CPU. Hits come in address order
	// whatever the number.
	Jobs int
}

// Find searches the readable pages of physical memory for pattern, in
// ascending address order, and calls hit for each match until it returns
// false. Matches that cross from one page into the next are found when
// both pages are readable. Pages that cannot be read are skipped.
//
// Zero-fill frames (ELF p_memsz beyond p_filesz) are zeros by definition
// and are never read: a run of them costs one step whatever its length,
// unless the pattern itself is all zeros, when every offset in it matches
// and the work is the hits'.
func Find(ctx context.Context, d reader.Dump, pattern []byte, opts FindOptions, hit func(model.SearchHit) bool) error {
	if len(pattern) == 0 {
		return errors.New("empty search pattern")
	}
	info := d.Info()
	ps := info.PageSize
	if int64(len(pattern)) > ps {
		return errors.New("search pattern is longer than a page")
	}
	s := newSearcher(pattern, uint64(ps), opts.Max, hit)
	total := uint64(info.MaxPFN)
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	jobs = min(jobs, MaxJobs)
	var err error
	if jobs == 1 {
		err = s.serial(ctx, d, opts, total)
	} else {
		err = s.parallel(ctx, d, opts, total, jobs)
	}
	if s.stopped {
		return nil
	}
	if err == nil {
		err = ctx.Err()
	}
	if opts.Progress != nil && err == nil {
		opts.Progress(total, total)
	}
	return err
}

func newSearcher(pattern []byte, ps uint64, max int, hit func(model.SearchHit) bool) *searcher {
	s := &searcher{pattern: pattern, ps: ps, max: max, hit: hit,
		zeros:  make([]byte, ps),
		window: make([]byte, 0, int(ps)+len(pattern)-1), tail: make([]byte, 0, len(pattern))}
	s.zeroPattern = bytes.Count(pattern, []byte{0}) == len(pattern)
	return s
}

// serial searches with one goroutine; total is the dump's frame count,
// for progress.
func (s *searcher) serial(ctx context.Context, d reader.Dump, opts FindOptions, total uint64) error {
	var readErr error
	err := d.Runs(ctx, opts.From, false, func(r model.PageRun) bool {
		switch {
		case r.State == model.StateZeroFill && !s.zeroPattern:
			if !s.zeroRun(r) {
				return false
			}
			if opts.Progress != nil {
				opts.Progress(uint64(r.End()), total)
			}
			return ctx.Err() == nil
		case r.State != model.StatePresent && r.State != model.StateZeroFill:
			s.havePrev = false
			return true
		}
		for off := uint64(0); off < r.Count; {
			start := r.Start + model.PFN(off)
			n := min(r.Count-off, findChunk)
			off += n
			if ctx.Err() != nil {
				return false
			}
			if opts.Progress != nil {
				opts.Progress(uint64(start), total)
			}
			if r.State != model.StatePresent {
				if !s.zeroFrames(start, n) {
					return false
				}
				continue
			}
			if readErr = s.frames(ctx, d, start, n, nil); readErr != nil || s.stopped {
				return false
			}
		}
		return true
	})
	if readErr != nil {
		return readErr
	}
	return err
}

// zeroRun steps over a run of zero-fill frames for a pattern that is not
// all zeros: only a match that starts in the previous page's tail can end
// in these zeros. It returns false once the search must stop.
func (s *searcher) zeroRun(r model.PageRun) bool {
	if !s.search(r.Start, s.zeros[:len(s.pattern)-1]) {
		return false
	}
	s.tail = append(s.tail[:0], s.zeros[:len(s.pattern)-1]...)
	s.prevPFN, s.havePrev = r.End()-1, true
	return true
}

// zeroFrames searches n zero-fill frames from start one by one, for a
// pattern of zeros (every offset matches).
func (s *searcher) zeroFrames(start model.PFN, n uint64) bool {
	for pfn := start; pfn < start+model.PFN(n); pfn++ {
		if !s.next(pfn, s.zeros) {
			return false
		}
	}
	return true
}

// frames reads and searches n stored frames from start. Stored frames
// are read through ReadRange, which reads runs in large pieces (a
// megabyte of kdump images or ELF pages at a time) instead of one read
// per page; chunks of findChunk frames keep cancelling and progress
// prompt. A frame that cannot be read is skipped. first, if not nil, is
// given the first frame when it reads (a parallel Find keeps its head).
func (s *searcher) frames(ctx context.Context, d reader.Dump, start model.PFN, n uint64, first func(page []byte)) error {
	pfn := start
	return d.ReadRange(ctx, start, n, reader.ReadOptions{}, func(_ model.PageInfo, page []byte, err error) bool {
		this := pfn
		pfn++
		if this == start && err == nil && first != nil {
			first(page)
		}
		if err != nil {
			s.havePrev = false
			return true
		}
		return s.next(this, page)
	})
}

// searcher is the state of one Find: the pattern, and the tail of the
// previous readable page, so that matches across a page boundary show.
type searcher struct {
	pattern     []byte
	zeroPattern bool // every byte of the pattern is zero
	ps          uint64
	max         int
	hit         func(model.SearchHit) bool

	zeros    []byte
	window   []byte // the previous page's tail, then the bytes searched
	tail     []byte // the last len(pattern)-1 bytes of the previous page
	prevPFN  model.PFN
	havePrev bool
	found    int
	stopped  bool
}

// findChunk is how many frames Find asks ReadRange for at a time.
const findChunk = 256

// next searches page, frame pfn, and keeps its tail for the next frame. It
// returns false once the search must stop.
func (s *searcher) next(pfn model.PFN, page []byte) bool {
	if !s.search(pfn, page) {
		return false
	}
	s.tail = append(s.tail[:0], page[len(page)-(len(s.pattern)-1):]...)
	s.prevPFN, s.havePrev = pfn, true
	return true
}

// search looks for the pattern in data, the first bytes of frame pfn,
// joined to the previous page's tail when that page is pfn-1. It returns
// false once the search must stop.
func (s *searcher) search(pfn model.PFN, data []byte) bool {
	s.window = s.window[:0]
	carry := 0
	if s.havePrev && s.prevPFN+1 == pfn {
		carry = len(s.pattern) - 1
		s.window = append(s.window, s.tail[:carry]...)
	}
	s.window = append(s.window, data...)
	base := uint64(pfn)*s.ps - uint64(carry)
	for off := 0; ; {
		j := bytes.Index(s.window[off:], s.pattern)
		if j < 0 {
			return true
		}
		addr := base + uint64(off+j)
		if !s.emit(model.SearchHit{PFN: model.PFN(addr / s.ps), PhysAddr: model.PhysAddr(addr)}) {
			return false
		}
		off += j + 1
	}
}

// emit passes a hit on, and returns false once the search must stop.
func (s *searcher) emit(h model.SearchHit) bool {
	s.found++
	if !s.hit(h) || (s.max > 0 && s.found >= s.max) {
		s.stopped = true
		return false
	}
	return true
}
