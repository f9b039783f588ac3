package btf

import "io"

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
// that could not be read as <error>. It is Value.Text
// (model.StructValue.Text) written to w.
func WriteText(w io.Writer, v Value) error {
	_, err := io.WriteString(w, v.Text())
	return err
}
