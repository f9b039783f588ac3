package model

// This file holds what the kernel engine reads about the crashed kernel's
// own objects with BTF, kallsyms and ORC from the dump: tasks (`ps`,
// `task`), unwound stacks (`bt`), modules (`modules`) and typed structures
// (`struct`). They marshal to the JSON contract (README "JSON contract"):
// addresses as "0x…" strings, pids, CPUs, counts and sizes as numbers,
// snake_case names.

// Task is one task (a thread) of the crashed kernel: a struct task_struct.
type Task struct {
	// Task is the address of the struct task_struct.
	Task VirtAddr `json:"task"`
	PID  int64    `json:"pid"`
	TGID int64    `json:"tgid"`
	// PPID is the pid of task->parent, as crash's ps shows it (the
	// tracer while a task is ptraced, else the real parent).
	PPID int64 `json:"ppid"`
	// CPU is the CPU the task last ran on (task->cpu, or thread_info.cpu).
	CPU int `json:"cpu"`
	// State is the state as crash's ps letters it: RU, IN, UN, ID, ST,
	// TR, ZO, DE, PA, WA, NE, SW ("??" for a value no letter covers).
	State string `json:"state"`
	// StateBits is task->__state (task->state before 5.14) or-ed with
	// task->exit_state, as crash reads it.
	StateBits Hex    `json:"state_bits"`
	Comm      string `json:"comm"`
	// KernelThread: PF_KTHREAD is set in task->flags.
	KernelThread bool `json:"kernel_thread"`
	// Active: the task is running on its CPU (that CPU's runqueues.curr).
	Active bool `json:"active"`
	// Idle: the task is a CPU's idle task (runqueues.idle), which is not
	// on the task list.
	Idle bool `json:"idle"`
	// Flags is task->flags (PF_*).
	Flags Hex `json:"flags"`
	// Parent is task->parent; Stack is task->stack, the base of its
	// kernel stack; ThreadSP is task->thread.sp, where a sleeping task's
	// stack starts; MM is task->mm (0 for kernel threads).
	Parent   VirtAddr `json:"parent"`
	Stack    VirtAddr `json:"stack"`
	ThreadSP VirtAddr `json:"thread_sp"`
	MM       VirtAddr `json:"mm"`
	// Prio is task->prio; StartTimeNS task->start_time (ns since boot);
	// both nil when the kernel's task_struct lacks them.
	Prio        *int64  `json:"prio,omitempty"`
	StartTimeNS *uint64 `json:"start_time_ns,omitempty"`
}

// PtRegs is a struct pt_regs found on a stack: the context an interrupt,
// exception, NMI or system call entry saved.
type PtRegs struct {
	// Addr is where the structure starts.
	Addr VirtAddr `json:"addr"`
	// Partial: only the hardware frame (ip, cs, flags, sp, ss) is known.
	Partial bool `json:"partial,omitempty"`
	// UserMode: the saved context is user mode (cs's privilege level).
	UserMode bool `json:"user_mode"`
	// Registers by their prstatus names (rip, rsp, rax … on x86_64; eip,
	// esp, eax … on i386).
	Registers map[string]Hex `json:"registers"`
}

// Frame is one frame of an unwound kernel stack.
type Frame struct {
	Level int `json:"level"`
	// PC is the frame's code address: a return address when
	// ReturnAddress is set (its function is the one holding PC-1), else
	// the exact instruction (saved registers, a pt_regs' ip).
	PC VirtAddr `json:"pc"`
	// SP is the stack pointer of the frame's function at PC.
	SP VirtAddr `json:"sp"`
	// Slot is where PC was read on the stack (crash prints it as the
	// frame's address); absent for saved registers.
	Slot          *VirtAddr `json:"slot,omitempty"`
	ReturnAddress bool      `json:"return_address"`
	// Symbol, Offset, Size and Module name PC (empty Symbol: no symbol
	// covers it); Location says it as "name+0x3c/0x80 [module]".
	Symbol   string `json:"symbol,omitempty"`
	Offset   uint64 `json:"offset"`
	Size     uint64 `json:"size"`
	Module   string `json:"module,omitempty"`
	Location string `json:"location"`
	// Reliable: every step to this frame had unwind data, stayed on the
	// task's and CPU's known stacks, and PC is in known code.
	Reliable bool `json:"reliable"`
	// How the frame was found: registers, task-frame, orc,
	// orc-fp-guess, code, frame-pointer, prologue, nmi-scan, call-scan.
	How string `json:"how"`
	// Stack names the stack SP lies on: task, IRQ, softirq, entry, DF,
	// NMI, DB, MCE, VC, VC2, unknown.
	Stack string `json:"stack"`
	// Regs is the pt_regs PC came from: an interrupt, exception, NMI or
	// system call entry.
	Regs *PtRegs `json:"regs,omitempty"`
}

// Backtrace is one unwound kernel stack: a CPU's from its saved
// registers, or a task's.
type Backtrace struct {
	// Task, PID and Comm name the task whose stack it is, when known.
	Task *VirtAddr `json:"task"`
	PID  *int64    `json:"pid"`
	Comm string    `json:"comm,omitempty"`
	// CPU is the CPU it was unwound from (saved registers), or the CPU an
	// active task runs on.
	CPU    *int `json:"cpu"`
	Active bool `json:"active"`
	// Start says where unwinding began ("prstatus registers of CPU 1",
	// "thread.sp 0xffffc90000013e28").
	Start string `json:"start"`
	// Method is "orc" or "frame-pointer".
	Method string  `json:"method"`
	Frames []Frame `json:"frames"`
	// End says why the trace ends: end-of-stack, user-mode, error,
	// frame-limit; Error says what stopped it early.
	End   string `json:"end"`
	Error string `json:"error,omitempty"`
	// UserRegs are the user-mode registers saved at the system call or
	// exception entry that ends the kernel stack.
	UserRegs *PtRegs `json:"user_regs,omitempty"`
	// Notes say what was recovered beyond plain unwinding, or why not.
	Notes []string `json:"notes,omitempty"`
}

// Module is one loaded kernel module: a struct module on the modules list.
type Module struct {
	Name string `json:"name"`
	// Module is the address of the struct module.
	Module VirtAddr `json:"module"`
	// State is enum module_state by name: live, coming, going, unformed.
	State string `json:"state"`
	// Base and Size are crash's `mod` columns: the core text's base and
	// the size of the core (not init) memory.
	Base VirtAddr `json:"base"`
	Size uint64   `json:"size"`
	// Regions are the module's memory regions: mem[] (text, data, rodata,
	// ro_after_init, init_text, init_data, init_rodata) since Linux 6.4,
	// core and init (with their text sizes) before.
	Regions []ModuleRegion `json:"regions"`
	// Taints are the taint letters of module->taints ("OE"), TaintMask
	// the bits.
	Taints    string `json:"taints"`
	TaintMask Hex    `json:"taint_mask"`
	// Symbols counts the module's kallsyms symbols.
	Symbols int `json:"symbols"`
	// BTF: the module's split BTF is on btf_modules.
	BTF bool `json:"btf"`
	// ORCEntries counts its ORC unwind entries (0: none).
	ORCEntries int `json:"orc_entries"`
}

// ModuleRegion is one memory region of a module.
type ModuleRegion struct {
	Kind string   `json:"kind"`
	Base VirtAddr `json:"base"`
	Size uint64   `json:"size"`
}

// StructValue is one node of a kernel object typed from BTF, as crash's
// `struct TYPE ADDR` shows it.
type StructValue struct {
	Name string `json:"name"`
	// Type is the C type ("struct list_head *").
	Type string `json:"type"`
	// Offset is the byte offset from the start of the object; BitOffset
	// and BitSize place a bitfield.
	Offset    uint64 `json:"offset"`
	Size      uint64 `json:"size"`
	BitOffset uint64 `json:"bit_offset,omitempty"`
	BitSize   uint32 `json:"bit_size,omitempty"`
	// Value is the text of a scalar (number, pointer with its symbol,
	// enumerator, string), or "{...}" below the depth limit.
	Value    string        `json:"value,omitempty"`
	Children []StructValue `json:"children,omitempty"`
	// More counts the members or elements the limits left out.
	More int `json:"more,omitempty"`
	// Error says why the value could not be read.
	Error string `json:"error,omitempty"`
}

// Struct is a kernel object read at an address.
type Struct struct {
	// Type is the type asked for ("struct task_struct"), Member the
	// member path when one was asked for ("comm").
	Type   string      `json:"type"`
	Member string      `json:"member,omitempty"`
	Addr   VirtAddr    `json:"addr"`
	Value  StructValue `json:"value"`
	// From says which BTF typed it: "vmlinux" or a module's name.
	From string `json:"from"`
}
