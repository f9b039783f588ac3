package aix

import (
	"fmt"

	"dumpscope/model"
)

// Reasons given for the gaps of ReadArea. Each starts with the page state
// it corresponds to in the physical view.
const (
	ReasonAbsent     = "not_in_dump: the page was not in memory at dump time (its bitmap bit is clear)"
	ReasonClipped    = "not_in_dump: beyond the end of the area's 256 MiB segment (32-bit tables dump an area only up to there)"
	ReasonLostData   = "lost: the file ends before this page's data (truncated dump)"
	ReasonLostBitmap = "lost: this page's bitmap bit is not in the file (truncated dump, or the walk stopped before it)"
)

// Components lists the component dump tables in file order with their
// entries, as `dumpscope areas` shows them. PagesPresent counts the pages
// whose bytes are in the file; PagesAbsent those that were not in memory;
// PagesLost the rest, which a truncation cut.
func (f *File) Components() ([]model.Component, error) {
	w := f.walked()
	out := make([]model.Component, len(w.comps))
	for i, c := range w.comps {
		mc := model.Component{Index: c.index, Name: c.head.Name, Magic: model.Hex(c.head.Magic), MagicName: MagicName(c.head.Magic), Offset: model.FileOff(c.off),
			Complete: c.complete, Entries: make([]model.AreaEntry, len(c.entries))}
		for j := range c.entries {
			mc.Entries[j] = c.entries[j].toModel()
		}
		out[i] = mc
	}
	return out, nil
}

func (a *area) toModel() model.AreaEntry {
	return model.AreaEntry{Index: a.index, Name: a.Name, Address: model.Hex(a.Addr), Length: a.Len, Real: a.Real,
		Segval: model.Hex(a.Segval), PagesPresent: a.inFile, PagesAbsent: a.bits - a.count, PagesLost: a.npages - a.inFile - (a.bits - a.count),
		BitmapOffset: model.FileOff(a.bmOff), DataOffset: model.FileOff(a.dataOff), Complete: a.complete}
}

// Tables returns the decoded table headers and entries in file order.
func (f *File) Tables() []Table {
	w := f.walked()
	out := make([]Table, len(w.comps))
	for i, c := range w.comps {
		t := Table{Offset: c.off, Head: c.head, Complete: c.complete, Entries: make([]Entry, len(c.entries))}
		for j := range c.entries {
			t.Entries[j] = c.entries[j].Entry
		}
		out[i] = t
	}
	return out
}

// Table is one component dump table as read from the file.
type Table struct {
	Offset   int64
	Head     CDTHead
	Entries  []Entry
	Complete bool
}

// area returns entry e of component c.
func (f *File) area(c, e int) (*area, error) {
	w := f.walked()
	if c < 0 || c >= len(w.comps) {
		return nil, fmt.Errorf("%s: no component %d (the dump has %d): %w", f.src.Name, c, len(w.comps), model.ErrNotFound)
	}
	comp := w.comps[c]
	if e < 0 || e >= len(comp.entries) {
		return nil, fmt.Errorf("%s: component %d has no entry %d (it has %d): %w", f.src.Name, c, e, len(comp.entries), model.ErrNotFound)
	}
	return &comp.entries[e], nil
}

// ReadArea reads len(p) bytes of entry `entry` of component `comp` from
// address addr, which must lie in [address, address+length) with the whole
// range inside the entry. Bytes that are not in the dump are zeros and are
// returned as gaps (consecutive pages with the same reason form one gap).
// The error is for arguments outside the entry and for I/O failures.
func (f *File) ReadArea(comp, entry int, addr uint64, p []byte) ([]model.AreaGap, error) {
	a, err := f.area(comp, entry)
	if err != nil {
		return nil, err
	}
	name := areaName(comp, entry, a.Name)
	rel := addr - a.Addr
	if addr < a.Addr || rel >= a.Len {
		return nil, fmt.Errorf("%s: %s: address %#x is outside the entry [%#x, %#x+%#x): %w", f.src.Name, name, addr, a.Addr, a.Addr, a.Len, model.ErrNotFound)
	}
	if uint64(len(p)) > a.Len-rel {
		return nil, fmt.Errorf("%s: %s: %d bytes from %#x run past the entry's end (%d bytes left): %w", f.src.Name, name, len(p), addr, a.Len-rel, model.ErrNotFound)
	}
	clear(p)
	var gaps []model.AreaGap
	gap := func(from, n uint64, reason string) {
		at := a.Addr + from
		if k := len(gaps) - 1; k >= 0 && gaps[k].Reason == reason && uint64(gaps[k].Address)+gaps[k].Length == at {
			gaps[k].Length += n
			return
		}
		gaps = append(gaps, model.AreaGap{Address: model.Hex(at), Length: n, Reason: reason})
	}
	pos, end := rel, rel+uint64(len(p))
	clip := end
	if end > a.span {
		clip = max(pos, a.span)
	}
	// A run of present pages has contiguous data: read it in one go.
	var runOff int64 = -1
	var runFrom, runLen uint64
	flush := func() error {
		if runLen > 0 {
			if err := f.src.ReadAt(p[runFrom-rel:runFrom-rel+runLen], runOff, name+" data"); err != nil {
				return err
			}
		}
		runLen = 0
		return nil
	}
	if pos < clip {
		i := a.pageOf(pos)
		cur, err := f.cursorAt(a, i)
		if err != nil {
			return nil, err
		}
		for pos < clip {
			if i >= a.bits {
				gap(pos, clip-pos, ReasonLostBitmap)
				break
			}
			st, set, err := cur.page()
			if err != nil {
				return nil, err
			}
			start := a.pageStart(i)
			to := min(clip, start+a.chunk(i))
			switch st {
			case pagePresent:
				off := a.dataAt(cur.rank) + int64(pos-start)
				if runLen > 0 && runOff+int64(runLen) == off && runFrom+runLen == pos {
					runLen += to - pos
				} else {
					if err := flush(); err != nil {
						return nil, err
					}
					runOff, runFrom, runLen = off, pos, to-pos
				}
			case pageAbsent:
				gap(pos, to-pos, ReasonAbsent)
			default:
				gap(pos, to-pos, ReasonLostData)
			}
			cur.next(set)
			i++
			pos = to
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if clip < end {
		gap(clip, end-clip, ReasonClipped)
	}
	return gaps, nil
}
