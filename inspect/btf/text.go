package btf

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteText writes a formatted value as crash's `struct` command prints
// it (gdb's print style):
//
//	struct list_head {
//	  next = 0xffff888003a5c0a0,
//	  prev = 0xffff888003a5c0a0
//	}
//
// Arrays of scalars print inline ({1, 2, 3}); arrays of structs one
// element a line with its index. Left-out elements print as "...", values
// that could not be read as <error>.
func WriteText(w io.Writer, v Value) error {
	bw := bufio.NewWriter(w)
	if len(v.Children) > 0 || v.More > 0 {
		fmt.Fprintf(bw, "%s ", v.Type)
		writeBody(bw, v, 0)
	} else {
		fmt.Fprintf(bw, "%s %s", v.Type, scalarText(v))
	}
	bw.WriteString("\n")
	return bw.Flush()
}

// Text is WriteText into a string.
func (v Value) Text() string {
	var sb strings.Builder
	WriteText(&sb, v)
	return sb.String()
}

func scalarText(v Value) string {
	if v.Error != "" {
		return "<" + v.Error + ">"
	}
	return v.Value
}

func inline(v Value) bool {
	for _, c := range v.Children {
		if len(c.Children) > 0 || c.More > 0 || !strings.HasPrefix(c.Name, "[") {
			return false
		}
	}
	return true
}

// writeBody writes a composite's braces and children at an indent level.
func writeBody(w *bufio.Writer, v Value, level int) {
	if inline(v) {
		parts := make([]string, 0, len(v.Children)+1)
		for _, c := range v.Children {
			parts = append(parts, scalarText(c))
		}
		if v.More > 0 {
			parts = append(parts, fmt.Sprintf("... (%d more)", v.More))
		}
		w.WriteString("{" + strings.Join(parts, ", ") + "}")
		return
	}
	w.WriteString("{\n")
	pad := strings.Repeat("  ", level+1)
	for i, c := range v.Children {
		w.WriteString(pad)
		if c.Name != "" {
			w.WriteString(c.Name + " = ")
		}
		if len(c.Children) > 0 || c.More > 0 {
			writeBody(w, c, level+1)
		} else {
			w.WriteString(scalarText(c))
		}
		if i < len(v.Children)-1 || v.More > 0 {
			w.WriteString(",")
		}
		w.WriteString("\n")
	}
	if v.More > 0 {
		fmt.Fprintf(w, "%s... (%d more)\n", pad, v.More)
	}
	w.WriteString(strings.Repeat("  ", level) + "}")
}
