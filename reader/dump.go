// Package reader opens crash dumps of every supported format behind one
// contract, Dump.
//
// Open probes each file by its magic (never by its name) through an
// ordered chain: makedumpfile's flattened stream first (it wraps the
// others), then kdump-compressed and diskdump, then ELF (vmcores and Xen
// dump-core), the legacy Xen core, and AIX dumps at offset 0 or 512
// (../shared/docs/formats.md §0). The chosen format package reads only the
// fixed headers; everything else is read on first use.
//
// The format readers live in sub-packages (elfcore, kdump, flat, xencore,
// aix) and share the helpers of rio, the register layouts of arch and the
// codecs of codec.
package reader

import (
	"context"

	"dumpscope/model"
)

// Dump is what every format offers. All methods are safe for concurrent
// use; page reads from several goroutines are how verify runs in parallel.
type Dump interface {
	// Info reports what the headers and notes say: format, architecture,
	// page size, frame counts by state. It never reads page data.
	Info() model.Info
	// Layout returns the annotated structure tree of the file(s).
	Layout() (*model.Field, error)
	// Notes lists every ELF-style note the dump carries.
	Notes() ([]model.Note, error)
	// VMCoreInfo returns the kernel's VMCOREINFO, or an error wrapping
	// model.ErrNotFound.
	VMCoreInfo() (*model.VMCoreInfo, error)
	// Registers lists register sets, one per CPU and source.
	Registers() ([]model.RegisterSet, error)
	// PageSize returns the page size in bytes.
	PageSize() int64
	// MaxPFN returns one past the highest frame the dump describes.
	MaxPFN() model.PFN
	// PageInfo returns the state of a frame and where it is stored.
	PageInfo(pfn model.PFN) model.PageInfo
	// ReadPage reads a frame into dst (one page). Frames that are not
	// readable give a *model.PageError.
	ReadPage(pfn model.PFN, dst []byte) (model.PageInfo, error)
	// Runs walks the frames from `from` to MaxPFN in runs of equal state.
	// With detail, formats that can refine the header-level states (kdump
	// descriptors: lost pages, shared zero pages) do so, at the cost of
	// reading every descriptor.
	Runs(ctx context.Context, from model.PFN, detail bool, yield func(model.PageRun) bool) error
	// ReadFile reads raw bytes of one of the dump's files (for flattened
	// streams, of the rearranged logical file), for the layout hex view.
	ReadFile(file string, p []byte, off int64) (int, error)
	// Warnings lists what was found wrong or missing while reading.
	Warnings() []model.Problem
	// Close releases the files.
	Close() error
}

// Indexer is implemented by dumps that build an index in one long pass
// (flattened streams). Callers that are about to read many pages may call
// Index first, to show progress and allow cancellation; otherwise the index
// is built on first use.
type Indexer interface {
	Index(ctx context.Context, progress func(done, total int64)) error
}

// PageExplainer is implemented by dumps that can show, for one frame, every
// structure involved in finding it (bitmap bits, page descriptor, stored
// bytes), for the layout view's drill-down.
type PageExplainer interface {
	ExplainPage(pfn model.PFN) (*model.Field, error)
}

// AreaReader is implemented by dumps made of named memory areas (AIX
// component dumps): components in order, their entries, and an entry's
// bytes by address.
type AreaReader interface {
	// Components lists the component dump tables and their entries.
	Components() ([]model.Component, error)
	// ReadArea reads len(p) bytes of entry `entry` of component `comp`
	// (both indexes as Components gives them) starting at address addr,
	// which must lie in [address, address+length). Bytes of pages that are
	// not in the dump are left as zeros and returned as gaps.
	ReadArea(comp, entry int, addr uint64, p []byte) (gaps []model.AreaGap, err error)
}

// Checker is implemented by dumps that can check their own structures
// beyond what reading every page shows: header sanity, table consistency,
// descriptor bounds, notes, and compatibility with other tools. Check
// reports every problem it finds through report and returns an error only
// when it cannot go on (cancellation, I/O failure).
type Checker interface {
	Check(ctx context.Context, report func(model.Problem)) error
}

// StrictPageReader is implemented by dumps whose pages can be decoded more
// strictly than ReadPage does for interactive use (strict snappy, trailing
// data after a zlib stream); verify uses it.
type StrictPageReader interface {
	ReadPageStrict(pfn model.PFN, dst []byte) (model.PageInfo, error)
}

// RangeReader is implemented by dumps that can read a run of consecutive
// frames faster than one ReadPage each (kdump: consecutive descriptors,
// page images read in large pieces). fn is called for every frame in
// order with the page (valid only during the call) or the error ReadPage
// would give; returning false stops. Verify uses it with strict decoding.
type RangeReader interface {
	ReadRange(ctx context.Context, start model.PFN, count uint64, strict bool, fn func(pi model.PageInfo, page []byte, err error) bool) error
}
