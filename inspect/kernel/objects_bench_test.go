package kernel

import (
	"context"
	"sync/atomic"
	"testing"

	"dumpscope/open"
	"dumpscope/reader/dumptest"
)

// The cost of ps and bt --all on the Debian panic dump, from a freshly
// opened dump (what one CLI run pays: kallsyms, BTF, the lists) and on a
// warm engine (what the TUI pays for a refresh), with the dump pages
// each reads (WithProgress counts pages decoded, not cache hits).

func benchEngine(b *testing.B) *Kernel {
	b.Helper()
	d, err := open.Open(dumptest.KernelFixture(b, dumptest.KernelFixtureNames[1]))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	k, err := New(d)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func benchCounted(b *testing.B, fresh bool, fn func(ctx context.Context, k *Kernel) error) {
	var pages atomic.Uint64
	ctx := WithProgress(context.Background(), func(n uint64) { pages.Add(n) })
	k := benchEngine(b)
	if !fresh {
		if err := fn(ctx, k); err != nil {
			b.Fatal(err)
		}
		pages.Store(0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if fresh {
			b.StopTimer()
			k = benchEngine(b)
			b.StartTimer()
		}
		if err := fn(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(pages.Load())/float64(b.N), "pages/op")
}

func psOnce(ctx context.Context, k *Kernel) error {
	_, err := k.Tasks(ctx)
	return err
}

func btAllOnce(ctx context.Context, k *Kernel) error {
	_, err := k.Backtraces(ctx)
	return err
}

func BenchmarkPSFirst(b *testing.B)    { benchCounted(b, true, psOnce) }
func BenchmarkPSWarm(b *testing.B)     { benchCounted(b, false, psOnce) }
func BenchmarkBTAllFirst(b *testing.B) { benchCounted(b, true, btAllOnce) }
func BenchmarkBTAllWarm(b *testing.B)  { benchCounted(b, false, btAllOnce) }
func BenchmarkSymbolsFirst(b *testing.B) {
	benchCounted(b, true, func(ctx context.Context, k *Kernel) error { _, err := k.Symbols(ctx); return err })
}
func BenchmarkBTFFirst(b *testing.B) {
	benchCounted(b, true, func(ctx context.Context, k *Kernel) error {
		if _, err := k.Symbols(ctx); err != nil {
			return err
		}
		_, err := k.BTF(ctx)
		return err
	})
}

// BenchmarkCrashFirst is what `dumpscope info` and `triage` pay for the
// crash analysis on a freshly opened dump: kallsyms, BTF, the ORC table,
// the tasks on the CPUs, the log and the unwound stack.
func BenchmarkCrashFirst(b *testing.B) {
	benchCounted(b, true, func(ctx context.Context, k *Kernel) error { _, err := k.Crash(ctx); return err })
}
