package oops

import (
	"strconv"
	"strings"

	"dumpscope/model"
)

// This file reads the log's lines into reports. A report opens at a header
// line (classes.go) or at a panic line, and reads the lines its class
// prints: the die() header, the task line, the register dump, the call
// trace with its stack markers and interrupted contexts, the end marker.
// It closes at the next header, at a panic line, after its end marker and
// the executive summary that may follow it, or when a line it cannot place
// follows a finished call trace.

// Bounds that keep hostile logs cheap; none is reached by a report the
// kernel prints.
const (
	maxReports     = 4096 // reports kept (see open)
	maxFrames      = 512  // frames per trace
	maxRegBlocks   = 64   // register blocks per report
	maxIdleLines   = 200  // lines a report waits for its trace
	maxCutMessage  = 32   // lines between "cut here" (or a trigger) and the header
	maxAccessLines = 8    // "#PF:" and similar description lines
)

// Report phases.
const (
	phaseHead    = iota // before the call trace
	phaseTrace          // inside the call trace
	phaseTail           // the trace is over: modules, CR2, end marker
	phaseSummary        // after the end marker: oops_end()'s executive summary
)

// parser holds the state of one pass over the lines.
type parser struct {
	reports   []Report
	dropped   int // reports after the panic not kept
	forgotten int // older reports forgotten
	notes     []string

	// cur is the index of the open report, or -1; the fields below
	// describe it.
	cur       int
	phase     int
	stack     string         // current stack marker
	regs      *RegisterBlock // register block being read
	idle      int            // lines since the report consumed one
	wantsOops bool
	anyCaller bool // read lines of every caller (multi-CPU backtraces)

	// A "cut here" line opens the next WARN/BUG report, and the lines
	// between it and the header are the WARN's message.
	cut     *line
	cutMsg  []string
	trigger *line // "sysrq: Trigger a crash"
	pending int   // lines read since cut or trigger was set

	panicIdx     int  // index of the first panic report, or -1
	panicLine    line // its panic line
	panicEnd     bool
	kernelOffset *model.Hex
}

// parse reads the lines into reports.
func parse(lines []line) *parser {
	p := &parser{cur: -1, panicIdx: -1}
	for i := range lines {
		p.line(&lines[i])
	}
	p.close(true)
	if p.forgotten > 0 {
		p.notes = append(p.notes, strconv.Itoa(p.forgotten)+" older reports were not kept (more than "+strconv.Itoa(maxReports)+")")
	}
	if p.dropped > 0 {
		p.notes = append(p.notes, strconv.Itoa(p.dropped)+" reports after the panic were not kept (more than "+strconv.Itoa(maxReports)+")")
	}
	return p
}

// line reads one line.
func (p *parser) line(l *line) {
	t := strings.TrimLeft(l.text, " ")
	if p.special(l) {
		return
	}
	if mayBeHeader(l.text) {
		if h, ok := matchHeader(l.text); ok {
			p.close(false)
			p.open(l, h)
			return
		}
	}
	if o, ok := parseOopsHeader(l.text); ok {
		if p.cur >= 0 && p.wantsOops && p.reports[p.cur].Oops == nil && p.phase == phaseHead {
			p.reports[p.cur].Oops = o
			p.touch(l)
			return
		}
		p.close(false)
		class, source := oopsKindClass(o.Kind)
		h := header{class: class, source: source}
		if m := gpfAddressRe.FindStringSubmatch(o.Kind); m != nil {
			h.address = m[1]
		}
		if p.open(l, h) {
			p.reports[p.cur].Oops = o
		}
		return
	}
	if p.cur < 0 {
		// A "cut here" or a sysrq trigger belongs to the report that
		// follows at once; one that nothing followed is forgotten.
		p.pending++
		if p.pending > maxCutMessage {
			p.cut, p.cutMsg, p.trigger = nil, nil, nil
		} else if p.cut != nil && !endTraceRe.MatchString(t) {
			p.cutMsg = append(p.cutMsg, t)
		}
		return
	}
	r := &p.reports[p.cur]
	foreign := l.caller != "" && r.Caller != "" && l.caller != r.Caller
	if foreign && !p.anyCaller {
		r.Interleaved++
		return
	}
	if p.body(r, l, t) {
		p.touch(l)
		return
	}
	if foreign {
		// Another CPU's line inside a stall report that is not one of
		// its backtrace's lines ("NMI backtrace for cpu 0 skipped: …").
		r.Interleaved++
		return
	}
	p.idle++
	if t == "" {
		// Blank lines separate the parts of KASAN and KFENCE reports.
		return
	}
	if p.phase >= phaseTail || (p.phase == phaseTrace && len(r.Trace) > 0) || p.idle > maxIdleLines {
		p.close(false)
	}
}

// special reads the lines that are not reports but end, start or mark
// them: the panic line and its end marker, the KASLR offset, the sysrq
// trigger, "cut here". Cheap substring tests come first: most lines of a
// log are none of these.
func (p *parser) special(l *line) bool {
	if strings.Contains(l.text, "Kernel panic - not syncing") {
		if panicEndRe.MatchString(l.text) {
			if p.cur >= 0 && p.cur == p.panicIdx {
				p.reports[p.cur].EndMarker = true
				p.touch(l)
			}
			p.panicEnd = p.panicEnd || p.panicIdx >= 0
			p.close(false)
			return true
		}
		if m := panicLineRe.FindStringSubmatch(l.text); m != nil {
			p.close(false)
			p.openPanic(l, m[1])
			return true
		}
	}
	if strings.HasPrefix(l.text, "Kernel Offset: ") {
		if m := kernelOffsetRe.FindStringSubmatch(l.text); m != nil && p.kernelOffset == nil {
			if v, err := strconv.ParseUint(m[1], 16, 64); err == nil {
				h := model.Hex(v)
				p.kernelOffset = &h
			}
		}
		return true
	}
	if strings.HasSuffix(l.text, "Trigger a crash") && sysrqCrashRe.MatchString(l.text) {
		p.close(false)
		p.trigger, p.pending = l, 0
		return true
	}
	if strings.Contains(l.text, "[ cut here ]") && cutHereRe.MatchString(l.text) {
		p.close(false)
		p.cut, p.cutMsg, p.pending = l, nil, 0
		return true
	}
	return false
}

// touch records that the open report read l.
func (p *parser) touch(l *line) {
	r := &p.reports[p.cur]
	r.LastSeq = l.seq
	r.Lines++
	p.idle = 0
}

// open starts a report at a header line; it returns false when the report
// is not kept. Past maxReports, the older half of the reports before the
// panic is forgotten (the panic and its cause come last); after the panic,
// new reports are not kept.
func (p *parser) open(l *line, h header) bool {
	if len(p.reports) >= maxReports {
		if p.panicIdx >= 0 {
			p.dropped++
			p.cur = -1
			p.cut, p.cutMsg, p.trigger = nil, nil, nil
			return false
		}
		n := len(p.reports) / 2
		p.reports = append(p.reports[:0], p.reports[n:]...)
		p.forgotten += n
	}
	r := Report{Class: h.class, Header: l.text, Source: h.source, FirstSeq: l.seq, LastSeq: l.seq,
		TimestampNS: l.ts, Caller: l.caller, Message: h.message, Location: h.location,
		Function: h.function, HungTask: h.hungTask, Trace: []Frame{}, Lines: 1}
	if h.address != "" {
		r.Address = hexAddr(h.address)
	}
	r.Function, r.FunctionModule = splitSymbol(h.function)
	if p.cut != nil && (p.cut.caller == "" || p.cut.caller == l.caller) {
		r.FirstSeq, r.TimestampNS = p.cut.seq, p.cut.ts
		r.Lines += 1 + len(p.cutMsg)
		if r.Message == "" {
			r.Message = strings.Join(p.cutMsg, " ")
		}
	}
	if p.trigger != nil && (p.trigger.caller == "" || p.trigger.caller == l.caller) {
		r.Trigger = p.trigger.text
		r.FirstSeq, r.TimestampNS = p.trigger.seq, p.trigger.ts
		r.Lines++
	}
	p.cut, p.cutMsg, p.trigger = nil, nil, nil
	refineWarning(&r)
	p.reports = append(p.reports, r)
	p.cur = len(p.reports) - 1
	p.phase, p.stack, p.regs, p.idle = phaseHead, "", nil, 0
	p.wantsOops = h.wantsOops
	// Stall reports print other CPUs' backtraces from their own NMI
	// handlers (lib/nmi_backtrace.c), so their lines carry other callers.
	p.anyCaller = h.class == ClassRCUStall || h.class == ClassHardLockup
	return true
}

// openPanic starts the report of a panic line: what panic() printed next
// is its own dump_stack() (kernel/panic.c vpanic(), unless an oops already
// tainted the kernel with TAINT_DIE).
func (p *parser) openPanic(l *line, msg string) {
	msg = strings.TrimRight(msg, "\n ")
	k := classifyPanic(msg)
	h := header{class: k.class, source: "kernel/panic.c vpanic", message: msg}
	if k.consequence {
		// The report that caused it has its class; this one is a panic.
		h.class = ClassPanic
	}
	if k.function != "" {
		h.function = k.function
	}
	p.open(l, h)
	if p.cur >= 0 && p.panicIdx < 0 {
		p.panicIdx, p.panicLine = p.cur, *l
	}
}

// splitSymbol reads the function and module of "%pS" output ("F+0x1/0x2
// [mod]"), or returns a bare name as it is.
func splitSymbol(s string) (fn, mod string) {
	if m := symRe.FindStringSubmatch(s); m != nil {
		return m[1], m[4]
	}
	return symbolName(s), ""
}

// refineWarning gives WARN reports of the refcount and list checks their
// own class: lib/refcount.c REFCOUNT_WARN() "refcount_t: %s" and
// lib/list_debug.c CHECK_DATA_CORRUPTION() "list_add corruption. …" /
// "list_del corruption, …" print their message before the WARNING line.
func refineWarning(r *Report) {
	switch {
	case r.Class == ClassWarning && (strings.HasPrefix(r.Location, "lib/refcount.c:") || strings.HasPrefix(r.Message, "refcount_t: ")):
		r.Class = ClassRefcount
	case (r.Class == ClassWarning || r.Class == ClassKernelBUG) &&
		(strings.HasPrefix(r.Location, "lib/list_debug.c:") || strings.Contains(r.Message, "list_add corruption") ||
			strings.Contains(r.Message, "list_del corruption")):
		r.Class = ClassListCorruption
	}
}

var (
	callTraceRe = lazyRE(`^(?:Call [Tt]race:|Backtrace:)$`)
	hardwareRe  = lazyRE(`^Hardware name: (.*)$`)
	modulesRe   = lazyRE(`^Modules linked in:(.*)$`)
	codeRe      = lazyRE(`^Code: (.*)$`)
	// "#PF: %s %s in %s mode" and "#PF: error_code(0x%04lx) - %s"
	// (arch/x86/mm/fault.c show_fault_oops()).
	pfRe = lazyRE(`^#PF: (.*)$`)
	// kernel/hung_task.c check_hung_task(): "      %s %s %.*s%s" with
	// print_tainted(), the release and the version.
	hungTaintRe = lazyRE(`^\s+(Not tainted|Tainted: [A-Z ]+?) (\S+) (#\S*)(.*)$`)
	// kernel/sched/core.c sched_show_task(): "task:%-15.15s state:%c".
	schedTaskRe = lazyRE(`^task:(.+?)\s+state:(\S)`)
	// mm/kasan/report.c print_error_description(): "%s of size %zu at addr
	// %px by task %s/%d".
	kasanAccessRe = lazyRE(`^(Read|Write) of size (\d+) at addr ([0-9a-f]+) by task (.*)/(\d+)$`)
	// KASAN's and KFENCE's other stacks and the object description end the
	// report's call trace.
	kasanOtherRe = lazyRE(`^(?:Allocated by task|Freed by task|Last potentially related|Second to last potentially|The buggy address belongs|allocated by task|freed by task|kfence-#\d+)`)
	// KFENCE: "Use-after-free read at 0x%p (in kfence-#%td):",
	// "Out-of-bounds write at …", "Invalid read at …".
	kfenceAccessRe = lazyRE(`^(?:Use-after-free|Out-of-bounds|Invalid|Corrupted memory) (?:(read|write) )?at 0x([0-9a-f]+)`)
	// arch/x86/kernel/cpu/mce/core.c mce_panic(): HW_ERR "Machine check:
	// %s"; __print_mce(): HW_ERR "RIP%s %02x:<%016Lx> {%pS}".
	mceExplRe = lazyRE(`^(?:mce: )?\[Hardware Error\]: Machine check: (.*)$`)
	mceRIPRe  = lazyRE(`^(?:mce: )?\[Hardware Error\]: RIP(?: !INEXACT!)? ([0-9a-f]{2}):<([0-9a-f]+)>(?: \{(.*)\})?$`)
	// mm/oom_kill.c __oom_kill_process(): "%s: Killed process %d (%s) …".
	oomKilledRe    = lazyRE(`^(Out of memory.*: Killed process \d+ \(.*\))`)
	ppcInterruptRe = lazyRE(`^--- interrupt: [0-9a-f]+(?: at (.*))?$`)
	// The "Tainted:" line of print_tainted_verbose() (6.12).
	verboseTaintLineRe = lazyRE(`^Tainted: \[`)
)

// body reads a line into the open report; it returns false when the line
// is not one the report prints.
func (p *parser) body(r *Report, l *line, t string) bool {
	if endTraceRe.MatchString(t) {
		r.EndMarker = true
		p.phase = phaseSummary
		return true
	}
	if p.phase == phaseSummary {
		// oops_end() prints the first oops's registers again after the end
		// marker (arch/x86/kernel/dumpstack.c, "Executive summary").
		_, isIP := parseIP(t)
		return isIP || codeRe.MatchString(t) || parseRegs(t, map[string]model.Hex{})
	}
	if m := modulesRe.FindStringSubmatch(t); m != nil {
		r.Modules = parseModules(m[1])
		return true
	}
	if task, ok := parseTaskLine(t); ok {
		// KFENCE prints the task line last (mm/kfence/report.c
		// kfence_report_error() calls dump_stack_print_info() after the
		// stacks); everyone else before the trace.
		if r.Task == nil && (p.phase == phaseHead || r.Class == ClassKFENCE) {
			r.Task = task
			return true
		}
		// A second task line starts another CPU's backtrace: the report's
		// own trace is over.
		p.endTrace()
		return true
	}
	if verboseTaintLineRe.MatchString(t) {
		if r.Task != nil && p.phase == phaseHead {
			r.Task.Taint = parseTaint(t)
		}
		return true
	}
	if m := hardwareRe.FindStringSubmatch(t); m != nil {
		if r.Hardware == "" {
			r.Hardware = m[1]
		}
		return true
	}
	if p.phase == phaseHead && p.headLine(r, l, t) {
		return true
	}
	if loc, ok := parseIP(t); ok {
		p.ipLine(r, loc)
		return true
	}
	if m := ppcInterruptRe.FindStringSubmatch(t); m != nil {
		// ppc show_stack(): "--- interrupt: %lx at %pS" before the
		// interrupted context's registers, inside the trace.
		if p.phase == phaseTrace {
			loc := &CodeLocation{}
			if at, ok := strings.CutPrefix(m[1], "0x"); ok {
				// %pS printed a bare address: user space.
				loc.Address, loc.UserMode = hexAddr(at), true
			} else if m[1] != "" {
				loc.Function, loc.Module = splitSymbol(m[1])
			}
			p.ipLine(r, loc)
		}
		return true
	}
	if m := codeRe.FindStringSubmatch(t); m != nil {
		if p.regs == nil && p.phase != phaseHead {
			// arm64 die() prints "Code:" after the trace
			// (arch/arm64/kernel/traps.c dump_kernel_instr()): it belongs
			// to the report's own registers.
			p.endTrace()
			if len(r.Registers) > 0 && !r.Registers[0].InTrace && r.Registers[0].Code == "" {
				r.Registers[0].Code = m[1]
			}
			return true
		}
		if p.regs == nil {
			p.newRegs(r, nil)
		}
		if p.regs != nil {
			p.regs.Code = m[1]
		}
		return true
	}
	if regLineRe.MatchString(t) {
		if p.regs == nil && p.phase != phaseHead {
			// A register line that follows no instruction pointer inside
			// or after the trace: page_fault_oops()'s "CR2: %016lx" after
			// __die(). The trace is over; the value is in the dump above.
			p.endTrace()
			return true
		}
		if p.regs == nil {
			p.newRegs(r, nil)
		}
		if p.regs != nil {
			parseRegs(t, p.regs.Registers)
		}
		return true
	}
	if kasanOtherRe.MatchString(t) {
		p.endTrace()
		return true
	}
	if callTraceRe.MatchString(t) {
		switch p.phase {
		case phaseHead:
			p.phase, p.regs = phaseTrace, nil
		case phaseTrace:
			if len(r.Trace) > 0 {
				p.endTrace()
			}
		}
		return true
	}
	if name, closing, ok := parseMarker(l.text); ok {
		if p.phase == phaseHead {
			p.phase, p.regs = phaseTrace, nil
		}
		if p.phase == phaseTrace {
			if closing {
				p.stack = ""
			} else {
				p.stack = name
			}
			p.regs = nil
		}
		return true
	}
	if f, ok := parseFrame(l.text); ok {
		if p.phase == phaseHead {
			// KFENCE's stack_trace_print() and some arm64 paths print
			// frames without a "Call trace:" line.
			p.phase, p.regs = phaseTrace, nil
		}
		if p.phase != phaseTrace {
			return true
		}
		if len(r.Trace) < maxFrames {
			f.Stack = p.stack
			r.Trace = append(r.Trace, f)
		}
		p.regs = nil
		return true
	}
	return false
}

// headLine reads the class-specific lines printed before the trace.
func (p *parser) headLine(r *Report, l *line, t string) bool {
	if m := pfRe.FindStringSubmatch(t); m != nil {
		if strings.Count(r.Access, ";") < maxAccessLines {
			if r.Access != "" {
				r.Access += "; "
			}
			r.Access += m[1]
		}
		return true
	}
	if m := hungTaintRe.FindStringSubmatch(l.text); m != nil && r.Class == ClassHungTask && r.Task == nil {
		r.Task = &TaskInfo{CPU: -1, Taint: parseTaint(m[1]), Release: m[2], Version: m[3], Extra: strings.TrimSpace(m[4])}
		if r.HungTask != nil {
			r.Task.PID, r.Task.Comm = r.HungTask.PID, r.HungTask.Comm
		}
		return true
	}
	if m := schedTaskRe.FindStringSubmatch(t); m != nil && r.HungTask != nil {
		r.HungTask.State = m[2]
		return true
	}
	if m := kasanAccessRe.FindStringSubmatch(t); m != nil && r.Class == ClassKASAN {
		r.Access = m[1] + " of size " + m[2]
		r.Address = hexAddr(m[3])
		return true
	}
	if m := kfenceAccessRe.FindStringSubmatch(t); m != nil && r.Class == ClassKFENCE {
		r.Address = hexAddr(m[2])
		return true
	}
	if m := mceExplRe.FindStringSubmatch(t); m != nil && r.Class == ClassMachineCheck {
		r.Message = m[1]
		return true
	}
	if m := mceRIPRe.FindStringSubmatch(t); m != nil && r.Class == ClassMachineCheck {
		loc := &CodeLocation{Segment: m[1], Address: hexAddr(m[2])}
		if s := symRe.FindStringSubmatch(m[3]); s != nil {
			if fn, off, size, mod, _, ok := parseSym(s[1:]); ok {
				loc.Function, loc.Offset, loc.Size, loc.Module = fn, off, size, mod
			}
		}
		if v, err := strconv.ParseUint(m[1], 16, 16); err == nil && v&3 == 3 {
			loc.UserMode = true
		}
		p.newRegs(r, loc)
		return true
	}
	if m := oomKilledRe.FindStringSubmatch(t); m != nil && r.Class == ClassOOM {
		r.Message = m[1]
		return true
	}
	return false
}

// ipLine starts a register block at an instruction pointer line. Inside a
// trace it is an interrupted context (x86 show_regs_if_on_stack()), whose
// instruction pointer stands for a frame: the unwinder does not print it
// again.
func (p *parser) ipLine(r *Report, loc *CodeLocation) {
	if p.phase == phaseTail {
		return
	}
	if p.regs != nil && p.regs.IP == nil && p.regs.InTrace == (p.phase == phaseTrace) {
		// arm64 __show_regs() prints "pstate:" before "pc :".
		p.regs.IP = loc
	} else {
		p.newRegs(r, loc)
	}
	if p.phase != phaseTrace || loc.UserMode || loc.Function == "" || len(r.Trace) >= maxFrames {
		return
	}
	r.Trace = append(r.Trace, Frame{Function: loc.Function, Offset: loc.Offset, Size: loc.Size,
		Module: loc.Module, Reliable: true, Stack: p.stack, FromRegisters: true})
}

// newRegs opens a register block.
func (p *parser) newRegs(r *Report, ip *CodeLocation) {
	if len(r.Registers) >= maxRegBlocks {
		p.regs = nil
		return
	}
	b := RegisterBlock{IP: ip, Registers: map[string]model.Hex{}}
	if p.phase == phaseTrace {
		b.InTrace, b.AfterFrame, b.Stack = true, len(r.Trace), p.stack
	}
	r.Registers = append(r.Registers, b)
	p.regs = &r.Registers[len(r.Registers)-1]
}

// endTrace ends the open report's call trace.
func (p *parser) endTrace() {
	if p.phase < phaseTail {
		p.phase = phaseTail
	}
	p.regs = nil
}

// close finishes the open report; atEnd is true at the end of the log.
func (p *parser) close(atEnd bool) {
	if p.cur < 0 {
		return
	}
	r := &p.reports[p.cur]
	if len(r.Registers) == 0 {
		r.Registers = nil
	} else {
		for i := range r.Registers {
			if len(r.Registers[i].Registers) == 0 {
				r.Registers[i].Registers = nil
			}
		}
	}
	r.Missing = missing(r, p.wantsOops, atEnd && p.phase == phaseTrace && p.stack != "")
	r.Complete = len(r.Missing) == 0
	p.cur, p.regs, p.stack = -1, nil, ""
}

// noTrace reports whether a report of class c prints no call trace of its
// own: the machine check's mce_panic() and the sanitizers' short forms
// print registers and text only.
func noTrace(c Class) bool { return c == ClassMachineCheck }

// missing lists what a report of r's class prints that r lacks.
func missing(r *Report, wantsOops, openStack bool) []string {
	var out []string
	if wantsOops && r.Oops == nil {
		out = append(out, "die() header")
	}
	panicLike := r.Header != "" && panicLineRe.MatchString(r.Header)
	if r.Task == nil && !noTrace(r.Class) {
		out = append(out, "task line")
	}
	if len(r.Trace) == 0 && !noTrace(r.Class) {
		out = append(out, "call trace")
	}
	if openStack {
		out = append(out, "end of call trace")
	}
	if panicLike && len(out) > 0 && len(r.Trace) == 0 && r.Task == nil {
		// vpanic() prints no stack when an oops already tainted the kernel
		// with TAINT_DIE, or without CONFIG_DEBUG_BUGVERBOSE: say so
		// rather than call it lost.
		return []string{"call trace (vpanic() prints none after an oops or without CONFIG_DEBUG_BUGVERBOSE)"}
	}
	return out
}
