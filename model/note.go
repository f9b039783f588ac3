package model

// Note is one ELF note record, wherever it was found (an ELF PT_NOTE
// segment, the notes copy of a kdump file, a Xen .note.Xen section).
type Note struct {
	// Index is the position of the note in the dump's note list.
	Index int `json:"index"`
	// Name is the note's owner name without its terminating NUL ("CORE",
	// "VMCOREINFO", "QEMU", "Xen").
	Name string `json:"name"`
	// Type is n_type.
	Type uint32 `json:"type"`
	// TypeName is the symbolic name of n_type for the owner, if known
	// ("NT_PRSTATUS").
	TypeName string `json:"type_name,omitempty"`
	// File is the file that holds the note.
	File string `json:"file,omitempty"`
	// Offset is the file offset of the 12-byte note header.
	Offset FileOff `json:"offset"`
	// DescOffset is the file offset of the descriptor.
	DescOffset FileOff `json:"desc_offset"`
	// DescSize is n_descsz.
	DescSize int64 `json:"desc_size"`
	// Summary is a one-line decoding of the descriptor ("pid 1, signal 0,
	// rip 0xffffffff8102c7cb").
	Summary string `json:"summary,omitempty"`
	// Desc holds the descriptor bytes when they are small enough to keep
	// (see reader limits); nil otherwise.
	Desc []byte `json:"-"`
}

// RecordSize is the size of the whole note record in the file: the 12-byte
// header, the padded name and the descriptor padded to 4 bytes.
func (n Note) RecordSize() int64 { return int64(n.DescOffset-n.Offset) + (n.DescSize+3)&^3 }
