package dumptest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// ModuleRoot returns the folder holding go.mod, found from the working
// directory (go test runs in each package's folder).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// FixturesDir returns ../shared/fixtures beside the module root, or skips
// the test when it is absent. DUMPSCOPE_FIXTURES overrides the location.
func FixturesDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("DUMPSCOPE_FIXTURES")
	if dir == "" {
		dir = filepath.Join(ModuleRoot(t), "..", "shared", "fixtures")
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.tsv")); err != nil {
		t.Skipf("real fixtures not found at %s (set DUMPSCOPE_FIXTURES or check out ../shared/fixtures): skipping", dir)
	}
	return dir
}

var fixtureMu sync.Mutex

// Fixture returns the path of a decompressed fixture ("x86_64/qemu-elf-mini.vmcore"),
// decompressing the .zst once into a cache shared by all test binaries and
// checking its sha256 against MANIFEST.tsv.
func Fixture(t testing.TB, name string) string {
	t.Helper()
	dir := FixturesDir(t)
	want, err := manifestSHA(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(os.TempDir(), "dumpscope-fixtures", want[:16])
	return decompress(t, filepath.Join(dir, name+".zst"), filepath.Join(cache, filepath.Base(name)), name, want)
}

// decompress writes the zstd file src decompressed to out, once for all
// test binaries: under fixtureMu, through a temporary file in out's folder
// renamed into place, so that a present out is a complete one. When sha
// is not empty the decompressed bytes must hash to it (hex sha256). name
// labels failures.
func decompress(t testing.TB, src, out, name, sha string) string {
	t.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if _, err := os.Stat(out); err == nil {
		return out
	}
	cache := filepath.Dir(out)
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.CreateTemp(cache, "partial-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(tmp.Name())
	var w io.Writer = tmp
	h := sha256.New()
	if sha != "" {
		w = io.MultiWriter(tmp, h)
	}
	if err := unzstd(w, src); err != nil {
		t.Fatalf("decompressing %s: %v", name, err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); sha != "" && got != sha {
		t.Fatalf("%s: sha256 %s, MANIFEST.tsv says %s", name, got, sha)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		t.Fatal(err)
	}
	return out
}

// unzstd writes the zstd file src decompressed to w.
func unzstd(w io.Writer, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	dec, err := zstd.NewReader(in)
	if err != nil {
		return err
	}
	defer dec.Close()
	_, err = io.Copy(w, dec)
	return err
}

// manifest reads MANIFEST.tsv of the fixture folder dir: a row of
// tab-separated columns a line (path, bytes, zstd19_bytes, sha256,
// format, …).
func manifest(dir string) ([][]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for line := range strings.Lines(string(b)) {
		rows = append(rows, strings.Split(strings.TrimRight(line, "\r\n"), "\t"))
	}
	return rows, nil
}

func manifestSHA(dir, name string) (string, error) {
	rows, err := manifest(dir)
	if err != nil {
		return "", err
	}
	for _, cols := range rows {
		if len(cols) >= 4 && cols[0] == name {
			return cols[3], nil
		}
	}
	return "", fmt.Errorf("%s is not in MANIFEST.tsv", name)
}

// Fixtures lists the fixture names of MANIFEST.tsv with the given format
// column ("ELF64", "kdump-compressed", "makedumpfile-flattened").
func Fixtures(t testing.TB, format string) []string {
	t.Helper()
	rows, err := manifest(FixturesDir(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, cols := range rows {
		if len(cols) >= 5 && cols[4] == format {
			out = append(out, cols[0])
		}
	}
	return out
}

// ReadJSON decodes a JSON file of the fixture folder.
func ReadJSON(t testing.TB, name string, v any) {
	t.Helper()
	readJSON(t, FixturesDir(t), name, v)
}

// readJSON decodes the JSON file name of folder dir into v.
func readJSON(t testing.TB, dir, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
