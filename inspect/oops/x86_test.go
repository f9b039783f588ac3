package oops

import (
	"strings"
	"testing"
)

// x86 oopses: page faults, general protection faults, BUG(), traps.

// nullDerefModule61 is a NULL pointer write in a module on Linux 6.1,
// panic_on_oops set and no crash kernel: arch/x86/mm/fault.c
// show_fault_oops() ("BUG: kernel NULL pointer dereference, address: %px",
// "#PF: %s %s in %s mode", "#PF: error_code(0x%04lx) - %s"), the page
// table walk, arch/x86/kernel/dumpstack.c __die_header() ("%s: %04lx
// [#%d]%s%s%s%s%s") and __die_body() (show_regs(), print_modules()),
// lib/dump_stack.c dump_stack_print_info(), show_ip() and
// arch/x86/kernel/process_64.c __show_regs(), show_trace_log_lvl(), then
// page_fault_oops() "CR2: %016lx", oops_end(): oops_exit()'s end marker,
// the executive summary, panic("Fatal exception"), the panic notifier's
// "Kernel Offset:" and vpanic()'s end marker.
const nullDerefModule61 = `
foo: loading out-of-tree module taints kernel.
BUG: kernel NULL pointer dereference, address: 0000000000000008
#PF: supervisor write access in kernel mode
#PF: error_code(0x0002) - not-present page
PGD 0 P4D 0
Oops: 0002 [#1] PREEMPT SMP NOPTI
CPU: 1 PID: 211 Comm: foo_test Tainted: G           O       6.1.0-57-amd64 #1  Debian 6.1.192-3
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
RIP: 0010:foo_write.cold+0x16/0x30 [foo]
Code: 00 00 00 0f 1f 44 00 00 48 8b 47 08 48 85 c0 74 0a 48 c7 40 08 00 00 00 00 31 c0 c3 cc cc cc cc <48> c7 04 25 08 00 00 00 01 00 00 00 0f 0b
RSP: 0018:ffffb0f2c0c73e28 EFLAGS: 00010246
RAX: 0000000000000000 RBX: ffff8e80c2a3f000 RCX: 0000000000000000
RDX: 0000000000000000 RSI: 00007ffd9b3c1e20 RDI: ffff8e80c2a3f000
RBP: ffffb0f2c0c73e60 R08: 0000000000000000 R09: 0000000000000000
R10: 0000000000000000 R11: 0000000000000000 R12: 0000000000000004
R13: ffff8e80c1b4c700 R14: 00007ffd9b3c1e20 R15: ffffb0f2c0c73f08
FS:  00007f3c1e2b6740(0000) GS:ffff8e80fdd00000(0000) knlGS:0000000000000000
CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033
CR2: 0000000000000008 CR3: 0000000002a4e000 CR4: 00000000000006e0
Call Trace:
 <TASK>
 proc_reg_write+0x56/0xa0
 vfs_write+0xc7/0x3f0
 ? __fget_light+0x98/0x100
 ksys_write+0x6b/0xf0
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
RIP: 0033:0x7f3c1e3b2a37
Code: 10 00 f7 d8 64 89 02 48 c7 c0 ff ff ff ff eb b7 0f 1f 00 f3 0f 1e fa 64 8b 04 25 18 00 00 00 85 c0 75 10 b8 01 00 00 00 0f 05 <48> 3d 00 f0 ff ff 77 51 c3 48 83 ec 28 48 89 54 24 18 48 89 74 24
RSP: 002b:00007ffd9b3c1e08 EFLAGS: 00000246 ORIG_RAX: 0000000000000001
RAX: ffffffffffffffda RBX: 0000000000000004 RCX: 00007f3c1e3b2a37
RDX: 0000000000000004 RSI: 00007ffd9b3c1e20 RDI: 0000000000000003
RBP: 00007ffd9b3c1e20 R08: 0000000000000000 R09: 0000000000000000
R10: 0000000000000000 R11: 0000000000000246 R12: 0000000000000004
R13: 000055d2c3e1b2a0 R14: 0000000000000004 R15: 00007f3c1e48b9a0
 </TASK>
Modules linked in: foo(O) qemu_fw_cfg [last unloaded: bar]
CR2: 0000000000000008
---[ end trace 0000000000000000 ]---
RIP: 0010:foo_write.cold+0x16/0x30 [foo]
Code: 00 00 00 0f 1f 44 00 00 48 8b 47 08 48 85 c0 74 0a 48 c7 40 08 00 00 00 00 31 c0 c3 cc cc cc cc <48> c7 04 25 08 00 00 00 01 00 00 00 0f 0b
RSP: 0018:ffffb0f2c0c73e28 EFLAGS: 00010246
RAX: 0000000000000000 RBX: ffff8e80c2a3f000 RCX: 0000000000000000
CR2: 0000000000000008 CR3: 0000000002a4e000 CR4: 00000000000006e0
Kernel panic - not syncing: Fatal exception
Kernel Offset: 0x1e000000 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)
---[ end Kernel panic - not syncing: Fatal exception ]---
`

// TestNullDerefInModule: an oops in a module; the cause of "Fatal
// exception" is the oops before it; the module frame is the guilty one.
func TestNullDerefInModule(t *testing.T) {
	a := analyze(t, nullDerefModule61)
	c := check(t, a, want{verdict: "panic", class: ClassNullDeref, reports: 2,
		title:  "BUG: unable to handle kernel NULL pointer dereference in foo_write",
		guilty: "foo_write [foo]", frames: []string{"foo_write [foo]", "proc_reg_write", "vfs_write", "ksys_write", "do_syscall_64"},
		cpu: intp(1), pid: 211, comm: "foo_test", address: "0x8", complete: boolp(true)})
	if c.Oops == nil || c.Oops.Kind != "Oops" || c.Oops.ErrorCode != 2 || c.Oops.Count != 1 || strings.Join(c.Oops.Flags, " ") != "PREEMPT SMP NOPTI" {
		t.Errorf("oops header %+v", c.Oops)
	}
	if c.Access != "supervisor write access in kernel mode; error_code(0x0002) - not-present page" {
		t.Errorf("access %q", c.Access)
	}
	if len(c.Task.Taint.Flags) != 1 || c.Task.Taint.Flags[0].Name != "OOT_MODULE" || c.Task.Taint.Flags[0].Bit != 12 {
		t.Errorf("taint %+v", c.Task.Taint)
	}
	if strings.Join(c.Modules, " ") != "foo qemu_fw_cfg" {
		t.Errorf("modules %q", c.Modules)
	}
	if len(c.Registers) != 2 || c.Registers[0].InTrace || c.Registers[0].IP.Function != "foo_write.cold" ||
		c.Registers[0].IP.Module != "foo" || c.Registers[0].Registers["cr2"] != 8 || c.Registers[0].Registers["ss"] != 0x18 {
		t.Fatalf("registers %+v", c.Registers)
	}
	if u := c.Registers[1]; !u.InTrace || u.AfterFrame != 6 || !u.IP.UserMode || u.IP.Address == nil || u.Registers["orig_rax"] != 1 {
		t.Errorf("user registers %+v", u)
	}
	if !c.EndMarker || len(c.Trace) != 6 || c.Trace[2].Reliable || c.Trace[0].Stack != "TASK" {
		t.Errorf("trace %+v end %v", c.Trace, c.EndMarker)
	}
	if !a.Panic.EndMarker || a.Panic.Message != "Fatal exception" || a.KernelOffset == nil || *a.KernelOffset != 0x1e000000 {
		t.Errorf("panic %+v offset %v", a.Panic, a.KernelOffset)
	}
	if s := a.Signature; strings.Join(s.Modules, ",") != "foo" || strings.Join(s.Taint, ",") != "OOT_MODULE" || s.Release != "6.1.0-57-amd64" || s.Corrupted ||
		strings.Join(s.AltTitles, ",") != "bad-access in foo_write" {
		t.Errorf("signature %+v", s)
	}
}

// pageFault612Kdump is a paging request on Linux 6.12 with a crash kernel
// loaded: lib/dump_stack.c's "CPU: %d UID: %u PID: %d …" task line with
// the build id (CONFIG_STACKTRACE_BUILD_ID) and print_tainted_verbose();
// __die_header()'s "Oops: %s: %04lx [#%d]" (6.12: "Oops: Oops: …"). The
// kdump jump happens in oops_end() before oops_exit(): no end marker, no
// panic line.
const pageFault612Kdump = `
BUG: unable to handle page fault for address: ffffa1b2c3d4e000
#PF: supervisor read access in kernel mode
#PF: error_code(0x0000) - not-present page
PGD 100000067 P4D 100000067 PUD 0
Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI
CPU: 3 UID: 0 PID: 1042 Comm: kworker/3:1 Kdump: loaded Tainted: G        W          6.12.0-1-amd64 #1 Debian 6.12.9-1 6f2bc0b5d1b0e4b0c3b7c6e1e6f5a4d3c2b1a090
Tainted: [W]=WARN
Hardware name: Dell Inc. PowerEdge R650/0Y2K8N, BIOS 1.9.2 10/20/2022
Workqueue: events bar_refresh_work
RIP: 0010:bar_walk_table+0x3e/0x120
Code: 48 89 fb 48 83 ec 08 8b 47 10 85 c0 74 4b 45 31 e4 48 8b 43 08 4a 8b 2c e0 48 85 ed 74 2e 4c 89 e6 48 89 df e8 b4 fe ff ff <48> 8b 45 00 48 85 c0 74 17 48 89 c7 e8 a3 fe ff ff 49 83 c4 01 44
RSP: 0018:ffffc90000a9fe00 EFLAGS: 00010282
RAX: ffffa1b2c3d4e000 RBX: ffff88810a2b3c00 RCX: 0000000000000000
RDX: 0000000000000001 RSI: 0000000000000000 RDI: ffff88810a2b3c00
RBP: ffffa1b2c3d4e000 R08: 0000000000000000 R09: 0000000000000000
R10: 0000000000000000 R11: 0000000000000000 R12: 0000000000000003
R13: ffff88810a2b3c08 R14: ffff888100a3d405 R15: ffff88810a2b3c80
FS:  0000000000000000(0000) GS:ffff88846fd80000(0000) knlGS:0000000000000000
CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033
CR2: ffffa1b2c3d4e000 CR3: 000000010a822004 CR4: 0000000000770ef0
PKRU: 55555554
Call Trace:
 <TASK>
 ? __die+0x23/0x70
 ? page_fault_oops+0x171/0x4e0
 ? exc_page_fault+0x81/0x190
 ? asm_exc_page_fault+0x26/0x30
 ? bar_walk_table+0x3e/0x120
 bar_refresh_work+0x2b/0x70
 process_one_work+0x179/0x390
 worker_thread+0x251/0x360
 ? __pfx_worker_thread+0x10/0x10
 kthread+0xd2/0x100
 ? __pfx_kthread+0x10/0x10
 ret_from_fork+0x34/0x50
 ? __pfx_kthread+0x10/0x10
 ret_from_fork_asm+0x1a/0x30
 </TASK>
Modules linked in: nft_chain_nat xt_MASQUERADE nf_nat
CR2: ffffa1b2c3d4e000
`

// TestPageFault612Kdump: the 6.12 forms, and an oops that jumped to the
// crash kernel without a panic line.
func TestPageFault612Kdump(t *testing.T) {
	a := analyze(t, pageFault612Kdump)
	c := check(t, a, want{verdict: "oops", class: ClassPageFault, reports: 1,
		title: "BUG: unable to handle kernel paging request in bar_walk_table", guilty: "bar_walk_table",
		frames: []string{"bar_walk_table", "bar_refresh_work", "process_one_work", "worker_thread", "kthread", "ret_from_fork"},
		cpu:    intp(3), pid: 1042, comm: "kworker/3:1", address: "0xffffa1b2c3d4e000", complete: boolp(true)})
	if a.Panicked || c.EndMarker {
		t.Errorf("panicked %v end marker %v", a.Panicked, c.EndMarker)
	}
	if c.Oops == nil || c.Oops.Kind != "Oops" || c.Oops.Count != 1 {
		t.Errorf("oops header %+v", c.Oops)
	}
	task := c.Task
	if task.UID == nil || *task.UID != 0 || !task.KdumpLoaded || task.Release != "6.12.0-1-amd64" ||
		task.BuildID != "6f2bc0b5d1b0e4b0c3b7c6e1e6f5a4d3c2b1a090" || task.Extra != "Debian 6.12.9-1" {
		t.Errorf("task line %+v", task)
	}
	if task.Taint.Text != "Tainted: [W]=WARN" || len(task.Taint.Flags) != 1 || task.Taint.Flags[0].Name != "WARN" {
		t.Errorf("taint %+v", task.Taint)
	}
	if !strings.Contains(a.CauseReason, "crash kernel was loaded") {
		t.Errorf("reason %q", a.CauseReason)
	}
	if a.Signature.BuildID != task.BuildID {
		t.Errorf("build id %q", a.Signature.BuildID)
	}
}

// gpf612 is a general protection fault on 6.12: arch/x86/kernel/traps.c
// exc_general_protection() builds die_addr()'s str from GPFSTR ",
// probably for non-canonical address 0x%lx", and __die_header() prints it
// after "Oops: ". The oops is in interrupt context: oops_end() panics with
// "Fatal exception in interrupt".
const gpf612 = `
Oops: general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1] PREEMPT SMP NOPTI
CPU: 0 UID: 0 PID: 0 Comm: swapper/0 Not tainted 6.12.0 #4 PREEMPT(voluntary)
Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.3-2 04/01/2014
RIP: 0010:baz_rx_complete+0x52/0x1a0 [baz]
Code: 8b 43 28 48 8b 53 20 48 89 42 08 48 89 10 48 b8 00 01 00 00 00 00 ad de 48 89 43 20 48 83 c0 22 48 89 43 28 4c 89 ef e8 <48> 8b 55 00 48 85 d2
RSP: 0018:ffffc90000003e80 EFLAGS: 00010086
RAX: dead000000000122 RBX: ffff888104c2e000 RCX: 0000000000000000
RDX: dead000000000100 RSI: 0000000000000000 RDI: ffff888104c2e028
RBP: ffff888104c2e000 R08: 0000000000000000 R09: 0000000000000000
R10: 0000000000000000 R11: 0000000000000000 R12: ffff888104c2e028
R13: ffff888104c2e028 R14: 0000000000000000 R15: 0000000000000000
FS:  0000000000000000(0000) GS:ffff88813bc00000(0000) knlGS:0000000000000000
CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033
CR2: 00007f22bc1e0000 CR3: 000000010211c000 CR4: 00000000000006f0
Call Trace:
 <IRQ>
 ? die_addr+0x36/0x90
 ? exc_general_protection+0x1c5/0x430
 ? asm_exc_general_protection+0x26/0x30
 baz_irq+0x8e/0xd0 [baz]
 __handle_irq_event_percpu+0x45/0x1a0
 handle_irq_event+0x3a/0x80
 handle_edge_irq+0x8f/0x230
 __common_interrupt+0x42/0xa0
 common_interrupt+0x80/0xa0
 </IRQ>
 <TASK>
 asm_common_interrupt+0x26/0x40
RIP: 0010:default_idle+0xf/0x20
Code: 4c 01 c7 4c 29 c2 e9 72 ff ff ff 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 f3 0f 1e fa eb 07 0f 00 2d d3 e4 2e 00 fb f4 <fa> c3 cc cc cc cc 66 66 2e 0f 1f 84 00 00 00 00 00 90 90 90 90 90
RSP: 0018:ffffffff82c03e98 EFLAGS: 00000246
RAX: ffff88813bc00000 RBX: ffffffff82c18940 RCX: 0000000000000000
RDX: 4000000000000000 RSI: 0000000000000000 RDI: 0000000000061b24
RBP: 0000000000000000 R08: 0000000000000000 R09: 0000000000000000
R10: 0000000000000000 R11: 0000000000000000 R12: 0000000000000000
R13: 0000000000000000 R14: 0000000000000000 R15: 0000000000000000
 default_idle_call+0x2c/0xe0
 do_idle+0x226/0x270
 cpu_startup_entry+0x2a/0x30
 rest_init+0xd0/0xd0
 start_kernel+0x8d5/0xb00
 x86_64_start_reservations+0x18/0x30
 x86_64_start_kernel+0xc6/0xe0
 common_startup_64+0x13e/0x141
 </TASK>
Modules linked in: baz(E)
---[ end trace 0000000000000000 ]---
RIP: 0010:baz_rx_complete+0x52/0x1a0 [baz]
Kernel panic - not syncing: Fatal exception in interrupt
Kernel Offset: disabled
`

// TestGPFInInterrupt: the GPF's address comes from die()'s str; the
// interrupted idle context inside the trace is a register block, and its
// instruction pointer a frame.
func TestGPFInInterrupt(t *testing.T) {
	a := analyze(t, gpf612)
	c := check(t, a, want{verdict: "panic", class: ClassGPF, reports: 2,
		title: "general protection fault in baz_rx_complete", guilty: "baz_rx_complete [baz]",
		frames: []string{"baz_rx_complete [baz]", "baz_irq [baz]", "__handle_irq_event_percpu", "handle_irq_event", "handle_edge_irq", "__common_interrupt"},
		cpu:    intp(0), pid: 0, comm: "swapper/0", address: "0xdead000000000122", complete: boolp(true)})
	if c.Task.Extra != "PREEMPT(voluntary)" || c.Task.Taint.Text != "Not tainted" {
		t.Errorf("task %+v", c.Task)
	}
	var idle *Frame
	for i := range c.Trace {
		if c.Trace[i].FromRegisters {
			idle = &c.Trace[i]
		}
	}
	if idle == nil || idle.Function != "default_idle" || idle.Stack != "TASK" {
		t.Errorf("interrupted context frame %+v", idle)
	}
	if c.Trace[3].Stack != "IRQ" {
		t.Errorf("frame 3 on stack %q", c.Trace[3].Stack)
	}
	if a.KernelOffset != nil {
		t.Errorf("kernel offset %v from \"disabled\"", a.KernelOffset)
	}
}

// kernelBUG61 is BUG_ON() on 6.1: lib/bug.c report_bug() prints CUT_HERE
// and "kernel BUG at %s:%u!", then arch/x86/kernel/traps.c
// handle_invalid_op() dies with "invalid opcode".
const kernelBUG61 = `
------------[ cut here ]------------
kernel BUG at fs/qux/inode.c:1234!
invalid opcode: 0000 [#1] PREEMPT SMP PTI
CPU: 2 PID: 977 Comm: qux-flush Not tainted 6.1.0-57-amd64 #1  Debian 6.1.192-3
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
RIP: 0010:qux_evict_inode.cold+0x5/0x7
Code: 0f 0b 48 c7 c7 10 a2 4b 82 e8 2a 11 ff ff 0f 0b 48 c7 c6 00 00 00 00 48 c7 c7 40 a2 4b 82 e8 14 11 ff ff 0f 0b 0f 0b <0f> 0b 48 c7 c7 88 a2 4b 82 e8 01 11 ff ff 0f 0b
RSP: 0018:ffffa33c40b7fd40 EFLAGS: 00010246
RAX: 0000000000000000 RBX: ffff9b1c8a3e2000 RCX: 0000000000000000
Call Trace:
 <TASK>
 evict+0xc6/0x1b0
 qux_flush_one+0x95/0x160
 qux_flush_worker+0x71/0xf0
 kthread+0xd7/0x100
 ? kthread_complete_and_exit+0x20/0x20
 ret_from_fork+0x22/0x30
 </TASK>
Modules linked in:
---[ end trace 0000000000000000 ]---
`

// TestKernelBUG: BUG() then die("invalid opcode") is one report of class
// kernel-bug; it ran to its end marker and no panic followed, so the
// kernel survived it.
func TestKernelBUG(t *testing.T) {
	a := analyze(t, kernelBUG61)
	if a.Verdict != "none" || a.Cause != nil || len(a.Reports) != 1 {
		t.Fatalf("verdict %q cause %v reports %s", a.Verdict, a.Cause, classes(a))
	}
	r := a.Reports[0]
	if r.Class != ClassKernelBUG || r.Location != "fs/qux/inode.c:1234" || r.Oops == nil || r.Oops.Kind != "invalid opcode" ||
		r.FirstSeq != 100 || !r.Complete || !r.EndMarker {
		t.Errorf("report %+v", r)
	}
	s := Sign(&r, Facts{})
	if s.Title != "kernel BUG in qux_evict_inode" || s.GuiltyFrame != "qux_evict_inode" {
		t.Errorf("signature %+v", s)
	}
	// Dumped by kdump from oops_end() instead: no end marker.
	a = analyze(t, strings.Replace(kernelBUG61, "---[ end trace 0000000000000000 ]---\n", "", 1))
	check(t, a, want{verdict: "oops", class: ClassKernelBUG, title: "kernel BUG in qux_evict_inode"})
}

// TestTraps: the traps whose die() header opens the report by itself
// (arch/x86/kernel/traps.c: do_error_trap() "divide error", "invalid
// opcode", "stack segment"; exc_double_fault() "PANIC: double fault,
// error_code: 0x%lx" then die("double fault") and panic("Machine
// halted.")), in the 6.1 and the 6.12 header forms.
func TestTraps(t *testing.T) {
	body := `
CPU: 1 PID: 300 Comm: trapper Tainted: G           OE      6.1.0-57-amd64 #1  Debian 6.1.192-3
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
RIP: 0010:trap_here+0x1c/0x40 [trapmod]
Code: 00 00 0f 1f 44 00 00 31 d2 89 f8 f7 f6 c3 cc cc cc cc 66 0f 1f 44 00 00 0f 1f 44 00 00 <f7> f1 c3 cc cc
RSP: 0018:ffffb0f2c0c73e28 EFLAGS: 00010246
Call Trace:
 <TASK>
 trap_caller+0x12/0x30 [trapmod]
 do_one_initcall+0x44/0x220
 do_init_module+0x4c/0x230
 __do_sys_finit_module+0xac/0x120
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
 </TASK>
`
	cases := []struct {
		head, tail string
		class      Class
		title      string
	}{
		{"divide error: 0000 [#1] PREEMPT SMP NOPTI", "", ClassDivideError, "divide error in trap_here"},
		{"Oops: divide error: 0000 [#1] PREEMPT SMP NOPTI", "", ClassDivideError, "divide error in trap_here"},
		{"invalid opcode: 0000 [#1] PREEMPT SMP NOPTI", "", ClassInvalidOpcode, "invalid opcode in trap_here"},
		{"Oops: stack segment: 0000 [#1] PREEMPT SMP NOPTI", "", ClassStackSegment, "stack segment fault in trap_here"},
		{"PANIC: double fault, error_code: 0x0\ndouble fault: 0000 [#1] PREEMPT SMP NOPTI", "Kernel panic - not syncing: Machine halted.", ClassDoubleFault, "PANIC: double fault in trap_here"},
	}
	for _, tc := range cases {
		a := analyze(t, tc.head+body+tc.tail)
		verdict := "oops"
		if tc.tail != "" {
			verdict = "panic"
		}
		c := check(t, a, want{verdict: verdict, class: tc.class, title: tc.title, guilty: "trap_here [trapmod]", complete: boolp(true),
			frames: []string{"trap_here [trapmod]", "trap_caller [trapmod]", "do_one_initcall", "do_init_module", "__do_sys_finit_module", "do_syscall_64"}})
		if c.Oops == nil {
			t.Errorf("%s: no die header", tc.head)
		}
		if s := a.Signature; strings.Join(s.Taint, ",") != "OOT_MODULE,UNSIGNED_MODULE" {
			t.Errorf("%s: taint %v", tc.head, s.Taint)
		}
	}
}

// TestOldNullDerefSysrq: the 4.x show_fault_oops() printed "BUG: unable
// to handle kernel NULL pointer dereference at %p" (a NULL %p as "(null)"
// padded) and "IP: %pS"; sysrq_handle_crash() then crashed by writing
// through NULL, and __handle_sysrq() printed "SysRq : Trigger a crash"
// first.
func TestOldNullDerefSysrq(t *testing.T) {
	a := analyze(t, `
SysRq : Trigger a crash
BUG: unable to handle kernel NULL pointer dereference at           (null)
IP: sysrq_handle_crash+0x16/0x20
PGD 7a8f1067 P4D 7a8f1067 PUD 7a8f0067 PMD 0
Oops: 0002 [#1] SMP PTI
Modules linked in: nls_utf8 isofs
CPU: 0 PID: 1471 Comm: bash Not tainted 4.14.0-3-amd64 #1 Debian 4.14.17-1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.10.2-1 04/01/2014
task: ffff8f0e7a9b1000 task.stack: ffffa5c0c0c48000
RIP: 0010:sysrq_handle_crash+0x16/0x20
RSP: 0018:ffffa5c0c0c4be60 EFLAGS: 00010246
RAX: 0000000000000000 RBX: 0000000000000063 RCX: 0000000000000000
Call Trace:
 __handle_sysrq+0x9e/0x160
 write_sysrq_trigger+0x2b/0x30
 proc_reg_write+0x39/0x60
 __vfs_write+0x33/0x160
 vfs_write+0xb1/0x1a0
 SyS_write+0x52/0xc0
 entry_SYSCALL_64_fastpath+0x1a/0xa5
Code: 34 e8 8e 94 d5 ff 48 c7 c7 a0 2b 0d 9a e8 52 45 bc ff e9 6d ff ff ff 0f 1f 44 00 00 c7 05 a9 cf e4 00 01 00 00 00 0f ae f8 <c6> 04 25 00 00 00 00 01 c3 0f 1f 44 00 00 e8 8b ff ff ff 48
RIP: sysrq_handle_crash+0x16/0x20 RSP: ffffa5c0c0c4be60
CR2: 0000000000000000
`)
	c := check(t, a, want{verdict: "oops", class: ClassNullDeref, address: "0x0", cpu: intp(0), comm: "bash",
		title:  "BUG: unable to handle kernel NULL pointer dereference in sysrq_handle_crash",
		guilty: "sysrq_handle_crash", frames: []string{"sysrq_handle_crash", "__handle_sysrq", "write_sysrq_trigger", "proc_reg_write", "__vfs_write", "vfs_write"}})
	if c.Trigger != "SysRq : Trigger a crash" {
		t.Errorf("trigger %q", c.Trigger)
	}
}
