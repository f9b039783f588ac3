package oops

import (
	"strings"
	"testing"
)

// WARN() and the checks that report through it; several reports in one
// log; logs cut short.

// warning61 is WARN_ON() on 6.1: lib/bug.c report_bug() prints CUT_HERE,
// kernel/panic.c __warn() "WARNING: CPU: %d PID: %d at %s:%d %pS", then
// print_modules(), show_regs() and print_oops_end_marker().
const warning61 = `
------------[ cut here ]------------
WARNING: CPU: 0 PID: 88 at drivers/gpu/drm/quux/quux_drv.c:412 quux_vblank_enable+0x5b/0x70 [quux]
Modules linked in: quux(O) drm_kms_helper drm
CPU: 0 PID: 88 Comm: Xorg Tainted: G           O       6.1.0-57-amd64 #1  Debian 6.1.192-3
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
RIP: 0010:quux_vblank_enable+0x5b/0x70 [quux]
Code: 48 8b 83 e8 02 00 00 48 85 c0 74 0c 48 89 df ff d0 5b c3 cc cc cc cc 0f 0b b8 ea ff ff ff 5b c3 cc cc <0f> 0b eb f3
RSP: 0018:ffffb5d1c06dbc78 EFLAGS: 00010246
RAX: 0000000000000000 RBX: ffff9e0a43b1c000 RCX: 0000000000000000
Call Trace:
 <TASK>
 drm_vblank_enable+0x96/0x140 [drm]
 drm_vblank_get+0x7f/0xb0 [drm]
 drm_wait_vblank_ioctl+0x1a8/0x6b0 [drm]
 ? drm_vblank_count_and_time+0x70/0x70 [drm]
 drm_ioctl_kernel+0xc6/0x170 [drm]
 drm_ioctl+0x22f/0x410 [drm]
 __x64_sys_ioctl+0x8d/0xd0
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
 </TASK>
---[ end trace 0000000000000000 ]---
`

// TestWarningThenPanic: a WARNING without panic, later a panic; the panic
// is the crash, both reports are listed, and the WARNING's own signature is
// syzkaller's "WARNING in F" with the WARN site as guilty frame.
func TestWarningThenPanic(t *testing.T) {
	log := warning61 + `
quux: recovered, continuing
sysrq: Trigger a crash
Kernel panic - not syncing: sysrq triggered crash
CPU: 1 PID: 1 Comm: init Tainted: G        W  O       6.1.0-57-amd64 #1  Debian 6.1.192-3
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 panic+0x118/0x2f4
 sysrq_handle_crash+0x16/0x20
 __handle_sysrq.cold+0x44/0x11c
 write_sysrq_trigger+0x24/0x40
 proc_reg_write+0x56/0xa0
 vfs_write+0xc7/0x3f0
 ksys_write+0x6b/0xf0
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
 </TASK>
`
	a := analyze(t, log)
	c := check(t, a, want{verdict: "panic", class: ClassSysrq, reports: 2, title: "kernel panic: sysrq triggered crash",
		guilty: "sysrq_handle_crash", cpu: intp(1), pid: 1, comm: "init"})
	if c.Trigger == "" || *a.Cause != 1 {
		t.Errorf("cause %d trigger %q", *a.Cause, c.Trigger)
	}
	w := a.Reports[0]
	if w.Class != ClassWarning || w.Location != "drivers/gpu/drm/quux/quux_drv.c:412" || w.Function != "quux_vblank_enable" ||
		w.FunctionModule != "quux" || !w.EndMarker || !w.Complete || w.Task.CPU != 0 {
		t.Errorf("warning %+v", w)
	}
	s := Sign(&w, Facts{})
	if s.Title != "WARNING in quux_vblank_enable" || s.GuiltyFrame != "quux_vblank_enable [quux]" ||
		strings.Join(s.Frames, ",") != "quux_vblank_enable [quux],drm_vblank_enable [drm],drm_vblank_get [drm],drm_wait_vblank_ioctl [drm],drm_ioctl_kernel [drm],drm_ioctl [drm]" {
		t.Errorf("warning signature %+v", s)
	}
	if got := strings.Join(a.Signature.Taint, ","); got != "WARN,OOT_MODULE" {
		t.Errorf("panic taint %q", got)
	}
}

// TestPanicOnWarn: kernel/panic.c check_panic_on_warn() panics with
// "%s: panic_on_warn set ..." after __warn() printed the report (before
// 6.2 without the origin); the cause is the WARNING.
func TestPanicOnWarn(t *testing.T) {
	for _, msg := range []string{"kernel: panic_on_warn set ...", "panic_on_warn set ..."} {
		log := strings.Replace(warning61, "---[ end trace 0000000000000000 ]---\n", "", 1) +
			"Kernel panic - not syncing: " + msg + "\n" + `CPU: 0 PID: 88 Comm: Xorg Tainted: G           O       6.1.0-57-amd64 #1  Debian 6.1.192-3
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 panic+0x118/0x2f4
 check_panic_on_warn.cold+0x23/0x23
 __warn+0x9f/0x160
 ? quux_vblank_enable+0x5b/0x70 [quux]
 report_bug+0x1c5/0x1e0
 handle_bug+0x3c/0x70
 exc_invalid_op+0x14/0x70
 asm_exc_invalid_op+0x16/0x20
RIP: 0010:quux_vblank_enable+0x5b/0x70 [quux]
 drm_vblank_enable+0x96/0x140 [drm]
 </TASK>
`
		a := analyze(t, log)
		check(t, a, want{verdict: "panic", class: ClassWarning, reports: 2, title: "WARNING in quux_vblank_enable", guilty: "quux_vblank_enable [quux]"})
		if !strings.Contains(a.CauseReason, "last warning report") {
			t.Errorf("%s: reason %q", msg, a.CauseReason)
		}
	}
}

// TestRefcountWarning: lib/refcount.c refcount_warn_saturate() is
// WARN_ONCE(1, "refcount_t: underflow; use-after-free.\n"): CUT_HERE and
// the message come from __warn_printk() before the WARNING line. The
// refcount functions are skipped (syzkaller's "WARNING: refcount bug in
// F").
func TestRefcountWarning(t *testing.T) {
	a := analyze(t, `
------------[ cut here ]------------
refcount_t: underflow; use-after-free.
WARNING: CPU: 3 PID: 5120 at lib/refcount.c:28 refcount_warn_saturate+0xba/0x110
Modules linked in: corge
CPU: 3 PID: 5120 Comm: corged Not tainted 6.1.0-57-amd64 #1  Debian 6.1.192-3
RIP: 0010:refcount_warn_saturate+0xba/0x110
RSP: 0018:ffffb5d1c06dbd38 EFLAGS: 00010286
Call Trace:
 <TASK>
 corge_put_session+0x5e/0x70 [corge]
 corge_release+0x1d/0x40 [corge]
 __fput+0x95/0x270
 task_work_run+0x5c/0x90
 exit_to_user_mode_prepare+0x1e6/0x1f0
 syscall_exit_to_user_mode+0x1b/0x40
 do_syscall_64+0x69/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
 </TASK>
---[ end trace 0000000000000000 ]---
Kernel panic - not syncing: kernel: panic_on_warn set ...
`)
	c := check(t, a, want{class: ClassRefcount, title: "WARNING: refcount bug in corge_put_session", guilty: "corge_put_session [corge]",
		message: "refcount_t: underflow; use-after-free."})
	if c.FirstSeq != 100 || c.Lines < 10 {
		t.Errorf("report starts at seq %d (%d lines), want the cut-here line 100", c.FirstSeq, c.Lines)
	}
}

// TestListCorruption: lib/list_debug.c CHECK_DATA_CORRUPTION() WARNs
// ("list_add corruption. …" before the WARNING line), or with
// CONFIG_BUG_ON_DATA_CORRUPTION prints the message and BUG()s; both are
// syzkaller's "BUG: corrupted list in F" with the list helpers skipped.
func TestListCorruption(t *testing.T) {
	trace := `Call Trace:
 <TASK>
 grault_queue_req+0x4c/0x90 [grault]
 grault_submit+0x2e/0x60 [grault]
 blk_mq_dispatch_rq_list+0x1a0/0x7c0
 </TASK>
`
	warn := `
------------[ cut here ]------------
list_add corruption. next->prev should be prev (ffff9e0a43b1c0a8), but was ffff9e0a43b1c2a8. (next=ffff9e0a43b1c0a8).
WARNING: CPU: 1 PID: 51 at lib/list_debug.c:30 __list_add_valid_or_report+0x9a/0xd0
CPU: 1 PID: 51 Comm: kworker/1:1H Not tainted 6.6.0 #1
RIP: 0010:__list_add_valid_or_report+0x9a/0xd0
` + trace + "---[ end trace 0000000000000000 ]---\nKernel panic - not syncing: kernel: panic_on_warn set ...\n"
	bug := `
list_del corruption, ffff9e0a43b1c0a8->next is LIST_POISON1 (dead000000000100)
------------[ cut here ]------------
kernel BUG at lib/list_debug.c:56!
invalid opcode: 0000 [#1] PREEMPT SMP NOPTI
CPU: 1 PID: 51 Comm: kworker/1:1H Not tainted 6.6.0 #1
RIP: 0010:__list_del_entry_valid_or_report.cold+0x4b/0x6f
` + trace + "---[ end trace 0000000000000000 ]---\nKernel panic - not syncing: Fatal exception\n"
	for name, log := range map[string]string{"warn": warn, "bug": bug} {
		a := analyze(t, log)
		c := check(t, a, want{class: ClassListCorruption, title: "BUG: corrupted list in grault_queue_req", guilty: "grault_queue_req [grault]"})
		if name == "warn" && !strings.HasPrefix(c.Message, "list_add corruption.") {
			t.Errorf("message %q", c.Message)
		}
	}
}

// TestCutInTheMiddle: the dump was taken (or the ring read) while the oops
// was being printed: the report stops inside its call trace. What is there
// is reported and the analysis says it is incomplete.
func TestCutInTheMiddle(t *testing.T) {
	i := strings.Index(nullDerefModule61, " ? __fget_light")
	a := analyze(t, nullDerefModule61[:i])
	c := check(t, a, want{verdict: "oops", class: ClassNullDeref, complete: boolp(false), guilty: "foo_write [foo]",
		frames: []string{"foo_write [foo]", "proc_reg_write", "vfs_write"}})
	if !a.Incomplete || !a.Signature.Corrupted || strings.Join(c.Missing, ",") != "end of call trace" {
		t.Errorf("incomplete %v corrupted %v missing %v", a.Incomplete, a.Signature.Corrupted, c.Missing)
	}
	// Cut before the trace: the header and registers only.
	i = strings.Index(nullDerefModule61, "Call Trace:")
	a = analyze(t, nullDerefModule61[:i])
	c = check(t, a, want{verdict: "oops", complete: boolp(false), guilty: "foo_write [foo]", frames: []string{"foo_write [foo]"}})
	if strings.Join(c.Missing, ",") != "call trace" {
		t.Errorf("missing %v", c.Missing)
	}
	// Cut after "BUG: …" and "#PF:" lines: no die() header yet, no frame.
	i = strings.Index(nullDerefModule61, "PGD 0")
	a = analyze(t, nullDerefModule61[:i])
	c = check(t, a, want{verdict: "oops", class: ClassNullDeref, complete: boolp(false),
		title: "BUG: unable to handle kernel NULL pointer dereference"})
	if strings.Join(c.Missing, ",") != "die() header,task line,call trace" || !a.Signature.Corrupted || a.Signature.GuiltyFrame != "" {
		t.Errorf("missing %v signature %+v", c.Missing, a.Signature)
	}
}

// TestRingWrapped: the oldest records are gone, the log starts inside the
// oops's trace: the panic names a cause the log no longer holds.
func TestRingWrapped(t *testing.T) {
	i := strings.Index(nullDerefModule61, " ksys_write")
	a := analyze(t, nullDerefModule61[i:])
	c := check(t, a, want{verdict: "panic", class: ClassPanic, title: "kernel panic: Fatal exception"})
	if !a.Incomplete || !a.Signature.Corrupted || c.Message != "Fatal exception" {
		t.Errorf("incomplete %v signature %+v", a.Incomplete, a.Signature)
	}
}

// TestInterleavedCallers: with CONFIG_PRINTK_CALLER another task's lines
// fall inside the oops; they are not read into it.
func TestInterleavedCallers(t *testing.T) {
	var b strings.Builder
	for i, l := range strings.Split(strings.Trim(nullDerefModule61, "\n"), "\n") {
		b.WriteString("[T211] " + l + "\n")
		if i == 20 {
			b.WriteString("[T7] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex\n")
			b.WriteString("[T7]  e1000e_watchdog_task+0x1/0x2 [e1000e]\n")
			b.WriteString("[T7] CPU: 3 PID: 7 Comm: kworker/3:0 Not tainted 6.1.0-57-amd64 #1\n")
		}
	}
	a := analyze(t, b.String())
	c := check(t, a, want{verdict: "panic", class: ClassNullDeref, cpu: intp(1), guilty: "foo_write [foo]"})
	if c.Interleaved != 3 || c.Caller != "T211" || len(c.Trace) != 6 {
		t.Errorf("interleaved %d caller %q trace %d", c.Interleaved, c.Caller, len(c.Trace))
	}
	if !strings.Contains(a.CauseReason, "same caller T211") {
		t.Errorf("reason %q", a.CauseReason)
	}
}

// TestSeveralOopses: an oops the kernel survived (its task was killed),
// later a second one that panics; the cause is the last oops before the
// panic line, not the first one.
func TestSeveralOopses(t *testing.T) {
	end := "---[ end trace 0000000000000000 ]---\n"
	first := nullDerefModule61[:strings.Index(nullDerefModule61, end)+len(end)]
	a := analyze(t, first+pageFault612Kdump+end+"Kernel panic - not syncing: Fatal exception\n")
	check(t, a, want{verdict: "panic", class: ClassPageFault, reports: 3, guilty: "bar_walk_table"})
	if *a.Cause != 1 || a.Reports[0].Class != ClassNullDeref || !a.Reports[0].EndMarker {
		t.Errorf("cause %d, reports %s", *a.Cause, classes(a))
	}
}

// TestStaleCutHere: a "cut here" whose WARNING line was lost does not
// lend its message to a report much later.
func TestStaleCutHere(t *testing.T) {
	log := "------------[ cut here ]------------\nsomething odd\n" + strings.Repeat("eth0: link up\n", 40) + kernelBUG61
	log = strings.Replace(log, "------------[ cut here ]------------\nkernel BUG", "kernel BUG", 1)
	a := analyze(t, log)
	if len(a.Reports) != 1 || a.Reports[0].Message != "" || a.Reports[0].FirstSeq != 143 {
		t.Errorf("reports %+v", a.Reports)
	}
}

// TestWarningForms: kernel/panic.c __warn()'s WARNING line through the
// versions: before 3.11 "WARNING: at %s:%d %pS()", 3.11 – 6.17
// "WARNING: CPU: %d PID: %d at %s:%d %pS" (with "()" until 4.x, without
// the file when the bug table has none), 6.18 "WARNING: %s:%d at %pS,
// CPU#%d: %s/%d".
func TestWarningForms(t *testing.T) {
	for line, want := range map[string][2]string{
		"WARNING: at net/core/dev.c:1234 dev_watchdog+0x25a/0x270()":                                               {"net/core/dev.c:1234", "dev_watchdog"},
		"WARNING: CPU: 2 PID: 0 at net/sched/sch_generic.c:477 dev_watchdog+0x25a/0x270()":                         {"net/sched/sch_generic.c:477", "dev_watchdog"},
		"WARNING: CPU: 2 PID: 0 at dev_watchdog+0x25a/0x270":                                                       {"", "dev_watchdog"},
		"WARNING: CPU: 2 PID: 9 at drivers/x/y.c:10 y_probe+0x5/0x20 [y 00112233445566778899aabbccddeeff00112233]": {"drivers/x/y.c:10", "y_probe"},
		"WARNING: net/sched/sch_generic.c:477 at dev_watchdog+0x25a/0x270, CPU#2: swapper/2/0":                     {"net/sched/sch_generic.c:477", "dev_watchdog"},
		"WARNING: at dev_watchdog+0x25a/0x270, CPU#2: swapper/2/0":                                                 {"", "dev_watchdog"},
	} {
		h, ok := matchHeader(line)
		if !ok || h.class != ClassWarning || h.location != want[0] || symbolName(h.function) != want[1] {
			t.Errorf("%q: %v %+v", line, ok, h)
		}
	}
}

// TestCauseBehindAnotherReport: "Fatal exception" names an oops; a WARNING
// printed between them is not the cause, and the analysis says a report
// lies in between.
func TestCauseBehindAnotherReport(t *testing.T) {
	a := analyze(t, kernelBUG61+warning61+"Kernel panic - not syncing: Fatal exception\n")
	check(t, a, want{verdict: "panic", class: ClassKernelBUG, reports: 3})
	if *a.Cause != 0 || !strings.Contains(strings.Join(a.Notes, ";"), "1 other reports lie between") {
		t.Errorf("cause %d notes %v", *a.Cause, a.Notes)
	}
}
