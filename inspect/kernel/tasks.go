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
	spec, err := k.BTF(ctx)
	if err != nil {
		return nil, err
	}
	syms, err := k.Symbols(ctx)
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
	seen := map[uint64]bool{}
	for node, n := head, 0; ; n++ {
		next, err := k.readWord(ctx, node)
		if err != nil {
			return k.missing(fmt.Sprintf("%s: the link at %#x", what, node), err)
		}
		switch {
		case next == head:
			return nil
		case next == 0:
			return &MissingError{File: k.name, What: what,
				Err: fmt.Errorf("the link at %#x is NULL after %d entries: %w", node, n, model.ErrCorrupt)}
		case seen[next]:
			return &MissingError{File: k.name, What: what,
				Err: fmt.Errorf("the link at %#x leads back to %#x after %d entries, not to the head %#x: %w", node, next, n, head, model.ErrCorrupt)}
		case n >= maxTasks:
			return &MissingError{File: k.name, What: what,
				Err: fmt.Errorf("more than %d entries: %w", maxTasks, model.ErrCorrupt)}
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
	seen := map[uint64]bool{}
	var order []uint64
	add := func(t uint64) {
		if t != 0 && !seen[t] {
			seen[t] = true
			order = append(order, t)
		}
	}
	add(tr.initTask)
	err = k.walkList(ctx, tr.initTask+tr.tasks.off, "the task list (init_task.tasks)", func(node uint64) error {
		add(node - tr.tasks.off)
		return ctx.Err()
	})
	if err != nil {
		errs = append(errs, err)
	}
	leaders := append([]uint64(nil), order...)
	for _, t := range leaders {
		if err := k.threads(ctx, tr, t, add); err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	active := map[uint64]bool{}
	idle := map[uint64]bool{}
	for _, cpu := range ct.online {
		add(ct.idle[cpu])
		idle[ct.idle[cpu]] = true
		active[ct.curr[cpu]] = true
	}
	out := make([]model.Task, 0, len(order))
	for _, t := range order {
		task, err := k.readTask(ctx, tr, st, t)
		if err != nil {
			errs = append(errs, err)
			if task.Task == 0 {
				continue
			}
		}
		task.Active, task.Idle = active[t], idle[t]
		out = append(out, task)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].PID != out[j].PID {
			return out[i].PID < out[j].PID
		}
		return out[i].CPU < out[j].CPU
	})
	return out, errors.Join(errs...)
}

// threads adds the threads of the group whose leader is t.
func (k *Kernel) threads(ctx context.Context, tr *taskReader, t uint64, add func(uint64)) error {
	if tr.threadGroup.ok {
		// Before 3.14: a circular list through every thread, the leader
		// included, with no separate head.
		return k.walkList(ctx, t+tr.threadGroup.off, fmt.Sprintf("the threads of task %#x (thread_group)", t), func(node uint64) error {
			add(node - tr.threadGroup.off)
			return nil
		})
	}
	b, err := k.readStruct(ctx, t+tr.signal.off, tr.signal.size)
	if err != nil {
		return k.missing(fmt.Sprintf("task %#x: signal", t), err)
	}
	sig := uintAt(b, field{size: tr.signal.size, ok: true})
	if sig == 0 {
		return nil // a task that has exited as far as its signal_struct
	}
	return k.walkList(ctx, sig+tr.threadHead.off, fmt.Sprintf("the threads of task %#x (signal->thread_head)", t), func(node uint64) error {
		add(node - tr.threadNode.off)
		return nil
	})
}

// readTask reads one task_struct.
func (k *Kernel) readTask(ctx context.Context, tr *taskReader, st *taskStates, addr uint64) (model.Task, error) {
	b, err := k.readStruct(ctx, addr, tr.size)
	if err != nil {
		return model.Task{}, k.missing(fmt.Sprintf("task_struct at %#x", addr), err)
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
	switch {
	case tr.cpu.ok:
		t.CPU = int(intAt(b, tr.cpu))
	case tr.tiInTask:
		t.CPU = int(intAt(b, field{off: tr.tiOff + tr.tiCPU.off, size: tr.tiCPU.size, ok: true}))
	default:
		if cb, err := k.readStruct(ctx, uint64(t.Stack)+tr.tiCPU.off, tr.tiCPU.size); err == nil {
			t.CPU = int(intAt(cb, field{size: tr.tiCPU.size, ok: true}))
		}
	}
	switch parent := uint64(t.Parent); parent {
	case 0:
	case addr:
		t.PPID = t.PID
	default:
		pb, err := k.readStruct(ctx, parent+tr.pid.off, tr.pid.size)
		if err != nil {
			t.PPID = -1
			return t, k.missing(fmt.Sprintf("task %d (%#x): its parent's pid at %#x", t.PID, addr, parent), err)
		}
		t.PPID = intAt(pb, field{size: tr.pid.size, ok: true})
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
