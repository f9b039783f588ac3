// Package flat reads makedumpfile's flattened format (formats.md §2): a
// stream of (logical offset, length, bytes) records that makedumpfile -F
// and QEMU write instead of a seekable file, and that makedumpfile -R
// replays with pwrite into the ordinary file.
//
// File presents the stream as the file -R would produce: an io.ReaderAt
// over the logical (rearranged) file. It indexes the records lazily: a
// read scans record headers only as far as needed to cover the bytes it
// asks for, so the headers of a 100 GiB stream are read at once; Index
// scans to the end marker (with progress), after which every read is
// exact. Where records overlap, the later one wins, as in -R.
package flat

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"

	"dumpscope/model"
	"dumpscope/reader"
)

// Signature and sizes of the stream header (makedumpfile.h).
const (
	Signature  = "makedumpfile"
	HeaderSize = 4096 // MAX_SIZE_MDF_HEADER
	recordHdr  = 16   // struct makedumpfile_data_header
	typeFlat   = 1    // TYPE_FLAT_HEADER
	versionOne = 1    // VERSION_FLAT_HEADER
)

// Header is struct makedumpfile_header; its integers are big-endian.
type Header struct {
	Signature string
	Type      int64
	Version   int64
}

// Record is one makedumpfile_data_header and its payload.
type Record struct {
	Offset    int64 // where the payload goes in the logical file
	Size      int64 // payload bytes
	StreamPos int64 // stream offset of the record header
}

// File is an open flattened stream.
type File struct {
	Header Header
	src    reader.Source

	mu        sync.Mutex
	next      int64 // stream offset of the next record header to scan
	done      bool  // no more records: end marker, corruption or EOF
	endMarker bool
	lacking   int64 // payload bytes the record the stream was cut in lacks
	records   int64
	// pieces map the logical file as far as records are merged into it:
	// disjoint, sorted by start. pending are the records scanned since,
	// in stream order (all later than pieces); overlay merges them in one
	// sort and sweep (pieces.go). Once done, pending is empty.
	pieces  []piece
	pending []piece
	work    int64 // pieces moved and compared while merging, for a test
	maxEnd  int64 // logical size so far
	probs   []model.Problem
	// hdr holds stream bytes read ahead of a record header at hdrOff, so
	// that the headers of small records (page descriptors) come from one
	// read.
	hdr    []byte
	hdrOff int64
	// holeReads are the logical ranges that reads wanted but no record
	// wrote (they read as zeros, as in the rearranged file): merged,
	// at most maxHoleReads of them, the rest counted in moreHoleReads.
	holeReads     [][2]int64
	moreHoleReads int
}

// maxHoleReads bounds the hole ranges remembered for Check.
const maxHoleReads = 256

// NewFile reads the stream header. Records are scanned on demand.
func NewFile(src reader.Source) (*File, error) {
	b := make([]byte, 32)
	if err := src.ReadAt(b, 0, "makedumpfile_header"); err != nil {
		return nil, err
	}
	h := Header{Signature: reader.CString(b[:16]), Type: int64(binary.BigEndian.Uint64(b[16:])), Version: int64(binary.BigEndian.Uint64(b[24:]))}
	if string(b[:16]) != Signature+"\x00\x00\x00\x00" {
		return nil, model.Errorf(src.Name, "makedumpfile_header.signature", 0, model.ErrUnrecognized, "no flattened-format signature")
	}
	if h.Type != typeFlat {
		return nil, model.Errorf(src.Name, "makedumpfile_header.type", 16, model.ErrCorrupt, "type %d, expected %d (TYPE_FLAT_HEADER)", h.Type, typeFlat)
	}
	f := &File{Header: h, src: src, next: HeaderSize}
	if h.Version != versionOne {
		f.problem(model.SeverityWarning, model.CodeUnknownFlatVersion, 24, "flattened header version %d; only %d is known", h.Version, versionOne)
	}
	if src.Len() < HeaderSize {
		return nil, model.Errorf(src.Name, "makedumpfile_header", 0, model.ErrTruncated, "the stream ends inside its 4096-byte header")
	}
	return f, nil
}

func (f *File) problem(sev model.Severity, code model.Code, off int64, format string, args ...any) {
	f.probs = append(f.probs, model.NewProblem(sev, code, f.src.Name, off, format, args...))
}

// headerReadAhead is how many stream bytes one read of a record header
// fetches: the header and, when the record is small, the next headers.
const headerReadAhead = 4096

// scan reads up to n record headers, then merges them into the pieces
// when merge is set or the stream is done; f.mu is held.
func (f *File) scan(n int, merge bool) {
	for k := 0; k < n && !f.done; k++ {
		f.scanOne()
	}
	if merge || f.done {
		f.mergePending()
	}
}

// mergePending merges the records scanned since the last merge into the
// pieces; f.mu is held.
func (f *File) mergePending() {
	if len(f.pending) > 0 {
		f.pieces = overlay(f.pieces, f.pending, &f.work)
		f.pending = f.pending[:0]
	}
}

// header returns the 16 bytes of the record header at pos, from the
// read-ahead when it holds them; f.mu is held.
func (f *File) header(pos int64) ([]byte, error) {
	if pos >= f.hdrOff && pos+recordHdr <= f.hdrOff+int64(len(f.hdr)) {
		k := pos - f.hdrOff
		return f.hdr[k : k+recordHdr], nil
	}
	n := min(headerReadAhead, f.src.Len()-pos)
	if cap(f.hdr) < headerReadAhead {
		f.hdr = make([]byte, headerReadAhead)
	}
	f.hdr, f.hdrOff = f.hdr[:max(n, 0)], pos
	if n < recordHdr {
		f.hdr = f.hdr[:0]
		return nil, model.Errorf(f.src.Name, "makedumpfile_data_header", pos, model.ErrTruncated, "the stream ends inside a record header")
	}
	if err := f.src.ReadAt(f.hdr, pos, "makedumpfile_data_header"); err != nil {
		f.hdr = f.hdr[:0]
		return nil, err
	}
	return f.hdr[:recordHdr], nil
}

// scanOne reads the next record header; f.mu is held.
func (f *File) scanOne() {
	pos := f.next
	if pos >= f.src.Len() {
		f.done = true
		f.problem(model.SeverityError, model.CodeMissingEndMarker, pos, "the stream ends after %d records without the end marker (offset and size -1): it was cut short", f.records)
		return
	}
	b, err := f.header(pos)
	if err != nil {
		f.done = true
		f.problem(model.SeverityError, model.CodeTruncated, pos, "the stream ends inside record header %d", f.records)
		return
	}
	off := int64(binary.BigEndian.Uint64(b[0:]))
	size := int64(binary.BigEndian.Uint64(b[8:]))
	if off == -1 && size == -1 {
		f.done, f.endMarker = true, true
		if rest := f.src.Len() - pos - recordHdr; rest > 0 {
			f.problem(model.SeverityWarning, model.CodeTrailingData, pos+recordHdr, "%d bytes follow the end marker", rest)
		}
		return
	}
	if off < 0 || size <= 0 {
		f.done = true
		f.problem(model.SeverityError, model.CodeBadFlatRecord, pos, "record %d has offset %d and size %d", f.records, off, size)
		return
	}
	payload := pos + recordHdr
	avail := f.src.Len() - payload
	if end, ok := reader.AddOK(off, size); !ok || end < 0 {
		f.done = true
		f.problem(model.SeverityError, model.CodeBadFlatRecord, pos, "record %d: offset %d + size %d overflows", f.records, off, size)
		return
	}
	if size > avail {
		f.done, f.lacking = true, size-avail
		f.problem(model.SeverityError, model.CodeTruncated, pos, "record %d needs %d payload bytes but the stream has %d left", f.records, size, avail)
		size = avail
	}
	f.records++
	if size > 0 {
		f.pending = append(f.pending, piece{off, off + size, payload})
		f.maxEnd = max(f.maxEnd, off+size)
	}
	f.next = payload + size
}

// covered reports whether the pieces cover [off, end) without a gap;
// f.mu is held.
func (f *File) covered(off, end int64) bool {
	i := sort.Search(len(f.pieces), func(i int) bool { return f.pieces[i].end > off })
	for pos := off; pos < end; i++ {
		if i >= len(f.pieces) || f.pieces[i].start > pos {
			return false
		}
		pos = f.pieces[i].end
	}
	return true
}

// ReadAt reads the logical file. Bytes no record covers read as zeros once
// the whole stream is indexed (holes of the rebuilt file); a read past the
// logical end returns io.EOF.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("flat: negative offset")
	}
	end, ok := reader.AddOK(off, int64(len(p)))
	if !ok {
		return 0, errors.New("flat: offset overflows")
	}
	f.mu.Lock()
	for !f.done && !f.covered(off, end) {
		// Scan on in batches that grow with the stream, so that a reader
		// that walks a long stream before it is indexed merges O(log n)
		// times.
		f.scan(max(64, int(f.records/4)), true)
	}
	var segs []piece
	i := sort.Search(len(f.pieces), func(i int) bool { return f.pieces[i].end > off })
	for ; i < len(f.pieces) && f.pieces[i].start < end; i++ {
		segs = append(segs, f.pieces[i])
	}
	limit := end
	if f.done {
		limit = min(end, f.maxEnd)
	}
	f.mu.Unlock()
	if limit <= off {
		return 0, io.EOF
	}
	clear(p[:limit-off])
	f.noteHoles(off, limit, segs)
	for _, s := range segs {
		from, to := max(s.start, off), min(s.end, limit)
		if from >= to {
			continue
		}
		if err := f.src.ReadAt(p[from-off:to-off], s.pos+(from-s.start), "flattened record payload"); err != nil {
			return int(from - off), err
		}
	}
	if limit < end {
		return int(limit - off), io.EOF
	}
	return len(p), nil
}

// noteHoles records the parts of [off, limit) that segs (the pieces the
// range overlaps, sorted) leave uncovered.
func (f *File) noteHoles(off, limit int64, segs []piece) {
	pos := off
	var gaps [][2]int64
	for _, s := range segs {
		if s.start > pos {
			gaps = append(gaps, [2]int64{pos, min(s.start, limit)})
		}
		pos = max(pos, s.end)
	}
	if pos < limit {
		gaps = append(gaps, [2]int64{pos, limit})
	}
	if len(gaps) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range gaps {
		i := sort.Search(len(f.holeReads), func(i int) bool { return f.holeReads[i][1] >= g[0] })
		if i < len(f.holeReads) && f.holeReads[i][0] <= g[1] {
			f.holeReads[i] = [2]int64{min(f.holeReads[i][0], g[0]), max(f.holeReads[i][1], g[1])}
			continue
		}
		if len(f.holeReads) >= maxHoleReads {
			f.moreHoleReads++
			continue
		}
		f.holeReads = append(f.holeReads, [2]int64{})
		copy(f.holeReads[i+1:], f.holeReads[i:])
		f.holeReads[i] = g
	}
}

// HoleReads returns the logical ranges reads have asked for that no
// record wrote, and how many more were not remembered.
func (f *File) HoleReads() ([][2]int64, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][2]int64(nil), f.holeReads...), f.moreHoleReads
}

// hole returns the first hole that overlaps [off, end), once the stream
// is indexed.
func (f *File) hole(off, end int64) ([2]int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.done || off >= f.maxEnd {
		return [2]int64{}, false
	}
	i := sort.Search(len(f.pieces), func(i int) bool { return f.pieces[i].end > off })
	pos := off
	for ; pos < end; i++ {
		if i >= len(f.pieces) || f.pieces[i].start > pos {
			next := end
			if i < len(f.pieces) {
				next = min(end, f.pieces[i].start)
			}
			return [2]int64{pos, next}, true
		}
		pos = f.pieces[i].end
	}
	return [2]int64{}, false
}

// Size returns the logical file size once the stream is indexed, and
// math.MaxInt64 ("not known yet") before.
func (f *File) Size() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return f.maxEnd
	}
	return math.MaxInt64
}

// Index scans every record header up to the end marker, reporting the
// stream bytes passed over.
func (f *File) Index(ctx context.Context, progress func(done, total int64)) error {
	for {
		// The records are merged into the pieces once, at the end (or by
		// a reader that needs more of the file meanwhile).
		f.mu.Lock()
		f.scan(4096, false)
		done, next := f.done, f.next
		f.mu.Unlock()
		if progress != nil {
			progress(min(next, f.src.Size), f.src.Size)
		}
		if done {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// Indexed reports whether the whole stream has been scanned.
func (f *File) Indexed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done
}

// Records returns the number of records scanned and whether the end marker
// was found.
func (f *File) Records() (n int64, endMarker bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.records, f.endMarker
}

// Ending says how the indexed stream ends: whether its end marker was
// found and, when it was not, how many payload bytes the record it was cut
// in lacks (0 when it ends between records, inside a record header or at a
// record that makes no sense: then how much is missing is unknown).
func (f *File) Ending() (endMarker bool, lacking int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.endMarker, f.lacking
}

// Name names the stream file.
func (f *File) Name() string { return f.src.Name }

// StreamOffset maps a logical range to the stream when one piece holds it.
func (f *File) StreamOffset(off, n int64) (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mergePending()
	i := sort.Search(len(f.pieces), func(i int) bool { return f.pieces[i].end > off })
	if i < len(f.pieces) && f.pieces[i].start <= off && off+n <= f.pieces[i].end {
		return f.pieces[i].pos + (off - f.pieces[i].start), true
	}
	return 0, false
}

// Problems lists what is wrong with the stream itself, and a note that
// other tools need the file rearranged first.
func (f *File) Problems() []model.Problem {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]model.Problem(nil), f.probs...)
	return append(out, model.NewProblem(model.SeverityNote, model.CodeFlattened, f.src.Name, 0,
		"this is a makedumpfile flattened stream: crash (older releases), libkdumpfile and drgn need it rearranged first (makedumpfile -R or dumpscope rearrange)"))
}

// Holes returns the logical ranges below the logical end that no record
// wrote, once the stream is indexed (they read as zeros).
func (f *File) Holes() [][2]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mergePending()
	var holes [][2]int64
	pos := int64(0)
	for _, p := range f.pieces {
		if p.start > pos {
			holes = append(holes, [2]int64{pos, p.start})
		}
		pos = max(pos, p.end)
	}
	return holes
}

// Close closes the stream.
func (f *File) Close() error { return reader.Close(f.src.R) }

// Rearrange writes the logical file, as makedumpfile -R does: every byte
// at its offset, later records winning. It indexes the whole stream first.
//
// A hole, a range no record writes, reads as zeros. Where w is an
// io.Seeker that can seek (a regular file), Rearrange seeks over it, so it
// stays a hole of a sparse file, as makedumpfile -R's pwrite leaves it.
// Otherwise (a pipe) it writes the zeros, but no more in all than
// zeroBudget allows: a record whose offset is corrupt may place it
// terabytes past the others, and the output must stay proportional to what
// the stream stores. A hole beyond that stops it with an error that names
// the hole.
func (f *File) Rearrange(ctx context.Context, w io.Writer, progress func(done, total int64)) (int64, error) {
	if err := f.Index(ctx, nil); err != nil {
		return 0, err
	}
	f.mu.Lock()
	pieces := append([]piece(nil), f.pieces...)
	total := f.maxEnd
	f.mu.Unlock()
	var stored int64
	for _, p := range pieces {
		stored += p.end - p.start
	}
	holes := holeFiller{w: w, budget: zeroBudget(stored)}
	buf := make([]byte, min(1<<20, stored))
	var pos int64
	for _, p := range pieces {
		if p.start > pos {
			if err := holes.fill(ctx, pos, p.start); err != nil {
				if errors.Is(err, errHoleBudget) {
					err = model.Errorf(f.src.Name, "flattened record payload", p.pos, model.ErrCorrupt,
						"a hole of %d bytes ends at logical offset %#x, where the output cannot seek: written as zeros, the holes would come to more than %d bytes, the bound (64 MiB plus 16 times the %d bytes the records carry; to a file they stay sparse)",
						p.start-pos, p.start, zeroBudget(stored), stored)
				}
				return pos, err
			}
			pos = p.start
		}
		for pos < p.end {
			if err := ctx.Err(); err != nil {
				return pos, err
			}
			n := min(int64(len(buf)), p.end-pos)
			if err := f.src.ReadAt(buf[:n], p.pos+(pos-p.start), "flattened record payload"); err != nil {
				return pos, err
			}
			if _, err := w.Write(buf[:n]); err != nil {
				return pos, err
			}
			pos += n
			if progress != nil {
				progress(pos, total)
			}
		}
	}
	return pos, nil
}

// zeroBudget bounds the zeros Rearrange writes for the holes of a stream
// whose records carry stored bytes, where the output cannot seek. Writers
// leave holes only where nothing was written (padding, the all-zero blocks
// a writer skips), far less than this.
func zeroBudget(stored int64) int64 { return 64<<20 + 16*stored }

// errHoleBudget: the zeros of the holes would pass zeroBudget.
var errHoleBudget = errors.New("holes larger than the bound")

// holeFiller moves Rearrange's output over holes: by seeking where the
// writer can (tried at the first hole), by writing zeros, up to budget
// bytes in all, where it cannot.
type holeFiller struct {
	w        io.Writer
	budget   int64 // zeros that may still be written
	tried    bool  // whether seeking was tried
	seekable bool
	zeros    []byte
}

// fill moves the output from pos to end, over a hole.
func (h *holeFiller) fill(ctx context.Context, pos, end int64) error {
	if !h.tried {
		h.tried = true
		if s, ok := h.w.(io.Seeker); ok {
			_, err := s.Seek(0, io.SeekCurrent)
			h.seekable = err == nil
		}
	}
	if h.seekable {
		if _, err := h.w.(io.Seeker).Seek(end-pos, io.SeekCurrent); err != nil {
			return fmt.Errorf("seeking the output over a hole of %d bytes, to logical offset %#x: %w", end-pos, end, err)
		}
		return nil
	}
	if end-pos > h.budget {
		return errHoleBudget
	}
	h.budget -= end - pos
	if h.zeros == nil {
		h.zeros = make([]byte, 64<<10)
	}
	for pos < end {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(int64(len(h.zeros)), end-pos)
		if _, err := h.w.Write(h.zeros[:n]); err != nil {
			return err
		}
		pos += n
	}
	return nil
}

// String describes the stream for messages.
func (f *File) String() string {
	n, end := f.Records()
	return fmt.Sprintf("flattened stream %s: %d records, end marker %v", f.src.Name, n, end)
}
