package kernel

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"dumpscope/model"
)

// Tasks are read from the kernel's own lists, typed by its BTF:
//
//   - init_task (kallsyms; init/init_task.c) heads the list of thread-group
//     leaders, struct task_struct.tasks (include/linux/sched/signal.h
//     for_each_process);
//   - each leader's threads hang off signal->thread_head through
//     task->thread_node (for_each_thread, Linux 3.14 and later), or off
//     the circular task->thread_group before 3.14;
//   - each CPU's idle task, runqueues.idle (per-CPU, kernel/sched/core.c),
//     is on no list (swapper/N for N > 0; init_task is CPU 0's);
//   - the task running on each CPU is runqueues.curr.
//
// Every walk is bounded: a node seen twice that is not the head (a cycle
// memory damage made), a NULL or unreadable link, or more than maxTasks
// nodes ends it with an error that says where. The tasks found until
// then are still returned.

// maxTasks bounds one list walk: PID_MAX_LIMIT is 4M on 64-bit kernels
// (include/linux/threads.h), but a task list that long would be read for
// minutes; a million threads is beyond any real machine's.
const maxTasks = 1 << 20

// maxTaskStruct bounds sizeof(struct task_struct) believed from BTF
// (about 10 KiB on 6.x distribution kernels).
const maxTaskStruct = 64 << 10

// PF_KTHREAD marks kernel threads in task->flags (include/linux/sched.h,
// the same value since 2.6.27).
const pfKthread = 0x00200000

// taskReader reads struct task_struct with this kernel's layout.
type taskReader struct {
	initTask uint64
	size     uint64
	// task_struct members.
	tasks, pid, tgid, comm, state, exitState, flags, parent   field
	stack, threadSP, mm, cpu, signal, threadNode, threadGroup field
	prio, startTime                                           field
	// tiCPU is thread_info.cpu: inside the task when thread_info is its
	// first member (THREAD_INFO_IN_TASK, embedded at tiOff), else at
	// task->stack.
	tiCPU    field
	tiInTask bool
	tiOff    uint64
	// threadHead is signal_struct.thread_head.
	threadHead field
	// rqCurr and rqIdle are struct rq members; rqOK when runqueues is
	// typed.
	rqCurr, rqIdle field
	rqOK           bool
	// kthreadByFlag: PF_KTHREAD marks kernel threads (init_task has it);
	// else a task without mm is one, as crash decides.
	kthreadByFlag bool
}

func (k *Kernel) taskReader(ctx context.Context) (*taskReader, error) {
	return k.objs.tasks.get(ctx, k.loadTaskReader)
}

func (k *Kernel) loadTaskReader(ctx context.Context) (*taskReader, error) {
	const what = "the task list"
	spec, syms, err := k.btfSymbols(ctx)
	if err != nil {
		return nil, err
	}
	tr := &taskReader{}
	if tr.initTask, err = k.symAddr(syms, "init_task", what); err != nil {
		return nil, err
	}
	l := &layout{spec: spec}
	tr.size = l.size("task_struct")
	tr.tasks = l.field("task_struct.tasks")
	tr.pid = l.field("task_struct.pid")
	tr.tgid = l.field("task_struct.tgid")
	tr.comm = l.field("task_struct.comm")
	tr.state = l.first("task_struct.__state", "task_struct.state")
	tr.exitState = l.optional("task_struct.exit_state")
	tr.flags = l.field("task_struct.flags")
	tr.parent = l.first("task_struct.parent", "task_struct.real_parent")
	tr.stack = l.field("task_struct.stack")
	tr.threadSP = l.optional("task_struct.thread.sp")
	tr.mm = l.field("task_struct.mm")
	tr.signal = l.field("task_struct.signal")
	tr.prio = l.optional("task_struct.prio")
	tr.startTime = l.optional("task_struct.start_time")
	tr.threadNode = l.optional("task_struct.thread_node")
	tr.threadHead = l.optional("signal_struct.thread_head")
	if !tr.threadNode.ok || !tr.threadHead.ok {
		tr.threadNode, tr.threadHead = field{}, field{}
		tr.threadGroup = l.first("task_struct.thread_group")
	}
	tr.cpu = l.optional("task_struct.cpu")
	if !tr.cpu.ok {
		if ti := l.optional("task_struct.thread_info"); ti.ok {
			tr.tiInTask, tr.tiOff = true, ti.off
		}
		tr.tiCPU = l.field("thread_info.cpu")
	}
	if rq, err := spec.Global("runqueues"); err == nil && rq.PerCPU {
		tr.rqCurr, tr.rqIdle, tr.rqOK = l.field("rq.curr"), l.field("rq.idle"), true
	}
	l.scalars(tr.size, tr.pid, tr.tgid, tr.state, tr.exitState, tr.flags, tr.parent, tr.stack, tr.threadSP, tr.mm,
		tr.signal, tr.prio, tr.startTime, tr.cpu)
	l.scalars(0, tr.tiCPU, tr.rqCurr, tr.rqIdle)
	if tr.comm.size > 256 || tr.comm.off+tr.comm.size > tr.size || tr.tasks.off+16 > tr.size {
		l.missing = append(l.missing, "a task_struct.comm and .tasks inside task_struct")
	}
	if err := l.check(k, what); err != nil {
		return nil, err
	}
	if tr.size == 0 || tr.size > maxTaskStruct {
		return nil, &MissingError{File: k.name, What: what,
			Err: fmt.Errorf("BTF says struct task_struct has %d bytes (1..%d believed): %w", tr.size, maxTaskStruct, model.ErrCorrupt)}
	}
	init, err := k.readStruct(ctx, tr.initTask, tr.size)
	if err != nil {
		return nil, k.missing("init_task", err)
	}
	tr.kthreadByFlag = uintAt(init, tr.flags)&pfKthread != 0
	return tr, nil
}

// readStruct reads n bytes of a structure.
func (k *Kernel) readStruct(ctx context.Context, va, n uint64) ([]byte, error) {
	b := make([]byte, n)
	return b, k.readVirt(ctx, va, b)
}

// walkList follows the circular struct list_head at head (not itself an
// entry; next is its first member, include/linux/types.h) and calls fn
// with each node's address.
func (k *Kernel) walkList(ctx context.Context, head uint64, what string, fn func(node uint64) error) error {
	err := walkList(k.reader(ctx), k.ptrSize(), head, fn)
	if err == nil {
		return nil
	}
	var me *MissingError
	if errors.As(err, &me) {
		return err
	}
	return k.missing(what, err)
}

// walkList follows a list in memory read by read: it stops at the head,
// and fails on a NULL or unreadable link, a node seen twice that is not
// the head (a cycle memory damage made), or more than maxTasks nodes.
func walkList(read readFunc, word int, head uint64, fn func(node uint64) error) error {
	seen := map[uint64]bool{}
	b := make([]byte, word)
	for node, n := head, 0; ; n++ {
		if err := read(node, b); err != nil {
			return fmt.Errorf("the link at %#x: %w", node, err)
		}
		next := ptrAt(b, 0, word)
		switch {
		case next == head:
			return nil
		case next == 0:
			return fmt.Errorf("the link at %#x is NULL after %d entries: %w", node, n, model.ErrCorrupt)
		case seen[next]:
			return fmt.Errorf("the link at %#x leads back to %#x after %d entries, not to the head %#x: %w", node, next, n, head, model.ErrCorrupt)
		case n >= maxTasks:
			return fmt.Errorf("more than %d entries: %w", maxTasks, model.ErrCorrupt)
		}
		seen[next] = true
		if err := fn(next); err != nil {
			return err
		}
		node = next
	}
}

// cpuTasks are the tasks the run queues name: each online CPU's current
// and idle task.
type cpuTasks struct {
	curr, idle map[int]uint64
	online     []int
}

func (k *Kernel) runqueueTasks(ctx context.Context, tr *taskReader) (cpuTasks, error) {
	ct := cpuTasks{curr: map[int]uint64{}, idle: map[int]uint64{}}
	pc, err := k.perCPUAreas(ctx)
	if err != nil {
		return ct, err
	}
	ct.online = pc.online
	if !tr.rqOK {
		return ct, &MissingError{File: k.name, What: "the tasks on each CPU",
			Err: fmt.Errorf("the BTF has no per-CPU variable runqueues: %w", model.ErrNotFound)}
	}
	var errs []error
	for _, cpu := range pc.online {
		rq, err := k.perCPUAddr(ctx, "runqueues", cpu)
		if err == nil {
			var b []byte
			if b, err = k.readStruct(ctx, rq+tr.rqCurr.off, tr.rqCurr.size); err == nil {
				ct.curr[cpu] = uintAt(b, field{size: tr.rqCurr.size, ok: true})
			}
			if b, err = k.readStruct(ctx, rq+tr.rqIdle.off, tr.rqIdle.size); err == nil {
				ct.idle[cpu] = uintAt(b, field{size: tr.rqIdle.size, ok: true})
			}
		}
		if err != nil {
			errs = append(errs, k.missing(fmt.Sprintf("runqueues of CPU %d", cpu), err))
		}
	}
	return ct, errors.Join(errs...)
}

// Tasks lists every task: thread-group leaders from init_task's list,
// their threads, and each CPU's idle task, sorted by pid (then CPU). It
// needs the kernel's BTF. When part of memory cannot be read it returns
// the tasks it found with an error that says what is missing.
func (k *Kernel) Tasks(ctx context.Context) ([]model.Task, error) {
	tr, err := k.taskReader(ctx)
	if err != nil {
		return nil, err
	}
	st, err := k.taskStateBits(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	ct, err := k.runqueueTasks(ctx, tr)
	if err != nil {
		errs = append(errs, err)
	}
	w := &taskWalk{ctx: ctx, read: k.reader(ctx), word: k.ptrSize(), tr: tr, st: st}
	tasks, werrs := w.run(ct)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	for i, e := range werrs {
		if i == maxTaskErrors {
			errs = append(errs, fmt.Errorf("%s: and %d more problems with the task lists", k.name, len(werrs)-i))
			break
		}
		errs = append(errs, k.missing("tasks", e))
	}
	return tasks, errors.Join(errs...)
}

// maxTaskErrors bounds the problems Tasks reports one by one: damaged
// memory can make every task a problem.
const maxTaskErrors = 8

// readTask reads one task_struct with the engine's memory.
func (k *Kernel) readTask(ctx context.Context, tr *taskReader, st *taskStates, addr uint64) (model.Task, error) {
	w := &taskWalk{ctx: ctx, read: k.reader(ctx), word: k.ptrSize(), tr: tr, st: st}
	t, err := w.task(addr)
	if err != nil {
		return t, k.missing("tasks", err)
	}
	return t, nil
}

// taskWalk walks the task lists of memory read by read.
type taskWalk struct {
	ctx  context.Context
	read readFunc
	word int
	tr   *taskReader
	st   *taskStates
}

// run walks init_task's list, each leader's threads and the CPUs' idle
// tasks; ct says which tasks run on a CPU.
func (w *taskWalk) run(ct cpuTasks) ([]model.Task, []error) {
	tr := w.tr
	var errs []error
	// group records each task's thread-group leader as the walks find it:
	// a thread list that reaches another group's task is damaged, and
	// stopping there keeps the work proportional to the tasks found.
	group := map[uint64]uint64{}
	var order []uint64
	add := func(t, leader uint64) error {
		if t == 0 {
			return nil
		}
		if g, ok := group[t]; ok {
			if g != leader {
				return fmt.Errorf("task %#x is in the thread group of %#x too: %w", t, g, model.ErrCorrupt)
			}
			return nil
		}
		if len(order) >= maxTasks {
			return fmt.Errorf("more than %d tasks: %w", maxTasks, model.ErrCorrupt)
		}
		group[t] = leader
		order = append(order, t)
		return nil
	}
	add(tr.initTask, tr.initTask)
	err := walkList(w.read, w.word, tr.initTask+tr.tasks.off, func(node uint64) error {
		if err := add(node-tr.tasks.off, node-tr.tasks.off); err != nil {
			return err
		}
		return w.ctx.Err()
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("the task list (init_task.tasks): %w", err))
	}
	leaders := append([]uint64(nil), order...)
	for _, t := range leaders {
		if err := w.threads(t, add); err != nil {
			errs = append(errs, err)
		}
		if w.ctx.Err() != nil {
			return nil, []error{w.ctx.Err()}
		}
	}
	active := map[uint64]bool{}
	idle := map[uint64]bool{}
	for _, cpu := range ct.online {
		add(ct.idle[cpu], ct.idle[cpu])
		idle[ct.idle[cpu]] = true
		active[ct.curr[cpu]] = true
	}
	out := make([]model.Task, 0, len(order))
	for _, t := range order {
		task, err := w.task(t)
		if err != nil {
			errs = append(errs, err)
			if task.Task == 0 {
				continue
			}
		}
		task.Active, task.Idle = active[t], idle[t]
		out = append(out, task)
		if w.ctx.Err() != nil {
			return nil, []error{w.ctx.Err()}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].PID != out[j].PID {
			return out[i].PID < out[j].PID
		}
		return out[i].CPU < out[j].CPU
	})
	return out, errs
}

// threads adds the threads of the group whose leader is t.
func (w *taskWalk) threads(t uint64, add func(task, leader uint64) error) error {
	tr := w.tr
	if tr.threadGroup.ok {
		// Before 3.14: a circular list through every thread, the leader
		// included, with no separate head.
		err := walkList(w.read, w.word, t+tr.threadGroup.off, func(node uint64) error {
			return add(node-tr.threadGroup.off, t)
		})
		if err != nil {
			return fmt.Errorf("the threads of task %#x (thread_group): %w", t, err)
		}
		return nil
	}
	b := make([]byte, tr.signal.size)
	if err := w.read(t+tr.signal.off, b); err != nil {
		return fmt.Errorf("task %#x: signal: %w", t, err)
	}
	sig := uintAt(b, field{size: tr.signal.size, ok: true})
	if sig == 0 {
		return nil // a task that has exited as far as its signal_struct
	}
	err := walkList(w.read, w.word, sig+tr.threadHead.off, func(node uint64) error {
		return add(node-tr.threadNode.off, t)
	})
	if err != nil {
		return fmt.Errorf("the threads of task %#x (signal->thread_head): %w", t, err)
	}
	return nil
}

// task reads one task_struct.
func (w *taskWalk) task(addr uint64) (model.Task, error) {
	tr, st := w.tr, w.st
	b := make([]byte, tr.size)
	if err := w.read(addr, b); err != nil {
		return model.Task{}, fmt.Errorf("task_struct at %#x: %w", addr, err)
	}
	t := model.Task{
		Task: model.VirtAddr(addr), PID: intAt(b, tr.pid), TGID: intAt(b, tr.tgid), Comm: cStringAt(b, tr.comm),
		Flags: model.Hex(uintAt(b, tr.flags)), Parent: model.VirtAddr(uintAt(b, tr.parent)),
		Stack: model.VirtAddr(uintAt(b, tr.stack)), ThreadSP: model.VirtAddr(uintAt(b, tr.threadSP)),
		MM: model.VirtAddr(uintAt(b, tr.mm)),
	}
	state := uintAt(b, tr.state) | uintAt(b, tr.exitState)
	t.StateBits, t.State = model.Hex(state), st.letters(state)
	if tr.kthreadByFlag {
		t.KernelThread = uint64(t.Flags)&pfKthread != 0
	} else {
		t.KernelThread = t.MM == 0
	}
	if tr.prio.ok {
		v := intAt(b, tr.prio)
		t.Prio = &v
	}
	if tr.startTime.ok {
		v := uintAt(b, tr.startTime)
		t.StartTimeNS = &v
	}
	one := func(at uint64, f field) (int64, error) {
		fb := make([]byte, f.size)
		if err := w.read(at, fb); err != nil {
			return 0, err
		}
		return intAt(fb, field{size: f.size, ok: true}), nil
	}
	switch {
	case tr.cpu.ok:
		t.CPU = int(intAt(b, tr.cpu))
	case tr.tiInTask:
		t.CPU = int(intAt(b, field{off: tr.tiOff + tr.tiCPU.off, size: tr.tiCPU.size, ok: true}))
	default:
		if v, err := one(uint64(t.Stack)+tr.tiCPU.off, tr.tiCPU); err == nil {
			t.CPU = int(v)
		}
	}
	switch parent := uint64(t.Parent); parent {
	case 0:
	case addr:
		t.PPID = t.PID
	default:
		v, err := one(parent+tr.pid.off, tr.pid)
		if err != nil {
			t.PPID = -1
			return t, fmt.Errorf("task %d (%#x): its parent's pid at %#x: %w", t.PID, addr, parent, err)
		}
		t.PPID = v
	}
	return t, nil
}

// TasksByPID returns the tasks with a pid (several for pid 0: one idle
// task per CPU).
func (k *Kernel) TasksByPID(ctx context.Context, pid int64) ([]model.Task, error) {
	all, err := k.Tasks(ctx)
	var out []model.Task
	for _, t := range all {
		if t.PID == pid {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		if err != nil {
			return nil, err
		}
		return nil, &MissingError{File: k.name, What: fmt.Sprintf("task %d", pid),
			Err: fmt.Errorf("no task has pid %d (%d tasks): %w", pid, len(all), model.ErrNotFound)}
	}
	return out, nil
}
