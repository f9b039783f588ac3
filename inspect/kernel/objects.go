package kernel

import (
	"dumpscope/inspect/btf"
)

// The kernel's own objects, read with what a distribution kernel keeps in
// its memory, no vmlinux needed:
//
//   - types: the BTF between kallsyms __start_BTF and __stop_BTF, and each
//     module's split BTF (kbtf.go, modbtf.go);
//   - per-CPU areas: __per_cpu_offset (percpu.go);
//   - tasks: init_task's list, thread groups, the run queues' current and
//     idle tasks, states lettered from the kernel's own tables (tasks.go,
//     taskstate.go);
//   - modules: the modules list, their memory, symbols, ORC tables, taints
//     and BTF (modules.go), so that module addresses are named everywhere
//     (symbolize.go);
//   - stacks: each CPU's from its saved registers and each task's from
//     thread.sp, unwound with ORC or frame pointers by package
//     inspect/unwind (stacks.go, backtrace.go);
//   - structures typed from BTF, as crash's struct shows them (kbtf.go).

// kernelObjects holds what the engine reads about the kernel's own
// objects, each computed on first use and kept (a computation cancelled
// by its context is not kept): the types (BTF), the per-CPU areas, the
// layouts of the structures it reads, the modules and the unwind tables.
type kernelObjects struct {
	btf     lazy[*btf.Spec]
	percpu  lazy[*perCPU]
	tasks   lazy[*taskReader]
	states  lazy[*taskStates]
	modules lazy[*moduleSet]
	unwind  lazy[*unwindSetup]
	modBTF  lazy[[]*moduleBTF]
}
