package main

import (
	"fmt"
	"text/tabwriter"

	"dumpscope/inspect"
	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/present"
)

type disasmCmd struct {
	CPU   *int  `name:"cpu" help:"CPU whose instruction pointer to start from (default: the crashing CPU, else the first)."`
	Vaddr *Addr `name:"vaddr" help:"Address to disassemble around instead of an instruction pointer (0x-hex, bare hex as System.map prints it, or decimal)."`
	Count Num   `default:"16" help:"Number of instructions."`
	Intel bool  `help:"Intel syntax instead of GNU (AT&T)."`
	filesArg
}

func (c *disasmCmd) Run(rc *runContext) error {
	if c.Count == 0 || c.Count > 4096 {
		return usageError{"--count must be 1..4096"}
	}
	return rc.withKernel(c.Files, func(s *inspect.Session, k *kernel.Kernel) error { return c.run(rc, k) })
}

func (c *disasmCmd) run(rc *runContext, k *kernel.Kernel) error {
	o := kernel.DisasmOptions{Count: int(c.Count), Intel: c.Intel}
	if c.Vaddr != nil {
		a := model.VirtAddr(*c.Vaddr)
		o.Addr = &a
	}
	switch {
	case c.CPU != nil:
		o.CPU = *c.CPU
	case c.Vaddr == nil:
		if cpu := k.CrashCPU(rc.ctx); cpu != nil {
			o.CPU = *cpu
		}
	}
	dis, err := k.Disassemble(rc.ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(rc.out, "%s  %s  (%s)\n", dis.Addr, present.OrDash(dis.Location), dis.From)
	for _, n := range dis.Notes {
		fmt.Fprintf(rc.out, "note: %s\n", n)
	}
	tw := tabwriter.NewWriter(rc.out, 0, 0, 1, ' ', 0)
	for _, in := range dis.Instructions {
		p := present.Instruction(in)
		fmt.Fprintf(tw, "%s %s %s:\t%s\t%s\n", p.Mark, in.Addr, p.Location, p.Bytes, p.Text)
	}
	tw.Flush()
	if c.Vaddr != nil {
		return nil
	}
	words, err := k.Stack(rc.ctx, o.CPU)
	if err != nil {
		fmt.Fprintf(rc.out, "\nstack: %v\n", err)
		return nil
	}
	fmt.Fprintf(rc.out, "\nstack of CPU %d: words that point into kernel text, from the stack pointer up\n", o.CPU)
	for _, w := range words {
		fmt.Fprintf(rc.out, "  %s: %s %s\n", w.Addr, w.Value, w.Symbol)
	}
	return nil
}
