package main

import (
	"fmt"

	"dumpscope/inspect"
	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/present"
)

// struct shows a kernel object typed from the dump's BTF, as crash's
// struct command does. FILE... is the last positional of every command
// (design.md §4), so the type and the address are flags.

type structCmd struct {
	Type  string `name:"type" required:"" placeholder:"TYPE" help:"Type, with an optional member path: task_struct, struct module, task_struct.thread.sp, module.mem[0]."`
	Addr  string `name:"addr" required:"" placeholder:"ADDR" help:"Address of the object (decimal or 0x-hex), or a kallsyms symbol (init_task)."`
	CPU   *int   `name:"cpu" help:"With a per-CPU variable as --addr (runqueues): the copy of this CPU."`
	Depth int    `name:"depth" default:"12" help:"Nesting shown below the object; deeper structures print as {...}."`
	Hex   bool   `name:"hex" help:"Integers in hexadecimal (crash's struct -x)."`
	jsonFlag
	filesArg
}

func (c *structCmd) Run(rc *runContext) error {
	if c.Depth < 1 || c.Depth > 64 {
		return usageError{"--depth must be 1..64"}
	}
	return rc.withKernel(c.Files, func(s *inspect.Session, k *kernel.Kernel) error {
		addr, err := c.address(rc, k)
		if err != nil {
			return err
		}
		st, err := k.Struct(rc.ctx, c.Type, addr, kernel.StructOptions{Depth: c.Depth, Hex: c.Hex})
		if st == nil {
			return err
		}
		if rc.JSON {
			if jerr := writeJSON(rc.out, st); jerr != nil {
				return jerr
			}
			return err
		}
		what := st.Type
		if st.Member != "" {
			what += "." + st.Member
		}
		fmt.Fprintf(rc.out, "%s at %s (%s BTF)\n", what, st.Addr, st.From)
		rc.out.WriteString(present.StructText(st.Value))
		return err
	})
}

// address reads --addr: a number, or a kallsyms symbol; a per-CPU
// variable needs --cpu.
func (c *structCmd) address(rc *runContext, k *kernel.Kernel) (uint64, error) {
	if v, err := present.ParseNumber(c.Addr); err == nil {
		if c.CPU != nil {
			return 0, usageError{"--cpu goes with a per-CPU variable's name as --addr"}
		}
		return v, nil
	}
	syms, err := k.Symbols(rc.ctx)
	if err != nil {
		return 0, err
	}
	found, err := syms.LookupErr(c.Addr)
	if err != nil {
		return 0, fmt.Errorf("%s: --addr %s is neither a number nor a symbol: %w", k.Name(), c.Addr, err)
	}
	if len(found) > 1 {
		return 0, fmt.Errorf("%s: --addr %s names %d symbols: give the address: %w", k.Name(), c.Addr, len(found), model.ErrNotFound)
	}
	perCPU := k.IsPerCPU(rc.ctx, c.Addr)
	switch {
	case perCPU && c.CPU == nil:
		return 0, usageError{fmt.Sprintf("%s is a per-CPU variable: say whose copy with --cpu N", c.Addr)}
	case perCPU:
		va, err := k.PerCPUAddr(rc.ctx, c.Addr, *c.CPU)
		return uint64(va), err
	case c.CPU != nil:
		return 0, usageError{fmt.Sprintf("%s is not a per-CPU variable: --cpu does not apply", c.Addr)}
	}
	return uint64(found[0].Addr), nil
}
