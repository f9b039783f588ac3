package elfcore

import (
	"debug/elf"
	"fmt"
	"sync"

	"dumpscope/model"
	"dumpscope/reader/elfnote"
)

// noteSet is what the notes of a file give, computed once.
type noteSet struct {
	notes    []model.Note
	problems []model.Problem
	vmci     *model.VMCoreInfo

	// The register sets are decoded from the notes when first asked for:
	// most commands (info --no-crash, dmesg, pages, find) never are.
	regsOnce sync.Once
	regs     []model.RegisterSet
}

// loadNotes reads every PT_NOTE segment once.
func (f *File) loadNotes() *noteSet {
	f.notesOnce.Do(func() {
		ns := &f.notes
		for i, p := range f.Progs {
			if p.Type != elf.PT_NOTE {
				continue
			}
			if p.Off > uint64(f.src.Len()) {
				ns.problems = append(ns.problems, model.NewProblem(model.SeverityError, model.CodeTruncated, f.src.Name, f.progOffset(i),
					"PT_NOTE [%d] at %#x (%d bytes) lies beyond the end of the file (%#x)", i, p.Off, p.Filesz, f.src.Len()))
				continue
			}
			notes, probs := elfnote.ReadNotes(f.src, f.order, f.archName, int64(p.Off), int64(p.Filesz), len(ns.notes), fmt.Sprintf("PT_NOTE [%d]", i))
			ns.notes = append(ns.notes, notes...)
			ns.problems = append(ns.problems, probs...)
		}
		ns.vmci = elfnote.VMCoreInfoFromNotes(ns.notes)
		ns.problems = append(ns.problems, elfnote.RegisterNoteProblems(ns.notes, f.archName, f.order)...)
	})
	return &f.notes
}

// loadRegisters decodes the register sets of the notes once (loadNotes
// has reported the notes that cannot be decoded).
func (f *File) loadRegisters() *noteSet {
	ns := f.loadNotes()
	ns.regsOnce.Do(func() { ns.regs, _ = elfnote.RegistersFromNotes(ns.notes, f.archName, f.order) })
	return ns
}
