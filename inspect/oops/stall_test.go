package oops

import (
	"strings"
	"testing"
)

// Lockups, hung tasks, RCU stalls, machine checks and the OOM killer.

// TestSoftLockup: kernel/watchdog.c watchdog_timer_fn() "BUG: soft lockup
// - CPU#%d stuck for %us! [%s:%d]" (pr_fmt "watchdog: "), then
// print_modules() and show_regs() of the interrupted context; with
// softlockup_panic, panic("softlockup: hung tasks") and vpanic()'s own
// stack from the timer interrupt. syzkaller's stall rule names the frame
// above the first dispatcher (process_one_work).
func TestSoftLockup(t *testing.T) {
	a := analyze(t, `
watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [kworker/1:2:123]
Modules linked in: garply(O)
CPU: 1 PID: 123 Comm: kworker/1:2 Tainted: G           O       6.1.0-57-amd64 #1  Debian 6.1.192-3
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
Workqueue: events garply_scan_fn [garply]
RIP: 0010:garply_spin+0x12/0x30 [garply]
Code: 0f 1f 44 00 00 8b 07 85 c0 75 f8 c3 cc cc cc cc 66 0f 1f 44 00 00 0f 1f 44 00 00 f3 90 8b 07 <85> c0 75 f8 c3
RSP: 0018:ffffb5d1c0a3fe68 EFLAGS: 00000202
RAX: 0000000000000001 RBX: ffff9e0a43b1c000 RCX: 0000000000000000
Call Trace:
 <TASK>
 garply_scan_fn+0x3e/0x80 [garply]
 process_one_work+0x1c7/0x380
 worker_thread+0x4d/0x380
 ? rescuer_thread+0x3a0/0x3a0
 kthread+0xd7/0x100
 ? kthread_complete_and_exit+0x20/0x20
 ret_from_fork+0x22/0x30
 </TASK>
Kernel panic - not syncing: softlockup: hung tasks
CPU: 1 PID: 123 Comm: kworker/1:2 Tainted: G           O L     6.1.0-57-amd64 #1  Debian 6.1.192-3
Call Trace:
 <IRQ>
 dump_stack_lvl+0x44/0x5c
 panic+0x118/0x2f4
 watchdog_timer_fn.cold+0x3a/0x3a
 ? lockup_detector_update_enable+0x50/0x50
 __hrtimer_run_queues+0x112/0x2b0
 hrtimer_interrupt+0xf8/0x210
 __sysvec_apic_timer_interrupt+0x59/0x110
 sysvec_apic_timer_interrupt+0x6d/0x90
 </IRQ>
 <TASK>
 asm_sysvec_apic_timer_interrupt+0x16/0x20
RIP: 0010:garply_spin+0x12/0x30 [garply]
 garply_scan_fn+0x3e/0x80 [garply]
 process_one_work+0x1c7/0x380
 </TASK>
`)
	c := check(t, a, want{verdict: "panic", class: ClassSoftLockup, reports: 2, title: "BUG: soft lockup in garply_scan_fn",
		guilty: "garply_scan_fn [garply]", frames: []string{"garply_scan_fn [garply]", "process_one_work", "worker_thread", "kthread", "ret_from_fork"},
		cpu: intp(1), pid: 123, comm: "kworker/1:2", message: "CPU#1 stuck for 22s"})
	if !strings.Contains(a.CauseReason, "last soft-lockup report") {
		t.Errorf("reason %q", a.CauseReason)
	}
	// The panic is a report of its own, named by its message.
	if ps := a.Reports[1].Signature; a.Reports[1].Class != ClassPanic || ps.Title != "kernel panic: softlockup: hung tasks" || ps.GuiltyFrame != "watchdog_timer_fn" {
		t.Errorf("panic's signature %+v", ps)
	}
	if c.Task.Taint.Text != "Tainted: G           O" {
		t.Errorf("taint %q", c.Task.Taint.Text)
	}
}

// hardLockup is the perf NMI watchdog: kernel/watchdog.c
// watchdog_hardlockup_check() (6.7 and later; kernel/watchdog_hld.c with
// pr_fmt "NMI watchdog: " before) "Watchdog detected hard LOCKUP on cpu
// %d", show_regs() of the interrupted context, nmi_panic(regs, "Hard
// LOCKUP").
const hardLockup = `
NMI watchdog: Watchdog detected hard LOCKUP on cpu 3
Modules linked in: waldo(O)
CPU: 3 PID: 2210 Comm: waldo-ctl Tainted: G           O       6.1.0-57-amd64 #1  Debian 6.1.192-3
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
RIP: 0010:native_queued_spin_lock_slowpath+0x66/0x2e0
Code: 00 00 f0 0f ba 2a 08 0f 92 c1 8b 02 0f b6 c9 c1 e1 08 30 e4 09 c8 a9 00 01 ff ff 0f 85 ea 01 00 00 85 c0 74 0e 8b 02 84 c0 74 08 f3 90 <8b> 02 84 c0 75 f8
RSP: 0018:ffffb5d1c0e2bd90 EFLAGS: 00000002
Call Trace:
 <TASK>
 _raw_spin_lock_irqsave+0x39/0x50
 waldo_ioctl+0x4f/0x1a0 [waldo]
 __x64_sys_ioctl+0x8d/0xd0
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
 </TASK>
Kernel panic - not syncing: Hard LOCKUP
CPU: 3 PID: 2210 Comm: waldo-ctl Tainted: G           O       6.1.0-57-amd64 #1  Debian 6.1.192-3
Call Trace:
 <NMI>
 dump_stack_lvl+0x44/0x5c
 panic+0x118/0x2f4
 nmi_panic.cold+0xc/0xc
 watchdog_overflow_callback.cold+0x5c/0x6f
 __perf_event_overflow+0x52/0xf0
 handle_pmi_common+0x1b1/0x370
 intel_pmu_handle_irq+0x10b/0x230
 perf_event_nmi_handler+0x28/0x50
 nmi_handle+0x5b/0x110
 default_do_nmi+0x40/0x100
 exc_nmi+0x12e/0x170
 end_repeat_nmi+0x16/0x67
RIP: 0010:native_queued_spin_lock_slowpath+0x66/0x2e0
 </NMI>
 <TASK>
 _raw_spin_lock_irqsave+0x39/0x50
 waldo_ioctl+0x4f/0x1a0 [waldo]
 __x64_sys_ioctl+0x8d/0xd0
 </TASK>
`

// TestHardLockup: the cause is the lockup report; the spin lock helpers
// are skipped and the ioctl anchor names the driver's handler.
func TestHardLockup(t *testing.T) {
	a := analyze(t, hardLockup)
	check(t, a, want{verdict: "panic", class: ClassHardLockup, reports: 2, title: "watchdog: hard LOCKUP in waldo_ioctl",
		guilty: "waldo_ioctl [waldo]", frames: []string{"waldo_ioctl [waldo]", "__x64_sys_ioctl", "do_syscall_64"},
		cpu: intp(3), message: "hard LOCKUP on cpu 3"})
	// The 6.7 and later prefix.
	a = analyze(t, strings.Replace(hardLockup, "NMI watchdog: ", "watchdog: ", 1))
	check(t, a, want{class: ClassHardLockup, guilty: "waldo_ioctl [waldo]"})
}

// hungTaskLog is a hung task with hung_task_panic set (the formats are
// named at TestHungTask).
const hungTaskLog = `
INFO: task fred_worker:321 blocked for more than 122 seconds.
      Tainted: G           O       6.1.0-57-amd64 #1 Debian 6.1.192-3
"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
task:fred_worker     state:D stack:0     pid:321   ppid:2      flags:0x00004000
Call Trace:
 <TASK>
 __schedule+0x34d/0x9e0
 schedule+0x5a/0xd0
 schedule_preempt_disabled+0x11/0x20
 __mutex_lock.constprop.0+0x399/0x700
 fred_worker_fn+0x2a/0x60 [fred]
 kthread+0xd7/0x100
 ? kthread_complete_and_exit+0x20/0x20
 ret_from_fork+0x22/0x30
 </TASK>
Kernel panic - not syncing: hung_task: blocked tasks
CPU: 0 PID: 35 Comm: khungtaskd Tainted: G           O       6.1.0-57-amd64 #1  Debian 6.1.192-3
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 panic+0x118/0x2f4
 watchdog.cold+0x118/0x118
 ? proc_dohung_task_timeout_secs+0x40/0x40
 kthread+0xd7/0x100
 ret_from_fork+0x22/0x30
 </TASK>
`

// TestHungTask: kernel/hung_task.c check_hung_task() "INFO: task %s:%d
// blocked for more than %ld seconds.", the taint line "      %s %s %.*s%s",
// the hint, kernel/sched/core.c sched_show_task() "task:%-15.15s
// state:%c …" and the task's stack; hung_task_panic's panic("hung_task:
// blocked tasks") from khungtaskd with its own stack.
func TestHungTask(t *testing.T) {
	a := analyze(t, hungTaskLog)
	c := check(t, a, want{verdict: "panic", class: ClassHungTask, reports: 2, title: "INFO: task hung in fred_worker_fn",
		guilty: "fred_worker_fn [fred]", frames: []string{"fred_worker_fn [fred]", "kthread", "ret_from_fork"},
		cpu: intp(-1), pid: 321, comm: "fred_worker", complete: boolp(true)})
	if strings.Join(a.Signature.AltTitles, ",") != "hang in fred_worker_fn" {
		t.Errorf("alt titles %v", a.Signature.AltTitles)
	}
	if c.HungTask == nil || c.HungTask.State != "D" || c.Task.Release != "6.1.0-57-amd64" || c.Task.Taint.Flags[0].Name != "OOT_MODULE" {
		t.Errorf("hung task %+v task %+v", c.HungTask, c.Task)
	}
	// The unwound stack is khungtaskd's, the panicking task: it is
	// compared with the panic's trace, not the hung task's.
	recs := klog(100, 5e9, hungTaskLog)
	b := Analyze(recs, Facts{Stack: []UnwoundFrame{{Function: "__crash_kexec"}, {Function: "panic"}, {Function: "watchdog"}, {Function: "kthread"}, {Function: "ret_from_fork"}}})
	if g := b.StackAgreement; g == nil || !g.Agree || g.Matched != 4 {
		t.Errorf("agreement %+v", g)
	}
	// syzkaller's bucket: a hang in synchronize_rcu is named by it.
	r := Report{Class: ClassHungTask, Trace: []Frame{{Function: "__schedule", Reliable: true}, {Function: "schedule", Reliable: true},
		{Function: "synchronize_rcu_expedited", Reliable: true}, {Function: "plugh_unregister", Reliable: true}}, Complete: true}
	if s := Sign(&r, Facts{}); s.Title != "INFO: task hung in synchronize_rcu" || s.GuiltyFrame != "synchronize_rcu_expedited" {
		t.Errorf("bucket signature %+v", s)
	}
}

// TestRCUStall: kernel/rcu/tree_stall.h print_cpu_stall() "INFO: %s
// self-detected stall on CPU" (pr_fmt "rcu: "), then lib/nmi_backtrace.c
// "NMI backtrace for cpu %d" and the stack from the timer interrupt: the
// interrupted context's registers, then its frames. The stall rule starts
// at the interrupted context and names the frame above vfs_write. Another
// CPU's NMI backtrace comes from another caller.
func TestRCUStall(t *testing.T) {
	a := analyze(t, `
[C1] rcu: INFO: rcu_preempt self-detected stall on CPU
[C1] rcu: 	1-....: (21000 ticks this GP) idle=b2c4/1/0x4000000000000000 softirq=2112/2112 fqs=5249
[C1] 	(t=21001 jiffies g=3181 q=1042 ncpus=2)
[C1] NMI backtrace for cpu 1
[C1] CPU: 1 PID: 4301 Comm: xyzzy Tainted: G           O       6.1.0-57-amd64 #1  Debian 6.1.192-3
[C1] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[C1] Call Trace:
[C1]  <IRQ>
[C1]  dump_stack_lvl+0x44/0x5c
[C1]  nmi_cpu_backtrace.cold+0x30/0x70
[C1]  ? lapic_can_unplug_cpu+0x80/0x80
[C1]  nmi_trigger_cpumask_backtrace+0x10d/0x120
[C1]  rcu_dump_cpu_stacks+0xc0/0xf1
[C1]  rcu_sched_clock_irq.cold+0x6a/0x222
[C1]  update_process_times+0x8c/0xc0
[C1]  tick_sched_handle+0x22/0x60
[C1]  tick_sched_timer+0x6f/0x80
[C1]  __hrtimer_run_queues+0x112/0x2b0
[C1]  hrtimer_interrupt+0xf8/0x210
[C1]  __sysvec_apic_timer_interrupt+0x59/0x110
[C1]  sysvec_apic_timer_interrupt+0x6d/0x90
[C1]  </IRQ>
[C1]  <TASK>
[C1]  asm_sysvec_apic_timer_interrupt+0x16/0x20
[C1] RIP: 0010:xyzzy_scan+0x24/0x60 [xyzzy]
[C1] Code: 48 8b 47 08 48 85 c0 74 0a 48 c7 40 08 00 00 00 00 31 c0 c3 cc cc cc cc <48> 8b 07
[C1] RSP: 0018:ffffb5d1c0e2bd90 EFLAGS: 00000246
[C1] RAX: 0000000000000001 RBX: ffff9e0a43b1c000 RCX: 0000000000000000
[C0] NMI backtrace for cpu 0 skipped: idling at native_safe_halt+0xb/0x10
[C1]  xyzzy_write+0x51/0x90 [xyzzy]
[C1]  vfs_write+0xc7/0x3f0
[C1]  ksys_write+0x6b/0xf0
[C1]  do_syscall_64+0x5d/0xb0
[C1]  entry_SYSCALL_64_after_hwframe+0x6e/0xd8
[C1] RIP: 0033:0x7f3c1e3b2a37
[C1] RSP: 002b:00007ffd9b3c1e08 EFLAGS: 00000246 ORIG_RAX: 0000000000000001
[C1]  </TASK>
[C1] Kernel panic - not syncing: RCU Stall
`)
	c := check(t, a, want{verdict: "panic", class: ClassRCUStall, title: "INFO: rcu detected stall in xyzzy_write",
		guilty: "xyzzy_write [xyzzy]", frames: []string{"xyzzy_write [xyzzy]", "vfs_write", "ksys_write", "do_syscall_64"},
		cpu: intp(1), comm: "xyzzy", message: "rcu_preempt self-detected stall on CPU", complete: boolp(true)})
	if strings.Join(a.Signature.AltTitles, ",") != "stall in xyzzy_write" {
		t.Errorf("alt titles %v", a.Signature.AltTitles)
	}
	if len(c.Registers) != 2 || !c.Registers[0].InTrace || c.Registers[0].IP.Function != "xyzzy_scan" || c.Registers[0].Stack != "TASK" {
		t.Errorf("registers %+v", c.Registers)
	}
}

// TestMachineCheck: arch/x86/kernel/cpu/mce/core.c mce_panic() prints each
// record with __print_mce() (HW_ERR "CPU %d: Machine Check%s: %Lx Bank %d:
// %016Lx", "RIP%s %02x:<%016Lx> {%pS}", "TSC …", "PROCESSOR …"), the
// explanation HW_ERR "Machine check: %s", then panics.
func TestMachineCheck(t *testing.T) {
	a := analyze(t, `
mce: [Hardware Error]: CPU 0: Machine Check Exception: 5 Bank 4: b200000000070005
mce: [Hardware Error]: RIP !INEXACT! 10:<ffffffff8a2b3c4d> {native_safe_halt+0xb/0x10}
mce: [Hardware Error]: TSC 0 ADDR 1234000 MISC 8c
mce: [Hardware Error]: PROCESSOR 0:a0671 TIME 1700000000 SOCKET 0 APIC 0 microcode 1
mce: [Hardware Error]: Machine check: Processor context corrupt
Kernel panic - not syncing: Fatal machine check
Kernel Offset: 0x9000000 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)
`)
	c := check(t, a, want{verdict: "panic", class: ClassMachineCheck, reports: 2, title: "machine check: Processor context corrupt",
		message: "Processor context corrupt", complete: boolp(true)})
	if len(c.Registers) != 1 || c.Registers[0].IP.Function != "native_safe_halt" || c.Registers[0].IP.Address.String() != "0xffffffff8a2b3c4d" {
		t.Errorf("registers %+v", c.Registers)
	}
	if a.Signature.Corrupted || len(a.Signature.Frames) != 0 {
		t.Errorf("signature %+v", a.Signature)
	}
}

// TestOOMPanic: mm/oom_kill.c check_panic_on_oom() calls dump_header()
// ("%s invoked oom-killer: gfp_mask=%#x(%pGg), order=%d, oom_score_adj=%hd"
// and dump_stack()) then panic("Out of memory: %s panic_on_oom is
// enabled\n"). A plain OOM kill before it is listed, not blamed.
func TestOOMPanic(t *testing.T) {
	oom := func(comm string) string {
		return comm + ` invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0
CPU: 0 PID: 612 Comm: ` + comm + ` Not tainted 6.1.0-57-amd64 #1  Debian 6.1.192-3
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 dump_header+0x4a/0x211
 out_of_memory.cold+0xa/0x7e
 __alloc_pages_slowpath.constprop.0+0xc83/0xda0
 __alloc_pages+0x305/0x330
 __folio_alloc+0x16/0x50
 vma_alloc_folio+0x9c/0x370
 do_anonymous_page+0x6d/0x3e0
 __handle_mm_fault+0xa1a/0xb10
 handle_mm_fault+0xdb/0x2d0
 do_user_addr_fault+0x191/0x570
 exc_page_fault+0x70/0x170
 asm_exc_page_fault+0x22/0x30
RIP: 0033:0x55d2c3e1b2a0
 </TASK>
Mem-Info:
active_anon:60234 inactive_anon:1223 isolated_anon:0
`
	}
	a := analyze(t, oom("hog")+"Out of memory: Killed process 612 (hog) total-vm:1050000kB, anon-rss:240000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:600kB oom_score_adj:0\n"+
		oom("hog2")+"Kernel panic - not syncing: Out of memory: compulsory panic_on_oom is enabled\nCPU: 0 PID: 613 Comm: hog2 Not tainted 6.1.0-57-amd64 #1\n")
	check(t, a, want{verdict: "panic", class: ClassOOM, reports: 3, title: "out of memory in vma_alloc_folio", comm: "hog2"})
	if a.Reports[0].Message != "hog invoked oom-killer" || *a.Cause != 1 {
		t.Errorf("first report %q, cause %d", a.Reports[0].Message, *a.Cause)
	}
}

// TestRCUStallOtherCPU: print_other_cpu_stall() "INFO: %s detected stalls
// on CPUs/tasks:" from the detecting CPU, then the stalled CPU's own NMI
// backtrace, printed by that CPU (another caller). The stalled CPU's task
// line and trace are read.
func TestRCUStallOtherCPU(t *testing.T) {
	a := analyze(t, `
[C0] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:
[C0] rcu: 	1-...!: (1 GPs behind) idle=9f4/1/0x4000000000000000 softirq=10/12 fqs=0
[C0] 	(detected by 0, t=5252 jiffies, g=1469, q=21 ncpus=2)
[C0] Sending NMI from CPU 0 to CPUs 1:
[C1] NMI backtrace for cpu 1
[C1] CPU: 1 PID: 512 Comm: spinner Not tainted 6.1.0-57-amd64 #1  Debian 6.1.192-3
[C1] RIP: 0010:spin_forever+0x8/0x10 [spinmod]
[C1] RSP: 0018:ffffb5d1c0e2bd90 EFLAGS: 00000246
[C1] Call Trace:
[C1]  <TASK>
[C1]  spinmod_write+0x1a/0x30 [spinmod]
[C1]  vfs_write+0xc7/0x3f0
[C1]  ksys_write+0x6b/0xf0
[C1]  do_syscall_64+0x5d/0xb0
[C1]  </TASK>
[C0] Kernel panic - not syncing: RCU Stall
`)
	check(t, a, want{verdict: "panic", class: ClassRCUStall, title: "INFO: rcu detected stall in spinmod_write", guilty: "spinmod_write [spinmod]",
		cpu: intp(1), comm: "spinner", message: "rcu_sched detected stalls on CPUs/tasks"})
}

// TestOOMDeadlocked: mm/oom_kill.c out_of_memory() with nothing to kill:
// dump_header(), pr_warn("Out of memory and no killable processes...\n"),
// panic("System is deadlocked on memory\n").
func TestOOMDeadlocked(t *testing.T) {
	a := analyze(t, `
kworker/0:1 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0
CPU: 0 PID: 12 Comm: kworker/0:1 Not tainted 6.1.0-57-amd64 #1  Debian 6.1.192-3
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 dump_header+0x4a/0x211
 out_of_memory+0x3a1/0x550
 __alloc_pages_slowpath.constprop.0+0xc83/0xda0
 __alloc_pages+0x305/0x330
 ballast_fill+0x44/0x90 [ballast]
 process_one_work+0x1c7/0x380
 </TASK>
Out of memory and no killable processes...
Kernel panic - not syncing: System is deadlocked on memory
`)
	check(t, a, want{verdict: "panic", class: ClassOOM, title: "out of memory in ballast_fill", guilty: "ballast_fill [ballast]"})
}

// TestStackMarkers: x86 __show_trace_log_lvl() prints each stack between
// " <%s>" and " </%s>" (stack_type_name(): the exception stacks "#DF",
// "NMI", "#DB", "#MC", "#VC"; "IRQ", "SOFTIRQ", "TASK"); frames carry the
// stack they were printed under.
func TestStackMarkers(t *testing.T) {
	a := analyze(t, `
PANIC: double fault, error_code: 0x0
double fault: 0000 [#1] PREEMPT SMP NOPTI
CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-57-amd64 #1  Debian 6.1.192-3
RIP: 0010:recurse_deep+0x9/0x30 [deep]
Call Trace:
 <#DF>
 ? __die_body+0x1a/0x60
 ? die+0x2a/0x50
 ? exc_double_fault+0x14f/0x160
 ? asm_exc_double_fault+0x1a/0x20
 </#DF>
 <SOFTIRQ>
 recurse_deep+0x1d/0x30 [deep]
 </SOFTIRQ>
 <TASK>
 recurse_deep+0x1d/0x30 [deep]
 deep_init+0x11/0x1000 [deep]
 </TASK>
Kernel panic - not syncing: Machine halted.
`)
	c := check(t, a, want{verdict: "panic", class: ClassDoubleFault, title: "PANIC: double fault in recurse_deep", guilty: "recurse_deep [deep]",
		frames: []string{"recurse_deep [deep]", "recurse_deep [deep]", "deep_init [deep]"}})
	var stacks []string
	for _, f := range c.Trace {
		stacks = append(stacks, f.Stack)
	}
	if strings.Join(stacks, ",") != "#DF,#DF,#DF,#DF,SOFTIRQ,TASK,TASK" {
		t.Errorf("stacks %v", stacks)
	}
}
