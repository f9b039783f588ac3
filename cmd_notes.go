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
	return rc.withSession(c.Files, func(s *inspect.Session) error {
		notes, err := s.Dump().Notes()
		if err != nil {
			return err
		}
		if rc.JSON {
			return writeJSONList(rc.out, notes, nil)
		}
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
	return rc.withSession(c.Files, func(s *inspect.Session) error {
		// The dump's own note; without one, the text recovered from
		// memory, or --vmcoreinfo's, said on stderr.
		v, origin, err := s.VMCoreInfo(rc.ctx)
		if err != nil {
			return err
		}
		if v == nil {
			return fmt.Errorf("%s: no VMCOREINFO: %s: %w", s.Name(), origin.Reason, model.ErrNotFound)
		}
		if origin.Source != model.VMCoreInfoFromNote {
			fmt.Fprintf(os.Stderr, "%s: %s: VMCOREINFO %s\n", programName, s.Name(), present.VMCoreInfoOrigin(origin))
		}
		if rc.JSON {
			return writeJSONList(rc.out, v.Entries, nil)
		}
		_, err = rc.out.Write(v.Raw)
		return err
	})
}
