package kernel

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"dumpscope/inspect/oops"
	"dumpscope/model"
)

// This file reads what the kernel's own variables say about a crash,
// through kallsyms (CONFIG_KALLSYMS_ALL lists data symbols) and
// VMCOREINFO; no types are needed. Each fact is optional: a variable the
// kernel does not have, or whose page the dump left out, is left unset and
// the reason is kept.
//
//   - panic_cpu (kernel/panic.c, atomic_t): panic() and crash_kexec() set
//     it to their CPU with atomic_cmpxchg() from PANIC_CPU_INVALID (-1);
//     crash_kexec() puts it back only when no crash kernel took over.
//   - crashing_cpu (arch/x86/kernel/reboot.c, int, -1 until set):
//     nmi_shootdown_cpus() records the CPU that stops the others on the
//     way into the crash kernel.
//   - tainted_mask (kernel/panic.c, unsigned long): the taint bits.
//   - die_counter (arch/x86/kernel/dumpstack.c, static int): oopses since
//     boot (__die() prints it as [#N]).
//   - kexec_crash_image (kernel/kexec_core.c): the loaded crash kernel,
//     NULL when none was loaded.
//   - panic()'s message buffer: kernel/panic.c panic() formats its message
//     into "static char buf[1024]" before printing "Kernel panic - not
//     syncing: %s", so the buffer keeps the message when the log ring has
//     lost the line. It is a local symbol ("buf" with a compiler suffix,
//     "buf.2" on Debian's 6.1) among panic.c's other statics.
//   - current_task (arch/x86, a per-CPU pointer; the first member of the
//     per-CPU pcpu_hot in Linux 6.2 to 6.14): the task running on each
//     CPU, at the symbol plus __per_cpu_offset[cpu].
//
// The kernel keeps no other copy of the panic text: "Kernel panic - not
// syncing" itself is only in the log.

// crashPath reports whether a function is one a panicking CPU runs
// through on its way into the crash kernel (kernel/panic.c panic,
// kernel/kexec_core.c __crash_kexec, arch/x86/kernel/crash.c
// native_machine_crash_shutdown, arch/x86/kernel/dumpstack.c oops_end and
// __die). kdump saves the panicking CPU's registers inside __crash_kexec
// (crash_setup_regs), so its instruction pointer is in one of them.
func crashPath(name string) bool {
	switch name {
	case "panic", "vpanic", "__crash_kexec", "crash_kexec",
		"machine_crash_shutdown", "native_machine_crash_shutdown", "crash_save_cpu",
		"oops_end", "__die", "die", "nmi_panic", "sysrq_handle_crash":
		return true
	}
	return false
}

// panicCPUInvalid is PANIC_CPU_INVALID (include/linux/panic.h).
const panicCPUInvalid = -1

// panicBufSize is the size of panic()'s static buffer.
const panicBufSize = 1024

// panicStatic reports whether a variable is one of kernel/panic.c's
// own: panic()'s buffer lies among them.
func panicStatic(name string) bool {
	switch name {
	case "panic_on_oops", "panic_print", "panic_timeout", "panic_blink",
		"panic_notifier_list", "crash_kexec_post_notifiers", "panic_on_taint",
		"panic_on_taint_nousertaint", "pause_on_oops", "pause_on_oops_flag",
		"pause_on_oops_lock", "tainted_mask", "warn_count", "spin_counter",
		"cpus_stopped", "oops_id", "panic_on_warn":
		return true
	}
	return false
}

// memFacts are the memory facts and what the analysis needs beside them.
type memFacts struct {
	model.CrashMemory
	// cpus are the CPUs' saved instruction and stack pointers.
	cpus []model.CPUState
	// pids are the prstatus pids kdump wrote (not QEMU's CPU numbers).
	pids map[int]int64
	// qemu is true when QEMU wrote the registers.
	qemu bool
	// problems say what could not be read.
	problems []string
}

// memoryFacts reads the crash facts from memory. syms may be nil (kallsyms
// unreadable): then only the registers are used.
func (k *Kernel) memoryFacts(ctx context.Context, syms *Symbols) *memFacts {
	f := &memFacts{pids: map[int]int64{}}
	f.CrashPathCPUs, f.SignalledCPUs, f.Tasks, f.Read = []int{}, []int{}, []model.CPUTask{}, []string{}
	for _, s := range k.regs {
		f.qemu = f.qemu || s.Source == model.SourceQEMUCPUState
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
				if crashPath(r.Symbol.Name) {
					f.CrashPathCPUs = append(f.CrashPathCPUs, cpu)
				}
			}
		}
		f.cpus = append(f.cpus, st)
		if set.Source == model.SourcePrstatus && set.Signal != nil && *set.Signal != 0 {
			f.SignalledCPUs = append(f.SignalledCPUs, cpu)
		}
		// QEMU writes vCPU numbers into prstatus pr_pid, not task pids.
		if set.Source == model.SourcePrstatus && set.PID != nil && !f.qemu {
			f.pids[cpu] = *set.PID
		}
	}
	if syms == nil {
		return f
	}
	v := varReader{k: k, ctx: ctx, syms: syms, f: f}
	if n, ok := v.int32("panic_cpu"); ok && n != panicCPUInvalid {
		f.PanicCPU = v.cpu("panic_cpu", n)
	}
	if k.arch == "x86_64" || k.arch == "i386" {
		if n, ok := v.int32("crashing_cpu"); ok && n != -1 {
			f.CrashingCPU = v.cpu("crashing_cpu", n)
		}
	}
	if m, ok := v.ulong("tainted_mask"); ok {
		h := model.Hex(m)
		t := oops.TaintFromMask(m)
		f.TaintedMask, f.Taint = &h, &t
	}
	if n, ok := v.int32("die_counter"); ok && n >= 0 {
		c := int(n)
		f.DieCounter = &c
	}
	if p, ok := v.ulong("kexec_crash_image"); ok {
		loaded := p != 0
		f.KdumpLoaded = &loaded
	}
	f.PanicMessage = v.panicMessage()
	k.cpuTasks(ctx, &v)
	return f
}

// varReader reads kernel variables by name.
type varReader struct {
	k    *Kernel
	ctx  context.Context
	syms *Symbols
	f    *memFacts
}

// addr returns the address of the one symbol of a name; several symbols
// of one name at different addresses (statics of several files) are
// ambiguous and give none.
func (v *varReader) addr(name string) (uint64, bool) {
	found := v.syms.Lookup(name)
	if len(found) == 0 {
		return 0, false
	}
	for _, s := range found[1:] {
		if s.Addr != found[0].Addr {
			v.f.problems = append(v.f.problems, fmt.Sprintf("%s: %d symbols of that name in kallsyms: not read", name, len(found)))
			return 0, false
		}
	}
	return uint64(found[0].Addr), true
}

func (v *varReader) read(name string, size int) ([]byte, uint64, bool) {
	a, ok := v.addr(name)
	if !ok {
		return nil, 0, false
	}
	b := make([]byte, size)
	if err := v.k.readVirt(v.ctx, a, b); err != nil {
		v.f.problems = append(v.f.problems, fmt.Sprintf("%s at %#x: %v", name, a, err))
		return nil, 0, false
	}
	return b, a, true
}

func (v *varReader) int32(name string) (int32, bool) {
	b, a, ok := v.read(name, 4)
	if !ok {
		return 0, false
	}
	n := int32(binary.LittleEndian.Uint32(b))
	v.f.Read = append(v.f.Read, fmt.Sprintf("%s at %#x = %d", name, a, n))
	return n, true
}

func (v *varReader) ulong(name string) (uint64, bool) {
	b, a, ok := v.read(name, v.k.ptrSize())
	if !ok {
		return 0, false
	}
	n := ptrAt(b, 0, v.k.ptrSize())
	v.f.Read = append(v.f.Read, fmt.Sprintf("%s at %#x = %#x", name, a, n))
	return n, true
}

// cpu checks a CPU number read from a variable.
func (v *varReader) cpu(name string, n int32) *int {
	if n < 0 || n >= maxCPUs {
		v.f.problems = append(v.f.problems, fmt.Sprintf("%s = %d is not a CPU number: ignored", name, n))
		return nil
	}
	c := int(n)
	return &c
}

// panicMessage reads panic()'s static buffer: the one "buf" symbol
// (with or without a compiler suffix) of panicBufSize bytes that lies
// among kernel/panic.c's statics in address order.
func (v *varReader) panicMessage() string {
	all := v.syms.byAddr
	var found []model.Symbol
	for j, i := range all {
		s := v.syms.syms[i]
		if base, _, _ := strings.Cut(s.Name, "."); base != "buf" || s.Size < panicBufSize || s.Size >= panicBufSize+64 {
			continue
		}
		near := false
		for d := -6; d <= 6 && !near; d++ {
			if j+d >= 0 && j+d < len(all) && d != 0 {
				name, _, _ := strings.Cut(v.syms.syms[all[j+d]].Name, ".")
				near = panicStatic(name)
			}
		}
		if near {
			found = append(found, s)
		}
	}
	switch {
	case len(found) == 0:
		v.f.problems = append(v.f.problems, "panic()'s message buffer: no 1024-byte \"buf\" symbol among kernel/panic.c's statics in kallsyms")
		return ""
	case len(found) > 1:
		v.f.problems = append(v.f.problems, fmt.Sprintf("panic()'s message buffer: %d candidate \"buf\" symbols among kernel/panic.c's statics: not read", len(found)))
		return ""
	}
	s := found[0]
	b := make([]byte, panicBufSize)
	if err := v.k.readVirt(v.ctx, uint64(s.Addr), b); err != nil {
		v.f.problems = append(v.f.problems, fmt.Sprintf("panic()'s message buffer %s at %s: %v", s.Name, s.Addr, err))
		return ""
	}
	text, ok := cText(b)
	if !ok {
		v.f.problems = append(v.f.problems, fmt.Sprintf("panic()'s message buffer %s at %s does not hold text", s.Name, s.Addr))
		return ""
	}
	if text == "" {
		v.f.Read = append(v.f.Read, fmt.Sprintf("panic()'s message buffer %s at %s is empty: panic() was not called", s.Name, s.Addr))
	} else {
		v.f.Read = append(v.f.Read, fmt.Sprintf("panic()'s message buffer %s at %s = %q", s.Name, s.Addr, text))
	}
	return text
}

// cText returns the NUL-terminated text at the start of b, and whether it
// is text: printable ASCII, tabs and newlines (printk's own escaping
// would show anything else; a buffer of other bytes is not a message).
func cText(b []byte) (string, bool) {
	n := 0
	for n < len(b) && b[n] != 0 {
		c := b[n]
		if (c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f {
			return "", false
		}
		n++
	}
	return strings.TrimSuffix(string(b[:n]), "\n"), true
}

// cpuTasks finds the task on each CPU: from Objects when the engine has
// one, else from the per-CPU current_task pointer, with the pid kdump
// saved in the CPU's prstatus note.
func (k *Kernel) cpuTasks(ctx context.Context, v *varReader) {
	f := v.f
	if o := k.ext.opts.Objects; o != nil {
		var tasks []model.CPUTask
		for _, c := range f.cpus {
			t, err := o.CPUTask(ctx, c.CPU)
			if err != nil {
				// No types (no BTF) or a damaged run queue: the per-CPU
				// pointer below still names the task.
				tasks = nil
				break
			}
			tasks = append(tasks, t)
		}
		if tasks != nil {
			f.Tasks = append(f.Tasks, tasks...)
			return
		}
	}
	cur, curName := uint64(0), ""
	for _, name := range []string{"current_task", "pcpu_hot"} {
		if a, ok := v.addr(name); ok {
			cur, curName = a, name
			break
		}
	}
	offs, haveOffs := v.addr("__per_cpu_offset")
	for _, c := range f.cpus {
		t := model.CPUTask{CPU: c.CPU}
		var from []string
		if pid, ok := f.pids[c.CPU]; ok {
			p := pid
			t.PID = &p
			from = append(from, "the pid in its prstatus note (kdump's crash_save_cpu)")
		}
		if curName != "" && haveOffs {
			if task, err := k.perCPUPointer(ctx, cur, offs, c.CPU); err != nil {
				f.problems = append(f.problems, fmt.Sprintf("%s of CPU %d: %v", curName, c.CPU, err))
			} else if task != 0 {
				va := model.VirtAddr(task)
				t.Task = &va
				from = append(from, "the per-CPU "+curName)
			}
		}
		if len(from) > 0 {
			t.From = strings.Join(from, ", ")
			f.Tasks = append(f.Tasks, t)
		}
	}
}

// perCPUPointer reads a per-CPU pointer variable of a CPU: the variable's
// address plus __per_cpu_offset[cpu] (include/asm-generic/percpu.h
// per_cpu_ptr), checked to be a kernel address.
func (k *Kernel) perCPUPointer(ctx context.Context, sym, offsets uint64, cpu int) (uint64, error) {
	ps := uint64(k.ptrSize())
	b := make([]byte, ps)
	if err := k.readVirt(ctx, offsets+uint64(cpu)*ps, b); err != nil {
		return 0, err
	}
	off := ptrAt(b, 0, int(ps))
	if err := k.readVirt(ctx, sym+off, b); err != nil {
		return 0, err
	}
	p := ptrAt(b, 0, int(ps))
	if p != 0 && !k.kernelAddr(p) {
		return 0, fmt.Errorf("%#x is not a kernel address: %w", p, model.ErrCorrupt)
	}
	return p, nil
}

// kernelAddr reports whether va lies in the kernel half of the address
// space: the upper canonical half on x86_64, from the lowest i386
// PAGE_OFFSET on i386.
func (k *Kernel) kernelAddr(va uint64) bool {
	if k.arch == "x86_64" {
		return va >= 0xff00000000000000
	}
	return va >= i386PageOffsets[len(i386PageOffsets)-1] && va <= 0xffffffff
}
