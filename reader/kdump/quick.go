package kdump

import (
	"maps"

	"dumpscope/model"
)

// QuickCounts gives the frame counts known without scanning the bitmaps,
// and the bytes of bitmaps Counts would scan (0 once it has counted).
//
// The present frames are the page descriptors, and makedumpfile writes
// the page data right after the last descriptor (makedumpfile.c,
// write_kdump_pages_and_bitmap_cyclic: offset_data = the descriptors'
// offset + sizeof(page_desc_t) × num_dumpable), starting with the shared
// zero page when it writes one. So the first descriptor, which points at
// the first page image or at the zero page after it, gives their number
// in O(1). It is trusted only when it is a whole number of descriptors,
// fits this file's frame range and the file, and the last descriptor it
// implies is a plausible one pointing into the page data; otherwise the
// present count is left out. Frames outside a split part's range are not
// in the dump, exactly.
func (f *File) QuickCounts() model.StateCounts {
	if done := f.counted(); done != nil {
		return done
	}
	known := model.StateCounts{}
	if out := f.maxMapnr - (f.end - f.start); out > 0 {
		known.Add(model.StateNotInDump, out)
	}
	if n, ok := f.descriptorExtent(); ok {
		known[model.StatePresent] = n
	}
	return known
}

// CountScanBytes is the bytes of bitmaps Counts reads, or 0 once it has
// counted.
func (f *File) CountScanBytes() int64 {
	if f.counted() != nil {
		return 0
	}
	if f.bm.single {
		return f.bm.size
	}
	return 2 * f.bm.size
}

// counted returns a copy of the counts once Counts has made them, or nil.
func (f *File) counted() model.StateCounts {
	f.countsMu.Lock()
	defer f.countsMu.Unlock()
	if f.countsVal == nil {
		return nil
	}
	return maps.Clone(f.countsVal)
}

// descriptorExtent returns the number of page descriptors as the first
// one implies, when it passes the checks QuickCounts describes.
func (f *File) descriptorExtent() (uint64, bool) {
	d0, err := f.descs.get(0)
	if err != nil {
		return 0, false
	}
	for _, zeroFirst := range []bool{false, true} {
		dataStart := d0.Offset
		if zeroFirst {
			dataStart -= f.pageSize // the zero page comes first
		}
		gap := dataStart - f.descs.off
		if gap <= 0 || gap%descSize != 0 {
			continue
		}
		n := uint64(gap / descSize)
		if n > f.end-f.start {
			continue
		}
		last, err := f.descs.get(n - 1)
		end := last.Offset + int64(last.Size)
		if err != nil || last.Offset < dataStart || last.Size == 0 || int64(last.Size) > f.pageSize || end < last.Offset || end > f.src.Len() {
			continue
		}
		return n, true
	}
	return 0, false
}
