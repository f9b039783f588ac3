package open_test

// Benchmarks of opening and reading dumps, side by side with libkdumpfile.
//
// Each benchmark has a sub-benchmark per reader: reader=dumpscope runs in
// this process; reader=libkdumpfile runs testdata/lkdf_bench.c (built here
// with gcc against Debian's libkdumpfile-dev) on the same files and the
// same pfns, and reports its own ns/op, so benchstat compares the two:
//
//	go test -run XXX -bench . -count 8 ./reader/ | tee new.txt
//	benchstat -col /reader new.txt

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/codec"
	"dumpscope/reader/dumptest"
)

var (
	lkdfOnce sync.Once
	lkdfPath string
	lkdfErr  error
)

// lkdfBench builds the C side of the comparison once, or says why not.
func lkdfBench(b *testing.B) string {
	lkdfOnce.Do(func() {
		if _, err := os.Stat("/usr/include/libkdumpfile/kdumpfile.h"); err != nil {
			lkdfErr = fmt.Errorf("libkdumpfile-dev is not installed")
			return
		}
		dir, err := os.MkdirTemp("", "lkdf")
		if err != nil {
			lkdfErr = err
			return
		}
		lkdfPath = filepath.Join(dir, "lkdf_bench")
		out, err := exec.Command("gcc", "-O2", "-o", lkdfPath, "testdata/lkdf_bench.c", "-lkdumpfile").CombinedOutput()
		if err != nil {
			lkdfErr = fmt.Errorf("gcc: %v: %s", err, out)
		}
	})
	if lkdfErr != nil {
		b.Skipf("libkdumpfile comparison unavailable: %v", lkdfErr)
	}
	return lkdfPath
}

var lkdfResult = regexp.MustCompile(`ns_per_op=([0-9.]+) ops=([0-9.]+) ok=(\d+) failed=(\d+)`)

// runLkdf runs the C benchmark and reports its time per operation as this
// benchmark's ns/op.
func runLkdf(b *testing.B, args ...string) (ok, failed int) {
	b.Helper()
	for _, a := range args {
		if strings.HasSuffix(a, ".flat") {
			b.Skip("libkdumpfile 0.5.1 (Debian) cannot open flattened streams")
		}
	}
	out, err := exec.Command(lkdfBench(b), args...).CombinedOutput()
	if err != nil {
		b.Fatalf("lkdf_bench %v: %v\n%s", args, err, out)
	}
	m := lkdfResult.FindSubmatch(out)
	if m == nil {
		b.Fatalf("lkdf_bench output: %s", out)
	}
	ns, _ := strconv.ParseFloat(string(m[1]), 64)
	ok, _ = strconv.Atoi(string(m[3]))
	failed, _ = strconv.Atoi(string(m[4]))
	b.ReportMetric(ns, "ns/op")
	return ok, failed
}

// presentSample returns up to n present pfns of d in random order (fixed
// seed), and writes them to a file for the C side.
func presentSample(b *testing.B, d reader.Dump, n int) ([]model.PFN, string) {
	var all []model.PFN
	d.Runs(context.Background(), 0, true, func(r model.PageRun) bool {
		if r.State == model.StatePresent {
			for p := r.Start; p < r.End(); p++ {
				all = append(all, p)
			}
		}
		return true
	})
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	all = all[:min(n, len(all))]
	f, err := os.CreateTemp(b.TempDir(), "pfns")
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, p := range all {
		fmt.Fprintln(w, uint64(p))
	}
	w.Flush()
	f.Close()
	return all, f.Name()
}

// benchFiles are the dumps every benchmark runs on: the largest ELF
// fixture, the kdump fixtures of each codec, QEMU's flattened stream and
// writer-made kdump files of 8192 pages per codec.
func benchFiles(b *testing.B) map[string][]string {
	files := map[string][]string{
		"elf-paging":   {dumptest.Fixture(b, "x86_64/qemu-elf-paging.vmcore")},
		"kdump-zlib":   {dumptest.Fixture(b, "x86_64/mdf-zlib-d31.kdump")},
		"split-lzo":    {dumptest.Fixture(b, "x86_64/mdf-lzo-d31-split1of8.kdump")},
		"split-snappy": {dumptest.Fixture(b, "x86_64/mdf-snappy-d31-split1of8.kdump")},
		"split-zstd":   {dumptest.Fixture(b, "x86_64/mdf-zstd-d31-split1of8.kdump")},
		"flat-zlib":    {dumptest.Fixture(b, "x86_64/qemu-kdump-zlib.flat")},
	}
	for _, c := range []string{"zlib", "lzo", "snappy", "zstd"} {
		files["synth-"+c] = []string{writerDump(b, c)}
	}
	return files
}

var synthOnce sync.Map

// writerDump writes (once per run) a kdump file of 8192 realistic pages:
// kernel-like structures, text and zeros, compressed with codec.
func writerDump(b *testing.B, codec string) string {
	if p, ok := synthOnce.Load(codec); ok {
		return p.(string)
	}
	pages := map[uint64][]byte{}
	for i := uint64(0); i < 8192; i++ {
		p := make([]byte, 4096)
		switch i % 4 {
		case 0: // pointers and small integers, like struct page arrays
			for j := 0; j < 4096; j += 16 {
				copy(p[j:], fmt.Sprintf("%08x", 0xffff8880_00000000+i*4096+uint64(j)))
			}
		case 1:
			copy(p, bytes.Repeat([]byte(fmt.Sprintf("kernel log line %d: something happened\n", i)), 110))
		case 2: // half random, half zero
			copy(p, dumptest.Pattern(i, 2048))
		case 3: // zero
		}
		pages[i] = p
	}
	k := &dumptest.Kdump{Version: 6, Codec: codec, MaxMapnr: 8192, Pages: pages, SharedZeroPage: true,
		Utsname: [6]string{"Linux", "bench", "6.1", "#1", "x86_64", ""}, NrCPUs: 1, DumpLevel: 1}
	data, _ := k.Bytes()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("dumpscope-bench-%s-%d.kdump", codec, os.Getpid()))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	synthOnce.Store(codec, path)
	return path
}

// BenchmarkOpen opens (and closes) each dump.
func BenchmarkOpen(b *testing.B) {
	for name, files := range benchFiles(b) {
		b.Run("file="+name+"/reader=dumpscope", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				d, err := open.Open(files...)
				if err != nil {
					b.Fatal(err)
				}
				d.Close()
			}
		})
		b.Run("file="+name+"/reader=libkdumpfile", func(b *testing.B) {
			runLkdf(b, append([]string{"open", strconv.Itoa(max(b.N, 1))}, files...)...)
		})
	}
}

// BenchmarkRandomRead reads present pages in a fixed random order; both
// readers read the same pfns. ns/op is per page.
func BenchmarkRandomRead(b *testing.B) {
	for name, files := range benchFiles(b) {
		d, err := open.Open(files...)
		if err != nil {
			b.Fatal(err)
		}
		pfns, list := presentSample(b, d, 4096)
		b.Run("file="+name+"/reader=dumpscope", func(b *testing.B) {
			buf := make([]byte, d.Info().PageSize)
			b.SetBytes(d.Info().PageSize)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := d.ReadPage(pfns[i%len(pfns)], buf, reader.ReadOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("file="+name+"/reader=libkdumpfile", func(b *testing.B) {
			rounds := max(1, b.N/len(pfns))
			if ok, failed := runLkdf(b, append([]string{"read", list, strconv.Itoa(rounds)}, files...)...); failed != 0 || ok == 0 {
				b.Fatalf("libkdumpfile read %d pages and failed %d", ok, failed)
			}
			b.SetBytes(d.Info().PageSize)
		})
		d.Close()
	}
}

// BenchmarkSequential reads every frame in order with 1 and 2 workers
// (dumpscope, opening the dump afresh each time so its page cache does not
// carry over) and with libkdumpfile (one thread). ns/op is per frame of
// the whole address space, for both; MB/s counts the pages read.
func BenchmarkSequential(b *testing.B) {
	for name, files := range benchFiles(b) {
		d, err := open.Open(files...)
		if err != nil {
			b.Fatal(err)
		}
		maxPFN, pageSize := uint64(d.Info().MaxPFN), d.Info().PageSize
		d.Close()
		for _, jobs := range []int{1, 2} {
			b.Run(fmt.Sprintf("file=%s/reader=dumpscope-jobs%d", name, jobs), func(b *testing.B) {
				var pages atomic.Int64
				for i := 0; i < b.N; i++ {
					d, err := open.Open(files...)
					if err != nil {
						b.Fatal(err)
					}
					pages.Store(0)
					readAll(d, jobs, &pages)
					d.Close()
				}
				perPass := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(perPass*1e9/float64(maxPFN), "ns/op")
				b.ReportMetric(float64(pages.Load()*pageSize)/1e6/perPass, "MB/s")
			})
		}
		b.Run("file="+name+"/reader=libkdumpfile", func(b *testing.B) {
			for i := 0; i < max(b.N, 1); i++ {
				runLkdf(b, append([]string{"seq"}, files...)...)
			}
		})
	}
}

// readAll reads every present frame of d with n workers.
func readAll(d reader.Dump, n int, pages *atomic.Int64) {
	work := make(chan [2]model.PFN, 64)
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, d.Info().PageSize)
			for r := range work {
				for p := r[0]; p < r[1]; p++ {
					if _, err := d.ReadPage(p, buf, reader.ReadOptions{}); err == nil {
						pages.Add(1)
					}
				}
			}
		}()
	}
	d.Runs(context.Background(), 0, false, func(r model.PageRun) bool {
		if r.State == model.StatePresent {
			for p := r.Start; p < r.End(); p += 256 {
				work <- [2]model.PFN{p, min(p+256, r.End())}
			}
		}
		return true
	})
	close(work)
	wg.Wait()
}

// BenchmarkVerify compares verify's page pass with the ceiling set by the
// codec alone: decoding the same stored pages, already in memory, with the
// same number of goroutines. MB/s counts decoded page bytes.
func BenchmarkVerify(b *testing.B) {
	for _, c := range []string{"zlib", "lzo", "snappy", "zstd"} {
		path := writerDump(b, c)
		for _, jobs := range []int{1, 2} {
			b.Run(fmt.Sprintf("codec=%s/jobs=%d/what=decode-ceiling", c, jobs), func(b *testing.B) {
				imgs, pageSize := storedImages(b, path)
				b.SetBytes(int64(len(imgs)) * pageSize)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					decodeAll(b, imgs, pageSize, jobs)
				}
			})
			b.Run(fmt.Sprintf("codec=%s/jobs=%d/what=verify", c, jobs), func(b *testing.B) {
				d, err := open.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				defer d.Close()
				var r *inspect.Report
				for i := 0; i < b.N; i++ {
					if r, err = inspect.Verify(context.Background(), d, inspect.VerifyOptions{Jobs: jobs}); err != nil || !r.OK {
						b.Fatalf("%v %v", err, r)
					}
				}
				b.SetBytes(int64(r.BytesChecked))
			})
		}
	}
}

// storedImage is one page as stored: its codec and bytes.
type storedImage struct {
	codec model.Codec
	data  []byte
}

// storedImages loads every stored page image of a kdump file into memory.
func storedImages(b *testing.B, path string) ([]storedImage, int64) {
	d, err := open.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var out []storedImage
	d.Runs(context.Background(), 0, false, func(r model.PageRun) bool {
		for p := r.Start; p < r.End(); p++ {
			if pi := d.PageInfo(p); pi.State == model.StatePresent {
				out = append(out, storedImage{pi.Codec, raw[pi.FileOffset : int64(pi.FileOffset)+pi.StoredSize]})
			}
		}
		return true
	})
	return out, d.Info().PageSize
}

// decodeAll decodes every image with n goroutines, one decoder each.
func decodeAll(b *testing.B, imgs []storedImage, pageSize int64, n int) {
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			dec := codec.NewDecoder(int(pageSize))
			dec.Strict = true
			defer dec.Close()
			dst := make([]byte, pageSize)
			for i := w; i < len(imgs); i += n {
				if err := dec.Decode(imgs[i].codec, imgs[i].data, dst); err != nil {
					b.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
}
