#include "textflag.h"

// func rawSyscall6(num, a1, a2, a3, a4, a5, a6 uintptr) (r1 uintptr, errno Errno)
//
// The kernel's calling convention: the number in R8, the arguments in R0
// to R5, the result in R0; -4095 to -1 is an error number (as in Go's own
// stubs).
TEXT ·rawSyscall6(SB), NOSPLIT, $0-72
	MOVD	num+0(FP), R8
	MOVD	a1+8(FP), R0
	MOVD	a2+16(FP), R1
	MOVD	a3+24(FP), R2
	MOVD	a4+32(FP), R3
	MOVD	a5+40(FP), R4
	MOVD	a6+48(FP), R5
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R4
	MOVD	R4, r1+56(FP)
	NEG	R0, R0
	MOVD	R0, errno+64(FP)
	RET
ok:
	MOVD	R0, r1+56(FP)
	MOVD	ZR, errno+64(FP)
	RET

// func dropPages(text, textLen, rodata, rodataLen, fd uintptr) (errno Errno)
//
// As on amd64 (sys_linux_amd64.s): madvise 233 twice, then fadvise64 223.
TEXT ·dropPages(SB), NOSPLIT, $0-48
	MOVD	$233, R8 // SYS_madvise
	MOVD	rodata+16(FP), R0
	MOVD	rodataLen+24(FP), R1
	MOVD	$4, R2 // MADV_DONTNEED
	SVC
	MOVD	$233, R8
	MOVD	text+0(FP), R0
	MOVD	textLen+8(FP), R1
	MOVD	$4, R2
	SVC
	MOVD	$223, R8 // SYS_fadvise64
	MOVD	fd+32(FP), R0
	MOVD	ZR, R1
	MOVD	ZR, R2
	MOVD	$4, R3 // POSIX_FADV_DONTNEED
	SVC
	NEG	R0, R0
	MOVD	R0, errno+40(FP)
	RET

// func dropPagesPC() uintptr: as on amd64.
TEXT ·dropPagesPC(SB), NOSPLIT, $0-8
	MOVD	$·dropPages(SB), R0
	MOVD	R0, ret+0(FP)
	RET
