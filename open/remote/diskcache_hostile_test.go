//go:build unix

package remote

import (
	"bytes"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestDiskCacheFilesInTheWrongPlace: a block file is served only for the
// block and object it was written for. Files swapped between blocks,
// copied from another object, or a FIFO or link put in a block's place
// (a bad restore; another user of a shared folder) are refused and
// removed, quickly; a FIFO used to block every later run.
func TestDiskCacheFilesInTheWrongPlace(t *testing.T) {
	dir := t.TempDir()
	const n = 4096
	one, two := randomBytes(n, 1), randomBytes(n, 2)
	a, _ := openDiskCache(dir, 1<<30, "http://host/a", pin{size: 2 * n, etag: `"1"`}, n)
	b, _ := openDiskCache(dir, 1<<30, "http://host/b", pin{size: 2 * n, etag: `"1"`}, n)
	if a == nil || b == nil {
		t.Fatal("a private folder refused")
	}
	if !a.put(1, one) || !a.put(2, two) || !b.put(1, two) {
		t.Fatal("put failed")
	}
	if got, ok := a.get(1, n); !ok || !bytes.Equal(got, one) {
		t.Fatal("a block does not read back")
	}

	// Block 2's file under block 1's name.
	copyFile(t, a.path(2), a.path(1))
	if _, ok := a.get(1, n); ok {
		t.Error("block 2's file served as block 1")
	}
	if _, err := os.Stat(a.path(1)); !os.IsNotExist(err) {
		t.Error("the misplaced file was kept")
	}
	// Another object's block 1 under this object's block 1.
	copyFile(t, b.path(1), a.path(1))
	if _, ok := a.get(1, n); ok {
		t.Error("another object's block served")
	}

	// A FIFO in a block's place: refused at once, not waited on.
	os.Remove(a.path(1))
	if err := syscall.Mkfifo(a.path(1), 0o600); err != nil {
		t.Skip("no FIFO here:", err)
	}
	done := make(chan bool)
	go func() { _, ok := a.get(1, n); done <- ok }()
	select {
	case ok := <-done:
		if ok {
			t.Error("a FIFO served as a block")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("get waits on a FIFO put in a block's place")
	}
	// A link to an intact file elsewhere is not followed.
	os.Remove(a.path(1))
	if err := os.Symlink(a.path(2), a.path(1)); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.get(1, n); ok {
		t.Error("a link followed")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDiskCacheUntrustedFolder: a dumpscope-remote folder others may write
// to (a shared --cache /tmp where another user made it first) or that is
// a link is not used, and the reason is kept for --stats.
func TestDiskCacheUntrustedFolder(t *testing.T) {
	for name, make := range map[string]func(root string) error{
		"writable by others": func(root string) error {
			if err := os.Mkdir(root, 0o700); err != nil {
				return err
			}
			return os.Chmod(root, 0o777)
		},
		"a link": func(root string) error { return os.Symlink(t.TempDir(), root) },
	} {
		dir := t.TempDir()
		if err := make(dir + "/" + diskDir); err != nil {
			t.Fatal(err)
		}
		d, why := openDiskCache(dir, 1<<30, "http://host/a", pin{size: 1, etag: `"1"`}, 4096)
		if d != nil || why == "" {
			t.Errorf("%s: used (%q)", name, why)
		}
	}
	d, why := openDiskCache(t.TempDir(), 1<<30, "http://host/a", pin{size: 1, etag: `"1"`}, 4096)
	if d == nil || why != "" {
		t.Errorf("a new private folder refused: %s", why)
	}
}
