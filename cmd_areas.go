package main

import (
	"fmt"
	"strconv"
	"text/tabwriter"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/reader"
)

// areasCmd lists the components of an AIX dump and their entries (data
// areas), the way the dump's component dump tables describe them.
type areasCmd struct {
	jsonFlag
	filesArg
}

func (c *areasCmd) Run(rc *runContext) error {
	return rc.withSession(c.Files, func(s *inspect.Session) error { return c.run(rc, s) })
}

func (c *areasCmd) run(rc *runContext, s *inspect.Session) error {
	_, comps, err := components(s, "areas")
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

// components returns the area reader and the components of an AIX
// component dump; for any other dump a usage error says that what (the
// command or flag) needs one.
func components(s *inspect.Session, what string) (reader.AreaReader, []model.Component, error) {
	d := s.Dump()
	ar, ok := d.(reader.AreaReader)
	if !ok {
		return nil, nil, usageError{fmt.Sprintf("%s: %s needs an AIX component dump; this is %s", s.Name(), what, present.Article(string(d.Info().Format)+" dump"))}
	}
	comps, err := ar.Components()
	if err != nil {
		return nil, nil, err
	}
	return ar, comps, nil
}

// writeComponent prints one component: a heading, then a table of entries.
func writeComponent(rc *runContext, comp model.Component) {
	magic := comp.MagicName
	head := fmt.Sprintf("component %d %q  %s (%s)  table at %#x  %d entr%s", comp.Index, reader.Printable(comp.Name),
		magic, comp.Magic, comp.Offset, len(comp.Entries), map[bool]string{true: "y", false: "ies"}[len(comp.Entries) == 1])
	if !comp.Complete {
		head += "  (incomplete: the dump ends or breaks inside it)"
	}
	fmt.Fprintln(rc.out, head)
	if len(comp.Entries) == 0 {
		return
	}
	tw := tabwriter.NewWriter(rc.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  entry\tname\taddress\tlength\treal\tsegval\tpresent\tabsent\tlost\tbitmap\tdata")
	for _, e := range comp.Entries {
		pres, absent, lost, bm, data := "-", "-", "-", "-", "-"
		if e.Length > 0 {
			pres, absent = strconv.FormatUint(e.PagesPresent, 10), strconv.FormatUint(e.PagesAbsent, 10)
			lost = strconv.FormatUint(e.PagesLost, 10)
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
		fmt.Fprintf(tw, "  %d.%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s%s\n", comp.Index, e.Index, reader.Printable(e.Name), e.Address, e.Length,
			present.YesNo(e.Real), e.Segval, pres, absent, lost, bm, data, note)
	}
	tw.Flush()
}
