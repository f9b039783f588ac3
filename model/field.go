package model

// Field is one node of an annotated layout tree: a structure or a field of
// one, where it is in a file, what it holds and what it means. The layout
// view and `dumpscope layout` are built from these.
type Field struct {
	// Name is the C name of the structure or field, with an index for
	// array elements ("Elf64_Phdr[3]", "p_offset").
	Name string `json:"name"`
	// File names the file the offset refers to when it differs from the
	// parent node's (split sets); empty means "same as the parent".
	File string `json:"file,omitempty"`
	// Offset is the byte offset of the field in File. For flattened
	// streams it is the offset in the rearranged (logical) file.
	Offset FileOff `json:"offset"`
	// StreamOffset is the offset in the flattened stream, when the dump is
	// flattened and the field lies in a single record.
	StreamOffset *FileOff `json:"stream_offset,omitempty"`
	// Size is the size of the field in bytes.
	Size int64 `json:"size"`
	// Value is the decoded value as text.
	Value string `json:"value"`
	// Meaning is a one-line explanation.
	Meaning string `json:"meaning"`
	// Children are the fields inside this one, in file order.
	Children []*Field `json:"children,omitempty"`
}

// Add appends a child and returns it, so trees can be built in one pass.
func (f *Field) Add(c *Field) *Field {
	f.Children = append(f.Children, c)
	return c
}

// Walk calls fn for f and every descendant, depth first, with the depth of
// each node (0 for f). It stops early if fn returns false.
func (f *Field) Walk(fn func(n *Field, depth int) bool) bool {
	return f.walk(fn, 0)
}

func (f *Field) walk(fn func(*Field, int) bool, depth int) bool {
	if !fn(f, depth) {
		return false
	}
	for _, c := range f.Children {
		if !c.walk(fn, depth+1) {
			return false
		}
	}
	return true
}

// End returns the file offset just after the field's bytes.
func (f *Field) End() FileOff { return f.Offset + FileOff(f.Size) }

// Holds reports whether the field's bytes include file offset off; a field
// of no size holds the one byte at its offset.
func (f *Field) Holds(off FileOff) bool {
	return f.Offset >= 0 && off >= f.Offset && off < f.Offset+FileOff(max(f.Size, 1))
}
