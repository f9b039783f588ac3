package present

import (
	"fmt"
	"strings"

	"dumpscope/model"
)

// The rows of `ps`, `task`, `bt`, `modules` and `struct`, and of the
// Tasks view, in crash's words where crash has them.

// TaskColumns are the headings of TaskRow, as crash's ps names them.
var TaskColumns = []string{"PID", "PPID", "CPU", "TASK", "ST", "COMM"}

// TaskRow lays out one task as crash's ps does: ">" before the pid of a
// task running on its CPU, kernel threads' names in brackets.
func TaskRow(t model.Task) []string {
	mark := "  "
	if t.Active {
		mark = "> "
	}
	comm := Printable(t.Comm)
	if t.KernelThread {
		comm = "[" + comm + "]"
	}
	return []string{mark + fmt.Sprint(t.PID), fmt.Sprint(t.PPID), fmt.Sprint(t.CPU), hex16(uint64(t.Task)), t.State, comm}
}

// TaskRows are the labelled fields of one task, as `task` prints them.
func TaskRows(t model.Task) []Row {
	rows := []Row{
		{"pid", fmt.Sprint(t.PID)},
		{"tgid", fmt.Sprint(t.TGID)},
		{"ppid", fmt.Sprint(t.PPID)},
		{"comm", Printable(t.Comm)},
		{"task", t.Task.String()},
		{"state", fmt.Sprintf("%s (%s)", t.State, t.StateBits)},
		{"cpu", fmt.Sprint(t.CPU)},
		{"running", YesNo(t.Active)},
		{"kernel thread", YesNo(t.KernelThread)},
		{"idle task", YesNo(t.Idle)},
		{"flags", t.Flags.String()},
		{"parent", t.Parent.String()},
		{"mm", t.MM.String()},
		{"stack", t.Stack.String()},
		{"thread.sp", t.ThreadSP.String()},
	}
	if t.Prio != nil {
		rows = append(rows, Row{"prio", fmt.Sprint(*t.Prio)})
	}
	if t.StartTimeNS != nil {
		ns := *t.StartTimeNS
		rows = append(rows, Row{"started", fmt.Sprintf("%d.%06d s after boot", ns/1e9, ns%1e9/1e3)})
	}
	return rows
}

// Printable escapes the bytes of a kernel string that are not printable
// ASCII as \xNN, so a damaged comm cannot move the cursor.
func Printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\x%02x", c)
		}
	}
	return b.String()
}

func hex16(v uint64) string { return fmt.Sprintf("%x", v) }

// BacktraceTitle heads a trace as crash's bt does: "PID: 1  TASK:
// ffff8e80c11fe100  CPU: 1  COMMAND: "init"".
func BacktraceTitle(bt model.Backtrace) string {
	var parts []string
	if bt.PID != nil {
		parts = append(parts, fmt.Sprintf("PID: %d", *bt.PID))
	}
	if bt.Task != nil {
		parts = append(parts, "TASK: "+hex16(uint64(*bt.Task)))
	}
	if bt.CPU != nil {
		parts = append(parts, fmt.Sprintf("CPU: %d", *bt.CPU))
	}
	if bt.Comm != "" {
		parts = append(parts, fmt.Sprintf("COMMAND: %q", Printable(bt.Comm)))
	}
	if len(parts) == 0 {
		return "(no task)"
	}
	return strings.Join(parts, "  ")
}

// BacktraceEnd says how a trace was unwound and why it ends: "unwound by
// orc from prstatus registers of CPU 1; ended: user-mode".
func BacktraceEnd(bt model.Backtrace) string {
	end := bt.End
	if bt.Error != "" {
		end += ": " + bt.Error
	}
	return fmt.Sprintf("unwound by %s from %s; ended: %s", bt.Method, bt.Start, end)
}

// FrameLine lays out one frame as crash does, with the kernel's "?" for
// a frame that is not reliable: " #3 [ffffcefdc0013d98]
// sysrq_handle_crash+0x16/0x20 at ffffffff9fb3b1a6". The address in
// brackets is where the return address was read (the frame's stack
// pointer for saved registers).
func FrameLine(f model.Frame) string {
	sp := uint64(f.SP)
	if f.Slot != nil {
		sp = uint64(*f.Slot)
	}
	loc := f.Location
	if !f.Reliable {
		loc = "? " + loc
	}
	return fmt.Sprintf("%3s [%x] %s at %x", fmt.Sprintf("#%d", f.Level), sp, loc, uint64(f.PC))
}

// FrameHow says how a frame was found, when that is not a plain unwind
// step: "(found on the NMI stack, checked by ORC)"; "" for a plain step.
func FrameHow(f model.Frame) string {
	switch f.How {
	case "registers":
		return "(saved registers)"
	case "task-frame":
		return "(from thread.sp)"
	case "orc-fp-guess":
		return "(no ORC entry: guessed from the frame pointer)"
	case "code":
		return "(no ORC entry: computed from the code)"
	case "prologue":
		return "(in the prologue: return address at sp)"
	case "nmi-scan":
		return "(found on the NMI stack, checked by ORC)"
	case "call-scan":
		return "(a call made after the registers were saved, checked by ORC)"
	}
	return ""
}

// The orders crash prints a pt_regs in, three a line.
var (
	regOrderX8664 = []string{"rip", "rsp", "rflags", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "orig_rax", "cs", "ss"}
	regOrderI386  = []string{"eip", "esp", "eflags", "eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "ds", "es", "fs", "gs", "orig_eax", "cs", "ss"}
)

// PtRegsLines lays out a pt_regs as crash prints an exception frame:
// upper-case names, three a line, values zero-padded to their width.
func PtRegsLines(r *model.PtRegs) []string {
	i386 := false
	if _, ok := r.Registers["eip"]; ok {
		i386 = true
	}
	width, order := 16, regOrderX8664
	if i386 {
		width, order = 8, regOrderI386
	}
	var lines []string
	var cur []string
	for _, name := range order {
		v, ok := r.Registers[name]
		if !ok {
			continue
		}
		w := width
		if name == "cs" || name == "ss" || name == "ds" || name == "es" || name == "fs" || name == "gs" {
			w = 4
		} else if name == "rflags" || name == "eflags" {
			w = 8
		}
		cur = append(cur, fmt.Sprintf("%s: %0*x", strings.ToUpper(name), w, uint64(v)))
		if len(cur) == 3 {
			lines = append(lines, strings.Join(cur, "  "))
			cur = nil
		}
	}
	if len(cur) > 0 {
		lines = append(lines, strings.Join(cur, "  "))
	}
	return lines
}

// PtRegsTitle names a pt_regs: "[exception RIP: native_safe_halt+0xb]"
// for kernel mode, "[user mode registers]" for user mode.
func PtRegsTitle(r *model.PtRegs, where string) string {
	if r.UserMode {
		return "[user mode registers at " + r.Addr.String() + "]"
	}
	s := "[exception registers at " + r.Addr.String()
	if where != "" {
		s += ": " + where
	}
	if r.Partial {
		s += ", iret frame only"
	}
	return s + "]"
}

// ModuleColumns are the headings of ModuleRow.
var ModuleColumns = []string{"MODULE", "NAME", "BASE", "SIZE", "STATE", "TAINTS", "SYMBOLS", "ORC", "BTF"}

// ModuleRow lays out one module, crash's mod columns first.
func ModuleRow(m model.Module) []string {
	orc := "no"
	if m.ORCEntries > 0 {
		orc = fmt.Sprint(m.ORCEntries)
	}
	return []string{hex16(uint64(m.Module)), Printable(m.Name), hex16(uint64(m.Base)), fmt.Sprint(m.Size), m.State,
		OrDash(m.Taints), fmt.Sprint(m.Symbols), orc, YesNo(m.BTF)}
}

// StructText lays out a typed object as crash's struct prints it (gdb's
// print style): members one a line, nested structures indented, arrays
// of scalars inline, left-out members as "... (N more)", unreadable
// values as <why> (model.StructValue.Text).
func StructText(v model.StructValue) string {
	return v.Text()
}
