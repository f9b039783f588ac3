package btf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	. "dumpscope/inspect/btf"
	"dumpscope/model"
)

// cString reads a NUL-terminated string of at most n bytes.
func (kb *kernelBTF) cString(t testing.TB, va uint64, n int) string {
	t.Helper()
	b := make([]byte, n)
	if err := kb.read(va, b); err != nil {
		t.Fatalf("reading %#x: %v", va, err)
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func (kb *kernelBTF) u32(t testing.TB, va uint64) uint32 {
	t.Helper()
	var b [4]byte
	if err := kb.read(va, b[:]); err != nil {
		t.Fatalf("reading %#x: %v", va, err)
	}
	return binary.LittleEndian.Uint32(b[:])
}

// TestRealTaskList reads init_task's comm through task_struct.comm and
// walks init_task.tasks, checking every task reached (comm, pid, parent's
// pid) against crash's ps.
func TestRealTaskList(t *testing.T) {
	for _, name := range kernelFixtureNames {
		t.Run(name, func(t *testing.T) {
			kb := openKernelBTF(t, name)
			s := kb.spec
			if s.ByteOrder != binary.LittleEndian || s.NumTypes() < 50000 || s.PointerSize() != 8 {
				t.Fatalf("vmlinux BTF: %v, %d types, pointer size %d", s.ByteOrder, s.NumTypes(), s.PointerSize())
			}
			lh, err := s.ParseType("struct list_head")
			if size, _ := s.Size(lh); err != nil || size != 16 {
				t.Fatalf("struct list_head: %d bytes, %v", size, err)
			}
			oracle := readCrashOracle(t, name)
			type psRow struct {
				comm      string
				pid, ppid int
			}
			ps := map[uint64]psRow{}
			for _, task := range oracle.Tasks {
				ps[hexAddr(t, task.Task)] = psRow{task.Comm, task.PID, task.PPID}
			}
			initTask := kb.sym(t, "init_task")
			comm, pid, tasks := kb.offset(t, s, "task_struct.comm"), kb.offset(t, s, "task_struct.pid"), kb.offset(t, s, "task_struct.tasks")
			tgid, parent := kb.offset(t, s, "task_struct.tgid"), kb.offset(t, s, "task_struct.real_parent")
			if got := kb.cString(t, initTask+comm, 16); got != "swapper/0" {
				t.Fatalf("init_task.comm = %q", got)
			}
			n := 0
			for node := kb.u64(t, initTask+tasks); node != initTask+tasks; node = kb.u64(t, node) {
				if n++; n > 1000 {
					t.Fatal("task list longer than 1000")
				}
				task := node - tasks
				got := psRow{kb.cString(t, task+comm, 16), int(int32(kb.u32(t, task+pid))), int(int32(kb.u32(t, kb.u64(t, task+parent)+tgid)))}
				if want, ok := ps[task]; !ok || got != want {
					t.Errorf("task %#x: %+v, crash says %+v (listed: %v)", task, got, want, ok)
				}
			}
			// The list holds thread-group leaders other than init_task;
			// crash's ps adds init_task and the other CPUs' idle tasks.
			if n < len(oracle.Tasks)-len(oracle.ActiveTasks) || n >= len(oracle.Tasks) {
				t.Errorf("walked %d tasks, crash lists %d", n, len(oracle.Tasks))
			}
		})
	}
}

// TestRealRunqueues finds the task on each CPU as runqueues.curr through
// the per-CPU offsets, with runqueues typed by its BTF VAR and
// __per_cpu_offset by the declarations table, and checks crash's
// active tasks.
func TestRealRunqueues(t *testing.T) {
	for _, name := range kernelFixtureNames {
		t.Run(name, func(t *testing.T) {
			kb := openKernelBTF(t, name)
			s := kb.spec
			rq, err := s.Global("runqueues")
			if err != nil || !rq.FromBTF || !rq.PerCPU || s.TypeName(rq.Type) != "struct rq" {
				t.Fatalf("Global(runqueues) = %+v, %v", rq, err)
			}
			pco, err := s.Global("__per_cpu_offset")
			if err != nil || pco.FromBTF || s.TypeName(pco.Type) != "long unsigned int []" {
				t.Fatalf("Global(__per_cpu_offset) = %+v, %v", pco, err)
			}
			elem, _ := s.Target(pco.Type)
			step, _ := s.Size(elem)
			cpuNumber, err := s.Global("cpu_number")
			if err != nil || !cpuNumber.PerCPU {
				t.Fatalf("Global(cpu_number) = %+v, %v", cpuNumber, err)
			}
			curr := kb.offset(t, s, "rq.curr")
			oracle := readCrashOracle(t, name)
			for _, a := range oracle.ActiveTasks {
				base := kb.u64(t, kb.sym(t, "__per_cpu_offset")+uint64(a.CPU)*step)
				if got := kb.u64(t, kb.sym(t, "runqueues")+base+curr); got != hexAddr(t, a.Task) {
					t.Errorf("cpu %d: runqueues.curr = %#x, crash says %s", a.CPU, got, a.Task)
				}
				if got := kb.u32(t, kb.sym(t, "cpu_number")+base); got != uint32(a.CPU) {
					t.Errorf("cpu %d: per-CPU cpu_number = %d", a.CPU, got)
				}
			}
		})
	}
}

// loadModuleBTF walks btf_modules and loads each module's split BTF from
// btf->data, btf->data_size, as makedumpfile's init_module_btf does.
func loadModuleBTF(t *testing.T, kb *kernelBTF) map[string]*Spec {
	s := kb.spec
	head := kb.sym(t, "btf_modules")
	list, module, btfp := kb.offset(t, s, "btf_module.list"), kb.offset(t, s, "btf_module.module"), kb.offset(t, s, "btf_module.btf")
	modName, data, dataSize := kb.offset(t, s, "module.name"), kb.offset(t, s, "btf.data"), kb.offset(t, s, "btf.data_size")
	out := map[string]*Spec{}
	n := 0
	for node := kb.u64(t, head); node != head; node = kb.u64(t, node) {
		if n++; n > 64 {
			t.Fatal("btf_modules longer than 64")
		}
		bm := node - list
		mod, b := kb.u64(t, bm+module), kb.u64(t, bm+btfp)
		name := kb.cString(t, kb.u64(t, bm+module)+modName, 56)
		addr, size := kb.u64(t, b+data), kb.u32(t, b+dataSize)
		split, err := Load(MemoryReader(kb.read, addr), int64(size), s)
		if err != nil {
			t.Fatalf("module %s (struct module %#x): BTF at %#x, %d bytes: %v", name, mod, addr, size, err)
		}
		out[name] = split
		out[name+"@"+fmt.Sprintf("%#x", mod)] = split
	}
	return out
}

// TestRealModuleBTF loads qemu_fw_cfg's split BTF from memory and finds a
// type that module alone defines (drivers/firmware/qemu_fw_cfg.c struct
// fw_cfg_sysfs_entry), typed through base types of vmlinux.
func TestRealModuleBTF(t *testing.T) {
	for _, name := range kernelFixtureNames {
		t.Run(name, func(t *testing.T) {
			kb := openKernelBTF(t, name)
			mods := loadModuleBTF(t, kb)
			oracle := readCrashOracle(t, name)
			if len(oracle.Modules) != 1 {
				t.Fatalf("oracle lists %d modules", len(oracle.Modules))
			}
			m := oracle.Modules[0]
			split := mods[m.Name+"@"+fmt.Sprintf("%#x", hexAddr(t, m.Module))]
			if split == nil {
				t.Fatalf("no module BTF for %s at %s: %v", m.Name, m.Module, mods)
			}
			if split.FirstID() != kb.spec.LastID()+1 || split.NumTypes() == 0 {
				t.Errorf("split IDs %d..%d, vmlinux ends at %d", split.FirstID(), split.LastID(), kb.spec.LastID())
			}
			entry, err := split.FindType(KindStruct, "fw_cfg_sysfs_entry")
			if err != nil || entry.ID < split.FirstID() {
				t.Fatalf("struct fw_cfg_sysfs_entry: %+v %v", entry, err)
			}
			if _, err := kb.spec.FindType(KindStruct, "fw_cfg_sysfs_entry"); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("vmlinux BTF has the module's struct: %v", err)
			}
			f, err := split.Field(entry, "list.next")
			if err != nil || split.TypeName(f.Type) != "struct list_head *" {
				t.Errorf("fw_cfg_sysfs_entry.list.next: %+v %v", f, err)
			}
			// struct module at crash's address, formatted with the module's
			// Spec (the types come from its base): name and state.
			mt, err := split.ParseType("struct module")
			if err != nil {
				t.Fatal(err)
			}
			v, err := split.Format(mt, kb.read, hexAddr(t, m.Module), FormatOptions{MaxDepth: 1, Symbolize: kb.symbolize})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, c := range v.Children {
				got[c.Name] = c.Value
			}
			if got["name"] != `"`+m.Name+`"` || got["state"] != "MODULE_STATE_LIVE" {
				t.Errorf("struct module: name %s, state %s", got["name"], got["state"])
			}
		})
	}
}

// TestRealGlobals resolves every declaration of KernelGlobals whose
// symbol this kernel has, checks it against the BTF VAR when there is
// one, and reads init_uts_ns against crash's sys.
func TestRealGlobals(t *testing.T) {
	for _, name := range kernelFixtureNames {
		t.Run(name, func(t *testing.T) {
			kb := openKernelBTF(t, name)
			s := kb.spec
			var absent []string
			for _, g := range KernelGlobals() {
				if len(kb.syms.Lookup(g.Name)) == 0 {
					absent = append(absent, g.Name)
					continue
				}
				gv, err := s.Global(g.Name)
				if err != nil {
					t.Errorf("%s: %v", g.Name, err)
					continue
				}
				decl, err := s.ParseType(g.Decl)
				if err != nil {
					t.Errorf("%s: declaration %q: %v", g.Name, g.Decl, err)
					continue
				}
				if gv.PerCPU != g.PerCPU {
					t.Errorf("%s: per-CPU %v in BTF, %v in the table", g.Name, gv.PerCPU, g.PerCPU)
				}
				ds, derr := s.Size(decl)
				vs, verr := s.Size(gv.Type)
				if gv.FromBTF && derr == nil && verr == nil && ds != vs {
					t.Errorf("%s: declared %q (%d bytes), BTF VAR %q (%d bytes)", g.Name, g.Decl, ds, s.TypeName(gv.Type), vs)
				}
			}
			t.Logf("globals absent from this kernel's kallsyms: %v", absent)
			oracle := readCrashOracle(t, name)
			uts := kb.sym(t, "init_uts_ns")
			release, node := kb.offset(t, s, "uts_namespace.name.release"), kb.offset(t, s, "uts_namespace.name.nodename")
			if got := kb.cString(t, uts+release, 65); got != oracle.Sys["RELEASE"] {
				t.Errorf("init_uts_ns.name.release = %q, crash says %q", got, oracle.Sys["RELEASE"])
			}
			if got := kb.cString(t, uts+node, 65); got != oracle.Sys["NODENAME"] {
				t.Errorf("init_uts_ns.name.nodename = %q, crash says %q", got, oracle.Sys["NODENAME"])
			}
		})
	}
}

// TestRealFormat formats init_task as crash's `struct task_struct
// <init_task>` would.
func TestRealFormat(t *testing.T) {
	kb := openKernelBTF(t, kernelFixtureNames[0])
	s := kb.spec
	ts, err := s.ParseType("struct task_struct")
	if err != nil {
		t.Fatal(err)
	}
	initTask := kb.sym(t, "init_task")
	v, err := s.Format(ts, kb.read, initTask, FormatOptions{Symbolize: kb.symbolize})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Value{}
	for _, c := range v.Children {
		got[c.Name] = c
	}
	tasksNext := kb.u64(t, initTask+kb.offset(t, s, "task_struct.tasks"))
	for member, want := range map[string]string{
		"comm": `"swapper/0"`, "pid": "0", "__state": "0",
		"real_parent": fmt.Sprintf("%#x <init_task>", initTask),
	} {
		if got[member].Value != want {
			t.Errorf("%s = %q, want %q", member, got[member].Value, want)
		}
	}
	if next := got["tasks"].Children[0]; next.Value != fmt.Sprintf("%#x", tasksNext) || next.Offset != kb.offset(t, s, "task_struct.tasks") {
		t.Errorf("tasks.next = %+v", next)
	}
	text := v.Text()
	if !strings.Contains(text, "\n  comm = \"swapper/0\",\n") || !strings.HasPrefix(text, "struct task_struct {\n") {
		t.Errorf("text:\n%.2000s", text)
	}
	t.Logf("struct task_struct at init_task: %d values, %d lines of text", CountNodes(v), strings.Count(text, "\n"))
}

// TestRealOffsets logs, for the report and for cross-checking with crash,
// the offsets the task walker, the unwinder and the module lister use, and
// checks each lies inside its struct.
func TestRealOffsets(t *testing.T) {
	kb := openKernelBTF(t, kernelFixtureNames[0])
	s := kb.spec
	paths := []string{
		"task_struct.pid", "task_struct.tgid", "task_struct.comm", "task_struct.__state", "task_struct.tasks",
		"task_struct.real_parent", "task_struct.flags", "task_struct.stack", "task_struct.thread.sp",
		"task_struct.thread_info.cpu", "task_struct.signal", "task_struct.thread_node", "task_struct.mm",
		"inactive_task_frame.r15", "inactive_task_frame.r14", "inactive_task_frame.r13", "inactive_task_frame.r12",
		"inactive_task_frame.bx", "inactive_task_frame.bp", "inactive_task_frame.ret_addr",
		"module.state", "module.list", "module.name", "module.core_layout", "module.core_layout.base",
		"module.core_layout.size", "module.init_layout", "module.taints", "module.kallsyms", "module.core_kallsyms",
		"module.arch.orc_unwind_ip", "module.arch.orc_unwind", "module.arch.num_orcs", "module.btf_data",
		"module.btf_data_size", "rq.curr", "rq.idle", "rq.cpu",
	}
	var lines []string
	for _, p := range paths {
		typ, f, err := s.FieldOf(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		outer, _ := s.Size(typ)
		size, err := s.Size(f.Type)
		if err != nil || f.Offset+size > outer {
			t.Errorf("%s: offset %d size %d beyond %d (%v)", p, f.Offset, size, outer, err)
		}
		lines = append(lines, fmt.Sprintf("%-32s %5d (%#05x) %4d  %s", p, f.Offset, f.Offset, size, s.TypeName(f.Type)))
	}
	for _, p := range []string{"module.mem", "task_struct.cpu"} {
		if _, _, err := s.FieldOf(p); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("%s exists in 6.1? %v", p, err)
		}
	}
	for _, st := range []string{"task_struct", "inactive_task_frame", "module", "rq", "list_head"} {
		typ, _ := s.FindType(KindStruct, st)
		size, _ := s.Size(typ)
		lines = append(lines, fmt.Sprintf("sizeof(struct %s) = %d", st, size))
	}
	t.Logf("Debian 6.1.0-57 offsets (path, offset, size, type):\n%s", strings.Join(lines, "\n"))
}

// swapOrder converts a little-endian BTF blob to big-endian: the header
// fields and every 32-bit word of the type section (every field of every
// record is a u32), strings unchanged.
func swapOrder(t *testing.T, raw []byte) []byte {
	le, be := binary.LittleEndian, binary.BigEndian
	out := append([]byte(nil), raw...)
	be.PutUint16(out, le.Uint16(raw))
	hdrLen := le.Uint32(raw[4:])
	for o := uint32(4); o < hdrLen; o += 4 {
		be.PutUint32(out[o:], le.Uint32(raw[o:]))
	}
	start, n := hdrLen+le.Uint32(raw[8:]), le.Uint32(raw[12:])
	for o := start; o < start+n; o += 4 {
		be.PutUint32(out[o:], le.Uint32(raw[o:]))
	}
	if hdrLen >= 32 && le.Uint32(raw[28:]) != 0 {
		t.Skip("layout section: swap its flags too")
	}
	return out
}

// TestRealOtherByteOrder reads the real vmlinux BTF converted to
// big-endian and finds the same layout.
func TestRealOtherByteOrder(t *testing.T) {
	le := openKernelBTF(t, kernelFixtureNames[0]).spec
	be, err := NewSpec(swapOrder(t, le.Raw()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if be.ByteOrder != binary.BigEndian || be.NumTypes() != le.NumTypes() {
		t.Fatalf("big-endian copy: %v, %d types", be.ByteOrder, be.NumTypes())
	}
	a, b := psLookups(t, le), psLookups(t, be)
	for i := range a {
		if a[i].Offset != b[i].Offset || a[i].BitOffset != b[i].BitOffset || le.TypeName(a[i].Type) != be.TypeName(b[i].Type) {
			t.Errorf("field %d: %+v vs %+v", i, a[i], b[i])
		}
	}
	for _, name := range []string{"PIDTYPE_TGID", "MODULE_STATE_GOING", "TASK_COMM_LEN"} {
		_, ea, erra := le.Enumerator(name)
		_, eb, errb := be.Enumerator(name)
		if ea != eb || (erra == nil) != (errb == nil) {
			t.Errorf("%s: %+v %v vs %+v %v", name, ea, erra, eb, errb)
		}
	}
	for _, path := range []string{"task_struct.in_execve", "module.arch.num_orcs", "rq.curr"} {
		_, fa, erra := le.FieldOf(path)
		_, fb, errb := be.FieldOf(path)
		if erra != nil || errb != nil || fa.BitOffset != fb.BitOffset || fa.BitfieldSize != fb.BitfieldSize {
			t.Errorf("%s: %+v %v vs %+v %v", path, fa, erra, fb, errb)
		}
	}
}
