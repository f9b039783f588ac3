package xencore

import (
	"context"
	"fmt"

	"dumpscope/model"
	"dumpscope/reader"
)

// Page i of the table's order is stored at pagesOff + i*page_size
// (.xen_pages, or from xch_pages_offset in a legacy core). A frame listed
// in the table is present when its page is in the file, lost when the
// file was cut before it, and unreadable when the table names a page the
// page area does not have. A frame not listed is not in the dump
// (ballooned out, an I/O hole, or above the highest frame).

// maxPFN returns one past the highest frame in the table: the last valid
// entry's, as the table is sorted. A table found unsorted (by Check or
// Runs) is sorted in memory, and from then on maxPFN is its true maximum.
func (f *File) maxPFN() model.PFN { return model.PFN(f.table.limit()) }

// frameWord names what PFNs are in this dump, for messages.
func (f *File) frameWord() string {
	if f.Legacy != nil {
		return "mfn"
	}
	return "pfn"
}

// availPages is how many pages of the page area are wholly in the file.
func (f *File) availPages() int64 {
	if f.pagesOff >= f.src.Size {
		return 0
	}
	return min(f.pagesCap, (f.src.Size-f.pagesOff)/f.pageSize)
}

// pageState says what is stored for table entry idx.
func (f *File) pageState(idx int64) model.PageState {
	switch {
	case idx >= f.pagesCap:
		return model.StateUnreadable
	case idx >= f.availPages():
		return model.StateLost
	}
	return model.StatePresent
}

// PageInfo returns the state of frame pfn and where its page is stored.
func (f *File) PageInfo(pfn model.PFN) model.PageInfo {
	pi := model.PageInfo{PFN: pfn, PhysAddr: pfn.Addr(uint64(f.pageSize)), FileOffset: -1}
	if uint64(pfn) >= f.table.limit() {
		pi.State, pi.Reason = model.StateNotInDump, fmt.Sprintf("beyond the highest %s in %s", f.frameWord(), f.table.name)
		return pi
	}
	idx, ok, err := f.table.lookup(uint64(pfn))
	switch {
	case err != nil:
		pi.State, pi.Reason = model.StateUnreadable, fmt.Sprintf("%s cannot be searched: %v", f.table.name, err)
		return pi
	case !ok:
		pi.State, pi.Reason = model.StateNotInDump, fmt.Sprintf("%s %s is not listed in %s", f.frameWord(), pfn, f.table.name)
		return pi
	}
	return f.pageAt(pi, idx)
}

// pageAt completes pi for table entry idx.
func (f *File) pageAt(pi model.PageInfo, idx int64) model.PageInfo {
	off := f.pagesOff + idx*f.pageSize
	if f.table.kind == kindP2M {
		if _, gmfn, err := f.table.entry(idx); err == nil {
			pi.MFN = &gmfn
		}
	}
	area := SecPages
	if f.Legacy != nil {
		area = "the page area"
	}
	switch pi.State = f.pageState(idx); pi.State {
	case model.StateUnreadable:
		pi.Reason = fmt.Sprintf("%s entry %d names page %d, but %s holds only %d pages", f.table.name, idx, idx, area, f.pagesCap)
	case model.StateLost:
		pi.FileOffset = model.FileOff(off)
		pi.Reason = fmt.Sprintf("page %d of %s lies beyond the end of the file, which was cut at %#x", idx, area, f.src.Size)
	default:
		pi.Codec, pi.StoredSize, pi.FileOffset = model.CodecNone, f.pageSize, model.FileOff(off)
	}
	return pi
}

// ReadPage reads frame pfn into dst, which must hold one page. Pages are
// stored raw, so a strict read is an ordinary one.
func (f *File) ReadPage(pfn model.PFN, dst []byte, _ reader.ReadOptions) (model.PageInfo, error) {
	if int64(len(dst)) < f.pageSize {
		return model.PageInfo{}, fmt.Errorf("buffer of %d bytes is smaller than a page (%d)", len(dst), f.pageSize)
	}
	pi := f.PageInfo(pfn)
	if pi.State != model.StatePresent {
		return pi, model.AbsentError(f.src.Name, pi)
	}
	if err := f.src.ReadAt(dst[:f.pageSize], int64(pi.FileOffset), SecPages); err != nil {
		return pi, &model.PageError{File: f.src.Name, PFN: pfn, State: model.StateUnreadable, Off: model.FileOff(int64(pi.FileOffset)), Msg: err.Error(), Err: err}
	}
	return pi, nil
}

// ReadRange reads consecutive frames in order.
func (f *File) ReadRange(ctx context.Context, start model.PFN, count uint64, opt reader.ReadOptions, fn func(model.PageInfo, []byte, error) bool) error {
	return reader.ReadRangeByPage(ctx, f, start, count, opt, fn)
}

// Runs walks the frames from `from` to MaxPFN in runs of equal state, in
// the table's order of frames. The states come from the table alone, so
// detail changes nothing.
func (f *File) Runs(ctx context.Context, from model.PFN, detail bool, yield func(model.PageRun) bool) error {
	var cur model.PageRun
	stopped := false
	emit := func(start, count uint64, st model.PageState) bool {
		if count == 0 {
			return true
		}
		if cur.Count > 0 && cur.State == st && uint64(cur.End()) == start {
			cur.Count += count
			return true
		}
		if cur.Count > 0 && !yield(cur) {
			stopped = true
			return false
		}
		cur = model.PageRun{Start: model.PFN(start), Count: count, State: st}
		return true
	}
	next := uint64(from)
	avail := f.availPages()
	err := f.table.walk(ctx, uint64(from), func(key uint64, idx int64) bool {
		if key > next && !emit(next, key-next, model.StateNotInDump) {
			return false
		}
		st := model.StatePresent
		switch {
		case idx >= f.pagesCap:
			st = model.StateUnreadable
		case idx >= avail:
			st = model.StateLost
		}
		next = key + 1
		return emit(key, 1, st)
	})
	if err != nil || stopped {
		return err
	}
	// The limit may have grown if the walk found the table unsorted.
	if lim := f.table.limit(); next < lim && !emit(next, lim-next, model.StateNotInDump) {
		return nil
	}
	if cur.Count > 0 {
		yield(cur)
	}
	return nil
}

// ExplainPage shows how frame pfn is found: the table entry that names
// it and the stored page.
func (f *File) ExplainPage(pfn model.PFN) (*model.Field, error) {
	pi := f.PageInfo(pfn)
	root := &model.Field{Name: fmt.Sprintf("%s %s", f.frameWord(), pfn), Offset: model.FileOff(f.table.off), Value: string(pi.State), Meaning: pi.Reason}
	if pi.State == model.StateNotInDump {
		return root, nil
	}
	idx, ok, err := f.table.lookup(uint64(pfn))
	if err != nil || !ok {
		return root, err
	}
	e := &model.Field{Name: fmt.Sprintf("%s[%d]", f.table.name, idx), Offset: model.FileOff(f.table.entryOffset(idx)), Size: f.table.ent,
		Meaning: "the table entry that names this frame; its index is the page's position in the page data"}
	key, gmfn, err := f.table.entry(idx)
	if err != nil {
		return nil, err
	}
	e.Value = fmt.Sprintf("%s %#x", f.frameWord(), key)
	if f.table.kind == kindP2M {
		e.Value += fmt.Sprintf(", gmfn %#x", gmfn)
		e.Add(&model.Field{Name: "pfn", Offset: e.Offset, Size: 8, Value: fmt.Sprintf("%#x", key), Meaning: "guest pseudo-physical frame"})
		e.Add(&model.Field{Name: "gmfn", Offset: e.Offset + 8, Size: 8, Value: fmt.Sprintf("%#x", gmfn), Meaning: "machine frame that held it"})
	}
	root.Offset = e.Offset
	root.Add(e)
	root.Add(&model.Field{Name: fmt.Sprintf("page %d", idx), Offset: model.FileOff(f.pagesOff + idx*f.pageSize), Size: f.pageSize,
		Value: string(pi.State), Meaning: fmt.Sprintf("page data: page data offset + %d x %d", idx, f.pageSize)})
	return root, nil
}
