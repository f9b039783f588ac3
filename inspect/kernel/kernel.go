package kernel

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"dumpscope/model"
	"dumpscope/reader"
)

// Kernel is a crashed kernel seen through one dump.
type Kernel struct {
	dump     reader.Dump  // nil for the synthetic memories of tests
	name     string       // the dump's file names, for errors
	arch     string       // "x86_64" or "i386"
	format   model.Format // for the hints of MissingError
	pageSize uint64
	maxPhys  uint64 // one past the highest physical address the dump describes
	mem      physMem
	// frame returns a frame's state; it only decorates translations.
	frame func(model.PFN) model.PageInfo
	vmci  *model.VMCoreInfo // nil when the dump has none
	regs  []model.RegisterSet

	space lazy[*space]
	syms  lazy[*Symbols]
	log   lazy[[]model.LogRecord]

	objs kernelObjects // what reads the kernel's objects (objects.go)
	// ext holds the options and the crash analysis (options.go, crash.go).
	ext extension
}

// New prepares the triage engine for a dump. It reads nothing but notes;
// each method reads what it needs on first use.
func New(d reader.Dump) (*Kernel, error) { return NewWithOptions(d, Options{}) }

// NewWithOptions is New with options: a VMCOREINFO other than the dump's
// own (recovered from memory, or read from a file), the reader of kernel
// objects (options.go).
func NewWithOptions(d reader.Dump, o Options) (*Kernel, error) {
	info := d.Info()
	name := strings.Join(info.Files, " ")
	if info.Arch != "x86_64" && info.Arch != "i386" {
		return nil, fmt.Errorf("%s: kernel triage reads x86_64 and i386 kernels; this dump is %s", name, orUnknown(info.Arch))
	}
	if info.Endian != model.LittleEndian {
		return nil, fmt.Errorf("%s: a %s dump that is not little-endian cannot be read", name, info.Arch)
	}
	regs, err := d.Registers()
	if err != nil {
		return nil, err
	}
	vmci := o.VMCoreInfo
	if vmci == nil {
		if vmci, err = d.VMCoreInfo(); err != nil && !errors.Is(err, model.ErrNotFound) {
			return nil, err
		}
	}
	ps := uint64(info.PageSize)
	k := &Kernel{
		dump: d, name: name, arch: info.Arch, format: info.Format,
		pageSize: ps, maxPhys: uint64(info.MaxPFN) * ps,
		mem:   newDumpMem(d, name, ps),
		frame: d.PageInfo,
		vmci:  vmci, regs: regs,
		ext: extension{opts: o},
	}
	if k.ext.opts.Objects == nil {
		// The engine's own task walker and unwinder (objects.go).
		k.ext.opts.Objects = engineObjects{k}
	}
	return k, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "of an unknown architecture"
	}
	return s
}

// Name returns the dump's file names as errors show them.
func (k *Kernel) Name() string { return k.name }

// Arch returns "x86_64" or "i386".
func (k *Kernel) Arch() string { return k.arch }

// ptrSize is the size of a kernel pointer (unsigned long).
func (k *Kernel) ptrSize() int {
	if k.arch == "x86_64" {
		return 8
	}
	return 4
}

// ---- physical memory ----------------------------------------------------

// physMem reads guest physical memory. A frame that is not readable gives
// a *model.PageError, which wraps model.ErrPageAbsent.
type physMem interface {
	readPhys(addr uint64, p []byte) error
}

// pageCachePages bounds the decoded pages kept: page tables, the printk
// rings and kallsyms are read many times a few bytes at a time, and a
// kdump page costs a decompression.
const pageCachePages = 512

// dumpMem reads physical memory from a reader.Dump through a page cache.
type dumpMem struct {
	d     reader.Dump
	name  string
	ps    uint64
	cache *reader.LRU[model.PFN, []byte]
}

func newDumpMem(d reader.Dump, name string, ps uint64) *dumpMem {
	return &dumpMem{d: d, name: name, ps: ps, cache: reader.NewLRU[model.PFN, []byte](pageCachePages)}
}

// memIn returns physical memory as one call with ctx sees it: every page
// read first checks that ctx is not done, and reports to the progress
// function ctx carries (WithProgress).
func (k *Kernel) memIn(ctx context.Context) ctxMem {
	return ctxMem{ctx: ctx, m: k.mem, progress: progressOf(ctx)}
}

// ctxMem is physical memory bound to one call's context.
type ctxMem struct {
	ctx      context.Context
	m        physMem
	progress func(pages uint64)
}

func (c ctxMem) readPhys(addr uint64, p []byte) error { return c.readPages(addr, p, false) }

// readStream reads a whole page of a read that spans many (see
// dumpMem.readFrame).
func (c ctxMem) readStream(addr uint64, p []byte) error { return c.readPages(addr, p, true) }

func (c ctxMem) readPages(addr uint64, p []byte, stream bool) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	dm, ok := c.m.(*dumpMem)
	switch {
	case !ok:
		return c.m.readPhys(addr, p)
	case stream:
		return dm.readFrame(c.ctx, addr, p, c.progress)
	}
	return dm.read(c.ctx, addr, p, c.progress)
}

func (m *dumpMem) readPhys(addr uint64, p []byte) error {
	return m.read(context.Background(), addr, p, nil)
}

func (m *dumpMem) read(ctx context.Context, addr uint64, p []byte, progress func(uint64)) error {
	if addr+uint64(len(p)) < addr {
		return fmt.Errorf("physical range at %#x wraps around: %w", addr, model.ErrNotFound)
	}
	for len(p) > 0 {
		page, err := m.page(ctx, model.PFN(addr/m.ps), progress)
		if err != nil {
			return err
		}
		n := copy(p, page[addr%m.ps:])
		p, addr = p[n:], addr+uint64(n)
	}
	return nil
}

// readFrame reads the frame at addr whole into p (one page) for a read
// that streams through many pages: a cached frame is copied, any other is
// decoded straight into p and not cached, so that megabytes read once
// (BTF, the ORC table, kallsyms) do not evict the page tables and rings
// the cache is for.
func (m *dumpMem) readFrame(ctx context.Context, addr uint64, p []byte, progress func(uint64)) error {
	pfn := model.PFN(addr / m.ps)
	if addr%m.ps != 0 || uint64(len(p)) != m.ps {
		return m.read(ctx, addr, p, progress)
	}
	if b, ok := m.cache.Get(pfn); ok {
		copy(p, b)
		return nil
	}
	return m.decode(ctx, pfn, p, progress)
}

// decode reads frame pfn from the dump into p (one page).
func (m *dumpMem) decode(ctx context.Context, pfn model.PFN, p []byte, progress func(uint64)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if pi := m.d.PageInfo(pfn); !pi.State.Readable() {
		return model.AbsentError("", pi)
	}
	if _, err := m.d.ReadPage(pfn, p, reader.ReadOptions{}); err != nil {
		return err
	}
	if progress != nil {
		progress(1)
	}
	return nil
}

func (m *dumpMem) page(ctx context.Context, pfn model.PFN, progress func(uint64)) ([]byte, error) {
	if b, ok := m.cache.Get(pfn); ok {
		return b, nil
	}
	b := make([]byte, m.ps)
	if err := m.decode(ctx, pfn, b, progress); err != nil {
		return nil, err
	}
	m.cache.Put(pfn, b)
	return b, nil
}

// progressKey carries a progress function in a context.
type progressKey struct{}

// WithProgress returns a context whose engine calls report, page by page,
// how many pages they read from the dump (cached pages are not counted),
// so a front end can show that long work is moving.
func WithProgress(ctx context.Context, fn func(pages uint64)) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

func progressOf(ctx context.Context) func(uint64) {
	fn, _ := ctx.Value(progressKey{}).(func(uint64))
	return fn
}

// lazy computes a value on first use and keeps it. A computation whose
// context ended while it ran is not kept, whatever it returned (reads that
// failed for the cancellation may have made it guess): the next call
// tries again.
type lazy[T any] struct {
	mu   sync.Mutex
	done bool
	val  T
	err  error
}

func (l *lazy[T]) get(ctx context.Context, compute func(context.Context) (T, error)) (T, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		v, err := compute(ctx)
		if ctx.Err() != nil {
			if err == nil {
				err = ctx.Err()
			}
			return v, err
		}
		l.val, l.err, l.done = v, err, true
	}
	return l.val, l.err
}

// ---- errors ----------------------------------------------------------------

// MissingError says which kernel data could not be read, why, and which
// dump option would have kept it. It wraps the cause: a *model.PageError
// (model.ErrPageAbsent) for memory that is not in the dump, model.ErrNotFound
// for data the kernel did not export or an address it does not map.
type MissingError struct {
	File string
	// What names the data ("the kernel log: printk_ringbuffer text data at
	// 0xffffffff80a1a020").
	What string
	Err  error
	// Hint says what would have kept the data, when that is known.
	Hint string
}

func (e *MissingError) Error() string {
	s := e.What + ": " + e.Err.Error()
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	if e.File != "" {
		s = e.File + ": " + s
	}
	return s
}

func (e *MissingError) Unwrap() error { return e.Err }

// missing wraps err, the failure to read what, with the hint that fits it.
// An error that is already a *MissingError only gains context.
func (k *Kernel) missing(what string, err error) error {
	var me *MissingError
	if errors.As(err, &me) {
		return &MissingError{File: k.name, What: what + ": " + me.What, Err: me.Err, Hint: me.Hint}
	}
	return &MissingError{File: k.name, What: what, Err: err, Hint: k.hint(err)}
}

// hint explains, for a page that is not in the dump, what kind of dump
// would have held it.
func (k *Kernel) hint(err error) string {
	var pe *model.PageError
	if !errors.As(err, &pe) {
		return ""
	}
	switch pe.State {
	case model.StateNotInDump:
		if k.format == model.FormatELF {
			return "the dump holds only part of RAM: QEMU dump-guest-memory with paging=false and begin/length, " +
				"or a filtered ELF, keeps only the ranges asked for; dump all of RAM to keep it"
		}
		return "open every part of a split set; a frame beyond max_mapnr was never dumped"
	case model.StateExcluded:
		return "makedumpfile's dump level excluded it: -d 31 drops zero, cache, user and free pages; a lower level such as -d 1 keeps them"
	case model.StateLost:
		return "the dump is incomplete: the writer stopped before storing this page; take the dump again with enough space"
	case model.StateUnreadable:
		return "the page is stored but damaged; `dumpscope verify` lists the damage"
	}
	return ""
}

// noVMCoreInfo is the error for data that only VMCOREINFO locates.
func (k *Kernel) noVMCoreInfo(what string) error {
	return &MissingError{File: k.name, What: what, Err: fmt.Errorf("the dump has no VMCOREINFO: %w", model.ErrNotFound),
		Hint: "the kernel writes it into kdump's /proc/vmcore and makedumpfile keeps it; QEMU dumps have it only when the guest ran with -device vmcoreinfo"}
}

// ---- VMCOREINFO --------------------------------------------------------------

// need looks up VMCOREINFO keys a feature cannot do without, and names all
// that are missing at once.
type need struct {
	k    *Kernel
	miss []string
}

func (n *need) symbol(name string) uint64 {
	v, ok := n.k.vmci.Symbol(name)
	if !ok {
		n.miss = append(n.miss, "SYMBOL("+name+")")
	}
	return v
}

func (n *need) offset(member string) uint64 {
	v, ok := n.k.vmci.Offset(member)
	return n.bounded(v, ok && v >= 0, "OFFSET("+member+")")
}

func (n *need) size(typ string) uint64 {
	v, ok := n.k.vmci.Size(typ)
	return n.bounded(v, ok && v > 0, "SIZE("+typ+")")
}

func (n *need) length(name string) uint64 {
	v, ok := n.k.vmci.Length(name)
	return n.bounded(v, ok && v > 0, "LENGTH("+name+")")
}

// bounded returns v, a number VMCOREINFO gave, when it was there and in
// range (ok) and at most 64 KiB (no offset, size or length a feature reads
// is larger); else it records key as missing and returns 0.
func (n *need) bounded(v int64, ok bool, key string) uint64 {
	if !ok || v > 1<<16 {
		n.miss = append(n.miss, key)
		return 0
	}
	return uint64(v)
}

// err reports the missing keys, or nil.
func (n *need) err(what, why string) error {
	if len(n.miss) == 0 {
		return nil
	}
	return &MissingError{File: n.k.name, What: what,
		Err:  fmt.Errorf("VMCOREINFO lacks %s: %w", strings.Join(n.miss, ", "), model.ErrNotFound),
		Hint: why}
}

// ---- registers -----------------------------------------------------------------

// cpuIndexes lists the CPU indexes that have registers, ascending.
func (k *Kernel) cpuIndexes() []int {
	seen := map[int]bool{}
	var out []int
	for _, s := range k.regs {
		if !seen[s.CPU] {
			seen[s.CPU] = true
			out = append(out, s.CPU)
		}
	}
	sort.Ints(out)
	return out
}

// cpuReg returns a register of a CPU from the first register set that has
// it, prstatus first (the kernel's own record), then QEMU's CPU state,
// then a Xen context.
func (k *Kernel) cpuReg(cpu int, names ...string) (uint64, *model.RegisterSet, bool) {
	for _, src := range []model.RegSource{model.SourcePrstatus, model.SourceQEMUCPUState, model.SourceXenVCPUContext} {
		for i := range k.regs {
			s := &k.regs[i]
			if s.CPU != cpu || s.Source != src {
				continue
			}
			for _, n := range names {
				if v, ok := s.Get(n); ok {
					return v, s, true
				}
			}
		}
	}
	return 0, nil, false
}

// pcName and spName are the instruction and stack pointer registers.
func (k *Kernel) pcName() string {
	if k.arch == "x86_64" {
		return "rip"
	}
	return "eip"
}

func (k *Kernel) spName() string {
	if k.arch == "x86_64" {
		return "rsp"
	}
	return "esp"
}

// pc returns a CPU's instruction pointer.
func (k *Kernel) pc(cpu int) (uint64, *model.RegisterSet, error) {
	v, s, ok := k.cpuReg(cpu, k.pcName())
	if !ok {
		return 0, nil, k.noCPU(cpu, k.pcName())
	}
	return v, s, nil
}

func (k *Kernel) noCPU(cpu int, reg string) error {
	return &MissingError{File: k.name, What: fmt.Sprintf("%s of CPU %d", reg, cpu),
		Err: fmt.Errorf("no register set of CPU %d has it (the dump has CPUs %v): %w", cpu, k.cpuIndexes(), model.ErrNotFound)}
}
