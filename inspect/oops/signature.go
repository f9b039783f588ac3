package oops

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// This file builds a crash signature: a title in syzkaller's style
// (google/syzkaller pkg/report/linux.go), the guilty frame, the frames
// from it on, and a hash of them.
//
// The recipe, version 1:
//
//  1. Candidate frames, innermost first: for KASAN and KFENCE the function
//     the header names, and for a WARN that printed no registers the WARN
//     site the header names; then the report's own instruction pointer
//     (the register dump before the call trace, when in kernel mode); then
//     the call trace's reliable frames in order ("? F" lines are dropped;
//     the instruction pointer of an interrupted context inside the trace
//     stands for a frame). Stall reports (RCU stall, soft and hard lockup)
//     whose trace holds an interrupted context start there instead.
//  2. A frame is normalized: its function name is cut at the first "."
//     (".cold", ".isra.0", ".constprop.0", ".part.0", ".llvm.123"; the
//     kernel's own names never hold a dot), offset and size dropped; a
//     module frame is written "F [module]" (the build id dropped); a frame
//     printed as a bare address is "<unknown>".
//  3. Plumbing is dropped: reporting, trap, entry and library functions
//     (skipFrame: genericSkip, genericSkipPrefixes and the class's
//     classSkip); module frames are never dropped. Hung-task
//     reports keep every frame (their rule below skips by itself). A
//     repeat of the first frame right after it is dropped.
//  4. The guilty frame is the first frame left, except: stalls take the
//     frame above the first dispatching function (stallGuilty), hung tasks
//     the first frame that is not scheduling, locking or waiting
//     (hungGuilty), both after syzkaller; stack-protector panics the
//     function __stack_chk_fail() named.
//  5. Frames are the guilty frame and those left after it, at most
//     MaxFrames. (Entry stubs and library helpers differ between versions
//     and configurations; leaving them out keeps the same path the same.)
//     A machine check keeps no frame: where the CPU was says nothing of a
//     hardware error.
//  6. Title is syzkaller's title for the class (title()), with the guilty
//     function, without its module, as F; panic messages are sanitized as
//     syzkaller does (addresses ADDR, numbers NUM).
//  7. Canonical is "dumpscope-signature/1\n" + "title: " + Title + "\n" +
//     one "frame: " + frame + "\n" per frame. Hash is the lower-case hex
//     SHA-256 of Canonical's bytes.
//
// Addresses, offsets, pids, CPUs, timestamps, taint, release and build id
// are not hashed: the same bug in another boot, or in another build of
// the same code, gets the same hash. Release and BuildID are given beside
// the hash for those who want to key on the build too.

// MaxFrames is the number of frames a signature keeps (ABRT keeps 6).
const MaxFrames = 6

// SignatureVersion is the recipe's version, written into Canonical.
const SignatureVersion = 1

// NormalizeFunction strips compiler suffixes from a function name.
func NormalizeFunction(name string) string {
	if i := strings.IndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}

// normFrame is a frame as the signature writes it.
func normFrame(f Frame) string {
	name := NormalizeFunction(f.Function)
	if name == "" {
		name = "<unknown>"
	}
	if f.Module != "" {
		return name + " [" + f.Module + "]"
	}
	return name
}

// sigFrame is a frame being considered for the signature.
type sigFrame struct {
	name   string // normalized function, without module
	module string
	text   string // normFrame()
}

func toSig(f Frame) sigFrame {
	return sigFrame{name: NormalizeFunction(f.Function), module: f.Module, text: normFrame(f)}
}

// candidateFrames lists the frames of step 1.
func candidateFrames(r *Report) []sigFrame {
	trace := r.Trace
	var out []sigFrame
	if start := interruptedContext(r); start >= 0 {
		trace = trace[start:]
	} else {
		out = topFrames(r)
	}
	for _, f := range trace {
		if !f.Reliable {
			continue
		}
		out = append(out, toSig(f))
	}
	return out
}

// interruptedContext returns where a stall report's interrupted context
// starts in its trace (the timer interrupt or NMI that detected the stall
// printed the registers of the code that looped), or -1.
func interruptedContext(r *Report) int {
	if r.Class != ClassRCUStall && r.Class != ClassSoftLockup && r.Class != ClassHardLockup {
		return -1
	}
	for i, f := range r.Trace {
		if f.FromRegisters {
			return i
		}
	}
	return -1
}

// topFrames are the frames before the trace: the report's own instruction
// pointer (the register block printed before the trace), after the
// function the header names for the sanitizers (KASAN and KFENCE name the
// faulting function; syzkaller's titles take it) and for a WARN when no
// register dump names the WARN site.
func topFrames(r *Report) []sigFrame {
	var out []sigFrame
	for _, b := range r.Registers {
		if b.InTrace {
			break
		}
		if b.IP != nil && !b.IP.UserMode && b.IP.Function != "" {
			out = append(out, toSig(Frame{Function: b.IP.Function, Module: b.IP.Module}))
			break
		}
	}
	warn := r.Class == ClassWarning || r.Class == ClassRefcount || r.Class == ClassListCorruption
	if r.Function != "" && (r.Class == ClassKASAN || r.Class == ClassKFENCE || (warn && len(out) == 0)) {
		out = append([]sigFrame{toSig(Frame{Function: r.Function, Module: r.FunctionModule})}, out...)
	}
	return out
}

// dedupTop drops a repeat of the first frame right after it: the header's
// function or the instruction pointer and the trace's first frame that
// survived the skip list naming the same place (KASAN's report frames sit
// between them).
func dedupTop(fs []sigFrame) []sigFrame {
	if len(fs) > 1 && fs[0].text == fs[1].text {
		return fs[1:]
	}
	return fs
}

// genericSkip reports whether a function reports, traps, enters the
// kernel or does library work for the real culprit, for every class. The
// list follows syzkaller's linuxStackParams.skipPatterns and ABRT's koops
// blacklist (satyr lib/normalize.c), with names taken from the kernel
// (kernel/panic.c, lib/dump_stack.c, lib/bug.c, arch/x86/kernel/
// dumpstack.c, traps.c, arch/x86/mm/fault.c, kernel/notifier.c,
// kernel/printk/).
func genericSkip(name string) bool {
	switch name {
	case
		// panic and stack dumping
		"panic", "vpanic", "nmi_panic", "check_panic_on_warn",
		"dump_stack", "dump_stack_lvl", "show_stack", "show_regs",
		"__show_regs", "show_trace_log_lvl", "sched_show_task",
		"show_stack_log_lvl", "dump_backtrace", "nmi_cpu_backtrace",
		"nmi_trigger_cpumask_backtrace", "arch_trigger_cpumask_backtrace",
		"printk", "_printk", "vprintk", "vprintk_emit",
		"vprintk_default", "vprintk_func", "print_modules",
		// WARN and BUG
		"__warn", "__warn_printk", "warn_slowpath_fmt", "warn_slowpath_null",
		"warn_slowpath_common", "warn_slowpath_fmt_taint", "report_bug",
		"handle_bug", "fixup_bug", "bug_handler", "bug_brk_handler",
		"call_break_hook", "brk_handler", "do_debug_exception",
		// die and traps
		"die", "__die", "__die_body", "die_addr", "oops_begin",
		"oops_end", "do_trap", "do_error_trap", "do_trap_no_signal",
		"handle_invalid_op", "handle_stack_overflow", "arm64_notify_die",
		"crash_kexec", "__crash_kexec", "machine_kexec",
		// page faults
		"page_fault_oops", "kernelmode_fixup_or_oops", "no_context",
		"__bad_area_nosemaphore", "bad_area_nosemaphore", "bad_area",
		"do_user_addr_fault", "do_kern_addr_fault", "__do_page_fault",
		"do_page_fault", "handle_page_fault", "spurious_kernel_fault",
		"die_kernel_fault", "__do_kernel_fault", "do_translation_fault",
		"do_mem_abort", "el1_abort", "el1h_64_sync_handler", "el1h_64_sync",
		"el1_sync_handler", "el1_dbg", "el1_undef",
		// notifier plumbing (kernel/notifier.c)
		"notify_die", "notifier_call_chain", "atomic_notifier_call_chain",
		"blocking_notifier_call_chain", "raw_notifier_call_chain",
		// library helpers the culprit called (syzkaller skips them too)
		"memcpy", "memset", "memmove", "memcmp", "memchr",
		"__memcpy", "__memset", "__memmove", "strlen", "strnlen",
		"strcmp", "strncmp", "strcpy", "strncpy", "strscpy",
		"strlcpy", "strchr", "strstr", "strnstr", "strdup",
		"kstrdup", "copy_to_user", "copy_from_user", "_copy_to_user",
		"_copy_from_user", "rep_movs_alternative", "copy_user_generic_string",
		"copy_user_enhanced_fast_string", "memdup_user",
		"kfree", "kvfree", "kmalloc", "__kmalloc", "kzalloc",
		"kmem_cache_alloc", "kmem_cache_free", "kmalloc_trace",
		"__kmem_cache_alloc_node", "__kmalloc_node", "slab_free",
		"mutex_lock", "mutex_unlock", "__mutex_lock", "mutex_lock_nested",
		"down", "down_read", "down_write", "up_read", "up_write",
		"queued_spin_lock_slowpath", "native_queued_spin_lock_slowpath",
		"__stack_chk_fail",
		// the system call table dispatchers of arch/x86/entry/syscall_64.c
		// (6.12, and stable updates such as 6.1.192; older kernels index the
		// table directly): present or not by version, never the culprit
		"x64_sys_call", "ia32_sys_call", "x32_sys_call":
		return true
	}
	return false
}

// genericSkipPrefixes are skipped by prefix: the exception and interrupt
// entry stubs of arch/x86/include/asm/idtentry.h (exc_*, asm_exc_*,
// asm_sysvec_*, sysvec_*), the syscall entry (entry_*), the sanitizers'
// runtime, and the lock primitives.
var genericSkipPrefixes = []string{
	"exc_", "asm_exc_", "asm_sysvec_", "sysvec_", "__sysvec_", "entry_",
	"kasan_", "__kasan_", "__asan_", "kmsan_", "__msan_", "__ubsan_handle_", "ubsan_",
	"kfence_", "__kfence_", "print_address_description", "print_report",
	"_raw_spin_lock", "_raw_spin_unlock", "_raw_read_lock", "_raw_write_lock",
	"_raw_read_unlock", "_raw_write_unlock", "__raw_spin_lock", "do_raw_spin_lock",
}

// skipFrame reports whether a frame is plumbing for a report of class c.
// Module frames are never skipped.
func skipFrame(c Class, f sigFrame) bool {
	if f.module != "" {
		return false
	}
	return genericSkip(f.name) || hasAnyPrefix(f.name, genericSkipPrefixes...) || classSkip(c, f.name)
}

// classSkip reports whether a function is, by prefix, the checking
// function of class c itself (syzkaller's per-format skip lists).
func classSkip(c Class, name string) bool {
	switch c {
	case ClassListCorruption:
		return hasAnyPrefix(name, "__list_add_valid", "__list_del_entry_valid", "list_add", "list_del",
			"__list_add", "__list_del", "list_replace", "list_move", "list_splice")
	case ClassRefcount:
		return hasAnyPrefix(name, "refcount_", "__refcount_", "kref_")
	case ClassSchedAtomic:
		return hasAnyPrefix(name, "__schedule_bug", "schedule", "__schedule", "preempt_schedule")
	case ClassOOM:
		return hasAnyPrefix(name, "dump_header", "oom_kill_process", "out_of_memory", "__alloc_pages",
			"alloc_pages", "__alloc_pages_slowpath", "__alloc_pages_may_oom", "pagefault_out_of_memory",
			"mem_cgroup_out_of_memory", "__folio_alloc", "folio_alloc", "alloc_pages_mpol",
			"__get_free_pages", "get_page_from_freelist")
	case ClassMachineCheck:
		return hasAnyPrefix(name, "do_machine_check", "mce_panic", "noist_exc_machine_check")
	case ClassKernelBUG:
		return hasAnyPrefix(name, "skb_")
	}
	return false
}

// hasAnyPrefix reports whether s starts with one of prefixes.
func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// syscallPrefixes are the wrappers SYSCALL_DEFINE generates around a
// system call (arch/x86/include/asm/syscall_wrapper.h, arm64's, the
// generic include/linux/syscalls.h); syzkaller strips the same.
var syscallPrefixes = []string{"__x64_sys_", "__ia32_sys_", "__arm64_sys_", "__se_sys_", "__do_sys_", "ksys_", "sys_"}

// isStallAnchor reports whether a frame dispatches work. The system calls
// whose work depends on their target (ioctl, connect, socketpair) are
// anchors too, so the frame above them, the driver's or the protocol's,
// is the one named.
func isStallAnchor(f sigFrame) bool {
	if f.module != "" {
		return false
	}
	switch f.name {
	// syzkaller's linuxStallAnchorFrames: a stalled CPU loops somewhere
	// above them, and the frame just above the first one names the work
	// that looped (a workqueue callback, a syscall, a timer).
	case
		"process_one_work", "worker_thread", "kthread", "ret_from_fork",
		"ret_from_fork_asm", "smpboot_thread_fn", "run_ksoftirqd",
		"__do_softirq", "handle_softirqs", "do_softirq", "call_timer_fn",
		"__run_timers", "run_timer_softirq", "__hrtimer_run_queues",
		"cpu_startup_entry", "start_secondary", "do_idle",
		"do_syscall_64", "do_syscall_x64", "do_fast_syscall_32",
		"__do_fast_syscall_32", "do_int80_syscall_32", "invoke_syscall",
		"el0_svc", "ret_fast_syscall", "vfs_read", "vfs_write",
		"vfs_ioctl", "vfs_open", "do_dentry_open", "__fput",
		"task_work_run", "netif_receive_skb", "__netif_receive_skb",
		"tasklet_action", "tasklet_hi_action", "smp_call_function":
		return true
	}
	for _, p := range syscallPrefixes {
		if rest, ok := strings.CutPrefix(f.name, p); ok {
			switch rest {
			case "ioctl", "connect", "socketpair":
				return true
			}
		}
	}
	return false
}

// stallGuilty applies syzkaller's linuxStallFrameExtractor: the frame
// before the first anchor, or the anchor when it comes first.
func stallGuilty(fs []sigFrame) int {
	for i, f := range fs {
		if isStallAnchor(f) {
			if i == 0 {
				return 0
			}
			return i - 1
		}
	}
	return -1
}

// hungGuilty applies syzkaller's linuxHangTaskFrameExtractor: a hang in
// rtnl_lock or synchronize_rcu names that bucket; otherwise the first
// frame that is not scheduling, locking or waiting.
func hungGuilty(fs []sigFrame) (int, string) {
	for i, f := range fs {
		switch {
		case strings.Contains(f.name, "rtnl_lock"):
			return i, "rtnl_lock"
		case strings.Contains(f.name, "synchronize_rcu"), strings.Contains(f.name, "synchronize_srcu"),
			strings.Contains(f.name, "synchronize_net"), strings.Contains(f.name, "synchronize_sched"):
			return i, "synchronize_rcu"
		}
	}
	waits := []string{"sched", "_lock", "_slowlock", "down", "rwsem", "completion", "kthread",
		"wait", "synchronize", "context_switch", "__switch_to", "cancel_delayed_work", "rcu_barrier"}
next:
	for i, f := range fs {
		if f.module == "" {
			for _, w := range waits {
				if strings.Contains(f.name, w) {
					continue next
				}
			}
		}
		return i, f.name
	}
	return -1, ""
}

// guilty returns the index of the guilty frame among the frames left by
// step 3, and the name the title uses: the function without its module,
// as syzkaller's {{FUNC}} captures it (the frames keep the module).
func guilty(r *Report, fs []sigFrame) (int, string) {
	switch r.Class {
	case ClassHungTask:
		return hungGuilty(fs)
	case ClassRCUStall, ClassSoftLockup, ClassHardLockup:
		if i := stallGuilty(fs); i >= 0 {
			return i, fs[i].name
		}
	case ClassStackProtector:
		// __stack_chk_fail() names the function whose canary died (%pB);
		// the stack itself may be garbage.
		if r.Function != "" && !strings.HasPrefix(r.Function, "0x") {
			want := toSig(Frame{Function: r.Function, Module: r.FunctionModule})
			for i, f := range fs {
				if f.text == want.text {
					return i, f.name
				}
			}
			return -1, want.name
		}
	}
	if len(fs) == 0 {
		return -1, ""
	}
	return 0, fs[0].name
}

// keptFrames applies steps 1 to 3.
func keptFrames(r *Report) []sigFrame {
	if r.Class == ClassMachineCheck {
		// A hardware error: where the CPU happened to be says nothing of
		// the error, and would split one error into many signatures.
		return nil
	}
	var kept []sigFrame
	for _, f := range candidateFrames(r) {
		if r.Class == ClassHungTask || !skipFrame(r.Class, f) {
			kept = append(kept, f)
		}
	}
	return dedupTop(kept)
}

// Sign builds the signature of a report.
func Sign(r *Report, facts Facts) *Signature {
	s := &Signature{Version: SignatureVersion, Class: r.Class, Frames: []string{}, Modules: []string{}, Taint: []string{},
		Release: facts.Release, BuildID: facts.BuildID}
	if s.Release == "" && r.Task != nil {
		s.Release = r.Task.Release
	}
	if s.BuildID == "" && r.Task != nil {
		s.BuildID = r.Task.BuildID
	}
	kept := keptFrames(r)
	gi, gname := guilty(r, kept)
	switch {
	case gi >= 0:
		kept = kept[gi:]
	case gname != "":
		// The stack-protector's function is not in the trace.
		kept = []sigFrame{toSig(Frame{Function: r.Function, Module: r.FunctionModule})}
	default:
		kept = nil
	}
	if len(kept) > 0 {
		s.GuiltyFrame = kept[0].text
	}
	for _, f := range kept[:min(len(kept), MaxFrames)] {
		s.Frames = append(s.Frames, f.text)
	}
	s.Title = title(r, gname)
	s.AltTitles = altTitles(r, gname)
	switch {
	case s.GuiltyFrame == "" && needsFrame(r.Class):
		s.Corrupted, s.CorruptedReason = true, "no frame outside the reporting and trap plumbing"
	case r.Class == ClassOopsHeaderAlone:
		s.Corrupted, s.CorruptedReason = true, "the lines before the die() header are lost"
	case !r.Complete:
		s.Corrupted, s.CorruptedReason = true, "the report is incomplete: "+strings.Join(r.Missing, ", ")+" missing"
	}
	mods := map[string]bool{}
	for _, f := range r.Trace {
		if f.Module != "" {
			mods[f.Module] = true
		}
	}
	for _, b := range r.Registers {
		if b.IP != nil && b.IP.Module != "" {
			mods[b.IP.Module] = true
		}
	}
	if r.FunctionModule != "" {
		mods[r.FunctionModule] = true
	}
	for m := range mods {
		s.Modules = append(s.Modules, m)
	}
	sort.Strings(s.Modules)
	if r.Task != nil {
		for _, f := range r.Task.Taint.Flags {
			name := f.Name
			if name == "" {
				name = f.Letter
			}
			s.Taint = append(s.Taint, name)
		}
	}
	s.Canonical = Canonical(s.Title, s.Frames)
	sum := sha256.Sum256([]byte(s.Canonical))
	s.Hash = hex.EncodeToString(sum[:])
	return s
}

// Canonical writes the text a signature hashes (recipe step 5).
func Canonical(title string, frames []string) string {
	var b strings.Builder
	b.WriteString("dumpscope-signature/1\n")
	b.WriteString("title: " + title + "\n")
	for _, f := range frames {
		b.WriteString("frame: " + f + "\n")
	}
	return b.String()
}

// needsFrame are the classes whose title names a function.
func needsFrame(c Class) bool {
	switch c {
	case ClassMachineCheck, ClassSysrq, ClassKillInit, ClassPanic:
		return false
	}
	return true
}

// title writes syzkaller's title for the report (pkg/report/linux.go
// linuxOopses fmt strings); fn is the guilty frame.
func title(r *Report, fn string) string {
	in := func(prefix string) string {
		if fn == "" {
			return prefix
		}
		return prefix + " in " + fn
	}
	switch r.Class {
	case ClassNullDeref:
		return in("BUG: unable to handle kernel NULL pointer dereference")
	case ClassPageFault:
		return in("BUG: unable to handle kernel paging request")
	case ClassGPF:
		return in("general protection fault")
	case ClassKernelBUG:
		return in("kernel BUG")
	case ClassListCorruption:
		return in("BUG: corrupted list")
	case ClassInvalidOpcode:
		return in("invalid opcode")
	case ClassDivideError:
		return in("divide error")
	case ClassDoubleFault:
		return in("PANIC: double fault")
	case ClassStackSegment:
		return in("stack segment fault")
	case ClassInt3:
		return in("int3")
	case ClassStackGuard:
		return in("BUG: stack guard page was hit")
	case ClassInternalError:
		return in("Internal error")
	case ClassOopsHeaderAlone:
		return in("Oops")
	case ClassWarning:
		return in("WARNING")
	case ClassRefcount:
		return in("WARNING: refcount bug")
	case ClassSchedAtomic:
		return in("BUG: scheduling while atomic")
	case ClassSoftLockup:
		return in("BUG: soft lockup")
	case ClassHardLockup:
		// syzkaller has no hard-lockup format; this follows the kernel's
		// "watchdog: Watchdog detected hard LOCKUP on cpu %d".
		return in("watchdog: hard LOCKUP")
	case ClassHungTask:
		return in("INFO: task hung")
	case ClassRCUStall:
		return in("INFO: rcu detected stall")
	case ClassKASAN:
		kind := r.Message
		if a, _, ok := strings.Cut(r.Access, " "); ok {
			kind += " " + a
		}
		return in("KASAN: " + kind)
	case ClassUBSAN:
		return in("UBSAN: " + r.Message)
	case ClassKFENCE:
		return in("KFENCE: " + r.Message)
	case ClassOOM:
		return in("out of memory")
	case ClassMachineCheck:
		// Hardware, not a function: the explanation mce_panic() printed
		// ("Machine check: Processor context corrupt").
		if r.Message == "" || strings.HasPrefix(r.Message, "bank ") {
			return "machine check"
		}
		return sanitizeTitle("machine check: " + r.Message)
	case ClassStackProtector:
		return in("kernel panic: stack is corrupted")
	case ClassKillInit:
		return "kernel panic: Attempted to kill init!"
	}
	// Machine checks, OOM panics, sysrq and other panics: syzkaller's
	// "kernel panic: %s" with the message's variable parts replaced.
	if !panicLineRe.MatchString(r.Header) {
		return in(string(r.Class))
	}
	return sanitizeTitle("kernel panic: " + r.Message)
}

// altTitles are syzkaller's alt titles of linuxOopses
// (google/syzkaller pkg/report/linux.go, "alt:" of each format).
func altTitles(r *Report, fn string) []string {
	if fn == "" {
		return []string{}
	}
	switch r.Class {
	case ClassNullDeref, ClassPageFault, ClassGPF, ClassListCorruption, ClassInternalError, ClassKFENCE:
		return []string{"bad-access in " + fn}
	case ClassKASAN:
		if strings.Contains(r.Message, "free") && !strings.Contains(r.Message, "after-free") {
			return []string{"invalid-free in " + fn}
		}
		return []string{"bad-access in " + fn}
	case ClassUBSAN:
		if r.Message == "array-index-out-of-bounds" {
			return []string{"bad-access in " + fn}
		}
	case ClassSoftLockup, ClassRCUStall, ClassHardLockup:
		return []string{"stall in " + fn}
	case ClassHungTask:
		return []string{"hang in " + fn}
	case ClassStackGuard:
		return []string{"stack-overflow in " + fn}
	}
	return []string{}
}

// Replacements of syzkaller's dynamicTitleReplacement (pkg/report/
// report.go): what looks like an address becomes ADDR, a source line
// LINE, "CPU#n" CPU, and a decimal number NUM.
var (
	titleAddrRe = lazyRE(`([^a-zA-Z0-9]|^)(?:0x)?[0-9a-f]{6,}`)
	titleLineRe = lazyRE(`(\.\w+)(:[0-9]+)+`)
	titleSymRe  = lazyRE(`([a-zA-Z][a-zA-Z0-9_.]+)\+0x[0-9a-z]+/0x[0-9a-z]+`)
	titleCPURe  = lazyRE(`CPU#[0-9]+`)
	titleNumRe  = lazyRE(`(\W|^)(\d+)(\W|$)`)
	titleHexRe  = lazyRE(`0x[0-9a-f]+`)
)

// sanitizeTitle makes a message stable across boots.
func sanitizeTitle(t string) string {
	t = titleSymRe.ReplaceAllString(t, "${1}")
	t = titleLineRe.ReplaceAllString(t, "${1}:LINE")
	t = titleAddrRe.ReplaceAllString(t, "${1}ADDR")
	t = titleHexRe.ReplaceAllString(t, "ADDR")
	t = titleCPURe.ReplaceAllString(t, "CPU")
	// Overlapping matches ("0,1,2") need more than one pass; each pass
	// replaces at least one number, and a title is short.
	for i := 0; i < 64; i++ {
		n := titleNumRe.ReplaceAllString(t, "${1}NUM${3}")
		if n == t {
			break
		}
		t = n
	}
	var b strings.Builder
	prev := byte(' ')
	for i := 0; i < len(t) && b.Len() < 120; i++ {
		c := t[i]
		if c == '\t' {
			c = ' '
		}
		if c < 0x20 || c >= 0x7f || (c == ' ' && prev == ' ') {
			continue
		}
		b.WriteByte(c)
		prev = c
	}
	return strings.TrimSpace(b.String())
}
