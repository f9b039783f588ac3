package inspect

import (
	"bytes"
	"context"
	"errors"

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
}

// Find searches the readable pages of physical memory for pattern, in
// ascending address order, and calls hit for each match until it returns
// false. Matches that cross from one page into the next are found when
// both pages are readable. Pages that cannot be read are skipped.
func Find(ctx context.Context, d reader.Dump, pattern []byte, opts FindOptions, hit func(model.SearchHit) bool) error {
	if len(pattern) == 0 {
		return errors.New("empty search pattern")
	}
	info := d.Info()
	ps := info.PageSize
	if int64(len(pattern)) > ps {
		return errors.New("search pattern is longer than a page")
	}
	total := uint64(info.MaxPFN)
	page := make([]byte, ps)
	// window holds the tail of the previous page (len(pattern)-1 bytes)
	// followed by the current page, so matches across the boundary show.
	window := make([]byte, 0, int(ps)+len(pattern)-1)
	var prevPFN model.PFN
	havePrev := false
	tail := make([]byte, 0, len(pattern))
	found := 0
	var stop bool
	err := d.Runs(ctx, opts.From, false, func(r model.PageRun) bool {
		if r.State != model.StatePresent && r.State != model.StateZeroFill {
			havePrev = false
			return true
		}
		for i := uint64(0); i < r.Count; i++ {
			pfn := r.Start + model.PFN(i)
			if i&0xff == 0 {
				if ctx.Err() != nil {
					return false
				}
				if opts.Progress != nil {
					opts.Progress(uint64(pfn), total)
				}
			}
			if _, err := d.ReadPage(pfn, page, reader.ReadOptions{}); err != nil {
				havePrev = false
				continue
			}
			window = window[:0]
			carry := 0
			if havePrev && prevPFN+1 == pfn {
				carry = len(pattern) - 1
				window = append(window, tail[:carry]...)
			}
			window = append(window, page...)
			base := uint64(pfn)*uint64(ps) - uint64(carry)
			for off := 0; ; {
				j := bytes.Index(window[off:], pattern)
				if j < 0 {
					break
				}
				addr := base + uint64(off+j)
				found++
				if !hit(model.SearchHit{PFN: model.PFN(addr / uint64(ps)), PhysAddr: model.PhysAddr(addr)}) || (opts.Max > 0 && found >= opts.Max) {
					stop = true
					return false
				}
				off += j + 1
			}
			tail = append(tail[:0], page[int(ps)-(len(pattern)-1):]...)
			prevPFN, havePrev = pfn, true
		}
		return true
	})
	if stop {
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
