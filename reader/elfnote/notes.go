package elfnote

import (
	"encoding/binary"
	"fmt"
	"strings"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/arch"
)

// Note limits: note names are short; descriptors larger than MaxKeptDesc
// (device dumps in NT_VMCOREDD notes) are listed but not kept in memory.
const (
	maxNameSize = 4096
	MaxKeptDesc = 1 << 20
)

// Note owner names and types dumpscope decodes.
const (
	NamePrstatus    = "CORE"
	NameVMCoreInfo  = "VMCOREINFO"
	NameQEMU        = "QEMU"
	NameEraseInfo   = "ERASEINFO"
	NameXen         = "Xen"
	NTPrstatus      = 1
	NTVMCoreDD      = 0x700
	XenCrashInfo    = 0x1000001
	XenCrashRegs    = 0x1000002
	XenDumpCoreNone = 0x2000000
	XenDumpCoreHdr  = 0x2000001
	XenDumpCoreVer  = 0x2000002
	XenDumpCoreFmt  = 0x2000003
)

// TypeName returns the symbolic name of a note type for its owner.
func TypeName(name string, typ uint32) string {
	switch name {
	case "CORE":
		switch typ {
		case 1:
			return "NT_PRSTATUS"
		case 2:
			return "NT_PRFPREG"
		case 3:
			return "NT_PRPSINFO"
		case 4:
			return "NT_TASKSTRUCT"
		case 6:
			return "NT_AUXV"
		case 0x53494749:
			return "NT_SIGINFO"
		case 0x46494c45:
			return "NT_FILE"
		}
	case "LINUX":
		switch typ {
		case 0x200:
			return "NT_386_TLS"
		case 0x202:
			return "NT_X86_XSTATE"
		case 0x300:
			return "NT_S390_HIGH_GPRS"
		case 0x301:
			return "NT_S390_TIMER"
		case 0x302:
			return "NT_S390_TODCMP"
		case 0x303:
			return "NT_S390_TODPREG"
		case 0x304:
			return "NT_S390_CTRS"
		case 0x305:
			return "NT_S390_PREFIX"
		case 0x309:
			return "NT_S390_VXRS_LOW"
		case 0x30a:
			return "NT_S390_VXRS_HIGH"
		case 0x30b:
			return "NT_S390_GS_CB"
		case 0x30c:
			return "NT_S390_GS_BC"
		case NTVMCoreDD:
			return "NT_VMCOREDD"
		}
	case NameVMCoreInfo, "VMCOREINFO_XEN":
		if typ == 0 {
			return "VMCOREINFO"
		}
	case NameQEMU:
		if typ == 0 {
			return "QEMUCPUState"
		}
	case NameEraseInfo:
		if typ == 0 {
			return "ERASEINFO"
		}
	case NameXen:
		switch typ {
		case XenCrashInfo:
			return "XEN_ELFNOTE_CRASH_INFO"
		case XenCrashRegs:
			return "XEN_ELFNOTE_CRASH_REGS"
		case XenDumpCoreNone:
			return "XEN_ELFNOTE_DUMPCORE_NONE"
		case XenDumpCoreHdr:
			return "XEN_ELFNOTE_DUMPCORE_HEADER"
		case XenDumpCoreVer:
			return "XEN_ELFNOTE_DUMPCORE_XEN_VERSION"
		case XenDumpCoreFmt:
			return "XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION"
		}
	}
	return ""
}

func align4(n int64) int64 { return (n + 3) &^ 3 }

// ReadNotes walks the note records in [off, off+size) of src. Names and
// descriptors are padded to 4 bytes, as Linux, kexec, QEMU and makedumpfile
// write them even in ELF64 files. The walk stops quietly at an all-zero
// header (unused space in per-CPU note buffers) and with a problem when a
// record runs past the area or the file. first is the index of the first
// note; structure names the area in problems ("PT_NOTE [0]").
func ReadNotes(src reader.Source, order binary.ByteOrder, archName string, off, size int64, first int, structure string) ([]model.Note, []model.Problem) {
	var notes []model.Note
	var probs []model.Problem
	problem := func(code model.Code, at int64, format string, args ...any) {
		probs = append(probs, model.NewProblem(model.SeverityError, code, src.Name, at, structure+": "+format, args...))
	}
	end, ok := reader.AddOK(off, size)
	if !ok || off < 0 || size < 0 {
		problem(model.CodeBadNote, off, "offset %#x and size %#x overflow", off, size)
		return nil, probs
	}
	if end > src.Len() {
		problem(model.CodeTruncated, src.Len(), "the note area ends at %#x but the file ends at %#x: %d bytes of notes are missing", end, src.Len(), end-src.Len())
		end = src.Len()
	}
	var hdr [12]byte
	for pos := off; pos+12 <= end; {
		if err := src.ReadAt(hdr[:], pos, "note header"); err != nil {
			problem(model.CodeTruncated, pos, "note header cannot be read: %v", err)
			break
		}
		namesz := int64(order.Uint32(hdr[0:]))
		descsz := int64(order.Uint32(hdr[4:]))
		typ := order.Uint32(hdr[8:])
		if namesz == 0 && descsz == 0 && typ == 0 {
			break // padding after the last note
		}
		if namesz > maxNameSize {
			problem(model.CodeBadNote, pos, "note %d: n_namesz %d is implausible", first+len(notes), namesz)
			break
		}
		descOff := pos + 12 + align4(namesz)
		next := descOff + align4(descsz)
		if descOff > end || descOff+descsz > end {
			problem(truncOrBad(end, src.Len(), descOff+descsz), pos, "note %d (n_namesz %d, n_descsz %d) runs past the end of the note area at %#x",
				first+len(notes), namesz, descsz, end)
			break
		}
		nameBytes := make([]byte, namesz)
		if err := src.ReadAt(nameBytes, pos+12, "note name"); err != nil {
			problem(model.CodeTruncated, pos+12, "note name cannot be read: %v", err)
			break
		}
		n := model.Note{
			Index: first + len(notes), Name: reader.CString(nameBytes), Type: typ, File: src.Name,
			Offset: model.FileOff(pos), DescOffset: model.FileOff(descOff), DescSize: descsz,
		}
		n.TypeName = TypeName(n.Name, typ)
		if descsz <= MaxKeptDesc {
			n.Desc = make([]byte, descsz)
			if err := src.ReadAt(n.Desc, descOff, "note descriptor"); err != nil {
				problem(model.CodeTruncated, descOff, "note %d descriptor cannot be read: %v", n.Index, err)
				break
			}
		}
		n.Summary = summarize(n, archName, order)
		notes = append(notes, n)
		pos = next
	}
	return notes, probs
}

// truncOrBad chooses the code for a record that overruns its area: the
// file being too short is truncation; otherwise the sizes are corrupt.
func truncOrBad(areaEnd, fileSize, need int64) model.Code {
	if areaEnd >= fileSize && need > fileSize {
		return model.CodeTruncated
	}
	return model.CodeBadNote
}

// summarize decodes a note descriptor into one line.
func summarize(n model.Note, archName string, order binary.ByteOrder) string {
	if n.Desc == nil {
		return fmt.Sprintf("%d bytes (not loaded)", n.DescSize)
	}
	switch {
	case n.Name == NamePrstatus && n.Type == NTPrstatus:
		s, err := arch.PrstatusLayout(archName, n.Desc)
		if err != nil {
			return err.Error()
		}
		var parts []string
		if pid, ok := s.Value(order, n.Desc, "pr_pid"); ok {
			parts = append(parts, fmt.Sprintf("pid %d", int32(pid)))
		}
		return regSummary(parts, s, order, n.Desc)
	case n.Name == NameQEMU && n.Type == 0:
		s, b, err := arch.QEMUCPUStateLayout(archName, binary.LittleEndian, n.Desc)
		if err != nil {
			return err.Error()
		}
		size, _ := s.Value(binary.LittleEndian, n.Desc, "size")
		return fmt.Sprintf("QEMUCPUState size %d, %s", size, regSummary(nil, s, binary.LittleEndian, b))
	case (n.Name == NameVMCoreInfo || n.Name == "VMCOREINFO_XEN") && n.Type == 0:
		entries, rel, found := 0, "", false
		for l := range model.VMCoreInfoLineSeq(n.Desc) {
			entries++
			if !found && l.Key == "OSRELEASE" {
				rel, found = l.Value, true
			}
		}
		s := fmt.Sprintf("%d entries", entries)
		if found {
			s += ", OSRELEASE=" + reader.Printable(rel)
		}
		return s
	case n.Name == NameEraseInfo:
		first, _, _ := strings.Cut(string(n.Desc), "\n")
		return "erase list: " + reader.Printable(first)
	case n.Name == "LINUX" && n.Type == NTVMCoreDD && len(n.Desc) >= 44:
		return fmt.Sprintf("device dump %q, %d bytes", reader.CString(n.Desc[:44]), n.DescSize-44)
	}
	return reader.HexBytes(n.Desc[:min(len(n.Desc), 16)])
}

// regSummary adds the instruction and stack pointers of the register
// structure s (in b) to parts and joins them. Only those registers are
// decoded: summaries are made for every note when a dump is opened.
func regSummary(parts []string, s *arch.Struct, order binary.ByteOrder, b []byte) string {
	for _, name := range []string{"rip", "eip", "pc", "nip", "psw_addr", "rsp", "esp", "sp"} {
		if v, ok := s.Register(order, b, name); ok {
			parts = append(parts, fmt.Sprintf("%s %#x", name, v))
		}
	}
	return strings.Join(parts, ", ")
}

// RegistersFromNotes decodes the register sets of every NT_PRSTATUS and
// QEMU note, numbering CPUs in note order per source.
func RegistersFromNotes(notes []model.Note, archName string, order binary.ByteOrder) ([]model.RegisterSet, []model.Problem) {
	return registerNotes(notes, archName, order, true)
}

// RegisterNoteProblems returns the problems RegistersFromNotes reports (the
// register notes that cannot be decoded) without decoding any register:
// opening a dump reports them, and most commands never ask for registers.
func RegisterNoteProblems(notes []model.Note, archName string, order binary.ByteOrder) []model.Problem {
	_, probs := registerNotes(notes, archName, order, false)
	return probs
}

// registerNotes checks every register note and, with decode, decodes it.
func registerNotes(notes []model.Note, archName string, order binary.ByteOrder, decode bool) ([]model.RegisterSet, []model.Problem) {
	var sets []model.RegisterSet
	var probs []model.Problem
	cpu := map[model.RegSource]int{}
	for _, n := range notes {
		var set model.RegisterSet
		var err error
		switch {
		case n.Name == NamePrstatus && n.Type == NTPrstatus && n.Desc != nil:
			if decode {
				set, err = arch.DecodePrstatus(archName, order, n.Desc, int64(n.DescOffset))
			} else {
				_, err = arch.PrstatusLayout(archName, n.Desc)
			}
		case n.Name == NameQEMU && n.Type == 0 && n.Desc != nil:
			// The descriptor is a memcpy of QEMU's host struct:
			// little-endian on every host QEMU runs on in practice.
			if decode {
				set, err = arch.DecodeQEMUCPUState(archName, binary.LittleEndian, n.Desc, int64(n.DescOffset))
			} else {
				_, _, err = arch.QEMUCPUStateLayout(archName, binary.LittleEndian, n.Desc)
			}
		default:
			continue
		}
		if err != nil {
			probs = append(probs, model.NewProblem(model.SeverityError, model.CodeBadNote, n.File, int64(n.Offset), "note %d (%s): %v", n.Index, n.Name, err))
			continue
		}
		if decode {
			set.CPU = cpu[set.Source]
			cpu[set.Source]++
			set.File = n.File
			sets = append(sets, set)
		}
	}
	return sets, probs
}

// VMCoreInfoFromNotes returns the first VMCOREINFO note's text.
func VMCoreInfoFromNotes(notes []model.Note) *model.VMCoreInfo {
	for _, n := range notes {
		if n.Name == NameVMCoreInfo && n.Type == 0 && n.Desc != nil {
			v := model.ParseVMCoreInfo(n.Desc)
			v.File, v.FileOffset = n.File, n.DescOffset
			return v
		}
	}
	return nil
}

// CountCPUs returns the number of CPUs the notes describe: prstatus notes,
// or QEMU notes when there are no prstatus notes.
func CountCPUs(notes []model.Note) int {
	var pr, qemu int
	for _, n := range notes {
		switch {
		case n.Name == NamePrstatus && n.Type == NTPrstatus:
			pr++
		case n.Name == NameQEMU && n.Type == 0:
			qemu++
		}
	}
	return max(pr, qemu)
}
