package main

import (
	"fmt"

	"dumpscope/inspect"
	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/present"
)

// bt unwinds kernel stacks: with ORC tables from memory on x86_64
// kernels built with CONFIG_UNWINDER_ORC, else along the frame pointers.

type btCmd struct {
	PID *int64 `name:"pid" help:"The stack of this task (from its CPU's registers when it is running, else from thread.sp)."`
	CPU *int   `name:"cpu" help:"The stack of this CPU, from its saved registers (index as stored in the dump)."`
	All bool   `name:"all" help:"Every task's stack (crash's foreach bt)."`
	jsonFlag
	filesArg
}

func (c *btCmd) Run(rc *runContext) error {
	n := 0
	for _, set := range []bool{c.PID != nil, c.CPU != nil, c.All} {
		if set {
			n++
		}
	}
	if n > 1 {
		return usageError{"bt takes at most one of --pid, --cpu and --all"}
	}
	return rc.withKernel(c.Files, func(s *inspect.Session, k *kernel.Kernel) error {
		bts, note, err := c.traces(rc, s, k)
		if rc.JSON {
			return writeJSONList(rc.out, bts, err)
		}
		if note != "" {
			fmt.Fprintln(rc.out, note)
		}
		for i, bt := range bts {
			if i > 0 || note != "" {
				fmt.Fprintln(rc.out)
			}
			writeBacktrace(rc, bt)
		}
		return err
	})
}

// traces unwinds what the flags ask for; note says which CPU the default
// chose and why.
func (c *btCmd) traces(rc *runContext, s *inspect.Session, k *kernel.Kernel) ([]model.Backtrace, string, error) {
	switch {
	case c.All:
		bts, err := k.Backtraces(rc.ctx)
		return bts, "", err
	case c.PID != nil:
		tasks, err := k.TasksByPID(rc.ctx, *c.PID)
		if len(tasks) == 0 {
			return nil, "", err
		}
		var out []model.Backtrace
		for _, t := range tasks {
			bt, berr := k.TaskBacktrace(rc.ctx, t)
			if berr != nil {
				return out, "", berr
			}
			out = append(out, *bt)
		}
		return out, "", nil
	}
	cpu, note := 0, ""
	if c.CPU != nil {
		if err := s.CPU(*c.CPU); err != nil {
			return nil, "", err
		}
		cpu = *c.CPU
	} else if p, why, ok := k.PanicCPU(rc.ctx); ok {
		cpu, note = p, fmt.Sprintf("CPU %d panicked (%s)", p, why)
	} else {
		sets, err := s.Dump().Registers()
		if err != nil || len(sets) == 0 {
			return nil, "", fmt.Errorf("%s: the dump holds no CPU registers to unwind from: %w", s.Name(), model.ErrNotFound)
		}
		cpu = sets[0].CPU
		note = fmt.Sprintf("no CPU panicked: CPU %d, the first", cpu)
	}
	bt, err := k.CPUBacktrace(rc.ctx, cpu)
	if err != nil {
		return nil, note, err
	}
	return []model.Backtrace{*bt}, note, nil
}

// writeBacktrace prints one trace as crash's bt does, with the registers
// of each entry frame and the user-mode registers at the end.
func writeBacktrace(rc *runContext, bt model.Backtrace) {
	w := rc.out
	fmt.Fprintln(w, present.BacktraceTitle(bt))
	regs := func(r *model.PtRegs, where string) {
		fmt.Fprintf(w, "    %s\n", present.PtRegsTitle(r, where))
		for _, l := range present.PtRegsLines(r) {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	for _, f := range bt.Frames {
		if f.Regs != nil {
			regs(f.Regs, f.Location)
		}
		line := present.FrameLine(f)
		if how := present.FrameHow(f); how != "" {
			line += "  " + how
		}
		fmt.Fprintf(w, "%s\n", line)
	}
	if bt.UserRegs != nil {
		regs(bt.UserRegs, "")
	}
	fmt.Fprintln(w, present.BacktraceEnd(bt))
	for _, n := range bt.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
