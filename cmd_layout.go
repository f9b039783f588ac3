package main

import (
	"fmt"
	"strings"

	"dumpscope/inspect"
	"dumpscope/model"
)

type layoutCmd struct {
	filesArg
}

func (c *layoutCmd) Run(rc *runContext) error {
	return rc.withSession(c.Files, func(s *inspect.Session) error {
		root, err := s.Dump().Layout()
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
	})
}
