package kernel

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"dumpscope/inspect/oops"
	"dumpscope/model"
)

// This file answers why and where the kernel crashed. The log says most
// of it: package oops reads every report, picks the one that crashed the
// kernel and signs it. Memory adds what the log may lack or may have lost
// (crashmem.go): the panicking CPU, the task on each CPU, panic()'s own
// message buffer, the taint. The two are cross-checked, and every
// disagreement is a note.
//
// The crashing CPU and task come from the log's task line ("CPU: 1 PID: 1
// Comm: init", lib/dump_stack.c dump_stack_print_info()) of the panic's
// own report or of the report that caused it; where the log has none,
// from memory, strongest first: panic_cpu, crashing_cpu, a saved
// instruction pointer in the crash path, a prstatus note with a signal,
// and the printk caller id of the panic line ("C1").

// crashResult is the cached analysis.
type crashResult struct {
	analysis *model.CrashAnalysis
	log      *oops.Analysis
}

// Crash analyses why and where the kernel crashed, once. It fails only
// when ctx ends: what cannot be read is in the result's Problems.
func (k *Kernel) Crash(ctx context.Context) (*model.CrashAnalysis, error) {
	r, err := k.ext.crash.get(ctx, k.analyseCrash)
	if err != nil {
		return nil, err
	}
	return r.analysis, nil
}

// LogAnalysis returns the log's analysis the crash analysis was built on:
// every report with its lines, registers and trace (package oops).
func (k *Kernel) LogAnalysis(ctx context.Context) (*oops.Analysis, error) {
	r, err := k.ext.crash.get(ctx, k.analyseCrash)
	if err != nil {
		return nil, err
	}
	return r.log, nil
}

// CrashCPU returns the CPU that crashed, or nil.
func (k *Kernel) CrashCPU(ctx context.Context) *int {
	a, err := k.Crash(ctx)
	if err != nil {
		return nil
	}
	return a.Where.CPU
}

func (k *Kernel) analyseCrash(ctx context.Context) (*crashResult, error) {
	a := &model.CrashAnalysis{Reports: []model.CrashReportRef{}, Excerpt: []model.LogRecord{}, Notes: []string{}, Problems: []string{}}
	a.Why.Modules = []string{}
	a.Where.Trace, a.Where.Unwound, a.Where.StackScan = []model.CrashFrame{}, []model.UnwoundFrame{}, []model.StackWord{}
	problem := func(err error) { a.Problems = append(a.Problems, model.ErrorText(err)) }
	facts := oops.Facts{}
	if k.vmci == nil {
		problem(k.noVMCoreInfo("OSRELEASE, BUILD-ID, CRASHTIME, symbols and the kernel log"))
	} else {
		facts.Release, _ = k.vmci.Get("OSRELEASE")
		facts.BuildID, _ = k.vmci.Get("BUILD-ID")
	}
	syms, err := k.Symbols(ctx)
	if err != nil {
		problem(err)
		syms = nil
	}
	mf := k.memoryFacts(ctx, syms)
	if syms == nil {
		a.Notes = append(a.Notes, "memory was not asked about a panic (panic_cpu, crashing_cpu, panic()'s buffer, tainted_mask): kallsyms is not readable")
	}
	a.Memory = mf.CrashMemory
	a.Where.CPUs = append([]model.CPUState{}, mf.cpus...)
	a.Problems = append(a.Problems, mf.problems...)
	recs, logErr := k.Log(ctx)
	if logErr != nil {
		problem(logErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.LogRecords = len(recs)
	la := oops.Analyze(recs, facts)
	var cause, panicRep *oops.Report
	if la.Cause != nil {
		cause = &la.Reports[*la.Cause]
	}
	if la.Panic != nil {
		panicRep = &la.Reports[la.Panic.Report]
	}
	k.why(a, la, cause, mf, logErr == nil)
	k.where(ctx, a, cause, panicRep, mf, recs)
	if a.Where.CPU != nil {
		if w, err := k.Stack(ctx, *a.Where.CPU); err == nil {
			a.Where.StackScan = w
		} else if syms != nil {
			problem(err)
		}
	}
	// The unwound stack is the panicking task's: compare it with the
	// panic's own trace when it printed one (a hung task's or a stalled
	// CPU's report shows another context), else with the cause's.
	if len(a.Where.Unwound) > 0 {
		on := cause
		if panicRep != nil && len(panicRep.Trace) > 0 {
			on = panicRep
		}
		if on != nil {
			a.Where.StackAgreement = oops.Compare(on, a.Where.Unwound)
		}
	}
	a.Notes = append(a.Notes, la.Notes...)
	for i := range la.Reports {
		r := &la.Reports[i]
		ref := model.CrashReportRef{Index: i, Class: r.Class, Header: r.Header, FirstSeq: r.FirstSeq, LastSeq: r.LastSeq,
			TimestampNS: r.TimestampNS, Cause: la.Cause != nil && *la.Cause == i, Panic: la.Panic != nil && la.Panic.Report == i,
			Complete: r.Complete}
		if r.Signature != nil {
			ref.Title = r.Signature.Title
		}
		a.Reports = append(a.Reports, ref)
	}
	a.Excerpt = excerpt(recs, cause, panicRep)
	return &crashResult{analysis: a, log: la}, nil
}

// why fills the reason of the crash from the log's analysis and memory.
func (k *Kernel) why(a *model.CrashAnalysis, la *oops.Analysis, cause *oops.Report, mf *memFacts, logRead bool) {
	w := &a.Why
	w.Verdict, w.CauseReason, w.Incomplete = la.Verdict, la.CauseReason, la.Incomplete
	if la.Panic != nil {
		w.PanicMessage, w.PanicMessageFrom = la.Panic.Message, "log"
	}
	switch mem := mf.PanicMessage; {
	case mem == "":
	case w.PanicMessage == "":
		// The ring lost the panic line (or the log could not be read):
		// panic()'s buffer still holds the message.
		w.PanicMessage, w.PanicMessageFrom = mem, "memory"
		if w.Verdict != model.CrashPanic {
			w.Verdict = model.CrashPanic
			w.CauseReason = "the log holds no panic line, but panic()'s message buffer holds " + strconv.Quote(mem) + ": the log lost the line; " + w.CauseReason
		}
	case sameMessage(w.PanicMessage, mem):
		w.PanicMessageFrom = "log and memory"
	default:
		a.Notes = append(a.Notes, fmt.Sprintf("the log's panic message %q differs from panic()'s buffer %q (a later panic overwrote it, or the log line was truncated)", w.PanicMessage, mem))
	}
	if !logRead && w.Verdict == model.CrashNone {
		w.Verdict = model.CrashUnknown
		w.CauseReason = "the kernel log could not be read"
		if mf.PanicCPU != nil {
			w.CauseReason += fmt.Sprintf("; panic_cpu says CPU %d entered panic() or crash_kexec()", *mf.PanicCPU)
		}
	}
	if w.Verdict == model.CrashNone && mf.PanicCPU != nil {
		a.Notes = append(a.Notes, fmt.Sprintf("the log shows no crash, but panic_cpu = %d: CPU %d entered panic() or crash_kexec() (the log may have lost the report)", *mf.PanicCPU, *mf.PanicCPU))
	}
	if cause == nil {
		return
	}
	w.Class, w.Header, w.Trigger, w.Message, w.Location = cause.Class, cause.Header, cause.Trigger, cause.Message, cause.Location
	w.FaultAddress, w.Access = cause.Address, cause.Access
	w.HungTask = cause.HungTask
	w.Signature = la.Signature
	if w.Signature != nil {
		w.Modules = append(w.Modules, w.Signature.Modules...)
	}
	for _, b := range cause.Registers {
		if b.InTrace || b.IP == nil {
			continue
		}
		w.IP = ipText(b.IP)
		break
	}
	if cause.Task != nil && cause.Task.Taint.Text != "" {
		t := cause.Task.Taint
		w.Taint = &t
		if mf.TaintedMask != nil {
			// The log's letters are the taint when the report was printed;
			// tainted_mask is the taint when the dump was taken (the oops
			// itself adds D, a warning W).
			logMask, memMask := oops.TaintMask(t), uint64(*mf.TaintedMask)
			if logMask&^memMask != 0 {
				a.Notes = append(a.Notes, fmt.Sprintf("the report's taint %q has flags tainted_mask %s lacks", t.Text, mf.TaintedMask))
			}
		}
	}
}

// sameMessage compares a log's panic message with the buffer's: the log
// line may be cut by the record size.
func sameMessage(log, mem string) bool {
	return log == mem || (len(log) >= 32 && strings.HasPrefix(mem, log))
}

// ipText writes an instruction pointer as the log printed it.
func ipText(ip *oops.CodeLocation) string {
	if ip.Function == "" {
		if ip.Address != nil {
			return ip.Address.String()
		}
		return ""
	}
	s := fmt.Sprintf("%s+%#x/%#x", ip.Function, ip.Offset, ip.Size)
	if ip.Module != "" {
		s += " [" + ip.Module + "]"
	}
	return s
}

// where fills the crashing CPU, task and stack.
func (k *Kernel) where(ctx context.Context, a *model.CrashAnalysis, cause, panicRep *oops.Report, mf *memFacts, recs []model.LogRecord) {
	w := &a.Where
	if cause != nil {
		w.Trace = append(w.Trace, cause.Trace...)
		if cause.Signature != nil {
			w.GuiltyFrame = cause.Signature.GuiltyFrame
		}
	}
	// The log's task line: the panic's own report's, else the cause's.
	var line *oops.TaskInfo
	for _, r := range []*oops.Report{panicRep, cause} {
		if r != nil && r.Task != nil && r.Task.CPU >= 0 {
			line = r.Task
			break
		}
	}
	if line != nil {
		cpu, pid := line.CPU, line.PID
		w.CPU, w.PID, w.Comm = &cpu, &pid, line.Comm
		w.CPUFrom = fmt.Sprintf("the log's task line (CPU: %d PID: %d Comm: %s)", cpu, pid, line.Comm)
		w.TaskFrom = "the log's task line"
	} else if a.Why.Verdict != model.CrashNone {
		w.CPU, w.CPUFrom = memoryCPU(mf, recs)
	} else {
		w.CPUFrom = "nothing crashed: " + a.Why.CauseReason
		if mf.qemu {
			w.CPUFrom += "; QEMU saved the registers: the dump was taken from a running or stopped guest, not by kdump at a panic"
		}
		if cpu, from := memoryCPU(mf, recs); cpu != nil {
			w.CPUFrom += "; memory says: " + from
		}
	}
	k.crossCheckCPU(a, mf)
	if w.CPU == nil {
		if w.TaskFrom == "" {
			w.TaskFrom = "unknown: no crashing CPU"
		}
		return
	}
	for _, t := range mf.Tasks {
		if t.CPU != *w.CPU {
			continue
		}
		w.Task = t.Task
		switch {
		case w.PID == nil && (t.PID != nil || t.Task != nil):
			w.PID, w.Comm, w.TaskFrom = t.PID, t.Comm, "memory: "+t.From
		case w.PID != nil && t.PID != nil && *t.PID != *w.PID:
			a.Notes = append(a.Notes, fmt.Sprintf("the log names PID %d on CPU %d, memory says PID %d (%s)", *w.PID, *w.CPU, *t.PID, t.From))
			w.TaskFrom += "; memory: " + t.From
		default:
			w.TaskFrom += "; memory agrees: " + t.From
		}
		if w.Comm == "" {
			w.Comm = t.Comm
		}
	}
	if w.TaskFrom == "" {
		w.TaskFrom = fmt.Sprintf("unknown: neither the log nor memory names the task on CPU %d", *w.CPU)
	}
	if o := k.ext.opts.Objects; o != nil {
		frames, how, err := o.UnwindCPU(ctx, *w.CPU)
		if err != nil {
			a.Problems = append(a.Problems, fmt.Sprintf("the stack of CPU %d: %v", *w.CPU, err))
		} else {
			w.Unwound, w.UnwoundFrom = append(w.Unwound, frames...), how
		}
	}
}

// memoryCPU names the crashing CPU from memory when the log has no task
// line, strongest evidence first.
func memoryCPU(mf *memFacts, recs []model.LogRecord) (*int, string) {
	one := func(cpus []int) (*int, bool) {
		if len(cpus) == 1 {
			c := cpus[0]
			return &c, true
		}
		return nil, false
	}
	switch {
	case mf.PanicCPU != nil:
		return mf.PanicCPU, fmt.Sprintf("memory: panic_cpu = %d (the CPU that entered panic() or crash_kexec())", *mf.PanicCPU)
	case mf.CrashingCPU != nil:
		return mf.CrashingCPU, fmt.Sprintf("memory: crashing_cpu = %d (the CPU that stopped the others for the crash kernel)", *mf.CrashingCPU)
	}
	if c, ok := one(mf.CrashPathCPUs); ok {
		return c, fmt.Sprintf("memory: CPU %d's saved instruction pointer is on the kdump crash path", *c)
	}
	if c, ok := one(mf.SignalledCPUs); ok {
		return c, fmt.Sprintf("memory: CPU %d's prstatus note carries a signal", *c)
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if !strings.HasPrefix(recs[i].Text, "Kernel panic - not syncing") {
			continue
		}
		if n, ok := strings.CutPrefix(recs[i].Caller, "C"); ok {
			if cpu, err := strconv.Atoi(n); err == nil && cpu >= 0 && cpu < maxCPUs {
				return &cpu, fmt.Sprintf("the log: CPU %d printed the panic line (printk caller C%d)", cpu, cpu)
			}
		}
		// A task's caller id matched with the pid kdump saved per CPU.
		if n, ok := strings.CutPrefix(recs[i].Caller, "T"); ok && n != "0" {
			for cpu, pid := range mf.pids {
				if strconv.FormatInt(pid, 10) == n {
					c := cpu
					return &c, fmt.Sprintf("the log: task %s printed the panic line, and CPU %d's prstatus note names pid %s", n, cpu, n)
				}
			}
		}
		break
	}
	if len(mf.CrashPathCPUs) > 1 {
		return nil, fmt.Sprintf("unknown: CPUs %v are all on the crash path", mf.CrashPathCPUs)
	}
	return nil, "unknown: the log has no task line and memory names no crashing CPU"
}

// crossCheckCPU notes where memory names another CPU than the one chosen.
func (k *Kernel) crossCheckCPU(a *model.CrashAnalysis, mf *memFacts) {
	w := &a.Where
	if w.CPU == nil || a.Why.Verdict == model.CrashNone {
		return
	}
	for _, c := range []struct {
		name string
		cpu  *int
	}{{"panic_cpu", mf.PanicCPU}, {"crashing_cpu", mf.CrashingCPU}} {
		if c.cpu != nil && *c.cpu != *w.CPU {
			a.Notes = append(a.Notes, fmt.Sprintf("%s says CPU %d, the crashing CPU was taken as %d (%s)", c.name, *c.cpu, *w.CPU, w.CPUFrom))
		}
	}
}

// excerpt returns the log records of the cause's and the panic's reports.
func excerpt(recs []model.LogRecord, reps ...*oops.Report) []model.LogRecord {
	out := []model.LogRecord{}
	for _, r := range recs {
		in := false
		for _, rep := range reps {
			in = in || (rep != nil && r.Seq >= rep.FirstSeq && r.Seq <= rep.LastSeq)
		}
		if in {
			if len(out) == model.MaxCrashExcerpt {
				break
			}
			out = append(out, r)
		}
	}
	return out
}
