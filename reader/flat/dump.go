package flat

import (
	"context"
	"fmt"
	"sync"

	"dumpscope/model"
	"dumpscope/reader"
)

// Format returns the flattened stream as a format of a probe chain: a
// container whose logical file holds a dump of one of the inner formats
// (kdump-compressed or ELF, formats.md §2.4). The inner dump's readers see
// the logical file only; everything the stream adds — its own structures,
// its problems, stream offsets in the layout, the index, the coverage
// checks — is this package's.
func Format(inner ...reader.Format) reader.Format {
	return reader.Format{
		Name:  "makedumpfile flattened stream",
		Magic: `"makedumpfile" at 0`,
		Probe: func(h []byte) (reader.Match, bool) {
			return reader.Match{}, len(h) >= 16 && string(h[:16]) == Signature+"\x00\x00\x00\x00"
		},
		Open: func(src reader.Source, _ reader.Match) (reader.Dump, error) { return Open(src, inner) },
	}
}

// innerProbeSize is how much of the logical file the inner probes see.
// Only kdump and ELF can be inside, and their magics are in the first 64
// bytes; reading more could touch a range no record covers, which is known
// to be a hole only after the whole stream is scanned.
const innerProbeSize = 64

// Dump is a dump read through a flattened stream.
type Dump struct {
	stream  *File
	formats []reader.Format
	logical reader.Source

	mu      sync.RWMutex
	inner   reader.Dump
	settled bool // the inner dump was opened again after a full index
}

// Open opens the stream in src and the dump inside it.
func Open(src reader.Source, inner []reader.Format) (*Dump, error) {
	stream, err := NewFile(src)
	if err != nil {
		return nil, err
	}
	d := &Dump{stream: stream, formats: inner,
		logical: reader.Source{Name: src.Name, R: logicalFile{stream}, Size: 1<<63 - 1}}
	if d.inner, err = d.openInner(); err != nil {
		return nil, err
	}
	return d, nil
}

// logicalFile is the rearranged file as an io.ReaderAt whose size is known
// once the stream is indexed. It has no Close: the Dump owns the stream.
type logicalFile struct{ f *File }

func (l logicalFile) ReadAt(p []byte, off int64) (int, error) { return l.f.ReadAt(p, off) }
func (l logicalFile) Size() int64                             { return l.f.Size() }

func (d *Dump) openInner() (reader.Dump, error) {
	in, err := reader.OpenWith(d.logical, d.formats, innerProbeSize)
	const inside = "inside the flattened stream (offsets of the file it rearranges to)"
	if fe, ok := err.(*model.FormatError); ok && fe.File != "" {
		// "FILE: inside ...: what", as every message starts with the file.
		e := *fe
		e.Msg = inside + ": " + e.Msg
		return nil, &e
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", inside, err)
	}
	return in, nil
}

// dump returns the current inner dump.
func (d *Dump) dump() reader.Dump {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.inner
}

// Index scans every record header of the stream, so that every later read
// is exact, then opens the inner dump again: makedumpfile rewrites the
// kdump sub-header at the end of a stream (to add eraseinfo), and a later
// record wins.
func (d *Dump) Index(ctx context.Context, progress func(done, total int64)) error {
	if err := d.stream.Index(ctx, progress); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.settled {
		return nil
	}
	in, err := d.openInner()
	if err != nil {
		return err
	}
	// The old inner dump stays valid for readers that hold it: it reads
	// the same logical file, which stays open.
	d.inner, d.settled = in, true
	return nil
}

// Info is the inner dump's, seen as a flattened container, with the
// stream's own problems.
func (d *Dump) Info() model.Info {
	in := d.dump().Info()
	in.Container = model.ContainerFlattened
	in.Warnings = append(in.Warnings, d.stream.Problems()...)
	return in
}

// Counts are the inner dump's.
func (d *Dump) Counts(ctx context.Context) (model.StateCounts, error) { return d.dump().Counts(ctx) }

// CountScanBytes is the inner dump's: what its Counts reads of the
// logical file (an inner dump without QuickCounter, ELF, counts from its
// headers: 0).
func (d *Dump) CountScanBytes() int64 {
	if q, ok := d.dump().(reader.QuickCounter); ok {
		return q.CountScanBytes()
	}
	return 0
}

// QuickCounts are the inner dump's once the stream is indexed. Before,
// nothing is known: a kdump's quick count reads its last page descriptor,
// which makedumpfile -F writes near the end of the stream, so that one
// read would cost a scan of every record header (on a remote stream, the
// whole stream), more than Counts, which reads the bitmaps at its start.
func (d *Dump) QuickCounts() model.StateCounts {
	if q, ok := d.dump().(reader.QuickCounter); ok && d.stream.Indexed() {
		return q.QuickCounts()
	}
	return model.StateCounts{}
}

// Notes are the inner dump's.
func (d *Dump) Notes() ([]model.Note, error) { return d.dump().Notes() }

// VMCoreInfo is the inner dump's.
func (d *Dump) VMCoreInfo() (*model.VMCoreInfo, error) { return d.dump().VMCoreInfo() }

// Registers are the inner dump's.
func (d *Dump) Registers() ([]model.RegisterSet, error) { return d.dump().Registers() }

// PageInfo is the inner dump's.
func (d *Dump) PageInfo(pfn model.PFN) model.PageInfo { return d.dump().PageInfo(pfn) }

// Runs are the inner dump's.
func (d *Dump) Runs(ctx context.Context, from model.PFN, detail bool, yield func(model.PageRun) bool) error {
	return d.dump().Runs(ctx, from, detail, yield)
}

// ReadFile reads the logical (rearranged) file.
func (d *Dump) ReadFile(_ string, p []byte, off int64) (int, error) { return d.stream.ReadAt(p, off) }

// ReadPage reads a page through the inner dump. A page whose stored bytes
// fall in a hole of the stream is reported as such: no record wrote it.
func (d *Dump) ReadPage(pfn model.PFN, dst []byte, opt reader.ReadOptions) (model.PageInfo, error) {
	pi, err := d.dump().ReadPage(pfn, dst, opt)
	if cerr := d.coverage(pi); cerr != nil {
		return pi, cerr
	}
	return pi, err
}

// ReadRange reads pages through the inner dump, checking each page's
// stored bytes against the stream's holes.
func (d *Dump) ReadRange(ctx context.Context, start model.PFN, count uint64, opt reader.ReadOptions, fn func(model.PageInfo, []byte, error) bool) error {
	return d.dump().ReadRange(ctx, start, count, opt, func(pi model.PageInfo, page []byte, err error) bool {
		if cerr := d.coverage(pi); cerr != nil {
			return fn(pi, nil, cerr)
		}
		return fn(pi, page, err)
	})
}

// coverage returns the error for a page whose stored bytes no record of
// the stream wrote, or nil.
func (d *Dump) coverage(pi model.PageInfo) error {
	if pi.State != model.StatePresent || pi.FileOffset < 0 || pi.StoredSize <= 0 {
		return nil
	}
	off := int64(pi.FileOffset)
	h, ok := d.stream.hole(off, off+pi.StoredSize)
	if !ok {
		return nil
	}
	return &model.PageError{File: d.stream.Name(), PFN: pi.PFN, State: model.StateUnreadable, Code: model.CodeStreamCoverage, Off: model.FileOff(off),
		Msg: fmt.Sprintf("no record of the flattened stream writes its stored bytes %#x-%#x (logical file)", h[0], h[1]), Err: model.ErrCorrupt}
}

// Check indexes the whole stream, runs the inner dump's checks and then
// reports every range that a read wanted and no record wrote: bytes the
// inner reader needs (headers, bitmaps, descriptors) that read as zeros.
// Bytes the reader never reads, such as bitmap padding beyond max_mapnr,
// are no gap.
func (d *Dump) Check(ctx context.Context, report func(model.Problem)) error {
	if err := d.Index(ctx, nil); err != nil {
		return err
	}
	if err := d.dump().Check(ctx, report); err != nil {
		return err
	}
	d.reportHoleReads(report)
	return nil
}

func (d *Dump) reportHoleReads(report func(model.Problem)) {
	holes, more := d.stream.HoleReads()
	var layout *model.Field
	if len(holes) > 0 {
		layout, _ = d.dump().Layout()
	}
	for _, h := range holes {
		of := ""
		if n := structureAt(layout, model.FileOff(h[0])); n != nil {
			of = " of " + n.Name
		}
		report(model.NewProblem(model.SeverityError, model.CodeStreamCoverage, d.stream.Name(), h[0],
			"no record of the flattened stream writes bytes %#x-%#x%s (logical file), which the reader needs: they read as zeros", h[0], h[1], of))
	}
	if more > 0 {
		report(model.NewProblem(model.SeverityError, model.CodeStreamCoverage, d.stream.Name(), -1,
			"%d more ranges that no record writes were read", more))
	}
}

// structureAt returns the top-level structure of the layout (a header, a
// bitmap, the descriptor table) whose range holds off.
func structureAt(root *model.Field, off model.FileOff) *model.Field {
	if root == nil {
		return nil
	}
	for _, n := range root.Children {
		if n.Offset >= 0 && n.Offset <= off && off < n.End() {
			return n
		}
	}
	return nil
}

// Layout is the inner dump's layout with the stream offset of every node
// whose bytes one record holds, led by the stream's own structures. The
// whole stream is indexed first, so that the logical file's size is known.
func (d *Dump) Layout() (*model.Field, error) {
	if err := d.Index(context.Background(), nil); err != nil {
		return nil, err
	}
	root, err := d.dump().Layout()
	if err != nil {
		return nil, err
	}
	d.annotate(root)
	if size := d.stream.Size(); root.Size > size {
		root.Size = size
	}
	sl, err := d.stream.Layout()
	if err != nil {
		return nil, err
	}
	root.Children = append([]*model.Field{sl}, root.Children...)
	return root, nil
}

// annotate gives every node whose bytes one record holds its stream
// offset.
func (d *Dump) annotate(root *model.Field) {
	root.Walk(func(n *model.Field, _ int) bool {
		if n.Offset >= 0 && n.Size > 0 && n.StreamOffset == nil {
			if so, ok := d.stream.StreamOffset(int64(n.Offset), n.Size); ok {
				o := model.FileOff(so)
				n.StreamOffset = &o
			}
		}
		return true
	})
}

// ExplainPage is the inner dump's, when it has one, with stream offsets.
func (d *Dump) ExplainPage(pfn model.PFN) (*model.Field, error) {
	if e, ok := d.dump().(reader.PageExplainer); ok {
		n, err := e.ExplainPage(pfn)
		if n != nil {
			d.annotate(n)
		}
		return n, err
	}
	return nil, fmt.Errorf("%s: the dump inside the stream cannot explain a frame: %w", d.stream.Name(), model.ErrNotFound)
}

// Defined is the inner dump's, for an ELF file inside the stream.
func (d *Dump) Defined(pfn model.PFN) [][2]model.PhysAddr {
	if p, ok := d.dump().(reader.PartialFrames); ok {
		return p.Defined(pfn)
	}
	return nil
}

// Stream returns the stream, for rearranging it.
func (d *Dump) Stream() *File { return d.stream }

// Close closes the stream.
func (d *Dump) Close() error { return d.stream.Close() }

var (
	_ reader.Dump          = (*Dump)(nil)
	_ reader.Indexer       = (*Dump)(nil)
	_ reader.PageExplainer = (*Dump)(nil)
	_ reader.PartialFrames = (*Dump)(nil)
	_ reader.QuickCounter  = (*Dump)(nil)
)
