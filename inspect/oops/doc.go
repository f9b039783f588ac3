// Package oops says why a kernel crashed, from its log alone, and gives the
// crash a signature that recognises the same bug in other dumps.
//
// Its input is the kernel log as dumpscope reads it from memory
// ([]model.LogRecord, one record per printk line) and a few facts the
// caller knows from memory (Facts: the release and BUILD-ID of VMCOREINFO,
// the CPU and task that crashed, an unwound stack). It does no I/O.
//
//	a := oops.Analyze(records, oops.Facts{Release: rel, BuildID: id})
//	if a.Signature != nil {
//		fmt.Println(a.Verdict, a.Signature.Title, a.Signature.Hash)
//	}
//
// Reading happens in three steps, one file each:
//
//   - parse.go reads the lines into reports: every oops, warning, lockup,
//     stall, sanitizer report and panic of the log, with the die() header,
//     the task line (CPU, PID, comm, taint, release), the register dumps,
//     the call trace with its stack markers and interrupted contexts, and
//     whether the report is complete. classes.go recognises the headers
//     from the kernel's format strings, each cited with its source;
//     lines.go reads the lines every report shares.
//   - cause.go picks the report that crashed the kernel, from the order in
//     which kernel/panic.c and the reporting paths print.
//   - signature.go builds the signature: a title in syzkaller's style, the
//     guilty frame, the normalized frames from it on, and a SHA-256 of a
//     versioned canonical text of them (the recipe is documented there).
//
// Compare (agree.go) checks a report's trace against an unwound stack.
//
// Every report class, its header and the kernel function that prints it:
//
//	null-pointer-dereference  arch/x86/mm/fault.c show_fault_oops; arm64 die_kernel_fault; ppc __bad_page_fault
//	page-fault                the same, "unable to handle page fault for address"; s390 do_no_context
//	general-protection-fault  arch/x86/kernel/traps.c exc_general_protection → die_addr
//	kernel-bug                lib/bug.c report_bug "kernel BUG at %s:%u!" (then "invalid opcode")
//	invalid-opcode, divide-error, stack-segment-fault, int3, double-fault, stack-guard-page
//	                          arch/x86/kernel/traps.c do_error_trap, exc_double_fault, handle_stack_overflow
//	internal-error            arm64 and ppc die() headers alone
//	warning                   kernel/panic.c __warn, every form since 3.x
//	refcount, list-corruption lib/refcount.c, lib/list_debug.c through WARN or BUG
//	scheduling-while-atomic   kernel/sched/core.c __schedule_bug
//	soft-lockup, hard-lockup  kernel/watchdog.c, kernel/watchdog_hld.c
//	hung-task                 kernel/hung_task.c check_hung_task
//	rcu-stall                 kernel/rcu/tree_stall.h, tree_exp.h
//	machine-check             arch/x86/kernel/cpu/mce/core.c __print_mce, mce_panic
//	sysrq-crash               drivers/tty/sysrq.c sysrq_handle_crash
//	out-of-memory             mm/oom_kill.c dump_header and its panics
//	stack-protector           kernel/panic.c __stack_chk_fail
//	kasan, ubsan, kfence      mm/kasan/report.c, lib/ubsan.c, mm/kfence/report.c
//	kill-init                 kernel/exit.c "Attempted to kill init!"
//	panic                     any other kernel/panic.c vpanic message
//
// All results are plain structs that marshal to the project's JSON
// contract (snake_case names, addresses as "0x…" strings).
package oops
