package dumptest

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// The Debian kernel dumps of ../shared/kernel-fixtures (README.md there):
// real dumps of a distribution kernel with BTF, ORC and kallsyms, and
// crash's and drgn's view of their tasks, stacks and modules as oracles.

// KernelFixtureNames are the dumps of the debian-amd64 folder.
var KernelFixtureNames = []string{"stopped-mdf-zlib-d31.kdump", "panic-sysrq-mdf-zlib-d31.kdump"}

// KernelFixturesDir returns ../shared/kernel-fixtures/debian-amd64 beside
// the module root (DUMPSCOPE_KERNEL_FIXTURES overrides the parent), or
// skips the test when it is absent.
func KernelFixturesDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("DUMPSCOPE_KERNEL_FIXTURES")
	if dir == "" {
		dir = filepath.Join(ModuleRoot(t), "..", "shared", "kernel-fixtures")
	}
	dir = filepath.Join(dir, "debian-amd64")
	if _, err := os.Stat(filepath.Join(dir, KernelFixtureNames[0]+".zst")); err != nil {
		t.Skipf("kernel fixtures not found at %s (set DUMPSCOPE_KERNEL_FIXTURES or check out ../shared/kernel-fixtures): skipping", dir)
	}
	return dir
}

// KernelFixture returns the path of a decompressed kernel fixture
// ("panic-sysrq-mdf-zlib-d31.kdump"), decompressing its .zst once into
// os.TempDir()/dumpscope-fixtures/kernel/<size of the .zst>/, shared by
// all test binaries; the rename makes a present file a complete one.
func KernelFixture(t testing.TB, name string) string {
	t.Helper()
	src := filepath.Join(KernelFixturesDir(t), name+".zst")
	st, err := os.Stat(src)
	if err != nil {
		t.Skipf("%s: %v", src, err)
	}
	cache := filepath.Join(os.TempDir(), "dumpscope-fixtures", "kernel", strconv.FormatInt(st.Size(), 10))
	return decompress(t, src, filepath.Join(cache, name), src, "")
}

// KernelOracle decodes a JSON file of the kernel fixture folder
// ("panic-sysrq-mdf-zlib-d31.kdump.crash.json").
func KernelOracle(t testing.TB, name string, v any) {
	t.Helper()
	readJSON(t, KernelFixturesDir(t), name, v)
}
