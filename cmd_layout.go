package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"dumpscope/inspect"
	"dumpscope/model"
)

type layoutCmd struct {
	jsonFlag
	filesArg
}

func (c *layoutCmd) Run(rc *runContext) error {
	read := func(s *inspect.Session) (*model.Field, error) { return s.Dump().Layout() }
	json := func(root *model.Field) error {
		writeFieldJSON(rc.out, root, "")
		rc.out.WriteByte('\n')
		return nil
	}
	return dumpReport(rc, c.Files, read, json, func(_ *inspect.Session, root *model.Field) error {
		writeLayout(rc.out, root)
		return nil
	})
}

// writeLayout prints the tree a field a line: offset, size, the name
// indented by depth, its value, the file of a top-level structure's
// child and its meaning.
func writeLayout(w io.Writer, root *model.Field) {
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
		fmt.Fprintf(w, "%#10x %7d  %s%s%s", n.Offset, n.Size, name, val, file)
		if n.Meaning != "" {
			fmt.Fprintf(w, "  -- %s", n.Meaning)
		}
		fmt.Fprintln(w)
		return true
	})
}

// writeFieldJSON writes the tree node by node, as writeJSON would write
// it whole (the keys of model.Field's tags, two-space indent), so that a
// large tree is never held twice, once as values and once as text.
func writeFieldJSON(w *bufio.Writer, n *model.Field, indent string) {
	in := indent + "  "
	key := func(k string) {
		w.WriteString(in)
		w.WriteString(`"` + k + `": `)
	}
	w.WriteString("{\n")
	key("name")
	writeJSONString(w, n.Name)
	if n.File != "" {
		w.WriteString(",\n")
		key("file")
		writeJSONString(w, n.File)
	}
	w.WriteString(",\n")
	key("offset")
	w.WriteString(strconv.FormatInt(int64(n.Offset), 10))
	if n.StreamOffset != nil {
		w.WriteString(",\n")
		key("stream_offset")
		w.WriteString(strconv.FormatInt(int64(*n.StreamOffset), 10))
	}
	w.WriteString(",\n")
	key("size")
	w.WriteString(strconv.FormatInt(n.Size, 10))
	w.WriteString(",\n")
	key("value")
	writeJSONString(w, n.Value)
	w.WriteString(",\n")
	key("meaning")
	writeJSONString(w, n.Meaning)
	if len(n.Children) > 0 {
		w.WriteString(",\n")
		key("children")
		w.WriteString("[\n")
		for i, c := range n.Children {
			if i > 0 {
				w.WriteString(",\n")
			}
			w.WriteString(in + "  ")
			writeFieldJSON(w, c, in+"  ")
		}
		w.WriteString("\n" + in + "]")
	}
	w.WriteString("\n" + indent + "}")
}

// writeJSONString writes s as a JSON string, escaped as writeJSON does
// (no HTML escaping).
func writeJSONString(w *bufio.Writer, s string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
