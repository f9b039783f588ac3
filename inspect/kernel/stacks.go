package kernel

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"dumpscope/inspect/btf"
	"dumpscope/inspect/unwind"
	"dumpscope/model"
)

// Unwinding (package inspect/unwind) needs, besides memory:
//
//   - the ORC tables of vmlinux (kallsyms __start/__stop_orc_unwind_ip,
//     __start/__stop_orc_unwind, orc_fp_entry, __start_orc_header) and of
//     each module (struct module.arch), on x86_64 kernels built with
//     CONFIG_UNWINDER_ORC; without them the frame-pointer chain (i386,
//     CONFIG_UNWINDER_FRAME_POINTER);
//   - where code is (kallsyms and the modules' text symbols);
//   - for sleeping tasks, struct inactive_task_frame from BTF
//     (arch/x86/include/asm/switch_to.h) and ret_from_fork;
//   - which stacks each CPU has (cpuStacks).

// unwindSetup is what every unwind of one kernel shares.
type unwindSetup struct {
	orc         *unwind.ORC // nil: frame pointers
	word        int
	text        codeIndex
	frame       unwind.InactiveTaskFrame // zero without BTF
	retFromFork uint64
	crashKexec  uint64 // __crash_kexec: the panicking CPU's saved ip is in it
	threadSize  uint64
	irqSize     uint64
	// topPadding is TOP_OF_KERNEL_STACK_PADDING, nil when unknown.
	topPadding *uint64
	notes      []string
}

func (k *Kernel) unwindSetup(ctx context.Context) (*unwindSetup, error) {
	return k.objs.unwind.get(ctx, k.loadUnwindSetup)
}

// memFor adapts the engine's memory to the unwinder's for one call.
type memFor struct {
	ctx context.Context
	k   *Kernel
}

func (m memFor) ReadVirt(va uint64, p []byte) error { return m.k.readVirt(m.ctx, va, p) }

func (k *Kernel) loadUnwindSetup(ctx context.Context) (*unwindSetup, error) {
	syms, err := k.Symbols(ctx)
	if err != nil {
		return nil, err
	}
	u := &unwindSetup{word: k.ptrSize(), text: codeIndex{syms: syms}}
	spec, btfErr := k.BTF(ctx)
	if btfErr != nil {
		u.notes = append(u.notes, "no module symbols or tables, and no sleeping tasks: "+btfErr.Error())
	} else {
		ms, err := k.moduleSet(ctx)
		if err != nil {
			u.notes = append(u.notes, "modules: "+err.Error())
		}
		u.text.mods = ms
		l := &layout{spec: spec}
		size, bp, ret := l.size("inactive_task_frame"), l.field("inactive_task_frame.bp"), l.field("inactive_task_frame.ret_addr")
		if l.check(k, "struct inactive_task_frame") == nil {
			u.frame = unwind.InactiveTaskFrame{Size: size, BP: bp.off, RetAddr: ret.off}
		}
		if t, err := spec.FindType(btf.KindStruct, "irq_stack"); err == nil {
			u.irqSize, _ = spec.Size(t)
		}
	}
	for _, name := range []string{"ret_from_fork_asm", "ret_from_fork"} {
		if v, ok := syms.addrOf(name); ok {
			u.retFromFork = v
			break
		}
	}
	u.crashKexec, _ = syms.addrOf("__crash_kexec")
	u.threadSize = k.threadSize(syms)
	if u.irqSize == 0 || u.irqSize > 1<<20 {
		u.irqSize = u.threadSize // IRQ_STACK_SIZE is THREAD_SIZE on x86
	}
	u.topPadding = k.topPadding(ctx, syms, u.threadSize)
	if k.arch == "x86_64" {
		if err := k.loadORC(ctx, syms, u); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// topPadding finds TOP_OF_KERNEL_STACK_PADDING
// (arch/x86/include/asm/thread_info.h): 0 on x86_64; on i386 8, or 16
// with CONFIG_VM86, which only the data tells. An i386 CPU's TSS holds
// its task's top of stack, the stack end less the padding, in sp1
// (update_task_stack: cpu_tss_rw.x86_tss.sp1 = thread.sp0; byte 12 of
// the 32-bit TSS, a hardware layout), and cpu_current_top_of_stack its
// stack end (__switch_to), THREAD_SIZE-aligned.
func (k *Kernel) topPadding(ctx context.Context, syms *Symbols, threadSize uint64) *uint64 {
	zero := uint64(0)
	if k.arch == "x86_64" {
		return &zero
	}
	const tss32SP1 = 12
	for _, cpu := range k.cpuIndexes() {
		a, err1 := k.perCPUAddr(ctx, "cpu_current_top_of_stack", cpu)
		t, err2 := k.perCPUAddr(ctx, "cpu_tss_rw", cpu)
		if err1 != nil || err2 != nil {
			return nil
		}
		top, err1 := k.readWord(ctx, a)
		sp1, err2 := k.readWord(ctx, t+tss32SP1)
		if err1 != nil || err2 != nil || top == 0 || sp1 == 0 {
			continue
		}
		end := (top + threadSize - 1) &^ (threadSize - 1)
		if pad := end - sp1; end >= sp1 && (pad == 0 || pad == 8 || pad == 16) {
			return &pad
		}
	}
	return nil
}

// threadSize is THREAD_SIZE: the span of init_stack (init_stack to
// __end_init_task, include/asm-generic/vmlinux.lds.h INIT_TASK_DATA),
// else the architecture's default (arch/x86/include/asm/page_*_types.h,
// without KASAN).
func (k *Kernel) threadSize(syms *Symbols) uint64 {
	lo, ok1 := syms.addrOf("init_stack")
	hi, ok2 := syms.addrOf("__end_init_task")
	if ok1 && ok2 && hi > lo && hi-lo <= 1<<20 && (hi-lo)&(hi-lo-1) == 0 {
		return hi - lo
	}
	if s := syms.Lookup("init_stack"); len(s) > 0 && s[0].Size >= 4096 && s[0].Size <= 1<<20 && s[0].Size&(s[0].Size-1) == 0 {
		return s[0].Size
	}
	if k.arch == "i386" {
		return 8 << 10
	}
	return 16 << 10
}

// loadORC reads vmlinux's ORC table and each module's.
func (k *Kernel) loadORC(ctx context.Context, syms *Symbols, u *unwindSetup) error {
	var s unwind.VmlinuxSymbols
	var ok [4]bool
	s.StartIP, ok[0] = syms.addrOf("__start_orc_unwind_ip")
	s.StopIP, ok[1] = syms.addrOf("__stop_orc_unwind_ip")
	s.StartUnwind, ok[2] = syms.addrOf("__start_orc_unwind")
	s.StopUnwind, ok[3] = syms.addrOf("__stop_orc_unwind")
	if ok != [4]bool{true, true, true, true} {
		if !syms.AllSymbols() {
			u.notes = append(u.notes, "kallsyms names no ORC tables (a kernel without CONFIG_KALLSYMS_ALL): frame pointers are followed, and an ORC kernel keeps none")
		}
		return nil // a frame-pointer kernel
	}
	s.Header, _ = syms.addrOf("__start_orc_header")
	s.FPEntry, _ = syms.addrOf("orc_fp_entry")
	if k.vmci != nil {
		s.Release, _ = k.vmci.Get("OSRELEASE")
	}
	mem := memFor{ctx, k}
	vm, det, err := unwind.ReadVmlinux(mem, s)
	if err != nil {
		return k.missing("the ORC unwind tables", err)
	}
	tables := []*unwind.Table{vm}
	u.notes = append(u.notes, fmt.Sprintf("vmlinux ORC: %d entries, layout %v (%s)", vm.Len(), vm.Layout, strings.Join(det.Reasons, "; ")))
	if u.text.mods != nil {
		for _, m := range u.text.mods.mods {
			if m.orc.Num == 0 || m.orc.IP == 0 {
				continue
			}
			t, err := unwind.ReadModule(mem, m.orc, vm.Layout)
			if err != nil {
				u.notes = append(u.notes, fmt.Sprintf("module %s: %v", m.info.Name, err))
				continue
			}
			tables = append(tables, t)
		}
	}
	u.orc = unwind.NewORC(tables...)
	return nil
}

// cpuStacks describes a CPU's stacks from the kernel's per-CPU variables
// (6.1 names; pcpu_hot's members with BTF on 6.2–6.14):
//
//   - its current task's stack: task->stack of the task given, else
//     cpu_current_top_of_stack (pcpu_hot.top_of_stack) minus THREAD_SIZE;
//   - the hard IRQ stack: x86_64 hardirq_stack_ptr points at the top word
//     of an IRQ_STACK_SIZE stack (irq_64.c); i386's hardirq_stack_ptr and
//     softirq_stack_ptr at the bottom of struct irq_stack (irq_32.c);
//   - x86_64: the TSS (per-CPU cpu_tss_rw, struct x86_hw_tss, a hardware
//     layout): sp0 at byte 4 is the top of the entry stack (one page,
//     struct entry_stack), ist[0..4] at byte 36 the tops of the DF, NMI,
//     DB, MCE and VC exception stacks, each the size of its member of
//     struct cea_exception_stacks (EXCEPTION_STKSZ; computed from
//     cea_exception_stacks without BTF).
//
// What cannot be read is left out: the unwinder then stops at that stack.
func (k *Kernel) cpuStacks(ctx context.Context, u *unwindSetup, cpu int, stack uint64) unwind.StackSet {
	perCPU := func(name string) (uint64, bool) {
		a, err := k.perCPUAddr(ctx, name, cpu)
		if err != nil {
			return 0, false
		}
		v, err := k.readWord(ctx, a)
		return v, err == nil && v != 0
	}
	hot := func(member string) (uint64, bool) {
		spec, err := k.BTF(ctx)
		if err != nil {
			return 0, false
		}
		_, f, err := spec.FieldOf("pcpu_hot." + member)
		if err != nil {
			return 0, false
		}
		a, err := k.perCPUAddr(ctx, "pcpu_hot", cpu)
		if err != nil {
			return 0, false
		}
		v, err := k.readWord(ctx, a+f.Offset)
		return v, err == nil && v != 0
	}
	var st unwind.StackSet
	ts := u.threadSize
	// The top of stack is the stack's end less TOP_OF_KERNEL_STACK_PADDING;
	// stacks are THREAD_SIZE-aligned (kernel/fork.c THREAD_ALIGN).
	fromTop := func(top uint64) unwind.Stack {
		lo := (top - 1) &^ (ts - 1)
		return unwind.Stack{Kind: unwind.StackTask, Lo: lo, Hi: lo + ts}
	}
	if stack != 0 {
		st = append(st, unwind.Stack{Kind: unwind.StackTask, Lo: stack, Hi: stack + ts})
	} else if top, ok := perCPU("cpu_current_top_of_stack"); ok {
		st = append(st, fromTop(top))
	} else if top, ok := hot("top_of_stack"); ok {
		st = append(st, fromTop(top))
	}
	irq, ok := perCPU("hardirq_stack_ptr")
	if !ok {
		irq, ok = hot("hardirq_stack_ptr")
	}
	if k.arch == "i386" {
		if ok {
			st = append(st, unwind.Stack{Kind: unwind.StackIRQ, Lo: irq, Hi: irq + u.irqSize})
		}
		if soft, ok := perCPU("softirq_stack_ptr"); ok {
			st = append(st, unwind.Stack{Kind: unwind.StackSoftIRQ, Lo: soft, Hi: soft + u.irqSize})
		}
		return st
	}
	if ok {
		st = append(st, unwind.Stack{Kind: unwind.StackIRQ, Lo: irq + 8 - u.irqSize, Hi: irq + 8})
	}
	return append(st, k.tssStacks(ctx, cpu)...)
}

// Hardware offsets in struct x86_hw_tss (64-bit TSS, Intel SDM vol. 3
// 8.7): sp0 at 4, ist[7] at 36.
const (
	tssSP0 = 4
	tssIST = 36
)

// tssStacks returns the x86_64 entry and exception stacks of a CPU.
func (k *Kernel) tssStacks(ctx context.Context, cpu int) unwind.StackSet {
	tss, err := k.perCPUAddr(ctx, "cpu_tss_rw", cpu)
	if err != nil {
		return nil
	}
	b := make([]byte, tssIST+5*8)
	if k.readVirt(ctx, tss, b) != nil {
		return nil
	}
	var st unwind.StackSet
	entry := uint64(k.pageSize)
	sizes := map[string]uint64{}
	if spec, err := k.BTF(ctx); err == nil {
		if t, err := spec.FindType(btf.KindStruct, "entry_stack"); err == nil {
			if n, err := spec.Size(t); err == nil && n > 0 && n <= 1<<20 {
				entry = n
			}
		}
		for _, m := range []string{"DF_stack", "NMI_stack", "DB_stack", "MCE_stack", "VC_stack"} {
			if _, f, err := spec.FieldOf("cea_exception_stacks." + m); err == nil {
				if n, err := spec.Size(f.Type); err == nil && n <= 1<<20 {
					sizes[m] = n
				}
			}
		}
	}
	if sp0 := binary.LittleEndian.Uint64(b[tssSP0:]); sp0 != 0 {
		st = append(st, unwind.Stack{Kind: unwind.StackEntry, Lo: sp0 - entry, Hi: sp0})
	}
	ist0 := binary.LittleEndian.Uint64(b[tssIST:])
	fallback := uint64(0)
	if len(sizes) == 0 {
		// Without BTF: the DF stack follows a guard page at the start of
		// the CPU's cea_exception_stacks (asm/cpu_entry_area.h), and all
		// exception stacks have one size.
		if est, err := k.perCPUAddr(ctx, "cea_exception_stacks", cpu); err == nil {
			if base, err := k.readWord(ctx, est); err == nil && ist0 > base+k.pageSize {
				fallback = ist0 - (base + k.pageSize)
			}
		}
	}
	for i, kind := range []unwind.StackKind{unwind.StackDF, unwind.StackNMI, unwind.StackDB, unwind.StackMCE, unwind.StackVC} {
		top := binary.LittleEndian.Uint64(b[tssIST+8*i:])
		size, ok := sizes[[]string{"DF_stack", "NMI_stack", "DB_stack", "MCE_stack", "VC_stack"}[i]]
		if !ok {
			size = fallback
		}
		if top != 0 && size != 0 && size <= top {
			st = append(st, unwind.Stack{Kind: kind, Lo: top - size, Hi: top})
		}
	}
	return st
}

// regsOf returns the register set of a dump CPU index to unwind from:
// the prstatus note, else QEMU's CPU state or a Xen context.
func (k *Kernel) regsOf(cpu int) (*model.RegisterSet, error) {
	for _, src := range []model.RegSource{model.SourcePrstatus, model.SourceQEMUCPUState, model.SourceXenVCPUContext} {
		for i := range k.regs {
			if s := &k.regs[i]; s.CPU == cpu && s.Source == src {
				return s, nil
			}
		}
	}
	return nil, k.noCPU(cpu, "registers")
}
