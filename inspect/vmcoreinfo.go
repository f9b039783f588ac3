package inspect

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/reader"
)

// This file recovers VMCOREINFO from memory when a dump has no VMCOREINFO
// note (QEMU without -device vmcoreinfo, a note lost on the way).
//
// What the kernel keeps (kernel/crash_core.c, kernel/kexec_core.c):
//
//   - vmcoreinfo_data: the text, "OSRELEASE=…\nBUILD-ID=…\nPAGESIZE=…\n…",
//     written at boot by crash_save_vmcoreinfo_init() into a page of its
//     own (get_zeroed_page(), Linux 4.13 and later; a static array of
//     VMCOREINFO_BYTES in .bss before), so the text starts at a page
//     boundary and ends at the first NUL.
//   - vmcoreinfo_note: the same text inside an ELF note ("VMCOREINFO",
//     type 0), in pages of its own (alloc_pages_exact()); this is the copy
//     /sys/kernel/vmcoreinfo points kdump and QEMU's fw_cfg device at. Its
//     header is 24 bytes, so the text starts 24 bytes into a page.
//   - With a crash kernel loaded, kimage_crash_copy_vmcoreinfo() keeps a
//     third copy in the crash kernel's reserved memory (the "safe copy"),
//     and crash_save_vmcoreinfo() appends CRASHTIME to it and rewrites the
//     note at the crash: the data page then lacks CRASHTIME.
//
// A dump may also hold a second kernel's texts: the capture kernel's,
// when a hypervisor dumped the guest after kdump had started it, or a
// kernel that ran before a kexec reboot. Every "OSRELEASE=" in memory is
// therefore a candidate; each is parsed and validated against the memory
// itself (recover_check.go), and the crashed kernel's is chosen.
//
// Cost: one pass over every readable frame, in parallel, looking for the
// 10-byte "OSRELEASE=" with bytes.Index (the page decode dominates), then
// a few pages per hit and a kallsyms decode per distinct kernel.

// needle starts every VMCOREINFO text: crash_save_vmcoreinfo_init() writes
// VMCOREINFO_OSRELEASE first, in every kernel since 2.6.24.
var needle = []byte("OSRELEASE=")

// Bounds on what memory may hold.
const (
	// maxRecoveryHits bounds the hits examined; more are counted only.
	maxRecoveryHits = 256
	// maxVMCoreInfoBytes bounds a text: VMCOREINFO_BYTES is PAGE_SIZE
	// (64 KiB at most on any architecture), 4096 before Linux 4.13.
	maxVMCoreInfoBytes = 64 << 10
	// noteHeader is the size of the note's header and name: namesz,
	// descsz, type (4 bytes each) and "VMCOREINFO\0" padded to 12.
	noteHeader = 24
	// recoveryChunk is the frames one worker reads at a time.
	recoveryChunk = 256
)

// RecoverOptions configure RecoverVMCoreInfo.
type RecoverOptions struct {
	// Jobs is the number of page workers; 0 means one per CPU.
	Jobs int
	// Progress, if not nil, is called now and then with frames searched
	// and frames to search.
	Progress func(done, total uint64)
}

// RecoverVMCoreInfo searches physical memory for VMCOREINFO texts,
// validates each against the memory, and returns the search and the text
// chosen (nil when no candidate is valid). It fails only when the dump
// cannot be walked or ctx ends.
func RecoverVMCoreInfo(ctx context.Context, d reader.Dump, opts RecoverOptions) (*model.VMCoreInfoSearch, *model.VMCoreInfo, error) {
	s, v, _, err := recoverVMCoreInfo(ctx, d, opts)
	return s, v, err
}

// recoverVMCoreInfo is RecoverVMCoreInfo that also returns the engine the
// checks built with the chosen text.
func recoverVMCoreInfo(ctx context.Context, d reader.Dump, opts RecoverOptions) (*model.VMCoreInfoSearch, *model.VMCoreInfo, *kernel.Kernel, error) {
	hits, pages, nHits, err := scanForNeedle(ctx, d, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	s := &model.VMCoreInfoSearch{PagesSearched: pages, Hits: nHits, Candidates: []model.VMCoreInfoCandidate{}}
	info := d.Info()
	order := byteOrder(info.Endian)
	for _, h := range hits {
		c, ok := readCandidate(d, h, uint64(info.PageSize), order)
		if ok {
			s.Candidates = append(s.Candidates, c)
		}
	}
	engines := validateCandidates(ctx, d, s)
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	chosen := chooseCandidate(s.Candidates)
	if chosen < 0 {
		return s, nil, nil, nil
	}
	s.Chosen = &chosen
	c := s.Candidates[chosen]
	k := engines[string(c.Raw)]
	var v *model.VMCoreInfo
	if k != nil {
		v = k.VMCoreInfo()
	} else {
		v = model.ParseVMCoreInfo(c.Raw)
	}
	v.File = strings.Join(info.Files, " ")
	v.FileOffset = -1
	return s, v, k, nil
}

func byteOrder(e model.Endian) binary.ByteOrder {
	if e == model.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// scanChunk is a run of frames one worker searches; lead is true when the
// frame before start is readable too, so a needle that crosses into start
// is found.
type scanChunk struct {
	start model.PFN
	count uint64
	lead  bool
}

// hitSet keeps the lowest addresses of needles found, in two classes:
// at the offsets where the kernel's own copies start (0 for the text
// page, noteHeader for the note) and elsewhere (old kernels' static
// arrays, and everything else). Each class keeps maxRecoveryHits, so junk
// at low addresses cannot push the kernel's pages out.
type hitSet struct {
	mu      sync.Mutex
	ps      uint64
	n       int
	aligned []model.PhysAddr
	other   []model.PhysAddr
}

func (h *hitSet) add(a model.PhysAddr) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	if off := uint64(a) % h.ps; off == 0 || off == noteHeader {
		h.aligned = keepLowest(append(h.aligned, a))
	} else {
		h.other = keepLowest(append(h.other, a))
	}
}

// keepLowest bounds a list to the maxRecoveryHits lowest addresses,
// sorting only when it has grown to twice that.
func keepLowest(l []model.PhysAddr) []model.PhysAddr {
	if len(l) < 2*maxRecoveryHits {
		return l
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return l[:maxRecoveryHits]
}

// list returns the hits kept, aligned ones first, each class ascending.
func (h *hitSet) list() []model.PhysAddr {
	var out []model.PhysAddr
	for _, l := range [][]model.PhysAddr{h.aligned, h.other} {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		out = append(out, l[:min(len(l), maxRecoveryHits)]...)
	}
	return out
}

// scanForNeedle reads every readable frame and returns the physical
// addresses of the needles kept (hitSet), the frames searched and the
// number of needles found.
func scanForNeedle(ctx context.Context, d reader.Dump, opts RecoverOptions) ([]model.PhysAddr, uint64, int, error) {
	info := d.Info()
	ps := uint64(info.PageSize)
	if ps < uint64(len(needle)) {
		return nil, 0, 0, fmt.Errorf("%s: page size %d: %w", strings.Join(info.Files, " "), ps, model.ErrCorrupt)
	}
	counts, err := d.Counts(ctx)
	if err != nil {
		return nil, 0, 0, err
	}
	total := counts[model.StatePresent] + counts[model.StateZeroFill]
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan scanChunk, jobs*2)
	hits := &hitSet{ps: ps}
	var done atomic.Uint64
	var wg sync.WaitGroup
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				if scanChunkPages(ctx, d, c, ps, hits, func() {
					if v := done.Add(1); opts.Progress != nil && v%1024 == 0 {
						opts.Progress(v, total)
					}
				}) != nil {
					return
				}
			}
		}()
	}
	var runsErr error
	go func() {
		defer close(chunks)
		runsErr = d.Runs(ctx, 0, false, func(r model.PageRun) bool {
			if r.State != model.StatePresent && r.State != model.StateZeroFill {
				return true
			}
			for off := uint64(0); off < r.Count; off += recoveryChunk {
				c := scanChunk{start: r.Start + model.PFN(off), count: min(recoveryChunk, r.Count-off), lead: off > 0}
				select {
				case chunks <- c:
				case <-ctx.Done():
					return false
				}
			}
			return true
		})
	}()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, 0, err
	}
	if runsErr != nil {
		return nil, 0, 0, runsErr
	}
	if opts.Progress != nil {
		opts.Progress(done.Load(), total)
	}
	return hits.list(), done.Load(), hits.n, nil
}

// scanChunkPages searches one chunk. The frame before it, when lead says
// it is readable, is read only for its tail, so that a needle crossing
// into the chunk is found; needles inside it belong to the chunk before.
func scanChunkPages(ctx context.Context, d reader.Dump, c scanChunk, ps uint64, hits *hitSet, page func()) error {
	from, n := c.start, c.count
	if c.lead {
		from, n = from-1, n+1
	}
	k := len(needle) - 1
	window := make([]byte, 0, 2*k)
	tail := make([]byte, 0, k)
	havePrev, prev := false, model.PFN(0)
	return d.ReadRange(ctx, from, n, reader.ReadOptions{}, func(pi model.PageInfo, p []byte, err error) bool {
		if err != nil || uint64(len(p)) != ps {
			havePrev = false
			return true
		}
		base := uint64(pi.PFN) * ps
		if pi.PFN >= c.start {
			if havePrev && prev+1 == pi.PFN {
				window = append(append(window[:0], tail...), p[:k]...)
				if j := bytes.Index(window, needle); j >= 0 && j < k {
					hits.add(model.PhysAddr(base - uint64(k) + uint64(j)))
				}
			}
			for off := 0; ; {
				j := bytes.Index(p[off:], needle)
				if j < 0 {
					break
				}
				hits.add(model.PhysAddr(base + uint64(off+j)))
				off += j + 1
			}
			page()
		}
		tail = append(tail[:0], p[ps-uint64(k):]...)
		prev, havePrev = pi.PFN, true
		return true
	})
}
