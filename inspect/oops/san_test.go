package oops

import (
	"strings"
	"testing"
)

// Sanitizers, scheduling while atomic, panics called directly, and the
// arm64, ppc and s390 forms.

// TestKASAN: mm/kasan/report.c start_report() "====…", print_error_description()
// "BUG: KASAN: %s in %pS" and "%s of size %zu at addr %px by task %s/%d",
// dump_stack_lvl(), then the allocation and free stacks, which are not the
// call trace; check_panic_on_warn("KASAN").
func TestKASAN(t *testing.T) {
	a := analyze(t, `
==================================================================
BUG: KASAN: slab-use-after-free in thud_release+0x5c/0x70 [thud]
Read of size 8 at addr ffff888003c1e010 by task thud_test/211

CPU: 0 PID: 211 Comm: thud_test Tainted: G    B      O       6.6.0 #1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl+0x48/0x70
 print_report+0xd2/0x660
 ? thud_release+0x5c/0x70 [thud]
 kasan_report+0xd4/0x110
 ? thud_release+0x5c/0x70 [thud]
 thud_release+0x5c/0x70 [thud]
 __fput+0x1a0/0x4c0
 __x64_sys_close+0x51/0xa0
 do_syscall_64+0x3f/0x90
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
 </TASK>

Allocated by task 211:
 kasan_save_stack+0x22/0x50
 kasan_set_track+0x25/0x30
 __kasan_kmalloc+0x7f/0x90
 thud_open+0x3a/0x90 [thud]

Freed by task 211:
 kasan_save_stack+0x22/0x50
 kfree+0x7a/0x120
 thud_flush+0x18/0x40 [thud]

The buggy address belongs to the object at ffff888003c1e000
 which belongs to the cache kmalloc-64 of size 64
==================================================================
Kernel panic - not syncing: KASAN: panic_on_warn set ...
`)
	c := check(t, a, want{verdict: "panic", class: ClassKASAN, reports: 2, title: "KASAN: slab-use-after-free Read in thud_release",
		guilty: "thud_release [thud]", frames: []string{"thud_release [thud]", "__fput", "__x64_sys_close", "do_syscall_64"},
		message: "slab-use-after-free", address: "0xffff888003c1e010", complete: boolp(true), comm: "thud_test"})
	if c.Function != "thud_release" || c.FunctionModule != "thud" || c.Access != "Read of size 8" || len(c.Trace) != 10 {
		t.Errorf("report %+v", c)
	}
	if got := strings.Join(a.Signature.Taint, ","); got != "BAD_PAGE,OOT_MODULE" {
		t.Errorf("taint %q", got)
	}
}

// TestUBSAN: lib/ubsan.c ubsan_prologue() prints CUT_HERE (6.x; a line of
// "=" before) and "UBSAN: %s in %s:%d:%d"; the handler's own frames are
// skipped.
func TestUBSAN(t *testing.T) {
	a := analyze(t, `
------------[ cut here ]------------
UBSAN: array-index-out-of-bounds in drivers/misc/frob/frob_main.c:42:17
index 9 is out of range for type 'u32 [8]'
CPU: 2 PID: 77 Comm: frobd Not tainted 6.12.0 #1 PREEMPT(voluntary)
Call Trace:
 <TASK>
 dump_stack_lvl+0x5d/0x80
 __ubsan_handle_out_of_bounds.cold+0x46/0x4b
 frob_fill+0x9e/0xc0 [frob]
 frob_probe+0x41/0x90 [frob]
 platform_probe+0x44/0xa0
 </TASK>
---[ end trace ]---
Kernel panic - not syncing: UBSAN: panic_on_warn set ...
`)
	c := check(t, a, want{verdict: "panic", class: ClassUBSAN, title: "UBSAN: array-index-out-of-bounds in frob_fill", guilty: "frob_fill [frob]"})
	if c.Location != "drivers/misc/frob/frob_main.c:42" {
		t.Errorf("location %q", c.Location)
	}
}

// TestKFENCE: mm/kfence/report.c kfence_report_error() "BUG: KFENCE: %s %s
// in %pS", the access line, the stack without "Call Trace:", the object,
// and the task line last.
func TestKFENCE(t *testing.T) {
	a := analyze(t, `
==================================================================
BUG: KFENCE: use-after-free read in nitz_lookup+0x2c/0x60 [nitz]

Use-after-free read at 0x00000000a1b2c3d4 (in kfence-#12):
 nitz_lookup+0x2c/0x60 [nitz]
 nitz_ioctl+0x8d/0x120 [nitz]
 __x64_sys_ioctl+0x8f/0xd0
 do_syscall_64+0x3f/0x90
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8

kfence-#12: 0x00000000a1b2c3d4-0x000000001a2b3c4d, size=64, cache=kmalloc-64

allocated by task 99 on cpu 1 at 12.345678s:
 __kmem_cache_alloc_node+0x1b0/0x2e0
 nitz_add+0x21/0x80 [nitz]

CPU: 1 PID: 99 Comm: nitzd Not tainted 6.1.0-57-amd64 #1  Debian 6.1.192-3
==================================================================
Kernel panic - not syncing: KFENCE: panic_on_warn set ...
`)
	c := check(t, a, want{verdict: "panic", class: ClassKFENCE, title: "KFENCE: use-after-free read in nitz_lookup", guilty: "nitz_lookup [nitz]",
		frames: []string{"nitz_lookup [nitz]", "nitz_ioctl [nitz]", "__x64_sys_ioctl", "do_syscall_64"}, cpu: intp(1), comm: "nitzd", complete: boolp(true)})
	if len(c.Trace) != 5 || c.Address == nil || c.Address.String() != "0xa1b2c3d4" {
		t.Errorf("trace %d address %v", len(c.Trace), c.Address)
	}
}

// TestSchedulingWhileAtomic: kernel/sched/core.c __schedule_bug() "BUG:
// scheduling while atomic: %s/%d/0x%08x", print_modules(), dump_stack();
// check_panic_on_warn("scheduling while atomic").
func TestSchedulingWhileAtomic(t *testing.T) {
	a := analyze(t, `
BUG: scheduling while atomic: zork_thread/77/0x00000002
Modules linked in: zork(O)
CPU: 1 PID: 77 Comm: zork_thread Tainted: G           O       6.1.0-57-amd64 #1  Debian 6.1.192-3
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 __schedule_bug.cold+0x45/0x56
 __schedule+0x6c3/0x9e0
 schedule+0x5a/0xd0
 schedule_timeout+0x88/0x140
 msleep+0x29/0x40
 zork_poll+0x3c/0x70 [zork]
 kthread+0xd7/0x100
 ret_from_fork+0x22/0x30
 </TASK>
Kernel panic - not syncing: scheduling while atomic: panic_on_warn set ...
`)
	check(t, a, want{verdict: "panic", class: ClassSchedAtomic, title: "BUG: scheduling while atomic in msleep", guilty: "msleep",
		message: "preempt count 0x00000002"})
}

// TestDirectPanics: kernel/panic.c __stack_chk_fail() "stack-protector:
// Kernel stack is corrupted in: %pB", kernel/exit.c make_task_dead() →
// do_exit() "Attempted to kill init! exitcode=0x%08x", and a driver's
// panic(): the panic and its own stack are the crash.
func TestDirectPanics(t *testing.T) {
	stack := `CPU: 0 PID: 1 Comm: init Not tainted 6.1.0-57-amd64 #1  Debian 6.1.192-3
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 panic+0x118/0x2f4
 ? __stack_chk_fail+0x10/0x10
 __stack_chk_fail+0x10/0x10
 bork_parse+0x1a2/0x1b0 [bork]
 bork_ioctl+0x8d/0x120 [bork]
 do_exit.cold+0x14/0x9f
 do_group_exit+0x2d/0x80
 __x64_sys_exit_group+0x14/0x20
 do_syscall_64+0x5d/0xb0
 </TASK>
`
	cases := []struct {
		msg    string
		class  Class
		title  string
		guilty string
	}{
		{"stack-protector: Kernel stack is corrupted in: bork_parse+0x1a2/0x1b0 [bork]", ClassStackProtector,
			"kernel panic: stack is corrupted in bork_parse", "bork_parse [bork]"},
		{"Attempted to kill init! exitcode=0x0000000b", ClassKillInit, "kernel panic: Attempted to kill init!", "bork_parse [bork]"},
		{"VFS: Unable to mount root fs on unknown-block(0,0)", ClassPanic,
			"kernel panic: VFS: Unable to mount root fs on unknown-block(NUM,NUM)", "bork_parse [bork]"},
		{"bork: controller 3 at 0xffffa1b2c3d4e000 wedged on CPU#2", ClassPanic,
			"kernel panic: bork: controller NUM at ADDR wedged on CPU", "bork_parse [bork]"},
	}
	for _, tc := range cases {
		a := analyze(t, "Kernel panic - not syncing: "+tc.msg+"\n"+stack)
		c := check(t, a, want{verdict: "panic", class: tc.class, title: tc.title, guilty: tc.guilty, reports: 1, complete: boolp(true)})
		if c.Message != tc.msg || !strings.Contains(a.CauseReason, "called directly") {
			t.Errorf("%s: message %q reason %q", tc.msg, c.Message, a.CauseReason)
		}
	}
	// After an oops TAINT_DIE is set and vpanic() prints no stack.
	a := analyze(t, "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009\n")
	c := check(t, a, want{verdict: "panic", class: ClassKillInit, title: "kernel panic: Attempted to kill init!"})
	if c.Complete || !strings.Contains(c.Missing[0], "vpanic() prints none") || a.Signature.Corrupted != true {
		t.Errorf("missing %v signature %+v", c.Missing, a.Signature)
	}
}

// TestArm64: arch/arm64/mm/fault.c die_kernel_fault() "Unable to handle
// kernel %s at virtual address %016lx", the abort decoding, arch/arm64/
// kernel/traps.c __die() "Internal error: %s: %016lx [#%d]" " PREEMPT"
// " SMP", process.c __show_regs() "pc : %pS", "lr : %pS", "sp : %016llx",
// "x29: …", stacktrace.c dump_backtrace() "Call trace:" and " %pSb"
// frames, then die()'s panic("%s: Fatal exception", str).
func TestArm64(t *testing.T) {
	a := analyze(t, `
Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008
Mem abort info:
  ESR = 0x0000000096000006
  EC = 0x25: DABT (current EL), IL = 32 bits
Data abort info:
  ISV = 0, ISS = 0x00000006, ISS2 = 0x00000000
user pgtable: 4k pages, 48-bit VAs, pgdp=0000000041d0e000
[0000000000000008] pgd=0800000041d0f003, p4d=0800000041d0f003, pud=0800000041d10003, pmd=0000000000000000
Internal error: Oops: 0000000096000006 [#1] PREEMPT SMP
Modules linked in: blarg(O)
CPU: 2 PID: 311 Comm: cat Tainted: G           O       6.1.0-57-arm64 #1  Debian 6.1.192-3
Hardware name: linux,dummy-virt (DT)
pstate: 60400005 (nZCv daif +PAN -UAO -TCO -DIT -SSBS BTYPE=--)
pc : blarg_show+0x14/0x30 [blarg]
lr : seq_read_iter+0x12c/0x4a0
sp : ffff80000a1b3c60
x29: ffff80000a1b3c60 x28: ffff0000c1a2b300 x27: 0000000000000000
x2 : 0000000000000000 x1 : ffff0000c2b3c000 x0 : 0000000000000000
Call trace:
 blarg_show+0x14/0x30 [blarg]
 seq_read_iter+0x12c/0x4a0
 seq_read+0xe8/0x130
 vfs_read+0xb0/0x1f0
 ksys_read+0x74/0x100
 __arm64_sys_read+0x24/0x30
 invoke_syscall+0x50/0x120
 el0t_64_sync+0x190/0x194
Code: f9400021 f9400400 d503233f d65f03c0 (f9400400)
---[ end trace 0000000000000000 ]---
Kernel panic - not syncing: Oops: Fatal exception
`)
	c := check(t, a, want{verdict: "panic", class: ClassNullDeref, title: "BUG: unable to handle kernel NULL pointer dereference in blarg_show",
		guilty: "blarg_show [blarg]", frames: []string{"blarg_show [blarg]", "seq_read_iter", "seq_read", "vfs_read", "ksys_read", "__arm64_sys_read"},
		cpu: intp(2), comm: "cat", address: "0x8", complete: boolp(true)})
	if c.Oops == nil || c.Oops.Kind != "Oops" || c.Oops.ErrorCode != 0x96000006 || c.Registers[0].Registers["x29"] != 0xffff80000a1b3c60 ||
		c.Registers[0].Registers["x1"] != 0xffff0000c2b3c000 || c.Registers[0].Registers["sp"] != 0xffff80000a1b3c60 ||
		c.Registers[0].IP.Function != "blarg_show" || c.Registers[0].Code == "" {
		t.Errorf("oops %+v registers %+v", c.Oops, c.Registers)
	}
}

// TestPPC: arch/powerpc/mm/fault.c __bad_page_fault() "BUG: %s on %s at
// 0x%08lx", "Faulting instruction address: 0x%08lx", arch/powerpc/kernel/
// traps.c __die() "Oops: %s, sig: %ld [#%d]", process.c show_regs() "NIP
// [%016lx] %pS" and show_stack() "[%lx] [%lx] %pS" frames with
// " (unreliable)".
func TestPPC(t *testing.T) {
	a := analyze(t, `
BUG: Kernel NULL pointer dereference on read at 0x00000010
Faulting instruction address: 0xc008000000a10234
Oops: Kernel access of bad area, sig: 11 [#1]
LE PAGE_SIZE=64K MMU=Radix SMP NR_CPUS=2048 NUMA pSeries
Modules linked in: grunt(O)
CPU: 3 PID: 411 Comm: cat Tainted: G           O       6.1.0-57-powerpc64le #1  Debian 6.1.192-3
NIP:  c008000000a10234 LR: c000000000573c58 CTR: c008000000a10220
GPR00: c000000000573c58 c00000000a1b3b20 c008000000a18000 0000000000000000
NIP [c008000000a10234] grunt_show+0x14/0x40 [grunt]
LR [c000000000573c58] seq_read_iter+0x238/0x690
Call Trace:
[c00000000a1b3b20] [c000000000573c14] seq_read_iter+0x1f4/0x690 (unreliable)
[c00000000a1b3bd0] [c000000000574164] seq_read+0x104/0x160
[c00000000a1b3c80] [c0000000005291ac] vfs_read+0xcc/0x260
[c00000000a1b3cd0] [c000000000529d54] ksys_read+0x84/0x140
--- interrupt: c00 at 0x7fff9e1c1a34
NIP:  00007fff9e1c1a34 LR: 00007fff9e0f3c10 CTR: 0000000000000000
---[ end trace 0000000000000000 ]---
Kernel panic - not syncing: Fatal exception
`)
	c := check(t, a, want{verdict: "panic", class: ClassNullDeref, title: "BUG: unable to handle kernel NULL pointer dereference in grunt_show",
		guilty: "grunt_show [grunt]", frames: []string{"grunt_show [grunt]", "seq_read", "vfs_read", "ksys_read"}, address: "0x10"})
	if c.Oops == nil || c.Oops.Kind != "Kernel access of bad area" || c.Trace[0].Reliable || c.Trace[1].Address.String() != "0xc000000000574164" {
		t.Errorf("oops %+v trace %+v", c.Oops, c.Trace)
	}
	if !c.EndMarker || len(c.Registers) != 2 || !c.Registers[1].InTrace || !c.Registers[1].IP.UserMode {
		t.Errorf("end marker %v registers %+v", c.EndMarker, c.Registers)
	}
}

// TestS390: arch/s390/mm/fault.c "Unable to handle kernel pointer
// dereference in virtual kernel address space", "Failing address: …",
// arch/s390/kernel/dumpstack.c die() "%s: %04x ilc:%d [#%d]",
// show_registers() "Krnl PSW : %px %px (%pSR)", show_stack() " [<%016lx>]
// %pSR " and "([<%016lx>] %pSR)".
func TestS390(t *testing.T) {
	a := analyze(t, `
Unable to handle kernel pointer dereference in virtual kernel address space
Failing address: 0000000000000000 TEID: 0000000000000483
Fault in home space mode while using kernel ASCE.
Oops: 0004 ilc:3 [#1] SMP
Modules linked in: snark(O)
CPU: 0 PID: 99 Comm: snarkd Tainted: G           O       6.1.0-57-s390x #1  Debian 6.1.192-3
Hardware name: IBM 3931 A01 701 (KVM/Linux)
Krnl PSW : 0704c00180000000 000003ff80123456 (snark_work+0x26/0x60 [snark])
           R:0 T:1 IO:1 EX:1 Key:0 M:1 W:0 P:0 AS:3 CC:0 PM:0 RI:0 EA:3
Krnl GPRS: 0000000000000000 0000000000000000 0000000000000000 0000000000000000
Call Trace:
 [<000003ff80123456>] snark_work+0x26/0x60 [snark]
([<000003ff80123440>] snark_work+0x10/0x60 [snark])
 [<0000000000a1b2c4>] process_one_work+0x1fc/0x4b0
 [<0000000000a1b8e2>] worker_thread+0x62/0x490
 [<0000000000a24c1e>] kthread+0x11e/0x130
Last Breaking-Event-Address:
 [<000003ff80123430>] snark_work+0x0/0x60 [snark]
`)
	c := check(t, a, want{verdict: "oops", class: ClassPageFault, title: "BUG: unable to handle kernel paging request in snark_work",
		guilty: "snark_work [snark]", frames: []string{"snark_work [snark]", "process_one_work", "worker_thread", "kthread"}})
	if c.Oops == nil || c.Oops.Kind != "Oops" || c.Trace[1].Reliable {
		t.Errorf("oops %+v trace %+v", c.Oops, c.Trace)
	}
}
