//go:build linux && !amd64 && !arm64

package start

import "syscall"

// readFile reads the start of the file at path into buf and returns how
// many bytes it read: 0 when the file cannot be opened or read. Here,
// where nothing runs at initialisation, it may use package syscall.
func readFile(path string, buf []byte) int {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	n, err := syscall.Read(fd, buf)
	syscall.Close(fd)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
