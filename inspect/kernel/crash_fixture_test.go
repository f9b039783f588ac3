package kernel

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader/dumptest"
)

// The crash analysis on the two real Debian 6.1 dumps of
// ../shared/kernel-fixtures, against what crash says of them (crash.json:
// `sys` PANIC, the panic task, the active task on each CPU).

type crashPanicOracle struct {
	Sys   map[string]string `json:"sys"`
	Panic struct {
		String string `json:"string"`
	} `json:"panic"`
	PanicTask   string `json:"panic_task_from_dumpfile"`
	ActiveTasks []struct {
		CPU  int    `json:"cpu"`
		PID  int64  `json:"pid"`
		Comm string `json:"comm"`
		Task string `json:"task"`
	} `json:"active_tasks"`
}

func kernelFixtureEngine(t *testing.T, name string) (*Kernel, crashPanicOracle) {
	t.Helper()
	d, err := open.Open(dumptest.KernelFixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	k, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	var o crashPanicOracle
	b, err := os.ReadFile(filepath.Join(dumptest.KernelFixturesDir(t), name+".crash.json"))
	if err != nil {
		t.Skipf("%v: skipping", err)
	}
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return k, o
}

// TestFixtureCrashPanic: class, panic message, CPU, task and guilty frame
// of the sysrq panic equal crash's; memory agrees with the log.
func TestFixtureCrashPanic(t *testing.T) {
	k, o := kernelFixtureEngine(t, "panic-sysrq-mdf-zlib-d31.kdump")
	a, err := k.Crash(bg)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimPrefix(strings.Trim(o.Sys["PANIC"], `"`), "Kernel panic - not syncing: ")
	w := a.Why
	if w.Verdict != model.CrashPanic || w.PanicMessage != want || w.PanicMessageFrom != "log and memory" || w.Class != "sysrq-crash" {
		t.Errorf("why: %+v, crash says %q", w, o.Sys["PANIC"])
	}
	if w.Signature == nil || w.Signature.GuiltyFrame != "sysrq_handle_crash" || w.Signature.Release != o.Sys["RELEASE"] {
		t.Errorf("signature %+v", w.Signature)
	}
	var panicTask = -1
	for i, at := range o.ActiveTasks {
		if at.Task == o.PanicTask {
			panicTask = i
		}
	}
	if panicTask < 0 {
		t.Fatalf("the oracle names no panic task among %+v", o.ActiveTasks)
	}
	at := o.ActiveTasks[panicTask]
	wh := a.Where
	if wh.CPU == nil || *wh.CPU != at.CPU || wh.PID == nil || *wh.PID != at.PID || wh.Comm != at.Comm || wh.Task == nil || wh.Task.String() != at.Task {
		t.Errorf("where: cpu %v pid %v comm %q task %v; crash says %+v", ptrStr(wh.CPU), ptrStr(wh.PID), wh.Comm, wh.Task, at)
	}
	if wh.GuiltyFrame != "sysrq_handle_crash" || len(wh.Trace) == 0 || len(wh.StackScan) == 0 {
		t.Errorf("guilty %q, %d trace frames, %d stack words", wh.GuiltyFrame, len(wh.Trace), len(wh.StackScan))
	}
	m := a.Memory
	if m.PanicCPU == nil || *m.PanicCPU != at.CPU || m.CrashingCPU == nil || *m.CrashingCPU != at.CPU || m.PanicMessage != want {
		t.Errorf("memory: panic_cpu %v crashing_cpu %v message %q", ptrStr(m.PanicCPU), ptrStr(m.CrashingCPU), m.PanicMessage)
	}
	if m.KdumpLoaded == nil || !*m.KdumpLoaded || m.Taint == nil || m.Taint.Text != "Not tainted" || m.DieCounter == nil || *m.DieCounter != 0 {
		t.Errorf("memory: %+v", m)
	}
	// Every CPU's task_struct, as crash's active tasks say.
	for _, at := range o.ActiveTasks {
		found := false
		for _, mt := range m.Tasks {
			if mt.CPU == at.CPU {
				found = mt.Task != nil && mt.Task.String() == at.Task && mt.PID != nil && *mt.PID == at.PID
			}
		}
		if !found {
			t.Errorf("CPU %d: memory's tasks %+v, crash says %+v", at.CPU, m.Tasks, at)
		}
	}
	if len(a.Notes) != 0 || len(a.Problems) != 0 {
		t.Errorf("notes %v problems %v", a.Notes, a.Problems)
	}
	if len(a.Reports) != 1 || !a.Reports[0].Cause || !a.Reports[0].Panic || len(a.Excerpt) < 10 ||
		!strings.HasPrefix(a.Excerpt[0].Text, "sysrq: Trigger a crash") {
		t.Errorf("reports %+v, excerpt %d records", a.Reports, len(a.Excerpt))
	}
	if cpu := k.CrashCPU(bg); cpu == nil || *cpu != at.CPU {
		t.Errorf("CrashCPU %v", ptrStr(cpu))
	}
}

// TestFixtureCrashStopped: the stopped guest has no panic, says so, and
// names the task on each CPU as crash does.
func TestFixtureCrashStopped(t *testing.T) {
	k, o := kernelFixtureEngine(t, "stopped-mdf-zlib-d31.kdump")
	if strings.Trim(o.Panic.String, `"`) != "" {
		t.Fatalf("the oracle says panic %q", o.Panic.String)
	}
	a, err := k.Crash(bg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Why.Verdict != model.CrashNone || a.Why.Signature != nil || a.Why.PanicMessage != "" || a.Where.CPU != nil || len(a.Reports) != 0 {
		t.Errorf("why %+v where cpu %v", a.Why, ptrStr(a.Where.CPU))
	}
	if !strings.Contains(a.Where.CPUFrom, "nothing crashed") || !strings.Contains(a.Where.CPUFrom, "QEMU") {
		t.Errorf("cpu from %q", a.Where.CPUFrom)
	}
	if a.Memory.PanicCPU != nil || a.Memory.CrashingCPU != nil || a.Memory.PanicMessage != "" || a.Memory.KdumpLoaded == nil || *a.Memory.KdumpLoaded {
		t.Errorf("memory %+v", a.Memory)
	}
	for _, at := range o.ActiveTasks {
		ok := false
		for _, mt := range a.Memory.Tasks {
			// QEMU's prstatus pids are CPU numbers: none is taken from
			// there; the task's own pid (read through BTF) is crash's.
			ok = ok || (mt.CPU == at.CPU && mt.Task != nil && mt.Task.String() == at.Task &&
				(mt.PID == nil || *mt.PID == at.PID))
		}
		if !ok {
			t.Errorf("CPU %d: memory's tasks %+v, crash says %+v", at.CPU, a.Memory.Tasks, at)
		}
	}
}

func ptrStr[T any](p *T) any {
	if p == nil {
		return "nil"
	}
	return *p
}
