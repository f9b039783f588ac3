package model

// This file holds what `triage`, `info` and the Overview report about a
// crash: why and where the kernel crashed (CrashAnalysis, made by the
// kernel engine from the log and from memory), which analyses the dump
// supports (Verdict) and where its VMCOREINFO came from (VMCoreInfoOrigin).
// They marshal to the JSON contract of design.md: snake_case names,
// addresses as "0x…" strings, counts as numbers; lists are [] when empty.

// The crash verdicts of CrashWhy.Verdict.
const (
	// CrashPanic: the log holds a "Kernel panic - not syncing" line.
	CrashPanic = "panic"
	// CrashOops: no panic line, but the log ends inside an oops whose
	// oops_end() called crash_kexec() (inspect/oops cause.go).
	CrashOops = "oops"
	// CrashNone: nothing in the log or in memory took the kernel down (a
	// live or stopped system, dumped by a hypervisor or a debugger).
	CrashNone = "none"
	// CrashUnknown: the log could not be read, and memory does not say.
	CrashUnknown = "unknown"
)

// CrashAnalysis is why and where the kernel crashed, from its log (package
// inspect/oops) and from the kernel's own variables.
type CrashAnalysis struct {
	CrashCause
	// Memory are the facts read from the kernel's variables, beside the
	// log.
	Memory CrashMemory `json:"memory"`
	// Reports lists every report the log holds (oops, warning, lockup,
	// stall, panic), oldest first.
	Reports []CrashReportRef `json:"reports"`
	// Excerpt holds the log records of the report that crashed the kernel
	// and of the panic line, in order (at most MaxCrashExcerpt).
	Excerpt []LogRecord `json:"excerpt"`
	// LogRecords is the number of log records read.
	LogRecords int `json:"log_records"`
	// Notes say what the reader should know (disagreements between the
	// log and memory); Problems what could not be read, and why.
	Notes    []string `json:"notes"`
	Problems []string `json:"problems"`
}

// CrashCause is why and where the kernel crashed: the part of the crash
// analysis that Triage reports as is. Embedded, its fields marshal in
// place ("why", "where").
type CrashCause struct {
	Why   CrashWhy   `json:"why"`
	Where CrashWhere `json:"where"`
}

// MaxCrashExcerpt bounds CrashAnalysis.Excerpt.
const MaxCrashExcerpt = 64

// CrashWhy is why the kernel crashed.
type CrashWhy struct {
	// Verdict is CrashPanic, CrashOops, CrashNone or CrashUnknown.
	Verdict string `json:"verdict"`
	// Class is the kind of report that crashed the kernel.
	Class CrashClass `json:"class,omitempty"`
	// PanicMessage is panic()'s text (without "Kernel panic - not syncing:
	// "); PanicMessageFrom says where it was read: "log", "memory"
	// (panic()'s own buffer, when the log lost the line) or "log and
	// memory" (both, and they agree).
	PanicMessage     string `json:"panic_message,omitempty"`
	PanicMessageFrom string `json:"panic_message_from,omitempty"`
	// Header is the line that opened the report; Trigger the line that
	// announced its cause ("sysrq: Trigger a crash"); Message the class's
	// own text (the WARN message, the BUG location's message).
	Header  string `json:"header,omitempty"`
	Trigger string `json:"trigger,omitempty"`
	Message string `json:"message,omitempty"`
	// Location is the source position the report names ("mm/slub.c:123").
	Location string `json:"location,omitempty"`
	// FaultAddress is the faulting address of a page fault or GPF; Access
	// the "#PF:" explanation.
	FaultAddress *VirtAddr `json:"fault_address,omitempty"`
	Access       string    `json:"access,omitempty"`
	// IP is the report's instruction pointer as printed (the "RIP:"
	// function, "F+0x16/0x20 [module]").
	IP string `json:"ip,omitempty"`
	// HungTask names the blocked task of a hung-task report (the task
	// that crashed the kernel is then khungtaskd, in Where).
	HungTask *HungTask `json:"hung_task,omitempty"`
	// CauseReason says how the report that crashed the kernel was chosen.
	CauseReason string `json:"cause_reason"`
	// Incomplete is true when that report is cut short.
	Incomplete bool `json:"incomplete"`
	// Signature identifies the crash across dumps; nil when nothing
	// crashed.
	Signature *CrashSignature `json:"signature"`
	// Taint is the taint the report's task line printed; nil when it
	// printed none.
	Taint *Taint `json:"taint,omitempty"`
	// Modules are the modules the report names.
	Modules []string `json:"modules"`
}

// CrashWhere is where the kernel crashed: the CPU, the task, the stack.
type CrashWhere struct {
	// CPU is the CPU that crashed; CPUFrom says how it is known (the
	// log's task line, panic_cpu, crashing_cpu, a saved instruction
	// pointer in the crash path) or why it is not.
	CPU     *int   `json:"cpu"`
	CPUFrom string `json:"cpu_from"`
	// PID, Comm and Task (the task_struct address) name the task that was
	// running there; TaskFrom says how they are known.
	PID      *int64    `json:"pid"`
	Comm     string    `json:"comm,omitempty"`
	Task     *VirtAddr `json:"task,omitempty"`
	TaskFrom string    `json:"task_from"`
	// GuiltyFrame is the signature's guilty frame.
	GuiltyFrame string `json:"guilty_frame,omitempty"`
	// Trace is the call trace the log printed for the report, innermost
	// frame first.
	Trace []CrashFrame `json:"trace"`
	// Unwound is the crashing CPU's stack unwound from memory, when an
	// unwinder is available; UnwoundFrom names it, and StackAgreement
	// compares it with the log's trace.
	Unwound        []UnwoundFrame  `json:"unwound"`
	UnwoundFrom    string          `json:"unwound_from,omitempty"`
	StackAgreement *StackAgreement `json:"stack_agreement,omitempty"`
	// CPUs are every CPU's instruction and stack pointers, symbolized.
	CPUs []CPUState `json:"cpus"`
	// StackScan lists the words on the crashing CPU's stack that point
	// into kernel text (a scan, not an unwind: stale return addresses
	// show too).
	StackScan []StackWord `json:"stack_scan"`
}

// CrashMemory are facts read from the kernel's variables (through kallsyms
// and VMCOREINFO), each nil or empty when the kernel does not have it or
// its page is not in the dump.
type CrashMemory struct {
	// PanicCPU is kernel/panic.c panic_cpu: the CPU that entered panic()
	// or crash_kexec(); nil while it holds PANIC_CPU_INVALID (-1).
	PanicCPU *int `json:"panic_cpu"`
	// CrashingCPU is arch/x86/kernel/reboot.c crashing_cpu, set by
	// nmi_shootdown_cpus() on the way into the crash kernel; nil while -1.
	CrashingCPU *int `json:"crashing_cpu"`
	// CrashPathCPUs are the CPUs whose saved instruction pointer lies in
	// the crash path (__crash_kexec, panic, …): kdump saves the panicking
	// CPU's registers there.
	CrashPathCPUs []int `json:"crash_path_cpus"`
	// SignalledCPUs are the CPUs whose prstatus note has a non-zero
	// pr_cursig (the kernel's crash_save_cpu() leaves it 0; some other
	// producers mark the crashing CPU with it).
	SignalledCPUs []int `json:"signalled_cpus"`
	// Tasks are the tasks running on each CPU as memory gives them.
	Tasks []CPUTask `json:"tasks"`
	// PanicMessage is the text in panic()'s own buffer (the static
	// buf[1024] of kernel/panic.c panic()), which keeps the last panic's
	// message whether or not the log kept the line.
	PanicMessage string `json:"panic_message,omitempty"`
	// TaintedMask is kernel/panic.c tainted_mask; Taint decodes it.
	TaintedMask *Hex   `json:"tainted_mask,omitempty"`
	Taint       *Taint `json:"taint,omitempty"`
	// DieCounter is arch/x86/kernel/dumpstack.c die_counter: the number of
	// oopses since boot.
	DieCounter *int `json:"die_counter,omitempty"`
	// KdumpLoaded is true when kexec_crash_image is set: a crash kernel was
	// loaded.
	KdumpLoaded *bool `json:"kdump_loaded,omitempty"`
	// Read lists what was read, with the values ("panic_cpu at
	// 0xffffffff82e4da20 = 1").
	Read []string `json:"read"`
}

// CPUTask is the task running on a CPU.
type CPUTask struct {
	CPU int `json:"cpu"`
	// Task is the task_struct address (the per-CPU current_task).
	Task *VirtAddr `json:"task,omitempty"`
	// PID is the pid the dump's prstatus note recorded for the CPU (kdump's
	// crash_save_cpu() stores current->pid; QEMU stores a CPU number and
	// is not used), or the task's pid read through BTF.
	PID  *int64 `json:"pid,omitempty"`
	Comm string `json:"comm,omitempty"`
	// From says where these came from.
	From string `json:"from"`
}

// CrashReportRef is one report of the log, for lists and for jumping to it
// in the log.
type CrashReportRef struct {
	Index int        `json:"index"`
	Class CrashClass `json:"class"`
	// Title is the report's own signature title.
	Title  string `json:"title"`
	Header string `json:"header"`
	// FirstSeq and LastSeq are the sequence numbers of the report's first
	// and last log records; TimestampNS the first one's time.
	FirstSeq    uint64 `json:"first_seq"`
	LastSeq     uint64 `json:"last_seq"`
	TimestampNS uint64 `json:"ts_nsec"`
	// Cause is true for the report that crashed the kernel, Panic for a
	// report a panic line opened.
	Cause    bool `json:"cause"`
	Panic    bool `json:"panic"`
	Complete bool `json:"complete"`
}

// Triage is the report of `triage`: what the dump is, why and where the
// kernel crashed, and what the dump can be used for.
type Triage struct {
	What TriageWhat `json:"what"`
	CrashCause
	// Usable is the verdict: which analyses the dump supports.
	Usable     Verdict          `json:"usable"`
	VMCoreInfo VMCoreInfoOrigin `json:"vmcoreinfo"`
	Memory     CrashMemory      `json:"memory"`
	Reports    []CrashReportRef `json:"reports"`
	Notes      []string         `json:"notes"`
	Problems   []string         `json:"problems"`
}

// TriageWhat is what the dump is.
type TriageWhat struct {
	Files     []string  `json:"files"`
	Format    Format    `json:"format"`
	Container Container `json:"container"`
	Arch      string    `json:"arch"`
	CPUs      int       `json:"cpus"`
	// Release is VMCOREINFO's OSRELEASE (or the header's), BuildID its
	// BUILD-ID, CrashTime its CRASHTIME, KernelOffset its KERNELOFFSET
	// (the KASLR offset).
	Release      string `json:"osrelease"`
	BuildID      string `json:"build_id"`
	CrashTime    *int64 `json:"crash_time"`
	KernelOffset *Hex   `json:"kernel_offset,omitempty"`
}

// The analyses a Verdict rates, in the order it lists them.
const (
	// CapMemory: the memory the dump means to hold is there (no missing
	// split part, not a partial ELF, not truncated or incomplete).
	CapMemory = "memory"
	// CapVMCoreInfo: VMCOREINFO, from the dump's note, a file or memory.
	CapVMCoreInfo = "vmcoreinfo"
	// CapLog: the kernel log (printk ring buffer).
	CapLog = "kernel-log"
	// CapSymbols: kallsyms.
	CapSymbols = "symbols"
	// CapPageTables: the kernel's page tables (virtual addresses).
	CapPageTables = "page-tables"
	// CapRegisters: the CPUs' saved registers.
	CapRegisters = "cpu-registers"
	// CapStacks: the crashing CPU's kernel stack and the unwind tables.
	CapStacks = "stacks"
	// CapBTF: the kernel's BTF (types), for tasks and structures.
	CapBTF = "btf"
	// CapTasks: the task list and the task on each CPU.
	CapTasks = "tasks"
)

// Verdict says which analyses a dump supports and, for each it does not,
// why: decided by trying the reads each needs, never from headers alone.
type Verdict struct {
	// Ready is true when every analysis triage needs is supported.
	Ready bool `json:"ready"`
	// Summary says it in one line.
	Summary      string       `json:"summary"`
	Capabilities []Capability `json:"capabilities"`
	// Problems are the unsupported analyses as verify problems (the codes
	// `verify --ready` reports).
	Problems []Problem `json:"problems"`
	// PagesRead counts the pages read to decide (cached pages not counted).
	PagesRead uint64 `json:"pages_read"`
}

// Capability is one analysis and whether the dump supports it.
type Capability struct {
	Name      string `json:"name"`
	Supported bool   `json:"supported"`
	// Needed is true for what triage cannot do without.
	Needed bool `json:"needed"`
	// Detail says what was read and found, or why the analysis is not
	// possible (which frame is missing and what left it out).
	Detail string `json:"detail"`
}

// Capability returns the capability of a name, or nil.
func (v *Verdict) Capability(name string) *Capability {
	for i := range v.Capabilities {
		if v.Capabilities[i].Name == name {
			return &v.Capabilities[i]
		}
	}
	return nil
}

// The sources of VMCoreInfoOrigin.Source.
const (
	VMCoreInfoFromNote   = "note"   // the dump's own VMCOREINFO
	VMCoreInfoFromFile   = "file"   // --vmcoreinfo FILE
	VMCoreInfoFromMemory = "memory" // recovered from physical memory
	VMCoreInfoFromNone   = "none"
)

// VMCoreInfoOrigin says where the VMCOREINFO in use came from.
type VMCoreInfoOrigin struct {
	// Source is VMCoreInfoFromNote, …FromFile, …FromMemory or …FromNone.
	Source string `json:"source"`
	// File is the --vmcoreinfo file; PhysAddr the recovered text's
	// physical address.
	File     string    `json:"file,omitempty"`
	PhysAddr *PhysAddr `json:"phys_addr,omitempty"`
	// Reason says why this one (or why none).
	Reason string `json:"reason,omitempty"`
	// Search is the search of memory, when one was made.
	Search *VMCoreInfoSearch `json:"search,omitempty"`
}

// VMCoreInfoSearch is a search of physical memory for VMCOREINFO text.
type VMCoreInfoSearch struct {
	// PagesSearched counts the pages read; Hits the "OSRELEASE=" strings
	// found (format strings and other copies included).
	PagesSearched uint64 `json:"pages_searched"`
	Hits          int    `json:"hits"`
	// Candidates are the texts that parse as VMCOREINFO, validated.
	Candidates []VMCoreInfoCandidate `json:"candidates"`
	// Chosen is the index of the candidate in use, nil when none is valid.
	Chosen *int `json:"chosen"`
}

// VMCoreInfoCandidate is one VMCOREINFO text found in memory.
type VMCoreInfoCandidate struct {
	// PhysAddr is where the text starts.
	PhysAddr PhysAddr `json:"phys_addr"`
	// Form is "note" (the ELF note the kernel keeps in vmcoreinfo_note,
	// the copy kdump exports) or "text" (vmcoreinfo_data, or the safe copy
	// kexec keeps in the crash kernel's memory).
	Form string `json:"form"`
	Size int    `json:"size"`
	// Kernel numbers the kernels found: candidates of the same kernel
	// (same OSRELEASE, BUILD-ID, KERNELOFFSET and _stext) share it.
	Kernel       int       `json:"kernel"`
	OSRelease    string    `json:"osrelease"`
	BuildID      string    `json:"build_id,omitempty"`
	KernelOffset *Hex      `json:"kernel_offset,omitempty"`
	Stext        *VirtAddr `json:"stext,omitempty"`
	CrashTime    *int64    `json:"crash_time"`
	// Valid is true when the text describes the kernel whose memory this
	// is; Checks lists what was checked and found, Reason why it is not
	// valid.
	Valid  bool     `json:"valid"`
	Checks []string `json:"checks"`
	Reason string   `json:"reason,omitempty"`
	// CPUsInText counts the CPUs whose saved instruction pointer lies in
	// this kernel's text: the kernel that was running when the registers
	// were saved.
	CPUsInText int `json:"cpus_in_text"`
	// Raw is the text (not in JSON: `vmcoreinfo` prints it).
	Raw []byte `json:"-"`
}
