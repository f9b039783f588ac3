package ui

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/reader"
)

// findState is the Memory view's search: the pattern, the job looking for
// the next match, and the matches found so far (for N, since
// reader.Find only searches forward), with the kernel virtual address of
// each where the triage engine gives one.
type findState struct {
	pattern []byte
	label   string
	job     *job
	hits    []uint64 // ascending
	vaddrs  map[uint64]model.VirtAddr
	hit     uint64 // the match on show
	haveHit bool
}

// findResult is what a find job returns.
type findResult struct {
	addr    uint64
	found   bool
	wrapped bool // found before from, after wrapping around to the start
	from    uint64
	vaddr   *model.VirtAddr // where the kernel's direct map has it
}

// startFind looks for pattern from address `from` on (inclusive) to the
// end of physical memory, then wraps around: from the start up to from.
func (m *memoryView) startFind(pattern []byte, label string, from uint64) (tea.Cmd, error) {
	if len(pattern) == 0 {
		return nil, errors.New("nothing to find")
	}
	if uint64(len(pattern)) > m.ps {
		return nil, fmt.Errorf("the pattern is longer than a page (%d bytes)", m.ps)
	}
	if !slices.Equal(pattern, m.find.pattern) {
		m.find.hits, m.find.vaddrs, m.find.haveHit = nil, map[uint64]model.VirtAddr{}, false
	}
	m.find.job.stop()
	m.find.pattern, m.find.label = pattern, label
	c, s, ps, maxPFN := m.c, m.c.S, m.ps, uint64(m.c.Info.MaxPFN)
	var cmd tea.Cmd
	m.find.job, cmd = startJob(m.c.Ctx, "find", func(ctx context.Context, progress func(done, total uint64)) (any, error) {
		// The session names hits by their kernel virtual address once the
		// engine is built: build it here, where esc stops a search of
		// memory for VMCOREINFO (a dump the engine cannot read is found
		// in all the same).
		if _, err := c.kernel(ctx); errors.Is(err, context.Canceled) {
			return nil, err
		}
		return wrapFind(ctx, s, pattern, from, ps, maxPFN, progress)
	})
	return cmd, nil
}

// wrapFind finds the first match at or after from, else the first one
// before it: two passes of Session.Find, the second from the start,
// stopped once it reaches the frame where the first began. Progress counts
// frames over both passes.
func wrapFind(ctx context.Context, s *inspect.Session, pattern []byte, from, ps, maxPFN uint64, progress func(done, total uint64)) (findResult, error) {
	res := findResult{from: from}
	start := from / ps
	take := func(h model.SearchHit) bool {
		res.addr, res.found, res.vaddr = uint64(h.PhysAddr), true, h.VirtAddr
		return false
	}
	first := inspect.FindOptions{From: model.PFN(start), Progress: func(done, total uint64) { progress(done-min(done, start), total) }}
	err := s.Find(ctx, pattern, first, func(h model.SearchHit) bool {
		return uint64(h.PhysAddr) < from || take(h)
	})
	if err != nil || res.found || start == 0 {
		return res, err
	}
	pass, stop := context.WithCancel(ctx)
	defer stop()
	second := inspect.FindOptions{Progress: func(done, total uint64) {
		if done > start {
			stop() // past where the first pass began: every frame is searched
		}
		progress(maxPFN-start+min(done, start), total)
	}}
	err = s.Find(pass, pattern, second, func(h model.SearchHit) bool {
		return uint64(h.PhysAddr) < from && take(h)
	})
	res.wrapped = res.found
	if ctx.Err() == nil && errors.Is(err, context.Canceled) {
		err = nil
	}
	return res, err
}

// findNext looks for the next match after the one on show (or the
// cursor).
func (m *memoryView) findNext() (tea.Cmd, error) {
	if m.find.pattern == nil {
		return nil, errors.New("no find yet: use :find TEXT, :findhex HEX or /")
	}
	from := m.cur + 1
	if m.find.haveHit && m.find.hit == m.cur {
		from = m.find.hit + 1
	}
	return m.startFind(m.find.pattern, m.find.label, from)
}

// findPrev goes back to the closest match before the cursor found so far.
func (m *memoryView) findPrev() tea.Cmd {
	i, _ := slices.BinarySearch(m.find.hits, m.cur)
	if i == 0 {
		return status("no earlier match found so far: searches run forward (g, then n, starts over)")
	}
	m.showHit(m.find.hits[i-1])
	return m.ensure()
}

func (m *memoryView) findDone(d jobDoneMsg) tea.Cmd {
	if d.err != nil {
		if d.cancelled() {
			return status("find cancelled")
		}
		return errorCmd(fmt.Errorf("find: %w", d.err))
	}
	res, _ := d.val.(findResult)
	if !res.found {
		return status(fmt.Sprintf("no match for %s in physical memory", m.find.label))
	}
	if i, ok := slices.BinarySearch(m.find.hits, res.addr); !ok {
		m.find.hits = slices.Insert(m.find.hits, i, res.addr)
	}
	where := ""
	if res.vaddr != nil {
		m.find.vaddrs[res.addr] = *res.vaddr
		where = ", vaddr " + res.vaddr.String()
	}
	if res.wrapped {
		where += "; wrapped around to the start"
	}
	m.showHit(res.addr)
	return tea.Batch(m.ensure(), status(fmt.Sprintf("%s at phys %#x (pfn %#x%s); n: next, N: previous",
		m.find.label, res.addr, res.addr/m.ps, where)))
}

// hitLabel names the match on show for the hex pane's title: the pattern,
// and the kernel virtual address of the match when the engine gave one.
func (m *memoryView) hitLabel() string {
	if va, ok := m.find.vaddrs[m.find.hit]; ok {
		return m.find.label + " at vaddr " + va.String()
	}
	return m.find.label
}

// showHit moves the cursor to a match, its row in the middle of the hex
// pane so that what comes before and after it shows.
func (m *memoryView) showHit(addr uint64) {
	m.moved, m.focusMap = true, false
	m.find.hit, m.find.haveHit = addr, true
	m.cur = addr
	m.centre(addr)
}

// centre scrolls so that addr's row is in the middle of the hex pane.
func (m *memoryView) centre(addr uint64) {
	above := uint64(max(m.g.hexRows-1, 0)/2) * uint64(m.g.bpr)
	m.top = m.rowOf(addr) - min(m.rowOf(addr), above)
	m.clampTop()
}

// inMatch reports whether an address is part of the match on show.
func (m *memoryView) inMatch(a uint64) bool {
	return m.find.haveHit && a >= m.find.hit && a < m.find.hit+uint64(len(m.find.pattern))
}

// seekResult is what a run jump returns.
type seekResult struct {
	pfn   model.PFN
	found bool
	next  bool
}

// startSeek jumps to the start of the next run, or of the run holding the
// cursor (the previous one when already at its start).
func (m *memoryView) startSeek(next bool) tea.Cmd {
	m.seek.stop()
	d, from, maxPFN := m.c.S.Dump(), m.curPFN(), uint64(m.c.Info.MaxPFN)
	var cmd tea.Cmd
	m.seek, cmd = startJob(m.c.Ctx, "run", func(ctx context.Context, progress func(done, total uint64)) (any, error) {
		if next {
			pfn, ok, err := nextRun(ctx, d, from, maxPFN, progress)
			return seekResult{pfn, ok, true}, err
		}
		pfn, ok, err := prevRun(ctx, d, from, progress)
		return seekResult{pfn, ok, false}, err
	})
	return cmd
}

func (m *memoryView) seekDone(d jobDoneMsg) tea.Cmd {
	if d.err != nil {
		if d.cancelled() {
			return status("run search cancelled")
		}
		return errorCmd(d.err)
	}
	r, _ := d.val.(seekResult)
	if !r.found {
		if r.next {
			return status("this is the last run")
		}
		return status("this is the first run")
	}
	m.moved = true
	m.jump(uint64(r.pfn) * m.ps)
	return m.ensure()
}

// nextRun returns the first frame after from whose state differs from the
// run holding from.
func nextRun(ctx context.Context, d reader.Dump, from model.PFN, maxPFN uint64, progress func(done, total uint64)) (model.PFN, bool, error) {
	var out model.PFN
	found, first := false, true
	err := d.Runs(ctx, from, false, func(r model.PageRun) bool {
		if first {
			first = false
			progress(uint64(r.End()), maxPFN)
			return true
		}
		out, found = r.Start, true
		return false
	})
	return out, found, err
}

// prevRun returns the start of the run holding from, or of the run before
// when from starts one. Runs only walks forward, so it scans windows before
// from that double in size until a run boundary shows.
func prevRun(ctx context.Context, d reader.Dump, from model.PFN, progress func(done, total uint64)) (model.PFN, bool, error) {
	target := uint64(from)
	for window := uint64(1024); ; window *= 2 {
		start := target - min(window, target)
		best, found := uint64(0), false
		first := true
		err := d.Runs(ctx, model.PFN(start), false, func(r model.PageRun) bool {
			s := uint64(r.Start)
			if s >= target {
				return false
			}
			// The first run is cut at start unless start is 0.
			if !first || start == 0 {
				best, found = s, true
			}
			first = false
			return true
		})
		if err != nil {
			return 0, false, err
		}
		progress(min(window, target), target)
		if found || start == 0 {
			return model.PFN(best), found, nil
		}
	}
}

// parseHexBytes reads "de ad be ef", "deadbeef" or "0xdeadbeef".
func parseHexBytes(s string) ([]byte, error) {
	t := strings.Join(strings.Fields(s), "")
	t = strings.TrimPrefix(strings.TrimPrefix(t, "0x"), "0X")
	if len(t)%2 == 1 {
		t = "0" + t
	}
	b, err := hex.DecodeString(t)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("%q is not hex bytes (like \"de ad be ef\" or 0xdeadbeef)", s)
	}
	return b, nil
}
