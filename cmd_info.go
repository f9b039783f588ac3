package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"dumpscope/model"
)

type infoCmd struct {
	NoCrash bool `name:"no-crash" help:"Leave out the crash summary, which reads kallsyms, the kernel log and the stacks from memory."`
	optFilesArg
}

func (c *infoCmd) Run(rc *runContext) error {
	d, err := openDump(c.Files)
	if err != nil {
		return err
	}
	defer d.Close()
	info := d.Info()
	if !c.NoCrash {
		info.Crash = crashSummary(d)
	}
	if rc.JSON {
		return writeJSON(rc.out, info)
	}
	writeInfo(rc.out, info)
	writeCrashSummary(rc.out, info.Crash)
	return nil
}

// writeInfo prints Info as aligned "label  value" lines.
func writeInfo(w io.Writer, in model.Info) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("files", strings.Join(in.Files, " "))
	row("format", fmt.Sprintf("%s (%s container, %d file%s)", in.Format, in.Container, in.Parts, plural(in.Parts)))
	row("arch", fmt.Sprintf("%s, %s-endian", in.Arch, in.Endian))
	row("page size", fmt.Sprint(in.PageSize))
	row("frames", fmt.Sprintf("%d (pfn 0x0-%#x), %s", in.MaxPFN, max(in.MaxPFN, 1)-1, in.FrameKind))
	row("pages", formatCounts(in.Pages))
	row("cpus", fmt.Sprint(in.CPUs))
	row("osrelease", orDash(in.OSRelease))
	ct := "-"
	if in.CrashTime != nil {
		ct = fmt.Sprintf("%d (%s)", *in.CrashTime, time.Unix(*in.CrashTime, 0).UTC().Format(time.RFC3339))
	}
	row("crash time", ct)
	row("build-id", orDash(in.BuildID))
	row("vmcoreinfo", yesNo(in.VMCoreInfo))
	if in.HeaderVersion != nil {
		row("header version", fmt.Sprint(*in.HeaderVersion))
	}
	codecs := make([]string, len(in.Compression))
	for i, c := range in.Compression {
		codecs[i] = string(c)
	}
	row("compression", orDash(strings.Join(codecs, ", ")))
	row("flags", orDash(strings.Join(in.Flags, ", ")))
	for _, kv := range in.Details {
		row(kv.Key, kv.Value)
	}
	tw.Flush()
	if len(in.Warnings) > 0 {
		fmt.Fprintf(w, "problems (%d):\n", len(in.Warnings))
		for _, p := range in.Warnings {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

// formatCounts prints state counts in the contract's state order.
func formatCounts(c model.StateCounts) string {
	var parts []string
	for _, s := range model.AllStates {
		if n := c[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	return orDash(strings.Join(parts, ", "))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

type layoutCmd struct {
	filesArg
}

func (c *layoutCmd) Run(rc *runContext) error {
	d, err := openDump(c.Files)
	if err != nil {
		return err
	}
	defer d.Close()
	root, err := d.Layout()
	if err != nil {
		return err
	}
	if rc.JSON {
		return writeJSON(rc.out, root)
	}
	root.Walk(func(n *model.Field, depth int) bool {
		file := ""
		if n.File != "" && depth > 0 {
			file = "  [" + n.File + "]"
		}
		name := strings.Repeat("  ", depth) + n.Name
		val := ""
		if n.Value != "" {
			val = " = " + n.Value
		}
		fmt.Fprintf(rc.out, "%#10x %7d  %s%s%s", n.Offset, n.Size, name, val, file)
		if n.Meaning != "" {
			fmt.Fprintf(rc.out, "  -- %s", n.Meaning)
		}
		fmt.Fprintln(rc.out)
		return true
	})
	return nil
}

type notesCmd struct {
	filesArg
}

func (c *notesCmd) Run(rc *runContext) error {
	d, err := openDump(c.Files)
	if err != nil {
		return err
	}
	defer d.Close()
	notes, err := d.Notes()
	if err != nil {
		return err
	}
	if rc.JSON {
		if notes == nil {
			notes = []model.Note{}
		}
		return writeJSON(rc.out, notes)
	}
	tw := tabwriter.NewWriter(rc.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\toffset\tname\ttype\tsize\tsummary")
	for _, n := range notes {
		typ := fmt.Sprintf("%#x", n.Type)
		if n.TypeName != "" {
			typ += " " + n.TypeName
		}
		fmt.Fprintf(tw, "%d\t%#x\t%s\t%s\t%d\t%s\n", n.Index, n.Offset, n.Name, typ, n.DescSize, n.Summary)
	}
	return tw.Flush()
}

type vmcoreinfoCmd struct {
	filesArg
}

func (c *vmcoreinfoCmd) Run(rc *runContext) error {
	d, err := openDump(c.Files)
	if err != nil {
		return err
	}
	defer d.Close()
	v, err := d.VMCoreInfo()
	if err != nil {
		return err
	}
	if rc.JSON {
		entries := v.Entries
		if entries == nil {
			entries = []model.VMCoreInfoEntry{}
		}
		return writeJSON(rc.out, entries)
	}
	_, err = rc.out.Write(v.Raw)
	return err
}

type regsCmd struct {
	CPU *int `name:"cpu" help:"Only this CPU (index as stored in the dump)."`
	filesArg
}

func (c *regsCmd) Run(rc *runContext) error {
	d, err := openDump(c.Files)
	if err != nil {
		return err
	}
	defer d.Close()
	sets, err := d.Registers()
	if err != nil {
		return err
	}
	if c.CPU != nil {
		var sel []model.RegisterSet
		for _, s := range sets {
			if s.CPU == *c.CPU {
				sel = append(sel, s)
			}
		}
		if len(sel) == 0 {
			return fmt.Errorf("%s: no registers for CPU %d (the dump has %d register sets): %w",
				strings.Join(c.Files, " "), *c.CPU, len(sets), model.ErrNotFound)
		}
		sets = sel
	}
	if rc.JSON {
		if sets == nil {
			sets = []model.RegisterSet{}
		}
		return writeJSON(rc.out, sets)
	}
	if len(sets) == 0 {
		return errors.Join(fmt.Errorf("%s: the dump holds no CPU registers", strings.Join(c.Files, " ")), model.ErrNotFound)
	}
	for i, s := range sets {
		if i > 0 {
			fmt.Fprintln(rc.out)
		}
		writeRegs(rc.out, s)
	}
	return nil
}

// writeRegs prints one register set grouped, with decoded bits.
func writeRegs(w io.Writer, s model.RegisterSet) {
	head := fmt.Sprintf("CPU %d  %s  %s", s.CPU, s.Source, s.Arch)
	if s.PID != nil {
		head += fmt.Sprintf("  pid %d", *s.PID)
	}
	if s.Signal != nil && *s.Signal != 0 {
		head += fmt.Sprintf("  signal %d", *s.Signal)
	}
	fmt.Fprintln(w, head)
	groups := map[string][]model.Register{}
	for _, r := range s.Registers {
		groups[r.Group] = append(groups[r.Group], r)
	}
	order := []string{model.GroupGeneral, model.GroupFlags, model.GroupSegment, model.GroupControl, model.GroupDebug, model.GroupOther}
	known := map[string]bool{}
	for _, g := range order {
		known[g] = true
	}
	for g := range groups {
		if !known[g] {
			order = append(order, g)
		}
	}
	sort.SliceStable(order[6:], func(i, j int) bool { return order[6+i] < order[6+j] })
	for _, g := range order {
		regs := groups[g]
		if len(regs) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %s:\n", g)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, r := range regs {
			fmt.Fprintf(tw, "    %s\t0x%0*x", r.Name, 2*max(r.Size, 1), r.Value)
			if r.Bits != nil {
				fmt.Fprintf(tw, "\t%s", model.FormatBits(r.Bits))
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
}
