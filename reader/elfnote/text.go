package elfnote

import (
	"strings"

	"dumpscope/model"
	"dumpscope/reader"
)

// TextLines labels each line of a text blob (VMCOREINFO, eraseinfo), read
// as model.VMCoreInfoLines reads it, so that the layout shows the entries
// the parser uses. An eraseinfo line ("erase SYMBOL size N") has no "=":
// it is split at its first space.
func TextLines(b []byte, base int64) []*model.Field {
	var out []*model.Field
	for _, l := range model.VMCoreInfoLines(b) {
		k, v := l.Key, l.Value
		if !l.HasValue {
			k, v, _ = strings.Cut(k, " ")
		}
		out = append(out, &model.Field{Name: reader.Printable(k), Offset: model.FileOff(base + int64(l.Offset)), Size: int64(l.Size),
			Value: reader.Printable(v), Meaning: vmcoreinfoMeaning(k)})
	}
	return out
}

func vmcoreinfoMeaning(k string) string {
	e := model.VMCoreInfoEntry{Key: k}
	switch e.Group() {
	case "SYMBOL":
		return "address of a kernel symbol (hex)"
	case "OFFSET":
		return "offset of a structure member (decimal)"
	case "SIZE":
		return "size of a type (decimal)"
	case "LENGTH":
		return "number of elements of an array (decimal)"
	case "NUMBER":
		return "a kernel constant (signed decimal)"
	}
	switch k {
	case "OSRELEASE":
		return "kernel release (uname -r)"
	case "BUILD-ID":
		return "GNU build-id of vmlinux"
	case "PAGESIZE":
		return "page size in bytes"
	case "CRASHTIME":
		return "time of the crash, seconds since the epoch"
	case "KERNELOFFSET":
		return "KASLR offset of the kernel text (hex)"
	case "erase":
		return "an erased symbol"
	}
	return "VMCOREINFO entry"
}
