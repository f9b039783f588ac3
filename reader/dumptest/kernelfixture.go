package dumptest

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// The kernel fixtures of ../shared/kernel-fixtures (README.md there): real
// dumps of a distribution kernel with crash and drgn oracles.

// KernelFixturesDir returns ../shared/kernel-fixtures/debian-amd64 beside
// the module root, or skips the test when it is absent.
func KernelFixturesDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(ModuleRoot(t), "..", "shared", "kernel-fixtures", "debian-amd64")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("kernel fixtures not found at %s: skipping", dir)
	}
	return dir
}

// KernelFixture returns the path of a decompressed kernel fixture dump
// ("panic-sysrq-mdf-zlib-d31.kdump"), decompressing its .zst once into
// os.TempDir()/dumpscope-fixtures (keyed by the compressed size, so a new
// version of a fixture gets a new copy). It skips the test when the
// fixture is absent.
func KernelFixture(t testing.TB, name string) string {
	t.Helper()
	src := filepath.Join(KernelFixturesDir(t), name+".zst")
	st, err := os.Stat(src)
	if err != nil {
		t.Skipf("%s not found: skipping", src)
	}
	cache := filepath.Join(os.TempDir(), "dumpscope-fixtures", "kernel-"+strconv.FormatInt(st.Size(), 16))
	out := filepath.Join(cache, name)
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if _, err := os.Stat(out); err == nil {
		return out
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dec, err := zstd.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	tmp, err := os.CreateTemp(cache, name+".*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(tmp, dec); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	// Rename is atomic: another test binary sees the whole file or none.
	if err := os.Rename(tmp.Name(), out); err != nil {
		t.Fatal(err)
	}
	return out
}
