package btf

import (
	"fmt"

	"dumpscope/model"
)

// Global is a kernel global variable a dump reader starts from, with the
// C declaration of its type. vmlinux BTF has VAR records only for per-CPU
// variables (pahole encodes the .data..percpu section; other globals only
// with its global_var feature), so the types of the others must be
// written down, as drgn's BTF support does with
// build_c_declaration_object_finder ("struct list_head modules,
// btf_modules, slab_caches") and makedumpfile's extensions with their
// declared ktypes.
type Global struct {
	// Name is the kallsyms name.
	Name string
	// Decl is the C declaration of its type, used when the BTF has no VAR
	// for it ("struct list_head", "unsigned long []").
	Decl string
	// PerCPU: the kallsyms address is an offset into the per-CPU area;
	// CPU n's copy is at that address + __per_cpu_offset[n].
	PerCPU bool
	// Source is where the kernel defines it.
	Source string
	// Why says what a triage engineer reads it for.
	Why string
}

// KernelGlobals returns the declarations of the globals dumpscope starts
// from: the tasks, CPUs and modules, the panic state, the system
// identity and the memory summary. A name that a kernel version lacks is
// simply absent from its kallsyms; the caller checks.
func KernelGlobals() []Global {
	return []Global{
		// Tasks and CPUs.
		{"init_task", "struct task_struct", false, "init/init_task.c", "head of the task list (tasks), pid 0 of CPU 0"},
		{"init_pid_ns", "struct pid_namespace", false, "kernel/pid.c", "pid lookup (idr of struct pid), pid_max"},
		{"runqueues", "struct rq", true, "kernel/sched/core.c", "per-CPU run queue: curr is the task on the CPU, idle its idle task (not on the task list)"},
		{"__per_cpu_offset", "unsigned long []", false, "arch/x86/kernel/setup_percpu.c, mm/percpu.c", "per-CPU area of each CPU, indexed below nr_cpu_ids"},
		{"nr_cpu_ids", "unsigned int", false, "kernel/smp.c", "bound of every per-CPU array"},
		{"__cpu_online_mask", "struct cpumask", false, "kernel/cpu.c", "CPUs online at the crash"},
		{"__cpu_possible_mask", "struct cpumask", false, "kernel/cpu.c", "CPUs with a per-CPU area"},
		{"this_cpu_off", "unsigned long", true, "arch/x86/kernel/setup_percpu.c", "each CPU's own per-CPU offset: cross-checks __per_cpu_offset"},
		{"cpu_number", "int", true, "arch/x86/kernel/setup_percpu.c", "each CPU's number: cross-checks the per-CPU areas"},
		{"current_task", "struct task_struct *", true, "arch/x86/kernel/cpu/common.c (to 6.1)", "the task on each CPU (x86 up to 6.1)"},
		{"pcpu_hot", "struct pcpu_hot", true, "arch/x86/kernel/cpu/common.c (6.2+)", "current_task, top_of_stack, hardirq_stack_ptr (x86 from 6.2)"},
		{"hardirq_stack_ptr", "void *", true, "arch/x86/kernel/irq_64.c (to 6.1)", "top of each CPU's IRQ stack, for the unwinder"},
		{"cea_exception_stacks", "struct cea_exception_stacks *", true, "arch/x86/mm/cpu_entry_area.c", "each CPU's NMI, #DF, #MC, #DB stacks, for the unwinder"},
		// Modules and their types.
		{"modules", "struct list_head", false, "kernel/module/main.c", "module list (struct module.list): lsmod, module ORC and kallsyms"},
		{"btf_modules", "struct list_head", false, "kernel/bpf/btf.c", "struct btf_module list: each module's split BTF (btf->data, data_size)"},
		// Panic state.
		{"panic_cpu", "atomic_t", false, "kernel/panic.c", "CPU that entered panic(), -1 (PANIC_CPU_INVALID) if none"},
		{"crashing_cpu", "int", false, "arch/x86/kernel/reboot.c", "CPU that ran the kdump shutdown, -1 if none (x86)"},
		{"panic_notifier_list", "struct atomic_notifier_head", false, "kernel/panic.c", "callbacks run at panic: a hang there stalls the dump"},
		{"oops_in_progress", "int", false, "lib/bust_spinlocks.c", "non-zero while an oops is printed"},
		{"tainted_mask", "unsigned long", false, "kernel/panic.c", "taint flags (TAINT_*): proprietary modules, earlier oopses, warnings"},
		{"kexec_crash_image", "struct kimage *", false, "kernel/kexec_core.c", "the loaded capture kernel (NULL: no kdump armed)"},
		{"crash_notes", "void *", false, "kernel/kexec_core.c, kernel/crash_core.c", "per-CPU pointer to the ELF notes the crash path filled with registers"},
		// System identity.
		{"init_uts_ns", "struct uts_namespace", false, "init/version.c", "release, version, machine, nodename (crash's sys)"},
		{"linux_banner", "char []", false, "init/version.c", "the boot banner: version and compiler"},
		{"saved_command_line", "char *", false, "init/main.c", "the kernel command line (crashkernel=, panic=, ...)"},
		{"jiffies_64", "u64", false, "kernel/time/timer.c", "ticks since boot (jiffies is its alias): uptime at the crash"},
		// Memory.
		{"init_mm", "struct mm_struct", false, "mm/init-mm.c", "kernel address space: pgd"},
		{"slab_caches", "struct list_head", false, "mm/slab_common.c", "slab caches (struct kmem_cache.list): kmem -s"},
		{"vmap_area_list", "struct list_head", false, "mm/vmalloc.c", "vmalloc areas (struct vmap_area.list): module and stack mappings"},
		{"_totalram_pages", "atomic_long_t", false, "mm/page_alloc.c (5.0+)", "pages of RAM the kernel manages"},
		{"vm_zone_stat", "atomic_long_t []", false, "mm/vmstat.c", "zone counters (enum zone_stat_item): free pages"},
		{"vm_node_stat", "atomic_long_t []", false, "mm/vmstat.c", "node counters (enum node_stat_item): page cache, slab"},
	}
}

// GlobalVar is a global's type as this BTF sees it.
type GlobalVar struct {
	Name string
	Type Type
	// PerCPU: see Global.PerCPU.
	PerCPU bool
	// FromBTF: the type came from a BTF VAR, not from a declaration.
	FromBTF bool
}

// Global returns the type of a kernel global: from its BTF VAR when the
// BTF has one (per-CPU variables: runqueues, current_task ...), else from
// its declaration in KernelGlobals.
func (s *Spec) Global(name string) (GlobalVar, error) {
	return s.GlobalIn(KernelGlobals(), name)
}

// GlobalIn is Global with the caller's own table of declarations.
func (s *Spec) GlobalIn(table []Global, name string) (GlobalVar, error) {
	if v, err := s.FindType(KindVar, name); err == nil {
		t, err := s.Target(v)
		if err != nil {
			return GlobalVar{}, fmt.Errorf("VAR %s: %w", name, err)
		}
		return GlobalVar{Name: name, Type: t, PerCPU: s.inPerCPUSection(v.ID), FromBTF: true}, nil
	}
	for _, g := range table {
		if g.Name != name {
			continue
		}
		t, err := s.ParseType(g.Decl)
		if err != nil {
			return GlobalVar{}, fmt.Errorf("global %s (%s): %w", name, g.Decl, err)
		}
		return GlobalVar{Name: name, Type: t, PerCPU: g.PerCPU}, nil
	}
	return GlobalVar{}, fmt.Errorf("global %s: no BTF VAR and no declaration: %w", name, model.ErrNotFound)
}

// perCPUSection is the section of per-CPU variables
// (include/asm-generic/vmlinux.lds.h PERCPU_INPUT).
const perCPUSection = ".data..percpu"

// inPerCPUSection reports whether a VAR is listed in a .data..percpu
// DATASEC of this BTF or its base.
func (s *Spec) inPerCPUSection(id TypeID) bool {
	secs, err := s.TypesByName(perCPUSection)
	if err != nil {
		return false
	}
	for _, sec := range secs {
		if sec.Kind != KindDatasec {
			continue
		}
		vars, err := s.Vars(sec)
		if err != nil {
			continue
		}
		for _, v := range vars {
			if v.Type == id {
				return true
			}
		}
	}
	return false
}
