package kernel

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader/dumptest"
)

// The Debian 6.1 dumps of ../shared/kernel-fixtures against crash 8.0.2's
// and drgn 0.0.22's view with the matching debug vmlinux (README.md
// there): tasks, every task's stack, every CPU's stack, modules, and a
// structure.

var (
	debianMu     sync.Mutex
	debianKernel = map[string]*Kernel{}
)

// eachDebian runs fn in a subtest for every Debian kernel fixture, with
// its engine and crash's oracle.
func eachDebian(t *testing.T, fn func(t *testing.T, name string, k *Kernel, o crashOracle)) {
	for _, name := range dumptest.KernelFixtureNames {
		t.Run(name, func(t *testing.T) {
			k := openDebian(t, name)
			var o crashOracle
			dumptest.KernelOracle(t, name+".crash.json", &o)
			fn(t, name, k, o)
		})
	}
}

// openDebian opens a Debian dump once per test binary.
func openDebian(t testing.TB, name string) *Kernel {
	t.Helper()
	path := dumptest.KernelFixture(t, name)
	debianMu.Lock()
	defer debianMu.Unlock()
	if k := debianKernel[name]; k != nil {
		return k
	}
	d, err := open.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	debianKernel[name] = k
	return k
}

// crashOracle is the part of crash.json these tests compare with.
type crashOracle struct {
	Tasks []struct {
		PID          int64  `json:"pid"`
		PPID         int64  `json:"ppid"`
		CPU          int    `json:"cpu"`
		Task         string `json:"task"`
		State        string `json:"state"`
		Comm         string `json:"comm"`
		KernelThread bool   `json:"kernel_thread"`
		Active       bool   `json:"active"`
	} `json:"tasks"`
	Backtraces       []crashTrace `json:"backtraces"`
	BacktracesActive []crashTrace `json:"backtraces_active"`
	Modules          []struct {
		Name   string `json:"name"`
		Base   string `json:"base"`
		Size   uint64 `json:"size"`
		Module string `json:"module"`
	} `json:"modules"`
}

type crashTrace struct {
	PID    int64  `json:"pid"`
	CPU    int    `json:"cpu"`
	Task   string `json:"task"`
	Frames []struct {
		SP     string `json:"sp"`
		Symbol string `json:"symbol"`
		Offset uint64 `json:"offset"`
	} `json:"frames"`
	Exceptions []struct {
		AfterLevel int               `json:"after_level"`
		Regs       map[string]string `json:"regs"`
		RIPSymbol  string            `json:"rip_symbol"`
		RIPOffset  uint64            `json:"rip_offset"`
	} `json:"exceptions"`
	UserRegs map[string]string `json:"user_regs"`
}

type drgnOracle struct {
	Backtraces []struct {
		Task   string `json:"task"`
		Frames []struct {
			Inline bool   `json:"inline"`
			PC     string `json:"pc"`
			SymOff string `json:"sym_off"`
		} `json:"frames"`
	} `json:"backtraces"`
}

func hexOf(t testing.TB, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

// TestDebianTasks: ps equals crash's ps, task by task.
func TestDebianTasks(t *testing.T) {
	eachDebian(t, func(t *testing.T, name string, k *Kernel, o crashOracle) {
		tasks, err := k.Tasks(bg)
		if err != nil {
			t.Fatal(err)
		}
		got := map[uint64]model.Task{}
		for _, tk := range tasks {
			got[uint64(tk.Task)] = tk
		}
		if len(tasks) != len(o.Tasks) || len(got) != len(tasks) {
			t.Errorf("%d tasks (%d distinct), crash lists %d", len(tasks), len(got), len(o.Tasks))
		}
		for _, w := range o.Tasks {
			g, ok := got[hexOf(t, w.Task)]
			if !ok {
				t.Errorf("crash's task %s (pid %d %s) is missing", w.Task, w.PID, w.Comm)
				continue
			}
			want := fmt.Sprintf("pid %d ppid %d cpu %d %s %q kthread %v active %v", w.PID, w.PPID, w.CPU, w.State, w.Comm, w.KernelThread, w.Active)
			have := fmt.Sprintf("pid %d ppid %d cpu %d %s %q kthread %v active %v", g.PID, g.PPID, g.CPU, g.State, g.Comm, g.KernelThread, g.Active)
			if have != want {
				t.Errorf("task %s: %s, crash says %s", w.Task, have, want)
			}
		}
		one, err := k.TasksByPID(bg, 1)
		if err != nil || len(one) != 1 || one[0].Comm != "init" {
			t.Errorf("pid 1: %+v, %v", one, err)
		}
		if _, err := k.TasksByPID(bg, 99999); err == nil {
			t.Error("pid 99999 found")
		}
	})
}

// frameName is a frame as crash names it: "name+0x3c".
func frameName(f model.Frame) string {
	if f.Symbol == "" {
		return f.PC.String()
	}
	return fmt.Sprintf("%s+%#x", f.Symbol, f.Offset)
}

// compareTrace checks our reliable frames against crash's trace: an
// in-order subsequence (crash also lists stale return addresses) that
// keeps crash's first frame and its last kernel frame, at the stack
// slots crash read them from; and the user registers.
func compareTrace(t *testing.T, what string, bt *model.Backtrace, ct *crashTrace) {
	t.Helper()
	type cf struct {
		name string
		sp   uint64
	}
	var want []cf
	for _, e := range ct.Exceptions {
		if e.AfterLevel == -1 { // the interrupted context crash starts from
			want = append(want, cf{fmt.Sprintf("%s+%#x", e.RIPSymbol, e.RIPOffset), hexOf(t, e.Regs["RSP"])})
		}
	}
	for _, f := range ct.Frames {
		want = append(want, cf{fmt.Sprintf("%s+%#x", f.Symbol, f.Offset), hexOf(t, f.SP)})
	}
	var rel []model.Frame
	for _, f := range bt.Frames {
		if !f.Reliable {
			break
		}
		rel = append(rel, f)
	}
	if len(rel) == 0 || len(want) == 0 {
		t.Errorf("%s: %d reliable frames, crash has %d (%s %s)", what, len(rel), len(want), bt.End, bt.Error)
		return
	}
	j := 0
	for i, f := range rel {
		name := frameName(f)
		for j < len(want) && want[j].name != name {
			j++
		}
		if j == len(want) {
			t.Errorf("%s: frame %d %s is not in crash's trace %v (in order)", what, i, name, want)
			return
		}
		slot := uint64(f.SP)
		if f.Slot != nil && f.ReturnAddress {
			slot = uint64(*f.Slot)
		}
		// crash shows a sleeping task's first frame at thread.sp, below
		// the ret_addr slot of its inactive_task_frame.
		if f.How == "task-frame" && want[j].sp < slot && slot-want[j].sp < 64*8 {
			slot = want[j].sp
		}
		if slot != want[j].sp {
			t.Errorf("%s: frame %d %s at %#x, crash has it at %#x", what, i, name, slot, want[j].sp)
		}
		if i == 0 && j != 0 {
			t.Errorf("%s: first frame %s, crash's is %s", what, name, want[0].name)
		}
		j++
	}
	if last := frameName(rel[len(rel)-1]); last != want[len(want)-1].name {
		t.Errorf("%s: last reliable frame %s, crash's last kernel frame is %s", what, last, want[len(want)-1].name)
	}
	if ct.UserRegs != nil {
		if bt.UserRegs == nil || uint64(bt.UserRegs.Registers["rip"]) != hexOf(t, ct.UserRegs["RIP"]) || uint64(bt.UserRegs.Registers["rsp"]) != hexOf(t, ct.UserRegs["RSP"]) {
			t.Errorf("%s: user registers %+v, crash has %v", what, bt.UserRegs, ct.UserRegs)
		}
	}
}

// TestDebianBacktraces: every task's stack (crash's foreach bt) and every
// CPU's (crash's bt -a).
func TestDebianBacktraces(t *testing.T) {
	eachDebian(t, func(t *testing.T, name string, k *Kernel, o crashOracle) {
		bts, err := k.Backtraces(bg)
		if err != nil {
			t.Fatal(err)
		}
		byTask := map[uint64]*model.Backtrace{}
		for i := range bts {
			byTask[uint64(*bts[i].Task)] = &bts[i]
		}
		for i := range o.Backtraces {
			ct := &o.Backtraces[i]
			bt := byTask[hexOf(t, ct.Task)]
			if bt == nil {
				t.Errorf("no trace of task %s (pid %d)", ct.Task, ct.PID)
				continue
			}
			compareTrace(t, fmt.Sprintf("pid %d (%s)", ct.PID, ct.Task), bt, ct)
		}
		if len(o.Backtraces) != len(bts) {
			t.Errorf("%d traces, crash has %d", len(bts), len(o.Backtraces))
		}
		for i := range o.BacktracesActive {
			ct := &o.BacktracesActive[i]
			bt, err := k.CPUBacktrace(bg, ct.CPU)
			if err != nil {
				t.Errorf("CPU %d: %v", ct.CPU, err)
				continue
			}
			if bt.Task == nil || uint64(*bt.Task) != hexOf(t, ct.Task) {
				t.Errorf("CPU %d runs %v, crash says %s", ct.CPU, bt.Task, ct.Task)
			}
			compareTrace(t, fmt.Sprintf("CPU %d", ct.CPU), bt, ct)
		}
		logDisagreements(t, name, bts, &o)
	})
}

// logDisagreements lists the tasks whose reliable trace is neither
// crash's (names and offsets, in order) nor drgn's (its non-inline
// frames), for the report.
func logDisagreements(t *testing.T, name string, bts []model.Backtrace, o *crashOracle) {
	var d drgnOracle
	dumptest.KernelOracle(t, name+".drgn.json", &d)
	crash := map[string][]string{}
	for _, ct := range o.Backtraces {
		var l []string
		for _, e := range ct.Exceptions {
			if e.AfterLevel == -1 {
				l = append(l, fmt.Sprintf("%s+%#x", e.RIPSymbol, e.RIPOffset))
			}
		}
		for _, f := range ct.Frames {
			l = append(l, fmt.Sprintf("%s+%#x", f.Symbol, f.Offset))
		}
		crash[ct.Task] = l
	}
	drgn := map[string][]string{}
	for _, dt := range d.Backtraces {
		var l []string
		for _, f := range dt.Frames {
			if !f.Inline {
				l = append(l, f.SymOff)
			}
		}
		drgn[dt.Task] = l
	}
	both := 0
	for _, bt := range bts {
		var ours []string
		for _, f := range bt.Frames {
			if f.Reliable {
				ours = append(ours, frameName(f))
			}
		}
		task := bt.Task.String()
		c, dr := strings.Join(crash[task], " "), strings.Join(drgn[task], " ")
		if o := strings.Join(ours, " "); o != c && o != dr {
			both++
			t.Logf("pid %d %s differs from both:\n  ours:  %s\n  crash: %s\n  drgn:  %s", *bt.PID, bt.Comm, o, c, dr)
		}
	}
	t.Logf("%d of %d tasks differ from both crash and drgn", both, len(bts))
}

// TestDebianModules: modules equal crash's mod; the module's symbols,
// ORC table and BTF are found.
func TestDebianModules(t *testing.T) {
	eachDebian(t, func(t *testing.T, name string, k *Kernel, o crashOracle) {
		mods, err := k.Modules(bg)
		if err != nil {
			t.Fatal(err)
		}
		if len(mods) != len(o.Modules) {
			t.Fatalf("%d modules, crash has %d", len(mods), len(o.Modules))
		}
		for i, w := range o.Modules {
			g := mods[i]
			if g.Name != w.Name || uint64(g.Base) != hexOf(t, w.Base) || g.Size != w.Size || uint64(g.Module) != hexOf(t, w.Module) {
				t.Errorf("module %d: %s base %s size %d at %s; crash: %s %s %d %s", i, g.Name, g.Base, g.Size, g.Module, w.Name, w.Base, w.Size, w.Module)
			}
			if g.State != "live" || g.Symbols == 0 || g.ORCEntries == 0 || !g.BTF {
				t.Errorf("module %s: state %s, %d symbols, %d ORC entries, BTF %v", g.Name, g.State, g.Symbols, g.ORCEntries, g.BTF)
			}
			// An address inside the module names its symbol and module.
			r, ok := k.Symbolize(bg, uint64(g.Base)+0x10)
			if !ok || r.Module != g.Name || !strings.HasSuffix(r.String(), " ["+g.Name+"]") {
				t.Errorf("module text %#x: %s %v", uint64(g.Base)+0x10, r, ok)
			}
		}
	})
}

// TestDebianStruct: struct task_struct at init_task shows comm
// "swapper/0"; a member path shows only the member; a module's type is
// found in its split BTF.
func TestDebianStruct(t *testing.T) {
	k := openDebian(t, dumptest.KernelFixtureNames[1])
	syms, err := k.Symbols(bg)
	if err != nil {
		t.Fatal(err)
	}
	init, _ := syms.addrOf("init_task")
	s, err := k.Struct(bg, "task_struct", init, StructOptions{Depth: 2})
	if err != nil {
		t.Fatal(err)
	}
	comm := ""
	for _, c := range s.Value.Children {
		if c.Name == "comm" {
			comm = c.Value
		}
	}
	if s.Type != "struct task_struct" || comm != `"swapper/0"` {
		t.Errorf("%s: comm %s", s.Type, comm)
	}
	m, err := k.Struct(bg, "struct task_struct.comm", init, StructOptions{})
	if err != nil || m.Value.Value != `"swapper/0"` || m.Value.Name != "comm" {
		t.Errorf("task_struct.comm: %+v %v", m, err)
	}
	p, err := k.Struct(bg, "task_struct.parent", init, StructOptions{})
	if err != nil || !strings.Contains(p.Value.Value, "init_task") {
		t.Errorf("task_struct.parent: %+v %v", p, err)
	}
	mods, _ := k.Modules(bg)
	if len(mods) > 0 {
		// struct fw_cfg_sysfs_entry is defined by qemu_fw_cfg only.
		f, err := k.Struct(bg, "fw_cfg_sysfs_entry", uint64(mods[0].Base), StructOptions{Depth: 1})
		if err != nil || f.From != mods[0].Name {
			t.Errorf("a module's type: %+v %v", f, err)
		}
	}
	for _, bad := range []string{"no_such_type", "task_struct.no_such_member", "struct", "task_struct *"} {
		if _, err := k.Struct(bg, bad, init, StructOptions{}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestDebianPanicCPU: the panic dump names CPU 1 through panic_cpu; the
// stopped dump names none.
func TestDebianPanicCPU(t *testing.T) {
	for i, name := range dumptest.KernelFixtureNames {
		k := openDebian(t, name)
		cpu, why, ok := k.PanicCPU(bg)
		if wantOK := i == 1; ok != wantOK || ok && cpu != 1 {
			t.Errorf("%s: CPU %d (%s) %v", name, cpu, why, ok)
		}
	}
}

// TestTinyKernelsFramePointers: the tiny 6.1 guests of ../shared/fixtures
// have no BTF and were built with frame pointers: every CPU unwinds along
// its bp chain to the end of its stack, and what needs types says which
// option was missing.
func TestTinyKernelsFramePointers(t *testing.T) {
	for _, names := range [][]string{
		{"x86_64/qemu-elf-paging.vmcore"},
		{"i386/mdf-zlib-d31-split1.kdump", "i386/mdf-zlib-d31-split2.kdump"},
	} {
		t.Run(names[0], func(t *testing.T) {
			k := openKernel(t, names...)
			for _, cpu := range k.cpuIndexes() {
				bt, err := k.CPUBacktrace(bg, cpu)
				if err != nil {
					t.Fatalf("CPU %d: %v", cpu, err)
				}
				var names []string
				for _, f := range bt.Frames {
					names = append(names, frameName(f)+"("+f.How+")")
				}
				t.Logf("CPU %d: %s, end %s: %s", cpu, bt.Method, bt.End, strings.Join(names, " "))
				if bt.Method != "frame-pointer" || len(bt.Frames) < 3 || bt.End != "end-of-stack" && bt.End != "user-mode" {
					t.Errorf("CPU %d: %s, %d frames, end %s %s", cpu, bt.Method, len(bt.Frames), bt.End, bt.Error)
				}
				for _, f := range bt.Frames {
					if !f.Reliable || f.Symbol == "" {
						t.Errorf("CPU %d: frame %d %s reliable %v", cpu, f.Level, f.Location, f.Reliable)
					}
				}
				// A system call's user registers: user code and stack
				// segments (RPL 3), read at the exact top of the stack
				// (TOP_OF_KERNEL_STACK_PADDING from the TSS on i386).
				if bt.End == "user-mode" {
					r := bt.UserRegs.Registers
					if r["cs"]&3 != 3 || r["ss"]&3 != 3 || !strings.HasPrefix(bt.Frames[len(bt.Frames)-1].Symbol, "entry_") {
						t.Errorf("CPU %d: user registers %v after %s", cpu, r, bt.Frames[len(bt.Frames)-1].Location)
					}
				}
			}
			for _, fn := range []func() error{
				func() error { _, err := k.Tasks(bg); return err },
				func() error { _, err := k.Modules(bg); return err },
				func() error { _, err := k.Struct(bg, "task_struct", 0, StructOptions{}); return err },
			} {
				err := fn()
				if err == nil || !strings.Contains(err.Error(), "CONFIG_DEBUG_INFO_BTF") || !errorsIsNotFound(err) {
					t.Errorf("without BTF: %v", err)
				}
			}
		})
	}
}

func errorsIsNotFound(err error) bool { return isNotFound(err) }
