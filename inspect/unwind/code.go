package unwind

import (
	"golang.org/x/arch/x86/x86asm"
)

// Some kernel functions have no ORC data: objtool skips functions marked
// STACK_FRAME_NON_STANDARD, and __crash_kexec is one (crash_setup_regs'
// pushf/pop; kernel/kexec_core.c), so the kernel's own unwinder stops there
// on every kdump's panicking CPU. For such a function codeEntry computes
// what objtool would have written: it follows the function's code from its
// start to the address, tracking the stack pointer through pushes, pops
// and immediate adjustments of sp along every branch, as objtool's
// validate_branch does. The result counts only when every path that
// reaches the address agrees and nothing moves sp in a way it cannot
// follow.

// Bounds of the analysis.
const (
	maxCodeBytes = 16 << 10
	maxCodeInsts = 4096
)

// pathState is the stack at an instruction, relative to the function's
// entry: depth bytes pushed below the return address, and where bp was
// saved (the depth before its push), -1 when it was not.
type pathState struct {
	depth int64
	bpAt  int64
}

// codeEntry returns the ORC entry objtool would have made for addr, or
// false when the code does not say it unambiguously.
func (w *walker) codeEntry(addr uint64) (Entry, bool) {
	start, ok := w.funcStart(addr)
	if !ok || addr < start || addr-start >= maxCodeBytes {
		return Entry{}, false
	}
	mode, ws := 64, int64(w.u.word)
	if ws == 4 {
		mode = 32
	}
	code := w.readCode(start, addr)
	if uint64(len(code)) <= addr-start {
		return Entry{}, false
	}
	type work struct {
		at uint64
		st pathState
	}
	seen := map[uint64]pathState{}
	length := map[uint64]int{}
	queue := []work{{start, pathState{0, -1}}}
	insts := 0
	for len(queue) > 0 {
		cur := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		at, st := cur.at, cur.st
		for {
			if at < start || at-start >= uint64(len(code)) {
				break
			}
			if old, ok := seen[at]; ok {
				if old != st {
					return Entry{}, false
				}
				break
			}
			if insts++; insts > maxCodeInsts {
				return Entry{}, false
			}
			seen[at] = st
			if isEndbr(code[at-start:]) {
				length[at] = 4
				at += 4
				continue
			}
			inst, err := x86asm.Decode(code[at-start:], mode)
			if err != nil {
				break
			}
			length[at] = inst.Len
			next := at + uint64(inst.Len)
			st, ok = stackEffect(inst, st, ws)
			if !ok || st.depth < 0 {
				break
			}
			if rel, isRel := inst.Args[0].(x86asm.Rel); isRel && isBranch(inst.Op) {
				dest := next + uint64(int64(rel))
				if fn, ok := w.funcStart(dest); ok && fn == start {
					queue = append(queue, work{dest, st})
				}
			}
			if endsPath(inst.Op) {
				break
			}
			if fn, ok := w.funcStart(next); !ok || fn != start {
				break
			}
			at = next
		}
	}
	for back := uint64(0); back < 15 && back <= addr-start; back++ {
		at := addr - back
		if n, ok := length[at]; ok && addr < at+uint64(n) {
			st := seen[at]
			e := Entry{Type: TypeCall, SPReg: RegSP, SPOffset: int16(st.depth + ws), BPReg: RegUndefined}
			if st.depth+ws > 1<<15-1 {
				return Entry{}, false
			}
			if st.bpAt >= 0 && st.bpAt+ws <= st.depth {
				e.BPReg, e.BPOffset = RegPrevSP, int16(-(2*ws + st.bpAt))
			}
			return e, true
		}
	}
	return Entry{}, false
}

// readCode reads the function's code from start, page by page, up to the
// bound or the first page that cannot be read, and at least past addr.
func (w *walker) readCode(start, addr uint64) []byte {
	var code []byte
	for at := start; at-start < maxCodeBytes; {
		n := pageSize - at%pageSize
		buf := make([]byte, n)
		if err := w.u.mem.read(at, buf); err != nil {
			break
		}
		code = append(code, buf...)
		at += n
		if at > addr+pageSize {
			break
		}
	}
	return code
}

// stackEffect applies an instruction to the stack state (ws is the word
// size); false when it changes sp in a way that cannot be followed.
func stackEffect(inst x86asm.Inst, st pathState, ws int64) (pathState, bool) {
	size := ws
	if inst.DataSize == 16 {
		size = 2
	}
	isBP := inst.Args[0] == x86asm.RBP || inst.Args[0] == x86asm.EBP
	switch inst.Op {
	case x86asm.PUSH:
		if isBP && st.bpAt < 0 {
			st.bpAt = st.depth
		}
		st.depth += size
		return st, true
	case x86asm.PUSHF, x86asm.PUSHFD, x86asm.PUSHFQ:
		st.depth += size
		return st, true
	case x86asm.POP:
		st.depth -= size
		if isBP && st.bpAt == st.depth {
			st.bpAt = -1
		}
		return st, true
	case x86asm.POPF, x86asm.POPFD, x86asm.POPFQ:
		st.depth -= size
		return st, true
	case x86asm.ENTER, x86asm.LEAVE, x86asm.PUSHA, x86asm.PUSHAD, x86asm.POPA, x86asm.POPAD:
		return st, false
	}
	if inst.Args[0] != x86asm.RSP && inst.Args[0] != x86asm.ESP && inst.Args[0] != x86asm.SP {
		return st, true
	}
	// The instruction writes sp.
	switch inst.Op {
	case x86asm.SUB, x86asm.ADD:
		imm, ok := inst.Args[1].(x86asm.Imm)
		if !ok {
			return st, false
		}
		if inst.Op == x86asm.SUB {
			st.depth += int64(imm)
		} else {
			st.depth -= int64(imm)
		}
		return st, true
	case x86asm.LEA:
		m, ok := inst.Args[1].(x86asm.Mem)
		if !ok || m.Base != x86asm.RSP && m.Base != x86asm.ESP || m.Index != 0 || m.Segment != 0 {
			return st, false
		}
		st.depth -= m.Disp
		return st, true
	}
	return st, false
}

// isBranch says whether an instruction with a relative operand transfers
// control there (jumps, conditional jumps, loops; not calls).
func isBranch(op x86asm.Op) bool {
	switch op {
	case x86asm.JMP, x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JCXZ, x86asm.JE, x86asm.JECXZ,
		x86asm.JG, x86asm.JGE, x86asm.JL, x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP, x86asm.JNS,
		x86asm.JO, x86asm.JP, x86asm.JRCXZ, x86asm.JS, x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE:
		return true
	}
	return false
}

// endsPath says whether execution does not fall through.
func endsPath(op x86asm.Op) bool {
	switch op {
	case x86asm.JMP, x86asm.RET, x86asm.LRET, x86asm.IRET, x86asm.IRETD, x86asm.IRETQ, x86asm.UD2, x86asm.UD1, x86asm.INT,
		x86asm.SYSRET, x86asm.SYSEXIT:
		return true
	}
	return false
}
