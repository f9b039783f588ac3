package model

import (
	"fmt"
	"strings"
)

// Text lays out a typed object as crash's `struct` command prints it
// (gdb's print style):
//
//	struct list_head {
//	  next = 0xffff888003a5c0a0,
//	  prev = 0xffff888003a5c0a0
//	}
//
// Members print one a line, nested structures indented; arrays of scalars
// print inline ({1, 2, 3}), arrays of structs one element a line with its
// index. Left-out members print as "... (N more)", values that could not
// be read as <why>. The text ends with a newline.
func (v StructValue) Text() string {
	var b strings.Builder
	if len(v.Children) > 0 || v.More > 0 {
		b.WriteString(v.Type + " ")
		v.writeBody(&b, 0)
	} else {
		b.WriteString(v.Type + " " + v.scalarText())
	}
	b.WriteString("\n")
	return b.String()
}

// scalarText is a leaf's value, or <why> when it could not be read.
func (v StructValue) scalarText() string {
	if v.Error != "" {
		return "<" + v.Error + ">"
	}
	return v.Value
}

// inlineArray reports whether v is an array of scalars, printed on one
// line.
func (v StructValue) inlineArray() bool {
	for _, c := range v.Children {
		if len(c.Children) > 0 || c.More > 0 || !strings.HasPrefix(c.Name, "[") {
			return false
		}
	}
	return true
}

// writeBody writes a composite's braces and children at an indent level.
func (v StructValue) writeBody(b *strings.Builder, level int) {
	if v.inlineArray() {
		parts := make([]string, 0, len(v.Children)+1)
		for _, c := range v.Children {
			parts = append(parts, c.scalarText())
		}
		if v.More > 0 {
			parts = append(parts, fmt.Sprintf("... (%d more)", v.More))
		}
		b.WriteString("{" + strings.Join(parts, ", ") + "}")
		return
	}
	b.WriteString("{\n")
	pad := strings.Repeat("  ", level+1)
	for i, c := range v.Children {
		b.WriteString(pad)
		if c.Name != "" {
			b.WriteString(c.Name + " = ")
		}
		if len(c.Children) > 0 || c.More > 0 {
			c.writeBody(b, level+1)
		} else {
			b.WriteString(c.scalarText())
		}
		if i < len(v.Children)-1 || v.More > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	if v.More > 0 {
		fmt.Fprintf(b, "%s... (%d more)\n", pad, v.More)
	}
	b.WriteString(strings.Repeat("  ", level) + "}")
}
