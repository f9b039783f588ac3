package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"dumpscope/inspect/unwind"
	"dumpscope/model"
)

// Backtraces: a CPU's stack from the registers the dump saved for it, a
// sleeping task's from task->thread.sp, a running task's from its CPU's
// registers (its thread.sp is stale).

// maxCPUProbe bounds the CPUs tried when matching a register set to the
// CPU whose stacks hold its stack pointer.
const maxCPUProbe = 256

// btRun is one unwinding session: an unwinder with its page cache, and
// what it learnt about CPUs.
type btRun struct {
	k  *Kernel
	u  *unwindSetup
	uw *unwind.Unwinder
	// tr and st read tasks; nil without BTF.
	tr *taskReader
	st *taskStates
	// curr is runqueues.curr of each kernel CPU (with BTF).
	curr map[int]uint64
	// kcpu caches the kernel CPU of each dump CPU index.
	kcpu map[int]int
}

func (k *Kernel) newBTRun(ctx context.Context) (*btRun, error) {
	u, err := k.unwindSetup(ctx)
	if err != nil {
		return nil, err
	}
	var orc *unwind.ORC
	if u.orc != nil {
		orc = u.orc
	}
	uw, err := unwind.New(unwind.Config{Mem: memFor{ctx, k}, ORC: orc, Text: u.text, WordSize: u.word, TopPadding: u.topPadding})
	if err != nil {
		return nil, err
	}
	r := &btRun{k: k, u: u, uw: uw, curr: map[int]uint64{}, kcpu: map[int]int{}}
	if tr, err := k.taskReader(ctx); err == nil {
		r.tr = tr
		r.st, _ = k.taskStateBits(ctx)
		if ct, _ := k.runqueueTasks(ctx, tr); ct.curr != nil {
			r.curr = ct.curr
		}
	}
	return r, nil
}

// CPUBacktrace unwinds a CPU's kernel stack from the registers the dump
// saved for it (cpu is the dump's CPU index, as regs --cpu takes it).
func (k *Kernel) CPUBacktrace(ctx context.Context, cpu int) (*model.Backtrace, error) {
	r, err := k.newBTRun(ctx)
	if err != nil {
		return nil, err
	}
	return r.cpu(ctx, cpu)
}

// TaskBacktrace unwinds a task's kernel stack: from its CPU's registers
// when it is running there, else from thread.sp.
func (k *Kernel) TaskBacktrace(ctx context.Context, t model.Task) (*model.Backtrace, error) {
	r, err := k.newBTRun(ctx)
	if err != nil {
		return nil, err
	}
	return r.task(ctx, t)
}

// Backtraces unwinds every task (crash's foreach bt), in Tasks' order.
// Tasks that could not be unwound are listed with their error.
func (k *Kernel) Backtraces(ctx context.Context) ([]model.Backtrace, error) {
	tasks, terr := k.Tasks(ctx)
	if tasks == nil {
		return nil, terr
	}
	r, err := k.newBTRun(ctx)
	if err != nil {
		return nil, err
	}
	errs := []error{terr}
	out := make([]model.Backtrace, 0, len(tasks))
	for _, t := range tasks {
		bt, err := r.task(ctx, t)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs = append(errs, err)
			continue
		}
		out = append(out, *bt)
	}
	return out, errors.Join(errs...)
}

// kernelCPU returns the kernel's number of the CPU whose registers are
// the dump's set cpu: the CPU whose stacks hold the saved stack pointer
// (the set's index, when none does or stacks cannot be read). kdump
// writes one note per online CPU, so the index and the number differ once
// a CPU below another is offline.
func (r *btRun) kernelCPU(ctx context.Context, cpu int, sp uint64) int {
	if c, ok := r.kcpu[cpu]; ok {
		return c
	}
	cands := []int{cpu}
	if online, err := r.k.OnlineCPUs(ctx); err == nil {
		for _, c := range online[:min(len(online), maxCPUProbe)] {
			if c != cpu {
				cands = append(cands, c)
			}
		}
	}
	found := cpu
	for _, c := range cands {
		if _, ok := r.stacks(ctx, c).StackOf(sp); ok {
			found = c
			break
		}
	}
	r.kcpu[cpu] = found
	return found
}

// stacks returns a kernel CPU's stacks, with its current task's.
func (r *btRun) stacks(ctx context.Context, kcpu int) unwind.StackSet {
	var stack uint64
	if cur := r.curr[kcpu]; cur != 0 && r.tr != nil {
		if b, err := r.k.readStruct(ctx, cur+r.tr.stack.off, r.tr.stack.size); err == nil {
			stack = uintAt(b, field{size: r.tr.stack.size, ok: true})
		}
	}
	return r.k.cpuStacks(ctx, r.u, kcpu, stack)
}

// dumpIndex returns the dump's CPU index whose registers belong to a
// kernel CPU.
func (r *btRun) dumpIndex(ctx context.Context, kcpu int) (int, bool) {
	for _, c := range r.k.cpuIndexes() {
		set, err := r.k.regsOf(c)
		if err != nil {
			continue
		}
		sp, _ := set.Get(r.k.spName())
		if r.kernelCPU(ctx, c, sp) == kcpu {
			return c, true
		}
	}
	return 0, false
}

// cpu unwinds from a dump CPU's registers.
func (r *btRun) cpu(ctx context.Context, cpu int) (*model.Backtrace, error) {
	set, err := r.k.regsOf(cpu)
	if err != nil {
		return nil, err
	}
	regs := unwind.RegsFromNames(set.Get)
	kcpu := r.kernelCPU(ctx, cpu, regs.SP)
	saved := unwind.SavedInterrupted
	if r.u.crashKexec != 0 {
		if fn, ok := r.u.text.FuncStart(regs.IP); ok && fn == r.u.crashKexec {
			// kdump's panicking CPU: crash_setup_regs in __crash_kexec
			// took these registers and went on to machine_kexec.
			saved = unwind.SavedByCode
		}
	}
	tr := r.uw.CPU(regs, r.stacks(ctx, kcpu), saved)
	bt := r.k.convertTrace(ctx, tr, r.u)
	bt.CPU = &kcpu
	bt.Start = fmt.Sprintf("%s registers of CPU %d", set.Source, cpu)
	if kcpu != cpu {
		bt.Start += fmt.Sprintf(" (kernel CPU %d, whose stacks hold its stack pointer)", kcpu)
	}
	if saved == unwind.SavedByCode {
		bt.Notes = append(bt.Notes, "the saved instruction pointer is in __crash_kexec: the panicking CPU's registers were taken by crash_setup_regs")
	}
	if cur := r.curr[kcpu]; cur != 0 && r.tr != nil && r.st != nil {
		if t, err := r.k.readTask(ctx, r.tr, r.st, cur); err == nil {
			r.name(bt, t)
			bt.Active = true
		}
	}
	return bt, nil
}

func (r *btRun) name(bt *model.Backtrace, t model.Task) {
	addr, pid := t.Task, t.PID
	bt.Task, bt.PID, bt.Comm = &addr, &pid, t.Comm
}

// task unwinds one task.
func (r *btRun) task(ctx context.Context, t model.Task) (*model.Backtrace, error) {
	var notes []string
	if t.Active {
		if idx, ok := r.dumpIndex(ctx, t.CPU); ok {
			bt, err := r.cpu(ctx, idx)
			if err != nil {
				return nil, err
			}
			r.name(bt, t)
			return bt, nil
		}
		notes = append(notes, fmt.Sprintf("the task runs on CPU %d, whose registers the dump does not hold: its thread.sp is from its last switch and may be stale", t.CPU))
	}
	if r.u.frame.Size == 0 {
		return nil, &MissingError{File: r.k.name, What: fmt.Sprintf("the stack of task %d", t.PID),
			Err: fmt.Errorf("no struct inactive_task_frame in BTF: %w", model.ErrNotFound)}
	}
	st := unwind.StackSet{{Kind: unwind.StackTask, Lo: uint64(t.Stack), Hi: uint64(t.Stack) + r.u.threadSize}}
	tr := r.uw.Task(unwind.TaskStart{ThreadSP: uint64(t.ThreadSP), Frame: r.u.frame, RetFromFork: r.u.retFromFork}, st)
	bt := r.k.convertTrace(ctx, tr, r.u)
	r.name(bt, t)
	cpu := t.CPU
	bt.CPU, bt.Active = &cpu, t.Active
	bt.Start = fmt.Sprintf("thread.sp %s", t.ThreadSP)
	bt.Notes = append(notes, bt.Notes...)
	return bt, nil
}

// convertTrace turns an unwinder trace into the model's, naming each
// frame: a return address by the function that holds PC-1 (the call),
// with the offset of PC itself, as the kernel's %pB prints it.
func (k *Kernel) convertTrace(ctx context.Context, tr *unwind.Trace, u *unwindSetup) *model.Backtrace {
	bt := &model.Backtrace{Method: tr.Method.String(), End: tr.End.String(), Frames: make([]model.Frame, 0, len(tr.Frames)), Notes: tr.Notes}
	if tr.Err != nil {
		bt.Error = tr.Err.Error()
	}
	if tr.UserRegs != nil {
		bt.UserRegs = k.ptRegs(tr.UserRegs)
	}
	for _, f := range tr.Frames {
		mf := model.Frame{Level: f.Level, PC: model.VirtAddr(f.PC), SP: model.VirtAddr(f.SP), ReturnAddress: f.Call,
			Reliable: f.Reliable, How: f.How.String(), Stack: f.Stack.String()}
		if f.Slot != 0 {
			slot := model.VirtAddr(f.Slot)
			mf.Slot = &slot
		}
		look := f.PC
		if f.Call && look > 0 {
			look--
		}
		if ref, ok := k.Symbolize(ctx, look); ok {
			mf.Symbol, mf.Size, mf.Module = ref.Symbol.Name, ref.Symbol.Size, ref.Module
			mf.Offset = f.PC - uint64(ref.Symbol.Addr)
			ref.Offset = mf.Offset
			mf.Location = ref.String()
		} else {
			mf.Location = mf.PC.String()
		}
		if f.Regs != nil {
			mf.Regs = k.ptRegs(f.Regs)
		}
		bt.Frames = append(bt.Frames, mf)
	}
	if len(u.notes) > 0 && len(tr.Frames) == 0 {
		bt.Notes = append(bt.Notes, u.notes...)
	}
	return bt
}

// ptRegs names a pt_regs' registers as the dump's prstatus names them.
func (k *Kernel) ptRegs(p *unwind.PtRegs) *model.PtRegs {
	out := &model.PtRegs{Addr: model.VirtAddr(p.Addr), Partial: p.Partial, UserMode: p.Regs.UserMode(), Registers: map[string]model.Hex{}}
	for name, v := range p.ByName(k.arch == "i386") {
		out.Registers[name] = model.Hex(v)
	}
	return out
}

// PanicCPU returns the dump's CPU index of the CPU that panicked, and how
// that is known: the kernel's panic_cpu (kernel/panic.c: set by panic()
// and nmi_panic(), -1 otherwise), else crashing_cpu (x86: set by the
// kdump shutdown, arch/x86/kernel/reboot.c), else the CPU whose saved
// instruction pointer is in __crash_kexec. ok is false when nothing says
// (a dump taken from a running or stopped machine).
func (k *Kernel) PanicCPU(ctx context.Context) (cpu int, why string, ok bool) {
	r, err := k.newBTRun(ctx)
	if err != nil {
		return 0, "", false
	}
	syms, err := k.Symbols(ctx)
	if err != nil {
		return 0, "", false
	}
	for _, name := range []string{"panic_cpu", "crashing_cpu"} {
		at, found := syms.addrOf(name)
		if !found {
			continue
		}
		var b [4]byte
		if k.readVirt(ctx, at, b[:]) != nil {
			continue
		}
		v := int32(binary.LittleEndian.Uint32(b[:]))
		if v < 0 || v >= maxCPUs {
			continue
		}
		if idx, found := r.dumpIndex(ctx, int(v)); found {
			return idx, fmt.Sprintf("%s is %d", name, v), true
		}
	}
	if r.u.crashKexec != 0 {
		for _, c := range k.cpuIndexes() {
			if ip, _, found := k.cpuReg(c, k.pcName()); found {
				if fn, ok := r.u.text.FuncStart(ip); ok && fn == r.u.crashKexec {
					return c, "its saved instruction pointer is in __crash_kexec", true
				}
			}
		}
	}
	return 0, "", false
}
