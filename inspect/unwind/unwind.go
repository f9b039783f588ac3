package unwind

import (
	"errors"
	"fmt"

	"dumpscope/model"
)

// Text says where kernel and module code is (kallsyms and the modules'
// symbols).
type Text interface {
	// FuncStart returns the start of the function (text symbol) that
	// holds pc; ok is false when pc is not in known code.
	FuncStart(pc uint64) (start uint64, ok bool)
}

// Config configures an Unwinder.
type Config struct {
	Mem Memory
	// ORC holds the unwind tables; nil unwinds with frame pointers (i386,
	// x86_64 CONFIG_UNWINDER_FRAME_POINTER).
	ORC *ORC
	// Text tells code from data. Without it no frame is reliable.
	Text Text
	// WordSize is 8 (x86_64, the default) or 4 (i386, frame pointers
	// only).
	WordSize int
	// MaxFrames bounds a trace (256 when 0).
	MaxFrames int
	// TopPadding is TOP_OF_KERNEL_STACK_PADDING
	// (arch/x86/include/asm/thread_info.h): the bytes a task stack leaves
	// unused above its pt_regs, 0 on x86_64, 8 or 16 on i386. With it the
	// frame-pointer unwinder knows the last frame exactly, as the
	// kernel's is_last_task_frame does; nil when unknown (0, 8 and 16 are
	// tried, which can end an i386 trace one frame early).
	TopPadding *uint64
}

// DefaultMaxFrames bounds a trace when Config.MaxFrames is 0.
const DefaultMaxFrames = 256

// Unwinder unwinds kernel stacks from a dump's memory. It reads memory
// through a small page cache and is not safe for concurrent use.
type Unwinder struct {
	orc       *ORC
	text      Text
	word      int
	maxFrames int
	pad       *uint64
	mem       pageCache
}

// New checks a configuration and returns an Unwinder.
func New(c Config) (*Unwinder, error) {
	if c.Mem == nil {
		return nil, errors.New("unwind: no memory to read")
	}
	if c.WordSize == 0 {
		c.WordSize = 8
	}
	if c.WordSize != 8 && c.WordSize != 4 {
		return nil, fmt.Errorf("unwind: word size %d (8 or 4): %w", c.WordSize, model.ErrUnsupported)
	}
	if c.WordSize == 4 && c.ORC != nil {
		return nil, fmt.Errorf("unwind: ORC exists only for x86_64: %w", model.ErrUnsupported)
	}
	if c.MaxFrames <= 0 {
		c.MaxFrames = DefaultMaxFrames
	}
	return &Unwinder{orc: c.ORC, text: c.Text, word: c.WordSize, maxFrames: c.MaxFrames, pad: c.TopPadding, mem: pageCache{mem: c.Mem}}, nil
}

// PagesRead returns how many pages the unwinder has read so far.
func (u *Unwinder) PagesRead() int { return u.mem.Pages }

// Method says how a trace was unwound.
type Method uint8

// The methods.
const (
	MethodORC Method = iota + 1
	MethodFramePointer
)

func (m Method) String() string {
	switch m {
	case MethodORC:
		return "orc"
	case MethodFramePointer:
		return "frame-pointer"
	}
	return "none"
}

// How says how a frame was found.
type How uint8

// The ways a frame is found.
const (
	// FromRegisters: the saved instruction pointer of the start registers
	// (a CPU's prstatus, or the interrupted context of an NMI).
	FromRegisters How = iota + 1
	// FromTaskFrame: a sleeping task's inactive_task_frame.ret_addr.
	FromTaskFrame
	// FromORC: one ORC step from the frame below.
	FromORC
	// FromORCGuess: no ORC entry covered the frame below (generated code
	// such as BPF); the kernel's frame-pointer guess (orc_fp_entry) found
	// this one. Never reliable.
	FromORCGuess
	// FromCode: ORC has no data for the frame below (objtool skipped its
	// function, as __crash_kexec); its frame was computed from its code
	// (see codeEntry). Reliable when every path agreed.
	FromCode
	// FromFramePointer: the frame-pointer chain.
	FromFramePointer
	// FromPrologue: frame 0's function had not set up its frame pointer
	// yet (its prologue was decoded); the return address is at sp.
	FromPrologue
	// FromNMIScan: a return address on the NMI stack, found by scanning
	// it and checked by unwinding with ORC exactly to the pt_regs the NMI
	// entry saved.
	FromNMIScan
	// FromCallScan: a call made after registers were saved by code (see
	// SavedByCode), found below the saved sp and checked by ORC.
	FromCallScan
)

var howNames = [...]string{"", "registers", "task-frame", "orc", "orc-fp-guess", "code", "frame-pointer", "prologue", "nmi-scan", "call-scan"}

func (h How) String() string { return enumName(howNames[:], h, "how") }

// Frame is one frame of a trace.
type Frame struct {
	Level int
	// PC is the frame's code address: a return address when Call is set
	// (symbolise PC-1 to name the call), else the exact instruction (the
	// start registers, a pt_regs' ip).
	PC   uint64
	Call bool
	// SP is the stack pointer of the frame's function at PC: the CFA of
	// the frame below for a return address (drgn's convention), a
	// pt_regs' sp. crash prints Slot instead.
	SP uint64
	// Slot is where PC was read: the stack slot of a return address, the
	// address of a pt_regs' ip; 0 for the start registers.
	Slot uint64
	// Stack is the stack SP lies on.
	Stack StackKind
	// Regs is the pt_regs that PC came from: an interrupt, exception, NMI
	// or system call entry into kernel mode.
	Regs *PtRegs
	// Reliable: every step to this frame had unwind data, stayed on known
	// stacks, and PC is in known code.
	Reliable bool
	How      How
}

// End says why a trace ended.
type End uint8

// The ends.
const (
	// EndStack: the outermost kernel frame (an ORC end-of-stack entry, a
	// zero frame pointer, the task's last frame).
	EndStack End = iota + 1
	// EndUser: a pt_regs of user mode (a system call or an exception from
	// user space); Trace.UserRegs holds it.
	EndUser
	// EndError: the unwind could not go on; Trace.Err says why.
	EndError
	// EndLimit: MaxFrames frames were found.
	EndLimit
)

func (e End) String() string {
	switch e {
	case EndStack:
		return "end-of-stack"
	case EndUser:
		return "user-mode"
	case EndError:
		return "error"
	case EndLimit:
		return "frame-limit"
	}
	return "none"
}

// Trace is an unwound stack.
type Trace struct {
	Method Method
	Frames []Frame
	// UserRegs are the user-mode registers saved at the entry that ends
	// the kernel stack.
	UserRegs *PtRegs
	End      End
	// Err says why the unwind stopped early (EndError, EndLimit).
	Err error
	// Notes say what was recovered beyond plain unwinding, or why not.
	Notes []string
}

// Reliable returns the frames up to the first unreliable one.
func (t *Trace) Reliable() []Frame {
	for i, f := range t.Frames {
		if !f.Reliable {
			return t.Frames[:i]
		}
	}
	return t.Frames
}

// Saved says how a CPU's registers were saved.
type Saved uint8

// The ways registers are saved.
const (
	// SavedInterrupted: the CPU stopped where the registers say: stopped
	// by the hypervisor (QEMU dump-guest-memory), or interrupted by the
	// kdump NMI shootdown (crash_nmi_callback saves the NMI's pt_regs).
	// For an NMI the unwinder also recovers the NMI handler's frames when
	// the NMI stack proves them (see CPU).
	SavedInterrupted Saved = iota
	// SavedByCode: the running code took the registers itself and went
	// on: on a kdump's panicking CPU, crash_setup_regs in __crash_kexec,
	// which then calls machine_kexec, which never returns. The unwinder
	// looks for those later calls below the saved sp.
	SavedByCode
)

// InactiveTaskFrame is the layout of struct inactive_task_frame
// (arch/x86/include/asm/switch_to.h), from BTF: what __switch_to_asm
// pushed before saving sp in thread.sp.
type InactiveTaskFrame struct {
	Size    uint64 // sizeof(struct inactive_task_frame)
	BP      uint64 // offsetof(bp)
	RetAddr uint64 // offsetof(ret_addr)
}

// TaskStart is where a sleeping task's stack begins.
type TaskStart struct {
	// ThreadSP is task->thread.sp.
	ThreadSP uint64
	Frame    InactiveTaskFrame
	// RetFromFork is the address of ret_from_fork (ret_from_fork_asm
	// since 6.7), 0 if unknown: a new task "returns" there, and
	// unwind_orc.c then looks its ip up as a signal frame.
	RetFromFork uint64
}

// walker is one unwind in progress.
type walker struct {
	u      *Unwinder
	stacks Stacks
	tr     *Trace
	// cur is the stack the last frame is on; degraded when the caller's
	// Stacks did not know the start (cur is then a pseudo stack and no
	// frame is reliable).
	cur      Stack
	degraded bool
	visited  uint32
	// calls remembers decoded call sites; scanBudget is what is left of
	// the current stack scan's steps.
	calls      map[uint64]callSite
	scanBudget int
}

// degradedStack bounds the pseudo stack of a start the caller's Stacks
// does not know: the largest THREAD_SIZE (KASAN doubles 16 KiB).
const degradedStack = 32 << 10

func (u *Unwinder) newWalker(stacks Stacks, sp uint64, m Method) *walker {
	w := &walker{u: u, stacks: stacks, tr: &Trace{Method: m}}
	if st, ok := w.stackOf(sp); ok {
		w.cur = st
	} else {
		w.degraded = true
		w.cur = Stack{Kind: StackUnknown, Lo: sp, Hi: sp + degradedStack}
		if w.cur.Hi < sp {
			w.cur.Hi = ^uint64(0)
		}
		w.tr.Notes = append(w.tr.Notes, fmt.Sprintf("sp %#x is on no stack the caller described: unwinding within %d bytes above it, no frame reliable", sp, degradedStack))
	}
	w.visited = 1 << w.cur.Kind
	return w
}

// stackOf asks the caller's Stacks (nil Stacks know nothing).
func (w *walker) stackOf(va uint64) (Stack, bool) {
	if w.stacks == nil {
		return Stack{}, false
	}
	st, ok := w.stacks.StackOf(va)
	if !ok || st.Lo >= st.Hi || !st.contains(va, 1) {
		return Stack{}, false
	}
	return st, true
}

// stackRead reads n bytes that must lie on a known stack (the current
// one, or another the caller knows), as unwind_orc.c's stack_access_ok.
func (w *walker) stackRead(va uint64, p []byte) error {
	n := uint64(len(p))
	if !w.cur.contains(va, n) {
		st, ok := w.stackOf(va)
		if w.degraded || !ok || !st.contains(va, n) {
			return fmt.Errorf("%d bytes at %#x are on no known stack", n, va)
		}
	}
	return w.u.mem.read(va, p)
}

func (w *walker) stackWord(va uint64) (uint64, error) {
	var b [8]byte
	if err := w.stackRead(va, b[:w.u.word]); err != nil {
		return 0, err
	}
	if w.u.word == 4 {
		return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24, nil
	}
	return le64(b[:]), nil
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// isText asks the caller's Text.
func (w *walker) isText(pc uint64) bool {
	if w.u.text == nil {
		return false
	}
	_, ok := w.u.text.FuncStart(pc)
	return ok
}

// moveTo decides whether a step may put sp at newSP and moves the walker
// there. Within a stack sp must grow; another stack is allowed only once
// (unwind_orc.c's stack_mask) and only where the kernel switches stacks:
// through a pt_regs (interrupt, exception, NMI entry) or a stack pointer
// read from memory (call_on_stack's stack swizzle, 5.12+; asm_call_on_stack
// through bp, 5.8–5.11). A newSP on no known stack is allowed but leaves
// the walker's stack unknown: the next read fails.
func (w *walker) moveTo(oldSP, newSP uint64, mayswitch bool) (onKnown bool, err error) {
	if w.cur.Lo <= newSP && newSP <= w.cur.Hi {
		if newSP <= oldSP {
			return false, fmt.Errorf("stack going in the wrong direction: sp %#x after %#x on the %s", newSP, oldSP, w.cur)
		}
		return !w.degraded, nil
	}
	st, ok := w.stackOf(newSP)
	if !ok || w.degraded {
		w.cur = Stack{Kind: StackUnknown, Lo: newSP, Hi: newSP}
		return false, nil
	}
	if !mayswitch {
		return false, fmt.Errorf("sp %#x moved from the %s to the %s without an entry frame or a saved stack pointer", newSP, w.cur, st)
	}
	if w.visited&(1<<st.Kind) != 0 {
		return false, fmt.Errorf("sp %#x returns to the %s, already unwound", newSP, st)
	}
	w.visited |= 1 << st.Kind
	w.cur = st
	return true, nil
}

// add appends a frame, numbering it; false when the limit is reached.
func (w *walker) add(f Frame) bool {
	if len(w.tr.Frames) >= w.u.maxFrames {
		w.finish(EndLimit, fmt.Errorf("stopped after %d frames", w.u.maxFrames))
		return false
	}
	f.Level = len(w.tr.Frames)
	if w.degraded {
		f.Reliable = false
	}
	w.tr.Frames = append(w.tr.Frames, f)
	return true
}

func (w *walker) finish(e End, err error) {
	if w.tr.End == 0 {
		w.tr.End, w.tr.Err = e, err
	}
}

// CPU unwinds a CPU's kernel stack from its saved registers (NT_PRSTATUS).
// stacks describes that CPU's stacks and its current task's.
//
// Frame 0 is the saved ip; unwinding goes on as unwind_orc.c's
// __unwind_start does from a pt_regs (the ip is exact, not a return
// address), or along the frame-pointer chain from bp.
//
// With ORC, two more starts are recovered when memory proves them:
//
//   - An NMI in progress whose pt_regs equal the registers (the kdump
//     shootdown: crash_nmi_callback saves the NMI's pt_regs): the NMI
//     handler's frames are found on the NMI stack and put first (see
//     recoverNMI).
//   - saved == SavedByCode: the calls made after the registers were taken
//     (machine_kexec) are found below the saved sp (see recoverCallee).
func (u *Unwinder) CPU(r Regs, stacks Stacks, saved Saved) *Trace {
	m := MethodORC
	if u.orc == nil {
		m = MethodFramePointer
	}
	w := u.newWalker(stacks, r.SP, m)
	if r.UserMode() {
		w.tr.UserRegs = &PtRegs{Regs: r}
		w.finish(EndUser, nil)
		return w.tr
	}
	if m == MethodFramePointer {
		w.fpFromRegs(r)
		return w.tr
	}
	start := state{pc: r.IP, sp: r.SP, bp: r.BP, bpKnown: true, signal: true, regs: &PtRegs{Regs: r}, fullRegs: true, reliable: true}
	frame0 := Frame{PC: r.IP, SP: r.SP, Stack: w.cur.Kind, How: FromRegisters}
	if nmi := w.recoverNMI(r); nmi != nil {
		frame0.Regs = nmi
	}
	if saved == SavedByCode {
		if next, ok := w.recoverCallee(r, start); ok {
			w.orcLoop(next)
			return w.tr
		}
	}
	frame0.Reliable = start.reliable && w.isText(r.IP)
	start.reliable = frame0.Reliable
	if w.add(frame0) {
		w.orcLoop(start)
	}
	return w.tr
}

// Task unwinds a sleeping task from task->thread.sp: __switch_to_asm
// pushed a struct inactive_task_frame there and saved sp. Frame 0 is its
// ret_addr (normally in __schedule); unwinding starts above the frame with
// its saved bp (unwind_orc.c and unwind_frame.c __unwind_start).
func (u *Unwinder) Task(t TaskStart, stacks Stacks) *Trace {
	m := MethodORC
	if u.orc == nil {
		m = MethodFramePointer
	}
	w := u.newWalker(stacks, t.ThreadSP, m)
	fr := t.Frame
	if fr.Size == 0 || fr.Size > 64*uint64(u.word) || fr.BP+uint64(u.word) > fr.Size || fr.RetAddr+uint64(u.word) > fr.Size {
		w.finish(EndError, fmt.Errorf("inactive_task_frame layout (size %d, bp at %d, ret_addr at %d) does not fit: %w", fr.Size, fr.BP, fr.RetAddr, model.ErrCorrupt))
		return w.tr
	}
	bp, err1 := w.stackWord(t.ThreadSP + fr.BP)
	ret, err2 := w.stackWord(t.ThreadSP + fr.RetAddr)
	if err := errors.Join(err1, err2); err != nil {
		w.finish(EndError, fmt.Errorf("inactive_task_frame at thread.sp %#x: %w", t.ThreadSP, err))
		return w.tr
	}
	sp := t.ThreadSP + fr.Size
	f := Frame{PC: ret, Call: true, SP: sp, Slot: t.ThreadSP + fr.RetAddr, Stack: w.cur.Kind, How: FromTaskFrame}
	f.Reliable = w.isText(ret) && w.cur.contains(t.ThreadSP, fr.Size)
	if !w.add(f) {
		return w.tr
	}
	if m == MethodFramePointer {
		w.fpChain(bp, sp, f.Reliable)
		return w.tr
	}
	signal := t.RetFromFork != 0 && ret == t.RetFromFork
	if signal {
		w.tr.Frames[0].Call = false
	}
	w.orcLoop(state{pc: ret, sp: sp, bp: bp, bpKnown: true, signal: signal, reliable: f.Reliable})
	return w.tr
}
