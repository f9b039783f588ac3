package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"dumpscope/reader/dumptest"
)

// BenchmarkVerifyPeakRSS writes a kdump file holding 4 GiB of pages (2^20
// pages of 4 KiB: kernel-like text, pointer tables, zeros; zstd), runs
// `dumpscope verify --jobs N` on it as a separate process, and reports its
// peak resident set size and throughput. It needs about 1 GiB of disk and
// a minute; it is a benchmark, never run by the tests.
func BenchmarkVerifyPeakRSS(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "dumpscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	warmBinary(b, bin)
	path := filepath.Join(dir, "4gib.kdump")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	const pages = 1 << 20
	k := &dumptest.Kdump{Version: 6, Codec: "zstd", MaxMapnr: pages, NumPages: pages, SharedZeroPage: true,
		Utsname: [6]string{"Linux", "big", "6.1", "#1", "x86_64", ""}, NrCPUs: 1, DumpLevel: 1,
		PageFunc: func(pfn uint64) []byte {
			p := make([]byte, 4096)
			switch pfn % 4 {
			case 0:
				for j := 0; j < 4096; j += 16 {
					copy(p[j:], fmt.Sprintf("%016x", 0xffff888000000000+pfn*4096+uint64(j)))
				}
			case 1:
				copy(p, bytes.Repeat([]byte(fmt.Sprintf("[%8d] kernel message for page %d\n", pfn, pfn)), 80))
			case 2:
				copy(p[:1024], dumptest.Pattern(pfn, 1024))
			}
			return p
		}}
	if _, err := k.WriteTo(f); err != nil {
		b.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(path)
	b.Logf("wrote %d pages in a %d MiB file", pages, st.Size()>>20)
	for _, jobs := range []int{1, 2} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(bin, "verify", "--jobs", fmt.Sprint(jobs), path)
				cmd.Env = benchEnv(bin)
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				start := time.Now()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				// The child's own high-water mark (VmHWM), read until it
				// exits: wait4's ru_maxrss would count the test process's
				// memory, which the child shares until it execs.
				hwm := make(chan int64)
				go func() { hwm <- pollHWM(cmd.Process.Pid) }()
				if err := cmd.Wait(); err != nil {
					b.Fatalf("verify: %v\n%s", err, out.Bytes())
				}
				elapsed := time.Since(start)
				b.ReportMetric(float64(<-hwm)/1024, "peak-RSS-MiB")
				b.ReportMetric(float64(pages)*4096/1e6/elapsed.Seconds(), "MB/s")
			}
		})
	}
}

// pollHWM reads VmHWM (KiB) from /proc/PID/status every few milliseconds
// until the process is gone, and returns the last value seen.
func pollHWM(pid int) int64 {
	var last int64
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return last
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
				if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					last = v
				}
			}
			if strings.HasPrefix(line, "State:") && strings.Contains(line, "zombie") {
				return last
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// benchEnv is the environment of a benchmarked dumpscope binary: it
// remembers its page-cache work (internal/hugeheap.ReloadText) in a cache
// folder beside it, not in the user's.
func benchEnv(bin string) []string {
	return append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(filepath.Dir(bin), "cache"))
}

// warmBinary runs a binary just built once, untimed: its first run moves
// its code into huge pages of the page cache, as a user's first run does.
func warmBinary(b *testing.B, bin string) {
	if err := os.Mkdir(filepath.Join(filepath.Dir(bin), "cache"), 0o700); err != nil && !os.IsExist(err) {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "version")
	cmd.Env = benchEnv(bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s version: %v\n%s", bin, err, out)
	}
}
