package unwind_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"dumpscope/inspect/kernel"
	. "dumpscope/inspect/unwind"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// Real dumps: the two Debian 6.1 kdumps of ../shared/kernel-fixtures (ORC,
// KASLR) against crash's and drgn's traces, and the tiny frame-pointer
// kernels of ../shared/fixtures.

// kernelFixture returns a decompressed Debian dump, or skips when the
// folder is absent.
func kernelFixture(t testing.TB, name string) string { return dumptest.KernelFixture(t, name) }

// kallsymsText is Text from the kernel's kallsyms: text symbols.
type kallsymsText struct{ s *kernel.Symbols }

func (t kallsymsText) FuncStart(pc uint64) (uint64, bool) {
	r, ok := t.s.Addr(pc)
	if !ok {
		return 0, false
	}
	switch r.Symbol.Type {
	case "t", "T", "w", "W":
		return uint64(r.Symbol.Addr), true
	}
	return 0, false
}

// dumpKernel is an opened dump with what the tests need.
type dumpKernel struct {
	d    reader.Dump
	k    *kernel.Kernel
	syms *kernel.Symbols
}

func openDump(t testing.TB, paths ...string) *dumpKernel {
	t.Helper()
	d, err := open.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	k, err := kernel.New(d)
	if err != nil {
		t.Fatal(err)
	}
	syms, err := k.Symbols(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &dumpKernel{d: d, k: k, syms: syms}
}

func (dk *dumpKernel) addr(t testing.TB, name string) uint64 {
	t.Helper()
	s := dk.syms.Lookup(name)
	if len(s) == 0 {
		t.Fatalf("no symbol %s", name)
	}
	return uint64(s[0].Addr)
}

func (dk *dumpKernel) has(name string) bool { return len(dk.syms.Lookup(name)) > 0 }

func (dk *dumpKernel) word(t testing.TB, va uint64, size int) uint64 {
	t.Helper()
	b := make([]byte, 8)
	if err := dk.k.ReadVirt(context.Background(), model.VirtAddr(va), b[:size]); err != nil {
		t.Fatalf("read %#x: %v", va, err)
	}
	return binary.LittleEndian.Uint64(b)
}

func (dk *dumpKernel) sym(pc uint64) string {
	r, ok := dk.syms.Addr(pc)
	if !ok {
		return fmt.Sprintf("%#x", pc)
	}
	return fmt.Sprintf("%s+%#x", r.Symbol.Name, r.Offset)
}

// vmlinuxORC reads vmlinux's table through the engine.
func (dk *dumpKernel) vmlinuxORC(t testing.TB) *ORC {
	t.Helper()
	s := VmlinuxSymbols{StartIP: dk.addr(t, "__start_orc_unwind_ip"), StopIP: dk.addr(t, "__stop_orc_unwind_ip"),
		StartUnwind: dk.addr(t, "__start_orc_unwind"), StopUnwind: dk.addr(t, "__stop_orc_unwind")}
	if dk.has("orc_fp_entry") {
		s.FPEntry = dk.addr(t, "orc_fp_entry")
	}
	if dk.has("__start_orc_header") {
		s.Header = dk.addr(t, "__start_orc_header")
	}
	tab, det, err := ReadVmlinux(kernelMem{dk.k}, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("vmlinux ORC: %d entries, layout %v (%s)", tab.Len(), tab.Layout, strings.Join(det.Reasons, "; "))
	return NewORC(tab)
}

// cpuStacks describes a CPU's stacks from per-CPU variables, as the lead's
// engine will (6.1 names; THREAD_SIZE from init_stack's size):
// cpu_current_top_of_stack, hardirq_stack_ptr, and on x86_64 the TSS's
// IST slots and sp0 (cpu_tss_rw) with EXCEPTION_STKSZ from
// cea_exception_stacks.
func (dk *dumpKernel) cpuStacks(t testing.TB, cpu int, word int) StackSet {
	t.Helper()
	threadSize := dk.syms.Lookup("init_stack")[0].Size
	off := dk.word(t, dk.addr(t, "__per_cpu_offset")+uint64(word*cpu), word)
	perCPU := func(name string) uint64 { return dk.word(t, off+dk.addr(t, name), word) }
	top := perCPU("cpu_current_top_of_stack")
	st := StackSet{{StackTask, top - threadSize, top}}
	irq := perCPU("hardirq_stack_ptr")
	if word == 4 {
		// i386: hardirq_stack_ptr points at struct irq_stack, the bottom.
		st = append(st, Stack{StackIRQ, irq, irq + threadSize})
		if dk.has("softirq_stack_ptr") {
			soft := perCPU("softirq_stack_ptr")
			st = append(st, Stack{StackSoftIRQ, soft, soft + threadSize})
		}
		return st
	}
	st = append(st, Stack{StackIRQ, irq + 8 - threadSize, irq + 8})
	tss := off + dk.addr(t, "cpu_tss_rw")
	sp0 := dk.word(t, tss+4, 8)
	st = append(st, Stack{StackEntry, sp0 - 4096, sp0})
	if dk.has("cea_exception_stacks") {
		estacks := perCPU("cea_exception_stacks")
		ist0 := dk.word(t, tss+36, 8)
		size := ist0 - (estacks + 4096)
		for i, k := range []StackKind{StackDF, StackNMI, StackDB, StackMCE, StackVC} {
			top := dk.word(t, tss+36+8*uint64(i), 8)
			st = append(st, Stack{k, top - size, top})
		}
	}
	return st
}

// crashTrace is one trace of crash.json's backtraces_active.
type crashTrace struct {
	CPU    int    `json:"cpu"`
	Task   string `json:"task"`
	Frames []struct {
		SP     string `json:"sp"`
		SymOff string `json:"sym_off"`
	} `json:"frames"`
	Exceptions []struct {
		AfterLevel int               `json:"after_level"`
		Regs       map[string]string `json:"regs"`
		RIPSymbol  string            `json:"rip_symbol"`
		RIPOffset  int               `json:"rip_offset"`
	} `json:"exceptions"`
	UserRegs map[string]string `json:"user_regs"`
}

type drgnTrace struct {
	Task   string `json:"task"`
	Frames []struct {
		Inline bool   `json:"inline"`
		PC     string `json:"pc"`
	} `json:"frames"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("oracle %s: %v", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func hexVal(s string) uint64 {
	v, _ := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	return v
}

// Every CPU of both Debian dumps, from its prstatus registers: the
// reliable frames must be an in-order subsequence of crash's bt -a (which
// also lists stale return addresses) keeping its first frame and its last
// kernel frame, at the same stack slots; drgn's non-inline frames must
// appear in order too.
func TestDebianCPUsAgainstCrashAndDrgn(t *testing.T) {
	for _, name := range []string{"panic-sysrq-mdf-zlib-d31.kdump", "stopped-mdf-zlib-d31.kdump"} {
		t.Run(name, func(t *testing.T) {
			path := kernelFixture(t, name)
			dir := filepath.Dir(filepath.Join(dumptest.ModuleRoot(t), "..", "shared", "kernel-fixtures", "debian-amd64", name))
			var crash struct {
				Active []crashTrace `json:"backtraces_active"`
			}
			var drgn struct {
				Backtraces []drgnTrace `json:"backtraces"`
			}
			readJSON(t, filepath.Join(dir, name+".crash.json"), &crash)
			readJSON(t, filepath.Join(dir, name+".drgn.json"), &drgn)
			dk := openDump(t, path)
			u, err := New(Config{Mem: kernelMem{dk.k}, ORC: dk.vmlinuxORC(t), Text: kallsymsText{dk.syms}})
			if err != nil {
				t.Fatal(err)
			}
			crashKexec := dk.addr(t, "__crash_kexec")
			regs, err := dk.d.Registers()
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, rs := range regs {
				if rs.Source != "prstatus" {
					continue
				}
				r := RegsFromNames(rs.Get)
				saved := SavedInterrupted
				if fn, ok := (kallsymsText{dk.syms}).FuncStart(r.IP); ok && fn == crashKexec {
					saved = SavedByCode // the panicking CPU: crash_setup_regs in __crash_kexec
				}
				tr := u.CPU(r, dk.cpuStacks(t, rs.CPU, 8), saved)
				var ct *crashTrace
				for i := range crash.Active {
					if crash.Active[i].CPU == rs.CPU {
						ct = &crash.Active[i]
					}
				}
				if ct == nil {
					t.Fatalf("crash has no trace of CPU %d", rs.CPU)
				}
				compareCrash(t, dk, rs.CPU, tr, ct)
				for _, dt := range drgn.Backtraces {
					if dt.Task == ct.Task {
						compareDrgn(t, dk, rs.CPU, tr, r, dt)
					}
				}
				checked++
			}
			if checked != len(crash.Active) {
				t.Errorf("%d CPUs unwound, crash has %d", checked, len(crash.Active))
			}
		})
	}
}

func compareCrash(t *testing.T, dk *dumpKernel, cpu int, tr *Trace, ct *crashTrace) {
	t.Helper()
	type cf struct {
		name string
		sp   uint64
	}
	var want []cf
	// crash prints the interrupted context it starts from as an
	// exception frame before frame 0 (after_level -1).
	for _, e := range ct.Exceptions {
		if e.AfterLevel == -1 {
			want = append(want, cf{fmt.Sprintf("%s+%#x", e.RIPSymbol, e.RIPOffset), hexVal(e.Regs["RSP"])})
		}
	}
	for _, f := range ct.Frames {
		want = append(want, cf{f.SymOff, hexVal(f.SP)})
	}
	var got []string
	for _, f := range tr.Frames {
		got = append(got, fmt.Sprintf("%s(%s)", dk.sym(f.PC), f.How))
	}
	t.Logf("CPU %d: %s, %d frames, end %v %v\n  ours:  %s\n  crash: %v\n  notes: %q", cpu, tr.Method, len(tr.Frames), tr.End, tr.Err, strings.Join(got, " "), want, tr.Notes)
	rel := tr.Reliable()
	if len(rel) == 0 {
		t.Errorf("CPU %d: no reliable frame", cpu)
		return
	}
	j := 0
	for i, f := range rel {
		name := dk.sym(f.PC)
		for j < len(want) && want[j].name != name {
			j++
		}
		if j == len(want) {
			t.Errorf("CPU %d: frame %d %s is not in crash's trace (in order)", cpu, i, name)
			return
		}
		// crash prints where it read a return address, a pt_regs' sp for
		// an interrupted context, and thread.sp for a sleeping task's
		// first frame (ours: the ret_addr slot above it).
		slot := f.Slot
		if !f.Call {
			slot = f.SP
		}
		if f.How == FromTaskFrame && want[j].sp < slot && slot-want[j].sp < 64*8 {
			slot = want[j].sp
		}
		if slot != want[j].sp {
			t.Errorf("CPU %d: frame %d %s at %#x, crash has it at %#x", cpu, i, name, slot, want[j].sp)
		}
		if i == 0 && j != 0 {
			t.Errorf("CPU %d: first frame %s, crash's is %s", cpu, name, want[0].name)
		}
		j++
	}
	if last := dk.sym(rel[len(rel)-1].PC); last != want[len(want)-1].name {
		t.Errorf("CPU %d: last reliable frame %s, crash's last kernel frame is %s", cpu, last, want[len(want)-1].name)
	}
	if ct.UserRegs != nil {
		if tr.UserRegs == nil || tr.UserRegs.Regs.IP != hexVal(ct.UserRegs["RIP"]) || tr.UserRegs.Regs.SP != hexVal(ct.UserRegs["RSP"]) {
			t.Errorf("CPU %d: user regs %+v, crash has %v", cpu, tr.UserRegs, ct.UserRegs)
		}
	}
}

// compareDrgn checks drgn 0.0.22's non-inline kernel frames against ours:
// each pc in order; drgn's frame 0 may be the saved ip our trace shows as
// the later call (SavedByCode). drgn unwinds a running task from its
// stale thread.sp when it cannot use the registers, which gives non-code
// pcs: those traces are skipped.
func compareDrgn(t *testing.T, dk *dumpKernel, cpu int, tr *Trace, r Regs, dt drgnTrace) {
	t.Helper()
	ours := map[uint64]int{}
	for i, f := range tr.Frames {
		if _, ok := ours[f.PC]; !ok {
			ours[f.PC] = i
		}
	}
	text := kallsymsText{dk.syms}
	last, first := -1, true
	for i, f := range dt.Frames {
		pc := hexVal(f.PC)
		if f.Inline || pc < 0xffff800000000000 {
			continue
		}
		if _, ok := text.FuncStart(pc); !ok {
			t.Logf("CPU %d: drgn's frame %d pc %#x is not code (drgn 0.0.22 unwound the running task from thread.sp): skipped", cpu, i, pc)
			return
		}
		at, ok := ours[pc]
		if !ok && first && pc == r.IP {
			first = false
			continue
		}
		first = false
		if !ok || at <= last {
			t.Errorf("CPU %d: drgn's frame %d %s is not in our trace in order", cpu, i, dk.sym(pc))
			return
		}
		last = at
	}
}

// kernelMem is the engine's virtual memory as the unwinder reads it.
type kernelMem struct{ k *kernel.Kernel }

func (m kernelMem) ReadVirt(va uint64, p []byte) error {
	return m.k.ReadVirt(context.Background(), model.VirtAddr(va), p)
}
