package main

// The sections of the benchmark: each builds its measurements, runs them
// interleaved and returns its table.

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// findPattern is what the find rows search for: text the kernel keeps in
// several places (the banner), so that both sides must report the same
// count of matches, which checks that they read the same bytes.
const findPattern = "Linux version"

// bench holds what the sections share.
type bench struct {
	cfg    *config
	r      *runner
	files  *fileSet
	lists  map[string]pageLists
	ratios []ratio // every dumpscope/libkdumpfile ratio, for the summary
}

// ratio is one comparison: how many times faster dumpscope is, by wall
// time and by CPU time (0: not measured).
type ratio struct {
	what      string
	wall, cpu float64
}

// compare records a ratio for the summary and formats it, by wall time
// and by CPU time.
func (b *bench) compare(what string, dsNS, otherNS, dsCPU, otherCPU float64) (wall, cpu string) {
	r := ratio{what: what}
	if dsNS > 0 && otherNS > 0 {
		r.wall = otherNS / dsNS
	}
	if dsCPU > 0 && otherCPU > 0 {
		r.cpu = otherCPU / dsCPU
	}
	b.ratios = append(b.ratios, r)
	return fmtRatio(dsNS, otherNS), fmtRatio(dsCPU, otherCPU)
}

// summary lists the ratios below 1, worst first (by wall time).
func (b *bench) summary() *table {
	t := &table{title: "Summary: where dumpscope is slower", head: []string{"work", "ratio", "ratio by CPU time"}}
	slow := append([]ratio(nil), b.ratios...)
	sort.Slice(slow, func(i, j int) bool { return slow[i].wall < slow[j].wall })
	n := 0
	for _, r := range slow {
		if r.wall < 1 || (r.cpu > 0 && r.cpu < 1) {
			cpu := "-"
			if r.cpu > 0 {
				cpu = fmt.Sprintf("%.2f×", r.cpu)
			}
			t.add(r.what, fmt.Sprintf("%.2f×", r.wall), cpu)
			n++
		}
	}
	t.note("%d of %d comparisons are below 1.0 by wall or CPU time.", n, len(b.ratios))
	return t
}

// pageLists are the page lists of one dump, written for both sides.
type pageLists struct {
	all, random   string // list files
	nAll, nRandom int
}

// listsOf writes (once) the lists of a dump: every present frame in
// order, and a random sample of them (fixed seed).
func (b *bench) listsOf(f benchFile) (pageLists, error) {
	key := strings.Join(f.paths, "\x00")
	if l, ok := b.lists[key]; ok {
		return l, nil
	}
	d, err := dsOpen(f.paths...)
	if err != nil {
		return pageLists{}, err
	}
	all, err := d.PresentPFNs()
	d.Close()
	if err != nil {
		return pageLists{}, err
	}
	if len(all) == 0 {
		return pageLists{}, fmt.Errorf("%s stores no pages", f)
	}
	sample := append([]uint64(nil), all...)
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(sample), func(i, j int) { sample[i], sample[j] = sample[j], sample[i] })
	sample = sample[:min(b.cfg.random, len(sample))]
	dir := filepath.Join(b.cfg.dir, "lists")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return pageLists{}, err
	}
	name := filepath.Base(f.paths[0])
	l := pageLists{all: filepath.Join(dir, name+".all"), random: filepath.Join(dir, name+".random"), nAll: len(all), nRandom: len(sample)}
	if err := writeList(l.all, all); err != nil {
		return l, err
	}
	if err := writeList(l.random, sample); err != nil {
		return l, err
	}
	b.lists[key] = l
	return l, nil
}

// storedOf writes (once) the stored images of every present page of a
// dump for cceiling: per page a uint32 codec, a uint32 size, the bytes.
func (b *bench) storedOf(f benchFile, l pageLists) (string, error) {
	path := l.all + ".stored"
	if fresh(path) {
		return path, nil
	}
	list, err := readList(l.all)
	if err != nil {
		return "", err
	}
	d, err := dsOpen(f.paths...)
	if err != nil {
		return "", err
	}
	pages, err := d.StoredPages(list)
	d.Close()
	if err != nil {
		return "", err
	}
	codes := map[string]uint32{"none": 0, "zlib": 1, "lzo": 2, "snappy": 3, "zstd": 4}
	var out []byte
	for _, p := range pages {
		c, ok := codes[p.codec]
		if !ok {
			return "", fmt.Errorf("%s: codec %q", f, p.codec)
		}
		out = binary.LittleEndian.AppendUint32(out, c)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(p.data)))
		out = append(out, p.data...)
	}
	return path, writeAtomically(path, func(w *os.File) error {
		_, err := w.Write(out)
		return err
	})
}

// perOp adds "ns_op", the time per operation, to child samples.
func perOp(ss []sample) []sample {
	for _, s := range ss {
		if s["ops"] > 0 {
			s["ns_op"] = s["ns"] / s["ops"]
			s["cpu_op"] = s["cpu_ns"] / s["ops"]
		}
	}
	return ss
}

// open measures opening and `info`.
func (b *bench) open() (*table, error) {
	t := &table{title: "Open + info", head: []string{"work", "file", "dumpscope", "libkdumpfile", "ratio", "ratio by CPU", "noise"}}
	files := append(append([]benchFile{}, b.files.sparse...), b.files.real...)
	files = append(files, b.files.codecs[0])
	for _, f := range files {
		// As many opens per child as fill about 0.3 s on the slower side,
		// the same on both sides.
		s, err := b.r.run(b.r.dsChild(append([]string{"info", "1"}, f.paths...)...))
		if err != nil {
			return nil, err
		}
		l, err := b.r.run(b.r.lkChild(append([]string{"info", "1", "1"}, f.paths...)...))
		if err != nil {
			return nil, err
		}
		n := strconv.Itoa(max(1, min(500, int(3e8/max(s["ns"], l["ns"], 1)))))
		res, err := b.r.interleave("open+info "+f.String(),
			b.r.dsChild(append([]string{"info", n}, f.paths...)...),
			b.r.lkChild(append([]string{"info", n, "0"}, f.paths...)...),
			b.r.lkChild(append([]string{"info", n, "1"}, f.paths...)...))
		if err != nil {
			return nil, err
		}
		ds, lk, lkc := statOf(perOp(res[0]), "ns_op"), statOf(perOp(res[1]), "ns_op"), statOf(perOp(res[2]), "ns_op")
		dsC, lkC, lkcC := statOf(res[0], "cpu_op"), statOf(res[1], "cpu_op"), statOf(res[2], "cpu_op")
		wall, cpu := b.compare("open + info, "+f.label, ds.median, lk.median, dsC.median, lkC.median)
		t.add("open + info, in-process", f.String(), fmtDur(ds.median), fmtDur(lk.median), wall, cpu, fmtNoise(ds, lk))
		t.add("… libkdumpfile also counts stored frames (file.pagemap)", f.String(), fmtDur(ds.median), fmtDur(lkc.median),
			fmtRatio(ds.median, lkc.median), fmtRatio(dsC.median, lkcC.median), fmtNoise(ds, lkc))
		res, err = b.r.interleave("info process "+f.String(),
			b.r.proc(append([]string{b.r.ds, "info", "--no-crash"}, f.paths...)...),
			b.r.proc(append([]string{b.r.lkdf, "info", "1", "0"}, f.paths...)...))
		if err != nil {
			return nil, err
		}
		dw, lw := statOf(res[0], "wall_ns"), statOf(res[1], "wall_ns")
		dc, lc := statOf(withCPU(res[0]), "cpu_ns"), statOf(withCPU(res[1]), "cpu_ns")
		wall, cpu = b.compare("`info` as a process, "+f.label, dw.median, lw.median, dc.median, lc.median)
		t.add("`info --no-crash` as a process: wall", f.String(), fmtDur(dw.median), fmtDur(lw.median), wall, cpu, fmtNoise(dw, lw))
		t.add("… CPU (user + system)", f.String(), fmtDur(dc.median), fmtDur(lc.median), cpu, cpu, fmtNoise(dc, lc))
	}
	for _, f := range b.files.real {
		res, err := b.r.interleave("info with crash summary "+f.String(), b.r.proc(append([]string{b.r.ds, "info"}, f.paths...)...))
		if err != nil {
			return nil, err
		}
		dw, dc := statOf(res[0], "wall_ns"), statOf(withCPU(res[0]), "cpu_ns")
		t.add("`info` (crash summary from memory) as a process: wall / CPU", f.String(), fmtDur(dw.median)+" / "+fmtDur(dc.median), "-", "-", "-", fmtNoise(dw, dc))
	}
	t.note("In-process: Open + Info + Close (dumpscope: the facts and frame counts `info` prints, through inspect.Session.InfoWithCounts: every state counted from the bitmaps up to 8 MiB of them, beyond that the stored frames from the page descriptor table) against kdump_open_fdset + the attributes info shows + kdump_free; the child repeats it N times (N fills about 0.3 s). Process rows: the binaries as children (exec, start-up included).")
	return t, nil
}

// pages reads every present page in order, and a random sample, with 1
// and 2 workers.
func (b *bench) pages() (*table, error) {
	t := &table{title: "Pages", head: []string{"work", "file", "workers", "dumpscope", "libkdumpfile", "ratio", "ratio by CPU", "noise"}}
	files := append(b.files.codecsELFReal(), b.files.sparse[len(b.files.sparse)-1])
	for _, f := range files {
		l, err := b.listsOf(f)
		if err != nil {
			return nil, err
		}
		for _, kind := range []struct {
			short, name string
			list        string
			n           int
		}{{"all pages", fmt.Sprintf("all %d pages in order", l.nAll), l.all, l.nAll}, {"random pages", fmt.Sprintf("%d random pages", l.nRandom), l.random, l.nRandom}} {
			var lk1 stat // libkdumpfile's one thread, for the scaling row
			for _, w := range []string{"1", "2"} {
				what := fmt.Sprintf("%s, %s, %s workers", kind.name, f, w)
				res, err := b.r.interleave(what,
					b.r.dsChild(append([]string{"read", kind.list, w}, f.paths...)...),
					b.r.lkChild(append([]string{"read", kind.list, w, b.cfg.share}, f.paths...)...))
				if err != nil {
					return nil, err
				}
				if err := checkOK(what+" (dumpscope)", res[0]); err != nil {
					return nil, err
				}
				if err := checkOK(what+" (libkdumpfile)", res[1]); err != nil {
					return nil, err
				}
				ds, lk := statOf(res[0], "ns"), statOf(res[1], "ns")
				n := float64(kind.n)
				label := fmt.Sprintf("%s, %s, %s worker(s)", kind.short, f.label, w)
				wall, cpu := b.compare(label, ds.median, lk.median, statOf(res[0], "cpu_ns").median, statOf(res[1], "cpu_ns").median)
				t.add(kind.name, f.String(), w, fmtRate(n, ds.median, "pages"), fmtRate(n, lk.median, "pages"), wall, cpu, fmtNoise(ds, lk))
				if w == "1" {
					lk1 = lk
					continue
				}
				// Scaling: dumpscope's two workers against libkdumpfile
				// as most programs use it, one context in one thread.
				// By wall time only (two threads take twice the CPU).
				t.add(kind.name, f.String(), "2 vs 1", fmtRate(n, ds.median, "pages"), fmtRate(n, lk1.median, "pages"), fmtRatio(ds.median, lk1.median), "-", fmtNoise(ds, lk1))
			}
		}
	}
	t.note("dumpscope: Dump.ReadPage from 1 or 2 goroutines sharing one open dump; libkdumpfile: kdump_read of one page at a time. Both take chunks of 256 list entries in turn; times include opening and closing. Rows \"2 vs 1\": dumpscope with 2 workers against libkdumpfile with one thread, by wall time (not in the summary).")
	return t, nil
}

// verify compares verify with the decode-only ceiling and with libkdumpfile
// reading the same pages.
func (b *bench) verify() (*table, error) {
	t := &table{title: "Verify", head: []string{"file", "jobs", "verify", "ceiling (codec alone, same jobs)", "share of ceiling",
		"1-job ceiling × jobs", "share", "share by CPU", "share by CPU, warm", "C codec ceiling", "libkdumpfile reading every page", "ratio", "ratio by CPU", "noise"}}
	for _, f := range b.files.codecsELFReal() {
		l, err := b.listsOf(f)
		if err != nil {
			return nil, err
		}
		var ceiling1 float64 // bytes per ns with one job
		for _, jobs := range []string{"1", "2"} {
			var cside []string
			if b.cfg.cceiling != "" {
				stored, err := b.storedOf(f, l)
				if err != nil {
					return nil, err
				}
				cside = []string{b.cfg.cceiling, stored, jobs}
			}
			res, err := b.r.interleave(fmt.Sprintf("verify %s, %s jobs", f, jobs),
				b.r.dsChild(append([]string{"verify", jobs}, f.paths...)...),
				b.r.dsChild(append([]string{"ceiling", l.all, jobs}, f.paths...)...),
				b.r.lkChild(append([]string{"read", l.all, jobs, b.cfg.share}, f.paths...)...),
				cside,
				b.r.dsChild(append([]string{"verify-warm", jobs}, f.paths...)...))
			if err != nil {
				return nil, err
			}
			cCeiling := "-"
			if cside != nil {
				if err := checkOK("cceiling "+f.String(), res[3]); err != nil {
					return nil, err
				}
				cCeiling = fmtMB(res[3][0]["bytes"], statOf(res[3], "ns").median)
			}
			ver, ceil, lk := statOf(res[0], "ns"), statOf(res[1], "ns"), statOf(res[2], "ns")
			vBytes, cBytes, lBytes := res[0][0]["bytes"], res[1][0]["bytes"], res[2][0]["bytes"]
			vRate, cRate := vBytes/ver.median, cBytes/ceil.median
			if jobs == "1" {
				ceiling1 = cRate
			}
			j, _ := strconv.Atoi(jobs)
			scale := lBytes / vBytes // per byte: verify may check more bytes (zero pages)
			wall, cpu := b.compare("verify against reading every page, "+f.label+", "+jobs+" job(s)", ver.median*scale, lk.median,
				statOf(res[0], "cpu_ns").median*scale, statOf(res[2], "cpu_ns").median)
			t.add(f.String(), jobs, fmtMB(vBytes, ver.median), fmtMB(cBytes, ceil.median), fmt.Sprintf("%.0f%%", 100*vRate/cRate),
				fmt.Sprintf("%.0f MB/s", ceiling1*float64(j)*1e3), fmt.Sprintf("%.0f%%", 100*vRate/(ceiling1*float64(j))),
				cpuShare(res[0], res[1]), cpuShare(res[4], res[1]), cCeiling, fmtMB(lBytes, lk.median), wall, cpu, fmtNoise(ver, lk))
		}
	}
	t.note("verify: reader.Verify (strict decoding, structure checks, every stored page) in a child, open and close included. Ceiling: the same stored page images, read into memory first (not timed), decoded by dumpscope's strict decoder with the same number of goroutines. MB/s count decoded page bytes. The ratio compares verify with libkdumpfile reading the same pages per byte (verify also checks structures; libkdumpfile only reads). C codec ceiling: cceiling, the same images decoded by the C libraries libkdumpfile uses, same threads. Share by CPU: the ceiling's CPU time per byte over verify's (the part of verify's CPU that is decoding; steadier than the wall-time shares on a busy machine). The ceiling is timed after one untimed pass in its process; verify is timed on the first pass of a fresh process, which also pays for what only a first pass pays (code paged in, heap grown, caches and predictors cold). Share by CPU, warm: the same with verify timed after one untimed verify in its process, as the ceiling is: the like-for-like share.")
	return t, nil
}

// cpuShare is the ceiling's CPU time per byte over verify's: how much of
// verify's CPU goes to decoding, steady on a busy machine.
func cpuShare(verify, ceiling []sample) string {
	v, c := statOf(verify, "cpu_ns").median, statOf(ceiling, "cpu_ns").median
	vb, cb := verify[0]["bytes"], ceiling[0]["bytes"]
	if v <= 0 || c <= 0 || vb <= 0 || cb <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*(c/cb)/(v/vb))
}

// find compares Find, with 1 and 2 workers, with libkdumpfile reading
// every page and searching it (one thread: lkdf_bench find has no workers).
func (b *bench) find() (*table, error) {
	t := &table{title: "Find (" + strconv.Quote(findPattern) + ")", head: []string{"file", "workers", "matches", "dumpscope", "libkdumpfile + memmem", "ratio", "ratio by CPU", "noise"}}
	for _, f := range b.files.codecsELFReal() {
		l, err := b.listsOf(f)
		if err != nil {
			return nil, err
		}
		res, err := b.r.interleave("find "+f.String(),
			b.r.dsChild(append([]string{"find", findPattern, "1"}, f.paths...)...),
			b.r.lkChild(append([]string{"find", l.all, findPattern}, f.paths...)...),
			b.r.dsChild(append([]string{"find", findPattern, "2"}, f.paths...)...))
		if err != nil {
			return nil, err
		}
		ds1, lk, ds2 := statOf(res[0], "ns"), statOf(res[1], "ns"), statOf(res[2], "ns")
		n := float64(l.nAll)
		hits := func(ds []sample) string {
			if ds[0]["hits"] != res[1][0]["hits"] {
				return fmt.Sprintf("%v ≠ %v", ds[0]["hits"], res[1][0]["hits"])
			}
			return fmt.Sprint(ds[0]["hits"])
		}
		wall, cpu := b.compare("find, "+f.label, ds1.median, lk.median, statOf(res[0], "cpu_ns").median, statOf(res[1], "cpu_ns").median)
		t.add(f.String(), "1", hits(res[0]), fmtRate(n, ds1.median, "pages"), fmtRate(n, lk.median, "pages"), wall, cpu, fmtNoise(ds1, lk))
		t.add(f.String(), "2 vs 1", hits(res[2]), fmtRate(n, ds2.median, "pages"), fmtRate(n, lk.median, "pages"),
			fmt.Sprintf("%.2f×", lk.median/ds2.median), "-", fmtNoise(ds2, lk))
	}
	t.note("dumpscope: inspect.Find over every readable frame, with 1 or 2 workers (matches in address order either way); libkdumpfile: kdump_read of every present page in order and memmem, one thread, matches across consecutive pages included. Both must find the same number of matches. Rows \"2 vs 1\": dumpscope with 2 workers against libkdumpfile with one thread, by wall time (not in the summary).")
	return t, nil
}

// commands runs each dumpscope command as a process beside its counterpart.
func (b *bench) commands() (*table, error) {
	t := &table{title: "Commands as processes: wall, CPU, peak RSS", head: []string{"command", "file",
		"dumpscope wall", "CPU", "peak RSS", "counterpart", "wall", "CPU", "peak RSS", "ratio", "ratio by CPU", "noise"}}
	zlib := b.files.codecs[0]
	big := b.files.sparse[len(b.files.sparse)-1]
	l, err := b.listsOf(zlib)
	if err != nil {
		return nil, err
	}
	out := filepath.Join(b.cfg.dir, "rearranged.tmp")
	defer os.Remove(out)
	type cmd struct {
		name    string
		file    benchFile
		ds      []string
		cpName  string
		cp      []string
		cleanup bool
	}
	ds := func(args ...string) []string { return append([]string{b.r.ds}, args...) }
	cmds := []cmd{
		{"info --no-crash", big, ds("info", "--no-crash", big.paths[0]), "lkdf_bench info (open + attributes)", []string{b.r.lkdf, "info", "1", "0", big.paths[0]}, false},
		{"pages", big, ds("pages", big.paths[0]), "", nil, false},
		{"info", zlib, ds("info", zlib.paths[0]), "lkdf_bench info (open + attributes)", []string{b.r.lkdf, "info", "1", "0", zlib.paths[0]}, false},
		{"pages", zlib, ds("pages", zlib.paths[0]), "", nil, false},
		{"verify --jobs 1", zlib, ds("verify", "--jobs", "1", zlib.paths[0]), "lkdf_bench read, 1 thread", []string{b.r.lkdf, "read", l.all, "1", b.cfg.share, zlib.paths[0]}, false},
		{"verify --jobs 2", zlib, ds("verify", "--jobs", "2", zlib.paths[0]), "lkdf_bench read, 2 threads", []string{b.r.lkdf, "read", l.all, "2", b.cfg.share, zlib.paths[0]}, false},
		{"find --text --jobs 1", zlib, ds("find", "--text", findPattern, "--jobs", "1", zlib.paths[0]), "lkdf_bench find", []string{b.r.lkdf, "find", l.all, findPattern, zlib.paths[0]}, false},
		{"find --text --jobs 2", zlib, ds("find", "--text", findPattern, "--jobs", "2", zlib.paths[0]), "lkdf_bench find (one thread)", []string{b.r.lkdf, "find", l.all, findPattern, zlib.paths[0]}, false},
		{fmt.Sprintf("page --pfn 0 --count %d --raw", b.cfg.pages), zlib, ds("page", "--pfn", "0", "--count", strconv.Itoa(b.cfg.pages), "--raw", zlib.paths[0]),
			"lkdf_bench read, 1 thread", []string{b.r.lkdf, "read", l.all, "1", b.cfg.share, zlib.paths[0]}, false},
	}
	if len(b.files.flat.paths) > 0 {
		flat := b.files.flat.paths[0]
		cmds = append(cmds, cmd{"rearrange", b.files.flat, ds("rearrange", flat, out), "makedumpfile -R",
			[]string{"/bin/sh", "-c", `exec makedumpfile -R "$1" < "$2"`, "sh", out, flat}, true})
	}
	for _, c := range cmds {
		var before func()
		if c.cleanup {
			before = func() { os.Remove(out) }
		}
		var cp []string
		if c.cp != nil {
			cp = b.r.proc(c.cp...)
		}
		res, err := b.r.interleaveWith(c.name+" "+c.file.String(), before, b.r.proc(c.ds...), cp)
		if err != nil {
			return nil, err
		}
		dw, dc, dr := statOf(res[0], "wall_ns"), statOf(withCPU(res[0]), "cpu_ns"), statOf(res[0], "maxrss_kib")
		row := []string{"`" + c.name + "`", c.file.String(), fmtDur(dw.median), fmtDur(dc.median), fmtKiB(dr.median)}
		if c.cp == nil {
			row = append(row, "-", "-", "-", "-", "-", "-", fmtNoise(dw, dw))
		} else {
			cw, cc, cr := statOf(res[1], "wall_ns"), statOf(withCPU(res[1]), "cpu_ns"), statOf(res[1], "maxrss_kib")
			wall, cpu := b.compare("`"+c.name+"` against "+c.cpName+", "+c.file.label, dw.median, cw.median, dc.median, cc.median)
			row = append(row, c.cpName, fmtDur(cw.median), fmtDur(cc.median), fmtKiB(cr.median), wall, cpu, fmtNoise(dw, cw))
		}
		t.add(row...)
	}
	t.note("Each command runs under lkdf_bench exec (posix_spawn, exec, wait4: the child's own CPU time and ru_maxrss, which counts lkdf_bench's own 3 MB until the exec), stdout to /dev/null. lkdf_bench is the libkdumpfile counterpart where one exists; it has no UI and a smaller binary, so these rows include each program's start-up.")
	return t, nil
}

// startRounds is how many times each start-up row runs: a start costs
// about 10 ms, and its noise on a shared virtual machine is of the order of
// a millisecond, so three rounds say little.
const startRounds = 40

// startGoal is the CPU a command that draws no UI may take from exec to
// exit (issue 15, deliverable 8).
const startGoal = 10e6 // ns

// startup measures whole processes that do little but start: dumpscope's
// version and info --no-crash, a static Go program that only exits (what
// the Go runtime and this machine cost before any code of dumpscope's
// runs), one that only initialises dumpscope's libraries (what they add)
// and libkdumpfile's whole info as a process, interleaved.
func (b *bench) startup() (*table, error) {
	t := &table{title: "Start-up: commands that draw no UI, from exec to exit", head: []string{"program", "wall", "CPU", "CPU range", "page faults", "peak RSS", "under 10 ms of CPU"}}
	zlib := b.files.codecs[0]
	type row struct {
		name string
		argv []string
		ours bool
		env  []string // NAME=VALUE words for the run's environment
	}
	rows := []row{
		{"`dumpscope version`", []string{b.r.ds, "version"}, true, nil},
		{"`dumpscope info --no-crash`, " + zlib.String(), []string{b.r.ds, "info", "--no-crash", zlib.paths[0]}, true, nil},
		{"lkdf_bench info (libkdumpfile: open + attributes), " + zlib.String(), []string{b.r.lkdf, "info", "1", "0", zlib.paths[0]}, false, nil},
	}
	if b.cfg.dsSmall != "" {
		// No cache folder: the copy cannot remember a reload, so it makes
		// none and its code stays in small pages.
		rows = append(rows, row{"`dumpscope version`, its code in small pages (a copy written 4 KiB at a time, no reload)", []string{b.cfg.dsSmall, "version"}, true, []string{"HOME=", "XDG_CACHE_HOME="}})
	}
	if b.cfg.hello != "" {
		rows = append(rows, row{"a static Go program that only exits (bench/hello)", []string{b.cfg.hello}, false, nil})
	}
	if b.cfg.libs != "" {
		rows = append(rows, row{"dumpscope's libraries and start-up packages, initialised, and none of its other code (bench/libs)", []string{b.cfg.libs}, false, nil})
	}
	sides := make([][]string, len(rows))
	for i, r := range rows {
		sides[i] = append(r.env, b.r.proc(r.argv...)...)
	}
	r := *b.r
	r.rounds = startRounds
	res, err := r.interleave("start-up", sides...)
	if err != nil {
		return nil, err
	}
	for i, rw := range rows {
		w, c, f, m := statOf(res[i], "wall_ns"), statOf(withCPU(res[i]), "cpu_ns"), statOf(res[i], "minflt"), statOf(res[i], "maxrss_kib")
		goal := "-"
		if rw.ours {
			goal = "no"
			if c.median < startGoal {
				goal = "yes"
			}
		}
		t.add(rw.name, fmtDur(w.median), fmtDur(c.median), fmtDur(c.min)+" – "+fmtDur(c.max), fmt.Sprintf("%.0f", f.median), fmtKiB(m.median), goal)
	}
	t.note("Each program runs %d times under lkdf_bench exec (posix_spawn, exec, wait4: the child's own CPU time, minor page faults and ru_maxrss, which counts lkdf_bench's own 3 MB until the exec), interleaved, after one untimed run each; medians. dumpscope's first run (the untimed one) moves its code into 2 MiB pages of the page cache, once per build (internal/hugeheap.ReloadText); the small-pages row is a copy run without a cache folder to remember the move in, so it makes none: what a build's first run costs before that. bench/libs calls ReloadText too, but its code fills less than one aligned 2 MiB block, so it has none of these pages: its row is what the libraries cost in a program of their own, above what they cost inside dumpscope. The Go program that only exits is what any Go command costs here before its own code runs; the libraries' row adds what initialising the packages dumpscope imports from outside the module costs, after dumpscope's start-up package (internal/hugeheap/start) as in dumpscope; libkdumpfile's is a dynamically linked C program.", startRounds)
	return t, nil
}

// flat compares a flattened stream with its rearranged file, and dumpscope
// rearrange with makedumpfile -R.
func (b *bench) flat() (*table, error) {
	if len(b.files.flat.paths) == 0 {
		return nil, nil
	}
	fl, re := b.files.flat, b.files.flatR
	t := &table{title: "Flattened stream against its rearranged file (dumpscope)", head: []string{"work", "rearranged file", "flattened stream", "flattened / rearranged", "by CPU", "noise"}}
	recs, ooo, err := flatRecords(fl.paths[0])
	if err != nil {
		return nil, err
	}
	st, _ := os.Stat(fl.paths[0])
	t.note("The stream: %s, %.0f MB, %d records, %d of them at a lower logical offset than the record before (makedumpfile -F alternates page data with descriptor records).", fl.origin, float64(st.Size())/1e6, recs, ooo)
	rows := []struct {
		what       string
		flat, rear []string
		key        string
	}{
		{"open + Index (in-process)", b.r.dsChild("index", fl.paths[0]), b.r.dsChild("index", re.paths[0]), "ns"},
		{"verify in-process (reader.Verify, no Index first)", b.r.dsChild("verify", "1", fl.paths[0]), b.r.dsChild("verify", "1", re.paths[0]), "ns"},
		{"`verify --jobs 1` (process; indexes first)", b.r.proc(b.r.ds, "verify", "--jobs", "1", fl.paths[0]), b.r.proc(b.r.ds, "verify", "--jobs", "1", re.paths[0]), "wall_ns"},
		{"`pages` (process)", b.r.proc(b.r.ds, "pages", fl.paths[0]), b.r.proc(b.r.ds, "pages", re.paths[0]), "wall_ns"},
		{"`find --text` (process)", b.r.proc(b.r.ds, "find", "--text", findPattern, fl.paths[0]), b.r.proc(b.r.ds, "find", "--text", findPattern, re.paths[0]), "wall_ns"},
	}
	for _, r := range rows {
		res, err := b.r.interleave(r.what+" flat/rearranged", r.flat, r.rear)
		if err != nil {
			return nil, err
		}
		f, g := statOf(res[0], r.key), statOf(res[1], r.key)
		fc, gc := statOf(withCPU(res[0]), "cpu_ns"), statOf(withCPU(res[1]), "cpu_ns")
		t.add(r.what, fmtDur(g.median), fmtDur(f.median), fmt.Sprintf("%.2f×", f.median/g.median), fmt.Sprintf("%.2f×", fc.median/gc.median), fmtNoise(f, g))
	}
	out := filepath.Join(b.cfg.dir, "rearranged.tmp")
	defer os.Remove(out)
	res, err := b.r.interleaveWith("rearrange", func() { os.Remove(out) },
		b.r.proc(b.r.ds, "rearrange", fl.paths[0], out),
		b.r.proc("/bin/sh", "-c", `exec makedumpfile -R "$1" < "$2"`, "sh", out, fl.paths[0]))
	if err != nil {
		return nil, err
	}
	dw, mw := statOf(res[0], "wall_ns"), statOf(res[1], "wall_ns")
	dc, mc := statOf(withCPU(res[0]), "cpu_ns"), statOf(withCPU(res[1]), "cpu_ns")
	wall, cpu := b.compare("`rearrange` against makedumpfile -R", dw.median, mw.median, dc.median, mc.median)
	t.add("`dumpscope rearrange` against `makedumpfile -R` (wall)", fmtDur(mw.median)+" (makedumpfile -R)", fmtDur(dw.median)+" (dumpscope)",
		"ratio "+wall, "ratio "+cpu, fmtNoise(dw, mw))
	return t, nil
}

// flatRecords counts the records of a flattened stream and those that go
// to a lower logical offset than the record before them.
func flatRecords(path string) (records, outOfOrder int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	pos, last := int64(4096), int64(-1)
	var h [16]byte
	for {
		if _, err := f.ReadAt(h[:], pos); err != nil {
			if err == io.EOF {
				return records, outOfOrder, nil
			}
			return records, outOfOrder, err
		}
		off, size := int64(binary.BigEndian.Uint64(h[:8])), int64(binary.BigEndian.Uint64(h[8:]))
		if off < 0 || size <= 0 {
			return records, outOfOrder, nil // the end marker, or damage
		}
		records++
		if off < last {
			outOfOrder++
		}
		last = off
		pos += 16 + size
	}
}
