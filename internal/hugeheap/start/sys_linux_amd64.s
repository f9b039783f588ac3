#include "textflag.h"

// func rawSyscall6(num, a1, a2, a3, a4, a5, a6 uintptr) (r1 uintptr, errno Errno)
//
// The kernel's calling convention: the number in AX, the arguments in DI,
// SI, DX, R10, R8 and R9, the result in AX; -4094 to -1 is an error number
// (as in Go's own stubs; no error number is larger).
TEXT ·rawSyscall6(SB), NOSPLIT, $0-72
	MOVQ	num+0(FP), AX
	MOVQ	a1+8(FP), DI
	MOVQ	a2+16(FP), SI
	MOVQ	a3+24(FP), DX
	MOVQ	a4+32(FP), R10
	MOVQ	a5+40(FP), R8
	MOVQ	a6+48(FP), R9
	SYSCALL
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, r1+56(FP)
	NEGQ	AX
	MOVQ	AX, errno+64(FP)
	RET
ok:
	MOVQ	AX, r1+56(FP)
	MOVQ	$0, errno+64(FP)
	RET

// func dropPages(text, textLen, rodata, rodataLen, fd uintptr) (errno Errno)
//
// Three system calls back to back, with nothing between them but these
// instructions (see DropCode): madvise(rodata, MADV_DONTNEED),
// madvise(text, MADV_DONTNEED), then posix_fadvise(fd, 0, 0,
// POSIX_FADV_DONTNEED), whose error number it returns.
TEXT ·dropPages(SB), NOSPLIT, $0-48
	MOVQ	$28, AX // SYS_madvise
	MOVQ	rodata+16(FP), DI
	MOVQ	rodataLen+24(FP), SI
	MOVQ	$4, DX // MADV_DONTNEED
	SYSCALL
	MOVQ	$28, AX
	MOVQ	text+0(FP), DI
	MOVQ	textLen+8(FP), SI
	MOVQ	$4, DX
	SYSCALL
	MOVQ	$221, AX // SYS_fadvise64
	MOVQ	fd+32(FP), DI
	XORQ	SI, SI
	XORQ	DX, DX
	MOVQ	$4, R10 // POSIX_FADV_DONTNEED
	SYSCALL
	NEGQ	AX
	MOVQ	AX, errno+40(FP)
	RET

// func dropPagesPC() uintptr
//
// The address of dropPages' code (a Go func value would give its wrapper's).
TEXT ·dropPagesPC(SB), NOSPLIT, $0-8
	MOVQ	$·dropPages(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
