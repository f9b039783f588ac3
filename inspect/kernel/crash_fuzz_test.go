package kernel

import (
	"strings"
	"testing"

	"dumpscope/model"
)

// FuzzCrash feeds the crash analysis a synthetic kernel (crash_test.go)
// whose variables (panic_cpu, crashing_cpu, the per-CPU offsets and
// current_task pointers, panic()'s buffer, tainted_mask) are replaced by
// hostile bytes and whose log is hostile text: it must give a result,
// never panic, hang or allocate without bound, and what it reports must
// stay within what memory can justify.
func FuzzCrash(f *testing.F) {
	base := synthBoot{name: "fuzz", physBase: 0x1000000, pageOffset: pageOffsetL4, panicCPU: 1, crashingCPU: 1,
		taint: 1 << 9, panicBuf: "Fatal exception", pids: [2]int32{0, 7}, crashRIP: [2]bool{false, true}}
	mem, _, _ := synthMemory(f, base)
	vars := mem.snapshot(synthVars-startKernelMap+base.physBase, 0x2600)
	f.Add(vars, strings.Join(moduleOops("bar_walk_table", 0xffffa1b2c3d4e000, 1, 7, 0x1e000000), "\n"))
	f.Add(vars, "Kernel panic - not syncing: sysrq triggered crash\nCPU: 5 PID: 1 Comm: init Not tainted 6.1.0 #1")
	f.Add(make([]byte, 0x2600), "")
	f.Fuzz(func(t *testing.T, vars []byte, log string) {
		if len(vars) > 0x2600 || len(log) > 16<<10 {
			return
		}
		b := base
		b.log = strings.Split(log, "\n")
		if len(b.log) > 200 {
			return
		}
		mem, vmci, cpus := synthMemory(t, b)
		mem.write(synthVars-startKernelMap+b.physBase, vars)
		var regs []model.RegisterSet
		for cpu, c := range cpus {
			pid := int64(c[0])
			regs = append(regs, model.RegisterSet{CPU: cpu, Source: model.SourcePrstatus, Arch: "x86_64", PID: &pid,
				Registers: []model.Register{{Name: "rip", Value: c[1]}, {Name: "rsp", Value: c[2]}}})
		}
		k := testKernel("x86_64", vmci, mem, 64<<20, regs...)
		a, err := k.Crash(bg)
		if err != nil {
			t.Fatal(err)
		}
		m := a.Memory
		for _, p := range []*int{m.PanicCPU, m.CrashingCPU, a.Where.CPU} {
			if p != nil && (*p < 0 || *p >= maxCPUs) {
				t.Fatalf("CPU %d", *p)
			}
		}
		if len(m.PanicMessage) > panicBufSize || len(a.Excerpt) > model.MaxCrashExcerpt || len(m.Tasks) > 2 {
			t.Fatalf("memory %+v, %d excerpt records", m, len(a.Excerpt))
		}
		for _, tk := range m.Tasks {
			if tk.Task != nil && !k.kernelAddr(uint64(*tk.Task)) {
				t.Fatalf("task %s is not a kernel address", tk.Task)
			}
		}
		if (a.Why.Signature != nil) != (a.Why.Verdict == model.CrashPanic || a.Why.Verdict == model.CrashOops) && a.Why.PanicMessageFrom != "memory" {
			t.Fatalf("verdict %q with signature %v", a.Why.Verdict, a.Why.Signature)
		}
	})
}
