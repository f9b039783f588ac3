package kernel

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"dumpscope/model"
)

// crashPath are the functions a panicking CPU runs through on its way
// into the kdump kernel (kernel/panic.c panic, kernel/kexec_core.c
// __crash_kexec, arch/x86/kernel/crash.c native_machine_crash_shutdown,
// arch/x86/kernel/dumpstack.c oops_end/__die). kdump saves the panicking
// CPU's registers inside __crash_kexec (crash_setup_regs), so its
// instruction pointer, or a return address on its stack, is in one of
// them.
var crashPath = map[string]bool{
	"panic": true, "vpanic": true, "__crash_kexec": true, "crash_kexec": true,
	"machine_crash_shutdown": true, "native_machine_crash_shutdown": true, "crash_save_cpu": true,
	"oops_end": true, "__die": true, "die": true, "nmi_panic": true, "sysrq_handle_crash": true,
}

// CrashCPU returns the CPU that panicked, as Summary finds it, or nil.
func (k *Kernel) CrashCPU(ctx context.Context) *int { return k.Summary(ctx, 1).CrashCPU }

// panicMessages start the log records printed by the panic path.
var panicMessages = []string{"Kernel panic - not syncing", "sysrq: Trigger a crash", "BUG: ", "Oops: ", "general protection fault"}

// Summary gathers what a support engineer asks first. It never fails:
// what cannot be read is listed in Problems. lastLog is how many log
// records to keep (10 when 0).
func (k *Kernel) Summary(ctx context.Context, lastLog int) *model.CrashSummary {
	if lastLog <= 0 {
		lastLog = 10
	}
	s := &model.CrashSummary{CPUs: []model.CPUState{}, Stack: []model.StackWord{}, LastLog: []model.LogRecord{}, Problems: []string{}}
	problem := func(err error) { s.Problems = append(s.Problems, err.Error()) }
	if k.vmci == nil {
		problem(k.noVMCoreInfo("OSRELEASE, BUILD-ID, CRASHTIME, symbols and the kernel log"))
	} else {
		s.OSRelease, _ = k.vmci.Get("OSRELEASE")
		s.BuildID, _ = k.vmci.Get("BUILD-ID")
		if v, ok := k.vmci.Get("CRASHTIME"); ok {
			if t, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				s.CrashTime = &t
			}
		}
	}
	syms, symErr := k.Symbols(ctx)
	if symErr != nil {
		problem(symErr)
		syms = nil
	}
	for _, cpu := range k.cpuIndexes() {
		pc, set, err := k.pc(cpu)
		if err != nil {
			continue
		}
		sp, _, _ := k.cpuReg(cpu, k.spName())
		st := model.CPUState{CPU: cpu, Source: set.Source, PID: set.PID, PC: model.VirtAddr(pc), SP: model.VirtAddr(sp)}
		if syms != nil {
			if r, ok := syms.Addr(pc); ok {
				st.PCSymbol = r.String()
			}
		}
		s.CPUs = append(s.CPUs, st)
	}
	recs, logErr := k.Log(ctx)
	if logErr != nil {
		problem(logErr)
	}
	s.LastLog = append(s.LastLog, recs[max(0, len(recs)-lastLog):]...)
	stacks := map[int][]model.StackWord{}
	if syms != nil {
		for _, c := range s.CPUs {
			if w, err := k.Stack(ctx, c.CPU); err == nil {
				stacks[c.CPU] = w
			} else {
				problem(fmt.Errorf("stack of CPU %d: %w", c.CPU, err))
			}
		}
	}
	s.CrashCPU, s.CrashCPUReason = k.crashCPU(s.CPUs, stacks, recs, syms != nil)
	show := 0
	if len(s.CPUs) > 0 {
		show = s.CPUs[0].CPU
	}
	if s.CrashCPU != nil {
		show = *s.CrashCPU
	}
	if w := stacks[show]; w != nil {
		s.Stack = w
	}
	return s
}

// crashCPU finds the CPU that panicked, from three kinds of evidence in
// order of strength: an instruction pointer in the crash path; the CPU or
// task that printed the panic message (caller_id: "C<cpu>", or "T<pid>"
// matched with the pid kdump saved in each CPU's prstatus); a crash-path
// return address on a CPU's stack.
func (k *Kernel) crashCPU(cpus []model.CPUState, stacks map[int][]model.StackWord, recs []model.LogRecord, haveSyms bool) (*int, string) {
	fn := func(sym string) string {
		name, _, _ := strings.Cut(sym, "+")
		return name
	}
	for _, c := range cpus {
		if crashPath[fn(c.PCSymbol)] {
			return &c.CPU, fmt.Sprintf("its %s is in %s, on the kdump crash path", k.pcName(), c.PCSymbol)
		}
	}
	qemu := false
	for _, s := range k.regs {
		qemu = qemu || s.Source == model.SourceQEMUCPUState
	}
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if !hasAnyPrefix(r.Text, panicMessages) {
			continue
		}
		if n, ok := strings.CutPrefix(r.Caller, "C"); ok {
			if cpu, err := strconv.Atoi(n); err == nil {
				return &cpu, fmt.Sprintf("CPU %d printed %q", cpu, firstLine(r.Text))
			}
		}
		// QEMU writes vCPU numbers into prstatus pr_pid, not task pids.
		if pid, ok := strings.CutPrefix(r.Caller, "T"); ok && !qemu && pid != "0" {
			for _, c := range cpus {
				if c.PID != nil && strconv.FormatInt(*c.PID, 10) == pid {
					return &c.CPU, fmt.Sprintf("task %s, running on CPU %d, printed %q", pid, c.CPU, firstLine(r.Text))
				}
			}
		}
		break
	}
	for _, c := range cpus {
		for _, w := range stacks[c.CPU] {
			if crashPath[fn(w.Symbol)] {
				return &c.CPU, fmt.Sprintf("its stack holds a return address into %s", w.Symbol)
			}
		}
	}
	if !haveSyms {
		return nil, "unknown: without kallsyms the crash path cannot be recognised, and the log names no panicking CPU"
	}
	if qemu {
		return nil, "no CPU is on the crash path and the log shows no panic: the dump was taken by QEMU from a running or stopped guest, not by kdump at a panic"
	}
	return nil, "no CPU is on the crash path and the log shows no panic message"
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
