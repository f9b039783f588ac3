package elfcore

import (
	"context"
	"debug/elf"
	"fmt"
	"strconv"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/arch"
	"dumpscope/reader/elfnote"
)

// defaultPageSize is the page size assumed when VMCOREINFO does not give
// one: the base page size of each architecture's usual kernels.
func defaultPageSize(archName string) int64 {
	switch archName {
	case arch.PPC64, arch.PPC64LE:
		return 65536
	case arch.IA64:
		return 16384
	}
	return 4096
}

// pageSize returns the dumped kernel's page size: PAGESIZE from
// VMCOREINFO when it is sane, else the architecture's usual size.
func (f *File) pageSize() int64 {
	if v := f.loadNotes().vmci; v != nil {
		if s, ok := v.Get("PAGESIZE"); ok {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 1024 && n <= 1<<20 && n&(n-1) == 0 {
				return n
			}
		}
	}
	return defaultPageSize(f.archName)
}

func (f *File) pageIndex() *pageIndex {
	f.indexOnce.Do(func() {
		f.index = f.buildIndex(uint64(f.pageSize()))
	})
	return f.index
}

// Notes returns every note of every PT_NOTE segment.
func (f *File) Notes() ([]model.Note, error) { return f.loadNotes().notes, nil }

// VMCoreInfo returns the VMCOREINFO note, or model.ErrNotFound.
func (f *File) VMCoreInfo() (*model.VMCoreInfo, error) {
	if v := f.loadNotes().vmci; v != nil {
		return v, nil
	}
	return nil, fmt.Errorf("%s: no VMCOREINFO note: %w", f.src.Name, model.ErrNotFound)
}

// Registers returns the register sets of the NT_PRSTATUS and QEMU notes.
func (f *File) Registers() ([]model.RegisterSet, error) { return f.loadRegisters().regs, nil }

// warnings returns what was found wrong while reading headers and notes.
func (f *File) warnings() []model.Problem {
	ns := f.loadNotes()
	out := append([]model.Problem(nil), f.problems...)
	return append(out, ns.problems...)
}

// PageInfo returns the state of frame pfn.
func (f *File) PageInfo(pfn model.PFN) model.PageInfo {
	return f.pageIndex().pageInfo(pfn, f.src.Name)
}

// Defined returns the byte ranges of a frame the PT_LOADs cover in part
// (see reader.PartialFrames).
func (f *File) Defined(pfn model.PFN) [][2]model.PhysAddr {
	return f.pageIndex().defined(pfn)
}

// ReadPage reads frame pfn into dst, which must hold one page. Pages are
// not cached: an ELF page is one read at an offset the program headers
// give, and a cached copy would cost as much to keep as to read again
// (copying every page read into a cache cost random reads a fifth of
// their CPU; remote sources cache their blocks themselves).
func (f *File) ReadPage(pfn model.PFN, dst []byte, opt reader.ReadOptions) (model.PageInfo, error) {
	ix := f.pageIndex()
	if uint64(len(dst)) < ix.pageSize {
		return model.PageInfo{}, fmt.Errorf("buffer of %d bytes is smaller than a page (%d)", len(dst), ix.pageSize)
	}
	return f.readPage(ix, pfn, dst[:ix.pageSize])
}

// maxSpan bounds one read of ReadRange.
const maxSpan = 1 << 20

// ReadRange reads consecutive frames in order. Whole frames that one
// PT_LOAD stores one after the other are read together, up to maxSpan
// bytes at a time, and handed out from that buffer: one read system call
// per megabyte instead of one per page, and no copy into a page buffer.
// Other frames (partial, zero-filled, absent, or in a span whose read
// fails) are read as ReadPage reads them, with its errors.
func (f *File) ReadRange(ctx context.Context, start model.PFN, count uint64, opt reader.ReadOptions, fn func(model.PageInfo, []byte, error) bool) error {
	ix := f.pageIndex()
	ps := ix.pageSize
	page := make([]byte, ps)
	var span *[]byte
	defer func() {
		if span != nil {
			f.spans.Put(span)
		}
	}()
	pfn, end := uint64(start), uint64(start)+count
	for step := 0; pfn < end; step++ {
		if step%64 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if n := ix.wholeData(pfn, end); n > 1 {
			if span == nil {
				span = f.span()
			}
			n = min(n, uint64(len(*span))/ps)
			i := ix.find(pfn * ps)
			p := ix.pieces[i]
			buf := (*span)[:n*ps]
			if _, err := f.src.R.ReadAt(buf, p.fileOff+int64(pfn*ps-p.start)); err == nil {
				for k := uint64(0); k < n; k++ {
					pi := ix.pageInfo(model.PFN(pfn+k), f.src.Name)
					if !fn(pi, buf[k*ps:(k+1)*ps], nil) {
						return nil
					}
				}
				pfn += n
				continue
			}
			// A failed read: the frames one by one say which and why.
		}
		pi, err := f.readPage(ix, model.PFN(pfn), page)
		if !fn(pi, page, err) {
			return nil
		}
		pfn++
	}
	return nil
}

func (f *File) span() *[]byte {
	if b, ok := f.spans.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, maxSpan)
	return &b
}

// Counts counts frames by state from the program headers.
func (f *File) Counts(ctx context.Context) (model.StateCounts, error) {
	return reader.CountsByRuns(ctx, f)
}

// Runs walks frames from `from` in runs of equal state. ELF states come
// from the program headers alone, so detail changes nothing.
func (f *File) Runs(ctx context.Context, from model.PFN, detail bool, yield func(model.PageRun) bool) error {
	return f.pageIndex().runs(ctx, from, yield)
}

// ReadFile reads raw bytes of the file, for the layout's hex view.
func (f *File) ReadFile(file string, p []byte, off int64) (int, error) {
	return f.src.R.ReadAt(p, off)
}

// Info reports what the headers and notes say.
func (f *File) Info() model.Info {
	ns := f.loadNotes()
	ver := int64(f.EVersion)
	info := model.Info{
		Format: model.FormatELF, Container: model.ContainerPlain, Parts: 1, Files: []string{f.src.Name},
		Arch: f.archName, Endian: endian(f), PageSize: f.pageSize(), MaxPFN: model.PFN(f.pageIndex().maxPFN),
		CPUs: elfnote.CountCPUs(ns.notes), HeaderVersion: &ver, Compression: []model.Codec{}, Flags: []string{},
		FrameKind: "physical", Warnings: f.warnings(),
	}
	if f.Flags&FlagIncomplete != 0 {
		info.Flags = append(info.Flags, "DUMP_ELF_INCOMPLETE")
	}
	elfnote.FillFromVMCoreInfo(&info, ns.vmci)
	var loads, notes int
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			loads++
		case elf.PT_NOTE:
			notes++
		}
	}
	info.Details = append(info.Details,
		model.KV{Key: "ELF class", Value: f.Class.String()},
		model.KV{Key: "machine", Value: f.Machine.String()},
		model.KV{Key: "program headers", Value: fmt.Sprintf("%d (%d PT_LOAD, %d PT_NOTE) at %#x", len(f.Progs), loads, notes, f.Phoff)},
		model.KV{Key: "notes", Value: strconv.Itoa(len(ns.notes))},
		model.KV{Key: "producer", Value: producer(f, ns.notes)},
	)
	return info
}

func endian(f *File) model.Endian {
	if f.Data == elf.ELFDATA2MSB {
		return model.BigEndian
	}
	return model.LittleEndian
}

// producer guesses which program wrote the file (formats.md §3.8).
func producer(f *File, notes []model.Note) string {
	for _, n := range notes {
		if n.Name == elfnote.NameQEMU {
			return "QEMU dump-guest-memory"
		}
		if n.Name == elfnote.NameEraseInfo {
			return "makedumpfile -E"
		}
	}
	if f.Flags&FlagIncomplete != 0 {
		return "makedumpfile -E"
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Off%4096 != 0 {
			return "unknown"
		}
	}
	return "kexec /proc/vmcore or makedumpfile -E"
}
