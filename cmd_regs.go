package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/present"
)

type regsCmd struct {
	CPU *int `name:"cpu" help:"Only this CPU (index as stored in the dump)."`
	jsonFlag
	filesArg
}

func (c *regsCmd) Run(rc *runContext) error {
	json := func(sets []model.RegisterSet) error { return writeJSONList(rc.out, sets, nil) }
	return dumpReport(rc, c.Files, c.read, json, func(s *inspect.Session, sets []model.RegisterSet) error {
		if len(sets) == 0 {
			return errors.Join(fmt.Errorf("%s: the dump holds no CPU registers", s.Name()), model.ErrNotFound)
		}
		for i, set := range sets {
			if i > 0 {
				fmt.Fprintln(rc.out)
			}
			writeRegs(rc.out, set)
		}
		return nil
	})
}

// read reads the register sets, only --cpu's when it is given.
func (c *regsCmd) read(s *inspect.Session) ([]model.RegisterSet, error) {
	sets, err := s.Dump().Registers()
	if err != nil || c.CPU == nil {
		return sets, err
	}
	if err := s.CPU(*c.CPU); err != nil {
		return nil, err
	}
	var sel []model.RegisterSet
	for _, r := range sets {
		if r.CPU == *c.CPU {
			sel = append(sel, r)
		}
	}
	return sel, nil
}

// writeRegs prints one register set grouped, with decoded bits.
func writeRegs(w io.Writer, s model.RegisterSet) {
	fmt.Fprintln(w, present.RegisterSetTitle(s))
	for _, g := range present.RegisterGroups(s) {
		fmt.Fprintf(w, "  %s:\n", g.Name)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, r := range g.Regs {
			fmt.Fprintf(tw, "    %s\t%s", r.Name, present.RegisterValue(r))
			if r.Bits != nil {
				fmt.Fprintf(tw, "\t%s", model.FormatBits(r.Bits))
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
}
