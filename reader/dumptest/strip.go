package dumptest

import (
	"bytes"

	"dumpscope/model"
)

// StripVMCoreInfo returns a copy of a dump file without its VMCOREINFO, as
// a dump whose note was lost looks: every ELF note named "VMCOREINFO"
// gets the name "VMCOREINFX" (same length, so nothing moves), and a kdump
// sub-header's offset_vmcoreinfo and size_vmcoreinfo become 0. The places
// come from the file's layout tree (reader.Dump.Layout). It reports how
// many places it changed.
func StripVMCoreInfo(file []byte, layout *model.Field) ([]byte, int) {
	out := append([]byte(nil), file...)
	n := 0
	layout.Walk(func(f *model.Field, _ int) bool {
		if f.Offset < 0 || f.Offset+model.FileOff(f.Size) > model.FileOff(len(out)) {
			return true
		}
		b := out[f.Offset : f.Offset+model.FileOff(f.Size)]
		switch {
		case f.Name == "name" && bytes.HasPrefix(b, []byte("VMCOREINFO\x00")):
			b[9] = 'X'
			n++
		case (f.Name == "offset_vmcoreinfo" || f.Name == "size_vmcoreinfo") && (f.Size == 8 || f.Size == 4):
			for i := range b {
				b[i] = 0
			}
			n++
		}
		return true
	})
	return out, n
}
