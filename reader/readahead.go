package reader

import (
	"io"
	"sync"
)

// ReadAhead serves streams of adjacent small reads from windows of
// read-ahead, so that reading pages in file order (raw ELF pages, the
// stored images of a kdump read in pfn order) costs one read system call
// per window instead of one per page. A read that does not continue a
// stream, or that is large already, goes straight through.
//
// It follows up to raStreams streams at once (one per worker reading its
// own part of the file). A window's buffer is allocated when a stream
// first needs it, small, and doubles as the stream goes on, so opening a
// file costs next to nothing; the refill of a window reads outside the
// lock, so that workers do not wait for each other's reads.
//
// Wrap plain files only: a container's logical file (a flattened stream)
// must see exactly the reads its reader makes, and reads ahead of its own.
type ReadAhead struct {
	r   io.ReaderAt
	win int

	mu      sync.Mutex
	streams [raStreams]raWindow
	tick    uint64
}

const raStreams = 4

// minReadAhead is the first window of a stream.
const minReadAhead = 16 << 10

// raWindow is one stream: where its last read ended and the bytes read
// ahead from off.
type raWindow struct {
	lastEnd int64 // end of the last read of this stream; -1: none
	off     int64 // file offset of buf[0]
	buf     []byte
	n       int    // valid bytes in buf
	used    uint64 // tick of the last use, for replacing the oldest
	busy    bool   // a refill is under way (buf is out)
}

// DefaultReadAhead is the window size NewReadAhead callers use: 64 pages
// of 4 KiB.
const DefaultReadAhead = 256 << 10

// NewReadAhead wraps r with windows of win bytes.
func NewReadAhead(r io.ReaderAt, win int) *ReadAhead {
	ra := &ReadAhead{r: r, win: win}
	for i := range ra.streams {
		ra.streams[i].lastEnd, ra.streams[i].off = -1, -1
	}
	return ra
}

// ReadAt reads len(p) bytes at off, from a window when one holds them.
func (ra *ReadAhead) ReadAt(p []byte, off int64) (int, error) {
	if len(p) == 0 || len(p) >= ra.win/4 || off < 0 {
		return ra.r.ReadAt(p, off)
	}
	end := off + int64(len(p))
	ra.mu.Lock()
	ra.tick++
	for i := range ra.streams {
		w := &ra.streams[i]
		if !w.busy && w.n > 0 && off >= w.off && end <= w.off+int64(w.n) {
			copy(p, w.buf[off-w.off:])
			w.lastEnd, w.used = end, ra.tick
			ra.mu.Unlock()
			return len(p), nil
		}
	}
	// Does this read continue a stream? Then read its next window.
	var w *raWindow
	for i := range ra.streams {
		if s := &ra.streams[i]; !s.busy && s.lastEnd == off {
			w = s
			break
		}
	}
	if w == nil {
		// Not a stream (yet): read through, and remember where it ended
		// in place of the stream used longest ago.
		oldest := &ra.streams[0]
		for i := range ra.streams {
			if s := &ra.streams[i]; !s.busy && (oldest.busy || s.used < oldest.used) {
				oldest = s
			}
		}
		if !oldest.busy {
			oldest.lastEnd, oldest.used, oldest.n = end, ra.tick, 0
		}
		ra.mu.Unlock()
		return ra.r.ReadAt(p, off)
	}
	// A stream's window starts small and doubles at each refill: opening
	// a dump reads a few headers in a row, and 256 KiB of fresh memory
	// (64 page faults) would cost more than the reads it saves.
	buf := w.buf
	if len(buf) < ra.win {
		buf = make([]byte, min(ra.win, max(minReadAhead, 2*len(buf))))
	}
	w.busy, w.buf, w.n, w.used = true, nil, 0, ra.tick
	ra.mu.Unlock()

	n, err := ra.r.ReadAt(buf, off)

	ra.mu.Lock()
	w.busy, w.buf, w.off, w.n = false, buf, off, n
	m := copy(p, buf[:n])
	w.lastEnd = off + int64(m)
	ra.mu.Unlock()
	if m == len(p) {
		return m, nil
	}
	if err == nil {
		err = io.EOF
	}
	return m, err
}

// Close closes the wrapped reader.
func (ra *ReadAhead) Close() error { return Close(ra.r) }
