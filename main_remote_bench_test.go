package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"dumpscope/bench/flatstream"
	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/kdump"
)

// What reading a large dump remotely costs, through the CLI: a kdump file
// of more than 1 GiB and its flattened form, served on loopback by
// dumpServer with 20 ms added to every answer (a distant server), read by
// the real binary with --stats. Benchmarks only (go test runs none):
//
//	go test -run XXX -bench RemoteCost -benchtime 1x -v .
//	go test -run XXX -bench RemotePeakRSS -benchtime 1x .
//
// The dumps are written once into os.TempDir()/dumpscope-bench (about
// 2.5 GiB, a minute) and kept for later runs.

// benchDelay is the latency added to every request.
const benchDelay = 20 * time.Millisecond

// benchGenVersion names the generator: a change to it writes new files.
const benchGenVersion = "v2" // v2: the stream in bench/flatstream's record order

// The benchmark dumps' frames: 3 GiB of memory make a 1.1 GiB file (the
// kernel dump's frames, mostly zero, then benchPage's, 1.45 KiB stored on
// average), 1.1 GiB of memory a 0.3 GiB file.
const (
	benchFramesLarge = 786432
	benchFramesSmall = 294912
)

// BenchmarkRemoteCost reports, for each command on the plain and the
// flattened form of a >1 GiB kdump read over HTTP at 20 ms a request:
// the bytes fetched as a share of the file, the requests made and the
// wall time. The dump holds a real Debian 6.1 kernel (the panic dump of
// ../shared/kernel-fixtures: its log, kallsyms, stacks) in the frames
// where that dump has them, and above them the memory of a busy machine
// (benchPage), so that the kernel commands find their answers.
func BenchmarkRemoteCost(b *testing.B) {
	kernel := dumptest.KernelFixture(b, "panic-sysrq-mdf-zlib-d31.kdump")
	bd := benchKdump(b, kernel, benchFramesLarge)
	bin := buildDumpscope(b)
	srv := &dumpServer{dir: filepath.Dir(bd.path), delay: benchDelay}
	srv.start()
	defer srv.close()
	commands := [][]string{{"info", "--no-crash"}, {"info"}, {"dmesg"}, {"sym", "--name", "start_kernel"}}
	// The kernel-object commands, when this binary has them.
	help, _ := exec.Command(bin, "--help").Output()
	for _, c := range [][]string{{"triage"}, {"ps"}, {"bt", "--all"}, {"modules"}} {
		if bytes.Contains(help, []byte("\n  "+c[0]+" ")) {
			commands = append(commands, c)
		}
	}
	commands = append(commands, []string{"verify"})
	// What reads a flattened stream whole, also with a disk cache.
	flatOnly := [][]string{{"--cache", b.TempDir(), "verify"}}
	var table []string
	for _, form := range []struct{ name, path string }{{"kdump", bd.path}, {"flattened", bd.flat}} {
		st, err := os.Stat(form.path)
		if err != nil {
			b.Fatal(err)
		}
		url := srv.url() + "/" + filepath.Base(form.path) + "?" + presignQuery
		cmds := commands
		if form.name == "flattened" {
			cmds = append(slices.Clone(commands), flatOnly...)
		}
		for _, c := range cmds {
			label := strings.Join(c, " ")
			if c[0] == "--cache" {
				label = "--cache DIR verify"
			}
			name := form.name + "/" + strings.ReplaceAll(label, " ", "_")
			b.Run(name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					r := runRemote(b, bin, c, url)
					pct := 100 * float64(r.stats.BytesFetched) / float64(st.Size())
					b.ReportMetric(pct, "%fetched")
					b.ReportMetric(float64(r.stats.Requests), "requests")
					b.ReportMetric(r.wall.Seconds(), "s")
					b.ReportMetric(r.cpu.Seconds(), "cpu-s")
					if i == 0 {
						table = append(table, fmt.Sprintf("| %s | %s | %.3f %% (%.1f MiB) | %d | %.2f s | %.2f s | %s |",
							form.name, label, pct, float64(r.stats.BytesFetched)/(1<<20),
							r.stats.Requests, r.wall.Seconds(), r.cpu.Seconds(), r.outcome))
					}
				}
			})
		}
	}
	b.Logf("file: kdump %d MiB, flattened %d MiB, %d frames; %v per request\n| form | command | fetched | requests | wall | cpu | outcome |\n|---|---|---|---|---|---|---|\n%s",
		bd.size>>20, bd.flatSize>>20, bd.pages, benchDelay, strings.Join(table, "\n"))
}

// BenchmarkRemotePeakRSS reports the peak resident set of `verify URL`
// and `rearrange URL OUT` (a flattened stream) on dumps of two sizes,
// read over loopback: it depends on the caches' bounds, not on the dump.
// The dumps are BenchmarkRemoteCost's when the kernel fixture is there.
func BenchmarkRemotePeakRSS(b *testing.B) {
	bin := buildDumpscope(b)
	out := b.TempDir()
	kernel := ""
	if _, err := os.Stat(filepath.Join(dumptest.ModuleRoot(b), "..", "shared", "kernel-fixtures", "debian-amd64")); err == nil {
		kernel = dumptest.KernelFixture(b, "panic-sysrq-mdf-zlib-d31.kdump")
	}
	for _, frames := range []uint64{benchFramesSmall, benchFramesLarge} {
		bd := benchKdump(b, kernel, frames)
		srv := &dumpServer{dir: filepath.Dir(bd.path)}
		srv.start()
		url := srv.url() + "/" + filepath.Base(bd.path) + "?" + presignQuery
		flatURL := srv.url() + "/" + filepath.Base(bd.flat) + "?" + presignQuery
		for _, run := range []struct {
			name string
			args []string
		}{
			{"verify-local", []string{"verify", bd.path}},
			{"verify", []string{"verify", url}},
			{"verify-flattened", []string{"verify", flatURL}},
			{"verify-flattened-16MiB-cache", []string{"--block-cache", "16777216", "verify", flatURL}},
			{"rearrange", []string{"rearrange", flatURL, filepath.Join(out, "out.kdump")}},
		} {
			b.Run(fmt.Sprintf("%s/%dMiB", run.name, bd.size>>20), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					// The server counts what it sent: rearrange has no
					// --json form for --stats to use.
					sent := srv.sent.Load()
					cmd := exec.Command(bin, run.args...)
					cmd.Env = benchEnv(bin)
					var stderr bytes.Buffer
					cmd.Stdout, cmd.Stderr = io.Discard, &stderr
					start := time.Now()
					if err := cmd.Start(); err != nil {
						b.Fatal(err)
					}
					hwm := make(chan int64)
					go func() { hwm <- pollHWM(cmd.Process.Pid) }()
					if err := cmd.Wait(); err != nil {
						b.Fatalf("%s: %v\n%s", run.name, err, stderr.Bytes())
					}
					wall := time.Since(start)
					fetched := srv.sent.Load() - sent
					b.ReportMetric(float64(<-hwm)/1024, "peak-RSS-MiB")
					b.ReportMetric(float64(fetched)/float64(bd.size), "fetched/file")
					b.ReportMetric(float64(bd.size)/(1<<20)/wall.Seconds(), "file-MiB/s")
				}
			})
		}
		os.Remove(filepath.Join(out, "out.kdump"))
		srv.close()
	}
}

// remoteRun is one measured run.
type remoteRun struct {
	stats     benchStats
	wall, cpu time.Duration // cpu: the process's user and system time
	outcome   string        // "ok", or the exit code and error
}

// benchStats are the fields of --stats --json the benchmarks read.
type benchStats struct {
	Requests     int64 `json:"requests"`
	BytesFetched int64 `json:"bytes_fetched"`
}

// runRemote runs the binary on a URL with --stats --json; a failing
// command is measured too (a dump may lack what it needs).
func runRemote(b *testing.B, bin string, args []string, url string) remoteRun {
	cmd := exec.Command(bin, append(append([]string{"--stats", "--json"}, args...), url)...)
	cmd.Env = benchEnv(bin)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	err := cmd.Run()
	r := remoteRun{wall: time.Since(start), outcome: "ok", stats: lastStats(b, stderr.Bytes())}
	if ps := cmd.ProcessState; ps != nil {
		r.cpu = ps.UserTime() + ps.SystemTime()
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		r.outcome = fmt.Sprintf("%v: %.80s", err, msg)
	}
	return r
}

// lastStats parses the --stats --json line of a run's stderr.
func lastStats(b *testing.B, stderr []byte) benchStats {
	var st benchStats
	for _, line := range bytes.Split(stderr, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(`{"name":`)) {
			if err := json.Unmarshal(line, &st); err != nil {
				b.Fatalf("stats %s: %v", line, err)
			}
			return st
		}
	}
	b.Fatalf("no --stats line in:\n%s", stderr)
	return st
}

// buildDumpscope builds the binary once per benchmark.
func buildDumpscope(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "dumpscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	warmBinary(b, bin)
	return bin
}

// benchFile is a dump written for the benchmarks, with its flattened form.
type benchFile struct {
	path, flat     string
	size, flatSize int64
	pages          uint64
}

// benchKdump returns the kdump file of the given frames (and its
// flattened form), writing them once: frames below the kernel dump's
// max_mapnr hold that dump's pages (when kernelDump is not empty), the
// rest benchPage's.
func benchKdump(b *testing.B, kernelDump string, frames uint64) benchFile {
	dir := filepath.Join(os.TempDir(), "dumpscope-bench")
	tag := "filler"
	if kernelDump != "" {
		tag = "kernel"
	}
	base := filepath.Join(dir, fmt.Sprintf("remote-%s-%s-%d", benchGenVersion, tag, frames))
	bf := benchFile{path: base + ".kdump", flat: base + ".flat", pages: frames}
	st1, err1 := os.Stat(bf.path)
	st2, err2 := os.Stat(bf.flat)
	if err1 == nil && err2 == nil {
		bf.size, bf.flatSize = st1.Size(), st2.Size()
		return bf
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	k := &dumptest.Kdump{Version: 6, Codec: "zlib", MaxMapnr: frames, NumPages: frames, SharedZeroPage: true,
		DumpLevel: 0, NrCPUs: 1, Timestamp: 1700000000,
		Utsname: [6]string{"Linux", "bench", "6.1.0", "#1 SMP", "x86_64", "(none)"}}
	var closeKernel func()
	if kernelDump != "" {
		closeKernel = kernelPages(b, kernelDump, k)
	} else {
		k.PageFunc = benchPage
	}
	tmp := bf.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		b.Fatal(err)
	}
	_, err = k.WriteTo(f)
	if err == nil {
		err = f.Close()
	}
	if closeKernel != nil {
		closeKernel()
	}
	if err != nil {
		b.Fatal(err)
	}
	if err := flatstream.WriteFile(bf.flat, tmp); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, bf.path); err != nil {
		b.Fatal(err)
	}
	st1, _ = os.Stat(bf.path)
	st2, _ = os.Stat(bf.flat)
	bf.size, bf.flatSize = st1.Size(), st2.Size()
	b.Logf("wrote %s (%d MiB) and its flattened form (%d MiB) in %v", bf.path, bf.size>>20, bf.flatSize>>20, time.Since(start).Round(time.Second))
	return bf
}

// kernelPages sets k's header, notes and VMCOREINFO from a real kdump
// file, and a PageFunc giving its pages below its max_mapnr (zeros where
// it has none) and benchPage's above.
func kernelPages(b *testing.B, path string, k *dumptest.Kdump) (closeFn func()) {
	fh, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	st, _ := fh.Stat()
	kf, err := kdump.NewFile(reader.Source{Name: path, R: fh, Size: st.Size()})
	if err != nil {
		b.Fatal(err)
	}
	u := kf.Header.Utsname
	k.Utsname = [6]string{u.Sysname, u.Nodename, u.Release, u.Version, u.Machine, u.Domainname}
	k.Timestamp, k.NrCPUs, k.PhysBase = kf.Header.TimestampSec, kf.Header.NrCPUs, kf.Sub.PhysBase
	notes, _ := kf.Notes()
	for _, n := range notes {
		if n.Name == "VMCOREINFO" {
			continue
		}
		desc := make([]byte, n.DescSize)
		if _, err := fh.ReadAt(desc, int64(n.DescOffset)); err != nil {
			b.Fatal(err)
		}
		k.Notes = append(k.Notes, dumptest.ELFNote{Name: n.Name, Type: n.Type, Desc: desc})
	}
	vi, err := kf.VMCoreInfo()
	if err != nil || vi == nil {
		b.Fatalf("%s: no VMCOREINFO: %v", path, err)
	}
	k.VMCoreInfo = vi.Raw
	top := kf.Sub.MaxMapnr64
	if top == 0 {
		top = uint64(kf.Header.MaxMapnr)
	}
	if top > k.NumPages {
		b.Fatalf("%s has %d frames, more than the %d asked for", path, top, k.NumPages)
	}
	buf := make([]byte, 4096)
	k.PageFunc = func(pfn uint64) []byte {
		if pfn >= top {
			return benchPage(pfn)
		}
		p := make([]byte, 4096)
		if _, err := kf.ReadPage(model.PFN(pfn), buf, reader.ReadOptions{}); err == nil {
			copy(p, buf)
		}
		return p
	}
	return func() { kf.Close() }
}

// benchPage is frame pfn of a busy machine's memory, as a dump level that
// keeps more than the kernel's own pages stores it: slab pages of
// pointers and counters (30%), text (20%), data that does not compress:
// page cache of compressed files, keys, media (25%), sparse page tables
// and bitmaps (15%), zeros (10%). Deterministic in pfn.
func benchPage(pfn uint64) []byte {
	r := rand.New(rand.NewPCG(pfn, 0x9e3779b97f4a7c15))
	p := make([]byte, 4096)
	le := binary.LittleEndian
	switch k := r.IntN(100); {
	case k < 30: // slab: objects of 64 bytes, pointers into the direct map
		base := uint64(0xffff888000000000) + (pfn&^0xff)<<12
		for o := 0; o < 4096; o += 64 {
			le.PutUint64(p[o:], base+uint64(r.IntN(1<<20))&^7)
			le.PutUint64(p[o+8:], base+uint64(r.IntN(1<<20))&^7)
			le.PutUint32(p[o+16:], uint32(r.IntN(4096)))
			le.PutUint32(p[o+20:], 1)
			le.PutUint64(p[o+24:], uint64(0xffffffff81000000)+uint64(r.IntN(1<<22)))
		}
	case k < 50: // text: log lines, paths, configuration
		var b bytes.Buffer
		for b.Len() < 4096 {
			fmt.Fprintf(&b, "[%8d.%06d] usb %d-%d: new device found, idVendor=%04x, idProduct=%04x /var/lib/app/%x.log\n",
				pfn%100000, r.IntN(1000000), r.IntN(4), r.IntN(8), r.IntN(0x10000), r.IntN(0x10000), r.Uint32())
		}
		copy(p, b.Bytes())
	case k < 75: // does not compress
		for o := 0; o < 4096; o += 8 {
			le.PutUint64(p[o:], r.Uint64())
		}
	case k < 90: // page tables: a few present entries
		for i := 0; i < 8; i++ {
			le.PutUint64(p[8*r.IntN(512):], (uint64(r.IntN(1<<24))<<12)|0x63)
		}
	}
	return p
}
