package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"dumpscope/inspect"
	"dumpscope/inspect/kernel"
	"dumpscope/present"
)

// modules lists the loaded modules from the kernel's module list, typed
// by its BTF.

type modulesCmd struct {
	jsonFlag
	filesArg
}

func (c *modulesCmd) Run(rc *runContext) error {
	return rc.withKernel(c.Files, func(s *inspect.Session, k *kernel.Kernel) error {
		mods, err := k.Modules(rc.ctx)
		if rc.JSON {
			return writeJSONList(rc.out, mods, err)
		}
		if len(mods) == 0 && err == nil {
			fmt.Fprintln(rc.out, "no modules loaded")
			return nil
		}
		tw := tabwriter.NewWriter(rc.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(present.ModuleColumns, "\t"))
		for _, m := range mods {
			fmt.Fprintln(tw, strings.Join(present.ModuleRow(m), "\t"))
		}
		tw.Flush()
		return err
	})
}
