// Package reader is the leaf contract every dump format implements, and the
// small tools format readers share.
//
//   - Dump (this file) is what every format offers; a few optional
//     interfaces cover what only some formats have (AIX areas, the
//     explanation of one frame's storage, the index of a container).
//   - Format (format.go) names a format, recognises it by its magic and
//     opens it; a probe chain is a list of Formats (package open holds the
//     list).
//   - Source (source.go) is one input file read through bounded reads that
//     never trust a length from the file.
//   - StructLayout (structlayout.go) builds the annotated layout tree of an
//     on-disk structure field by field.
//   - LRU, PageCache and RunWriter are the caches and the run merger the
//     readers share.
//
// Format packages (elfcore, kdump, xencore, aix) import reader, model and
// their shared helpers (elfnote, arch, codec) and nothing else of ours;
// containers (flat) wrap another format's Dump. Nothing here imports a
// format package: ARCHITECTURE.md gives the rules and a test enforces them.
package reader

import (
	"context"

	"dumpscope/model"
)

// Dump is what every format offers. All methods are safe for concurrent
// use; page reads from several goroutines are how verify runs in parallel.
type Dump interface {
	// Info reports what the headers and notes say: format, architecture,
	// page size, frame space, codecs, problems found while opening. It
	// never reads page data and never scans bitmaps or page descriptors
	// (Counts does), so it is cheap to call.
	Info() model.Info
	// Counts counts the frames by state as the headers give them (bitmap
	// popcounts for kdump, PT_LOAD sizes for ELF). It may scan bitmaps; it
	// never reads page data or page descriptors.
	Counts(ctx context.Context) (model.StateCounts, error)
	// Layout returns the annotated structure tree of the file(s).
	Layout() (*model.Field, error)
	// Notes lists every ELF-style note the dump carries.
	Notes() ([]model.Note, error)
	// VMCoreInfo returns the kernel's VMCOREINFO, or an error wrapping
	// model.ErrNotFound.
	VMCoreInfo() (*model.VMCoreInfo, error)
	// Registers lists register sets, one per CPU and source.
	Registers() ([]model.RegisterSet, error)
	// PageInfo returns the state of a frame and where it is stored.
	PageInfo(pfn model.PFN) model.PageInfo
	// ReadPage reads a frame into dst (one page). Frames that are not
	// readable give a *model.PageError.
	ReadPage(pfn model.PFN, dst []byte, opt ReadOptions) (model.PageInfo, error)
	// ReadRange reads count consecutive frames from start, in order,
	// calling fn for each with the page (valid only during the call) or the
	// error ReadPage would give; fn returning false stops. Formats read
	// ranges in large pieces where they can (ReadRangeByPage is the plain
	// way). Frames that are not readable are passed to fn with their error.
	ReadRange(ctx context.Context, start model.PFN, count uint64, opt ReadOptions, fn func(pi model.PageInfo, page []byte, err error) bool) error
	// Runs walks the frames from `from` to Info().MaxPFN in runs of equal
	// state. With detail, formats that can refine the header-level states
	// (kdump descriptors: lost pages, shared zero pages) do so, at the cost
	// of reading every descriptor.
	Runs(ctx context.Context, from model.PFN, detail bool, yield func(model.PageRun) bool) error
	// ReadFile reads raw bytes of one of the dump's files (for a flattened
	// stream, of the rearranged logical file), for the layout hex view.
	ReadFile(file string, p []byte, off int64) (int, error)
	// Check checks the dump's own structures beyond what reading every page
	// shows: header sanity, table consistency, descriptor bounds, notes,
	// and compatibility with other tools. It reports every problem through
	// report and returns an error only when it cannot go on (cancellation,
	// I/O failure).
	Check(ctx context.Context, report func(model.Problem)) error
	// Close releases the files.
	Close() error
}

// ReadOptions say how a page is read.
type ReadOptions struct {
	// Strict decodes with the strictest decoders (strict snappy, nothing
	// after a zlib stream, a checked zstd frame) and bypasses the page
	// cache; verify reads this way.
	Strict bool
}

// ReadRangeByPage is ReadRange done one ReadPage at a time, for formats
// whose frames gain nothing from being read together.
func ReadRangeByPage(ctx context.Context, d Dump, start model.PFN, count uint64, opt ReadOptions, fn func(model.PageInfo, []byte, error) bool) error {
	buf := make([]byte, d.Info().PageSize)
	for i := uint64(0); i < count; i++ {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		pfn := start + model.PFN(i)
		pi, err := d.ReadPage(pfn, buf, opt)
		pi.PFN = pfn
		if !fn(pi, buf, err) {
			return nil
		}
	}
	return nil
}

// CountsByRuns is Counts done by walking Runs (without detail) from the
// first frame, for formats whose headers hold no counts of their own.
func CountsByRuns(ctx context.Context, d Dump) (model.StateCounts, error) {
	c := model.StateCounts{}
	err := d.Runs(ctx, 0, false, func(r model.PageRun) bool {
		c.Add(r.State, r.Count)
		return true
	})
	return c, err
}

// PageExplainer is implemented by dumps that can show, for one frame,
// every structure involved in finding it (bitmap bits, page descriptor,
// stored bytes), for the layout view's drill-down.
type PageExplainer interface {
	ExplainPage(pfn model.PFN) (*model.Field, error)
}

// PartialFrames is implemented by formats that can store a frame in part:
// ELF segments and AIX areas need not start or end on a page boundary.
// For a frame whose PageInfo has Partial set, Defined returns the physical
// byte ranges [start, end) of the frame whose contents the dump defines
// (stored, or zeros by definition), sorted and disjoint. The rest of the
// frame is not in the dump, although ReadPage fills it with zeros. For any
// other frame it returns nil.
type PartialFrames interface {
	Defined(pfn model.PFN) [][2]model.PhysAddr
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

// QuickCounter is implemented by dumps whose Counts scans structures that
// grow with the address space (kdump's bitmaps: 2 × 32 MiB for 1 TiB).
// CountScanBytes says how many bytes Counts would read (0 once it has
// counted: then the counts are all there); it reads nothing. QuickCounts
// returns, without that scan, the frame counts known exactly (the other
// states are left out); it may read a few structures, so front ends ask
// for it only when the scan is not worth it.
type QuickCounter interface {
	CountScanBytes() int64
	QuickCounts() model.StateCounts
}

// Indexer is implemented by containers that must scan their whole input
// once before every read is exact (a flattened stream). Callers about to
// read much may call Index first, to show progress and allow
// cancellation; otherwise the index grows as reads need it. Plain files
// are never indexed.
type Indexer interface {
	Index(ctx context.Context, progress func(done, total int64)) error
}
