package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/present"
)

// The note commands: notes (every ELF-style note) and vmcoreinfo (the
// kernel's VMCOREINFO note as stored).

type notesCmd struct {
	jsonFlag
	filesArg
}

func (c *notesCmd) Run(rc *runContext) error {
	read := func(s *inspect.Session) ([]model.Note, error) { return s.Dump().Notes() }
	json := func(notes []model.Note) error { return writeJSONList(rc.out, notes, nil) }
	return dumpReport(rc, c.Files, read, json, func(_ *inspect.Session, notes []model.Note) error {
		tw := tabwriter.NewWriter(rc.out, 0, 0, 2, ' ', 0)
		tw.Write([]byte(strings.Join(present.NoteColumns, "\t") + "\n"))
		for _, n := range notes {
			tw.Write([]byte(strings.Join(present.NoteRow(n), "\t") + "\n"))
		}
		return tw.Flush()
	})
}

type vmcoreinfoCmd struct {
	jsonFlag
	filesArg
}

func (c *vmcoreinfoCmd) Run(rc *runContext) error {
	// The dump's own note; without one, the text recovered from memory,
	// or --vmcoreinfo's, said on stderr.
	read := func(s *inspect.Session) (*model.VMCoreInfo, error) {
		v, origin, err := s.VMCoreInfo(rc.ctx)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, fmt.Errorf("%s: no VMCOREINFO: %s: %w", s.Name(), origin.Reason, model.ErrNotFound)
		}
		if origin.Source != model.VMCoreInfoFromNote {
			fmt.Fprintf(os.Stderr, "%s: %s: VMCOREINFO %s\n", programName, s.Name(), present.VMCoreInfoOrigin(origin))
		}
		return v, nil
	}
	json := func(v *model.VMCoreInfo) error { return writeJSONList(rc.out, v.Entries, nil) }
	return dumpReport(rc, c.Files, read, json, func(_ *inspect.Session, v *model.VMCoreInfo) error {
		_, err := rc.out.Write(v.Raw)
		return err
	})
}
