package present

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"dumpscope/model"
)

// RegGroup is one group of a register set, in the order both front ends
// show them.
type RegGroup struct {
	Name string
	Regs []model.Register
}

// groupOrder is the order groups are shown in; unknown groups follow,
// sorted by name.
var groupOrder = []string{model.GroupGeneral, model.GroupFlags, model.GroupSegment, model.GroupControl, model.GroupDebug, model.GroupOther}

// RegisterGroups splits a register set into its groups, in the shown
// order, each in the structure's order.
func RegisterGroups(s model.RegisterSet) []RegGroup {
	byName := map[string][]model.Register{}
	var extra []string
	for _, r := range s.Registers {
		if !slices.Contains(groupOrder, r.Group) && !slices.Contains(extra, r.Group) {
			extra = append(extra, r.Group)
		}
		byName[r.Group] = append(byName[r.Group], r)
	}
	sort.Strings(extra)
	var out []RegGroup
	for _, g := range append(slices.Clone(groupOrder), extra...) {
		if regs := byName[g]; len(regs) > 0 {
			out = append(out, RegGroup{g, regs})
		}
	}
	return out
}

// RegisterValue formats a register as wide as its structure stores it:
// "0x00000000000000ff".
func RegisterValue(r model.Register) string { return fmt.Sprintf("0x%0*x", 2*max(r.Size, 1), r.Value) }

// RegisterSetTitle names a register set: "CPU 1  prstatus  x86_64  pid 1".
func RegisterSetTitle(s model.RegisterSet) string {
	head := fmt.Sprintf("CPU %d  %s  %s", s.CPU, s.Source, s.Arch)
	if s.PID != nil {
		head += fmt.Sprintf("  pid %d", *s.PID)
	}
	if s.Signal != nil && *s.Signal != 0 {
		head += fmt.Sprintf("  signal %d", *s.Signal)
	}
	return head
}

// BitRange names where a bit field lies: "bit  9", "bits 12-13".
func BitRange(b model.BitField) string {
	if b.Width > 1 {
		return fmt.Sprintf("bits %2d-%d", b.Shift, b.Shift+b.Width-1)
	}
	return fmt.Sprintf("bit  %2d", b.Shift)
}

// BitValue formats a bit field's value: decimal for narrow fields, hex
// for wide ones.
func BitValue(b model.BitField) string {
	if b.Width > 4 {
		return fmt.Sprintf("%#x", b.Value)
	}
	return fmt.Sprint(b.Value)
}

// Instr is one disassembled instruction in the words both `disasm` and the
// code pane print, as objdump does.
type Instr struct {
	Mark     string // "=>" at the requested address, else "  "
	Addr     string // hex without 0x
	Location string // "<symbol+0x12>", or ""
	Bytes    string // "48 89 e5"
	Text     string // the instruction, its branch target named, a bad one's reason
}

// Instruction lays out one instruction.
func Instruction(in model.Instruction) Instr {
	out := Instr{Mark: "  ", Addr: fmt.Sprintf("%x", uint64(in.Addr)), Bytes: SpacedHex(in.Bytes), Text: in.Text}
	if in.Marked {
		out.Mark = "=>"
	}
	if in.Location != "" {
		out.Location = "<" + in.Location + ">"
	}
	if in.TargetSymbol != "" && !strings.Contains(out.Text, in.TargetSymbol) {
		out.Text += " <" + in.TargetSymbol + ">"
	}
	if in.Why != "" {
		out.Text += "  # " + in.Why
	}
	return out
}

// NoteColumns are the headings of NoteRow's columns.
var NoteColumns = []string{"#", "offset", "name", "type", "size", "summary"}

// NoteRow lays out one note: index, file offset, owner, type (number and
// name), descriptor size and summary.
func NoteRow(n model.Note) []string {
	typ := fmt.Sprintf("%#x", n.Type)
	if n.TypeName != "" {
		typ += " " + n.TypeName
	}
	return []string{fmt.Sprint(n.Index), fmt.Sprintf("%#x", n.Offset), n.Name, typ, fmt.Sprint(n.DescSize), n.Summary}
}
