package main

import (
	"fmt"
	"io"
	"strings"

	"dumpscope/inspect"
	"dumpscope/internal/hugeheap"
	"dumpscope/model"
	"dumpscope/present"
)

// triage is the first minute's report on one dump: what it is, why and
// where the kernel crashed, and what the dump supports (the verdict).

type triageCmd struct {
	jsonFlag
	filesArg
}

func (c *triageCmd) Run(rc *runContext) error {
	read := func(s *inspect.Session) (*model.Triage, error) {
		hugeheap.Prepare()
		return s.Triage(rc.ctx)
	}
	json := func(t *model.Triage) error { return writeJSON(rc.out, t) }
	return dumpReport(rc, c.Files, read, json, func(_ *inspect.Session, t *model.Triage) error {
		writeTriage(rc.out, t)
		return nil
	})
}

// writeTriage prints the report: what, why (the signature first), where,
// what is usable.
func writeTriage(w io.Writer, t *model.Triage) {
	fmt.Fprintln(w, "what")
	writeRows(w, indent(present.WhatRows(t.What)), 0)
	fmt.Fprintln(w, "why")
	writeRows(w, indent(append(present.SignatureRows(t.Why), present.WhyRows(t.Why)...)), 0)
	fmt.Fprintln(w, "where")
	writeRows(w, indent(append(present.WhereRows(t.Where), present.CPURows(t.Where, t.What.Arch)...)), 0)
	writeStacks(w, t.Where)
	if len(t.Memory.Read) > 0 {
		fmt.Fprintln(w, "memory")
		writeRows(w, indent(present.MemoryRows(t.Memory)), 0)
	}
	fmt.Fprintf(w, "usable: %s\n", t.Usable.Summary)
	writeRows(w, indent(present.VerdictRows(t.Usable)), 0)
	fmt.Fprintf(w, "vmcoreinfo: %s\n", present.VMCoreInfoOrigin(t.VMCoreInfo))
	if s := t.VMCoreInfo.Search; s != nil {
		var rows []present.Row
		for _, c := range s.Candidates {
			rows = append(rows, present.CandidateRow(c))
		}
		writeRows(w, indent(rows), 0)
	}
	writeNotes(w, t.Notes, t.Problems, strings.Join(t.What.Files, " "))
}

// indent puts two spaces before each row's label.
func indent(rows []present.Row) []present.Row {
	out := make([]present.Row, len(rows))
	for i, r := range rows {
		out[i] = present.Row{Key: "  " + r.Key, Value: r.Value}
	}
	return out
}
