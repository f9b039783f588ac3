package kdump

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/codec"
	"dumpscope/reader/elfnote"
)

// Limits on structures read whole.
const (
	maxTextSize = 16 << 20 // VMCOREINFO, eraseinfo
	maxNotes    = 64 << 20
)

// File is one open kdump-compressed or diskdump file.
type File struct {
	Header DiskDumpHeader
	// Sub is the sub-header; zero for DISKDUMP files, which keep an
	// architecture-specific register area there instead.
	Sub          KdumpSubHeader
	HeaderLayout HeaderLayout
	SubLayout    SubLayout

	src   reader.Source
	order binary.ByteOrder
	// local is set when src reads a local file through reader.ReadAhead:
	// walks in order then read the descriptor table and the page images
	// in pieces of their own (descWindow, ReadRange), which pass the
	// windows by. Other readers (a remote object, a flattened stream's
	// logical file) keep the block cache and the read sizes their own
	// read-ahead was tuned with (BenchmarkRemoteCost).
	local    bool
	version  int32 // header_version, capped at 6
	pageSize int64
	maxMapnr uint64
	// start and end bound the pfns stored in this file (split parts).
	start, end uint64
	bm         *bitmaps
	descs      *descTable
	problems   []model.Problem

	notesMu sync.Mutex
	notes   *noteInfo // read on first use; reset when a stream index rewrites the sub-header

	cutOnce sync.Once
	cut     bool // page data cut by the end of the file (see dataCut)

	dataOnce  sync.Once
	nDescs    uint64 // descriptors in this file: set bits of bitmap 2 in [start, end)
	dataStart int64  // file offset of the page data (the shared zero page, if any)
	dataErr   error

	cache *reader.PageCache // recently decoded pages

	zeroImage atomic.Pointer[[]byte] // the shared zero page's image, once read (ReadRange)

	countsMu  sync.Mutex
	countsVal model.StateCounts // frames by state from the bitmaps (Counts)

	decoders, strictDecoders sync.Pool
	bufs                     sync.Pool // *[]byte: one stored page (ReadPage)
	ranges                   sync.Pool // *rangeBuffers (ReadRange)
}

// noteInfo is what the notes give, read once.
type noteInfo struct {
	arch     string
	notes    []model.Note
	vmci     *model.VMCoreInfo
	erase    []byte
	problems []model.Problem

	// The register sets are decoded from the notes when first asked for:
	// most commands (info --no-crash, dmesg, pages, verify) never are.
	regsOnce sync.Once
	regs     []model.RegisterSet
}

// NewFile reads the headers of a kdump-compressed or diskdump file.
func NewFile(src reader.Source) (*File, error) {
	f := &File{src: src}
	_, f.local = src.R.(*reader.ReadAhead)
	hdr := make([]byte, 464)
	if err := src.ReadAt(hdr, 0, "disk_dump_header"); err != nil {
		return nil, err
	}
	sig := string(hdr[:8])
	if sig != SignatureKdump && sig != SignatureDiskdump {
		return nil, model.Errorf(src.Name, "disk_dump_header.signature", 0, model.ErrUnrecognized, "signature %q is neither %q nor %q", sig, SignatureKdump, SignatureDiskdump)
	}
	h, layout, order, ok := detectMain(hdr)
	if !ok {
		return nil, model.Errorf(src.Name, "disk_dump_header", 0, model.ErrCorrupt,
			"block_size, bitmap_blocks and max_mapnr are implausible in both header layouts and byte orders")
	}
	f.Header, f.HeaderLayout, f.order = h, layout, order
	if h.HeaderVersion < 0 {
		return nil, model.Errorf(src.Name, "disk_dump_header.header_version", 8, model.ErrCorrupt, "negative header version %d", h.HeaderVersion)
	}
	f.version = min(h.HeaderVersion, 6)
	if h.HeaderVersion > 6 {
		f.problem(model.SeverityWarning, model.CodeUnknownHeaderVersion, 8, "header_version %d is newer than 6, the last known; read as 6", h.HeaderVersion)
	}
	f.pageSize = int64(h.BlockSize)
	f.cache = reader.NewPageCache(f.pageSize)
	if err := f.readSubHeader(); err != nil {
		return nil, err
	}
	if err := f.locateTables(); err != nil {
		return nil, err
	}
	return f, nil
}

// problem records something found wrong while opening.
func (f *File) problem(sev model.Severity, code model.Code, off int64, format string, args ...any) {
	f.problems = append(f.problems, model.NewProblem(sev, code, f.src.Name, off, format, args...))
}

func (f *File) isKdump() bool { return f.Header.Signature == SignatureKdump }

// readSubHeader reads kdump_sub_header at block_size.
func (f *File) readSubHeader() error {
	if !f.isKdump() {
		return nil // diskdump: an architecture-specific register area
	}
	bs := int64(f.Header.BlockSize)
	b := make([]byte, subHeaderSize(Sub64))
	n, _ := f.src.R.ReadAt(b, bs)
	need := subHeaderSize(Sub32Packed)
	if f.version == 0 {
		need = 4
	}
	if n < need && f.src.Len() < bs+int64(need) {
		return model.Errorf(f.src.Name, "kdump_sub_header", bs, model.ErrTruncated, "the file ends before the sub-header (size %#x)", f.src.Len())
	}
	sub, layout, ok := chooseSub(b[:n], f.Header, f.HeaderLayout, f.order, f.src.Len())
	f.Sub, f.SubLayout = sub, layout
	if !ok {
		f.problem(model.SeverityError, model.CodeBadSubHeader, bs,
			"kdump_sub_header pointers are implausible in every layout (offsets outside the sub-header area); read as %v", layout)
	}
	return nil
}

// locateTables computes where the bitmaps and descriptors are, the frame
// range and the pfn range of this file.
func (f *File) locateTables() error {
	h := f.Header
	bs := int64(h.BlockSize)
	if h.SubHdrSize < 0 || int64(h.SubHdrSize) > 1<<30 {
		return model.Errorf(f.src.Name, "disk_dump_header.sub_hdr_size", mainFieldOff(f.HeaderLayout, "sub_hdr_size"), model.ErrCorrupt, "sub_hdr_size %d is out of range", h.SubHdrSize)
	}
	bitmapOff := (1 + int64(h.SubHdrSize)) * bs
	area, ok := reader.MulOK(int64(h.BitmapBlocks), bs)
	if !ok {
		return model.Errorf(f.src.Name, "disk_dump_header.bitmap_blocks", mainFieldOff(f.HeaderLayout, "bitmap_blocks"), model.ErrCorrupt, "bitmap_blocks %d overflows", h.BitmapBlocks)
	}
	f.maxMapnr = uint64(h.MaxMapnr)
	if f.version >= 6 && f.Sub.MaxMapnr64 != 0 {
		f.maxMapnr = f.Sub.MaxMapnr64
	}
	// Two bitmaps when both fit in the area, else one (old diskdump files).
	single := f.maxMapnr > uint64(area)*8/2
	half := area / 2
	if single {
		half = area
	}
	if capacity := uint64(half) * 8; f.maxMapnr > capacity {
		f.problem(model.SeverityError, model.CodeBadHeader, -1, "max_mapnr %#x exceeds the %d frames the bitmap can describe; clamped", f.maxMapnr, capacity)
		f.maxMapnr = capacity
	}
	if single {
		f.problem(model.SeverityNote, model.CodeSingleBitmap, bitmapOff, "the file has one bitmap (old diskdump layout): it serves as both bitmaps")
	}
	// Only the bytes that hold bits below max_mapnr are ever read: the
	// rest of the last bitmap block is padding makedumpfile never writes
	// (in a flattened stream no record covers it).
	used := min(half, int64((f.maxMapnr+7)/8))
	f.bm = newBitmaps(f.src, bitmapOff, bitmapOff+area-half, used, half, single, f.maxMapnr)
	if end := bitmapOff + area; end > f.src.Len() {
		f.problem(model.SeverityError, model.CodeTruncated, min(bitmapOff, f.src.Len()), "the bitmaps need file bytes %#x-%#x but the file ends at %#x", bitmapOff, end, f.src.Len())
	}
	f.descs = newDescTable(f.src, bitmapOff+area, f.order)
	f.start, f.end = 0, f.maxMapnr
	if f.isKdump() && f.version >= 2 && f.Sub.Split != 0 {
		f.start, f.end = f.Sub.StartPFN, f.Sub.EndPFN
		if f.version >= 6 {
			f.start, f.end = f.Sub.StartPFN64, f.Sub.EndPFN64
		}
		if f.end > f.maxMapnr || f.start > f.end {
			f.problem(model.SeverityError, model.CodeBadSubHeader, int64(h.BlockSize), "split range %#x-%#x does not fit max_mapnr %#x; clamped", f.start, f.end, f.maxMapnr)
			f.end = min(f.end, f.maxMapnr)
			f.start = min(f.start, f.end)
		}
	}
	if f.isKdump() && h.Status&FlagIncomplete != 0 {
		f.problem(model.SeverityError, model.CodeIncomplete, -1, "the header says the dump is INCOMPLETE: makedumpfile could not write every page")
	}
	return nil
}

// Range returns the pfns [start, end) stored in this file; a file that is
// not part of a split set holds [0, max_mapnr).
func (f *File) Range() (start, end model.PFN) { return model.PFN(f.start), model.PFN(f.end) }

// IsSplit reports whether the file is one part of a split set.
func (f *File) IsSplit() bool { return f.isKdump() && f.version >= 2 && f.Sub.Split != 0 }

// ByteOrder returns the byte order of the file.
func (f *File) ByteOrder() binary.ByteOrder { return f.order }

// Name returns the file name.
func (f *File) Name() string { return f.src.Name }

// Close closes the underlying reader.
func (f *File) Close() error { return reader.Close(f.src.R) }

// absentExcludedState is what a pfn in bitmap 1 but not in bitmap 2 is:
// excluded by the dump level, except in header version 0 and diskdump
// files, where such pages were left out because they were zero.
func (f *File) absentExcludedState() (model.PageState, string) {
	if f.isKdump() && f.version >= 1 {
		return model.StateExcluded, fmt.Sprintf("excluded by dump level %d (in bitmap 1, not in bitmap 2)", f.Sub.DumpLevel)
	}
	return model.StateZeroFill, "left out because it is zero (header version 0 / diskdump)"
}

// loadData finds how many descriptors the file has and where page data
// starts, by counting bitmap 2 over this file's range (streams bitmap 2).
func (f *File) loadData() error {
	f.dataOnce.Do(func() {
		lo, err := f.bm.rank(f.start)
		if err != nil {
			f.dataErr = err
			return
		}
		hi, err := f.bm.rank(f.end)
		if err != nil {
			f.dataErr = err
			return
		}
		f.nDescs = hi - lo
		f.dataStart = f.descs.off + int64(f.nDescs)*descSize
	})
	return f.dataErr
}

// lookup returns the state of pfn, its descriptor index and descriptor.
func (f *File) lookup(pfn uint64) (pi model.PageInfo, idx uint64, d PageDesc, haveDesc bool) {
	return f.lookupIn(pfn, nil)
}

// lookupIn is lookup reading the descriptor through w (descTable.at).
func (f *File) lookupIn(pfn uint64, w *descWindow) (pi model.PageInfo, idx uint64, d PageDesc, haveDesc bool) {
	ps := uint64(f.pageSize)
	pi = model.PageInfo{PFN: model.PFN(pfn), PhysAddr: model.PhysAddr(pfn * ps), FileOffset: -1}
	switch {
	case pfn >= f.maxMapnr:
		pi.State, pi.Reason = model.StateNotInDump, fmt.Sprintf("beyond max_mapnr %#x", f.maxMapnr)
		return
	case pfn < f.start || pfn >= f.end:
		pi.State, pi.Reason = model.StateNotInDump, fmt.Sprintf("not in this split part (it holds pfns %#x-%#x)", f.start, f.end)
		return
	}
	st, err := f.bm.state(pfn)
	switch {
	case err != nil:
		pi.State, pi.Reason = model.StateUnreadable, "bitmap unreadable: "+err.Error()
		return
	case st == model.StateNotInDump:
		pi.State, pi.Reason = st, "not RAM (bitmap 1 clear)"
		return
	case st == model.StateExcluded:
		pi.State, pi.Reason = f.absentExcludedState()
		return
	}
	r, err := f.bm.rank(pfn)
	if err == nil {
		var lo uint64
		if lo, err = f.bm.rank(f.start); err == nil {
			idx = r - lo
		}
	}
	if err != nil {
		pi.State, pi.Reason = model.StateUnreadable, "bitmap 2 unreadable: "+err.Error()
		return
	}
	d, err = f.descs.at(w, idx)
	if pi = f.describeDesc(pfn, idx, d, err); err != nil {
		return pi, idx, d, false
	}
	return pi, idx, d, true
}

// classify sets the state of a frame whose descriptor is d.
func (f *File) classify(pi *model.PageInfo, d PageDesc, idx uint64) {
	bs := uint32(f.pageSize)
	pi.FileOffset, pi.StoredSize = model.FileOff(d.Offset), int64(d.Size)
	bad := func(format string, args ...any) {
		pi.State, pi.Reason = model.StateUnreadable, fmt.Sprintf("page_desc[%d]: ", idx)+fmt.Sprintf(format, args...)
		pi.Code = model.CodeBadPageDescriptor
	}
	switch end, ok := reader.AddOK(d.Offset, int64(d.Size)); {
	case d.Offset == 0:
		pi.State, pi.Reason = model.StateLost, fmt.Sprintf("page_desc[%d] has offset 0: the page was never written (incomplete dump)", idx)
		pi.FileOffset, pi.StoredSize, pi.Code = model.FileOff(f.descs.offsetOf(idx)), 0, model.CodeLostPage
	case d.Size == 0:
		bad("stored size 0")
	case d.Size > bs:
		bad("stored size %d exceeds the block size %d", d.Size, bs)
	case d.Flags&(FlagZlib|FlagLZO|FlagSnappy|FlagZstd) == 0 && d.Size != bs:
		bad("raw page of %d bytes, not %d", d.Size, bs)
	case d.Offset < 0 || !ok:
		bad("offset %#x is invalid", d.Offset)
	case end > f.src.Len():
		if f.dataCut() {
			pi.State, pi.Code = model.StateLost, model.CodeTruncated
			pi.Reason = fmt.Sprintf("its data (%d bytes at %#x) lies beyond the end of the file: the dump was cut short", d.Size, d.Offset)
		} else {
			bad("points at %d bytes at %#x, beyond the end of the file (%#x), which is otherwise complete", d.Size, d.Offset, f.src.Len())
		}
	default:
		pi.State = model.StatePresent
		pi.Codec = codecOf(d.Flags)
		if d.Size == bs {
			pi.Codec = model.CodecNone // a stored size of one block means raw
		}
		if pi.Codec == model.CodecNone && f.loadData() == nil && d.Offset == f.dataStart {
			pi.ZeroPage = true
		}
	}
}

// dataCut tells a file cut inside its page data from a file with a
// descriptor pointing past its end: in a cut file a page straddles the end
// or the first page beyond it starts exactly there. It walks every
// descriptor once.
func (f *File) dataCut() bool {
	f.cutOnce.Do(func() {
		if f.loadData() != nil || f.dataStart > f.src.Len() {
			f.cut = true // the descriptor table itself is cut
			return
		}
		size := f.src.Len()
		minBeyond := int64(-1)
		// Through a pooled window, as the structure check reads: the walk
		// does not fill the block cache.
		bufs := f.rangeBuffers()
		defer f.ranges.Put(bufs)
		w := f.window(bufs)
		for i := uint64(0); i < f.nDescs; i++ {
			d, err := f.descs.at(w, i)
			if err != nil {
				f.cut = true
				return
			}
			end := d.Offset + int64(d.Size)
			switch {
			case d.Offset < size && end > size:
				f.cut = true // straddles the end
				return
			case d.Offset >= size && (minBeyond < 0 || d.Offset < minBeyond):
				minBeyond = d.Offset
			}
		}
		f.cut = minBeyond == size
	})
	return f.cut
}

// PageInfo returns the state of a frame and where its data is.
func (f *File) PageInfo(pfn model.PFN) model.PageInfo {
	pi, _, _, _ := f.lookup(uint64(pfn))
	return pi
}

// ReadPage reads and decodes frame pfn into dst. Recently read pages come
// from a small cache; strict reads always decode from the file with the
// strictest decoders.
func (f *File) ReadPage(pfn model.PFN, dst []byte, opt reader.ReadOptions) (model.PageInfo, error) {
	if opt.Strict {
		return f.readPage(pfn, dst, true)
	}
	if int64(len(dst)) >= f.pageSize {
		if pi, ok := f.cache.Get(pfn, dst); ok {
			return pi, nil
		}
	}
	pi, err := f.readPage(pfn, dst, false)
	if err == nil && pi.State == model.StatePresent && pi.Codec != model.CodecNone {
		// Only decoded pages are kept: a page stored raw (and the shared
		// zero page) costs one read to get again, no more than copying it
		// into the cache and out.
		f.cache.Put(pfn, pi, dst)
	}
	return pi, err
}

func (f *File) readPage(pfn model.PFN, dst []byte, strict bool) (model.PageInfo, error) {
	if int64(len(dst)) < f.pageSize {
		return model.PageInfo{}, fmt.Errorf("buffer of %d bytes is smaller than a page (%d)", len(dst), f.pageSize)
	}
	dst = dst[:f.pageSize]
	pi, _, d, ok := f.lookup(uint64(pfn))
	if pi.State == model.StateZeroFill {
		clear(dst)
		return pi, nil
	}
	if !ok || pi.State != model.StatePresent {
		e := model.AbsentError(f.src.Name, pi)
		if pi.State == model.StateUnreadable {
			e.Code = model.CodeBadPageDescriptor
		}
		return pi, e
	}
	lost := func(err error) error {
		return &model.PageError{File: f.src.Name, PFN: pfn, State: model.StateLost, Off: model.FileOff(d.Offset), Msg: err.Error(), Err: err, Code: model.CodeTruncated}
	}
	if pi.ZeroPage && !strict {
		// makedumpfile points every zero frame it keeps at one stored
		// image: read it once per file, not once per frame.
		z, err := f.sharedZeroPage(d.Offset)
		if err != nil {
			return pi, lost(err)
		}
		copy(dst, z)
		return pi, nil
	}
	buf := f.getBuf()
	defer f.bufs.Put(buf)
	stored := (*buf)[:d.Size]
	if err := f.src.ReadAt(stored, d.Offset, "page data"); err != nil {
		return pi, lost(err)
	}
	dec := f.getDecoder(strict)
	defer f.putDecoder(dec, strict)
	if err := dec.Decode(pi.Codec, stored, dst); err != nil {
		return pi, &model.PageError{File: f.src.Name, PFN: pfn, State: model.StateUnreadable, Off: model.FileOff(d.Offset),
			Msg: fmt.Sprintf("%d stored bytes do not decode: %v", d.Size, err), Err: err, Code: model.CodeBadCompressedPage}
	}
	return pi, nil
}

func (f *File) getBuf() *[]byte {
	if b, ok := f.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, f.pageSize)
	return &b
}

func (f *File) getDecoder(strict bool) *codec.Decoder {
	pool := &f.decoders
	if strict {
		pool = &f.strictDecoders
	}
	if d, ok := pool.Get().(*codec.Decoder); ok {
		return d
	}
	d := codec.NewDecoder(int(f.pageSize))
	d.Strict = strict
	return d
}

func (f *File) putDecoder(d *codec.Decoder, strict bool) {
	if strict {
		f.strictDecoders.Put(d)
	} else {
		f.decoders.Put(d)
	}
}

// Runs walks the frames from `from` in runs of equal state. Without
// detail the states come from the bitmaps alone (present means "in bitmap
// 2"); with detail every descriptor of a present frame is read, so lost
// pages, bad descriptors and shared zero pages show.
func (f *File) Runs(ctx context.Context, from model.PFN, detail bool, yield func(model.PageRun) bool) error {
	w := reader.RunWriter{Yield: yield}
	pfn := uint64(from)
	if pfn < f.start && !w.Add(model.PageRun{Start: model.PFN(pfn), Count: min(f.start, f.maxMapnr) - pfn, State: model.StateNotInDump}) {
		return nil
	}
	pfn = max(pfn, f.start)
	exclState, _ := f.absentExcludedState()
	for pfn < f.end {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		blk := int64(pfn / pfnsPerBlock)
		blkEnd := min(uint64(blk+1)*pfnsPerBlock, f.end)
		b1, b2 := f.bm.block(0, blk), f.bm.block(1, blk)
		if b1.err != nil || b2.err != nil {
			// A block the file does not hold: when the file ends before it,
			// so does every later block, and the rest is one run.
			stop := blkEnd
			if f.bm.beyondEOF(blk) {
				stop = f.end
			}
			if !w.Add(model.PageRun{Start: model.PFN(pfn), Count: stop - pfn, State: model.StateUnreadable}) {
				return nil
			}
			pfn = stop
			continue
		}
		f.bm.noteBlock(blk, b1, b2)
		base := uint64(blk) * pfnsPerBlock
		for pfn < blkEnd {
			i := pfn - base
			// Whole 64-bit words of equal bits take one step.
			if i%64 == 0 && pfn+64 <= blkEnd && int(i/8)+8 <= len(b1.b) && int(i/8)+8 <= len(b2.b) {
				w1 := binary.LittleEndian.Uint64(b1.b[i/8:])
				w2 := binary.LittleEndian.Uint64(b2.b[i/8:])
				var st model.PageState
				switch {
				case w1 == 0:
					st = model.StateNotInDump
				case w1 == ^uint64(0) && w2 == 0:
					st = exclState
				case w1 == ^uint64(0) && w2 == ^uint64(0):
					st = model.StatePresent
				}
				if st != "" {
					if !f.emit(&w, pfn, 64, st, detail) {
						return nil
					}
					pfn += 64
					continue
				}
			}
			st := model.StatePresent
			switch {
			case int(i/8) >= len(b1.b) || b1.b[i/8]>>(i%8)&1 == 0:
				st = model.StateNotInDump
			case int(i/8) >= len(b2.b) || b2.b[i/8]>>(i%8)&1 == 0:
				st = exclState
			}
			if !f.emit(&w, pfn, 1, st, detail) {
				return nil
			}
			pfn++
		}
	}
	if pfn < f.maxMapnr && !w.Add(model.PageRun{Start: model.PFN(pfn), Count: f.maxMapnr - pfn, State: model.StateNotInDump}) {
		return nil
	}
	w.Flush()
	return nil
}

// emit adds n frames from pfn in state st, refining present frames from
// their descriptors when detail is set. The descriptors of consecutive
// present frames are consecutive, so the rank is looked up once per run.
func (f *File) emit(w *reader.RunWriter, pfn, n uint64, st model.PageState, detail bool) bool {
	if !detail || st != model.StatePresent {
		return w.Add(model.PageRun{Start: model.PFN(pfn), Count: n, State: st})
	}
	pi, idx, _, ok := f.lookup(pfn)
	if !w.Add(model.PageRun{Start: model.PFN(pfn), Count: 1, State: pi.State, ZeroPage: pi.ZeroPage}) {
		return false
	}
	for i := uint64(1); i < n; i++ {
		if !ok {
			// The first descriptor could not be found: look each up.
			pi, idx, _, ok = f.lookup(pfn + i)
		} else {
			idx++
			pi = f.describe(pfn+i, idx)
		}
		if !w.Add(model.PageRun{Start: model.PFN(pfn + i), Count: 1, State: pi.State, ZeroPage: pi.ZeroPage}) {
			return false
		}
	}
	return true
}

// describe is lookup for a frame known to be in bitmap 2 whose descriptor
// index is idx.
func (f *File) describe(pfn, idx uint64) model.PageInfo {
	d, err := f.descs.get(idx)
	return f.describeDesc(pfn, idx, d, err)
}

// describeDesc is describe with the descriptor already read.
func (f *File) describeDesc(pfn, idx uint64, d PageDesc, err error) model.PageInfo {
	ps := uint64(f.pageSize)
	pi := model.PageInfo{PFN: model.PFN(pfn), PhysAddr: model.PhysAddr(pfn * ps), FileOffset: -1}
	if err != nil {
		pi.State, pi.Reason = model.StateLost, fmt.Sprintf("page_desc[%d] at %#x lies beyond the end of the file: the dump was cut short", idx, f.descs.offsetOf(idx))
		pi.FileOffset, pi.Code = model.FileOff(f.descs.offsetOf(idx)), model.CodeTruncated
		return pi
	}
	f.classify(&pi, d, idx)
	return pi
}

// ReadFile reads raw bytes of the file (the logical file for flattened
// streams).
func (f *File) ReadFile(file string, p []byte, off int64) (int, error) { return f.src.R.ReadAt(p, off) }

// loadNotes reads the notes copy, VMCOREINFO and eraseinfo once.
func (f *File) loadNotes() *noteInfo {
	f.notesMu.Lock()
	defer f.notesMu.Unlock()
	if f.notes == nil {
		n := &noteInfo{}
		f.notes = n
		n.arch = archFromMachine(f.Header.Utsname.Machine)
		s := f.Sub
		if f.isKdump() && f.version >= 4 && s.OffsetNote > 0 && s.SizeNote > 0 {
			if s.SizeNote > maxNotes {
				n.problems = append(n.problems, model.NewProblem(model.SeverityError, model.CodeBadSubHeader, f.src.Name, int64(f.Header.BlockSize),
					"size_note %d exceeds the limit of %d", s.SizeNote, maxNotes))
			} else {
				n.notes, n.problems = elfnote.ReadNotes(f.src, f.order, n.arch, s.OffsetNote, int64(s.SizeNote), 0, "notes")
				if n.arch == "" {
					// The header names no architecture: tell it from the
					// prstatus notes, then decode them again.
					if n.arch = archFromNotes(n.notes, f.order); n.arch != "" {
						n.notes, n.problems = elfnote.ReadNotes(f.src, f.order, n.arch, s.OffsetNote, int64(s.SizeNote), 0, "notes")
					}
				}
			}
		}
		if f.isKdump() && f.version >= 3 && s.OffsetVMCoreInfo > 0 && s.SizeVMCoreInfo > 0 {
			b, err := f.readText(s.OffsetVMCoreInfo, s.SizeVMCoreInfo, "VMCOREINFO", n)
			if err == nil {
				n.vmci = model.ParseVMCoreInfo(b)
				n.vmci.File, n.vmci.FileOffset = f.src.Name, model.FileOff(s.OffsetVMCoreInfo)
			}
		}
		if n.vmci == nil {
			n.vmci = elfnote.VMCoreInfoFromNotes(n.notes)
		}
		if f.isKdump() && f.version >= 5 && s.OffsetEraseInfo > 0 && s.SizeEraseInfo > 0 {
			if b, err := f.readText(s.OffsetEraseInfo, s.SizeEraseInfo, "eraseinfo", n); err == nil {
				n.erase = b
			}
		}
		n.problems = append(n.problems, elfnote.RegisterNoteProblems(n.notes, n.arch, f.order)...)
	}
	return f.notes
}

// loadRegisters decodes the register sets of the notes once (loadNotes
// has reported the notes that cannot be decoded).
func (f *File) loadRegisters() *noteInfo {
	n := f.loadNotes()
	n.regsOnce.Do(func() { n.regs, _ = elfnote.RegistersFromNotes(n.notes, n.arch, f.order) })
	return n
}

// readText reads a text blob the sub-header points at (VMCOREINFO,
// eraseinfo), recording a problem when it is too large or beyond the end
// of the file.
func (f *File) readText(off int64, size uint64, what string, n *noteInfo) ([]byte, error) {
	code, sev := model.CodeBadSubHeader, model.SeverityError
	var msg string
	switch {
	case size > maxTextSize:
		msg = fmt.Sprintf("%s is %d bytes, over the limit of %d", what, size, maxTextSize)
	case !f.src.Contains(off, int64(size)):
		code = model.CodeTruncated
		msg = fmt.Sprintf("%s (%d bytes at %#x) lies beyond the end of the file (%#x)", what, size, off, f.src.Len())
	default:
		b := make([]byte, size)
		err := f.src.ReadAt(b, off, what)
		if err == nil {
			return b, nil
		}
		msg = fmt.Sprintf("%s cannot be read: %v", what, err)
	}
	n.problems = append(n.problems, model.NewProblem(sev, code, f.src.Name, off, "%s", msg))
	return nil, fmt.Errorf("%s", msg)
}

// archFromNotes tells the architecture from the size of the prstatus notes
// when the header does not name it (formats.md §3.4).
func archFromNotes(notes []model.Note, o binary.ByteOrder) string {
	le := o == binary.ByteOrder(binary.LittleEndian)
	for _, n := range notes {
		if n.Name != elfnote.NamePrstatus || n.Type != elfnote.NTPrstatus {
			continue
		}
		switch n.DescSize {
		case 336:
			if le {
				return "x86_64"
			}
			return "s390x"
		case 144:
			return "i386"
		case 392:
			return "aarch64"
		case 148:
			return "arm"
		case 504:
			if le {
				return "ppc64le"
			}
			return "ppc64"
		case 376:
			return "riscv64"
		}
	}
	return ""
}

// Notes returns the notes copy (header version 4 and later).
func (f *File) Notes() ([]model.Note, error) { return f.loadNotes().notes, nil }

// VMCoreInfo returns the VMCOREINFO text.
func (f *File) VMCoreInfo() (*model.VMCoreInfo, error) {
	if v := f.loadNotes().vmci; v != nil {
		return v, nil
	}
	return nil, fmt.Errorf("%s: no VMCOREINFO (header version %d): %w", f.src.Name, f.Header.HeaderVersion, model.ErrNotFound)
}

// Registers returns the register sets of the prstatus and QEMU notes.
func (f *File) Registers() ([]model.RegisterSet, error) { return f.loadRegisters().regs, nil }

// EraseInfo returns the erase list text, if any.
func (f *File) EraseInfo() []byte { return f.loadNotes().erase }

// warnings returns what was found wrong while opening and reading notes.
func (f *File) warnings() []model.Problem {
	out := append([]model.Problem(nil), f.problems...)
	return append(out, f.loadNotes().problems...)
}

// Arch returns the architecture: from utsname.machine, or from the notes.
func (f *File) Arch() string {
	if a := archFromMachine(f.Header.Utsname.Machine); a != "" {
		return a
	}
	return f.loadNotes().arch
}
