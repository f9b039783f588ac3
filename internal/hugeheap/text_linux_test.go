//go:build linux && (amd64 || arm64)

package hugeheap

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"dumpscope/internal/hugeheap/start"
)

// TestShouldTry: a try is made once per retryAfter for one executable
// (never after "never"), and at once for another build at the same path.
func TestShouldTry(t *testing.T) {
	// The user's cache folder does not exist yet: it is made.
	dir := filepath.Join(t.TempDir(), ".cache", "dumpscope")
	now := time.Now()
	const id, rebuilt = "1 2 3 4", "1 2 3 5"
	for _, c := range []struct {
		what    string
		id      string
		at      time.Time
		want    bool
		outcome string // the mark then written, if any
	}{
		{"first try (the folder is made)", id, now, true, "trying"},
		{"again at once", id, now, false, ""},
		{"again within retryAfter", id, now.Add(retryAfter / 2), false, ""},
		{"a rebuild at the same path", rebuilt, now, true, "done"},
		{"the first build again", id, now, true, "failed"},
		{"after a failure, within retryAfter", id, now.Add(retryAfter / 2), false, ""},
		{"after a failure, past retryAfter", id, now.Add(2 * retryAfter), true, "done"},
		{"after success, within retryAfter", id, now.Add(retryAfter / 2), false, ""},
		{"after success, past retryAfter", id, now.Add(2 * retryAfter), true, "never"},
		{"never, even much later", id, now.Add(100 * retryAfter), false, ""},
		{"never holds for that build only", rebuilt, now, true, ""},
	} {
		if got := shouldTry(dir, "text-x", c.id, c.at); got != c.want {
			t.Errorf("%s: %v, want %v", c.what, got, c.want)
		}
		if c.outcome != "" {
			if !writeMark(dir, "text-x", c.id, c.outcome) {
				t.Fatalf("%s: the mark was not written", c.what)
			}
			// The mark's time is the file's: set it to the try's.
			os.Chtimes(filepath.Join(dir, "text-x"), now, now)
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the folder: %v, mode %v; want 0700", err, fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("files left behind by writeMark: %v", left)
	}
}

// TestShouldTryRefuses: no try where the mark cannot be trusted, so that
// nothing is tried at every start and nothing of another's is written.
func TestShouldTryRefuses(t *testing.T) {
	now := time.Now()
	// A mark that is a link is not followed, nor replaced.
	root := t.TempDir()
	dir := filepath.Join(root, "dumpscope")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(target, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "text-x")); err != nil {
		t.Skip(err)
	}
	if shouldTry(dir, "text-x", "1 2 3 4", now) {
		t.Error("a mark that is a link: tried")
	}
	// A mark that is a FIFO is not read (the read would wait for ever).
	if err := syscall.Mkfifo(filepath.Join(dir, "text-fifo"), 0o600); err == nil {
		if shouldTry(dir, "text-fifo", "1 2 3 4", now) {
			t.Error("a mark that is a FIFO: tried")
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the link's target was written: %q", b)
	}
	// A folder others may write to.
	open := filepath.Join(t.TempDir(), "dumpscope")
	if err := os.Mkdir(open, 0o700); err != nil || os.Chmod(open, 0o777) != nil {
		t.Fatal(err)
	}
	if shouldTry(open, "text-x", "1 2 3 4", now) {
		t.Error("a folder writable by others: tried")
	}
	// A folder that is a link.
	link := filepath.Join(t.TempDir(), "dumpscope")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Skip(err)
	}
	if shouldTry(link, "text-x", "1 2 3 4", now) {
		t.Error("a folder that is a link: tried")
	}
	// A cache folder that others may write to: nothing is made in it.
	shared := t.TempDir()
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if shouldTry(filepath.Join(shared, "dumpscope"), "text-x", "1 2 3 4", now) {
		t.Error("in a cache folder writable by others: tried")
	}
	if _, err := os.Stat(filepath.Join(shared, "dumpscope")); err == nil {
		t.Error("a folder was made in a cache folder writable by others")
	}
	// A folder that cannot be made.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if shouldTry(filepath.Join(file, "dumpscope"), "text-x", "1 2 3 4", now) {
		t.Error("a folder under a file: tried")
	}
	// A mark that is a folder.
	if err := os.Mkdir(filepath.Join(dir, "text-d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if shouldTry(dir, "text-d", "1 2 3 4", now) {
		t.Error("a mark that is a folder: tried")
	}
}

func TestMarkName(t *testing.T) {
	a, b := markName("/usr/bin/dumpscope"), markName("/home/u/go/bin/dumpscope")
	if a == b || a != markName("/usr/bin/dumpscope") || len(a) != len("text-")+16 {
		t.Errorf("mark names %q and %q", a, b)
	}
}

func TestReloadString(t *testing.T) {
	for r, want := range map[Reload]string{ReloadNotNeeded: "not needed", ReloadSkipped: "skipped", ReloadDone: "done", ReloadPartial: "partial", ReloadFailed: "failed", Reload(9): "Reload(9)"} {
		if got := r.String(); got != want {
			t.Errorf("%d: %q, want %q", int(r), got, want)
		}
	}
}

// TestDropInOneCall: the linked operations run, in order: a private
// anonymous region reads zero again after MADV_DONTNEED, and a file's
// cached pages are gone after POSIX_FADV_DONTNEED.
func TestDropInOneCall(t *testing.T) {
	const size = 64 << 10
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	for i := range mem {
		mem[i] = 0xa5
	}
	f := cachedFile(t, size)
	base := uintptr(unsafe.Pointer(&mem[0]))
	if err := dropInOneCall([]start.Range{{Start: base, End: base + size}}, f.Fd()); err != nil {
		if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			t.Skipf("io_uring refused here: %v", err)
		}
		t.Fatal(err)
	}
	for i, b := range mem {
		if b != 0 {
			t.Fatalf("byte %d of the dropped region: %#x, want 0", i, b)
		}
	}
	if n := residentPages(t, f, size); n != 0 {
		t.Errorf("%d pages of the file still cached, want none", n)
	}
	if err := dropInOneCall(make([]start.Range, maxRingRegionsAndFiles+1), f.Fd()); err == nil {
		t.Errorf("%d regions: no error", maxRingRegionsAndFiles+1)
	}
}

// cachedFile is a file of size bytes written to disk and read into the
// page cache.
func cachedFile(t *testing.T, size int) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "cached-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(bytes.Repeat([]byte{1}, size)); err != nil || f.Sync() != nil {
		t.Fatalf("writing the file: %v", err)
	}
	if _, err := f.ReadAt(make([]byte, size), 0); err != nil {
		t.Fatal(err)
	}
	if residentPages(t, f, size) == 0 {
		t.Skip("the file's pages are not cached after a read: nothing to drop")
	}
	return f
}

// residentPages is how many of the first size bytes' pages of f the page
// cache holds (mincore on a mapping of it that is never touched).
func residentPages(t *testing.T, f *os.File, size int) int {
	t.Helper()
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	vec := make([]byte, (size+4095)/4096)
	if _, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(size), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// TestSmallBlocks counts blocks of more than two faults each, but for the
// one left out.
func TestSmallBlocks(t *testing.T) {
	counts := func(faults ...int64) []blockCount {
		var c []blockCount
		for _, f := range faults {
			c = append(c, blockCount{faults: f})
		}
		return c
	}
	for _, c := range []struct {
		faults []blockCount
		skip   int
		want   int
	}{
		{counts(1, 1, 2), -1, 0},
		{counts(1, 32, 2), -1, 1},
		{counts(1, 32, 2), 1, 0},
		{counts(33, 32, 3), 1, 2},
		{nil, -1, 0},
	} {
		if got := smallBlocks(c.faults, c.skip); got != c.want {
			t.Errorf("faults %v, leaving out %d: %d small, want %d", c.faults, c.skip, got, c.want)
		}
	}
}

func TestTracedIn(t *testing.T) {
	for status, want := range map[string]bool{
		"Name:\tdumpscope\nState:\tR (running)\nTracerPid:\t0\nUid:\t0\n": false,
		"Name:\tdumpscope\nTracerPid:\t4242\n":                            true,
		"Name:\tdumpscope\n":                                              true, // unknown
		"TracerPid:\t0":                                                   false,
	} {
		if got := tracedIn(status); got != want {
			t.Errorf("%q: %v, want %v", status, got, want)
		}
	}
	if traced() {
		t.Log("this test process is traced")
	}
}
