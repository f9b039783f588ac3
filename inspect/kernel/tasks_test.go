package kernel

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"dumpscope/model"
)

// A writer-made task world: struct task_struct and signal_struct with a
// small layout of their own (the walker takes member offsets from BTF, so
// any layout will do), linked as the kernel links them.

const (
	worldBase = 0x100000 // where the world's memory starts
	taskSize  = 256      // sizeof(struct task_struct) here
)

// worldLayout is the test's task_struct; threadGroup selects the list of
// kernels before 3.14 instead of signal->thread_head.
func worldLayout(threadGroup bool) *taskReader {
	f := func(off, size uint64) field { return field{off: off, size: size, ok: true} }
	tr := &taskReader{initTask: worldBase, size: taskSize,
		tasks: f(0, 16), pid: f(16, 4), tgid: f(20, 4), state: f(24, 4), exitState: f(28, 4), flags: f(32, 4),
		parent: f(40, 8), stack: f(48, 8), threadSP: f(56, 8), mm: f(64, 8), signal: f(72, 8),
		cpu: f(96, 4), prio: f(100, 4), comm: f(104, 16), startTime: f(120, 8), kthreadByFlag: true}
	if threadGroup {
		tr.threadGroup = f(80, 16)
	} else {
		tr.threadNode, tr.threadHead = f(80, 16), f(0, 16)
	}
	return tr
}

// sched61 are Linux 6.1's state bits (include/linux/sched.h).
var sched61 = &taskStates{interruptible: 1, uninterruptible: 2, stopped: 4, traced: 8, dead: 0x10 | 0x80, zombie: 0x20,
	parked: 0x40, wakekill: 0x100, waking: 0x200, noload: 0x400, new: 0x800}

type worldTask struct {
	pid, tgid, parent int // parent: the index of the parent in the world
	comm              string
	state             uint32
	kthread           bool
}

// writeWorld writes tasks at worldBase + i*taskSize (task 0 is
// init_task), each group's signal_struct after them, and links the
// leaders (pid == tgid) on init_task.tasks and every task on its group's
// thread list. Pointers are virtual addresses delta above the physical
// ones written (0: memory read as is).
func writeWorld(mem *pageMem, tr *taskReader, tasks []worldTask, delta ...uint64) {
	d := uint64(0)
	if len(delta) > 0 {
		d = delta[0]
	}
	addr := func(i int) uint64 { return d + worldBase + uint64(i)*taskSize }
	signal := func(tgid int) uint64 { return d + worldBase + uint64(len(tasks))*taskSize + uint64(tgid)*64 }
	phys := &shifted{mem, d}
	link := func(nodes []uint64) { // a circular list through nodes[0] (the head)
		for i, n := range nodes {
			phys.put64(n, nodes[(i+1)%len(nodes)])
			phys.put64(n+8, nodes[(i+len(nodes)-1)%len(nodes)])
		}
	}
	leaders := []uint64{addr(0) + tr.tasks.off}
	groups := map[int][]uint64{}
	for i, t := range tasks {
		a := addr(i)
		phys.write(a, make([]byte, taskSize))
		phys.put32(a+tr.pid.off, uint32(t.pid))
		phys.put32(a+tr.tgid.off, uint32(t.tgid))
		phys.put32(a+tr.state.off, t.state)
		flags := uint32(0)
		if t.kthread {
			flags = pfKthread
		}
		phys.put32(a+tr.flags.off, flags)
		phys.put64(a+tr.parent.off, addr(t.parent))
		phys.put64(a+tr.stack.off, 0xffffc90000000000+uint64(i)<<14)
		phys.put32(a+tr.cpu.off, uint32(i%2))
		phys.write(a+tr.comm.off, []byte(t.comm))
		phys.put64(a+tr.signal.off, signal(t.tgid))
		if i > 0 && t.pid == t.tgid {
			leaders = append(leaders, a+tr.tasks.off)
		}
		if tr.threadGroup.ok {
			groups[t.tgid] = append(groups[t.tgid], a+tr.threadGroup.off)
		} else {
			groups[t.tgid] = append(groups[t.tgid], a+tr.threadNode.off)
		}
	}
	link(leaders)
	for tgid, nodes := range groups {
		if tr.threadGroup.ok {
			link(nodes)
			continue
		}
		link(append([]uint64{signal(tgid) + tr.threadHead.off}, nodes...))
	}
}

// shifted writes virtual addresses delta above physical memory.
type shifted struct {
	m     *pageMem
	delta uint64
}

func (s *shifted) put64(va, v uint64)        { s.m.put64(va-s.delta, v) }
func (s *shifted) put32(va uint64, v uint32) { s.m.put32(va-s.delta, v) }
func (s *shifted) write(va uint64, b []byte) { s.m.write(va-s.delta, b) }

var world = []worldTask{
	{0, 0, 0, "swapper/0", 0, true},
	{1, 1, 0, "init", 1, false},
	{2, 2, 0, "kthreadd", 1, true},
	{3, 3, 2, "kworker/0:0", 0x402, true}, // TASK_IDLE
	{10, 10, 1, "sh", 0x2001, false},      // interruptible | freezable
	{11, 10, 1, "sh-thread", 4, false},    // stopped
	{12, 12, 4, "zombie", 0x20, false},    // exit_state EXIT_ZOMBIE
}

func walkWorld(mem *pageMem, tr *taskReader) ([]model.Task, []error) {
	w := &taskWalk{ctx: context.Background(), read: mem.readPhys, word: 8, tr: tr, st: sched61}
	return w.run(cpuTasks{online: []int{0}, curr: map[int]uint64{0: worldBase + taskSize}, idle: map[int]uint64{0: worldBase}})
}

// TestTaskWalk: every task of the writer-made world, through both thread
// lists, with crash's letters.
func TestTaskWalk(t *testing.T) {
	for _, tg := range []bool{false, true} {
		mem := newPageMem()
		tr := worldLayout(tg)
		writeWorld(mem, tr, world)
		tasks, errs := walkWorld(mem, tr)
		if len(errs) != 0 || len(tasks) != len(world) {
			t.Fatalf("thread_group %v: %d tasks, %v", tg, len(tasks), errs)
		}
		var got []string
		for _, tk := range tasks {
			got = append(got, strings.Join(taskWords(tk), " "))
		}
		want := "0/0 ppid 0 RU swapper/0 kthread idle|1/1 ppid 0 IN init active|2/2 ppid 0 IN kthreadd kthread|" +
			"3/3 ppid 2 ID kworker/0:0 kthread|10/10 ppid 1 IN sh|11/10 ppid 1 ST sh-thread|12/12 ppid 10 ZO zombie"
		if g := strings.Join(got, "|"); g != want {
			t.Errorf("thread_group %v:\n got  %s\n want %s", tg, g, want)
		}
	}
}

func taskWords(t model.Task) []string {
	out := []string{itoa(t.PID) + "/" + itoa(t.TGID), "ppid", itoa(t.PPID), t.State, t.Comm}
	if t.KernelThread {
		out = append(out, "kthread")
	}
	if t.Active {
		out = append(out, "active")
	}
	if t.Idle {
		out = append(out, "idle")
	}
	return out
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// TestTaskWalkHostile: damaged lists end the walk with an error that
// says where; the tasks found until then are kept; nothing loops.
func TestTaskWalkHostile(t *testing.T) {
	tr := worldLayout(false)
	taskAt := func(i int) uint64 { return worldBase + uint64(i)*taskSize }
	for _, c := range []struct {
		name   string
		damage func(m *pageMem)
		want   string
		min    int // tasks still found
	}{
		{"cycle past the head", func(m *pageMem) { m.put64(taskAt(2)+tr.tasks.off, taskAt(1)+tr.tasks.off) }, "leads back to", 3},
		{"self loop", func(m *pageMem) { m.put64(taskAt(1)+tr.tasks.off, taskAt(1)+tr.tasks.off) }, "leads back to", 2},
		{"NULL link", func(m *pageMem) { m.put64(taskAt(2)+tr.tasks.off, 0) }, "is NULL", 3},
		{"link into nowhere", func(m *pageMem) { m.put64(taskAt(2)+tr.tasks.off, 0xdead0000) }, "not in the test memory", 3},
		{"thread cycle", func(m *pageMem) { m.put64(taskAt(5)+tr.threadNode.off, taskAt(4)+tr.threadNode.off) }, "leads back to", 6},
		{"parent unreadable", func(m *pageMem) { m.put64(taskAt(4)+tr.parent.off, 0xdead0000) }, "parent's pid", len(world)},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := newPageMem()
			writeWorld(mem, tr, world)
			c.damage(mem)
			tasks, errs := walkWorld(mem, tr)
			err := errors.Join(errs...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
			if len(tasks) < c.min || len(tasks) > len(world)+1 {
				t.Errorf("%d tasks (at least %d)", len(tasks), c.min)
			}
		})
	}
}

// FuzzTaskWalk: the walker over hostile memory, with hostile layouts: an
// error or a bounded result, never a hang or a large allocation.
func FuzzTaskWalk(f *testing.F) {
	for _, tg := range []bool{false, true} {
		mem := newPageMem()
		writeWorld(mem, worldLayout(tg), world)
		blob := mem.snapshot(worldBase, uint64(len(world))*taskSize+16*64)
		f.Add(blob, tg, uint8(0))
		cyc := append([]byte(nil), blob...)
		le.PutUint64(cyc[2*taskSize:], worldBase+taskSize) // a cycle past the head
		f.Add(cyc, tg, uint8(3))
	}
	f.Fuzz(func(t *testing.T, blob []byte, threadGroup bool, shift uint8) {
		if len(blob) > maxFuzzBlob {
			return
		}
		tr := worldLayout(threadGroup)
		// Hostile layouts: members moved, possibly past the structure.
		s := uint64(shift)
		tr.pid.off, tr.comm.off, tr.parent.off = (tr.pid.off+s)%taskSize, (tr.comm.off+s)%(taskSize+32), (tr.parent.off+s*8)%taskSize
		tr.tasks.off = (tr.tasks.off + s*16) % taskSize
		tasks, _ := walkWorld(blobMem(worldBase, blob), tr)
		// Every task but the idle one comes from a list node that was
		// read from the blob (16 bytes), or its last link.
		if len(tasks) > len(blob)/8+3 {
			t.Fatalf("%d tasks from %d bytes", len(tasks), len(blob))
		}
	})
}

// TestTasksOldLayout: a task_struct as kernels before 5.14 and 3.14 had
// it (state, real_parent only, thread_group, the CPU in an embedded
// thread_info), found through BTF; no run queues typed, so nothing is
// known to run, which the error says.
func TestTasksOldLayout(t *testing.T) {
	k, mem, _ := x8664Kernel(t, pageOffsetL4, 0x1000000)
	g := newBTFGen()
	i32 := g.intType("int", 4, true)
	u32 := g.intType("unsigned int", 4, false)
	ulong := g.intType("long unsigned int", 8, false)
	char := g.intType("char", 1, true)
	lhID := g.n + 1
	lh := g.structType("list_head", 16, member{"next", lhID + 1, 0}, member{"prev", lhID + 1, 8})
	g.ptr(lh)
	thread := g.structType("thread_struct", 8, member{"sp", ulong, 0})
	ti := g.structType("thread_info", 12, member{"flags", ulong, 0}, member{"cpu", u32, 8})
	sig := g.structType("signal_struct", 8, member{"nr_threads", i32, 0})
	voidp, comm := g.ptr(0), g.array(char, u32, 16)
	taskID := g.n + 1 // then its pointer, then signal_struct's
	g.structType("task_struct", taskSize,
		member{"tasks", lh, 0}, member{"pid", i32, 16}, member{"tgid", i32, 20}, member{"state", i32, 24},
		member{"exit_state", i32, 28}, member{"flags", u32, 32}, member{"real_parent", taskID + 1, 40},
		member{"stack", voidp, 48}, member{"thread", thread, 56}, member{"mm", voidp, 64},
		member{"signal", taskID + 2, 72}, member{"thread_group", lh, 80}, member{"thread_info", ti, 88},
		member{"prio", i32, 100}, member{"comm", comm, 104}, member{"start_time", ulong, 120})
	g.ptr(taskID)
	g.ptr(sig)
	init := uint64(pageOffsetL4 + worldBase)
	withObjects(k, symbolsOf([]model.Symbol{
		{Name: "_stext", Type: "T", Addr: startKernelMap + 0x200000}, {Name: "_etext", Type: "T", Addr: startKernelMap + 0x300000},
		{Name: "init_task", Type: "D", Addr: model.VirtAddr(init)}, {Name: "_end", Type: "B", Addr: model.VirtAddr(init + 0x10000)},
	}), g.spec(t))
	writeWorld(mem, worldLayout(true), world, pageOffsetL4)
	tasks, err := k.Tasks(bg)
	if err == nil || !strings.Contains(err.Error(), "runqueues") {
		t.Errorf("error %v, want one about the run queues", err)
	}
	var got []string
	for _, tk := range tasks {
		got = append(got, strings.Join(taskWords(tk), " ")+" cpu "+strconv.Itoa(tk.CPU))
	}
	want := "0/0 ppid 0 RU swapper/0 kthread cpu 0|1/1 ppid 0 IN init cpu 1|2/2 ppid 0 IN kthreadd kthread cpu 0|" +
		"3/3 ppid 2 ID kworker/0:0 kthread cpu 1|10/10 ppid 1 IN sh cpu 0|11/10 ppid 1 ST sh-thread cpu 1|12/12 ppid 10 ZO zombie cpu 0"
	if g := strings.Join(got, "|"); g != want {
		t.Errorf("\n got  %s\n want %s", g, want)
	}
}
