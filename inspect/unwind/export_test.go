package unwind

// Internals for the external tests (package unwind_test) that read real
// dumps through the kernel engine, which imports this package.

// PtRegs64Size and PtRegs32Size are sizeof(struct pt_regs).
const (
	PtRegs64Size = ptRegs64Size
	PtRegs32Size = ptRegs32Size
)

// FollowsCall reports whether the instruction before pc is a call, read
// through u's memory.
func FollowsCall(u *Unwinder, pc uint64) bool {
	w := &walker{u: u}
	_, _, ok := w.followsCall(pc)
	return ok
}
