//go:build linux && (amd64 || arm64)

package start

import (
	"bytes"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestRawSyscall6: an error comes back as its number, a result as itself.
func TestRawSyscall6(t *testing.T) {
	name := []byte(t.TempDir() + "/absent\x00")
	fd, errno := rawSyscall6(sysOpenat, atFDCWD, uintptr(unsafe.Pointer(&name[0])), oRdonlyCloexec, 0, 0, 0)
	if errno != Errno(syscall.ENOENT) || fd != ^uintptr(0) {
		t.Errorf("openat of an absent file: %d, errno %d; want -1, ENOENT (%d)", int(fd), errno, syscall.ENOENT)
	}
	pid, errno := rawSyscall6(uintptr(syscall.SYS_GETPID), 0, 0, 0, 0, 0, 0)
	if errno != 0 || int(pid) != os.Getpid() {
		t.Errorf("getpid: %d, errno %d; want %d", pid, errno, os.Getpid())
	}
}

func TestReadFile(t *testing.T) {
	p := t.TempDir() + "/file"
	if err := os.WriteFile(p, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if n := readFile(p, buf); n != 4 || string(buf) != "0123" {
		t.Errorf("4 of 10 bytes: %d %q", n, buf[:max(n, 0)])
	}
	buf = make([]byte, 64)
	if n := readFile(p, buf); n != 10 || string(buf[:n]) != "0123456789" {
		t.Errorf("all 10 bytes: %d %q", n, buf[:max(n, 0)])
	}
	for _, c := range []struct {
		name, path string
		buf        []byte
	}{
		{"absent file", p + ".absent", make([]byte, 8)},
		{"directory", t.TempDir(), make([]byte, 8)},
		{"no room", p, nil},
		{"path of maxPath bytes", "/" + strings.Repeat("a", maxPath-1), make([]byte, 8)},
	} {
		if n := readFile(c.path, c.buf); n != 0 {
			t.Errorf("%s: read %d bytes, want 0", c.name, n)
		}
	}
}

// TestGetenv holds getenv to the environment the kernel gave the process,
// as /proc/self/environ shows it.
func TestGetenv(t *testing.T) {
	data, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Skipf("no /proc/self/environ: %v", err)
	}
	seen := 0
	for _, kv := range bytes.Split(data, []byte{0}) {
		k, v, ok := strings.Cut(string(kv), "=")
		if !ok || k == "" || firstOf(data, k) != string(kv) {
			continue // not KEY=VALUE, or a key given twice: the first counts
		}
		if got := getenv(k); got != v {
			t.Errorf("getenv(%q) = %q, want %q", k, got, v)
		}
		seen++
	}
	if seen == 0 {
		t.Skip("an empty environment: nothing to compare")
	}
	if got := getenv("DUMPSCOPE_START_TEST_UNSET_VARIABLE"); got != "" {
		t.Errorf("an unset variable: %q, want empty", got)
	}
}

// firstOf is the first entry of environ data that sets key.
func firstOf(data []byte, key string) string {
	for _, kv := range bytes.Split(data, []byte{0}) {
		if strings.HasPrefix(string(kv), key+"=") {
			return string(kv)
		}
	}
	return ""
}
