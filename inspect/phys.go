package inspect

import (
	"fmt"

	"dumpscope/model"
	"dumpscope/reader"
)

// Absent is a stretch of a physical read that the dump does not hold: a
// whole frame that is not readable, or the part of a frame stored only in
// part (an ELF segment or an AIX area that starts or ends inside it) that
// nothing stores.
type Absent struct {
	Start, End model.PhysAddr // [Start, End), within one frame
	Page       model.PageInfo // the frame
	// Gap is true for the unstored part of a frame stored in part: the
	// frame itself is readable, these bytes are not in the dump.
	Gap bool
}

// Error describes the stretch as an error wrapping model.ErrPageAbsent
// (exit 1 in the CLI), or model.ErrCorrupt for an unreadable frame.
func (a Absent) Error(file string) error {
	if a.Gap {
		return &GapError{File: file, Start: a.Start, End: a.End, PFN: a.Page.PFN}
	}
	return model.AbsentError(file, a.Page)
}

// Reason says why the stretch is absent, for a list of zero-filled parts.
func (a Absent) Reason() string {
	if a.Gap {
		return gapReason
	}
	s := string(a.Page.State)
	if a.Page.Reason != "" {
		s += " (" + a.Page.Reason + ")"
	}
	return s
}

const gapReason = "not in the dump: the frame is stored only in part, and nothing stores these bytes"

// GapError reports bytes of a frame stored in part that nothing stores.
type GapError struct {
	File       string
	Start, End model.PhysAddr
	PFN        model.PFN
}

func (e *GapError) Error() string {
	s := fmt.Sprintf("phys %s-%s (%d bytes of pfn %s) is %s", e.Start, e.End, e.End-e.Start, e.PFN, gapReason)
	if e.File != "" {
		s = e.File + ": " + s
	}
	return s
}

func (e *GapError) Unwrap() error { return model.ErrPageAbsent }

// PhysAbsent returns what the dump does not hold of the n bytes of
// physical memory from addr, from the frames' states alone (no page is
// decoded): frames that are not readable, and the bytes of a frame stored
// in part that nothing stores. With first, it stops at the first.
func PhysAbsent(d reader.Dump, addr model.PhysAddr, n uint64, first bool) []Absent {
	if n == 0 {
		return nil
	}
	ps := uint64(d.Info().PageSize)
	start, end := uint64(addr), uint64(addr)+n
	partial, _ := d.(reader.PartialFrames)
	var absent []Absent
	for pfn := model.PFN(start / ps); pfn <= model.PFN((end-1)/ps); pfn++ {
		lo, hi := max(start, uint64(pfn)*ps), min(end, uint64(pfn)*ps+ps)
		pi := d.PageInfo(pfn)
		switch {
		case !pi.State.Readable():
			absent = append(absent, Absent{Start: model.PhysAddr(lo), End: model.PhysAddr(hi), Page: pi})
		case pi.Partial && partial != nil:
			absent = append(absent, gaps(lo, hi, partial.Defined(pfn), pi)...)
		}
		if first && len(absent) > 0 {
			return absent[:1]
		}
	}
	return absent
}

// ReadPhys reads len(p) bytes of physical memory starting at addr. What
// the dump does not hold is returned in absent (see PhysAbsent). Without
// zeroFill the read stops at the first such stretch and returns its error;
// with zeroFill their bytes are left as zeros and reading continues. The
// frames' states are checked before any page is decoded, so an absent
// frame is reported without reading page data.
func ReadPhys(d reader.Dump, addr model.PhysAddr, p []byte, zeroFill bool) (absent []Absent, err error) {
	if len(p) == 0 {
		return nil, nil
	}
	absent = PhysAbsent(d, addr, uint64(len(p)), !zeroFill)
	if len(absent) > 0 && !zeroFill {
		return absent, absent[0].Error("")
	}
	ps := uint64(d.Info().PageSize)
	start, end := uint64(addr), uint64(addr)+uint64(len(p))
	skip := map[model.PFN]bool{}
	for _, a := range absent {
		skip[a.Page.PFN] = skip[a.Page.PFN] || !a.Gap
	}
	page := make([]byte, ps)
	for pfn := model.PFN(start / ps); pfn <= model.PFN((end-1)/ps); pfn++ {
		lo := uint64(pfn) * ps
		from, to := max(lo, start), min(lo+ps, end)
		dst := p[from-start : to-start]
		if skip[pfn] {
			clear(dst)
			continue
		}
		pi, err := d.ReadPage(pfn, page, reader.ReadOptions{})
		if err != nil {
			if pi.State.Readable() || pi.State == "" {
				pi.State, pi.Reason = model.StateUnreadable, err.Error()
			}
			pi.PFN = pfn
			absent = append(absent, Absent{Start: model.PhysAddr(from), End: model.PhysAddr(to), Page: pi})
			if !zeroFill {
				return absent, err
			}
			clear(dst)
			continue
		}
		// ReadPage leaves the unstored bytes of a partial frame zero.
		copy(dst, page[from-lo:to-lo])
	}
	return absent, nil
}

// gaps returns the parts of [lo, hi) that the defined ranges leave out.
func gaps(lo, hi uint64, defined [][2]model.PhysAddr, pi model.PageInfo) []Absent {
	var out []Absent
	pos := lo
	for _, r := range defined {
		if uint64(r[0]) > pos && pos < hi {
			out = append(out, Absent{Start: model.PhysAddr(pos), End: model.PhysAddr(min(uint64(r[0]), hi)), Page: pi, Gap: true})
		}
		pos = max(pos, uint64(r[1]))
	}
	if pos < hi {
		out = append(out, Absent{Start: model.PhysAddr(pos), End: model.PhysAddr(hi), Page: pi, Gap: true})
	}
	return out
}
