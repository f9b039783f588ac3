//go:build linux

package start

import "syscall"

// Setting returns a kernel setting file's value: the bracketed choice of a
// sysfs list ("always [madvise] never" gives "madvise"), or the content
// without surrounding white space; empty when the file cannot be read.
func Setting(path string) string {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return ""
	}
	var buf [128]byte
	n, err := syscall.Read(fd, buf[:])
	syscall.Close(fd)
	if err != nil || n <= 0 {
		return ""
	}
	s := buf[:n]
	for i, c := range s {
		if c != '[' {
			continue
		}
		for j := i + 1; j < len(s); j++ {
			if s[j] == ']' {
				return string(s[i+1 : j])
			}
		}
		break
	}
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return string(s)
}
