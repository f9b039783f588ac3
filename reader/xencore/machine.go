package xencore

import (
	"context"
	"sort"

	"dumpscope/model"
)

// A PV guest's page tables, cr3 and GDT frames hold machine frames, while
// dumpscope addresses its pages by guest frame. The gmfn column of
// .xen_p2m maps one to the other; libkdumpfile and crash build this
// reverse map too (formats.md §4.5). HVM and ia64 guests are
// auto-translated: their page tables hold guest frames. Legacy cores are
// addressed by machine frame already.

// MachineFrame returns the frame, as PageInfo and ReadPage address it,
// that holds machine frame mfn, and whether the dump has it. For PV
// domains the first use sorts the gmfn column in memory (12 bytes per
// page); elsewhere the machine frame is the frame.
func (f *File) MachineFrame(mfn uint64) (model.PFN, bool, error) {
	if f.table.kind != kindP2M {
		return model.PFN(mfn), f.PageInfo(model.PFN(mfn)).State != model.StateNotInDump, nil
	}
	r, err := f.reverse()
	if err != nil {
		return 0, false, err
	}
	i := r.lowerBound(mfn)
	if i >= len(r.keys) || r.keys[i] != mfn {
		return 0, false, nil
	}
	pfn, _, err := f.table.entry(int64(r.idx[i]))
	return model.PFN(pfn), err == nil, err
}

// reverse builds, once, the table's entries sorted by gmfn.
func (f *File) reverse() (*sortedIndex, error) {
	f.revOnce.Do(func() {
		t := f.table
		if t.n > maxSortEntries {
			f.revErr = errTooLarge(t)
			return
		}
		r := &sortedIndex{keys: make([]uint64, 0, t.n), idx: make([]uint32, 0, t.n)}
		f.revErr = t.scan(context.Background(), 0, func(i int64, key, gmfn uint64) bool {
			if key != t.invalid && gmfn != ^uint64(0) {
				r.keys = append(r.keys, gmfn)
				r.idx = append(r.idx, uint32(i))
			}
			return true
		})
		if !sort.IsSorted(r) {
			sort.Sort(r)
		}
		f.rev = r
	})
	return f.rev, f.revErr
}
