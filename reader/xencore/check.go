package xencore

import (
	"context"

	"dumpscope/model"
)

// Problem codes. Opening reports (Warnings):
//
//	truncated             the file ends inside the section header table, a
//	                      section, the contexts, the index or the pages
//	bad-elf-header        e_phnum, e_shentsize, e_shnum or e_shstrndx wrong
//	bad-section-header    a name outside .shstrtab or repeated, an
//	                      unexpected sh_type or sh_entsize, both tables
//	missing-section       no .xen_prstatus, .xen_pages or frame table
//	bad-note              a Xen note malformed, repeated or missing
//	bad-xen-header        an unknown xch_magic, too many vCPUs
//	bad-page-size         xch_page_size not a power of two in 1 KiB-1 MiB
//	format-version        a format version other than 0.1 (warning)
//	unknown-machine       contexts of this e_machine cannot be decoded
//	section-size-mismatch section sizes disagree with the header note
//	bad-vcpu-context      context records too small for the architecture
//	ia64-section-order    libxc's swapped ia64 offsets (note)
//	bad-legacy-header     legacy offsets inconsistent
//
// Check reports, from the whole table and every context:
//
//	unsorted-p2m     entries out of ascending frame order (error; a note
//	                 says whether dumpscope could sort it in memory)
//	duplicate-pfn    a frame named twice; the first page is used (error;
//	                 duplicate-mfn in legacy cores)
//	bad-p2m-entry    an entry half invalid, or a valid entry after an
//	                 invalid one (error)
//	invalid-entries  trailing invalid entries of a live dump (warning, and
//	                 a note on libkdumpfile)
//	bad-vcpu-context a context that cannot be read or decoded (error)
const maxListed = 20 // problems of one kind listed before a summary

// Check scans the whole frame table and decodes every vCPU context. It
// reports through report and fails only when ctx is cancelled or the
// table cannot be read.
func (f *File) Check(ctx context.Context, report func(model.Problem)) error {
	if _, err := f.Registers(); err != nil {
		return err
	}
	for _, p := range f.regProbs {
		report(p)
	}
	if f.Legacy != nil {
		return f.checkLegacyIndex(ctx, report)
	}
	return f.checkTable(ctx, report)
}

// checkTable checks .xen_p2m / .xen_pfn in one sequential pass: ascending
// frames, no repeats, invalid entries (all ones, in both words of a p2m
// entry) only at the end (formats.md §4.5). Each entry is compared with
// the valid entry before it, so one misplaced entry gives two reports, not
// thousands.
func (f *File) checkTable(ctx context.Context, report func(model.Problem)) error {
	t := f.table
	var entries, invalid, inversions int64
	var prev uint64
	have, sawInvalid, midInvalid := false, false, false
	var dups []model.Problem
	listed := map[model.Code]int{}
	problem := func(sev model.Severity, code model.Code, i int64, pfn *uint64, format string, args ...any) model.Problem {
		p := model.NewProblem(sev, code, f.src.Name, t.entryOffset(i), "%s[%d]: "+format, append([]any{t.name, i}, args...)...)
		if pfn != nil {
			p = p.WithPFN(model.PFN(*pfn))
		}
		return p
	}
	emit := func(p model.Problem) {
		if listed[p.Code]++; listed[p.Code] <= maxListed {
			report(p)
		}
	}
	err := t.scan(ctx, 0, func(i int64, key, gmfn uint64) bool {
		entries++
		keyInvalid := key == t.invalid
		if t.kind == kindP2M && keyInvalid != (gmfn == ^uint64(0)) {
			emit(problem(model.SeverityError, model.CodeBadP2MEntry, i, nil, "pfn %#x with gmfn %#x: an entry is either wholly invalid (all ones) or names both frames", key, gmfn))
		}
		if keyInvalid {
			invalid++
			sawInvalid = true
			return true
		}
		if sawInvalid {
			midInvalid = true
			inversions++ // out of order for a binary search
			emit(problem(model.SeverityError, model.CodeBadP2MEntry, i, &key, "pfn %#x follows an invalid entry; invalid entries may only end the table", key))
		}
		switch {
		case have && key < prev:
			inversions++
			emit(problem(model.SeverityError, model.CodeUnsortedP2M, i, &key, "pfn %#x follows pfn %#x: the table must be in ascending pfn order", key, prev))
		case have && key == prev && len(dups) <= maxListed:
			dups = append(dups, problem(model.SeverityError, model.CodeDuplicatePFN, i, &key, "pfn %#x is named again; the page of its first entry is used", key))
		}
		prev, have = key, true
		return true
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		report(model.NewProblem(model.SeverityError, model.CodeTruncated, f.src.Name, t.off, "%s cannot be read: %v", t.name, err))
		return nil
	}
	for _, code := range model.AllCodes { // in a stable order
		if n := listed[code]; n > maxListed {
			report(model.NewProblem(model.SeverityError, code, f.src.Name, -1, "%s: %d more entries like the ones listed (%d in all)", t.name, n-maxListed, n))
		}
	}
	if inversions == 0 {
		t.verified.Store(true) // walks need not check the order again
		// Sorted: repeats are neighbours, and the pass found them all.
		for i, p := range dups {
			if i < maxListed {
				report(p)
			}
		}
		if len(dups) > maxListed {
			report(model.NewProblem(model.SeverityError, model.CodeDuplicatePFN, f.src.Name, -1, "%s: more repeated frames than the ones listed", t.name))
		}
	} else if f.reportSorted(ctx, report) {
		if err := f.reportRepeats(ctx, model.CodeDuplicatePFN, "pfn", report); err != nil {
			return err
		}
	}
	if trailing := invalid; trailing > 0 && !midInvalid {
		report(model.NewProblem(model.SeverityWarning, model.CodeInvalidEntries, f.src.Name, t.entryOffset(entries-trailing),
			"%s ends with %d invalid entries (all ones): a live dump (-L) of a domain that shrank; their pages are zero padding and belong to no frame", t.name, trailing))
		report(model.NewProblem(model.SeverityNote, model.CodeInvalidEntries, f.src.Name, t.entryOffset(entries-trailing),
			"libkdumpfile 0.5 counts the invalid entries as frame ~0 and reports max_pfn 0 for this dump"))
	}
	return nil
}

// reportSorted sorts an unsorted table in memory so that every frame can
// still be found, and says whether that worked.
func (f *File) reportSorted(ctx context.Context, report func(model.Problem)) bool {
	if err := f.table.buildSorted(ctx); err != nil {
		if ctx.Err() == nil {
			report(model.NewProblem(model.SeverityError, model.CodeUnsortedP2M, f.src.Name, f.table.off,
				"%s is not sorted and cannot be sorted in memory (%v): frames out of order are not found", f.table.name, err))
		}
		return false
	}
	report(model.NewProblem(model.SeverityNote, model.CodeUnsortedP2M, f.src.Name, f.table.off,
		"dumpscope sorted %s in memory, so every frame is found; crash, libkdumpfile and other binary-searching readers miss frames out of order", f.table.name))
	return true
}

// checkLegacyIndex checks that no machine frame is listed twice: the
// frames are the only way to address pages of a legacy core.
func (f *File) checkLegacyIndex(ctx context.Context, report func(model.Problem)) error {
	if err := f.table.buildSorted(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		report(model.NewProblem(model.SeverityError, model.CodeTruncated, f.src.Name, f.table.off, "%s cannot be read: %v", f.table.name, err))
		return nil
	}
	return f.reportRepeats(ctx, model.CodeDuplicateMFN, "mfn", report)
}

// reportRepeats reports frames named more than once, from the table sorted
// in memory.
func (f *File) reportRepeats(ctx context.Context, code model.Code, word string, report func(model.Problem)) error {
	t := f.table
	s := t.sorted.Load()
	dups := 0
	for i := 1; i < len(s.keys); i++ {
		if i&0xfff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if s.keys[i] != s.keys[i-1] {
			continue
		}
		if dups++; dups <= maxListed {
			report(model.NewProblem(model.SeverityError, code, f.src.Name, t.entryOffset(int64(s.idx[i])),
				"%s[%d]: %s %#x is named again (first at entry %d); the page of the first entry is used", t.name, s.idx[i], word, s.keys[i], s.idx[i-1]).WithPFN(model.PFN(s.keys[i])))
		}
	}
	if dups > maxListed {
		report(model.NewProblem(model.SeverityError, code, f.src.Name, -1, "%s: %d more repeated frames (%d in all)", t.name, dups-maxListed, dups))
	}
	return nil
}
