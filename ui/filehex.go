package ui

import (
	"dumpscope/present"
	"dumpscope/ui/render"
	"errors"
	"fmt"
	"io"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// fileHex shows the raw bytes of one of the dump's files around a selected
// range (a layout field, a note), with the range highlighted. Bytes are
// read through Dump.ReadFile in fixed chunks, in commands, into an LRU;
// only the visible rows are drawn, so any file size works.
type fileHex struct {
	c          *Common
	file       string // as the layout names it; "" is the first file
	hiOff      int64  // highlighted range [hiOff, hiOff+hiSize)
	hiSize     int64
	top        int64 // file offset of the first row
	w, h       int
	cache      *lru[chunkKey, []byte]
	pending    map[chunkKey]bool
	lastErr    string
	title      string
	showHeader bool
}

// chunkKey names a chunk of a file.
type chunkKey struct {
	file string
	idx  int64
}

// fileChunk is the read size; it is a multiple of every row width.
const fileChunk = 4096

// fileChunkMsg brings a chunk read by loadChunk.
type fileChunkMsg struct {
	key  chunkKey
	data []byte
	err  error
}

func newFileHex(c *Common) *fileHex {
	return &fileHex{c: c, cache: newLRU[chunkKey, []byte](256), pending: map[chunkKey]bool{}, hiOff: -1, showHeader: true}
}

func (f *fileHex) setSize(w, h int) { f.w, f.h = w, h }

// fileName resolves "" to the dump's first file.
func (f *fileHex) fileName() string {
	if f.file == "" && len(f.c.Info.Files) > 0 {
		return f.c.Info.Files[0]
	}
	return f.file
}

func (f *fileHex) geometry() (digits, bpr int) {
	digits = hexDigits(uint64(max(f.hiOff+f.hiSize, f.top)), 8)
	return digits, chooseBPR(f.w, digits)
}

func (f *fileHex) rows() int {
	if f.showHeader {
		return max(f.h-1, 0)
	}
	return f.h
}

// show selects a range and scrolls so that it starts on the first rows.
func (f *fileHex) show(file string, off, size int64, title string) {
	f.file, f.hiOff, f.hiSize, f.title = file, off, size, title
	if off < 0 {
		return
	}
	_, bpr := f.geometry()
	row := off / int64(bpr) * int64(bpr)
	// Leave a little context above the range.
	f.top = max(row-int64(min(2, f.rows()/4))*int64(bpr), 0)
}

// scroll moves the view by rows.
func (f *fileHex) scroll(rows int) {
	_, bpr := f.geometry()
	f.top = max(f.top+int64(rows*bpr), 0)
	f.top = f.top / int64(bpr) * int64(bpr)
}

// ensure returns a command that reads the chunks the visible rows need and
// are not cached or on their way.
func (f *fileHex) ensure() tea.Cmd {
	if f.hiOff < 0 && f.top == 0 && f.hiSize == 0 {
		return nil
	}
	_, bpr := f.geometry()
	first := f.top / fileChunk
	last := (f.top + int64(f.rows()*bpr) - 1) / fileChunk
	var cmds []tea.Cmd
	file := f.fileName()
	for i := first; i <= last; i++ {
		k := chunkKey{file, i}
		if _, ok := f.cache.peek(k); ok || f.pending[k] {
			continue
		}
		f.pending[k] = true
		cmds = append(cmds, loadChunk(f.c, k))
	}
	return tea.Batch(cmds...)
}

// loadChunk reads one chunk of a file (a command: it does I/O).
func loadChunk(c *Common, k chunkKey) tea.Cmd {
	d := c.S.Dump()
	return func() tea.Msg {
		buf := make([]byte, fileChunk)
		n, err := d.ReadFile(k.file, buf, k.idx*fileChunk)
		if errors.Is(err, io.EOF) || (err != nil && n > 0) {
			err = nil
		}
		return fileChunkMsg{key: k, data: buf[:n], err: err}
	}
}

// update takes the chunks this view asked for; it reports whether msg was
// one.
func (f *fileHex) update(msg tea.Msg) bool {
	m, ok := msg.(fileChunkMsg)
	if !ok || !f.pending[m.key] {
		return false
	}
	delete(f.pending, m.key)
	if m.err != nil {
		f.lastErr = fmt.Sprintf("reading %s at %#x: %v", m.key.file, m.key.idx*fileChunk, m.err)
		m.data = nil
	}
	f.cache.put(m.key, m.data)
	return true
}

// view draws the title line and the rows.
func (f *fileHex) view(st *styles) string {
	var lines []string
	if f.showHeader {
		t := f.title
		if f.hiOff >= 0 {
			t = fmt.Sprintf("%s  @%#x, %s", t, f.hiOff, present.Count(int(f.hiSize), "byte"))
		}
		if f.lastErr != "" {
			lines = append(lines, render.Line{st.err.Span("error: " + f.lastErr)}.Render(f.w, nil))
		} else {
			lines = append(lines, render.Line{st.title.Span(t)}.Render(f.w, nil))
		}
	}
	digits, bpr := f.geometry()
	file := f.fileName()
	mark := func(a uint64) byteMark {
		if f.hiOff >= 0 && int64(a) >= f.hiOff && int64(a) < f.hiOff+f.hiSize {
			return markHighlight
		}
		return markNone
	}
	var b strings.Builder
	for r := 0; r < f.rows(); r++ {
		off := f.top + int64(r*bpr)
		b.Reset()
		data, ok := f.cache.peek(chunkKey{file, off / fileChunk})
		in := off % fileChunk
		switch {
		case !ok:
			hexMessageRow(&b, st, digits, uint64(off), "…", st.dim, f.w)
		case in >= int64(len(data)):
			if in == int64(len(data)) && (len(data) > 0 || off == 0) {
				hexMessageRow(&b, st, digits, uint64(off), "(end of file)", st.dim, f.w)
			}
		default:
			hexRow(&b, st, digits, bpr, uint64(off), data[in:min(in+int64(bpr), int64(len(data)))], mark)
		}
		lines = append(lines, b.String())
	}
	return render.Block(lines, f.w, f.h)
}
