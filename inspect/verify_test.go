package inspect_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/open/opentest"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

func verifyFile(t *testing.T, path string, opts inspect.VerifyOptions) *inspect.Report {
	t.Helper()
	d, err := open.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ix, ok := d.(reader.Indexer); ok {
		if err := ix.Index(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	r, err := inspect.Verify(ctx, d, opts)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return r
}

// TestVerifyFixtures: every fixture verifies with no errors; a lone split
// member gives a warning for the missing parts; flattened, snappy/zstd and
// QEMU-layout files give notes; the i386 split pair verifies together with
// no warning.
func TestVerifyFixtures(t *testing.T) {
	names := append(dumptest.Fixtures(t, "ELF64"), dumptest.Fixtures(t, "kdump-compressed")...)
	names = append(names, dumptest.Fixtures(t, "makedumpfile-flattened")...)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			r := verifyFile(t, dumptest.Fixture(t, name), inspect.VerifyOptions{Jobs: 2})
			codes := map[string]model.Severity{}
			for _, p := range r.Problems {
				codes[p.Code.String()] = p.Severity
				if p.Severity == model.SeverityError {
					t.Errorf("error: %s", p)
				}
			}
			if !r.OK || r.PagesChecked == 0 {
				t.Fatalf("ok %v, %d pages checked", r.OK, r.PagesChecked)
			}
			want := map[string]model.Severity{}
			if strings.Contains(name, "split1of8") || strings.Contains(name, "-split") {
				want["missing-split-part"] = model.SeverityWarning
			}
			if strings.Contains(name, "snappy") || strings.Contains(name, "zstd") {
				want["codec-support"] = model.SeverityNote
			}
			if strings.HasSuffix(name, ".flat") {
				want["flattened"] = model.SeverityNote
			}
			if strings.Contains(name, "qemu-elf") {
				want["qemu-elf-layout"] = model.SeverityNote
			}
			for code, sev := range want {
				if codes[code] != sev {
					t.Errorf("expected a %s %s, got %v", sev, code, r.Problems)
				}
			}
			if len(want) == 0 && len(r.Problems) != 0 {
				t.Errorf("unexpected problems: %v", r.Problems)
			}
		})
	}
	t.Run("i386 split pair", func(t *testing.T) {
		d, err := open.Open(dumptest.Fixture(t, "i386/mdf-zlib-d31-split1.kdump"), dumptest.Fixture(t, "i386/mdf-zlib-d31-split2.kdump"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := inspect.Verify(context.Background(), d, inspect.VerifyOptions{})
		if err != nil || !r.OK || len(r.Problems) != 0 {
			t.Fatalf("%v %v", err, r.Problems)
		}
	})
}

// corruptCase is one entry of the corruption corpus: a fixture, a change,
// and the problem verify must report.
type corruptCase struct {
	name    string
	fixture string
	mutate  func(t *testing.T, b []byte) []byte
	code    string
	offset  func(b []byte) int64 // expected problem offset, or nil
	pfn     bool                 // the problem must name a pfn
}

// kdump fixture facts (its oracle): notes at 4200, bitmap 1 at 12288,
// descriptors at 20480, data at 101120, block size 4096.
const (
	kdNotes = 4200
	kdBm2   = 16384
	kdDesc  = 20480
	kdData  = 101120
)

// firstCodecDesc returns the index and file offset of the first zlib
// descriptor of the x86_64 kdump fixture.
func firstCodecDesc(b []byte) (int, int64) {
	for i := 0; ; i++ {
		off := kdDesc + int64(i)*24
		if binary.LittleEndian.Uint32(b[off+12:])&1 != 0 {
			return i, off
		}
	}
}

func corpus() []corruptCase {
	kd, mini, flat := "x86_64/mdf-zlib-d31.kdump", "x86_64/qemu-elf-mini.vmcore", "x86_64/qemu-kdump-zlib.flat"
	cut := func(n int64) func(*testing.T, []byte) []byte {
		return func(_ *testing.T, b []byte) []byte { return b[:n] }
	}
	return []corruptCase{
		{"kdump cut inside the notes", kd, cut(kdNotes + 100), "truncated", nil, false},
		{"kdump cut inside bitmap 2", kd, cut(kdBm2 + 100), "truncated", nil, false},
		{"kdump cut inside the descriptors", kd, cut(kdDesc + 24*100 + 5), "truncated", nil, true},
		{"kdump cut inside the page data", kd, cut(kdData + 500000), "truncated", nil, true},
		{"kdump flipped bit in a compressed page", kd, func(_ *testing.T, b []byte) []byte {
			_, off := firstCodecDesc(b)
			b[int64(binary.LittleEndian.Uint64(b[off:]))+20] ^= 0x04
			return b
		}, "bad-compressed-page", func(b []byte) int64 {
			_, off := firstCodecDesc(b)
			return int64(binary.LittleEndian.Uint64(b[off:]))
		}, true},
		{"kdump descriptor past EOF", kd, func(_ *testing.T, b []byte) []byte {
			_, off := firstCodecDesc(b)
			binary.LittleEndian.PutUint64(b[off:], uint64(len(b))+0x10000)
			return b
		}, "bad-page-descriptor", nil, true},
		{"kdump descriptor size 0", kd, func(_ *testing.T, b []byte) []byte {
			_, off := firstCodecDesc(b)
			binary.LittleEndian.PutUint32(b[off+8:], 0)
			return b
		}, "bad-page-descriptor", nil, true},
		{"kdump descriptor larger than a block", kd, func(_ *testing.T, b []byte) []byte {
			_, off := firstCodecDesc(b)
			binary.LittleEndian.PutUint32(b[off+8:], 4097)
			return b
		}, "bad-page-descriptor", nil, true},
		{"kdump huge max_mapnr in a small file", kd, func(_ *testing.T, b []byte) []byte {
			binary.LittleEndian.PutUint32(b[440:], 0x40000000)
			binary.LittleEndian.PutUint64(b[4096+96:], 0x40000000)
			return b
		}, "bad-header", nil, false},
		{"ELF PT_LOAD past EOF", mini, cut(5128 + 100000), "truncated", func([]byte) int64 { return 5128 }, false},
		{"ELF overflowing note size", mini, func(_ *testing.T, b []byte) []byte {
			binary.LittleEndian.PutUint32(b[304+4:], 0xfffffff0) // n_descsz of note 0
			return b
		}, "bad-note", func([]byte) int64 { return 304 }, false},
		{"flattened stream without its end marker", flat, func(_ *testing.T, b []byte) []byte { return b[:len(b)-16] },
			"missing-end-marker", func(b []byte) int64 { return int64(len(b)) }, false},
	}
}

// TestVerifyCorruptionCorpus: each damaged copy of a fixture is reported
// with the right code and location, exit status "not ok", no panic, and in
// bounded time.
func TestVerifyCorruptionCorpus(t *testing.T) {
	for _, c := range corpus() {
		t.Run(c.name, func(t *testing.T) {
			orig, err := os.ReadFile(dumptest.Fixture(t, c.fixture))
			if err != nil {
				t.Fatal(err)
			}
			b := c.mutate(t, append([]byte(nil), orig...))
			path := filepath.Join(t.TempDir(), filepath.Base(c.fixture))
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := verifyFile(t, path, inspect.VerifyOptions{Jobs: 2})
			if r.OK {
				t.Fatalf("damaged file verifies OK: %v", r.Problems)
			}
			var found *model.Problem
			for i, p := range r.Problems {
				if p.Code.String() == c.code && p.Severity == model.SeverityError {
					if c.pfn && p.PFN == nil {
						continue
					}
					if c.offset != nil && (p.Offset == nil || int64(*p.Offset) != c.offset(b)) {
						continue
					}
					found = &r.Problems[i]
					break
				}
			}
			if found == nil {
				var list bytes.Buffer
				for _, p := range r.Problems {
					list.WriteString("\n  " + p.String())
				}
				t.Fatalf("no %s error with the expected location; got:%s", c.code, list.String())
			}
			if found.File != path {
				t.Errorf("problem names file %q", found.File)
			}
			t.Logf("%s (%v)", found, time.Since(start))
		})
	}
}

// TestManifestRoundTrip writes a manifest and checks a copy against it,
// then a copy with one changed page.
func TestManifestRoundTrip(t *testing.T) {
	path := dumptest.Fixture(t, "x86_64/mdf-zlib-d31-split1of8.kdump")
	var m bytes.Buffer
	r := verifyFile(t, path, inspect.VerifyOptions{Manifest: &m})
	lines := strings.Split(strings.TrimSpace(m.String()), "\n")
	if lines[0] != "# dumpscope manifest 1 kdump 4096" || len(lines) != 1+int(r.PagesChecked) {
		t.Fatalf("manifest head %q, %d lines for %d pages", lines[0], len(lines), r.PagesChecked)
	}
	man, err := inspect.ReadManifest(bytes.NewReader(m.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r := verifyFile(t, path, inspect.VerifyOptions{Against: man}); !r.OK {
		t.Fatalf("same file against its manifest: %v", r.Problems)
	}
	// A different dump of the same machine: pages differ or are missing.
	other := dumptest.Fixture(t, "x86_64/mdf-lzo-d31-split1of8.kdump")
	delete(man.Pages, 5)
	for pfn := range man.Pages {
		man.Pages[pfn] = [32]byte{1}
		break
	}
	r2 := verifyFile(t, other, inspect.VerifyOptions{Against: man})
	var mismatch, extra int
	for _, p := range r2.Problems {
		switch p.Code.String() {
		case "manifest-mismatch":
			mismatch++
		case "manifest-extra-page":
			extra++
		}
	}
	if r2.OK || mismatch != 1 || extra != 1 {
		t.Fatalf("mismatch %d extra %d: %v", mismatch, extra, r2.Problems)
	}
}

// choppedKdump is a kdump whose stored frames alternate with excluded
// ones, so that every stored frame is a chunk of its own: 300 chunks, more
// than the producer queues before it waits for the workers.
func choppedKdump(t *testing.T) reader.Dump {
	t.Helper()
	k := &dumptest.Kdump{Version: 6, Codec: "lzo", MaxMapnr: 600, Pages: map[uint64][]byte{},
		Utsname: [6]string{"Linux", "host", "6.1.0", "#1 SMP", "x86_64", "(none)"}, NrCPUs: 1, DumpLevel: 31,
		VMCoreInfo: []byte("OSRELEASE=6.1.0\nPAGESIZE=4096\n")}
	for pfn := uint64(0); pfn < 600; pfn += 2 {
		k.Pages[pfn] = dumptest.Pattern(pfn, 4096)
		k.Excluded = append(k.Excluded, pfn+1)
	}
	b, _ := k.Bytes()
	return opentest.Bytes(t, "chopped.kdump", b)
}

// TestVerifyManifestJobs: the manifest is the same, in pfn order, whatever
// the number of workers, which write it out themselves chunk by chunk.
func TestVerifyManifestJobs(t *testing.T) {
	d := choppedKdump(t)
	var want string
	for _, jobs := range []int{1, 3, 8} {
		var m bytes.Buffer
		r, err := inspect.Verify(context.Background(), d, inspect.VerifyOptions{Jobs: jobs, Manifest: &m})
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK || r.PagesChecked != 300 {
			t.Fatalf("%d jobs: ok %v, %d pages: %v", jobs, r.OK, r.PagesChecked, r.Problems)
		}
		lines := strings.Split(strings.TrimSpace(m.String()), "\n")
		if len(lines) != 301 {
			t.Fatalf("%d jobs: %d manifest lines", jobs, len(lines))
		}
		for i, l := range lines[1:] {
			if want := fmt.Sprintf("%x ", 2*i); !strings.HasPrefix(l, want) {
				t.Fatalf("%d jobs: line %d is %q, want pfn %s first", jobs, i+1, l, want)
			}
		}
		if jobs == 1 {
			want = m.String()
		} else if m.String() != want {
			t.Fatalf("%d jobs give another manifest than one job", jobs)
		}
		man, err := inspect.ReadManifest(strings.NewReader(want))
		if err != nil {
			t.Fatal(err)
		}
		if r, err := inspect.Verify(context.Background(), d, inspect.VerifyOptions{Jobs: jobs, Against: man}); err != nil || !r.OK {
			t.Fatalf("%d jobs against the manifest: %v %v", jobs, err, r.Problems)
		}
	}
}

// TestVerifyCancel: cancelling verify while the producer waits for room
// and the workers are busy ends it with the context's error, and leaves
// no goroutine behind.
func TestVerifyCancel(t *testing.T) {
	d := choppedKdump(t)
	before := runtime.NumGoroutine()
	for _, jobs := range []int{1, 3} {
		ctx, cancel := context.WithCancel(context.Background())
		var calls atomic.Int32
		errc := make(chan error, 1)
		go func() {
			_, err := inspect.Verify(ctx, d, inspect.VerifyOptions{Jobs: jobs, Progress: func(done, total uint64) {
				if calls.Add(1) == 5 {
					cancel()
				}
			}})
			errc <- err
		}()
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%d jobs: error %v after cancel", jobs, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%d jobs: verify did not return 20 s after it was cancelled", jobs)
		}
		cancel()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after verify, %d before", n, before)
	}
}
