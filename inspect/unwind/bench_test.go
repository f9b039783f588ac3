package unwind_test

import (
	"testing"

	. "dumpscope/inspect/unwind"
)

// BenchmarkReadVmlinuxORC reads and checks vmlinux's ORC table (384849
// entries) of the Debian panic dump through the engine.
func BenchmarkReadVmlinuxORC(b *testing.B) {
	dk := openDump(b, kernelFixture(b, "panic-sysrq-mdf-zlib-d31.kdump"))
	s := VmlinuxSymbols{StartIP: dk.addr(b, "__start_orc_unwind_ip"), StopIP: dk.addr(b, "__stop_orc_unwind_ip"),
		StartUnwind: dk.addr(b, "__start_orc_unwind"), StopUnwind: dk.addr(b, "__stop_orc_unwind"), FPEntry: dk.addr(b, "orc_fp_entry")}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ReadVmlinux(kernelMem{dk.k}, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnwindDebianCPUs unwinds every CPU of the Debian panic dump
// (the NMI-stopped CPU with its NMI frames, the panicking CPU with
// machine_kexec), with a new unwinder (an empty page cache) each time;
// pages/op counts the pages the unwinder read from the engine.
func BenchmarkUnwindDebianCPUs(b *testing.B) {
	dk := openDump(b, kernelFixture(b, "panic-sysrq-mdf-zlib-d31.kdump"))
	orc := dk.vmlinuxORC(b)
	text := kallsymsText{dk.syms}
	regs, err := dk.d.Registers()
	if err != nil {
		b.Fatal(err)
	}
	crashKexec := dk.addr(b, "__crash_kexec")
	type cpu struct {
		r      Regs
		stacks StackSet
		saved  Saved
	}
	var cpus []cpu
	for _, rs := range regs {
		if rs.Source == "prstatus" {
			c := cpu{r: RegsFromNames(rs.Get), stacks: dk.cpuStacks(b, rs.CPU, 8)}
			if fn, ok := text.FuncStart(c.r.IP); ok && fn == crashKexec {
				c.saved = SavedByCode
			}
			cpus = append(cpus, c)
		}
	}
	b.ReportAllocs()
	pages, frames := 0, 0
	for b.Loop() {
		u, err := New(Config{Mem: kernelMem{dk.k}, ORC: orc, Text: text})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range cpus {
			frames += len(u.CPU(c.r, c.stacks, c.saved).Frames)
		}
		pages += u.PagesRead()
	}
	b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
	b.ReportMetric(float64(frames)/float64(b.N), "frames/op")
}
