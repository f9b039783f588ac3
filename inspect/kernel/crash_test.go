package kernel

import (
	"bytes"
	"debug/elf"
	"fmt"
	"sort"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// Synthetic kernels written into real ELF dumps (dumptest's writer), read
// back through the reader and the engine: the crash analysis end to end,
// from the bytes of the printk ring, kallsyms and the kernel's variables
// to the signature.

// synthBoot is one boot of a synthetic x86_64 kernel: where KASLR put it,
// and what its log and variables hold.
type synthBoot struct {
	name       string
	physBase   uint64 // the kernel image's physical address
	pageOffset uint64 // the direct map's base
	log        []string
	callers    []uint32 // printk caller ids, one per line (0: none)
	tsBase     uint64   // the first record's time
	// The variables: panic_cpu and crashing_cpu (-1: none), tainted_mask,
	// panic()'s buffer; the pid and comm of the task on each CPU.
	panicCPU, crashingCPU int32
	taint                 uint64
	panicBuf              string
	pids                  [2]int32
	crashRIP              [2]bool // the CPU's rip is in __crash_kexec
	extraSyms             []ksym  // more symbols (ambiguity tests)
}

// The synthetic kernel's link layout: the text map covers 16 MiB from
// startKernelMap at physBase.
const (
	synthStext   uint64 = startKernelMap + 0x200000
	synthTables  uint64 = startKernelMap + 0x400000 // kallsyms
	synthVars    uint64 = startKernelMap + 0x600000 // .data and .bss
	synthPRB            = synthVars + 0x1000
	synthBuf            = synthVars + 0x2100 // panic()'s buf.2
	synthRing           = 0x3800000          // physical: the printk rings, through the direct map
	synthPerCPU         = 0x3c00000          // physical: the per-CPU areas, 1 MiB each
	synthTasks          = 0x3e00000          // physical: task_structs
	synthCurrent        = 0x1fb80            // the per-CPU offset of current_task
)

func synthSymbols(b synthBoot) []ksym {
	syms := []ksym{
		{"current_task", 'D', synthCurrent, true},
		{"_text", 'T', synthStext, false},
		{"_stext", 'T', synthStext, false},
		{"__crash_kexec", 'T', synthStext + 0x1000, false},
		{"native_safe_halt", 't', synthStext + 0x2000, false},
		{"_etext", 'T', synthStext + 0x100000, false},
		{"__per_cpu_offset", 'D', synthVars, false},
		{"panic_cpu", 'D', synthVars + 0x40, false},
		{"crashing_cpu", 'D', synthVars + 0x48, false},
		{"prb", 'D', synthPRB, false},
		{"panic_on_oops", 'B', synthVars + 0x20c0, false},
		{"spin_counter.0", 'b', synthVars + 0x20e0, false},
		{"buf.1", 'b', synthVars + 0x20f0, false},
		{"buf.2", 'b', synthBuf, false},
		{"cpus_stopped.3", 'b', synthBuf + 0x400, false},
		{"pause_on_oops", 'b', synthBuf + 0x408, false},
		{"tainted_mask", 'b', synthBuf + 0x410, false},
		{"die_counter", 'b', synthBuf + 0x418, false},
		{"kexec_crash_image", 'B', synthBuf + 0x420, false},
		{"_end", 'B', synthVars + 0x10000, false},
	}
	syms = append(syms, b.extraSyms...)
	sort.SliceStable(syms, func(i, j int) bool {
		if syms[i].percpu != syms[j].percpu {
			return syms[i].percpu
		}
		return syms[i].addr < syms[j].addr
	})
	return syms
}

// synthMemory lays out the boot's memory: page tables, kallsyms, the
// printk ring, the variables, the tasks' stacks. It returns the memory,
// the VMCOREINFO text and each CPU's (pid, rip, rsp).
func synthMemory(t testing.TB, b synthBoot) (*pageMem, string, [2][3]uint64) {
	t.Helper()
	mem := newPageMem()
	pt := newPTBuilder(mem, modeX8664L4, b.physBase+0x800000)
	for off := uint64(0); off < 16<<20; off += 2 << 20 {
		pt.mapPage(startKernelMap+off, b.physBase+off, 2<<20, pteRW|pteG)
	}
	for off := uint64(0); off < 64<<20; off += 2 << 20 {
		pt.mapPage(b.pageOffset+off, off, 2<<20, pteRW|pteNX)
	}
	text := func(va uint64) uint64 { return va - startKernelMap + b.physBase }
	// kallsyms, written at the physical addresses of its text-map VAs.
	a := kallsymsAddrs{names: text(synthTables), numSyms: text(synthTables + 0x30000), tokenTable: text(synthTables + 0x31000),
		tokenIndex: text(synthTables + 0x32000), offsets: text(synthTables + 0x40000), relativeBase: text(synthTables + 0x30008), ptrSize: 8}
	(&kallsymsWriter{mem: mem, a: a, mode: "absolute-percpu", base: synthStext}).write(synthSymbols(b))
	// The printk ring: written at virtual addresses, then placed where
	// the page tables map them.
	vmem := newPageMem()
	l := layoutOf(t, "x86_64", strings.Replace(prbInfo64, "SYMBOL(prb)=ffffffff80a1a010", fmt.Sprintf("SYMBOL(prb)=%x", synthPRB), 1))
	w := &prbWriter{mem: vmem, l: l, ptr: 8, countBits: 8, sizeBits: 16, tsBase: b.tsBase,
		rb: synthPRB + 0x100, descs: b.pageOffset + synthRing, infos: b.pageOffset + synthRing + 0x10000,
		data: b.pageOffset + synthRing + 0x40000, longMask: ^uint64(0)}
	recs := make([]prbRec, len(b.log))
	for i, line := range b.log {
		recs[i] = prbRec{text: line, level: 4, state: descFinalized}
		if i < len(b.callers) {
			recs[i].caller = b.callers[i]
		}
	}
	w.write(recs)
	// The variables.
	put32 := func(va uint64, v uint32) { vmem.put32(va, v) }
	put32(synthVars+0x40, uint32(b.panicCPU))
	put32(synthVars+0x48, uint32(b.crashingCPU))
	vmem.put64(synthBuf+0x410, b.taint)
	vmem.write(synthBuf, append([]byte(b.panicBuf), 0))
	vmem.put64(synthBuf+0x420, b.pageOffset+synthTasks+0x10000)
	// The tasks and their stacks (THREAD_SIZE-aligned 16 KiB), with a
	// return address into panic's caller on the crashing CPU's stack.
	vmem.write(b.pageOffset+synthTasks, make([]byte, 0x4000))
	for cpu := uint64(0); cpu < 2; cpu++ {
		if b.crashRIP[cpu] {
			vmem.put64(b.pageOffset+synthTasks+cpu*0x2000+0x1f40, synthStext+0x1010)
		}
		area := b.pageOffset + synthPerCPU + cpu<<20
		vmem.put64(synthVars+8*cpu, area)
		vmem.put64(area+synthCurrent, b.pageOffset+synthTasks+cpu*0x2000)
	}
	for pg, data := range vmem.pages {
		va := pg * 4096
		pa := va - b.pageOffset
		if va >= startKernelMap {
			pa = text(va)
		}
		mem.write(pa, data)
	}
	var cpus [2][3]uint64
	for cpu := 0; cpu < 2; cpu++ {
		cpus[cpu] = [3]uint64{uint64(b.pids[cpu]), synthStext + 0x2010, b.pageOffset + synthTasks + uint64(cpu)*0x2000 + 0x1f00}
		if b.crashRIP[cpu] {
			cpus[cpu][1] = synthStext + 0x111a
		}
	}
	vmci := fmt.Sprintf("OSRELEASE=6.1.0-synth\nBUILD-ID=00112233445566778899aabbccddeeff00112233\nPAGESIZE=4096\n"+
		"SYMBOL(init_top_pgt)=%x\nSYMBOL(_stext)=%x\nNUMBER(phys_base)=%d\nNUMBER(pgtable_l5_enabled)=0\n"+
		"SYMBOL(kallsyms_names)=%x\nSYMBOL(kallsyms_num_syms)=%x\nSYMBOL(kallsyms_token_table)=%x\n"+
		"SYMBOL(kallsyms_token_index)=%x\nSYMBOL(kallsyms_offsets)=%x\nSYMBOL(kallsyms_relative_base)=%x\n",
		startKernelMap+pt.root-b.physBase, synthStext, int64(b.physBase),
		synthTables, synthTables+0x30000, synthTables+0x31000, synthTables+0x32000, synthTables+0x40000, synthTables+0x30008)
	vmci += strings.Replace(prbInfo64, "SYMBOL(prb)=ffffffff80a1a010", fmt.Sprintf("SYMBOL(prb)=%x", synthPRB), 1)
	return mem, vmci, cpus
}

// synthDump writes the boot's memory into an ELF dump and opens it.
func synthDump(t *testing.T, b synthBoot) reader.Dump {
	t.Helper()
	mem, vmci, cpus := synthMemory(t, b)
	// The dump: one PT_LOAD per run of pages, prstatus notes, VMCOREINFO.
	var pfns []uint64
	for pfn := range mem.pages {
		pfns = append(pfns, pfn)
	}
	sort.Slice(pfns, func(i, j int) bool { return pfns[i] < pfns[j] })
	var segs []dumptest.ELFSegment
	for i := 0; i < len(pfns); {
		j := i
		var data []byte
		for ; j < len(pfns) && pfns[j] == pfns[i]+uint64(j-i); j++ {
			data = append(data, mem.pages[pfns[j]]...)
		}
		segs = append(segs, dumptest.ELFSegment{Paddr: pfns[i] * 4096, Data: data})
		i = j
	}
	var notes []dumptest.ELFNote
	for _, c := range cpus {
		regs := make([]uint64, 27)
		regs[16], regs[19] = c[1], c[2] // rip, rsp
		notes = append(notes, dumptest.ELFNote{Name: "CORE", Type: 1, Desc: dumptest.PrstatusX8664(le, int32(c[0]), regs)})
	}
	notes = append(notes, dumptest.ELFNote{Name: "VMCOREINFO", Desc: []byte(vmci)})
	core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Order: le, Machine: elf.EM_X86_64, Notes: notes, Segments: segs}
	data, _ := core.Bytes()
	d, err := open.Sources(reader.Source{Name: b.name, R: bytes.NewReader(data), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func synthCrash(t *testing.T, b synthBoot) *model.CrashAnalysis {
	t.Helper()
	k, err := New(synthDump(t, b))
	if err != nil {
		t.Fatal(err)
	}
	a, err := k.Crash(bg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// moduleOops is a page fault in a module's function followed by panic():
// arch/x86/mm/fault.c show_fault_oops(), arch/x86/kernel/dumpstack.c
// __die(), lib/dump_stack.c dump_stack_print_info(), show_regs() and the
// trace, oops_end() and panic("Fatal exception"). fn is the faulting
// function; addr, pid, cpu and regs vary between boots.
func moduleOops(fn string, addr uint64, cpu, pid int, kaslr uint64) []string {
	return strings.Split(strings.TrimSpace(fmt.Sprintf(`
BUG: unable to handle page fault for address: %016x
#PF: supervisor read access in kernel mode
#PF: error_code(0x0000) - not-present page
PGD 0 P4D 0
Oops: 0000 [#1] PREEMPT SMP NOPTI
CPU: %d PID: %d Comm: bar_test Kdump: loaded Tainted: G           O       6.1.0-synth #1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2 04/01/2014
RIP: 0010:%s+0x3e/0x120 [bar]
Code: 48 89 fb 48 83 ec 08 8b 47 10 85 c0 74 4b 45 31 e4 <48> 8b 45 00 48 85 c0 74 17
RSP: 0018:ffffc90000a9fe00 EFLAGS: 00010282
RAX: %016x RBX: ffff88810a2b3c00 RCX: 0000000000000000
Call Trace:
 <TASK>
 ? __die+0x23/0x70
 ? page_fault_oops+0x171/0x4e0
 bar_read+0x2b/0x70 [bar]
 vfs_read+0xc7/0x3f0
 ksys_read+0x6b/0xf0
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
 </TASK>
Modules linked in: bar(O)
CR2: %016x
---[ end trace 0000000000000000 ]---
Kernel panic - not syncing: Fatal exception
Kernel Offset: %#x from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)`,
		addr, cpu, pid, fn, addr, addr, kaslr)), "\n")
}

// TestCrashSameBugTwoBoots: the same oops in two boots (another KASLR
// layout, other addresses, timestamps, pids and CPUs) gets the same
// signature hash through the reader, the engine and the analysis; another
// faulting function gets another hash.
func TestCrashSameBugTwoBoots(t *testing.T) {
	boots := []synthBoot{
		{name: "boot-a.vmcore", physBase: 0x1000000, pageOffset: pageOffsetL4, tsBase: 5e9,
			log: append([]string{"Linux version 6.1.0-synth", "bar: loading out-of-tree module taints kernel."},
				moduleOops("bar_walk_table", 0xffffa1b2c3d4e000, 1, 211, 0x1e000000)...),
			panicCPU: 1, crashingCPU: 1, taint: 1<<12 | 1<<7, panicBuf: "Fatal exception", pids: [2]int32{0, 211}, crashRIP: [2]bool{false, true}},
		{name: "boot-b.vmcore", physBase: 0x2000000, pageOffset: 0xffff9a0000000000, tsBase: 917e9,
			log: append([]string{"Linux version 6.1.0-synth", "random: crng init done", "bar: loading out-of-tree module taints kernel."},
				moduleOops("bar_walk_table", 0xffffb3c4d5e6f000, 0, 4242, 0x2c400000)...),
			panicCPU: 0, crashingCPU: 0, taint: 1<<12 | 1<<7, panicBuf: "Fatal exception", pids: [2]int32{4242, 0}, crashRIP: [2]bool{true, false}},
	}
	a := synthCrash(t, boots[0])
	b := synthCrash(t, boots[1])
	for i, x := range []*model.CrashAnalysis{a, b} {
		s := x.Why.Signature
		if s == nil || s.Title != "BUG: unable to handle kernel paging request in bar_walk_table" || s.GuiltyFrame != "bar_walk_table [bar]" || s.Corrupted {
			t.Fatalf("boot %d: signature %+v (%s)", i, s, x.Why.CauseReason)
		}
		if x.Why.Verdict != model.CrashPanic || x.Why.PanicMessageFrom != "log and memory" || x.Why.Class != "page-fault" {
			t.Errorf("boot %d: why %+v", i, x.Why)
		}
		want := boots[i].panicCPU
		if x.Where.CPU == nil || *x.Where.CPU != int(want) || x.Where.PID == nil || *x.Where.PID != int64(boots[i].pids[want]) || x.Where.Comm != "bar_test" {
			t.Errorf("boot %d: where cpu %v pid %v comm %q", i, ptrStr(x.Where.CPU), ptrStr(x.Where.PID), x.Where.Comm)
		}
		task := model.VirtAddr(boots[i].pageOffset + synthTasks + uint64(want)*0x2000)
		if x.Where.Task == nil || *x.Where.Task != task {
			t.Errorf("boot %d: task %v, want %s", i, x.Where.Task, task)
		}
		if len(x.Where.StackScan) != 1 || !strings.HasPrefix(x.Where.StackScan[0].Symbol, "__crash_kexec+0x10/") {
			t.Errorf("boot %d: stack scan %+v", i, x.Where.StackScan)
		}
		if x.Memory.Taint == nil || x.Memory.Taint.Text != "Tainted: G      D    O" || len(x.Notes) != 0 || len(x.Problems) != 0 {
			t.Errorf("boot %d: taint %+v notes %v problems %v", i, x.Memory.Taint, x.Notes, x.Problems)
		}
	}
	if a.Why.Signature.Hash != b.Why.Signature.Hash {
		t.Errorf("same bug, two hashes:\n%s\n%s", a.Why.Signature.Canonical, b.Why.Signature.Canonical)
	}
	other := boots[0]
	other.log = append([]string{"Linux version 6.1.0-synth"}, moduleOops("bar_free_table", 0xffffa1b2c3d4e000, 1, 211, 0x1e000000)...)
	if c := synthCrash(t, other); c.Why.Signature == nil || c.Why.Signature.Hash == a.Why.Signature.Hash {
		t.Errorf("another bug, the same hash: %+v", c.Why.Signature)
	}
}

// TestCrashLogLostPanic: the ring holds no panic line (it wrapped, or the
// dump was taken before printk got to it), but panic()'s buffer and
// panic_cpu still say what happened and where.
func TestCrashLogLostPanic(t *testing.T) {
	b := synthBoot{name: "lost.vmcore", physBase: 0x1000000, pageOffset: pageOffsetL4,
		log:      []string{"Linux version 6.1.0-synth", "random: crng init done"},
		panicCPU: 1, crashingCPU: 1, panicBuf: "VFS: Unable to mount root fs on unknown-block(0,0)",
		pids: [2]int32{0, 1}, crashRIP: [2]bool{false, true}}
	a := synthCrash(t, b)
	if a.Why.Verdict != model.CrashPanic || a.Why.PanicMessage != b.panicBuf || a.Why.PanicMessageFrom != "memory" ||
		!strings.Contains(a.Why.CauseReason, "the log lost the line") {
		t.Errorf("why %+v", a.Why)
	}
	if a.Where.CPU == nil || *a.Where.CPU != 1 || !strings.Contains(a.Where.CPUFrom, "panic_cpu") ||
		a.Where.PID == nil || *a.Where.PID != 1 || !strings.Contains(a.Where.TaskFrom, "prstatus") {
		t.Errorf("where %+v", a.Where)
	}
	// Without panic_cpu and crashing_cpu, the saved rip in __crash_kexec.
	b.panicCPU, b.crashingCPU = -1, -1
	a = synthCrash(t, b)
	if a.Where.CPU == nil || *a.Where.CPU != 1 || !strings.Contains(a.Where.CPUFrom, "crash path") {
		t.Errorf("crash path: %+v", a.Where)
	}
	// A second 1024-byte "buf" among panic.c's statics: which one is
	// panic()'s cannot be told, and none is read.
	b.extraSyms = []ksym{{"buf.7", 'b', synthBuf + 0x428, false}, {"warn_count", 'b', synthBuf + 0x828, false}}
	a = synthCrash(t, b)
	if a.Memory.PanicMessage != "" || !strings.Contains(strings.Join(a.Problems, "\n"), "2 candidate \"buf\" symbols") {
		t.Errorf("ambiguous buffer: %q %v", a.Memory.PanicMessage, a.Problems)
	}
}

// TestCrashNoCrash: a log without a report and variables at rest.
func TestCrashNoCrash(t *testing.T) {
	a := synthCrash(t, synthBoot{name: "idle.vmcore", physBase: 0x1000000, pageOffset: pageOffsetL4,
		log: []string{"Linux version 6.1.0-synth"}, panicCPU: -1, crashingCPU: -1, pids: [2]int32{0, 0}})
	if a.Why.Verdict != model.CrashNone || a.Why.Signature != nil || a.Where.CPU != nil || a.Memory.PanicCPU != nil || a.Memory.PanicMessage != "" {
		t.Errorf("why %+v where %+v memory %+v", a.Why, a.Where, a.Memory)
	}
	if !strings.Contains(strings.Join(a.Memory.Read, "\n"), "is empty: panic() was not called") {
		t.Errorf("read %v", a.Memory.Read)
	}
}

// TestMemoryCPU: each kind of evidence names the crashing CPU when the log
// has no task line, strongest first.
func TestMemoryCPU(t *testing.T) {
	one, two := 1, 2
	panicLine := func(caller string) []model.LogRecord {
		return []model.LogRecord{{Text: "Kernel panic - not syncing: x", Caller: caller}, {Text: "later"}}
	}
	for _, c := range []struct {
		name string
		mf   memFacts
		log  []model.LogRecord
		want int // -1: none
		from string
	}{
		{"panic_cpu first", memFacts{CrashMemory: model.CrashMemory{PanicCPU: &one, CrashingCPU: &two, CrashPathCPUs: []int{2}}}, nil, 1, "panic_cpu"},
		{"crashing_cpu", memFacts{CrashMemory: model.CrashMemory{CrashingCPU: &two, CrashPathCPUs: []int{1}}}, nil, 2, "crashing_cpu"},
		{"crash path", memFacts{CrashMemory: model.CrashMemory{CrashPathCPUs: []int{1}, SignalledCPUs: []int{2}}}, nil, 1, "crash path"},
		{"two on the crash path", memFacts{CrashMemory: model.CrashMemory{CrashPathCPUs: []int{0, 1}}}, nil, -1, "all on the crash path"},
		{"signal", memFacts{CrashMemory: model.CrashMemory{SignalledCPUs: []int{2}}}, nil, 2, "signal"},
		{"printk caller CPU", memFacts{}, panicLine("C3"), 3, "printk caller C3"},
		{"printk caller task", memFacts{pids: map[int]int64{0: 0, 1: 77}}, panicLine("T77"), 1, "task 77"},
		{"idle task pid 0 names no CPU", memFacts{pids: map[int]int64{0: 0, 1: 0}}, panicLine("T0"), -1, "unknown"},
		{"nothing", memFacts{}, nil, -1, "unknown"},
	} {
		got, from := memoryCPU(&c.mf, c.log)
		if (got == nil) != (c.want < 0) || (got != nil && *got != c.want) || !strings.Contains(from, c.from) {
			t.Errorf("%s: cpu %v (%s), want %d (%s)", c.name, ptrStr(got), from, c.want, c.from)
		}
	}
}

func TestCText(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"sysrq triggered crash\x00\x00garbage", "sysrq triggered crash", true},
		{"", "", true},
		{"line\n\x00", "line", true},
		{"bad\x01byte\x00", "", false},
		{"no NUL at all", "no NUL at all", true},
	} {
		got, ok := cText([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("%q: %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestCrashHungTask: a hung-task panic (kernel/hung_task.c with
// hung_task_panic): the crashing task is khungtaskd, which panicked; the
// blocked task is named in Why, and the signature is its stack's.
func TestCrashHungTask(t *testing.T) {
	log := strings.Split(strings.TrimSpace(`
INFO: task fred_worker:321 blocked for more than 122 seconds.
      Tainted: G           O       6.1.0-synth #1
"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
task:fred_worker     state:D stack:0     pid:321   ppid:2      flags:0x00004000
Call Trace:
 <TASK>
 __schedule+0x34d/0x9e0
 schedule+0x5a/0xd0
 __mutex_lock.constprop.0+0x399/0x700
 fred_worker_fn+0x2a/0x60 [fred]
 kthread+0xd7/0x100
 ret_from_fork+0x22/0x30
 </TASK>
Kernel panic - not syncing: hung_task: blocked tasks
CPU: 0 PID: 35 Comm: khungtaskd Tainted: G           O       6.1.0-synth #1
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 panic+0x118/0x2f4
 watchdog.cold+0x118/0x118
 kthread+0xd7/0x100
 ret_from_fork+0x22/0x30
 </TASK>`), "\n")
	a := synthCrash(t, synthBoot{name: "hung.vmcore", physBase: 0x1000000, pageOffset: pageOffsetL4, log: log,
		panicCPU: 0, crashingCPU: 0, taint: 1 << 12, panicBuf: "hung_task: blocked tasks", pids: [2]int32{35, 0}, crashRIP: [2]bool{true, false}})
	if a.Why.Class != "hung-task" || a.Why.HungTask == nil || a.Why.HungTask.Comm != "fred_worker" || a.Why.HungTask.PID != 321 || a.Why.HungTask.State != "D" {
		t.Errorf("why %+v", a.Why)
	}
	if s := a.Why.Signature; s == nil || s.Title != "INFO: task hung in fred_worker_fn" || s.GuiltyFrame != "fred_worker_fn [fred]" {
		t.Errorf("signature %+v", s)
	}
	if a.Where.CPU == nil || *a.Where.CPU != 0 || a.Where.PID == nil || *a.Where.PID != 35 || a.Where.Comm != "khungtaskd" || len(a.Notes) != 0 {
		t.Errorf("where %+v notes %v", a.Where, a.Notes)
	}
}
