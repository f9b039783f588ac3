package aix

import (
	"context"
	"fmt"

	"dumpscope/model"
)

// Check reports what the walk cannot see without looking further: entries
// whose address range is impossible, areas clipped at a 32-bit segment,
// overlapping real-address areas, header fields AIX leaves zero, and bytes
// after a zero end magic. What the walk itself found (truncation, bad
// cdt_len, unknown magics, bitmap padding, a missing end marker) is in
// Warnings, which verify reports as well.
//
// Codes: bad-entry (error), segment-clipped, overlapping-real-areas,
// unlimited-nentries, data-after-end, no-physical-view (notes).
func (f *File) Check(ctx context.Context, report func(model.Problem)) error {
	w := f.walked()
	name := f.src.Name
	var real int
	for _, c := range w.comps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if unlimited(c.head.Magic) && c.head.Len != 0 {
			report(model.NewProblem(model.SeverityNote, model.CodeUnlimitedNentries, name, c.off+20,
				"component %d: cdtu_nentries is %d; AIX writes 0 in the dump and readers find the entries by walking, so the value is ignored", c.index, c.head.Len))
		}
		for k := range c.entries {
			a := &c.entries[k]
			an := areaName(c.index, a.index, a.Name)
			if a.Real {
				real++
			}
			if clipped(c.head.Magic, a.Entry) {
				if a.span < a.Len {
					report(model.NewProblem(model.SeverityNote, model.CodeSegmentClipped, name, a.off,
						"%s: %#x+%#x runs past the end of its 256 MiB segment; a 32-bit table dumps only the first %d bytes", an, a.Addr, a.Len, a.span))
				}
				continue
			}
			if a.Len > 0 && a.Addr+(a.Len-1) < a.Addr {
				report(model.NewProblem(model.SeverityError, model.CodeBadEntry, name, a.off,
					"%s: address %#x plus length %#x wraps past the end of the address space", an, a.Addr, a.Len))
			}
		}
	}
	if real == 0 {
		report(model.NewProblem(model.SeverityNote, model.CodeNoPhysicalView, name, -1,
			"no entry has a real address, so the physical page view (pages, page, read --addr) is empty; use `areas` and `read --area`"))
	}
	f.checkOverlaps(report)
	return f.checkAfterEnd(ctx, w, report)
}

// checkOverlaps reports real-address areas that share bytes.
func (f *File) checkOverlaps(report func(model.Problem)) {
	ix := f.physical()
	var n int
	var first, second *area
	var end uint64
	var endArea *area
	for k, iv := range ix.ivs {
		if k > 0 && iv.start < end {
			if n == 0 {
				first, second = endArea, iv.a
			}
			n++
		}
		if iv.end > end {
			end, endArea = iv.end, iv.a
		}
	}
	if n > 0 {
		report(model.NewProblem(model.SeverityNote, model.CodeOverlappingRealAreas, f.src.Name, second.off,
			"%d real-address areas overlap an earlier one (first: %s and %s); in the page view the first in dump order wins",
			n, areaName(first.comp, first.index, first.Name), areaName(second.comp, second.index, second.Name)))
	}
}

// checkAfterEnd reports non-zero bytes after a zero end magic: the padding
// is zeros, so they are leftovers (stale data of the dump device, or a
// table whose magic was zeroed).
func (f *File) checkAfterEnd(ctx context.Context, w *walk, report func(model.Problem)) error {
	if w.end != endZero {
		return nil
	}
	buf := make([]byte, 64<<10)
	for off := w.endOff; off < f.src.Size; off += int64(len(buf)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := buf[:min(int64(len(buf)), f.src.Size-off)]
		if err := f.src.ReadAt(b, off, "padding"); err != nil {
			return fmt.Errorf("checking the padding: %w", err)
		}
		for i, c := range b {
			if c != 0 {
				report(model.NewProblem(model.SeverityNote, model.CodeDataAfterEnd, f.src.Name, off+int64(i),
					"non-zero bytes follow the zero magic that ends the dump at %#x: not part of the dump (stale data of the dump device?)", w.endOff))
				return nil
			}
		}
	}
	return nil
}
