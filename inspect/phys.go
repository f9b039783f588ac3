package inspect

import (
	"dumpscope/model"
	"dumpscope/reader"
)

// ReadPhys reads len(p) bytes of physical memory starting at addr. Frames
// that are not readable are returned in absent; without zeroFill the read
// stops at the first one and returns its *model.PageError, with zeroFill
// their bytes are left as zeros and reading continues. The frames' states
// are checked before any page is decoded, so an absent frame is reported
// without reading page data.
func ReadPhys(d reader.Dump, addr model.PhysAddr, p []byte, zeroFill bool) (absent []model.PageInfo, err error) {
	if len(p) == 0 {
		return nil, nil
	}
	ps := uint64(d.Info().PageSize)
	first := model.PFN(uint64(addr) / ps)
	last := model.PFN((uint64(addr) + uint64(len(p)) - 1) / ps)
	for pfn := first; pfn <= last; pfn++ {
		if pi := d.PageInfo(pfn); !pi.State.Readable() {
			absent = append(absent, pi)
			if !zeroFill {
				return absent, model.AbsentError("", pi)
			}
		}
	}
	page := make([]byte, ps)
	skip := map[model.PFN]bool{}
	for _, pi := range absent {
		skip[pi.PFN] = true
	}
	for pfn := first; pfn <= last; pfn++ {
		start := uint64(pfn) * ps
		from := max(start, uint64(addr))
		to := min(start+ps, uint64(addr)+uint64(len(p)))
		dst := p[from-uint64(addr) : to-uint64(addr)]
		if skip[pfn] {
			clear(dst)
			continue
		}
		pi, err := d.ReadPage(pfn, page, reader.ReadOptions{})
		if err != nil {
			if !zeroFill {
				return append(absent, pi), err
			}
			clear(dst)
			if pi.State.Readable() || pi.State == "" {
				pi.State, pi.Reason = model.StateUnreadable, err.Error()
			}
			absent = append(absent, pi)
			continue
		}
		copy(dst, page[from-start:to-start])
	}
	return absent, nil
}
