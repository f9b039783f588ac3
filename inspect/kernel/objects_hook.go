package kernel

import (
	"context"
	"fmt"

	"dumpscope/model"
)

// engineObjects is the Objects the crash analysis and the verdict read
// when the caller gives none: the engine's own task walker (tasks.go) and
// unwinder (stacks.go, backtrace.go).
type engineObjects struct{ k *Kernel }

// CPUTask returns the task running on a CPU: the task list's active task
// for that CPU (runqueues.curr).
func (o engineObjects) CPUTask(ctx context.Context, cpu int) (model.CPUTask, error) {
	tasks, err := o.k.Tasks(ctx)
	if err != nil {
		return model.CPUTask{}, err
	}
	for _, t := range tasks {
		if t.Active && t.CPU == cpu {
			addr, pid := t.Task, t.PID
			return model.CPUTask{CPU: cpu, Task: &addr, PID: &pid, Comm: t.Comm, From: "runqueues.curr (BTF)"}, nil
		}
	}
	return model.CPUTask{}, &MissingError{File: o.k.name, What: fmt.Sprintf("the task running on CPU %d", cpu),
		Err: fmt.Errorf("no task of the task list is CPU %d's runqueues.curr: %w", cpu, model.ErrNotFound)}
}

// UnwindCPU unwinds the stack of the task running on a CPU from its saved
// registers, innermost frame first.
func (o engineObjects) UnwindCPU(ctx context.Context, cpu int) ([]model.UnwoundFrame, string, error) {
	bt, err := o.k.CPUBacktrace(ctx, cpu)
	if err != nil {
		return nil, "", err
	}
	frames := make([]model.UnwoundFrame, 0, len(bt.Frames))
	for _, f := range bt.Frames {
		if f.Symbol == "" {
			continue
		}
		frames = append(frames, model.UnwoundFrame{Function: f.Symbol, Offset: f.Offset, Size: f.Size, Module: f.Module, Reliable: f.Reliable})
	}
	return frames, bt.Method, nil
}

// TaskCount walks the task list.
func (o engineObjects) TaskCount(ctx context.Context) (int, error) {
	tasks, err := o.k.Tasks(ctx)
	return len(tasks), err
}
