package kernel

import (
	"context"

	"dumpscope/model"
)

// Options configure an engine (NewWithOptions).
type Options struct {
	// VMCoreInfo, when not nil, is used instead of the dump's own
	// VMCOREINFO: a text recovered from memory (inspect's recovery) or
	// read from a file (--vmcoreinfo). Every feature then reads the
	// kernel through it.
	VMCoreInfo *model.VMCoreInfo
	// Objects, when not nil, reads the kernel objects that need types
	// (BTF): the task on each CPU, the task list, unwound stacks. The crash
	// analysis and the verdict use it; without it they name the task from
	// the per-CPU current_task and the prstatus pid, and show the log's
	// trace and a scan of the stack.
	Objects Objects
}

// Objects reads kernel objects typed by BTF. It is the hook where the task
// list and the unwinder (inspect/btf, inspect/unwind) plug into the crash
// analysis; every method may fail with a *MissingError.
type Objects interface {
	// CPUTask returns the task running on a CPU (runqueues.curr, or the
	// per-CPU current_task): its task_struct address, pid and comm.
	CPUTask(ctx context.Context, cpu int) (model.CPUTask, error)
	// UnwindCPU unwinds the kernel stack of the task running on a CPU,
	// from the registers the dump saved, innermost frame first; unwinder
	// names the method ("ORC", "frame pointers").
	UnwindCPU(ctx context.Context, cpu int) (frames []model.UnwoundFrame, unwinder string, err error)
	// TaskCount walks the task list and returns the number of tasks.
	TaskCount(ctx context.Context) (int, error)
}

// extension is the engine state this file and crash.go add.
type extension struct {
	opts  Options
	crash lazy[*crashResult]
}

// VMCoreInfo returns the VMCOREINFO the engine reads the kernel with (the
// dump's own, or the one Options gave), or nil.
func (k *Kernel) VMCoreInfo() *model.VMCoreInfo { return k.vmci }

// Objects returns the reader of typed kernel objects, or nil.
func (k *Kernel) Objects() Objects { return k.ext.opts.Objects }
