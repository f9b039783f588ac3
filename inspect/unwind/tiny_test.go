package unwind_test

import (
	"fmt"
	"strings"
	"testing"

	. "dumpscope/inspect/unwind"
	"dumpscope/reader/dumptest"
)

// The tiny Linux 6.1 guests of ../shared/fixtures are built with frame
// pointers (no ORC): each CPU unwinds along its bp chain; every return
// address must follow a call instruction, and the chain must end at the
// top of the task stack (bp 0 under the boot pt_regs, or the user-mode
// pt_regs of a system call). Their kernel logs hold no traces to compare.
// Two kinds of return address cannot be checked against their code: those
// into init text, which free_initmem poisoned after boot (the idle task of
// CPU 0 still has start_kernel's frames), and the one the boot code
// pushes itself before lretq into C ("pushq $.Lafter_lret # put return
// address on stack for unwinder", arch/x86/kernel/head_64.S).
func TestTinyFramePointerKernels(t *testing.T) {
	for _, names := range [][]string{
		{"x86_64/qemu-elf-paging.vmcore"},
		{"i386/mdf-zlib-d31-split1.kdump", "i386/mdf-zlib-d31-split2.kdump"},
	} {
		t.Run(names[0], func(t *testing.T) {
			var paths []string
			for _, n := range names {
				paths = append(paths, dumptest.Fixture(t, n))
			}
			dk := openDump(t, paths...)
			if dk.has("__start_orc_unwind_ip") {
				t.Fatal("the tiny kernels were built without ORC")
			}
			word := 8
			if dk.k.Arch() == "i386" {
				word = 4
			}
			u, err := New(Config{Mem: kernelMem{dk.k}, Text: kallsymsText{dk.syms}, WordSize: word})
			if err != nil {
				t.Fatal(err)
			}
			regs, err := dk.d.Registers()
			if err != nil {
				t.Fatal(err)
			}
			regsSize := uint64(PtRegs64Size)
			if word == 4 {
				regsSize = PtRegs32Size
			}
			initLo, initHi := dk.addr(t, "_sinittext"), dk.addr(t, "_einittext")
			cpus := 0
			for _, rs := range regs {
				if rs.Source != "prstatus" {
					continue
				}
				cpus++
				stacks := dk.cpuStacks(t, rs.CPU, word)
				tr := u.CPU(RegsFromNames(rs.Get), stacks, SavedInterrupted)
				var got []string
				for _, f := range tr.Frames {
					got = append(got, fmt.Sprintf("%s(%s)", dk.sym(f.PC), f.How))
				}
				t.Logf("CPU %d: %d frames, end %v %v: %s", rs.CPU, len(tr.Frames), tr.End, tr.Err, strings.Join(got, " "))
				if tr.End != EndStack && tr.End != EndUser || len(tr.Frames) < 3 {
					t.Errorf("CPU %d: ended %v (%v) after %d frames", rs.CPU, tr.End, tr.Err, len(tr.Frames))
					continue
				}
				for _, f := range tr.Frames {
					if !f.Reliable {
						t.Errorf("CPU %d: frame %d %s unreliable", rs.CPU, f.Level, dk.sym(f.PC))
					}
					boot := strings.HasPrefix(dk.sym(f.PC), "secondary_startup_64")
					if f.Call && !boot && (f.PC < initLo || f.PC >= initHi) {
						if !FollowsCall(u, f.PC) {
							t.Errorf("CPU %d: frame %d %s does not follow a call", rs.CPU, f.Level, dk.sym(f.PC))
						}
					}
				}
				task, _ := stacks.ByKind(StackTask)
				end := tr.Frames[len(tr.Frames)-1].SP
				if tr.UserRegs != nil {
					end = tr.UserRegs.Addr
				}
				if end > task.Hi || task.Hi-end > regsSize+16 {
					t.Errorf("CPU %d: the chain ends at %#x, not under the pt_regs at the top of the task stack %v", rs.CPU, end, task)
				}
			}
			if cpus == 0 {
				t.Error("no prstatus registers")
			}
		})
	}
}
