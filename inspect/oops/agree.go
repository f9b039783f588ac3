package oops

import "fmt"

// This file compares the call trace a report printed with the stack an
// unwinder rebuilt from memory. They need not be equal: the log's trace
// was printed while the reporting functions (dump_stack_lvl, __warn) were
// still running, the unwinder sees the stack when the dump was taken
// (machine_kexec, __crash_kexec on top of the panic path), and a
// scanning unwinder such as crash's adds stale return addresses. They
// agree when the log's reliable frames, from the first one the unwinder
// also has, appear in the unwound stack in the same order (crash's own
// README for the fixtures compares traces the same way).

// Compare checks a report's trace against an unwound stack, innermost
// frame first.
func Compare(r *Report, unwound []UnwoundFrame) *Agreement {
	var logs []Frame
	for _, f := range r.Trace {
		if f.Reliable {
			logs = append(logs, f)
		}
	}
	a := &Agreement{LogFrames: len(logs), UnwoundFrames: len(unwound)}
	if len(logs) == 0 || len(unwound) == 0 {
		a.Summary = "nothing to compare: the log's trace or the unwound stack is empty"
		return a
	}
	// The first log frame the unwinder also has anchors the comparison.
	first, at := -1, -1
	for i, f := range logs {
		if j := findFrame(unwound, f, 0); j >= 0 {
			first, at = i, j
			break
		}
	}
	if first < 0 {
		a.Divergence = &Divergence{LogIndex: 0, LogFrame: normFrame(logs[0]), UnwoundIndex: -1}
		a.Summary = "no frame of the log's trace is in the unwound stack"
		return a
	}
	a.LogOnlyTop, a.Matched = first, 1
	last := at
	for i := first + 1; i < len(logs); i++ {
		j := findFrame(unwound, logs[i], last+1)
		if j < 0 {
			a.Divergence = &Divergence{LogIndex: i, LogFrame: normFrame(logs[i]), UnwoundIndex: last}
			a.Summary = fmt.Sprintf("they part at the log's frame %d (%s): not found in the unwound stack after its frame %d (%s)",
				i, normFrame(logs[i]), last, unwoundName(unwound[last]))
			return a
		}
		a.Matched++
		last = j
	}
	a.Agree = true
	a.Summary = fmt.Sprintf("the log's %d reliable frames from %s on appear in order in the %d unwound frames",
		a.Matched, normFrame(logs[first]), len(unwound))
	switch {
	case first == 1:
		a.Summary += fmt.Sprintf("; the log's innermost frame (%s) had returned when the dump was taken", normFrame(logs[0]))
	case first > 1:
		a.Summary += fmt.Sprintf("; the log's %d innermost frames had returned when the dump was taken", first)
	}
	return a
}

// findFrame finds f in unwound at or after from; names are compared
// without compiler suffixes, modules when both name one.
func findFrame(unwound []UnwoundFrame, f Frame, from int) int {
	name := NormalizeFunction(f.Function)
	if name == "" {
		return -1
	}
	for j := from; j < len(unwound); j++ {
		u := unwound[j]
		if NormalizeFunction(u.Function) != name {
			continue
		}
		if f.Module != "" && u.Module != "" && f.Module != u.Module {
			continue
		}
		return j
	}
	return -1
}

func unwoundName(u UnwoundFrame) string {
	return normFrame(Frame{Function: u.Function, Module: u.Module})
}
