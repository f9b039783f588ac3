package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/present"
)

// modules lists the loaded modules from the kernel's module list, typed
// by its BTF.

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
