package oops

import (
	"strconv"
	"strings"

	"dumpscope/model"
)

// This file turns log records into lines and reads the lines that every
// report shares: the task line, the taint, the call trace frames and
// markers, the register dumps. The formats are the kernel's; each parser
// names the function that prints its line.

// line is one line of the log: a record's text split at its newlines
// (continuation lines keep theirs), with the record's sequence number,
// time and caller id.
type line struct {
	seq    uint64
	ts     uint64
	caller string
	text   string
}

// maxLineLen bounds the text of one line that the parsers look at. printk
// stores at most LOG_LINE_MAX bytes per record (kernel/printk/printk.c
// vprintk_store(): 1024 less the prefix in 6.1); a longer line is not one
// the kernel's report functions print, and cutting it keeps hostile logs
// cheap.
const maxLineLen = 4096

// splitLines flattens the records into lines, oldest first. Trailing
// carriage returns and spaces are dropped; leading spaces are kept, since
// trace lines are told apart by them.
func splitLines(recs []model.LogRecord) []line {
	out := make([]line, 0, len(recs))
	for _, r := range recs {
		text := r.Text
		for {
			i := strings.IndexByte(text, '\n')
			part := text
			if i >= 0 {
				part = text[:i]
			}
			part = strings.TrimRight(part, " \r\t")
			if len(part) > maxLineLen {
				part = part[:maxLineLen]
			}
			if part != "" || i < 0 {
				out = append(out, line{seq: r.Seq, ts: r.TimestampNS, caller: r.Caller, text: part})
			}
			if i < 0 {
				break
			}
			text = text[i+1:]
		}
	}
	return out
}

// symPattern matches "%pS" output: a symbol, its offset and the symbol's
// size (lib/vsprintf.c symbol_string() via sprint_symbol()), with the
// module and, with CONFIG_STACKTRACE_BUILD_ID, the module's build id
// ("%pSb", kernel/kallsyms.c __sprint_symbol()).
const symPattern = `([A-Za-z0-9_.$]+)\+0x([0-9a-fA-F]+)/0x([0-9a-fA-F]+)(?: \[([A-Za-z0-9_.\-]+)(?: ([0-9a-f]{16,64}))?\])?`

var (
	symRe = lazyRE(`^` + symPattern + `$`)

	// x86 printk_stack_address() (arch/x86/kernel/dumpstack.c): " %s%pBb",
	// with "? " for unreliable entries; arm64 dump_backtrace_entry()
	// (arch/arm64/kernel/stacktrace.c) " %pSb". Older kernels printed the
	// address first: " [<ffffffff81234567>] ? F+0x…/0x…".
	frameRe = lazyRE(`^\s+(?:\[<([0-9a-f]+)>\] )?(\? )?` + symPattern + `$`)
	// ppc show_stack() (arch/powerpc/kernel/process.c):
	// "[SP] [IP] F+0x…/0x… (unreliable)".
	ppcFrameRe = lazyRE(`^\s*\[([0-9a-f]+)\] \[([0-9a-f]+)\] ` + symPattern + `( \(unreliable\))?$`)
	// s390 show_stack() (arch/s390/kernel/dumpstack.c): " [<IP>] F+0x…/0x…"
	// when reliable, "([<IP>] F+0x…/0x…)" when not.
	s390FrameRe = lazyRE(`^\s*(\()?\[<([0-9a-f]+)>\] ` + symPattern + `\)?$`)
	// An address %pB could not name: "0xffffffffc0a01234" (or "? 0x…").
	bareFrameRe = lazyRE(`^\s+(\? )?0x([0-9a-f]{6,16})$`)

	// Stack markers of x86 __show_trace_log_lvl(): " <%s>" and " </%s>"
	// around each stack (stack_type_name(): TASK, IRQ, SOFTIRQ,
	// ENTRY_TRAMPOLINE, and the exception stacks #DF, NMI, #DB, #MC, #VC,
	// #VC2); older kernels printed " <EOI>" and " <<EOE>>".
	markerRe = lazyRE(`^\s*<(/?)([A-Z#][A-Z0-9_#]{0,20})>$`)
)

// parseSym parses "F+0x…/0x… [module buildid]".
func parseSym(m []string) (fn string, off, size uint64, mod, buildID string, ok bool) {
	o, err1 := strconv.ParseUint(m[1], 16, 64)
	s, err2 := strconv.ParseUint(m[2], 16, 64)
	if err1 != nil || err2 != nil {
		return "", 0, 0, "", "", false
	}
	return m[0], o, s, m[3], m[4], true
}

// parseFrame reads a call trace line of any of the forms above.
func parseFrame(text string) (Frame, bool) {
	if m := frameRe.FindStringSubmatch(text); m != nil {
		return symFrame(m[3:], m[1], m[2])
	}
	if m := ppcFrameRe.FindStringSubmatch(text); m != nil {
		return symFrame(m[3:8], m[2], m[8])
	}
	if m := s390FrameRe.FindStringSubmatch(text); m != nil {
		return symFrame(m[3:], m[2], m[1])
	}
	if m := bareFrameRe.FindStringSubmatch(text); m != nil {
		return Frame{Address: hexAddr(m[2]), Reliable: m[1] == ""}, true
	}
	return Frame{}, false
}

// symFrame makes the frame of a trace line that names a symbol: sym are
// the groups parseSym reads, addr the address as printed, unreliable the
// "? " mark (empty when the unwinder trusted the frame).
func symFrame(sym []string, addr, unreliable string) (Frame, bool) {
	fn, off, size, mod, bid, ok := parseSym(sym)
	if !ok {
		return Frame{}, false
	}
	return Frame{Function: fn, Offset: off, Size: size, Module: mod, ModuleBuildID: bid,
		Reliable: unreliable == "", Address: hexAddr(addr)}, true
}

// hexAddr parses a hex address, or returns nil for an empty or bad one.
func hexAddr(s string) *model.VirtAddr {
	if s == "" {
		return nil
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return nil
	}
	a := model.VirtAddr(v)
	return &a
}

// parseMarker reads a stack marker: name and whether it closes the stack.
// Older kernels closed the interrupt stack with " <EOI>".
func parseMarker(text string) (name string, closing, ok bool) {
	m := markerRe.FindStringSubmatch(text)
	if m == nil {
		return "", false, false
	}
	if m[2] == "EOI" {
		return "IRQ", true, true
	}
	return m[2], m[1] == "/", true
}

// taskLineRe matches lib/dump_stack.c dump_stack_print_info():
//
//	"CPU: %d PID: %d Comm: %.20s %s%s %s %.*s" …           (3.x – 6.10)
//	"CPU: %d UID: %u PID: %d Comm: %.20s %s%s %s %.*s %s" … (6.11, 6.12)
//
// then "Kdump: loaded " when a crash kernel is loaded, print_tainted()
// ("Not tainted" or "Tainted: " and one letter or space per taint flag),
// the release, the version up to its first space ("#1"), and what follows
// (LINUX_PACKAGE_ID, the preemption model, " %20phN" the build id). The
// comm may hold spaces, so the taint words anchor the split. Red Hat's
// 3.10 kernels print a "------------" mark before the release.
var taskLineRe = lazyRE(`^CPU: (\d+) (?:UID: (\d+) )?PID: (-?\d+) Comm: (.*?) (Kdump: loaded )?(Not tainted|Tainted: [A-Z ]+?) (?:-{4,} +)?(\S+) (#\S*)(.*)$`)

// buildIDRe matches the build id dump_stack_print_info() prints last with
// CONFIG_STACKTRACE_BUILD_ID: 20 bytes as 40 hex digits.
var buildIDRe = lazyRE(`^[0-9a-f]{40}$`)

// parseTaskLine reads the task line.
func parseTaskLine(text string) (*TaskInfo, bool) {
	m := taskLineRe.FindStringSubmatch(text)
	if m == nil {
		return nil, false
	}
	cpu, err := strconv.Atoi(m[1])
	if err != nil {
		return nil, false
	}
	pid, err := strconv.ParseInt(m[3], 10, 64)
	if err != nil {
		return nil, false
	}
	t := &TaskInfo{CPU: cpu, PID: pid, Comm: m[4], KdumpLoaded: m[5] != "",
		Taint: parseTaint(m[6]), Release: m[7], Version: m[8]}
	if m[2] != "" {
		if uid, err := strconv.ParseUint(m[2], 10, 32); err == nil {
			u := uint32(uid)
			t.UID = &u
		}
	}
	extra := strings.Fields(m[9])
	if n := len(extra); n > 0 && buildIDRe.MatchString(extra[n-1]) {
		t.BuildID = extra[n-1]
		extra = extra[:n-1]
	}
	t.Extra = strings.Join(extra, " ")
	return t, true
}

// taintFlags is kernel/panic.c taint_flags[]: the letter printed at each
// bit's position when the flag is set (include/linux/panic.h TAINT_*).
// Bit 0 prints 'G' when clear, 'P' when set; the others a space when
// clear. The table grows (6.1 and 6.12 end at TEST 'N', later kernels add
// FWCTL 'J'), so letters are decoded by letter, which the kernel keeps
// unique; a letter this table lacks is kept with bit -1 and no name.
var taintFlags = []struct {
	letter byte
	name   string
}{
	{'P', "PROPRIETARY_MODULE"}, {'F', "FORCED_MODULE"}, {'S', "CPU_OUT_OF_SPEC"},
	{'R', "FORCED_RMMOD"}, {'M', "MACHINE_CHECK"}, {'B', "BAD_PAGE"}, {'U', "USER"},
	{'D', "DIE"}, {'A', "OVERRIDDEN_ACPI_TABLE"}, {'W', "WARN"}, {'C', "CRAP"},
	{'I', "FIRMWARE_WORKAROUND"}, {'O', "OOT_MODULE"}, {'E', "UNSIGNED_MODULE"},
	{'L', "SOFTLOCKUP"}, {'K', "LIVEPATCH"}, {'X', "AUX"}, {'T', "RANDSTRUCT"},
	{'N', "TEST"}, {'J', "FWCTL"},
}

// taintFlag names a taint letter.
func taintFlag(c byte) TaintFlag {
	for bit, f := range taintFlags {
		if f.letter == c {
			return TaintFlag{Letter: string(c), Name: f.name, Bit: bit}
		}
	}
	return TaintFlag{Letter: string(c), Bit: -1}
}

// verboseTaintRe matches one entry of print_tainted_verbose() (6.12,
// kernel/panic.c print_tainted_seq()): "[%c]=%s" joined by ", ".
var verboseTaintRe = lazyRE(`\[([A-Z])\]=([A-Z_]+)`)

// parseTaint decodes print_tainted() and print_tainted_verbose() output:
// "Not tainted", "Tainted: G        W  O", "Tainted: [W]=WARN, [O]=…".
func parseTaint(text string) Taint {
	text = strings.TrimRight(text, " ")
	t := Taint{Text: text, Flags: []TaintFlag{}}
	rest, ok := strings.CutPrefix(text, "Tainted: ")
	if !ok {
		return t
	}
	if strings.HasPrefix(rest, "[") {
		for _, m := range verboseTaintRe.FindAllStringSubmatch(rest, len(taintFlags)+8) {
			f := taintFlag(m[1][0])
			if f.Name == "" {
				f.Name = m[2]
			}
			t.Flags = append(t.Flags, f)
		}
		return t
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c == ' ' || (i == 0 && c == 'G') {
			continue
		}
		t.Flags = append(t.Flags, taintFlag(c))
	}
	return t
}

// ipLineRe matches the instruction pointer line of a register dump:
// x86_64 show_ip() "RIP: %04x:%pS" and x86_32 "EIP: %pS"
// (arch/x86/kernel/dumpstack.c); older kernels printed
// "RIP: 0010:[<ffffffff81234567>]  [<ffffffff81234567>] F+0x…/0x…";
// the 4.x show_fault_oops() printed "IP: F+0x…/0x…".
var ipLineRe = lazyRE(`^(RIP|EIP|IP): (?:([0-9a-f]{4}):)?(?:\[<[0-9a-f]+>\]\s+)*(.*)$`)

// otherIPRe matches the instruction pointer lines of other architectures:
// arm64 __show_regs() "pc : %pS" (arch/arm64/kernel/process.c), ppc
// show_regs() "NIP [%016lx] %pS" (arch/powerpc/kernel/process.c), s390
// show_registers() "Krnl PSW : mask addr (%pSR)" (arch/s390/kernel/
// dumpstack.c).
var otherIPRe = lazyRE(`^(?:pc : |NIP \[[0-9a-f]+\] |Krnl PSW : [0-9a-f]+ [0-9a-f]+ \()(.*?)\)?$`)

// parseIP reads an instruction pointer line.
func parseIP(text string) (*CodeLocation, bool) {
	var seg, rest string
	if m := ipLineRe.FindStringSubmatch(text); m != nil {
		seg, rest = m[2], m[3]
	} else if m := otherIPRe.FindStringSubmatch(text); m != nil {
		rest = m[1]
	} else {
		return nil, false
	}
	loc := &CodeLocation{Segment: seg}
	// The requested privilege level is the selector's low two bits: 3 is
	// user mode (__USER_CS 0x33, __USER32_CS 0x23, i386 0x73).
	if seg != "" {
		if v, err := strconv.ParseUint(seg, 16, 16); err == nil && v&3 == 3 {
			loc.UserMode = true
		}
	}
	if m := symRe.FindStringSubmatch(rest); m != nil {
		fn, off, size, mod, _, ok := parseSym(m[1:])
		if ok {
			loc.Function, loc.Offset, loc.Size, loc.Module = fn, off, size, mod
			return loc, true
		}
	}
	if a, ok := strings.CutPrefix(rest, "0x"); ok {
		loc.Address = hexAddr(a)
	} else {
		loc.Address = hexAddr(rest)
	}
	return loc, true
}

// regLineRe recognises the lines of a register dump by their first name:
// x86_64 __show_regs() (arch/x86/kernel/process_64.c) "RSP: %04x:%016lx
// EFLAGS: %08lx ORIG_RAX: …", "RAX: … RBX: … RCX: …", "FS:  …(%04x) GS:…
// knlGS:…", "CS:  %04x DS: … ES: … CR0: …", "CR2: … CR3: … CR4: …",
// "DR0: …", "PKRU: …"; i386 __show_regs() "EAX: …"; arm64 "sp : …",
// "x29: …"; ppc "NIP:  … LR: … CTR: …", "GPR00: …"; the register-only line "ORIG_RAX: …" when the
// pr_cont() did not join it.
var regLineRe = lazyRE(`^(?:[RE](?:[ABCD]X|SI|DI|BP|SP)|R(?:0[89]|1[0-5])|FS|GS|CS|DS|CR2|CR0|DR[0-7]|PKRU|ORIG_RAX|EFLAGS|sp|x[0-9]{1,2}|GPR[0-9]{2}|lr|pstate|MSR|CTR|NIP) ?: `)

// regPairRe matches one "NAME: VALUE" pair of a register line; VALUE may
// be "segment:value" (RSP) or "value(selector)" (FS, GS).
var regPairRe = lazyRE(`([A-Za-z][A-Za-z0-9_]*)\s*:\s*(?:([0-9a-f]{4}):)?([0-9a-f]{2,16})(?:\(([0-9a-f]{4})\))?`)

// parseRegs reads the register pairs of a register line into regs (names
// lower case). It returns false when the line is not a register line.
func parseRegs(text string, regs map[string]model.Hex) bool {
	if !regLineRe.MatchString(text) {
		return false
	}
	for _, m := range regPairRe.FindAllStringSubmatch(text, 16) {
		name := strings.ToLower(m[1])
		v, err := strconv.ParseUint(m[3], 16, 64)
		if err != nil {
			continue
		}
		regs[name] = model.Hex(v)
		if m[2] != "" {
			// "RSP: 0018:…": the segment is ss; "CS:  0010" has none.
			if s, err := strconv.ParseUint(m[2], 16, 16); err == nil && name == "rsp" {
				regs["ss"] = model.Hex(s)
			}
		}
		if m[4] != "" {
			if s, err := strconv.ParseUint(m[4], 16, 16); err == nil {
				regs[name+"_sel"] = model.Hex(s)
			}
		}
	}
	return true
}

// parseModules reads print_modules() (kernel/module/main.c): "Modules
// linked in:" then " %s%s" for each module (name and its taint letters in
// parentheses) and " [last unloaded: %s]".
func parseModules(rest string) []string {
	if i := strings.Index(rest, "[last unloaded:"); i >= 0 {
		rest = rest[:i]
	}
	var out []string
	for _, f := range strings.Fields(rest) {
		if i := strings.IndexByte(f, '('); i > 0 {
			f = f[:i]
		}
		out = append(out, f)
		if len(out) >= 4096 {
			break
		}
	}
	return out
}
