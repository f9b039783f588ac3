package oops

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dumpscope/model"
)

// fuzzRecords turns fuzz input into log records: one record per line; a
// line starting with "\x01" continues the record before it (a record with
// embedded newlines), and "[T12] "/"[C3] " prefixes set the caller.
func fuzzRecords(data []byte) []model.LogRecord {
	recs := make([]model.LogRecord, 0, bytes.Count(data, []byte("\n"))+1)
	for i, l := range bytes.Split(data, []byte("\n")) {
		s := string(l)
		if strings.HasPrefix(s, "\x01") && len(recs) > 0 {
			recs[len(recs)-1].Text += "\n" + s[1:]
			continue
		}
		r := model.LogRecord{Seq: uint64(i), TimestampNS: uint64(i) * 1000, Level: -1, Facility: -1}
		if m := callerRe.FindStringSubmatch(s); m != nil {
			r.Caller, s = m[1], s[len(m[0]):]
		}
		r.Text = s
		recs = append(recs, r)
	}
	return recs
}

// FuzzAnalyze: any log text is read without a panic, in bounded time, and
// the analysis is consistent with itself.
func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{nullDerefModule61, pageFault612Kdump, gpf612, kernelBUG61, warning61, hardLockup,
		warningThenPanicStack, oopsInBoot(boot{kaslr: 1 << 24, modBase: 0xffffffffc0000000, comm: "x", ret: "y"}),
		"Kernel panic - not syncing: Fatal exception\n", "------------[ cut here ]------------\nWARNING: at a.c:1 f()\n",
		"[T1] BUG: kernel NULL pointer dereference, address: 0000000000000000\n[T2] Oops: 0000 [#1] SMP\n[T1] Call Trace:\n[T1]  f+0x1/0x2\n"} {
		f.Add([]byte(s))
	}
	// The end of the real fixtures' logs (whole logs make the minimizer
	// slow: it re-runs the target for every chunk it tries to drop).
	if dir, err := filepath.Glob(filepath.Join("..", "..", "..", "shared", "kernel-fixtures", "*", "*.vmcore-dmesg.txt")); err == nil {
		for _, p := range dir {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b[max(0, len(b)-3000):])
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 256<<10 {
			return
		}
		recs := fuzzRecords(data)
		start := time.Now()
		a := Analyze(recs, Facts{Stack: []UnwoundFrame{{Function: "panic"}, {Function: "vfs_write"}}})
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%d bytes took %v", len(data), d)
		}
		checkConsistent(t, a)
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		b2, _ := json.Marshal(Analyze(recs, Facts{Stack: []UnwoundFrame{{Function: "panic"}, {Function: "vfs_write"}}}))
		if !bytes.Equal(b, b2) {
			t.Fatalf("two analyses of the same log differ")
		}
	})
}

// checkConsistent checks what must hold of any analysis.
func checkConsistent(t *testing.T, a *Analysis) {
	t.Helper()
	if a.Panicked != (a.Panic != nil) {
		t.Fatalf("panicked %v panic %v", a.Panicked, a.Panic)
	}
	switch a.Verdict {
	case "panic":
		if !a.Panicked || a.Cause == nil {
			t.Fatalf("verdict panic without panic or cause")
		}
	case "oops":
		if a.Panicked || a.Cause == nil || !isDie(&a.Reports[*a.Cause]) {
			t.Fatalf("verdict oops with panic or without a die() cause")
		}
	case "none":
		if a.Panicked || a.Cause != nil || a.Signature != nil {
			t.Fatalf("verdict none with a panic, cause or signature")
		}
	default:
		t.Fatalf("verdict %q", a.Verdict)
	}
	if a.Panic != nil && (a.Panic.Report < 0 || a.Panic.Report >= len(a.Reports)) {
		t.Fatalf("panic report %d of %d", a.Panic.Report, len(a.Reports))
	}
	if a.Cause != nil {
		if *a.Cause < 0 || *a.Cause >= len(a.Reports) {
			t.Fatalf("cause %d of %d", *a.Cause, len(a.Reports))
		}
		s := a.Signature
		if s == nil || s.Canonical != Canonical(s.Title, s.Frames) || len(s.Frames) > MaxFrames {
			t.Fatalf("signature %+v", s)
		}
		sum := sha256.Sum256([]byte(s.Canonical))
		if s.Hash != hex.EncodeToString(sum[:]) {
			t.Fatalf("hash")
		}
		if (s.GuiltyFrame == "") != (len(s.Frames) == 0) || (len(s.Frames) > 0 && s.Frames[0] != s.GuiltyFrame) {
			t.Fatalf("guilty %q frames %v", s.GuiltyFrame, s.Frames)
		}
	}
	if len(a.Reports) > maxReports {
		t.Fatalf("%d reports", len(a.Reports))
	}
	for i := range a.Reports {
		r := &a.Reports[i]
		if r.FirstSeq > r.LastSeq || len(r.Trace) > maxFrames || len(r.Registers) > maxRegBlocks || r.Complete != (len(r.Missing) == 0) {
			t.Fatalf("report %d: %+v", i, r)
		}
		for _, b := range r.Registers {
			if b.InTrace && (b.AfterFrame < 0 || b.AfterFrame > len(r.Trace)) {
				t.Fatalf("report %d: register block after frame %d of %d", i, b.AfterFrame, len(r.Trace))
			}
		}
	}
}

// benchLog is a boot's worth of ordinary lines, a warning, and an oops
// that panics: the shape of a 1 MiB printk buffer.
func benchLog() []model.LogRecord {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		b.WriteString("pci 0000:00:1f.2: [8086:2922] type 00 class 0x010601 reg 0x20: [io  0xc040-0xc05f]\n")
		if i == 3000 {
			b.WriteString(warning61)
		}
	}
	b.WriteString(nullDerefModule61)
	return fuzzRecords([]byte(b.String()))
}

// BenchmarkAnalyze measures a 1 MiB log.
func BenchmarkAnalyze(b *testing.B) {
	recs := benchLog()
	var n int
	for _, r := range recs {
		n += len(r.Text) + 1
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if a := Analyze(recs, Facts{}); a.Signature == nil {
			b.Fatal("no signature")
		}
	}
}

// TestBounds: a log of more reports, frames and register blocks than any
// kernel prints is read within the bounds, without a panic.
func TestBounds(t *testing.T) {
	var b strings.Builder
	for i := 0; i < maxReports+100; i++ {
		b.WriteString("Oops: 0000 [#1] SMP\n")
	}
	b.WriteString("general protection fault: 0000 [#2] SMP\nCall Trace:\n")
	for i := 0; i < maxFrames+100; i++ {
		b.WriteString(" f+0x1/0x2\nRIP: 0010:g+0x1/0x2\n")
	}
	a := Analyze(fuzzRecords([]byte(b.String()+"Kernel panic - not syncing: Fatal exception\n")), Facts{})
	checkConsistent(t, a)
	if len(a.Reports) > maxReports || len(a.Notes) == 0 || !strings.Contains(a.Notes[0], "older reports were not kept") ||
		a.Verdict != "panic" || a.Reports[*a.Cause].Class != ClassGPF {
		t.Errorf("%d reports, notes %v, verdict %s", len(a.Reports), a.Notes, a.Verdict)
	}
	// Reports after the panic are not kept past the bound.
	a = Analyze(fuzzRecords([]byte("Kernel panic - not syncing: x\n"+strings.Repeat("Oops: 0000 [#1] SMP\n", maxReports+10))), Facts{})
	checkConsistent(t, a)
	if len(a.Reports) != maxReports || a.Panic.Report != 0 || !strings.Contains(strings.Join(a.Notes, ";"), "11 reports after the panic") {
		t.Errorf("%d reports, notes %v", len(a.Reports), a.Notes)
	}
	// The same in one report.
	a = Analyze(fuzzRecords([]byte(b.String()[strings.Index(b.String(), "general"):])), Facts{})
	checkConsistent(t, a)
	if r := a.Reports[0]; len(r.Trace) != maxFrames || len(r.Registers) != maxRegBlocks {
		t.Errorf("%d frames, %d register blocks", len(r.Trace), len(r.Registers))
	}
}
