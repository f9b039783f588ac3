package present

import (
	"fmt"
	"strings"

	"dumpscope/model"
)

// The words of the crash analysis, the signature, the verdict and the
// VMCOREINFO's origin, as `triage` and `info` print them and the Overview
// shows them.

// Frame writes a call-trace frame as the kernel prints it: "? " for an
// unreliable one, "F+0x16/0x20", " [module]".
func Frame(f model.CrashFrame) string {
	var b strings.Builder
	if !f.Reliable {
		b.WriteString("? ")
	}
	switch {
	case f.Function != "":
		fmt.Fprintf(&b, "%s+%#x/%#x", f.Function, f.Offset, f.Size)
	case f.Address != nil:
		b.WriteString(f.Address.String())
	default:
		b.WriteString("?")
	}
	if f.Module != "" {
		b.WriteString(" [" + f.Module + "]")
	}
	return b.String()
}

// UnwoundFrame writes an unwound frame: "F+0x16", " [module]", and
// " (unreliable)".
func UnwoundFrame(f model.UnwoundFrame) string {
	s := fmt.Sprintf("%s+%#x", OrDash(f.Function), f.Offset)
	if f.Size != 0 {
		s += fmt.Sprintf("/%#x", f.Size)
	}
	if f.Module != "" {
		s += " [" + f.Module + "]"
	}
	if !f.Reliable {
		s += " (unreliable)"
	}
	return s
}

// SignatureRows are the crash signature's facts, the title first; without
// a signature, one row saying why there is none.
func SignatureRows(w model.CrashWhy) []Row {
	s := w.Signature
	if s == nil {
		why := "none: the log holds no report of the crash"
		switch w.Verdict {
		case model.CrashNone:
			why = "none: nothing crashed"
		case model.CrashUnknown:
			why = "unknown: the log could not be read"
		}
		return []Row{{"crash signature", why}}
	}
	title := s.Title
	if s.Corrupted {
		title += " (corrupted: " + s.CorruptedReason + ")"
	}
	rows := []Row{
		{"crash signature", title},
		{"class", string(s.Class)},
		{"guilty frame", OrDash(s.GuiltyFrame)},
		{"frames", OrDash(strings.Join(s.Frames, " < "))},
		{"hash", fmt.Sprintf("%s (recipe %d)", s.Hash, s.Version)},
	}
	if len(s.AltTitles) > 0 {
		rows = append(rows, Row{"also known as", strings.Join(s.AltTitles, "; ")})
	}
	if len(s.Modules) > 0 {
		rows = append(rows, Row{"modules", strings.Join(s.Modules, " ")})
	}
	if len(s.Taint) > 0 {
		rows = append(rows, Row{"taint", strings.Join(s.Taint, " ")})
	}
	return rows
}

// WhyRows say why the kernel crashed.
func WhyRows(w model.CrashWhy) []Row {
	verdict := map[string]string{
		model.CrashPanic:   "panic",
		model.CrashOops:    "oops (the crash kernel took over from oops_end(), without a panic line)",
		model.CrashNone:    "none: no report in the log took the kernel down",
		model.CrashUnknown: "unknown",
	}[w.Verdict]
	rows := []Row{{"crash", OrDash(verdict)}}
	if w.PanicMessage != "" {
		rows = append(rows, Row{"panic message", fmt.Sprintf("%q (from the %s)", w.PanicMessage, w.PanicMessageFrom)})
	}
	if w.Class != "" && w.Signature == nil {
		rows = append(rows, Row{"class", string(w.Class)})
	}
	if w.Header != "" && w.Header != "Kernel panic - not syncing: "+w.PanicMessage {
		rows = append(rows, Row{"report", w.Header})
	}
	if w.Trigger != "" {
		rows = append(rows, Row{"trigger", w.Trigger})
	}
	if w.Location != "" {
		rows = append(rows, Row{"location", w.Location})
	}
	if w.FaultAddress != nil {
		v := w.FaultAddress.String()
		if w.Access != "" {
			v += " (" + w.Access + ")"
		}
		rows = append(rows, Row{"fault address", v})
	}
	if w.IP != "" {
		rows = append(rows, Row{"ip", w.IP})
	}
	if h := w.HungTask; h != nil {
		v := fmt.Sprintf("%s, PID %d", h.Comm, h.PID)
		if h.State != "" {
			v += ", state " + h.State
		}
		rows = append(rows, Row{"hung task", v})
	}
	if w.Taint != nil {
		rows = append(rows, Row{"taint", Taint(*w.Taint)})
	}
	if w.Incomplete {
		rows = append(rows, Row{"incomplete", "the report is cut short in the log"})
	}
	rows = append(rows, Row{"cause", OrDash(w.CauseReason)})
	return rows
}

// Taint writes a taint as print_tainted() did, with the flags' names.
func Taint(t model.Taint) string {
	if len(t.Flags) == 0 {
		return t.Text
	}
	var names []string
	for _, f := range t.Flags {
		names = append(names, f.Letter+"="+OrDash(f.Name))
	}
	return fmt.Sprintf("%s (%s)", t.Text, strings.Join(names, ", "))
}

// WhereRows say where the kernel crashed.
func WhereRows(w model.CrashWhere) []Row {
	cpu := w.CPUFrom
	if w.CPU != nil {
		cpu = fmt.Sprintf("CPU %d: %s", *w.CPU, w.CPUFrom)
	}
	rows := []Row{{"crashing cpu", cpu}}
	var task []string
	if w.PID != nil {
		task = append(task, fmt.Sprintf("PID %d", *w.PID))
	}
	if w.Comm != "" {
		task = append(task, "comm "+w.Comm)
	}
	if w.Task != nil {
		task = append(task, "task_struct "+w.Task.String())
	}
	if len(task) > 0 {
		rows = append(rows, Row{"task", strings.Join(task, ", ") + " (" + w.TaskFrom + ")"})
	} else {
		rows = append(rows, Row{"task", w.TaskFrom})
	}
	if w.GuiltyFrame != "" {
		rows = append(rows, Row{"guilty frame", w.GuiltyFrame})
	}
	if a := w.StackAgreement; a != nil {
		rows = append(rows, Row{"stack check", a.Summary})
	}
	return rows
}

// CPURows are each CPU's instruction and stack pointers, the crashing
// CPU marked.
func CPURows(w model.CrashWhere, arch string) []Row {
	return cpuRows(nil, w.CPUs, w.CPU, arch)
}

// cpuRows appends to rows a row for each CPU of cpus: its instruction
// pointer with its symbol and its stack pointer, the CPU crashed (when
// known) marked.
func cpuRows(rows []Row, cpus []model.CPUState, crashed *int, arch string) []Row {
	pc, sp := PCSP(arch)
	for _, c := range cpus {
		v := fmt.Sprintf("%s %s %s · %s %s", pc, c.PC, OrDash(c.PCSymbol), sp, c.SP)
		if crashed != nil && *crashed == c.CPU {
			v += "  ◀ crashed"
		}
		rows = append(rows, Row{fmt.Sprintf("cpu %d", c.CPU), v})
	}
	return rows
}

// MemoryRows are the crash facts read from the kernel's variables.
func MemoryRows(m model.CrashMemory) []Row {
	opt := func(p *int) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	rows := []Row{
		{"panic_cpu", opt(m.PanicCPU)},
		{"crashing_cpu", opt(m.CrashingCPU)},
	}
	if m.PanicMessage != "" {
		rows = append(rows, Row{"panic() buffer", fmt.Sprintf("%q", m.PanicMessage)})
	}
	if m.Taint != nil {
		rows = append(rows, Row{"tainted_mask", fmt.Sprintf("%s: %s", m.TaintedMask, Taint(*m.Taint))})
	}
	if m.DieCounter != nil {
		rows = append(rows, Row{"die_counter", fmt.Sprint(*m.DieCounter)})
	}
	if m.KdumpLoaded != nil {
		rows = append(rows, Row{"crash kernel loaded", YesNo(*m.KdumpLoaded)})
	}
	return rows
}

// VerdictRows are the verdict's analyses, one row each: "yes", or "NO"
// and why.
func VerdictRows(v model.Verdict) []Row {
	var rows []Row
	for _, c := range v.Capabilities {
		mark := "yes"
		switch {
		case !c.Supported && c.Needed:
			mark = "NO"
		case !c.Supported:
			mark = "no"
		}
		rows = append(rows, Row{c.Name, mark + ": " + c.Detail})
	}
	return rows
}

// VMCoreInfoOrigin says where the VMCOREINFO in use came from.
func VMCoreInfoOrigin(o model.VMCoreInfoOrigin) string {
	switch o.Source {
	case model.VMCoreInfoFromNote:
		return "the dump's note"
	case model.VMCoreInfoFromFile:
		return "from " + o.File + " (--vmcoreinfo): " + o.Reason
	case model.VMCoreInfoFromMemory:
		return "recovered from memory at " + o.PhysAddr.String() + ": " + o.Reason
	}
	return "none: " + o.Reason
}

// CandidateRow is one VMCOREINFO candidate found in memory.
func CandidateRow(c model.VMCoreInfoCandidate) Row {
	v := fmt.Sprintf("kernel %d, %s, %s", c.Kernel, c.Form, c.OSRelease)
	if c.CrashTime != nil {
		v += ", crashed " + Time(c.CrashTime)
	}
	if c.Valid {
		v += ": valid"
	} else {
		v += ": not valid: " + c.Reason
	}
	return Row{c.PhysAddr.String(), v}
}

// WhatRows say what the dump is.
func WhatRows(w model.TriageWhat) []Row {
	kernel := OrDash(w.Release)
	if w.BuildID != "" {
		kernel += ", build-id " + w.BuildID
	}
	if w.KernelOffset != nil {
		kernel += ", KASLR offset " + w.KernelOffset.String()
	}
	return []Row{
		{"files", strings.Join(w.Files, " ")},
		{"format", fmt.Sprintf("%s, %s container, %s, %d CPUs", w.Format, w.Container, OrDash(w.Arch), w.CPUs)},
		{"kernel", kernel},
		{"crash time", Time(w.CrashTime)},
	}
}
