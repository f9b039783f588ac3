//go:build linux

package start

// Setting returns a kernel setting file's value: the bracketed choice of a
// sysfs list ("always [madvise] never" gives "madvise"), or the content
// without surrounding white space; empty when the file cannot be read.
// It is meant for the small files under /sys and /proc: on amd64 and arm64
// it reads with raw system calls, which do not let the scheduler run
// another goroutine meanwhile.
func Setting(path string) string {
	var buf [128]byte
	n := readFile(path, buf[:])
	if n <= 0 {
		return ""
	}
	s := string(buf[:n])
	if i := indexByte(s, '['); i >= 0 {
		if j := indexByte(s[i:], ']'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	return trimSpace(s)
}
