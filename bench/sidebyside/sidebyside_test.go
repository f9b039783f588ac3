package main

// Quick checks of the benchmark's own bookkeeping; the benchmark itself
// runs from bench/run.sh, never from go test.

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dumpscope/reader/dumptest"
)

func TestParseSample(t *testing.T) {
	s, err := parseSample([]byte("noise\nns=1500 ops=3 ok=2 failed=1 bytes=8192 hits=0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s["ns"] != 1500 || s["ops"] != 3 || s["failed"] != 1 || s["bytes"] != 8192 {
		t.Errorf("got %v", s)
	}
	for _, bad := range []string{"", "ns=1 oops", "ns=x"} {
		if _, err := parseSample([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestStatOf(t *testing.T) {
	ss := []sample{{"ns": 30}, {"ns": 10}, {"ns": 20}}
	st := statOf(ss, "ns")
	if st.median != 20 || st.spread != 1 || st.n != 3 {
		t.Errorf("odd count: %+v", st)
	}
	st = statOf(append(ss, sample{"ns": 40}), "ns")
	if st.median != 25 {
		t.Errorf("even count: median %v, want 25", st.median)
	}
	if st := statOf(nil, "ns"); st.median != 0 {
		t.Errorf("empty: %+v", st)
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{fmtDur(12.5e6), "12.5 ms"},
		{fmtDur(250e3), "250 µs"},
		{fmtDur(2.5e9), "2.50 s"},
		{fmtRate(38000, 1e9, "pages"), "38.0 k pages/s"},
		{fmtRatio(2e6, 3e6), "1.50×"},
		{fmtRatio(0, 3e6), "-"},
		{fmtNoise(stat{spread: 0.1}, stat{spread: 0.3}), "±15%"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestListRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "list")
	want := []uint64{0, 7, 1 << 40, 3}
	if err := writeList(path, want); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if len(b) != 32 || binary.LittleEndian.Uint64(b[16:]) != 1<<40 {
		t.Fatalf("file layout: % x", b)
	}
	got, err := readList(path)
	if err != nil || len(got) != len(want) {
		t.Fatalf("%v %v", got, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %d, want %d", i, got[i], want[i])
		}
	}
	os.WriteFile(path, b[:9], 0o644)
	if _, err := readList(path); err == nil {
		t.Error("a list of 9 bytes was accepted")
	}
}

// TestFlatRecords counts the records of a stream written in file order
// and one with a record rewritten at the end (out of order).
func TestFlatRecords(t *testing.T) {
	file := make([]byte, 5*4096)
	for i := range file {
		file[i] = byte(i%251 + 1)
	}
	path := filepath.Join(t.TempDir(), "s.flat")
	os.WriteFile(path, dumptest.Flatten(file, 4096, [2]int64{4096, 8192}), 0o644)
	n, ooo, err := flatRecords(path)
	if err != nil || n != 6 || ooo != 1 {
		t.Errorf("records %d, out of order %d, err %v; want 6, 1", n, ooo, err)
	}
}

// TestChildRead runs the dumpscope side on a small writer-made kdump and
// checks that every listed page reads, with 1 and 2 workers.
func TestChildRead(t *testing.T) {
	dir := t.TempDir()
	pages := map[uint64][]byte{}
	for p := uint64(0); p < 600; p += 2 {
		pages[p] = syntheticPages(1 + int(p%3))[p%3]
	}
	k := &dumptest.Kdump{Version: 6, Codec: "zlib", MaxMapnr: 600, Pages: pages, NrCPUs: 1, DumpLevel: 1,
		Utsname: [6]string{"Linux", "t", "6.1", "#1", "x86_64", ""}}
	b, _ := k.Bytes()
	path := filepath.Join(dir, "k.kdump")
	os.WriteFile(path, b, 0o644)
	d, err := dsOpen(path)
	if err != nil {
		t.Fatal(err)
	}
	pfns, err := d.PresentPFNs()
	d.Close()
	if err != nil || len(pfns) != 300 {
		t.Fatalf("%d present pfns, err %v; want 300", len(pfns), err)
	}
	list := filepath.Join(dir, "list")
	writeList(list, append(pfns, 1)) // pfn 1 is not stored
	for _, w := range []string{"1", "2"} {
		r, err := childRead([]string{list, w, path})
		if err != nil || r.ok != 300 || r.failed != 1 || r.bytes != 300*4096 {
			t.Errorf("%s workers: %+v, %v", w, r, err)
		}
	}
	r, err := childCeiling([]string{list[:len(list)-4] + "list", "2", path})
	if err == nil {
		t.Errorf("ceiling over a list with an absent page: %+v, no error", r)
	}
}

func TestCombine(t *testing.T) {
	dir := t.TempDir()
	run := func(name, wall, cpu string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("### Pages\n\n| work | file | workers | dumpscope | libkdumpfile | ratio | ratio by CPU | noise |\n"+
			"|---|---|---|---|---|---|---|---|\n| all pages | zlib | 1 | 1 | 2 | "+wall+" | "+cpu+" | ±1% |\n"+
			"\n### Summary\n\n| work | ratio |\n|---|---|\n| x | 0.10× |\n"), 0o644)
		return p
	}
	var out strings.Builder
	err := combine([]string{run("a", "0.80×", "0.70×"), run("b", "0.90×", "0.75×"), run("c", "1.20×", "-")}, &out)
	if err != nil {
		t.Fatal(err)
	}
	want := "| Pages | all pages, zlib, 1 | 0.90× (0.80–1.20) | 0.72× (0.70–0.75) |"
	if !strings.Contains(out.String(), want) {
		t.Errorf("got\n%s\nwant a line\n%s", out.String(), want)
	}
	if strings.Contains(out.String(), "Summary") {
		t.Errorf("the summary table was combined:\n%s", out.String())
	}
}
