package oops

import (
	"strconv"
	"strings"

	"dumpscope/model"
)

// This file recognises the lines that open a report, and classifies panic
// messages. Every pattern is the kernel's own format string, named with
// the file and function that print it (Linux 6.12 unless a version is
// given); older and newer forms are listed beside the current one.

// header is a recognised report header.
type header struct {
	class    Class
	source   string
	message  string
	location string
	function string
	address  string // hex digits, no prefix
	hungTask *model.HungTask
	// wantsOops is true for headers that die() follows with its own header
	// line ("Oops: 0002 [#1]"), which then belongs to the same report.
	wantsOops bool
}

// headerPattern is one header format.
type headerPattern struct {
	class     Class
	source    string
	re        *lazyRegexp
	wantsOops bool
	// fill copies the submatches into the header.
	fill func(h *header, m []string)
}

// The kernel prefixes some of these with pr_fmt(): "watchdog: " (kernel/
// watchdog.c), "NMI watchdog: " (kernel/watchdog_hld.c in 6.1), "rcu: "
// (kernel/rcu/tree.c), "mce: " (arch/x86/kernel/cpu/mce/core.c), "sysrq: "
// (drivers/tty/sysrq.c). The patterns allow them.
var headerPatterns = []headerPattern{
	// x86 page faults.
	{ClassNullDeref, "arch/x86/mm/fault.c show_fault_oops",
		lazyRE(`^BUG: kernel NULL pointer dereference, address: ([0-9a-f]+)$`), true,
		func(h *header, m []string) { h.address = m[1] }},
	{ClassPageFault, "arch/x86/mm/fault.c show_fault_oops",
		lazyRE(`^BUG: unable to handle page fault for address: ([0-9a-f]+)$`), true,
		func(h *header, m []string) { h.address = m[1] }},
	// The 4.x kernels: "BUG: unable to handle kernel %s at %px" with "NULL
	// pointer dereference" or "paging request" (the 5.x series moved to the
	// forms above; older ones printed "%p", a NULL as "(null)" padded to
	// the pointer's width).
	{ClassNullDeref, "arch/x86/mm/fault.c show_fault_oops (4.x)",
		lazyRE(`^BUG: unable to handle kernel NULL pointer dereference at\s+([0-9a-f]+|\(null\))$`), true,
		func(h *header, m []string) {
			if m[1] != "(null)" {
				h.address = m[1]
			} else {
				h.address = "0"
			}
		}},
	{ClassPageFault, "arch/x86/mm/fault.c show_fault_oops (4.x)",
		lazyRE(`^BUG: unable to handle kernel paging request at ([0-9a-f]+)$`), true,
		func(h *header, m []string) { h.address = m[1] }},
	// arm64 die_kernel_fault(): "Unable to handle kernel %s at virtual
	// address %016lx" (arch/arm64/mm/fault.c).
	{ClassNullDeref, "arch/arm64/mm/fault.c die_kernel_fault",
		lazyRE(`^Unable to handle kernel NULL pointer dereference at virtual address ([0-9a-f]+)$`), true,
		func(h *header, m []string) { h.address = m[1] }},
	{ClassPageFault, "arch/arm64/mm/fault.c die_kernel_fault",
		lazyRE(`^Unable to handle kernel (.+) at virtual address ([0-9a-f]+)$`), true,
		func(h *header, m []string) { h.message, h.address = m[1], m[2] }},
	// ppc __bad_page_fault(): "BUG: %s on %s at 0x%08lx" with "Kernel NULL
	// pointer dereference" or "Unable to handle kernel data access"
	// (arch/powerpc/mm/fault.c).
	{ClassNullDeref, "arch/powerpc/mm/fault.c __bad_page_fault",
		lazyRE(`^BUG: Kernel NULL pointer dereference (?:on (?:read|write) )?at 0x([0-9a-f]+)$`), true,
		func(h *header, m []string) { h.address = m[1] }},
	{ClassPageFault, "arch/powerpc/mm/fault.c __bad_page_fault",
		lazyRE(`^BUG: Unable to handle kernel (?:data access|unaligned access|instruction fetch|unknown paging fault)(?: on (?:read|write))?(?: at 0x([0-9a-f]+))?`), true,
		func(h *header, m []string) { h.address = m[1] }},
	// s390 report_user_fault()/do_no_context() (arch/s390/mm/fault.c).
	{ClassPageFault, "arch/s390/mm/fault.c do_no_context",
		lazyRE(`^Unable to handle kernel (?:pointer dereference in virtual kernel address space|paging request in virtual user address space)$`), true,
		nil},

	// BUG(): lib/bug.c report_bug() "kernel BUG at %s:%u!", or "Kernel BUG
	// at %pB [verbose debug info unavailable]" without the file; x86 then
	// dies with "invalid opcode" (arch/x86/kernel/traps.c
	// handle_invalid_op()), arm64 with "Oops - BUG".
	{ClassKernelBUG, "lib/bug.c report_bug",
		lazyRE(`^kernel BUG at (.+):(\d+)!$`), true,
		func(h *header, m []string) { h.location = m[1] + ":" + m[2] }},
	{ClassKernelBUG, "lib/bug.c report_bug",
		lazyRE(`^Kernel BUG at (.+) \[verbose debug info unavailable\]$`), true,
		func(h *header, m []string) { h.function = symbolName(m[1]) }},

	// WARN(): kernel/panic.c __warn(). 3.x to 6.12 at least: "WARNING: CPU:
	// %d PID: %d at %s:%d %pS" (or without the file; older kernels appended
	// "()"); the late-2025 rework (syzkaller cites lore 20251110114633):
	// "WARNING: %s:%d at %pS, CPU#%d: %s/%d" (or "WARNING: at %pS, CPU#…");
	// 2.6 warn_slowpath_common(): "WARNING: at %s:%d %pS()".
	{ClassWarning, "kernel/panic.c __warn",
		lazyRE(`^WARNING: CPU: (\d+) PID: (\d+) at (?:(\S+:\d+) )?(\S+(?: \[\S+(?: [0-9a-f]+)?\])?)(?:\(\))?$`), false,
		func(h *header, m []string) { h.location, h.function = m[3], m[4] }},
	{ClassWarning, "kernel/panic.c __warn (late-2025 form)",
		lazyRE(`^WARNING: (?:(\S+:\d+) )?at (\S+(?: \[\S+(?: [0-9a-f]+)?\])?), CPU#(\d+): (.*)/(\d+)$`), false,
		func(h *header, m []string) { h.location, h.function = m[1], m[2] }},
	{ClassWarning, "kernel/panic.c warn_slowpath_common (2.6)",
		lazyRE(`^WARNING: at (\S+:\d+) (\S+?)(?:\(\))?$`), false,
		func(h *header, m []string) { h.location, h.function = m[1], m[2] }},

	// Lockups: kernel/watchdog.c watchdog_timer_fn() "BUG: soft lockup -
	// CPU#%d stuck for %us! [%s:%d]"; watchdog_hardlockup_check() (6.12;
	// kernel/watchdog_hld.c watchdog_overflow_callback() in 6.1) "Watchdog detected hard LOCKUP on cpu %d".
	{ClassSoftLockup, "kernel/watchdog.c watchdog_timer_fn",
		lazyRE(`^(?:(?:NMI )?watchdog: )?BUG: soft lockup - CPU#(\d+) stuck for (\d+)s! \[(.*):(\d+)\]$`), false,
		func(h *header, m []string) { h.message = "CPU#" + m[1] + " stuck for " + m[2] + "s" }},
	{ClassHardLockup, "kernel/watchdog.c watchdog_hardlockup_check",
		lazyRE(`^(?:(?:NMI )?watchdog: )?Watchdog detected hard LOCKUP on cpu (\d+)`), false,
		func(h *header, m []string) { h.message = "hard LOCKUP on cpu " + m[1] }},

	// kernel/hung_task.c check_hung_task(): "INFO: task %s:%d blocked for
	// more than %ld seconds." (syzkaller also knows "blocked in I/O wait").
	{ClassHungTask, "kernel/hung_task.c check_hung_task",
		lazyRE(`^INFO: task (.*):(\d+) blocked (?:in I/O wait )?for more than (\d+) seconds\.$`), false,
		func(h *header, m []string) {
			pid, _ := strconv.ParseInt(m[2], 10, 64)
			h.hungTask = &model.HungTask{Comm: m[1], PID: pid}
			h.message = "blocked for more than " + m[3] + " seconds"
		}},

	// kernel/rcu/tree_stall.h print_cpu_stall() "INFO: %s self-detected
	// stall on CPU", print_other_cpu_stall() "INFO: %s detected stalls on
	// CPUs/tasks:"; kernel/rcu/tree_exp.h "INFO: %s detected expedited
	// stalls on CPUs/tasks: {".
	{ClassRCUStall, "kernel/rcu/tree_stall.h print_cpu_stall, print_other_cpu_stall",
		lazyRE(`^(?:rcu: )?INFO: (\S+) (self-detected stall on CPU|detected stalls on CPUs/tasks:|detected expedited stalls on CPUs/tasks:)`), false,
		func(h *header, m []string) { h.message = m[1] + " " + strings.TrimSuffix(m[2], ":") }},

	// arch/x86/kernel/cpu/mce/core.c __print_mce(): HW_ERR "CPU %d: Machine
	// Check%s: %Lx Bank %d: %016Lx" (HW_ERR is "[Hardware Error]: ").
	{ClassMachineCheck, "arch/x86/kernel/cpu/mce/core.c __print_mce",
		lazyRE(`^(?:mce: )?\[Hardware Error\]: CPU (\d+): Machine Check(?: Exception)?: ([0-9a-f]+) Bank (\d+): ([0-9a-f]+)$`), false,
		func(h *header, m []string) { h.message = "bank " + m[3] + " status 0x" + m[4] }},

	// mm/oom_kill.c dump_header(): "%s invoked oom-killer: gfp_mask=%#x(%pGg),
	// order=%d, oom_score_adj=%hd".
	{ClassOOM, "mm/oom_kill.c dump_header",
		lazyRE(`^(.*) invoked oom-killer: gfp_mask=(0x[0-9a-f]+)`), false,
		func(h *header, m []string) { h.message = m[1] + " invoked oom-killer" }},

	// Sanitizers: mm/kasan/report.c print_error_description() "BUG: KASAN:
	// %s in %pS" (and "BUG: KASAN: invalid-access"); lib/ubsan.c
	// ubsan_prologue() "UBSAN: %s in %s:%d:%d" (older kernels: "UBSAN:
	// Undefined behaviour in %s:%d:%d"); mm/kfence/report.c
	// kfence_report_error() "BUG: KFENCE: %s %s in %pS".
	{ClassKASAN, "mm/kasan/report.c print_error_description",
		lazyRE(`^BUG: KASAN: ([a-z0-9\-]+) in (.+)$`), false,
		func(h *header, m []string) { h.message, h.function = m[1], m[2] }},
	{ClassKASAN, "mm/kasan/report.c kasan_report_async",
		lazyRE(`^BUG: KASAN: ([a-z0-9\-]+)$`), false,
		func(h *header, m []string) { h.message = m[1] }},
	{ClassUBSAN, "lib/ubsan.c ubsan_prologue",
		lazyRE(`^UBSAN: (.+) in (\S+:\d+):\d+$`), false,
		func(h *header, m []string) {
			h.message, h.location = m[1], m[2]
			if h.message == "Undefined behaviour" {
				h.message = "undefined-behaviour"
			}
		}},
	{ClassKFENCE, "mm/kfence/report.c kfence_report_error",
		lazyRE(`^BUG: KFENCE: (.+) in (.+)$`), false,
		func(h *header, m []string) { h.message, h.function = m[1], m[2] }},

	// kernel/sched/core.c __schedule_bug(): "BUG: scheduling while atomic:
	// %s/%d/0x%08x".
	{ClassSchedAtomic, "kernel/sched/core.c __schedule_bug",
		lazyRE(`^BUG: scheduling while atomic: (.*)/(\d+)/0x([0-9a-f]+)$`), false,
		func(h *header, m []string) { h.message = "preempt count 0x" + m[3] }},

	// arch/x86/kernel/traps.c handle_stack_overflow(): "BUG: stack guard page
	// was hit at %px (stack is %px..%px)", then die("stack guard page").
	{ClassStackGuard, "arch/x86/kernel/traps.c handle_stack_overflow",
		lazyRE(`^BUG: (?:\S+ )?stack guard page was hit at ([0-9a-f]+)`), true,
		func(h *header, m []string) { h.address = m[1] }},

	// arch/x86/kernel/traps.c exc_double_fault(): "PANIC: double fault,
	// error_code: 0x%lx", then die("double fault").
	{ClassDoubleFault, "arch/x86/kernel/traps.c exc_double_fault",
		lazyRE(`^PANIC: double fault, error_code: 0x([0-9a-f]+)$`), true, nil},
}

// symbolName returns the function of "%pS" output ("F+0x1/0x2 [mod]").
func symbolName(s string) string {
	if i := strings.IndexByte(s, '+'); i > 0 {
		return s[:i]
	}
	return s
}

// headerWords are substrings every header pattern above contains; a line
// with none of them is not a header, and the patterns need not run.
var headerWords = []string{"BUG", "WARNING:", "Unable to handle", "LOCKUP", "INFO: ", "Hardware Error", "oom-killer", "UBSAN:", "PANIC: double"}

// mayBeHeader is the cheap test before matchHeader.
func mayBeHeader(text string) bool {
	for _, w := range headerWords {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

// matchHeader recognises a report header line.
func matchHeader(text string) (header, bool) {
	for i := range headerPatterns {
		p := &headerPatterns[i]
		m := p.re.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		h := header{class: p.class, source: p.source, wantsOops: p.wantsOops}
		if p.fill != nil {
			p.fill(&h, m)
		}
		return h, true
	}
	return header{}, false
}

// Oops headers: die()'s first line.
//
//	x86 __die_header() (arch/x86/kernel/dumpstack.c), 6.1 and before:
//	  "%s: %04lx [#%d]%s%s%s%s%s"       "Oops: 0002 [#1] PREEMPT SMP NOPTI"
//	6.12 prefixes "Oops: ":
//	  "Oops: %s: %04lx [#%d]…"          "Oops: Oops: 0002 [#1] …",
//	                                    "Oops: general protection fault, …: 0000 [#1] …"
//	arm64 __die() (arch/arm64/kernel/traps.c):
//	  "Internal error: %s: %016lx [#%d]" " PREEMPT" " SMP"
//	ppc __die() (arch/powerpc/kernel/traps.c): "Oops: %s, sig: %ld [#%d]"
//	s390 die() (arch/s390/kernel/dumpstack.c): "%s: %04x ilc:%d [#%d]"
var (
	x86OopsRe   = lazyRE(`^(.+?): ([0-9a-f]{4}) \[#(\d+)\]((?: [A-Z_]+)*)$`)
	arm64OopsRe = lazyRE(`^Internal error: (.+): ([0-9a-f]{1,16}) \[#(\d+)\]((?: [A-Z_]+)*)$`)
	ppcOopsRe   = lazyRE(`^Oops: (.+), sig: (\d+) \[#(\d+)\]$`)
	s390OopsRe  = lazyRE(`^(.+): ([0-9a-f]{4}) ilc:\d \[#(\d+)\]((?: [A-Z_]+)*)$`)
)

// parseOopsHeader reads a die() header line.
func parseOopsHeader(text string) (*OopsHeader, bool) {
	if !strings.Contains(text, "[#") {
		return nil, false
	}
	mk := func(kind, code, count, flags string, base int) (*OopsHeader, bool) {
		c, err := strconv.ParseUint(code, base, 64)
		if err != nil {
			return nil, false
		}
		n, err := strconv.Atoi(count)
		if err != nil {
			return nil, false
		}
		return &OopsHeader{Text: text, Kind: kind, ErrorCode: model.Hex(c), Count: n, Flags: strings.Fields(flags)}, true
	}
	if m := arm64OopsRe.FindStringSubmatch(text); m != nil {
		return mk(m[1], m[2], m[3], m[4], 16)
	}
	if m := ppcOopsRe.FindStringSubmatch(text); m != nil {
		return mk(m[1], m[2], m[3], "", 10)
	}
	if m := s390OopsRe.FindStringSubmatch(text); m != nil {
		return mk(m[1], m[2], m[3], m[4], 16)
	}
	if rest, ok := strings.CutPrefix(text, "Oops: "); ok {
		if m := x86OopsRe.FindStringSubmatch(rest); m != nil {
			return mk(m[1], m[2], m[3], m[4], 16)
		}
	}
	if m := x86OopsRe.FindStringSubmatch(text); m != nil {
		if !plausibleDieKind(m[1]) {
			return nil, false
		}
		return mk(m[1], m[2], m[3], m[4], 16)
	}
	return nil, false
}

// plausibleDieKind rejects lines that only look like an x86 die header:
// die()'s str is one of the trap names of arch/x86/kernel/traps.c and
// arch/x86/mm/fault.c, never a long sentence with colons.
func plausibleDieKind(kind string) bool {
	return len(kind) <= 120 && !strings.Contains(kind, ": ")
}

// oopsKindClass classifies a die() header that opens a report by itself:
// its str names the trap (arch/x86/kernel/traps.c: "general protection
// fault" and GPFSTR variants in exc_general_protection(), "invalid
// opcode", "divide error", "double fault", "stack segment", "int3",
// "stack guard page"; arch/x86/mm/fault.c page_fault_oops(): "Oops";
// arm64 die(): "Oops - BUG", "Oops - Undefined instruction", …).
func oopsKindClass(kind string) (Class, string) {
	k := strings.ToLower(kind)
	if strings.Contains(k, "general protection fault") {
		return ClassGPF, "arch/x86/kernel/traps.c exc_general_protection"
	}
	for _, d := range dieKinds {
		if strings.HasPrefix(k, d.prefix) {
			return d.class, d.where
		}
	}
	return ClassInternalError, "die"
}

// dieKinds are the trap names oopsKindClass tries, in order, as the
// lower-cased start of die()'s str: the class and the function that
// prints each.
var dieKinds = []struct {
	prefix string
	class  Class
	where  string
}{
	{"invalid opcode", ClassInvalidOpcode, "arch/x86/kernel/traps.c handle_invalid_op"},
	{"divide error", ClassDivideError, "arch/x86/kernel/traps.c exc_divide_error"},
	{"divide_error", ClassDivideError, "arch/x86/kernel/traps.c exc_divide_error"},
	{"double fault", ClassDoubleFault, "arch/x86/kernel/traps.c exc_double_fault"},
	{"stack segment", ClassStackSegment, "arch/x86/kernel/traps.c exc_stack_segment"},
	{"int3", ClassInt3, "arch/x86/kernel/traps.c do_int3_user"},
	{"stack guard page", ClassStackGuard, "arch/x86/kernel/traps.c handle_stack_overflow"},
	{"oops - bug", ClassKernelBUG, "arch/arm64/kernel/traps.c bug_brk_handler"},
	{"oops", ClassOopsHeaderAlone, "arch/x86/kernel/dumpstack.c __die_header"},
}

// gpfAddressRe reads the address exc_general_protection() names: GPFSTR
// ", probably for non-canonical address 0x%lx" or ", maybe for address
// 0x%lx" (6.1, 6.12; older kernels print GPFSTR alone).
var gpfAddressRe = lazyRE(`(?:probably for non-canonical address|maybe for address) 0x([0-9a-f]+)`)

// panicLineRe matches kernel/panic.c vpanic(): "Kernel panic - not
// syncing: %s" (6.1 and 6.12 drop the message's final newline; older
// kernels printed it, so the record may end in an empty line); and the end
// marker "---[ end Kernel panic - not syncing: %s ]---".
var (
	panicLineRe = lazyRE(`^Kernel panic - not syncing: ?(.*)$`)
	panicEndRe  = lazyRE(`^---\[ end Kernel panic - not syncing: ?(.*) \]---$`)
	// drivers/tty/sysrq.c __handle_sysrq(): pr_info("%s\n", action_msg)
	// with pr_fmt "sysrq: " (6.1, 6.12; older kernels "SysRq : "). It is not
	// a report by itself: it names what triggered the next one.
	sysrqCrashRe = lazyRE(`^(?:sysrq: |SysRq ?: )Trigger a crash$`)
	// kernel/panic.c print_oops_end_marker(): "---[ end trace %016llx ]---"
	// (a random id before 5.x, zero since).
	endTraceRe = lazyRE(`^---\[ end trace [0-9a-f]+ \]---$`)
	// include/asm-generic/bug.h CUT_HERE.
	cutHereRe = lazyRE(`^-+\[ cut here \]-+$`)
	// arch/x86/kernel/setup.c dump_kernel_offset(): "Kernel Offset: 0x%lx
	// from 0x%lx (relocation range: …)".
	kernelOffsetRe = lazyRE(`^Kernel Offset: 0x([0-9a-f]+) from 0x[0-9a-f]+`)
)

// panicKind says what a panic message tells about its cause.
type panicKind struct {
	// class is the class of the panic called directly, or of the report
	// that caused it.
	class Class
	// consequence is true when the message is printed by a path that has
	// already printed the report that caused it (die() → oops_end(),
	// __warn() → check_panic_on_warn(), the watchdogs, hung_task,
	// mce_panic(), the OOM killer); accept then lists the report classes
	// that can be that cause (nil: any class).
	consequence bool
	accept      func(r *Report) bool
	function    string // for stack-protector: the function named
}

// isDie reports whether r ended in die() → oops_end(): its class is a
// trap class, or it carries a die() header.
func isDie(r *Report) bool {
	switch r.Class {
	case ClassNullDeref, ClassPageFault, ClassGPF, ClassKernelBUG,
		ClassInvalidOpcode, ClassDivideError, ClassDoubleFault,
		ClassStackSegment, ClassInt3, ClassStackGuard,
		ClassInternalError, ClassOopsHeaderAlone:
		return true
	}
	return r.Oops != nil
}

// warnOrigins are the classes whose report calls check_panic_on_warn()
// (kernel/panic.c) with origin: __warn() "kernel", mm/kasan/report.c
// "KASAN", lib/ubsan.c "UBSAN", mm/kfence/report.c "KFENCE",
// kernel/sched/core.c "scheduling while atomic"; nil for another origin.
func warnOrigins(origin string) []Class {
	switch origin {
	case "kernel":
		return []Class{ClassWarning, ClassRefcount, ClassListCorruption}
	case "KASAN":
		return []Class{ClassKASAN}
	case "UBSAN":
		return []Class{ClassUBSAN}
	case "KFENCE":
		return []Class{ClassKFENCE}
	case "scheduling while atomic":
		return []Class{ClassSchedAtomic}
	}
	return nil
}

var (
	fatalExceptionRe = lazyRE(`^(?:.+: )?Fatal exception(?: in interrupt|: panic_on_oops)?$`)
	panicOnWarnRe    = lazyRE(`^(?:(.+): )?(?:panic_on_warn set \.\.\.|system warned too often \(kernel\.warn_limit is \d+\))$`)
	stackProtRe      = lazyRE(`^stack-protector: Kernel stack is corrupted in: (.+)$`)
	killInitRe       = lazyRE(`^Attempted to kill (?:init|the idle task)!`)
	oomPanicRe       = lazyRE(`^(?:Out of memory: (?:compulsory|system-wide) panic_on_oom is enabled|System is deadlocked on memory|Out of memory and no killable processes)`)
	oldHardLockupRe  = lazyRE(`^Watchdog detected hard LOCKUP on cpu \d+`)
	stackGuardRe     = lazyRE(` stack guard hit$`)
)

// classifyPanic reads a panic message.
func classifyPanic(msg string) panicKind {
	of := func(classes ...Class) func(*Report) bool {
		return func(r *Report) bool {
			for _, c := range classes {
				if r.Class == c {
					return true
				}
			}
			return false
		}
	}
	switch {
	// arch/x86/kernel/dumpstack.c oops_end() "Fatal exception" and "…
	// in interrupt"; arm64 die() "%s: Fatal exception" with die()'s str;
	// s390 die() "Fatal exception: panic_on_oops": after the oops.
	case fatalExceptionRe.MatchString(msg):
		return panicKind{class: ClassPanic, consequence: true, accept: isDie}
	case panicOnWarnRe.MatchString(msg):
		m := panicOnWarnRe.FindStringSubmatch(msg)
		if cs := warnOrigins(m[1]); cs != nil {
			return panicKind{class: ClassWarning, consequence: true, accept: of(cs...)}
		}
		return panicKind{class: ClassWarning, consequence: true, accept: func(r *Report) bool { return !isDie(r) }}
	// kernel/watchdog.c: nmi_panic(regs, "Hard LOCKUP"), panic("softlockup:
	// hung tasks"); kernel/hung_task.c: panic("hung_task: blocked tasks");
	// kernel/rcu/tree_stall.h rcu_panic(): panic("RCU Stall").
	case msg == "Hard LOCKUP":
		return panicKind{class: ClassHardLockup, consequence: true, accept: of(ClassHardLockup)}
	case msg == "softlockup: hung tasks":
		return panicKind{class: ClassSoftLockup, consequence: true, accept: of(ClassSoftLockup)}
	case msg == "hung_task: blocked tasks":
		return panicKind{class: ClassHungTask, consequence: true, accept: of(ClassHungTask)}
	case msg == "RCU Stall":
		return panicKind{class: ClassRCUStall, consequence: true, accept: of(ClassRCUStall)}
	// arch/x86/kernel/cpu/mce/core.c mce_panic(): "Fatal machine check",
	// "Fatal local machine check", "Machine check from unknown source", …
	case strings.Contains(strings.ToLower(msg), "machine check"):
		return panicKind{class: ClassMachineCheck, consequence: true, accept: of(ClassMachineCheck)}
	// mm/oom_kill.c check_panic_on_oom() and out_of_memory(), after
	// dump_header().
	case oomPanicRe.MatchString(msg):
		return panicKind{class: ClassOOM, consequence: true, accept: of(ClassOOM)}
	// arch/x86/kernel/traps.c exc_double_fault(): panic("Machine halted.")
	// after die("double fault").
	case msg == "Machine halted.":
		return panicKind{class: ClassDoubleFault, consequence: true, accept: of(ClassDoubleFault)}
	case stackGuardRe.MatchString(msg):
		return panicKind{class: ClassStackGuard, consequence: true, accept: of(ClassStackGuard)}
	// Panics that are the crash themselves: drivers/tty/sysrq.c
	// sysrq_handle_crash() panic("sysrq triggered crash\n") (4.x and
	// later; a NULL write before), kernel/panic.c __stack_chk_fail(),
	// kernel/exit.c do_exit() via make_task_dead() "Attempted to kill
	// init! exitcode=0x%08x", kernel/watchdog.c before 4.x "Watchdog
	// detected hard LOCKUP on cpu %d".
	case msg == "sysrq triggered crash":
		return panicKind{class: ClassSysrq}
	case stackProtRe.MatchString(msg):
		return panicKind{class: ClassStackProtector, function: stackProtRe.FindStringSubmatch(msg)[1]}
	case killInitRe.MatchString(msg):
		return panicKind{class: ClassKillInit}
	case oldHardLockupRe.MatchString(msg):
		return panicKind{class: ClassHardLockup}
	}
	return panicKind{class: ClassPanic}
}
