package elfnote

import (
	"encoding/binary"
	"fmt"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/arch"
)

// NoteLayout labels one note record: header, name, descriptor (decoded for
// prstatus, QEMU CPU state and VMCOREINFO) and padding.
func NoteLayout(n model.Note, src reader.Source, order binary.ByteOrder, archName string) *model.Field {
	nameLen := int64(n.DescOffset-n.Offset) - 12
	hdr := make([]byte, 12)
	if src.ReadAt(hdr, int64(n.Offset), "note header") != nil {
		return &model.Field{Name: fmt.Sprintf("note %d", n.Index), Offset: n.Offset, Size: 12, Value: "unreadable"}
	}
	s := reader.NewStruct(fmt.Sprintf("note %d: %s", n.Index, n.Name), "one ELF note", int64(n.Offset), hdr, order)
	s.Node.Size = n.RecordSize()
	s.Node.Value = n.TypeName
	if s.Node.Value == "" {
		s.Node.Value = fmt.Sprintf("type %#x", n.Type)
	}
	s.Uint("n_namesz", 0, 4, "length of the name including its NUL")
	s.Uint("n_descsz", 4, 4, "length of the descriptor")
	s.Uint("n_type", 8, 4, "note type, meaning depends on the name", n.TypeName)
	s.Node.Add(&model.Field{Name: "name", Offset: n.Offset + 12, Size: nameLen, Value: fmt.Sprintf("%q", n.Name), Meaning: "owner name, NUL-terminated, padded to 4 bytes"})
	desc := &model.Field{Name: "descriptor", Offset: n.DescOffset, Size: n.DescSize, Value: n.Summary, Meaning: descMeaning(n)}
	s.Node.Add(desc)
	if n.Desc != nil {
		switch {
		case n.Name == NamePrstatus && n.Type == NTPrstatus:
			if st, ok := arch.PrstatusFor(archName, len(n.Desc)); ok {
				desc.Name = st.Name + " (" + st.Arch + ")"
				desc.Children = st.Layout(order, n.Desc, int64(n.DescOffset))
			}
		case n.Name == NameQEMU && n.Type == 0:
			st := arch.QEMUCPUStateFor(archName)
			desc.Name = st.Name
			desc.Children = st.Layout(binary.LittleEndian, n.Desc, int64(n.DescOffset))
		case (n.Name == NameVMCoreInfo || n.Name == "VMCOREINFO_XEN" || n.Name == NameEraseInfo) && n.Type == 0:
			desc.Children = TextLines(n.Desc, int64(n.DescOffset))
		}
	}
	if pad := align4(n.DescSize) - n.DescSize; pad > 0 {
		s.Node.Add(&model.Field{Name: "(padding)", Offset: n.DescOffset + model.FileOff(n.DescSize), Size: pad, Meaning: "pads the descriptor to 4 bytes"})
	}
	return s.Node
}

func descMeaning(n model.Note) string {
	switch n.TypeName {
	case "NT_PRSTATUS":
		return "registers and signal state of one CPU at the crash"
	case "QEMUCPUState":
		return "QEMU's copy of one vCPU's registers, including control and segment registers"
	case "VMCOREINFO":
		return "kernel facts for debuggers: symbol addresses, structure offsets, page size"
	case "ERASEINFO":
		return "what makedumpfile erased from memory"
	}
	return "note descriptor"
}
