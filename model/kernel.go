package model

import (
	"fmt"
	"strings"
)

// This file holds the results of the kernel triage engine (package
// reader/kernel): what `dmesg`, `vtop`, `sym`, `disasm` and the crash
// summary report. They marshal to the JSON contract of design.md §4:
// addresses as "0x…" strings, counts and sizes as numbers.

// Translation is the translation of one kernel virtual address: every
// page-table level the walk visited and how the physical address was found.
type Translation struct {
	VirtAddr VirtAddr `json:"vaddr"`
	// Mapped is true when PhysAddr holds the answer.
	Mapped   bool     `json:"mapped"`
	PhysAddr PhysAddr `json:"phys_addr"`
	// PFN is the dump's frame that holds PhysAddr.
	PFN PFN `json:"pfn"`
	// PageSize is the size of the mapping that holds the address: 4 KiB,
	// or a large page (2 MiB, 4 MiB, 1 GiB).
	PageSize uint64 `json:"page_size"`
	// PageState is the dump's state of the frame that holds PhysAddr.
	PageState PageState `json:"page_state,omitempty"`
	// Paging names the paging mode ("x86_64 4-level", "i386 PAE").
	Paging string `json:"paging"`
	// Root is the physical address of the top-level table, and RootFrom
	// says where it came from ("SYMBOL(init_top_pgt) in VMCOREINFO", "cr3
	// of CPU 1").
	Root     PhysAddr `json:"root"`
	RootFrom string   `json:"root_from"`
	// Steps are the levels visited, top first.
	Steps []VtopStep `json:"steps"`
	// Method is how PhysAddr was found: "page-table walk", or a shortcut
	// ("direct map", "kernel text map") when the walk could not be done.
	Method string `json:"method"`
	// Shortcut is the arithmetic translation of the direct map or the
	// kernel text map, when the address lies in one, with whether it
	// agrees with the walk.
	Shortcut *VtopShortcut `json:"shortcut,omitempty"`
	// Note explains a fallback or a disagreement.
	Note string `json:"note,omitempty"`
}

// VtopStep is one page-table entry visited by a walk.
type VtopStep struct {
	// Level is the table's name: pml5, pml4, pdpt, pd, pt (x86_64 and
	// i386 PAE use the same names; i386 without PAE has pd and pt).
	Level string `json:"level"`
	// Index is the entry's index in its table.
	Index int `json:"index"`
	// EntryAddr is the physical address of the entry; Entry its value.
	EntryAddr PhysAddr `json:"entry_addr"`
	Entry     Hex      `json:"entry"`
	// Flags are the set flag bits by name (present, rw, user, pwt, pcd,
	// accessed, dirty, large, global, nx).
	Flags []string `json:"flags"`
	// Next is the physical address the entry points to: the next table,
	// or the page (Large, or the last level). Absent when not present.
	Next *PhysAddr `json:"next,omitempty"`
	// Large is true when the entry maps a large page.
	Large bool `json:"large,omitempty"`
}

// VtopShortcut is the arithmetic translation of a linear kernel mapping.
type VtopShortcut struct {
	// Kind is "direct map" (va - PAGE_OFFSET) or "kernel text map" (va -
	// __START_KERNEL_map + phys_base).
	Kind     string   `json:"kind"`
	PhysAddr PhysAddr `json:"phys_addr"`
	// Agrees says whether the walk gave the same answer; nil when no walk
	// could be done.
	Agrees *bool `json:"agrees"`
}

// LogRecord is one record of the kernel log.
type LogRecord struct {
	// Seq is the record's sequence number. Legacy log_buf dumps do not
	// export the first sequence number, so there it counts from 0 at the
	// oldest record still in the buffer.
	Seq uint64 `json:"seq"`
	// TimestampNS is the time since boot in nanoseconds (local_clock()).
	TimestampNS uint64 `json:"ts_nsec"`
	// Level is the syslog level (0 emerg … 7 debug), Facility the syslog
	// facility (0 kernel); both -1 when the layout does not say.
	Level    int `json:"level"`
	Facility int `json:"facility"`
	// Caller is "T<pid>" or "C<cpu>" (CONFIG_PRINTK_CALLER), or empty.
	Caller string `json:"caller,omitempty"`
	// Text is the message as stored (printk strips the final newline;
	// continuation lines keep theirs).
	Text string `json:"text"`
	// Subsystem and Device are the dev_printk fields, when set.
	Subsystem string `json:"subsystem,omitempty"`
	Device    string `json:"device,omitempty"`
	// Truncated is true when the stored text is shorter than text_len
	// said.
	Truncated bool `json:"truncated,omitempty"`
}

// Symbol is one kernel symbol.
type Symbol struct {
	Name string   `json:"name"`
	Addr VirtAddr `json:"addr"`
	// Type is the nm letter (T text, t local text, D data, …).
	Type string `json:"type"`
	// Size is the distance to the next symbol with a higher address (0 for
	// the last one): what the kernel's %pS prints after the slash.
	Size uint64 `json:"size"`
}

// SymbolRef is an address resolved to a symbol and an offset.
type SymbolRef struct {
	Addr   VirtAddr `json:"addr"`
	Symbol Symbol   `json:"symbol"`
	Offset uint64   `json:"offset"`
	// Module names the module whose symbol it is; empty for the kernel
	// image's own.
	Module string `json:"module,omitempty"`
}

// String formats the reference as the kernel's %pS does: "name+0x13/0x20",
// "name+0x13/0x20 [module]".
func (r SymbolRef) String() string {
	s := fmt.Sprintf("%s+%#x/%#x", r.Symbol.Name, r.Offset, r.Symbol.Size)
	if r.Module != "" {
		s += " [" + r.Module + "]"
	}
	return s
}

// Instruction is one disassembled instruction.
type Instruction struct {
	Addr VirtAddr `json:"addr"`
	// Bytes are the instruction's bytes in hex.
	Bytes string `json:"bytes"`
	// Text is the instruction in GNU or Intel syntax, or "(bad)".
	Text string `json:"text"`
	// Location is the address as symbol+offset, when kallsyms knows it.
	Location string `json:"location,omitempty"`
	// Target is the destination of a direct branch or call.
	Target       *VirtAddr `json:"target,omitempty"`
	TargetSymbol string    `json:"target_symbol,omitempty"`
	// Bad is true when the bytes do not decode; Why says why.
	Bad bool   `json:"bad,omitempty"`
	Why string `json:"why,omitempty"`
	// Marked is true for the instruction at the requested address (the
	// CPU's instruction pointer).
	Marked bool `json:"marked,omitempty"`
}

// StackWord is a word on a kernel stack that points into kernel text: a
// likely return address.
type StackWord struct {
	Addr   VirtAddr `json:"addr"`
	Value  Hex      `json:"value"`
	Symbol string   `json:"symbol"`
}

// CPUState is one CPU's instruction and stack pointers, symbolized.
type CPUState struct {
	CPU    int       `json:"cpu"`
	Source RegSource `json:"source"`
	PID    *int64    `json:"pid,omitempty"`
	// PC is rip (eip on i386), SP is rsp (esp).
	PC       VirtAddr `json:"pc"`
	PCSymbol string   `json:"pc_symbol,omitempty"`
	SP       VirtAddr `json:"sp"`
}

// CrashSummary is what a support engineer wants in the first minute: which
// kernel, when, which CPU crashed where, and the last log lines.
type CrashSummary struct {
	OSRelease string `json:"osrelease"`
	BuildID   string `json:"build_id"`
	// CrashTime is VMCOREINFO's CRASHTIME (seconds since the epoch), set
	// only by the kdump panic path.
	CrashTime *int64 `json:"crash_time"`
	// CrashCPU is the CPU that panicked, when the dump shows one, and
	// CrashCPUReason says how it was found or why none was.
	CrashCPU       *int       `json:"crash_cpu"`
	CrashCPUReason string     `json:"crash_cpu_reason"`
	CPUs           []CPUState `json:"cpus"`
	// Stack lists the text pointers on the crashing CPU's stack (CPU 0's
	// when no CPU crashed).
	Stack []StackWord `json:"stack"`
	// LastLog holds the last records of the kernel log.
	LastLog []LogRecord `json:"last_log"`
	// Problems say what could not be read and why.
	Problems []string `json:"problems"`
}

// DmesgLine formats a record as kexec-tools' vmcore-dmesg prints it:
// "[%5llu.%06llu] " and the text, with bytes that are neither printable
// nor space (C locale) escaped as \xNN.
func DmesgLine(r LogRecord) string {
	var b strings.Builder
	sec, rem := r.TimestampNS/1e9, r.TimestampNS%1e9
	fmt.Fprintf(&b, "[%5d.%06d] ", sec, rem/1000)
	for i := 0; i < len(r.Text); i++ {
		c := r.Text[i]
		if (c >= 0x20 && c < 0x7f) || (c >= '\t' && c <= '\r') { // isprint || isspace
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\x%02x", c)
		}
	}
	return b.String()
}
