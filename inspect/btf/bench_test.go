package btf_test

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	. "dumpscope/inspect/btf"
)

// psPaths are the members a first `ps` reads of every task, and where the
// task's CPU is on kernels with and without task_struct.cpu.
var psPaths = []string{
	"pid", "tgid", "comm", "__state", "tasks", "real_parent", "flags", "stack", "thread.sp",
}

// psLookups resolves what a ps-like walker needs: task_struct, its
// members and the CPU field, wherever this kernel keeps it.
func psLookups(tb testing.TB, s *Spec) []Field {
	ts, err := s.FindType(KindStruct, "task_struct")
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]Field, 0, len(psPaths)+1)
	for _, p := range psPaths {
		f, err := s.Field(ts, p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, f)
	}
	f, err := s.Field(ts, "cpu")
	if err != nil {
		f, err = s.Field(ts, "thread_info.cpu")
	}
	if err != nil {
		tb.Fatal(err)
	}
	return append(out, f)
}

type cost struct {
	d             time.Duration
	allocs, bytes uint64
}

func measure(f func()) cost {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	st := time.Now()
	f()
	d := time.Since(st)
	runtime.ReadMemStats(&b)
	return cost{d, b.Mallocs - a.Mallocs, b.TotalAlloc - a.TotalAlloc}
}

// TestRealCost reports what Load and a first ps-like set of lookups cost
// on the real vmlinux BTF, and keeps them within bounds: Load allocates
// the blob copy and the offset table (4 bytes a type), the first lookup by
// name the index (8 bytes a slot, two slots a named type), and the member
// lookups next to nothing.
func TestRealCost(t *testing.T) {
	kb := openKernelBTF(t, kernelFixtureNames[0])
	raw := kb.spec.Raw()
	var s *Spec
	load := measure(func() {
		var err error
		if s, err = Load(bytes.NewReader(raw), int64(len(raw)), nil); err != nil {
			t.Fatal(err)
		}
	})
	first := measure(func() { psLookups(t, s) })
	again := measure(func() { psLookups(t, s) })
	t.Logf("Load of %d bytes, %d types: %v, %d allocations, %d bytes", len(raw), s.NumTypes(), load.d, load.allocs, load.bytes)
	t.Logf("first ps lookups (task_struct + %d members): %v, %d allocations, %d bytes", len(psPaths)+1, first.d, first.allocs, first.bytes)
	t.Logf("the same lookups again: %v, %d allocations, %d bytes", again.d, again.allocs, again.bytes)
	if max := uint64(len(raw)) + 4*uint64(s.NumTypes()) + 64<<10; load.allocs > 20 || load.bytes > max {
		t.Errorf("Load: %d allocations, %d bytes (bound %d)", load.allocs, load.bytes, max)
	}
	if first.allocs > 200 || first.bytes > 16*uint64(s.NumTypes())+64<<10 {
		t.Errorf("first lookups: %d allocations, %d bytes", first.allocs, first.bytes)
	}
	if again.allocs > 100 || again.bytes > 16<<10 {
		t.Errorf("repeated lookups: %d allocations, %d bytes", again.allocs, again.bytes)
	}
}

func BenchmarkLoad(b *testing.B) {
	raw := openKernelBTF(b, kernelFixtureNames[0]).spec.Raw()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(bytes.NewReader(raw), int64(len(raw)), nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadAndFirstLookups(b *testing.B) {
	raw := openKernelBTF(b, kernelFixtureNames[0]).spec.Raw()
	b.ReportAllocs()
	for b.Loop() {
		s, err := Load(bytes.NewReader(raw), int64(len(raw)), nil)
		if err != nil {
			b.Fatal(err)
		}
		psLookups(b, s)
	}
}

func BenchmarkLookupsWarm(b *testing.B) {
	s := openKernelBTF(b, kernelFixtureNames[0]).spec
	psLookups(b, s)
	b.ReportAllocs()
	for b.Loop() {
		psLookups(b, s)
	}
}

func BenchmarkFormatInitTask(b *testing.B) {
	kb := openKernelBTF(b, kernelFixtureNames[0])
	ts, err := kb.spec.ParseType("struct task_struct")
	if err != nil {
		b.Fatal(err)
	}
	addr := kb.sym(b, "init_task")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kb.spec.Format(ts, kb.read, addr, FormatOptions{Symbolize: kb.symbolize}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewSpec is Load without the copy: the header checks and the
// walk over the type section.
func BenchmarkNewSpec(b *testing.B) {
	raw := openKernelBTF(b, kernelFixtureNames[0]).spec.Raw()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewSpec(raw, nil); err != nil {
			b.Fatal(err)
		}
	}
}
