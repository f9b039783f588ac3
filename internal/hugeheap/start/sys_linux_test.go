//go:build linux && (amd64 || arm64)

package start

import (
	"bytes"
	"io"
	"os"
	"runtime/debug"
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
	// The longest path readFile takes (maxPath-1 bytes and the NUL), and
	// one byte more, both naming files that exist.
	dir := t.TempDir()
	long := dir + "/" + strings.Repeat("a", maxPath-2-len(dir))
	for _, name := range []string{long, long + "x"} {
		if err := os.WriteFile(name, []byte("long"), 0o600); err != nil {
			t.Skipf("a file name of %d bytes: %v", len(name)-len(dir)-1, err)
		}
	}
	if n := readFile(long, buf); len(long) != maxPath-1 || n != 4 || string(buf[:n]) != "long" {
		t.Errorf("path of %d bytes: %d %q, want 4 \"long\"", len(long), n, buf[:max(n, 0)])
	}
	for _, c := range []struct {
		name, path string
		buf        []byte
	}{
		{"absent file", p + ".absent", make([]byte, 8)},
		{"directory", t.TempDir(), make([]byte, 8)},
		{"no room", p, nil},
		{"path of maxPath bytes", long + "x", make([]byte, 8)},
	} {
		if n := readFile(c.path, c.buf); n != 0 {
			t.Errorf("%s: read %d bytes, want 0", c.name, n)
		}
	}
}

func TestCString(t *testing.T) {
	for _, c := range []struct {
		s    string
		size int
		ok   bool
	}{{"", 1, true}, {"abc", 4, true}, {"abc", 3, false}, {"abc", 0, false}, {"abcd", 8, true}} {
		b := bytes.Repeat([]byte{0xff}, c.size)
		ok := cString(c.s, b)
		if ok != c.ok || ok && (string(b[:len(c.s)]) != c.s || b[len(c.s)] != 0) || !ok && !bytes.Equal(b, bytes.Repeat([]byte{0xff}, c.size)) {
			t.Errorf("cString(%q) into %d bytes: %v %q", c.s, c.size, ok, b)
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

// TestGetenvFirstWins: where the environment sets a variable twice, getenv
// gives the first value, as the runtime's own lookup of GODEBUG and
// syscall.Getenv do. os/exec would drop the duplicate, so the test starts
// this test binary itself with os.StartProcess, which passes the
// environment as given.
func TestGetenvFirstWins(t *testing.T) {
	const key = "DUMPSCOPE_START_TEST_TWICE"
	if v, ok := os.LookupEnv(key); ok {
		// The child: say what getenv sees, on standard output.
		os.Stdout.WriteString(v + "|" + getenv(key) + "\n")
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := os.StartProcess(os.Args[0], []string{os.Args[0], "-test.run=^TestGetenvFirstWins$"}, &os.ProcAttr{
		Env:   []string{key + "=first", key + "=second"},
		Files: []*os.File{nil, w, os.Stderr},
	})
	w.Close()
	if err != nil {
		t.Skipf("starting the test binary: %v", err)
	}
	out, err := io.ReadAll(r)
	if _, werr := p.Wait(); err != nil || werr != nil {
		t.Fatalf("the child: %v %v", err, werr)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	if line != "first|first" {
		t.Errorf("the child's os.Getenv|getenv: %q, want \"first|first\"", line)
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

// TestGrowStack: after growStack, a goroutine's stack holds a frame of
// 10 KiB without being copied. The address of a variable on it, taken as
// a number, changes when the stack is copied to a larger one.
func TestGrowStack(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // a collection may shrink a stack
	moved := func(grow bool) bool {
		done := make(chan bool)
		go func() {
			if grow {
				growStack()
			}
			var x byte
			before := uintptr(unsafe.Pointer(&x))
			needStack()
			done <- uintptr(unsafe.Pointer(&x)) != before
		}()
		return <-done
	}
	if !moved(false) {
		t.Skip("a new goroutine's stack already holds 10 KiB (the runtime's starting size grew): nothing to compare")
	}
	if moved(true) {
		t.Error("the stack was copied for a 10 KiB frame after growStack")
	}
}

// needStack uses a 10 KiB frame.
//
//go:noinline
func needStack() {
	var frame [10 << 10]byte
	touch(frame[:])
}
