package main

// Running the two sides interleaved, and summarising what they report.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// sample is one child's report: the key=value pairs of its last line.
type sample map[string]float64

// parseSample reads the last line of a child's output.
func parseSample(out []byte) (sample, error) {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	s := sample{}
	for _, f := range strings.Fields(lines[len(lines)-1]) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("unexpected output %q", out)
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("unexpected value in %q", f)
		}
		s[k] = x
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("no output")
	}
	return s, nil
}

// runner starts the children.
type runner struct {
	self     string // this program, for the dumpscope side
	lkdf     string // lkdf_bench
	ds       string // the dumpscope binary, for commands run as processes
	rounds   int
	verbose  bool
	progress io.Writer
}

// run runs argv and parses its report. The child's stderr is shown when
// it fails.
func (r *runner) run(argv []string) (sample, error) {
	// Leading NAME=VALUE words set the environment, as env(1) takes them.
	var env []string
	for len(argv) > 1 && strings.Contains(argv[0], "=") && !strings.Contains(argv[0], "/") {
		env, argv = append(env, argv[0]), argv[1:]
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, lastLine(stderr.Bytes()))
	}
	s, err := parseSample(stdout.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: %v", strings.Join(argv, " "), err)
	}
	if st, ok := s["status"]; ok && st != 0 {
		return nil, fmt.Errorf("%s: exit status %v: %s", strings.Join(argv, " "), st, lastLine(stderr.Bytes()))
	}
	return s, nil
}

// dsChild is the argv of a dumpscope-side child.
func (r *runner) dsChild(args ...string) []string { return append([]string{r.self, "child"}, args...) }

// lkChild is the argv of a libkdumpfile-side child.
func (r *runner) lkChild(args ...string) []string { return append([]string{r.lkdf}, args...) }

// proc wraps a command so that lkdf_bench exec reports its wall time, CPU
// time and peak RSS.
func (r *runner) proc(argv ...string) []string { return append([]string{r.lkdf, "exec"}, argv...) }

// interleave runs the sides A B A B ... for the configured rounds after one
// untimed warm-up run of each (both sides then read from a warm page
// cache), and returns every side's samples. A nil side is skipped.
func (r *runner) interleave(what string, sides ...[]string) ([][]sample, error) {
	return r.interleaveWith(what, nil, sides...)
}

// interleaveWith is interleave with a function run before every run of
// every side (to remove an output file, say).
func (r *runner) interleaveWith(what string, before func(), sides ...[]string) ([][]sample, error) {
	if r.verbose {
		fmt.Fprintf(r.progress, "  %s\n", what)
	}
	out := make([][]sample, len(sides))
	for round := -1; round < r.rounds; round++ {
		for i, argv := range sides {
			if argv == nil {
				continue
			}
			if before != nil {
				before()
			}
			s, err := r.run(argv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			if round >= 0 {
				out[i] = append(out[i], s)
			}
		}
	}
	return out, nil
}

// stat is the median of one key over samples, its smallest and largest
// value, and how far the samples spread around the median
// ((max-min)/median).
type stat struct {
	median, spread float64
	min, max       float64
	n              int
}

func statOf(ss []sample, key string) stat {
	if len(ss) == 0 {
		return stat{}
	}
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = s[key]
	}
	sort.Float64s(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	st := stat{median: m, min: v[0], max: v[len(v)-1], n: len(v)}
	if m > 0 {
		st.spread = (v[len(v)-1] - v[0]) / m
	}
	return st
}

// cpu is user plus system time of a process sample.
func cpu(s sample) float64 { return s["user_ns"] + s["sys_ns"] }

// withCPU adds a "cpu_ns" key to process samples (lkdf_bench exec); the
// children report their own.
func withCPU(ss []sample) []sample {
	for _, s := range ss {
		if _, ok := s["user_ns"]; ok {
			s["cpu_ns"] = cpu(s)
		}
	}
	return ss
}

// table collects rows and prints them as Markdown.
type table struct {
	title string
	head  []string
	rows  [][]string
	notes []string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

func (t *table) print(w io.Writer) {
	fmt.Fprintf(w, "\n### %s\n\n", t.title)
	fmt.Fprintf(w, "| %s |\n", strings.Join(t.head, " | "))
	sep := make([]string, len(t.head))
	for i := range sep {
		sep[i] = "---"
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(sep, "|"))
	for _, r := range t.rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	for _, n := range t.notes {
		fmt.Fprintf(w, "\n%s\n", n)
	}
}

// Formatting.

func fmtDur(ns float64) string {
	switch {
	case ns <= 0:
		return "-"
	case ns < 1e6:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	case ns < 1e8:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	case ns < 1e9:
		return fmt.Sprintf("%.0f ms", ns/1e6)
	}
	return fmt.Sprintf("%.2f s", ns/1e9)
}

// fmtRate formats n things per ns as a rate ("38.2 k pages/s").
func fmtRate(n, ns float64, unit string) string {
	if ns <= 0 || n <= 0 {
		return "-"
	}
	r := n / (ns / 1e9)
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2f M %s/s", r/1e6, unit)
	case r >= 1e3:
		return fmt.Sprintf("%.1f k %s/s", r/1e3, unit)
	}
	return fmt.Sprintf("%.0f %s/s", r, unit)
}

func fmtMB(bytes, ns float64) string {
	if ns <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MB/s", bytes/1e6/(ns/1e9))
}

func fmtKiB(kib float64) string {
	if kib <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB", kib/1024)
}

// fmtRatio formats how many times faster the first time is than the
// second (other/ds: above 1, dumpscope is faster).
func fmtRatio(dsNS, otherNS float64) string {
	if dsNS <= 0 || otherNS <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", otherNS/dsNS)
}

// fmtNoise is the larger spread of the two sides, as ±%.
func fmtNoise(a, b stat) string {
	return fmt.Sprintf("±%.0f%%", 100*max(a.spread, b.spread)/2)
}

// check reports a sample set whose pages did not all read.
func checkOK(what string, ss []sample) error {
	for _, s := range ss {
		if s["failed"] != 0 {
			return fmt.Errorf("%s: %v of %v pages failed", what, s["failed"], s["ops"])
		}
	}
	return nil
}
