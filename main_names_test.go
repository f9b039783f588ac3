package main

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// runCaptured runs the CLI with stdout and stderr sent to files, and
// returns the exit code and both outputs.
func runCaptured(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = out, errf
	code := run(args)
	os.Stdout, os.Stderr = oldOut, oldErr
	out.Close()
	errf.Close()
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	return code, string(o), string(e)
}

// TestFileNamesAsBytes: file names that are not UTF-8, or hold a comma,
// reach the file system byte for byte, and messages show them quoted
// (issue 12, item 10).
func TestFileNamesAsBytes(t *testing.T) {
	dir := t.TempDir()
	if err := writeSyntheticDumps(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "synth.vmcore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a\xffb.vmcore", "latin1-\xe9t\xe9,2.vmcore"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Skipf("the file system refuses the name %q: %v", name, err)
		}
		code, out, stderr := runCaptured(t, "info", "--no-crash", path)
		if code != 0 || !strings.Contains(out, "elf, plain container, 1 file") {
			t.Fatalf("%q: exit %d\n%s%s", name, code, out, stderr)
		}
		if !strings.Contains(out, `"`+dir) {
			t.Fatalf("%q: the name is not shown quoted:\n%s", name, out)
		}
		code, _, stderr = runCaptured(t, "info", path+".missing")
		if code != 2 || !strings.Contains(stderr, `\x`) || strings.ContainsRune(stderr, '\ufffd') {
			t.Fatalf("%q missing: exit %d, %q", name, code, stderr)
		}
	}
}

// TestPageStreams: page --json writes each page as it reads it; the heap
// does not grow with --count (issue 12, item 11).
func TestPageStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 50 MB")
	}
	dir := t.TempDir()
	if err := writeSyntheticDumps(dir); err != nil {
		t.Fatal(err)
	}
	// The live heap (what the last collection kept), sampled while the
	// command runs: garbage does not count, what is held does.
	live := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if v := live(); v > peak.Load() {
				peak.Store(v)
			}
		}
	}()
	runtime.GC()
	base := live()
	out, err := os.Create(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = out, errf
	code := run([]string{"page", "--pfn", "0", "--count", "200000", "--json", filepath.Join(dir, "synth.vmcore")})
	os.Stdout, os.Stderr = oldOut, oldErr
	close(done)
	b, _ := os.ReadFile(errf.Name())
	stderr := string(b)
	if code != 1 || !strings.Contains(stderr, "pfn 0x0 is not_in_dump") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if grew := int64(peak.Load()) - int64(base); grew > 16<<20 {
		t.Fatalf("the heap grew by %d MiB for 200000 pages", grew>>20)
	}
}
