// Command sidebyside measures dumpscope and libkdumpfile on the same files
// and the same page lists in one run, interleaved (A B A B ..., medians of
// N rounds, both sides on a warm page cache), and prints Markdown tables
// of the ratios: dumpscope's speed / libkdumpfile's, above 1 is faster.
//
// bench/run.sh builds what it needs (dumpscope, lkdf_bench, this program)
// and runs it; see its header for the flags. Sections:
//
//	open    open + info in-process at 16 GiB and 1 TiB address spaces and
//	        on real dumps, and `dumpscope info` as a process (start included)
//	pages   every present page in order and a fixed random sample, per
//	        codec, raw ELF, real dumps and the 1 TiB file, 1 and 2 workers
//	verify  verify against the decode-only ceiling (the codec alone over
//	        the same stored pages, in memory, × jobs) and against
//	        libkdumpfile reading the same pages
//	find    find (a pattern that is absent) against libkdumpfile reading
//	        the same pages and searching them with memmem
//	cmds    wall time, CPU time and peak RSS of each dumpscope command run
//	        as a process, beside its libkdumpfile or makedumpfile counterpart
//	flat    a makedumpfile -F stream against its rearranged file, and
//	        dumpscope rearrange against makedumpfile -R
//
// The dumpscope side runs in children of this program ("sidebyside child
// ..."), through the one adapter file dumpscope.go. "sidebyside combine
// RUN.md..." prints the median ratios of several saved runs.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	_ "dumpscope/internal/hugeheap" // as the dumpscope binary: its heap in huge pages
)

// config is the command line.
type config struct {
	dir       string
	dumpscope string
	lkdf      string
	hello     string
	libs      string
	dsSmall   string
	cceiling  string
	rounds    int
	sections  map[string]bool
	pages     int
	elfPages  int
	flatPages int
	random    int
	share     string
	real      []string
	verbose   bool
	describe  string
}

var allSections = []string{"open", "pages", "verify", "find", "cmds", "start", "flat"}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		if err := runChild(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "sidebyside child:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "combine" {
		if err := combine(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "sidebyside:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("sidebyside", flag.ContinueOnError)
	c := &config{}
	fs.StringVar(&c.dir, "dir", filepath.Join(os.TempDir(), "dumpscope-bench"), "folder for the generated files (kept and reused)")
	fs.StringVar(&c.dumpscope, "dumpscope", "", "the dumpscope binary (built by run.sh)")
	fs.StringVar(&c.lkdf, "lkdf", "", "lkdf_bench, built from bench/lkdf/lkdf_bench.c (run.sh builds it)")
	fs.StringVar(&c.hello, "hello", "", "a static Go program that only exits, built from bench/hello (optional: the start section's reference row)")
	fs.StringVar(&c.dsSmall, "dumpscope-small", "", "a copy of -dumpscope written 4 KiB at a time, so that the page cache holds its code in small pages as after the linker wrote it (optional: the start section's row before the code is moved to huge pages)")
	fs.StringVar(&c.libs, "libs", "", "a static program that initialises the libraries dumpscope links and exits, built from bench/libs (optional: the start section's second reference row)")
	fs.StringVar(&c.cceiling, "cceiling", "", "cceiling, built from bench/lkdf/cceiling.c (optional: the C codec ceiling column)")
	fs.IntVar(&c.rounds, "rounds", 3, "timed rounds per measurement (after one warm-up); medians are shown")
	sections := fs.String("sections", strings.Join(allSections, ","), "comma-separated sections: "+strings.Join(allSections, ","))
	fs.IntVar(&c.pages, "pages", 32768, "pages per generated codec file")
	fs.IntVar(&c.elfPages, "elf-pages", 65536, "pages of the generated raw ELF vmcore (65536: 256 MiB)")
	fs.IntVar(&c.flatPages, "flat-pages", 0, "pages of the file the flattened stream is made from (0: -pages)")
	fs.IntVar(&c.random, "random", 8192, "pages in each random sample")
	fs.StringVar(&c.share, "lkdf-workers", "own", "libkdumpfile with 2 workers: own (a context per thread) or clone (kdump_clone, one shared cache)")
	real := fs.String("real", "", "comma-separated real kdump files to add to the open, pages, verify and find sections")
	fs.BoolVar(&c.verbose, "v", false, "show each measurement as it runs")
	fs.StringVar(&c.describe, "describe", "", "the dumpscope version measured, for the header (run.sh: git describe)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c.sections = map[string]bool{}
	for _, s := range strings.Split(*sections, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		known := false
		for _, a := range allSections {
			known = known || a == s
		}
		if !known {
			return nil, fmt.Errorf("unknown section %q (have %s)", s, strings.Join(allSections, ","))
		}
		c.sections[s] = true
	}
	if *real != "" {
		c.real = strings.Split(*real, ",")
	}
	if c.flatPages == 0 {
		c.flatPages = c.pages
	}
	switch {
	case c.dumpscope == "" || c.lkdf == "":
		return nil, fmt.Errorf("-dumpscope and -lkdf are required (bench/run.sh builds both)")
	case c.rounds < 1 || c.pages < 1024 || c.elfPages < 1024 || c.random < 1:
		return nil, fmt.Errorf("-rounds, -pages (≥ 1024), -elf-pages (≥ 1024) and -random must be positive")
	case c.share != "own" && c.share != "clone":
		return nil, fmt.Errorf("-lkdf-workers is own or clone")
	}
	return c, nil
}

func run(cfg *config) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	r := &runner{self: self, lkdf: cfg.lkdf, ds: cfg.dumpscope, rounds: cfg.rounds, verbose: cfg.verbose, progress: os.Stderr}
	g := &generator{dir: cfg.dir, pages: cfg.pages, elfPages: cfg.elfPages, flatPages: cfg.flatPages, realPaths: cfg.real,
		log: func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }}
	files, err := g.makeFiles()
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, r: r, files: files, lists: map[string]pageLists{}}
	start := time.Now()
	printHeader(cfg)
	steps := []struct {
		name string
		fn   func() (*table, error)
	}{
		{"open", b.open}, {"pages", b.pages}, {"verify", b.verify},
		{"find", b.find}, {"cmds", b.commands}, {"start", b.startup}, {"flat", b.flat},
	}
	for _, s := range steps {
		if !cfg.sections[s.name] {
			continue
		}
		fmt.Fprintf(os.Stderr, "section %s\n", s.name)
		t, err := s.fn()
		if err != nil {
			return fmt.Errorf("section %s: %w", s.name, err)
		}
		if t != nil {
			t.print(os.Stdout)
		}
	}
	b.summary().print(os.Stdout)
	fmt.Printf("\nTotal %s; load average at the end: %s\n", time.Since(start).Round(time.Second), loadAvg())
	return nil
}

// printHeader says what machine and which builds the tables come from.
func printHeader(cfg *config) {
	fmt.Println("## dumpscope and libkdumpfile, side by side")
	fmt.Println()
	fmt.Printf("- machine: %s, %d CPUs, %s; load average at the start: %s\n", cpuModel(), runtime.NumCPU(), kernelRelease(), loadAvg())
	if l, err := strconv.ParseFloat(strings.Fields(loadAvg() + " 0")[0], 64); err == nil && l > float64(runtime.NumCPU())/2 {
		fmt.Printf("- **the machine is busy (load %.1f on %d CPUs): expect noisy numbers**\n", l, runtime.NumCPU())
	}
	if cfg.describe != "" {
		fmt.Printf("- dumpscope %s\n", cfg.describe)
	}
	fmt.Printf("- %s; libkdumpfile %s; rounds %d (medians, after one warm-up each; warm page cache)\n",
		runtime.Version(), pkgVersion("libkdumpfile-dev"), cfg.rounds)
	fmt.Printf("- ratio = dumpscope's speed / libkdumpfile's (above 1: dumpscope is faster); noise = half the larger (max-min)/median of the two sides\n")
	fmt.Printf("- each side runs in its own process per measurement and times itself from before opening to after closing (process start excluded, except in the process rows)\n")
	fmt.Printf("- libkdumpfile with 2 workers: %s\n", map[string]string{
		"own":   "2 threads, each with its own context opened on its own descriptor (no shared cache, no lock)",
		"clone": "2 threads on kdump_clone of one context (one shared cache)",
	}[cfg.share])
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return runtime.GOOS
	}
	return "Linux " + strings.TrimSpace(string(b))
}

// pkgVersion asks dpkg for a package's version, if there is dpkg.
func pkgVersion(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err != nil || len(out) == 0 {
		return "(version unknown)"
	}
	return string(out)
}
