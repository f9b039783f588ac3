package kernel

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"dumpscope/model"
)

// Translate translates a kernel virtual address through the kernel's own
// page tables. On failure it still returns the steps walked so far.
func (k *Kernel) Translate(ctx context.Context, va model.VirtAddr) (model.Translation, error) {
	s, err := k.kernelSpace(ctx)
	if err != nil {
		return model.Translation{VirtAddr: va}, err
	}
	return k.translateIn(ctx, s, va)
}

// TranslateCPU translates va through the page tables a CPU's cr3 points
// to: the process that ran there, whose kernel half is the kernel's.
func (k *Kernel) TranslateCPU(ctx context.Context, va model.VirtAddr, cpu int) (model.Translation, error) {
	base, err := k.kernelSpace(ctx)
	if err != nil {
		// The kernel space failed (no VMCOREINFO and no cr3 anywhere, or a
		// bad symbol); a CPU's cr3 may still work.
		base = &space{mode: modeX8664L4, pageSize: k.pageSize}
		if k.arch == "i386" {
			base.mode = modeI386
		}
	}
	s, err := k.cpuSpace(k.memIn(ctx), base, cpu)
	if err != nil {
		return model.Translation{VirtAddr: va}, err
	}
	return k.translateIn(ctx, s, va)
}

func (k *Kernel) translateIn(ctx context.Context, s *space, va model.VirtAddr) (model.Translation, error) {
	tr, err := s.translate(k.memIn(ctx), uint64(va))
	if tr.Note == "" && len(s.notes) > 0 {
		tr.Note = s.notes[0]
	}
	if err != nil {
		return tr, k.missing(fmt.Sprintf("translating %#x (%s, root %s from %s)", va, s.mode.name, model.PhysAddr(s.root), s.rootFrom), err)
	}
	tr.PFN = model.PFN(uint64(tr.PhysAddr) / k.pageSize)
	if k.frame != nil {
		tr.PageState = k.frame(tr.PFN).State
	}
	return tr, nil
}

// AddressSpace describes the kernel's address space as the engine found
// it, for the vtop command's heading.
type AddressSpace struct {
	Paging     string
	Root       model.PhysAddr
	RootFrom   string
	PageOffset model.VirtAddr
	// PageOffsetFrom says how PAGE_OFFSET was found.
	PageOffsetFrom string
	// PhysBase is phys_base (x86_64), where the kernel image lies.
	PhysBase *model.PhysAddr
	Notes    []string
}

// Space returns the kernel's address space.
func (k *Kernel) Space(ctx context.Context) (AddressSpace, error) {
	s, err := k.kernelSpace(ctx)
	if err != nil {
		return AddressSpace{}, err
	}
	as := AddressSpace{Paging: s.mode.name, Root: model.PhysAddr(s.root), RootFrom: s.rootFrom,
		PageOffset: model.VirtAddr(s.pageOffset), PageOffsetFrom: s.pageOffsetFrom, Notes: s.notes}
	if s.hasText {
		pb := model.PhysAddr(s.physBase)
		as.PhysBase = &pb
	}
	return as, nil
}

// maxVirtRead bounds one ReadVirt (64 MiB): the largest structure the
// engine reads whole is a printk text ring of at most 32 MiB by default.
const maxVirtRead = 64 << 20

// ReadVirt reads len(p) bytes of kernel virtual memory at va, translating
// page by page. Errors name the address and what would have kept it.
func (k *Kernel) ReadVirt(ctx context.Context, va model.VirtAddr, p []byte) error {
	return k.readVirt(ctx, uint64(va), p)
}

func (k *Kernel) readVirt(ctx context.Context, va uint64, p []byte) error {
	if len(p) > maxVirtRead {
		return fmt.Errorf("%s: reading %d bytes at %#x: more than the %d bytes one read may take", k.name, len(p), va, maxVirtRead)
	}
	if va+uint64(len(p)) < va {
		return &MissingError{File: k.name, What: fmt.Sprintf("virtual %#x + %d", va, len(p)),
			Err: fmt.Errorf("the range wraps around the address space: %w", model.ErrNotFound)}
	}
	s, err := k.kernelSpace(ctx)
	if err != nil {
		return err
	}
	mem := k.memIn(ctx)
	// A read of many pages reads its whole pages past the page cache, and
	// when they are many enough, decodes them on several goroutines: its
	// pages are then translated first and read after.
	stream := uint64(len(p)) > k.pageSize
	pages := (va%k.pageSize + uint64(len(p)) + k.pageSize - 1) / k.pageSize
	workers := min(streamWorkers, runtime.GOMAXPROCS(0), int(pages/streamShare))
	var pieces []virtPiece
	// One walk answers for the whole page that maps va (2 MiB or 1 GiB for
	// the kernel image and the direct map): later pages of the read that
	// lie in it are not walked again.
	var mapVA, mapPA, mapSize uint64
	var walkErr error
	for len(p) > 0 {
		if mapSize == 0 || va-mapVA >= mapSize {
			var err error
			if mapVA, mapPA, mapSize, err = s.mapping(mem, va); err != nil {
				walkErr = k.missing(fmt.Sprintf("virtual %#x", va), err)
				break
			}
		}
		n := min(uint64(len(p)), k.pageSize-va%k.pageSize)
		pc := virtPiece{va: va, pa: mapPA + va - mapVA, p: p[:n], whole: stream && n == k.pageSize}
		if workers > 1 {
			pieces = append(pieces, pc)
		} else if err := k.readPiece(mem, pc); err != nil {
			return err
		}
		p, va = p[n:], va+n
	}
	if err := k.readPieces(mem, pieces, workers); err != nil {
		return err
	}
	return walkErr
}

// virtPiece is the part of a virtual read that lies in one page: p is
// read from physical address pa; whole marks a whole page of a read of
// many (ctxMem.readStream).
type virtPiece struct {
	va, pa uint64
	p      []byte
	whole  bool
}

// streamWorkers bounds the goroutines that decode the pages of one read,
// and streamShare is the fewest pages each is given: BTF, the ORC tables
// and kallsyms are megabytes of compressed pages, most of what the crash
// analysis costs, and the dump's reads are safe for concurrent use.
const (
	streamWorkers = 4
	streamShare   = 32
)

// readPiece reads one piece; its error names the virtual and physical
// address.
func (k *Kernel) readPiece(mem ctxMem, pc virtPiece) error {
	read := mem.readPhys
	if pc.whole {
		read = mem.readStream
	}
	if err := read(pc.pa, pc.p); err != nil {
		return k.missing(fmt.Sprintf("virtual %#x (physical %s)", pc.va, model.PhysAddr(pc.pa)), err)
	}
	return nil
}

// readPieces reads the pieces on workers goroutines, each reading a
// contiguous share in order (so that each reads its part of the file as a
// stream); the error is that of the first piece, by address, that failed.
func (k *Kernel) readPieces(mem ctxMem, pieces []virtPiece, workers int) error {
	if len(pieces) == 0 {
		return nil
	}
	if report := mem.progress; report != nil {
		var mu sync.Mutex
		mem.progress = func(n uint64) {
			mu.Lock()
			defer mu.Unlock()
			report(n)
		}
	}
	errs := make([]error, workers)
	share := (len(pieces) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		part := pieces[min(w*share, len(pieces)):min((w+1)*share, len(pieces))]
		wg.Go(func() {
			for _, pc := range part {
				if errs[w] = k.readPiece(mem, pc); errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// DirectMapAddr returns the kernel virtual address that maps physical
// address pa in the direct map, when there is one. The page tables confirm
// it when they are in the dump; an x86_64 direct map covers all RAM, so
// there the arithmetic stands when they are not.
func (k *Kernel) DirectMapAddr(ctx context.Context, pa model.PhysAddr) (model.VirtAddr, bool) {
	s, err := k.kernelSpace(ctx)
	if err != nil || s.pageOffset == 0 || uint64(pa) >= s.directSize {
		return 0, false
	}
	va := s.pageOffset + uint64(pa)
	tr, err := walk(k.memIn(ctx), s.mode, s.root, va, s.physMask)
	var te *TableError
	switch {
	case err == nil:
		return model.VirtAddr(va), tr.PhysAddr == pa
	case errors.As(err, &te):
		return model.VirtAddr(va), k.arch == "x86_64"
	}
	return 0, false
}
