package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/aix"
	"dumpscope/reader/rio"
)

// areasCmd lists the components of an AIX dump and their entries (data
// areas), the way the dump's component dump tables describe them.
type areasCmd struct {
	filesArg
}

func (c *areasCmd) Run(rc *runContext) error {
	d, err := openDump(c.Files)
	if err != nil {
		return err
	}
	defer d.Close()
	name := strings.Join(c.Files, " ")
	ar, ok := d.(reader.AreaReader)
	if !ok {
		return usageError{fmt.Sprintf("%s: areas needs an AIX component dump; this is a %s dump", name, d.Info().Format)}
	}
	comps, err := ar.Components()
	if err != nil {
		return err
	}
	if comps == nil {
		comps = []model.Component{}
	}
	if rc.JSON {
		for i := range comps {
			if comps[i].Entries == nil {
				comps[i].Entries = []model.AreaEntry{}
			}
		}
		return writeJSON(rc.out, struct {
			Components []model.Component `json:"components"`
		}{comps})
	}
	for i, comp := range comps {
		if i > 0 {
			fmt.Fprintln(rc.out)
		}
		writeComponent(rc, comp)
	}
	return nil
}

// writeComponent prints one component: a heading, then a table of entries.
func writeComponent(rc *runContext, comp model.Component) {
	magic := aix.MagicName(uint32(comp.Magic))
	head := fmt.Sprintf("component %d %q  %s (%s)  table at %#x  %d entr%s", comp.Index, rio.Printable(comp.Name),
		magic, comp.Magic, comp.Offset, len(comp.Entries), map[bool]string{true: "y", false: "ies"}[len(comp.Entries) == 1])
	if !comp.Complete {
		head += "  (incomplete: the dump ends or breaks inside it)"
	}
	fmt.Fprintln(rc.out, head)
	if len(comp.Entries) == 0 {
		return
	}
	tw := tabwriter.NewWriter(rc.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  entry\tname\taddress\tlength\treal\tsegval\tpresent\tabsent\tbitmap\tdata")
	for _, e := range comp.Entries {
		present, absent, bm, data := "-", "-", "-", "-"
		if e.Length > 0 {
			present, absent = strconv.FormatUint(e.PagesPresent, 10), strconv.FormatUint(e.PagesAbsent, 10)
		}
		if e.BitmapOffset >= 0 {
			bm = fmt.Sprintf("%#x", e.BitmapOffset)
		}
		if e.DataOffset >= 0 {
			data = fmt.Sprintf("%#x", e.DataOffset)
		}
		note := ""
		if !e.Complete {
			note = "\tincomplete: pages lost to truncation"
		}
		fmt.Fprintf(tw, "  %d.%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s%s\n", comp.Index, e.Index, rio.Printable(e.Name), e.Address, e.Length,
			yesNo(e.Real), e.Segval, present, absent, bm, data, note)
	}
	tw.Flush()
}

// readArea is `read --area C.E --addr ADDR --len N`: bytes of one AIX
// entry by its own (virtual or real) address. Pages that are not in the
// dump make it fail with exit 1, naming the range and why, unless
// --zero-fill.
func (c *readCmd) readArea(rc *runContext, d reader.Dump, name string, addr uint64) error {
	ci, ei, ok := parseAreaRef(c.Area)
	if !ok {
		return usageError{fmt.Sprintf("%s: --area %q: want C.E, a component and an entry index as `areas` lists them (for example 2.5)", name, c.Area)}
	}
	ar, isAIX := d.(reader.AreaReader)
	if !isAIX {
		return usageError{fmt.Sprintf("%s: --area needs an AIX component dump; this is a %s dump", name, d.Info().Format)}
	}
	comps, err := ar.Components()
	if err != nil {
		return err
	}
	if ci >= len(comps) || ei >= len(comps[ci].Entries) {
		return fmt.Errorf("%s: no area %s (the dump has %d components; see `areas`): %w", name, c.Area, len(comps), model.ErrNotFound)
	}
	e := comps[ci].Entries[ei]
	label := fmt.Sprintf("area %s %q", c.Area, rio.Printable(e.Name))
	if e.Length == 0 {
		return fmt.Errorf("%s: %s has length 0: nothing of it is in the dump: %w", name, label, model.ErrNotFound)
	}
	start := uint64(e.Address)
	if addr < start || addr-start >= e.Length {
		return usageError{fmt.Sprintf("%s: --addr %#x is outside %s [%#x, %#x+%#x)", name, addr, label, start, start, e.Length)}
	}
	if uint64(c.Len) > e.Length-(addr-start) {
		return usageError{fmt.Sprintf("%s: --addr %#x --len %d runs past the end of %s (%d bytes left)", name, addr, c.Len, label, e.Length-(addr-start))}
	}
	data := make([]byte, c.Len)
	gaps, err := ar.ReadArea(ci, ei, addr, data)
	if err != nil {
		return err
	}
	if len(gaps) > 0 && !c.ZeroFill {
		return areaGapError{fmt.Sprintf("%s: %s %s is %s", name, label, gapRange(gaps[0]), gaps[0].Reason)}
	}
	for _, g := range gaps {
		fmt.Fprintf(os.Stderr, "%s: zero-filled %s %s: %s\n", programName, label, gapRange(g), g.Reason)
	}
	if c.Raw {
		_, err = rc.out.Write(data)
		return err
	}
	return hexdump(rc.out, addr, data)
}

// parseAreaRef parses "C.E".
func parseAreaRef(s string) (int, int, bool) {
	cs, es, ok := strings.Cut(s, ".")
	if !ok {
		return 0, 0, false
	}
	ci, err1 := strconv.Atoi(cs)
	ei, err2 := strconv.Atoi(es)
	if err1 != nil || err2 != nil || ci < 0 || ei < 0 {
		return 0, 0, false
	}
	return ci, ei, true
}

func gapRange(g model.AreaGap) string {
	return fmt.Sprintf("%#x-%#x (%d bytes)", g.Address, g.Address+g.Length, g.Length)
}

// areaGapError says which bytes of an area are not in the dump; it is
// classified as absent data (exit 1).
type areaGapError struct{ msg string }

func (e areaGapError) Error() string { return e.msg }
func (e areaGapError) Unwrap() error { return model.ErrPageAbsent }
