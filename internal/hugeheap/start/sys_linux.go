//go:build linux && (amd64 || arm64)

package start

import "unsafe"

// Errno is an error number as the kernel returns it: package syscall's
// Errno, which this package does not import (see the package comment).
type Errno uintptr

// rawSyscall6 makes a system call without telling the scheduler (see
// madvise). It is written in sys_linux_$GOARCH.s.
//
//go:noescape
func rawSyscall6(num, a1, a2, a3, a4, a5, a6 uintptr) (r1 uintptr, errno Errno)

// dropPages is DropCode's three system calls, in
// sys_linux_$GOARCH.s.
//
//go:noescape
func dropPages(text, textLen, rodata, rodataLen, fd uintptr) (errno Errno)

// dropPagesPC is the address of dropPages' code, in sys_linux_$GOARCH.s.
func dropPagesPC() uintptr

const (
	// atFDCWD is AT_FDCWD (-100): openat reads a relative path from the
	// working directory.
	atFDCWD = ^uintptr(99)
	// oRdonlyCloexec is O_RDONLY|O_CLOEXEC.
	oRdonlyCloexec = 0x80000
	// maxPath bounds the paths readFile takes: this package reads a few
	// fixed files under /sys and /proc.
	maxPath = 256
)

// readFile reads the start of the file at path into buf and returns how
// many bytes it read: 0 when the file cannot be opened or read.
func readFile(path string, buf []byte) int {
	var name [maxPath]byte
	if !cString(path, name[:]) || len(buf) == 0 {
		return 0
	}
	fd, errno := rawSyscall6(sysOpenat, atFDCWD, uintptr(unsafe.Pointer(&name[0])), oRdonlyCloexec, 0, 0, 0)
	if errno != 0 {
		return 0
	}
	n, errno := rawSyscall6(sysRead, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
	rawSyscall6(sysClose, fd, 0, 0, 0, 0, 0)
	if errno != 0 {
		return 0
	}
	return int(n)
}

// cString puts s and the NUL the kernel ends a path with into b; false when
// they do not fit.
func cString(s string, b []byte) bool {
	if len(s) >= len(b) {
		return false
	}
	copy(b, s)
	b[len(s)] = 0
	return true
}

// runtimeEnvs is the environment the process started with. The runtime
// gives it to package syscall under this name; calling it here does not
// make this package depend on syscall's initialisation.
//
//go:linkname runtimeEnvs syscall.runtime_envs
func runtimeEnvs() []string

// getenv is the value the environment variable key had when the process
// started; empty when it was not set.
func getenv(key string) string {
	for _, kv := range runtimeEnvs() {
		if len(kv) > len(key) && kv[len(key)] == '=' && kv[:len(key)] == key {
			return kv[len(key)+1:]
		}
	}
	return ""
}
