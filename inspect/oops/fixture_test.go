package oops_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"dumpscope/inspect/kernel"
	"dumpscope/inspect/oops"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader/dumptest"
)

// Differential tests on the two real Debian 6.1 dumps of
// ../shared/kernel-fixtures (README.md there): the panic dump, taken by
// kdump after `echo c > /proc/sysrq-trigger`, and a guest stopped by QEMU
// with no panic. crash's view of them (crash.json) is the oracle.

// engineLog reads the kernel log of a fixture dump with the kernel engine.
func engineLog(t *testing.T, name string) ([]model.LogRecord, *model.VMCoreInfo) {
	t.Helper()
	d, err := open.Open(dumptest.KernelFixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	k, err := kernel.New(d)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := k.Log(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	vi, _ := d.VMCoreInfo()
	return recs, vi
}

// dmesgRe matches a vmcore-dmesg line: "[%5llu.%06llu] text".
var dmesgRe = regexp.MustCompile(`^\[\s*(\d+)\.(\d{6})\] (.*)$`)

// dmesgFile reads kexec-tools' vmcore-dmesg output back into records: a
// line without the timestamp prefix continues the record before it.
func dmesgFile(t *testing.T, path string) []model.LogRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("%v: skipping", err)
	}
	defer f.Close()
	var recs []model.LogRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if m := dmesgRe.FindStringSubmatch(sc.Text()); m != nil {
			sec, _ := strconv.ParseUint(m[1], 10, 64)
			us, _ := strconv.ParseUint(m[2], 10, 64)
			recs = append(recs, model.LogRecord{Seq: uint64(len(recs)), TimestampNS: sec*1e9 + us*1e3, Level: -1, Facility: -1, Text: m[3]})
			continue
		}
		if n := len(recs); n > 0 {
			recs[n-1].Text += "\n" + sc.Text()
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// crashOracle is the part of crash.json these tests read.
type crashOracle struct {
	Sys   map[string]string `json:"sys"`
	Panic struct {
		String string `json:"string"`
	} `json:"panic"`
	ActiveTasks []struct {
		CPU  int    `json:"cpu"`
		PID  int64  `json:"pid"`
		Comm string `json:"comm"`
		Task string `json:"task"`
	} `json:"active_tasks"`
	PanicTask        string `json:"panic_task_from_dumpfile"`
	BacktracesActive []struct {
		CPU    int `json:"cpu"`
		Frames []struct {
			Symbol string  `json:"symbol"`
			Offset uint64  `json:"offset"`
			Module *string `json:"module"`
		} `json:"frames"`
	} `json:"backtraces_active"`
}

func readOracle(t *testing.T, name string) crashOracle {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dumptest.KernelFixturesDir(t), name+".crash.json"))
	if err != nil {
		t.Skipf("%v: skipping", err)
	}
	var o crashOracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestFixturePanicSysrq: the real sysrq panic, read from memory by the
// engine and from vmcore-dmesg's text, matches crash's PANIC string and
// its panic task; the guilty frame is sysrq_handle_crash; the log's trace
// agrees with crash's unwound stack of the panicking CPU.
func TestFixturePanicSysrq(t *testing.T) {
	const name = "panic-sysrq-mdf-zlib-d31.kdump"
	o := readOracle(t, name)
	// crash's PANIC: "\"Kernel panic - not syncing: sysrq triggered crash\"".
	wantMsg := strings.TrimPrefix(strings.Trim(o.Panic.String, `"`), "Kernel panic - not syncing: ")
	var task struct {
		cpu  int
		pid  int64
		comm string
	}
	for _, at := range o.ActiveTasks {
		if at.Task == o.PanicTask {
			task.cpu, task.pid, task.comm = at.CPU, at.PID, at.Comm
		}
	}
	var unwound []oops.UnwoundFrame
	for _, bt := range o.BacktracesActive {
		if bt.CPU != task.cpu {
			continue
		}
		for _, f := range bt.Frames {
			u := oops.UnwoundFrame{Function: f.Symbol, Offset: f.Offset, Reliable: true}
			if f.Module != nil {
				u.Module = *f.Module
			}
			unwound = append(unwound, u)
		}
	}

	check := func(t *testing.T, recs []model.LogRecord, facts oops.Facts) *oops.Analysis {
		a := oops.Analyze(recs, facts)
		if !a.Panicked || a.Panic == nil || a.Panic.Message != wantMsg {
			t.Fatalf("panic %+v, want message %q", a.Panic, wantMsg)
		}
		if a.Verdict != "panic" || a.Cause == nil {
			t.Fatalf("verdict %q cause %v (%s)", a.Verdict, a.Cause, a.CauseReason)
		}
		c := a.Reports[*a.Cause]
		if c.Class != oops.ClassSysrq {
			t.Errorf("class %q, want %q", c.Class, oops.ClassSysrq)
		}
		if c.Trigger != "sysrq: Trigger a crash" {
			t.Errorf("trigger %q", c.Trigger)
		}
		if c.Task == nil || c.Task.CPU != task.cpu || c.Task.PID != task.pid || c.Task.Comm != task.comm {
			t.Errorf("task %+v, crash says CPU %d PID %d comm %q", c.Task, task.cpu, task.pid, task.comm)
		}
		if c.Task != nil && (!c.Task.KdumpLoaded || c.Task.Taint.Text != "Not tainted" || c.Task.Release != o.Sys["RELEASE"]) {
			t.Errorf("task line %+v, release %q", c.Task, o.Sys["RELEASE"])
		}
		if !c.Complete {
			t.Errorf("incomplete: %v", c.Missing)
		}
		s := a.Signature
		if s == nil || s.GuiltyFrame != "sysrq_handle_crash" || s.Title != "kernel panic: sysrq triggered crash" || s.Corrupted {
			t.Fatalf("signature %+v", s)
		}
		want := []string{"sysrq_handle_crash", "__handle_sysrq", "write_sysrq_trigger", "proc_reg_write", "vfs_write", "ksys_write"}
		if strings.Join(s.Frames, ",") != strings.Join(want, ",") {
			t.Errorf("frames %v, want %v", s.Frames, want)
		}
		if a.StackAgreement == nil || !a.StackAgreement.Agree || a.StackAgreement.LogOnlyTop != 1 {
			t.Errorf("agreement %+v", a.StackAgreement)
		}
		for _, n := range a.Notes {
			t.Logf("note: %s", n)
		}
		return a
	}

	var fromMemory, fromText *oops.Analysis
	t.Run("engine", func(t *testing.T) {
		recs, vi := engineLog(t, name)
		facts := oops.Facts{Stack: unwound, CrashCPU: &task.cpu, CrashPID: &task.pid, CrashComm: task.comm}
		if vi != nil {
			facts.Release, _ = vi.Get("OSRELEASE")
			facts.BuildID, _ = vi.Get("BUILD-ID")
		}
		fromMemory = check(t, recs, facts)
		if fromMemory.Signature.Release != o.Sys["RELEASE"] {
			t.Errorf("release %q", fromMemory.Signature.Release)
		}
		if len(fromMemory.Notes) != 0 {
			t.Errorf("notes: %v", fromMemory.Notes)
		}
	})
	t.Run("vmcore-dmesg", func(t *testing.T) {
		recs := dmesgFile(t, filepath.Join(dumptest.KernelFixturesDir(t), name+".vmcore-dmesg.txt"))
		fromText = check(t, recs, oops.Facts{Stack: unwound})
	})
	if fromMemory != nil && fromText != nil && fromMemory.Signature.Hash != fromText.Signature.Hash {
		t.Errorf("hash from memory %s, from vmcore-dmesg %s", fromMemory.Signature.Hash, fromText.Signature.Hash)
	}
}

// TestFixtureStoppedNoPanic: the stopped guest has no panic, and the
// analysis must not invent one.
func TestFixtureStoppedNoPanic(t *testing.T) {
	const name = "stopped-mdf-zlib-d31.kdump"
	o := readOracle(t, name)
	if strings.Trim(o.Panic.String, `"`) != "" {
		t.Fatalf("oracle says panic %q", o.Panic.String)
	}
	for _, recs := range [][]model.LogRecord{
		func() []model.LogRecord { r, _ := engineLog(t, name); return r }(),
		dmesgFile(t, filepath.Join(dumptest.KernelFixturesDir(t), name+".vmcore-dmesg.txt")),
	} {
		a := oops.Analyze(recs, oops.Facts{})
		if a.Panicked || a.Verdict != "none" || a.Cause != nil || a.Signature != nil {
			t.Errorf("false positive: verdict %q panic %+v cause %v", a.Verdict, a.Panic, a.Cause)
		}
		if len(a.Reports) != 0 {
			t.Errorf("reports in a clean boot log: %+v", a.Reports)
		}
		if a.Lines < 300 {
			t.Errorf("only %d lines read", a.Lines)
		}
	}
}

// TestFixtureLogsNoFalsePositive: the tiny fixtures' logs (stopped
// guests, ../shared/fixtures) hold no report; the word "panic" on their
// command lines is not one.
func TestFixtureLogsNoFalsePositive(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(dumptest.ModuleRoot(t), "..", "shared", "fixtures", "*", "*.vmcore-dmesg.txt"))
	if len(paths) == 0 {
		t.Skip("no vmcore-dmesg.txt under ../shared/fixtures: skipping")
	}
	for _, p := range paths {
		a := oops.Analyze(dmesgFile(t, p), oops.Facts{})
		if a.Verdict != "none" || len(a.Reports) != 0 || a.Lines < 100 {
			t.Errorf("%s: verdict %q, %d reports, %d lines", p, a.Verdict, len(a.Reports), a.Lines)
		}
	}
}
