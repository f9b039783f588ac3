package oops

import "dumpscope/model"

// This file holds the results of the analysis. They marshal to the JSON
// contract of design.md: snake_case names, addresses and register values
// as "0x…" strings (model.VirtAddr, model.Hex), counts, offsets inside a
// function and sizes as numbers.

// Class names a kind of kernel report. The type is
// model.CrashClass: front ends and model.Triage embed it.
type Class = model.CrashClass

// The classes. Each is recognised from the message the kernel prints; the
// source that prints it is named with the header's pattern in classes.go.
const (
	ClassNullDeref       Class = "null-pointer-dereference"
	ClassPageFault       Class = "page-fault"
	ClassGPF             Class = "general-protection-fault"
	ClassKernelBUG       Class = "kernel-bug"
	ClassInvalidOpcode   Class = "invalid-opcode"
	ClassDivideError     Class = "divide-error"
	ClassDoubleFault     Class = "double-fault"
	ClassStackSegment    Class = "stack-segment-fault"
	ClassInt3            Class = "int3"
	ClassStackGuard      Class = "stack-guard-page"
	ClassInternalError   Class = "internal-error" // arm64 and ppc die() header
	ClassWarning         Class = "warning"
	ClassRefcount        Class = "refcount"
	ClassListCorruption  Class = "list-corruption"
	ClassSchedAtomic     Class = "scheduling-while-atomic"
	ClassSoftLockup      Class = "soft-lockup"
	ClassHardLockup      Class = "hard-lockup"
	ClassHungTask        Class = "hung-task"
	ClassRCUStall        Class = "rcu-stall"
	ClassMachineCheck    Class = "machine-check"
	ClassSysrq           Class = "sysrq-crash"
	ClassOOM             Class = "out-of-memory"
	ClassStackProtector  Class = "stack-protector"
	ClassKASAN           Class = "kasan"
	ClassUBSAN           Class = "ubsan"
	ClassKFENCE          Class = "kfence"
	ClassKillInit        Class = "kill-init"
	ClassPanic           Class = "panic" // a panic no other class describes
	ClassOopsHeaderAlone Class = "oops"  // an Oops header whose first lines are lost
)

// Facts are what the caller knows from memory rather than from the log.
// Every field is optional.
type Facts struct {
	// Release is VMCOREINFO's OSRELEASE, BuildID its BUILD-ID (Linux 5.9
	// and later).
	Release string
	BuildID string
	// CrashCPU, CrashPID and CrashComm name the CPU and task that crashed
	// when memory says so (the CPU whose prstatus is the panicking one,
	// panic_cpu, the task running there).
	CrashCPU  *int
	CrashPID  *int64
	CrashComm string
	// Stack is the crashing task's stack as an unwinder gave it, innermost
	// frame first.
	Stack []UnwoundFrame
}

// UnwoundFrame is one frame of a stack an unwinder gave. The type is
// model.UnwoundFrame: front ends and model.Triage embed it.
type UnwoundFrame = model.UnwoundFrame

// Analysis is what the log says about why the kernel crashed.
type Analysis struct {
	// Panicked is true when the log holds a "Kernel panic - not syncing"
	// line; Panic describes it.
	Panicked bool       `json:"panicked"`
	Panic    *PanicInfo `json:"panic,omitempty"`
	// Verdict is "panic" (the log ends in a panic), "oops" (no panic line,
	// but the log ends inside an oops whose oops_end() called
	// crash_kexec(): see cause.go), or "none" (nothing in the log took the
	// machine down).
	Verdict string `json:"verdict"`
	// Reports lists every report in the log, oldest first.
	Reports []Report `json:"reports"`
	// Cause is the index in Reports of the report that led to the crash;
	// CauseReason says how it was chosen.
	Cause       *int   `json:"cause"`
	CauseReason string `json:"cause_reason"`
	// Incomplete is true when the report that matters is cut short (the
	// ring wrapped, or the dump was taken before it was printed whole).
	Incomplete bool `json:"incomplete"`
	// KernelOffset is the KASLR offset the panic notifier printed ("Kernel
	// Offset: 0x… from 0xffffffff81000000").
	KernelOffset *model.Hex `json:"kernel_offset,omitempty"`
	// Signature identifies the crash across dumps; nil when nothing
	// crashed.
	Signature *Signature `json:"signature,omitempty"`
	// StackAgreement compares the trace of the panicking task (the panic's
	// own trace, else the cause's) with Facts.Stack, when both exist.
	StackAgreement *Agreement `json:"stack_agreement,omitempty"`
	// Notes say what the reader should know: disagreements between the log
	// and the facts, lines that could not be placed.
	Notes []string `json:"notes,omitempty"`
	// Lines is the number of log lines read.
	Lines int `json:"lines"`
}

// PanicInfo is the panic line and what follows it.
type PanicInfo struct {
	// Message is panic()'s text, without the "Kernel panic - not syncing: "
	// prefix and the final newline.
	Message     string `json:"message"`
	Seq         uint64 `json:"seq"`
	TimestampNS uint64 `json:"ts_nsec"`
	Caller      string `json:"caller,omitempty"`
	// EndMarker is true when "---[ end Kernel panic - not syncing: … ]---"
	// was printed (the panic ran to its end without a crash kernel).
	EndMarker bool `json:"end_marker"`
	// Report is the index in Analysis.Reports of the report the panic line
	// opened (its own dump_stack(), when it printed one).
	Report int `json:"report"`
}

// Report is one oops, warning, lockup, stall or panic as the log shows it.
type Report struct {
	Class Class `json:"class"`
	// Header is the line that opened the report, as printed.
	Header string `json:"header"`
	// Source names the kernel file and function that print the header.
	Source string `json:"source"`
	// FirstSeq and LastSeq are the sequence numbers of the first and last
	// records read into the report; TimestampNS is the first one's time.
	FirstSeq    uint64 `json:"first_seq"`
	LastSeq     uint64 `json:"last_seq"`
	TimestampNS uint64 `json:"ts_nsec"`
	// Caller is the header's printk caller id ("T123" or "C1"), when the
	// kernel records one; lines of other callers are not read into the
	// report.
	Caller string `json:"caller,omitempty"`
	// Trigger is the line that announced what caused the report, when one
	// did ("sysrq: Trigger a crash").
	Trigger string `json:"trigger,omitempty"`
	// Message is the class's own text: the panic message, the WARN
	// message, the KASAN or UBSAN bug type, the Machine check explanation.
	Message string `json:"message,omitempty"`
	// Location is the source position the header names ("mm/slub.c:123").
	Location string `json:"location,omitempty"`
	// Function is the function the header names (WARNING at F, KASAN in F,
	// stack-protector in F), suffixes as printed; FunctionModule its
	// module.
	Function       string `json:"function,omitempty"`
	FunctionModule string `json:"function_module,omitempty"`
	// Address is the faulting address; Access the "#PF:" description
	// lines joined with "; ".
	Address *model.VirtAddr `json:"address,omitempty"`
	Access  string          `json:"access,omitempty"`
	// Oops is the die() header ("Oops: 0002 [#1] PREEMPT SMP NOPTI").
	Oops *OopsHeader `json:"oops,omitempty"`
	// Task is the CPU/PID/Comm line of dump_stack_print_info(). A hung-task
	// report prints no such line: its Task holds the hung task's taint line
	// with CPU -1, and HungTask names the task.
	Task     *TaskInfo       `json:"task,omitempty"`
	HungTask *model.HungTask `json:"hung_task,omitempty"`
	Hardware string          `json:"hardware,omitempty"`
	// Modules is the "Modules linked in:" list.
	Modules []string `json:"modules_linked_in,omitempty"`
	// Registers are the register blocks: the report's own (before the call
	// trace) and those of interrupted contexts inside the trace.
	Registers []RegisterBlock `json:"registers,omitempty"`
	// Trace is the call trace, innermost frame first.
	Trace []Frame `json:"trace"`
	// EndMarker is true when "---[ end trace … ]---" closed the report.
	EndMarker bool `json:"end_marker"`
	// Complete is false when parts a report of this class prints are
	// missing; Missing names them.
	Complete bool     `json:"complete"`
	Missing  []string `json:"missing,omitempty"`
	// Signature is the report's own signature (Analysis.Signature is the
	// cause's).
	Signature *Signature `json:"signature,omitempty"`
	// Lines is the number of log lines read into the report; Interleaved
	// the lines of other callers skipped inside it.
	Lines       int `json:"lines"`
	Interleaved int `json:"interleaved_lines,omitempty"`
}

// OopsHeader is the die() header line.
type OopsHeader struct {
	Text string `json:"text"`
	// Kind is die()'s str: "Oops", "general protection fault, probably for
	// non-canonical address 0x…", "invalid opcode", "double fault", …
	Kind      string    `json:"kind"`
	ErrorCode model.Hex `json:"error_code"`
	// Count is the [#N] die counter: 1 for the first oops since boot.
	Count int      `json:"die_count"`
	Flags []string `json:"flags,omitempty"`
}

// TaskInfo is the task line of lib/dump_stack.c dump_stack_print_info().
type TaskInfo struct {
	CPU         int     `json:"cpu"`
	UID         *uint32 `json:"uid,omitempty"`
	PID         int64   `json:"pid"`
	Comm        string  `json:"comm"`
	KdumpLoaded bool    `json:"kdump_loaded"`
	Taint       Taint   `json:"taint"`
	Release     string  `json:"release"`
	Version     string  `json:"version"`
	// Extra is what follows the version: the distribution's package id, the
	// preemption model.
	Extra   string `json:"extra,omitempty"`
	BuildID string `json:"build_id,omitempty"`
}

// Taint is the kernel's taint state as print_tainted() printed it. The type is
// model.Taint: front ends and model.Triage embed it.
type Taint = model.Taint

// TaintFlag is one set taint flag. The type is
// model.TaintFlag: front ends and model.Triage embed it.
type TaintFlag = model.TaintFlag

// RegisterBlock is a register dump (x86 __show_regs(), arm64 __show_regs(),
// ppc show_regs()).
type RegisterBlock struct {
	// InTrace is true for a block printed inside the call trace (an
	// interrupted context); AfterFrame is then the number of trace frames
	// printed before it.
	InTrace    bool `json:"in_trace"`
	AfterFrame int  `json:"after_frame"`
	// Stack is the stack marker the block was printed under ("TASK",
	// "IRQ", "NMI", …), inside a trace.
	Stack string `json:"stack,omitempty"`
	// IP is the instruction pointer line: "RIP: 0010:F+0x16/0x20".
	IP *CodeLocation `json:"ip,omitempty"`
	// Code is the "Code:" line's bytes as printed (the faulting byte in
	// <>), or its explanation.
	Code      string               `json:"code,omitempty"`
	Registers map[string]model.Hex `json:"registers,omitempty"`
}

// CodeLocation is an instruction pointer as printed.
type CodeLocation struct {
	// Segment is the code segment as printed ("0010" kernel, "0033" user
	// on x86_64).
	Segment  string          `json:"segment,omitempty"`
	UserMode bool            `json:"user_mode"`
	Function string          `json:"function,omitempty"`
	Offset   uint64          `json:"offset,omitempty"`
	Size     uint64          `json:"size,omitempty"`
	Module   string          `json:"module,omitempty"`
	Address  *model.VirtAddr `json:"address,omitempty"`
}

// Frame is one call trace line. The type is
// model.CrashFrame: front ends and model.Triage embed it.
type Frame = model.CrashFrame

// Signature identifies a crash across dumps (the recipe is in signature.go). The type is
// model.CrashSignature: front ends and model.Triage embed it.
type Signature = model.CrashSignature

// Agreement compares a report's trace with an unwound stack. The type is
// model.StackAgreement: front ends and model.Triage embed it.
type Agreement = model.StackAgreement

// Divergence is where a log trace and an unwound stack part. The type is
// model.StackDivergence: front ends and model.Triage embed it.
type Divergence = model.StackDivergence
