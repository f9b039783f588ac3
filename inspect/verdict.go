package inspect

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/reader"
)

// This file decides which analyses a dump supports, and for each it does
// not, why. Each analysis is tried with the few reads it needs (a page of
// the kernel text, the log ring, kallsyms, a page-table walk, a CPU's
// stack, the BTF header), never judged from headers alone: a dump whose
// headers look complete may still lack the one page that matters, and one
// whose headers say "partial" may hold everything triage needs. A failed
// read's error names the frame and its state; the dump's own facts (dump
// level, split part, partial ELF, truncation) say what left it out.

// Verdict tries every analysis and rates the dump. It fails only when ctx
// ends.
func (s *Session) Verdict(ctx context.Context) (*model.Verdict, error) {
	var pages atomic.Uint64
	ctx = kernel.WithProgress(ctx, func(n uint64) { pages.Add(n) })
	b := &verdictBuilder{s: s, info: s.Info(), pages: &pages,
		v: &model.Verdict{Capabilities: []model.Capability{}, Problems: []model.Problem{}}}
	b.file = strings.Join(b.info.Files, " ")
	k, kerr := s.KernelContext(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if kerr != nil {
		b.noEngine(kerr)
	} else {
		b.k = k
		b.tryAll(ctx)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.finish()
	b.v.PagesRead = pages.Load()
	return b.v, nil
}

// verdictBuilder gathers the capabilities.
type verdictBuilder struct {
	s     *Session
	k     *kernel.Kernel
	info  model.Info
	file  string
	pages *atomic.Uint64
	v     *model.Verdict
}

// capabilityCode is the verify problem an unsupported analysis gives.
func capabilityCode(name string) model.Code {
	switch name {
	case model.CapMemory:
		return model.CodePartialMemory
	case model.CapVMCoreInfo:
		return model.CodeNoVMCoreInfo
	case model.CapLog:
		return model.CodeNoKernelLog
	case model.CapSymbols:
		return model.CodeNoKallsyms
	case model.CapPageTables:
		return model.CodeNoPageTables
	case model.CapRegisters:
		return model.CodeNoCrashRegisters
	case model.CapStacks:
		return model.CodeNoKernelStacks
	case model.CapBTF:
		return model.CodeNoBTF
	case model.CapTasks:
		return model.CodeNoTaskList
	}
	return model.Code{}
}

// neededForTriage reports whether triage cannot do without an analysis:
// why (the log), where (symbols, registers), and reading the kernel at
// all (VMCOREINFO, page tables, the memory the dump means to hold).
func neededForTriage(name string) bool {
	switch name {
	case model.CapMemory, model.CapVMCoreInfo, model.CapLog, model.CapSymbols,
		model.CapPageTables, model.CapRegisters:
		return true
	}
	return false
}

func (b *verdictBuilder) add(name string, ok bool, detail string) {
	b.v.Capabilities = append(b.v.Capabilities, model.Capability{Name: name, Supported: ok, Needed: neededForTriage(name), Detail: detail})
}

// noEngine rates a dump the kernel engine cannot read (its architecture).
func (b *verdictBuilder) noEngine(err error) {
	b.add(model.CapMemory, len(b.memoryFacts()) == 0, strings.Join(append(b.memoryFacts(), "not checked further: "+err.Error()), "; "))
	for _, name := range []string{model.CapVMCoreInfo, model.CapLog, model.CapSymbols, model.CapPageTables} {
		b.add(name, false, err.Error())
	}
	b.registers(nil)
	for _, name := range []string{model.CapStacks, model.CapBTF, model.CapTasks} {
		b.add(name, false, err.Error())
	}
}

func (b *verdictBuilder) tryAll(ctx context.Context) {
	b.memory(ctx)
	b.vmcoreinfo()
	b.log(ctx)
	syms := b.symbols(ctx)
	b.pageTables(ctx)
	cpu := b.k.CrashCPU(ctx)
	b.registers(cpu)
	b.stacks(ctx, syms, cpu)
	btf := b.btf(ctx, syms)
	b.tasks(ctx, syms, btf)
}

// memoryFacts are the opening's findings that memory is missing: a split
// part not given, a truncated or incomplete file.
func (b *verdictBuilder) memoryFacts() []string {
	var out []string
	for _, p := range b.info.Warnings {
		switch p.Code {
		case model.CodeMissingSplitPart:
			out = append(out, "one part of a split set: "+p.Message)
		case model.CodeTruncated, model.CodeIncomplete, model.CodeLostPage:
			out = append(out, p.Message)
		}
	}
	return out
}

// memory checks that the memory the dump means to hold is there: what
// opening found, the last stored frame, the kernel text, and the kernel's
// own extent of RAM (max_pfn) against the frames the dump describes.
func (b *verdictBuilder) memory(ctx context.Context) {
	bad := b.memoryFacts()
	var good []string
	if last, ok, err := b.lastReadable(ctx); err != nil {
		bad = append(bad, err.Error())
	} else if ok {
		page := make([]byte, b.info.PageSize)
		if _, err := b.s.dump.ReadPage(last, page, reader.ReadOptions{}); err != nil {
			bad = append(bad, fmt.Sprintf("the last stored frame (pfn %s) cannot be read: %v", last, err))
		} else {
			b.pages.Add(1)
			good = append(good, fmt.Sprintf("the last stored frame (pfn %s) reads", last))
		}
	}
	if v := b.k.VMCoreInfo(); v != nil {
		if st, ok := v.Symbol("_stext"); ok {
			buf := make([]byte, 16)
			if err := b.k.ReadVirt(ctx, model.VirtAddr(st), buf); err != nil {
				bad = append(bad, "the kernel text at _stext: "+b.explain(err))
			} else {
				good = append(good, "the kernel text at _stext reads")
			}
		}
	}
	if syms, err := b.k.Symbols(ctx); err == nil && len(syms.Lookup("max_pfn")) == 1 {
		buf := make([]byte, 8)
		if b.k.Arch() == "i386" {
			buf = buf[:4]
		}
		if err := b.k.ReadVirt(ctx, syms.Lookup("max_pfn")[0].Addr, buf); err == nil {
			var n uint64
			for i := len(buf) - 1; i >= 0; i-- {
				n = n<<8 | uint64(buf[i])
			}
			if model.PFN(n) > b.info.MaxPFN {
				bad = append(bad, fmt.Sprintf("the kernel's max_pfn is %#x, but the dump describes frames only up to %s: the rest of RAM is not in it (a partial ELF, as QEMU dump-guest-memory begin/length writes)", n, b.info.MaxPFN))
			} else {
				good = append(good, fmt.Sprintf("the dump describes every frame up to the kernel's max_pfn %#x", n))
			}
		}
	}
	if len(bad) > 0 {
		b.add(model.CapMemory, false, strings.Join(bad, "; "))
		return
	}
	b.add(model.CapMemory, true, strings.Join(good, "; "))
}

// lastReadable finds the highest frame the dump stores.
func (b *verdictBuilder) lastReadable(ctx context.Context) (model.PFN, bool, error) {
	var last model.PFN
	found := false
	err := b.s.dump.Runs(ctx, 0, false, func(r model.PageRun) bool {
		if r.State.Readable() && r.Count > 0 {
			last, found = r.End()-1, true
		}
		return true
	})
	return last, found, err
}

func (b *verdictBuilder) vmcoreinfo() {
	origin, _ := b.s.VMCoreInfoOrigin()
	switch origin.Source {
	case model.VMCoreInfoFromNote:
		b.add(model.CapVMCoreInfo, true, "the dump's VMCOREINFO note")
	case model.VMCoreInfoFromFile:
		b.add(model.CapVMCoreInfo, true, "from "+origin.File+" (--vmcoreinfo): "+origin.Reason)
	case model.VMCoreInfoFromMemory:
		b.add(model.CapVMCoreInfo, true, "recovered from memory at "+origin.PhysAddr.String()+": "+origin.Reason)
	default:
		b.add(model.CapVMCoreInfo, false, "none: "+origin.Reason)
	}
}

func (b *verdictBuilder) log(ctx context.Context) {
	recs, err := b.k.Log(ctx)
	switch {
	case err != nil:
		b.add(model.CapLog, false, b.explain(err))
	case len(recs) == 0:
		b.add(model.CapLog, false, "the printk ring buffer holds no record")
	default:
		ts := recs[len(recs)-1].TimestampNS
		b.add(model.CapLog, true, fmt.Sprintf("%d records, the last at %d.%06d s after boot", len(recs), ts/1e9, ts%1e9/1e3))
	}
}

func (b *verdictBuilder) symbols(ctx context.Context) *kernel.Symbols {
	syms, err := b.k.Symbols(ctx)
	if err != nil {
		b.add(model.CapSymbols, false, b.explain(err))
		return nil
	}
	b.add(model.CapSymbols, true, fmt.Sprintf("kallsyms: %d symbols (%s)", syms.Len(), syms.Mode))
	return syms
}

func (b *verdictBuilder) pageTables(ctx context.Context) {
	as, err := b.k.Space(ctx)
	if err != nil {
		b.add(model.CapPageTables, false, b.explain(err))
		return
	}
	// A walk through every level: the root table's own direct-map address
	// (the tables lie in RAM, so the direct map maps them).
	va := as.PageOffset + model.VirtAddr(as.Root)
	tr, err := b.k.Translate(ctx, va)
	if err != nil || !tr.Mapped || tr.Method != kernel.MethodWalk {
		why := "the walk did not complete"
		if err != nil {
			why = b.explain(err)
		} else if tr.Note != "" {
			why = tr.Note
		}
		b.add(model.CapPageTables, false, fmt.Sprintf("%s rooted at %s (%s): walking %s: %s", as.Paging, as.Root, as.RootFrom, va, why))
		return
	}
	b.add(model.CapPageTables, true, fmt.Sprintf("%s rooted at %s (%s); a %d-level walk of the direct map reads", as.Paging, as.Root, as.RootFrom, len(tr.Steps)))
}

// registers rates the CPUs' saved registers: the crashing CPU's must be
// there (every CPU's when none crashed).
func (b *verdictBuilder) registers(cpu *int) {
	sets, err := b.s.dump.Registers()
	if err != nil {
		b.add(model.CapRegisters, false, err.Error())
		return
	}
	pc, sp := "rip", "rsp"
	if b.info.Arch == "i386" {
		pc, sp = "eip", "esp"
	}
	have := map[int]bool{}
	for _, r := range sets {
		p, ok1 := r.Get(pc)
		q, ok2 := r.Get(sp)
		if ok1 && ok2 && (p != 0 || q != 0) {
			have[r.CPU] = true
		}
	}
	switch {
	case len(have) == 0:
		b.add(model.CapRegisters, false, fmt.Sprintf("no CPU has a saved %s and %s (%d register sets)", pc, sp, len(sets)))
	case cpu != nil && !have[*cpu]:
		b.add(model.CapRegisters, false, fmt.Sprintf("the crashing CPU %d has no saved registers (%d of %d CPUs have)", *cpu, len(have), b.info.CPUs))
	default:
		d := fmt.Sprintf("%d of %d CPUs have a saved %s and %s", len(have), b.info.CPUs, pc, sp)
		if cpu != nil {
			d += fmt.Sprintf(", the crashing CPU %d among them", *cpu)
		}
		b.add(model.CapRegisters, true, d)
	}
}

// explain words a read error for a capability's detail. The engine's
// errors already name the frame, its state and what left it out (the
// dump level, a split part not given, a partial ELF, a truncated file)
// and what would have kept it; the file name, which the problem carries,
// is dropped, and so is a sentinel's "not found" (model.ErrorText: the
// crash analysis words the same failure the same way).
func (b *verdictBuilder) explain(err error) string {
	return strings.TrimPrefix(model.ErrorText(err), b.file+": ")
}

// finish sets Ready, the summary and the problems.
func (b *verdictBuilder) finish() {
	v := b.v
	v.Ready = true
	var missing, optional []string
	for _, c := range v.Capabilities {
		if c.Supported {
			continue
		}
		sev := model.SeverityWarning
		if c.Needed {
			sev, v.Ready = model.SeverityError, false
			missing = append(missing, c.Name)
		} else {
			optional = append(optional, c.Name)
		}
		v.Problems = append(v.Problems, model.NewProblem(sev, capabilityCode(c.Name), b.file, -1, "%s: %s", c.Name, c.Detail))
	}
	if origin, _ := b.s.VMCoreInfoOrigin(); origin.Source == model.VMCoreInfoFromMemory || origin.Source == model.VMCoreInfoFromFile {
		v.Problems = append(v.Problems, model.NewProblem(model.SeverityNote, model.CodeVMCoreInfoRecovered, b.file, -1,
			"the dump has no VMCOREINFO note: %s; crash, drgn and makedumpfile need it in the dump (or makedumpfile -i FILE)", vmcoreinfoWhere(origin)))
	}
	switch {
	case !v.Ready:
		v.Summary = "not ready for triage; not possible: " + strings.Join(append(missing, optional...), ", ")
	case len(optional) > 0:
		v.Summary = "ready for triage; not possible: " + strings.Join(optional, ", ")
	default:
		v.Summary = "ready for triage: every analysis is supported"
	}
}

func vmcoreinfoWhere(o model.VMCoreInfoOrigin) string {
	if o.Source == model.VMCoreInfoFromFile {
		return "it was read from " + o.File
	}
	return "it was recovered from memory at " + o.PhysAddr.String()
}
