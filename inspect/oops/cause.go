package oops

import (
	"fmt"
	"strings"

	"dumpscope/model"
)

// This file decides which report crashed the kernel, from the order in
// which the kernel prints things:
//
//   - kernel/panic.c vpanic() prints "Kernel panic - not syncing: MSG",
//     then its own dump_stack() (unless an oops already set TAINT_DIE),
//     then calls __crash_kexec() (or the notifiers first, with
//     crash_kexec_post_notifiers), and "---[ end Kernel panic … ]---" when
//     no crash kernel took over.
//   - Every path that panics because of a report prints the report first:
//     die() → oops_end() → panic("Fatal exception") (arch/x86/kernel/
//     dumpstack.c), __warn() → check_panic_on_warn() → panic("%s:
//     panic_on_warn set ...") (kernel/panic.c), the watchdogs' "Hard
//     LOCKUP" and "softlockup: hung tasks" (kernel/watchdog.c), "hung_task:
//     blocked tasks" (kernel/hung_task.c), "RCU Stall" (kernel/rcu/
//     tree_stall.h), mce_panic() (arch/x86/kernel/cpu/mce/core.c), the OOM
//     killer's panics after dump_header() (mm/oom_kill.c). For these
//     messages the cause is the last report of a matching class before the
//     panic line, preferring one printed by the same caller.
//   - Other messages are panic() called directly (sysrq_handle_crash(),
//     __stack_chk_fail(), make_task_dead() "Attempted to kill init!", a
//     driver's panic()): the panic and its own trace are the crash.
//   - With no panic line, oops_end() may still have jumped to the crash
//     kernel: it calls crash_kexec() before oops_exit() prints "---[ end
//     trace … ]---" when kexec_should_crash() holds (panic_on_oops, in
//     interrupt, pid 0 or init; kernel/crash_core.c). So a die() report
//     without its end marker, after which no other die() report follows,
//     is the crash.

// Analyze reads the kernel log records and the facts the caller knows
// from memory, and says what crashed the kernel and how to recognise the
// crash in other dumps.
func Analyze(recs []model.LogRecord, facts Facts) *Analysis {
	lines := splitLines(recs)
	p := parse(lines)
	a := &Analysis{Reports: p.reports, Lines: len(lines), KernelOffset: p.kernelOffset, Notes: p.notes, Verdict: "none"}
	if a.Reports == nil {
		a.Reports = []Report{}
	}
	if p.panicIdx >= 0 {
		pr := &a.Reports[p.panicIdx]
		a.Panicked = true
		a.Panic = &PanicInfo{Message: pr.Message, Seq: p.panicLine.seq, TimestampNS: p.panicLine.ts,
			Caller: p.panicLine.caller, EndMarker: p.panicEnd, Report: p.panicIdx}
		a.Verdict = "panic"
		chooseFromPanic(a, p.panicIdx)
		if n := countPanics(a.Reports); n > 1 {
			a.Notes = append(a.Notes, fmt.Sprintf("%d panic lines: the first one is the panic (a nested panic on the same CPU prints again, other CPUs stop silently in panic_smp_self_stop())", n))
		}
	} else {
		chooseWithoutPanic(a)
	}
	for i := range a.Reports {
		a.Reports[i].Signature = Sign(&a.Reports[i], facts)
	}
	if a.Cause != nil {
		c := &a.Reports[*a.Cause]
		if !c.Complete {
			a.Incomplete = true
		}
		a.Signature = c.Signature
		if p.panicIdx >= 0 && *a.Cause == p.panicIdx && classifyPanic(c.Message).consequence {
			a.Signature.Corrupted = true
			a.Signature.CorruptedReason = "the report that caused the panic is not in the log"
		}
		a.crossCheck(c, facts)
		if len(facts.Stack) > 0 {
			// The unwound stack is the panicking task's: the panic's own
			// trace when it printed one (a hung task's or a stalled CPU's
			// report shows another context), else the cause's.
			on := c
			if a.Panic != nil && len(a.Reports[a.Panic.Report].Trace) > 0 {
				on = &a.Reports[a.Panic.Report]
			}
			a.StackAgreement = Compare(on, facts.Stack)
		}
	}
	return a
}

// countPanics counts the reports a panic line opened.
func countPanics(rs []Report) int {
	n := 0
	for i := range rs {
		if panicLineRe.MatchString(rs[i].Header) {
			n++
		}
	}
	return n
}

// chooseFromPanic picks the cause of the panic opened at index pi.
func chooseFromPanic(a *Analysis, pi int) {
	pr := &a.Reports[pi]
	k := classifyPanic(pr.Message)
	if !k.consequence {
		a.setCause(pi, fmt.Sprintf("panic(%q) was called directly (kernel/panic.c vpanic()): the panic and its own stack are the crash", pr.Message))
		return
	}
	best := -1
	for pass := 0; pass < 2 && best < 0; pass++ {
		for i := pi - 1; i >= 0; i-- {
			r := &a.Reports[i]
			if panicLineRe.MatchString(r.Header) || !k.accept(r) {
				continue
			}
			if pass == 0 && (pr.Caller == "" || r.Caller != pr.Caller) {
				continue
			}
			best = i
			break
		}
	}
	if best < 0 {
		a.setCause(pi, fmt.Sprintf("panic(%q) follows the report that caused it, but no such report is in the log (the ring wrapped, or it was lost)", pr.Message))
		a.Incomplete = true
		return
	}
	same := ""
	if pr.Caller != "" && a.Reports[best].Caller == pr.Caller {
		same = " by the same caller " + pr.Caller
	}
	if n := pi - 1 - best; n > 0 {
		// The reporting paths panic right after their report: reports in
		// between make the choice less certain.
		a.Notes = append(a.Notes, fmt.Sprintf("%d other reports lie between the cause and the panic line", n))
	}
	a.setCause(best, fmt.Sprintf("panic(%q) is printed after the report that caused it: the last %s report before the panic line%s", pr.Message, a.Reports[best].Class, same))
}

// chooseWithoutPanic looks for an oops whose oops_end() called
// crash_kexec().
func chooseWithoutPanic(a *Analysis) {
	last := -1
	for i := range a.Reports {
		if isDie(&a.Reports[i]) {
			last = i
		}
	}
	if last < 0 {
		a.CauseReason = "no panic line and no oops in the log"
		return
	}
	r := &a.Reports[last]
	if r.EndMarker {
		a.CauseReason = fmt.Sprintf("no panic line; the last oops (%s) ran to its end marker, so the kernel survived it", r.Class)
		return
	}
	a.Verdict = "oops"
	why := "no panic line; the last oops has no end marker: oops_end() calls crash_kexec() before oops_exit() prints it when kexec_should_crash() holds (panic_on_oops, in interrupt, pid 0 or init)"
	if r.Task != nil && r.Task.KdumpLoaded {
		why += "; its task line says a crash kernel was loaded"
	}
	a.setCause(last, why)
}

func (a *Analysis) setCause(i int, why string) {
	a.Cause = &i
	a.CauseReason = why
}

// crossCheck compares the cause's task line with what memory says.
func (a *Analysis) crossCheck(c *Report, f Facts) {
	if c.Task == nil || c.Task.CPU < 0 {
		return
	}
	if f.CrashCPU != nil && *f.CrashCPU != c.Task.CPU {
		a.Notes = append(a.Notes, fmt.Sprintf("the log's report ran on CPU %d, memory says CPU %d crashed", c.Task.CPU, *f.CrashCPU))
	}
	if f.CrashPID != nil && *f.CrashPID != c.Task.PID {
		a.Notes = append(a.Notes, fmt.Sprintf("the log's report names PID %d, memory says PID %d", c.Task.PID, *f.CrashPID))
	}
	if f.CrashComm != "" && f.CrashComm != c.Task.Comm {
		a.Notes = append(a.Notes, fmt.Sprintf("the log's report names comm %q, memory says %q", c.Task.Comm, f.CrashComm))
	}
	if f.Release != "" && c.Task.Release != "" && f.Release != c.Task.Release {
		a.Notes = append(a.Notes, fmt.Sprintf("the log's release %q differs from VMCOREINFO's %q", c.Task.Release, f.Release))
	}
	if f.BuildID != "" && c.Task.BuildID != "" && !strings.EqualFold(f.BuildID, c.Task.BuildID) {
		a.Notes = append(a.Notes, fmt.Sprintf("the log's build id %s differs from VMCOREINFO's %s", c.Task.BuildID, f.BuildID))
	}
}
