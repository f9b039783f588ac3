// Package inspect is what both front ends (the CLI and the terminal UI)
// use to look at one dump: a Session owns the dump and builds, on first
// use, the kernel engine (package inspect/kernel) that reads the crashed
// kernel's own structures. Everything a front end shows goes through it:
// information and frame counts, physical and virtual reads, the search of
// physical memory, verification and manifests. Every call that reads
// page data takes a context, so long work can be cancelled, and reports
// progress through the callbacks its options carry.
//
// Package inspect decides, once for both front ends, how a question is
// answered: a search decorates hits with kernel virtual addresses when the
// kernel's address space can be found, and not otherwise; a dump's frame
// counts come from the format's Counts.
package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/reader"
)

// Session is one dump opened for inspection. Its methods are safe for
// concurrent use.
type Session struct {
	dump reader.Dump
	name string

	infoMu sync.RWMutex
	info   model.Info

	// eng is the kernel engine and its VMCOREINFO (engine.go).
	eng engineState

	countsMu sync.Mutex
	counts   model.StateCounts
}

// New starts a session on an opened dump; the session owns it and Close
// closes it.
func New(d reader.Dump) *Session {
	info := d.Info()
	return &Session{dump: d, info: info, name: strings.Join(info.Files, " ")}
}

// Dump returns the dump, for what only the reader contract offers (the
// layout tree, notes, registers, page states).
func (s *Session) Dump() reader.Dump { return s.dump }

// Name returns the dump's file names as messages show them.
func (s *Session) Name() string { return s.name }

// Info returns what the headers say (read when the session started; a
// container's problems may grow once it is indexed: see RefreshInfo).
// Frame counts are not filled: Counts gives them.
func (s *Session) Info() model.Info {
	s.infoMu.RLock()
	in := s.info
	s.infoMu.RUnlock()
	return s.withVMCoreInfo(in)
}

// RefreshInfo reads the dump's Info again (after indexing a container,
// whose problems and sub-header become known then).
func (s *Session) RefreshInfo() model.Info {
	in := s.dump.Info()
	s.infoMu.Lock()
	defer s.infoMu.Unlock()
	s.info = in
	return in
}

// Counts returns the frames by state that the headers give, computed once.
func (s *Session) Counts(ctx context.Context) (model.StateCounts, error) {
	s.countsMu.Lock()
	defer s.countsMu.Unlock()
	if s.counts == nil {
		c, err := s.dump.Counts(ctx)
		if err != nil {
			return nil, err
		}
		s.counts = c
	}
	out := make(model.StateCounts, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out, nil
}

// countScanBudget bounds the bytes InfoWithCounts scans to count frames
// by state: 8 MiB of kdump bitmaps, an address space of 128 GiB with 4 KiB
// pages, a few milliseconds. Beyond it, opening costs the same whatever
// the address space, and the counts say what they leave out.
const countScanBudget = 8 << 20

// InfoWithCounts is Info with the frame counts filled, as `info` reports
// it. When counting every state would scan more than countScanBudget
// bytes (the bitmaps of a large kdump) and Counts has not run yet, it
// gives the counts known without the scan (present frames, from the page
// descriptor table) and a detail that says which states are not counted;
// Counts gives them all.
func (s *Session) InfoWithCounts(ctx context.Context) (model.Info, error) {
	in := s.Info()
	s.countsMu.Lock()
	counted := s.counts != nil
	s.countsMu.Unlock()
	if q, ok := s.dump.(reader.QuickCounter); ok && !counted {
		if scan := q.CountScanBytes(); scan > countScanBudget {
			known := q.QuickCounts()
			in.Pages = known
			in.Details = append(in.Details, model.KV{Key: "frame counts", Value: quickCountsNote(known, scan)})
			return in, nil
		}
	}
	c, err := s.Counts(ctx)
	if err != nil {
		return in, err
	}
	in.Pages = c
	return in, nil
}

// quickCountsNote says which frame counts InfoWithCounts left out.
func quickCountsNote(known model.StateCounts, scan int64) string {
	var have []string
	for _, st := range []model.PageState{model.StatePresent, model.StateNotInDump} {
		if _, ok := known[st]; ok {
			have = append(have, string(st))
		}
	}
	what := "no frame was counted"
	if len(have) > 0 {
		what = "only " + strings.Join(have, " and ") + " frames are counted (from the headers and the page descriptor table)"
	}
	return fmt.Sprintf("%s: counting every state reads %d MiB of bitmaps (info --counts, pages)", what, (scan+1<<20-1)>>20)
}

// Kernel returns the kernel engine, built on first use (KernelContext).
// It fails for dumps of architectures the engine does not read.
func (s *Session) Kernel() (*kernel.Kernel, error) {
	return s.KernelContext(context.Background())
}

// Index scans a container (a flattened stream) once, so that every later
// read is exact, and refreshes Info; plain files need nothing. It reports
// whether there was anything to index.
func (s *Session) Index(ctx context.Context, progress func(done, total int64)) (bool, error) {
	ix, ok := s.dump.(reader.Indexer)
	if !ok {
		return false, nil
	}
	if err := ix.Index(ctx, progress); err != nil {
		return true, err
	}
	s.RefreshInfo()
	return true, nil
}

// NeedsIndex reports whether the dump is a container that an Index pass
// makes exact.
func (s *Session) NeedsIndex() bool {
	_, ok := s.dump.(reader.Indexer)
	return ok
}

// ReadPhys reads physical memory (see ReadPhys).
func (s *Session) ReadPhys(addr model.PhysAddr, p []byte, zeroFill bool) ([]Absent, error) {
	return ReadPhys(s.dump, addr, p, zeroFill)
}

// ReadVirt reads kernel virtual memory through the kernel's page tables.
func (s *Session) ReadVirt(ctx context.Context, va model.VirtAddr, p []byte) error {
	k, err := s.KernelContext(ctx)
	if err != nil {
		return err
	}
	return k.ReadVirt(ctx, va, p)
}

// Find searches physical memory for pattern (see Find). When the kernel's
// address space can be found, each hit also names the kernel virtual
// address that maps it in the direct map; otherwise hits come with
// physical addresses only.
func (s *Session) Find(ctx context.Context, pattern []byte, opts FindOptions, hit func(model.SearchHit) bool) error {
	k, err := s.Kernel()
	if err != nil {
		return Find(ctx, s.dump, pattern, opts, hit)
	}
	ps := uint64(s.Info().PageSize)
	// Hits cluster in pages; translate each page once.
	var lastPFN model.PFN
	var lastVA model.VirtAddr
	lastOK, have := false, false
	return Find(ctx, s.dump, pattern, opts, func(h model.SearchHit) bool {
		if !have || h.PFN != lastPFN {
			lastVA, lastOK = k.DirectMapAddr(ctx, h.PFN.Addr(ps))
			lastPFN, have = h.PFN, true
		}
		if lastOK {
			va := lastVA + model.VirtAddr(uint64(h.PhysAddr)%ps)
			h.VirtAddr = &va
		}
		return hit(h)
	})
}

// Verify decodes everything and reports every problem (see Verify).
func (s *Session) Verify(ctx context.Context, opts VerifyOptions) (*Report, error) {
	r, err := Verify(ctx, s.dump, opts)
	if err == nil {
		s.RefreshInfo()
	}
	return r, err
}

// CrashSummary gathers the crash summary from memory, or says why it
// cannot (an architecture the engine does not read).
func (s *Session) CrashSummary(ctx context.Context, lastLog int) (*model.CrashSummary, error) {
	k, err := s.KernelContext(ctx)
	if err != nil {
		return nil, err
	}
	return k.Summary(ctx, lastLog), nil
}

// CPU checks that a CPU index has registers in the dump.
func (s *Session) CPU(cpu int) error {
	sets, err := s.dump.Registers()
	if err != nil {
		return err
	}
	for _, r := range sets {
		if r.CPU == cpu {
			return nil
		}
	}
	return fmt.Errorf("%s: no registers for CPU %d (the dump has %d register sets): %w", s.name, cpu, len(sets), model.ErrNotFound)
}

// Close closes the dump.
func (s *Session) Close() error {
	if s.dump == nil {
		return errors.New("session already closed")
	}
	err := s.dump.Close()
	s.dump = nil
	return err
}
