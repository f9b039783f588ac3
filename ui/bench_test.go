package ui

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"dumpscope/model"
	"dumpscope/reader"
)

// The cost of one key in the Memory view: Update and View, with the pages
// the key needs already decoded (reads happen in commands, outside the
// key's time; they are run between iterations with the timer stopped).

func benchModel(b *testing.B, d reader.Dump, w, h int) *Model {
	m := newTestModel(b, d, w, h, "dark")
	typeLine(b, m, ":view memory")
	return m
}

// benchKey times Update+View of one key; the commands it returns (page
// reads) run with the timer stopped.
//
// Besides ns/op (wall clock, which a busy machine inflates) it reports
// cpu-ms/op: the process's CPU time spent in Update and View per key.
func benchKey(b *testing.B, m *Model, k tea.KeyPressMsg, reset func()) {
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		c0 := cpuTime()
		cmd := update(m, k)
		_ = m.View()
		cpu += cpuTime() - c0
		if cmd != nil || (reset != nil && i%1000 == 999) {
			b.StopTimer()
			run(b, m, cmd)
			if reset != nil && i%1000 == 999 {
				reset()
			}
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkHexScroll(b *testing.B) {
	d := openDemo(b)
	for _, size := range goldenSizes {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			m := benchModel(b, d, size[0], size[1])
			start := func() { send(b, m, gotoPhysMsg{addr: model.PFN(0xa00).Addr(4096)}) }
			start()
			benchKey(b, m, keyMsg("j"), start)
		})
	}
}

func BenchmarkHexPageDown(b *testing.B) {
	d := openDemo(b)
	m := benchModel(b, d, 200, 60)
	start := func() { send(b, m, gotoPhysMsg{addr: model.PFN(0xa00).Addr(4096)}) }
	start()
	benchKey(b, m, keyMsg("pgdown"), start)
}

func BenchmarkMinimapMove(b *testing.B) {
	for _, tc := range []struct {
		name string
		dump func(testing.TB) reader.Dump
	}{{"demo", openDemo}, {"1TiB", hugeELF}} {
		d := tc.dump(b)
		for _, size := range goldenSizes {
			b.Run(fmt.Sprintf("%s/%dx%d", tc.name, size[0], size[1]), func(b *testing.B) {
				m := benchModel(b, d, size[0], size[1])
				start := func() { press(b, m, "g") }
				press(b, m, "m")
				benchKey(b, m, keyMsg("l"), start)
			})
		}
	}
}

// BenchmarkLogScroll moves through a kernel log of 200,000 records, one
// row (j) or one screen (pgdown) a key.
func BenchmarkLogScroll(b *testing.B) {
	d := openDemo(b)
	lt, err := newLogText(context.Background(), syntheticLog(200_000), func(uint64, uint64) {})
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []string{"j", "pgdown"} {
		for _, size := range goldenSizes {
			b.Run(fmt.Sprintf("%s/%dx%d", k, size[0], size[1]), func(b *testing.B) {
				m := newTestModel(b, d, size[0], size[1], "dark")
				typeLine(b, m, ":view log")
				lv := logOf(m)
				lv.text = lt
				lv.layoutHead()
				start := func() { press(b, m, "g") }
				start()
				benchKey(b, m, keyMsg(k), start)
			})
		}
	}
}

// BenchmarkCPUSwitch switches between the vCPUs of the paging fixture,
// whose registers are named by kallsyms and whose code pane is full (the
// code is read once per CPU, before the timer runs).
func BenchmarkCPUSwitch(b *testing.B) {
	m := newTestModel(b, pagingFixture(b), 200, 60, "dark")
	typeLine(b, m, ":view cpus")
	press(b, m, "]", "[")
	keys := []tea.KeyPressMsg{keyMsg("]"), keyMsg("[")}
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		c0 := cpuTime()
		cmd := update(m, keys[i%2])
		_ = m.View()
		cpu += cpuTime() - c0
		if cmd != nil {
			b.StopTimer()
			run(b, m, cmd)
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
