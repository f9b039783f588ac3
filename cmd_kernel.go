package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"dumpscope/inspect"
	"dumpscope/inspect/kernel"
	"dumpscope/internal/hugeheap"
	"dumpscope/model"
	"dumpscope/present"
)

// The kernel commands read the crashed kernel's own structures through the
// kernel engine (inspect/kernel): dmesg, vtop, sym; disasm and find have
// files of their own, read --vaddr is in cmd_read.go.

// withKernel opens the dump of files and its kernel engine, runs fn and
// closes the dump. The engine builds megabytes of tables (BTF, kallsyms,
// ORC): the heap they go to is placed in huge pages first
// (hugeheap.Prepare; the same in info's crash analysis and triage).
func (rc *runContext) withKernel(files []string, fn func(s *inspect.Session, k *kernel.Kernel) error) error {
	return rc.withSession(files, func(s *inspect.Session) error {
		hugeheap.Prepare()
		k, err := s.KernelContext(rc.ctx)
		if err != nil {
			return err
		}
		return fn(s, k)
	})
}

// kernelList is the skeleton of the commands that list what the kernel
// engine reads (log records, tasks, modules): --json writes the list as a
// JSON array, else text prints it. A read that fails part way still shows
// what it read; its error (which text is given too) ends the command.
func kernelList[T any](rc *runContext, files []string, read func(k *kernel.Kernel, ctx context.Context) ([]T, error), text func(list []T, err error)) error {
	return rc.withKernel(files, func(s *inspect.Session, k *kernel.Kernel) error {
		list, err := read(k, rc.ctx)
		if rc.JSON {
			return writeJSONList(rc.out, list, err)
		}
		text(list, err)
		return err
	})
}

type dmesgCmd struct {
	jsonFlag
	filesArg
}

func (c *dmesgCmd) Run(rc *runContext) error {
	return kernelList(rc, c.Files, (*kernel.Kernel).Log, func(recs []model.LogRecord, _ error) {
		for _, r := range recs {
			rc.out.WriteString(model.DmesgLine(r))
			rc.out.WriteByte('\n')
		}
	})
}

type vtopCmd struct {
	Vaddr Addr `name:"vaddr" required:"" help:"Kernel virtual address (0x-hex, bare hex as System.map prints it, or decimal)."`
	CPU   *int `name:"cpu" help:"Walk the page tables of this CPU's cr3 instead of the kernel's own."`
	jsonFlag
	filesArg
}

func (c *vtopCmd) Run(rc *runContext) error {
	return rc.withKernel(c.Files, func(s *inspect.Session, k *kernel.Kernel) error { return c.run(rc, k) })
}

func (c *vtopCmd) run(rc *runContext, k *kernel.Kernel) error {
	var tr model.Translation
	var err error
	if c.CPU != nil {
		tr, err = k.TranslateCPU(rc.ctx, model.VirtAddr(c.Vaddr), *c.CPU)
	} else {
		tr, err = k.Translate(rc.ctx, model.VirtAddr(c.Vaddr))
	}
	if rc.JSON {
		if tr.Steps == nil {
			tr.Steps = []model.VtopStep{}
		}
		if jerr := writeJSON(rc.out, tr); jerr != nil {
			return jerr
		}
		return err
	}
	writeTranslation(rc.out, tr)
	return err
}

// writeTranslation prints a walk: a heading, one line per entry, and the
// result with the shortcut's verdict.
func writeTranslation(w io.Writer, tr model.Translation) {
	if tr.Paging == "" {
		return // nothing was walked
	}
	fmt.Fprintf(w, "vaddr %s: %s, root %s (%s)\n", tr.VirtAddr, tr.Paging, tr.Root, tr.RootFrom)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range tr.Steps {
		next := ""
		if s.Next != nil {
			next = "-> " + s.Next.String()
			if s.Large {
				next += " (large page)"
			}
		}
		flags := strings.Join(s.Flags, " ")
		if s.Next == nil {
			flags = "not present"
		}
		fmt.Fprintf(tw, "  %s[%d]\t%s\t= %#016x\t%s\t%s\n", s.Level, s.Index, s.EntryAddr, uint64(s.Entry), flags, next)
	}
	tw.Flush()
	if tr.Mapped {
		fmt.Fprintf(w, "phys %s (pfn %s, %s) by %s, %s page\n", tr.PhysAddr, tr.PFN,
			present.OrDash(string(tr.PageState)), tr.Method, present.SizeName(tr.PageSize))
	}
	if sc := tr.Shortcut; sc != nil {
		verdict := "not checked"
		if sc.Agrees != nil && *sc.Agrees {
			verdict = "agrees with the walk"
		} else if sc.Agrees != nil {
			verdict = "DISAGREES with the walk"
		}
		fmt.Fprintf(w, "%s: %s, %s\n", sc.Kind, sc.PhysAddr, verdict)
	}
	if tr.Note != "" {
		fmt.Fprintf(w, "note: %s\n", tr.Note)
	}
}

type symCmd struct {
	Addr *Addr  `name:"addr" help:"Address to resolve to symbol+offset/size (0x-hex, bare hex as System.map prints it, or decimal)."`
	Name string `name:"name" help:"Symbol to resolve to its address (several when static symbols share the name)."`
	jsonFlag
	filesArg
}

func (c *symCmd) Run(rc *runContext) error {
	if (c.Addr == nil) == (c.Name == "") {
		return usageError{"sym needs exactly one of --addr and --name"}
	}
	return rc.withKernel(c.Files, func(s *inspect.Session, k *kernel.Kernel) error { return c.run(rc, k) })
}

func (c *symCmd) run(rc *runContext, k *kernel.Kernel) error {
	syms, err := k.Symbols(rc.ctx)
	if err != nil {
		return err
	}
	if c.Addr != nil {
		ref, err := syms.AddrErr(uint64(*c.Addr))
		if err != nil {
			// Beyond the image: a module's symbol, named with its module.
			r, ok := k.Symbolize(rc.ctx, uint64(*c.Addr))
			if !ok {
				return fmt.Errorf("%s: %w", k.Name(), err)
			}
			ref = r
		}
		if rc.JSON {
			return writeJSON(rc.out, ref)
		}
		fmt.Fprintf(rc.out, "%s %s (%s %s at %s)\n", ref.Addr, ref, ref.Symbol.Type, ref.Symbol.Name, ref.Symbol.Addr)
		return nil
	}
	found, err := syms.LookupErr(c.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", k.Name(), err)
	}
	if rc.JSON {
		return writeJSON(rc.out, found)
	}
	for _, s := range found {
		fmt.Fprintf(rc.out, "%s %s %s (size %#x)\n", s.Addr, s.Type, s.Name, s.Size)
	}
	return nil
}
