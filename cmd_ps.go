package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/present"
)

// ps, task and modules read the crashed kernel's task and module lists,
// typed by the BTF the kernel keeps in its memory (CONFIG_DEBUG_INFO_BTF),
// from kallsyms (CONFIG_KALLSYMS_ALL, listed in VMCOREINFO since Linux
// 6.0).

type psCmd struct {
	jsonFlag
	filesArg
}

func (c *psCmd) Run(rc *runContext) error {
	return kernelList(rc, c.Files, (*kernel.Kernel).Tasks, func(tasks []model.Task, _ error) { writeTasks(rc, tasks) })
}

// writeTasks prints tasks as crash's ps does: numbers right-aligned,
// the command left-aligned.
func writeTasks(rc *runContext, tasks []model.Task) {
	if len(tasks) == 0 {
		return
	}
	rows := [][]string{present.TaskColumns}
	for _, t := range tasks {
		rows = append(rows, present.TaskRow(t))
	}
	width := make([]int, len(present.TaskColumns))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			fmt.Fprintf(&b, "%*s  ", width[i], c)
		}
		fmt.Fprintln(rc.out, b.String())
	}
}

type taskCmd struct {
	PID int64 `name:"pid" required:"" help:"The task's pid (pid 0 lists each CPU's idle task)."`
	jsonFlag
	filesArg
}

func (c *taskCmd) Run(rc *runContext) error {
	byPID := func(k *kernel.Kernel, ctx context.Context) ([]model.Task, error) { return k.TasksByPID(ctx, c.PID) }
	return kernelList(rc, c.Files, byPID, func(tasks []model.Task, _ error) {
		for i, t := range tasks {
			if i > 0 {
				fmt.Fprintln(rc.out)
			}
			tw := tabwriter.NewWriter(rc.out, 0, 0, 2, ' ', 0)
			for _, r := range present.TaskRows(t) {
				fmt.Fprintf(tw, "%s\t%s\n", r.Key, r.Value)
			}
			tw.Flush()
		}
	})
}

type modulesCmd struct {
	jsonFlag
	filesArg
}

func (c *modulesCmd) Run(rc *runContext) error {
	return kernelList(rc, c.Files, (*kernel.Kernel).Modules, func(mods []model.Module, err error) {
		if len(mods) == 0 && err == nil {
			fmt.Fprintln(rc.out, "no modules loaded")
			return
		}
		tw := tabwriter.NewWriter(rc.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(present.ModuleColumns, "\t"))
		for _, m := range mods {
			fmt.Fprintln(tw, strings.Join(present.ModuleRow(m), "\t"))
		}
		tw.Flush()
	})
}
