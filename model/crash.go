package model

// This file holds the results of the crash analysis (package inspect/oops)
// that other values embed: the crash signature, the call-trace frames, the
// taint, the hung task, the comparison of a log trace with an unwound
// stack. Package oops makes them (its names are aliases of these, or these
// themselves); they marshal to the JSON contract of design.md: snake_case
// names, addresses as "0x…" strings.

// CrashClass names a kind of kernel report. The values are stable words for
// JSON and for the signature's canonical text.
type CrashClass string

// CrashFrame is one call trace line.
type CrashFrame struct {
	// Function is the symbol as printed, with compiler suffixes (.cold,
	// .isra.0); empty when the kernel printed a bare address.
	Function string `json:"function"`
	Offset   uint64 `json:"offset"`
	Size     uint64 `json:"size"`
	Module   string `json:"module,omitempty"`
	// ModuleBuildID is printed after the module name with
	// CONFIG_STACKTRACE_BUILD_ID.
	ModuleBuildID string `json:"module_build_id,omitempty"`
	// Address is printed by older kernels ("[<ffffffff81234567>]") and by
	// ppc and s390.
	Address *VirtAddr `json:"address,omitempty"`
	// Reliable is false for "? F+0x…" lines (a text address found on the
	// stack that the unwinder did not confirm) and ppc "(unreliable)".
	Reliable bool `json:"reliable"`
	// Stack is the stack marker the frame was printed under ("TASK",
	// "IRQ", "SOFTIRQ", "NMI", "#DF", …); empty before any marker.
	Stack string `json:"stack,omitempty"`
	// FromRegisters is true for the instruction pointer of a register block
	// inside the trace (the unwinder does not print it again as a frame).
	FromRegisters bool `json:"from_registers,omitempty"`
}

// UnwoundFrame is one frame of a stack given by an unwinder (ORC, frame
// pointers, crash or drgn).
type UnwoundFrame struct {
	Function string `json:"function"`
	Offset   uint64 `json:"offset"`
	Size     uint64 `json:"size,omitempty"`
	Module   string `json:"module,omitempty"`
	Reliable bool   `json:"reliable"`
}

// Taint is the kernel's taint state as print_tainted() printed it.
type Taint struct {
	// Text is as printed, trailing spaces dropped: "Not tainted",
	// "Tainted: G        W  O", or the verbose "Tainted: [W]=WARN,
	// [O]=OOT_MODULE".
	Text  string      `json:"text"`
	Flags []TaintFlag `json:"flags"`
}

// TaintFlag is one set taint flag.
type TaintFlag struct {
	Letter string `json:"letter"`
	// Name is the kernel's TAINT_ name without the prefix ("WARN",
	// "OOT_MODULE"), or "" for a letter package oops does not know.
	Name string `json:"name"`
	// Bit is the flag's bit number in tainted_mask, -1 when unknown.
	Bit int `json:"bit"`
}

// HungTask is the task kernel/hung_task.c check_hung_task() reported.
type HungTask struct {
	Comm string `json:"comm"`
	PID  int64  `json:"pid"`
	// State is sched_show_task()'s state letter ("D").
	State string `json:"state,omitempty"`
}

// CrashSignature identifies a crash across dumps: the same bug in another boot
// (other KASLR offset, addresses, pids, CPUs, timestamps) gets the same
// Hash. The recipe is in inspect/oops/signature.go.
type CrashSignature struct {
	Version int    `json:"version"`
	Title   string `json:"title"`
	// AltTitles are syzkaller's alternative titles, which group a bug seen
	// through different reports ("bad-access in F" for a NULL pointer
	// dereference, a paging request, a GPF or a KASAN report in F; "stall
	// in F"; "hang in F"). They are not hashed.
	AltTitles []string   `json:"alt_titles"`
	Class     CrashClass `json:"class"`
	// GuiltyFrame is the first frame that is not reporting, trap or
	// library plumbing, normalized; Frames the frames from it on (at most
	// oops.MaxFrames), normalized.
	GuiltyFrame string   `json:"guilty_frame"`
	Frames      []string `json:"frames"`
	// Canonical is the exact text hashed; Hash its SHA-256 in lower-case
	// hex.
	Canonical string `json:"canonical"`
	Hash      string `json:"hash"`
	// Release and BuildID identify the kernel build (not hashed).
	Release string `json:"release,omitempty"`
	BuildID string `json:"build_id,omitempty"`
	// Modules are the modules named in the trace and the register dumps;
	// Taint the taint flag names of the report's task line (neither is
	// hashed).
	Modules []string `json:"modules"`
	Taint   []string `json:"taint"`
	// Corrupted is true when the title could not be completed (no frame,
	// report cut short); CorruptedReason says why.
	Corrupted       bool   `json:"corrupted"`
	CorruptedReason string `json:"corrupted_reason,omitempty"`
}

// StackAgreement compares a report's trace with an unwound stack.
type StackAgreement struct {
	// Agree is true when the log's reliable frames, from the first one the
	// unwinder also has, appear in the unwound stack in the same order.
	Agree bool `json:"agree"`
	// LogFrames and UnwoundFrames count the frames compared; Matched the
	// log frames found in order.
	LogFrames     int `json:"log_frames"`
	UnwoundFrames int `json:"unwound_frames"`
	Matched       int `json:"matched"`
	// LogOnlyTop counts the log's innermost frames that the unwinder does
	// not have before the first common frame (reporting functions that had
	// returned when the dump was taken, such as dump_stack_lvl).
	LogOnlyTop int `json:"log_only_top"`
	// Divergence names the first log frame not found in order, when they
	// disagree.
	Divergence *StackDivergence `json:"divergence,omitempty"`
	Summary    string           `json:"summary"`
}

// StackDivergence is where a log trace and an unwound stack part.
type StackDivergence struct {
	LogIndex int    `json:"log_index"`
	LogFrame string `json:"log_frame"`
	// UnwoundIndex is the unwound frame matched last before the divergence
	// (-1 when none was).
	UnwoundIndex int `json:"unwound_index"`
}
