package unwind_test

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	. "dumpscope/inspect/unwind"
	"dumpscope/reader/dumptest"
)

// btfStructs is a test-only reading of vmlinux BTF from memory
// (__start_BTF; include/uapi/linux/btf.h): the sizes and member offsets of
// named structs, enough to start sleeping tasks. The engine's own BTF
// reader replaces it.
type btfStructs map[string]struct {
	size    uint64
	members map[string]uint64 // byte offsets
}

func readBTFStructs(t *testing.T, dk *dumpKernel, want ...string) btfStructs {
	t.Helper()
	start, stop := dk.addr(t, "__start_BTF"), dk.addr(t, "__stop_BTF")
	if stop <= start || stop-start > 64<<20 {
		t.Fatalf("BTF spans %#x-%#x", start, stop)
	}
	b := make([]byte, stop-start)
	if err := (kernelMem{dk.k}).ReadVirt(start, b); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if le.Uint16(b) != 0xeb9f {
		t.Fatalf("BTF magic %#x", le.Uint16(b))
	}
	hdr := uint64(le.Uint32(b[4:]))
	typeOff, typeLen := hdr+uint64(le.Uint32(b[8:])), uint64(le.Uint32(b[12:]))
	strOff := hdr + uint64(le.Uint32(b[16:]))
	name := func(off uint32) string {
		s := b[strOff+uint64(off):]
		if i := strings.IndexByte(string(s[:min(len(s), 256)]), 0); i >= 0 {
			return string(s[:i])
		}
		return ""
	}
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w] = true
	}
	out := btfStructs{}
	for p := typeOff; p+12 <= typeOff+typeLen; {
		info := le.Uint32(b[p+4:])
		kind, vlen, kflag := info>>24&0x1f, uint64(info&0xffff), info>>31 != 0
		n := name(le.Uint32(b[p:]))
		size := uint64(le.Uint32(b[p+8:]))
		p += 12
		switch kind {
		case 1, 14, 17: // INT, VAR, DECL_TAG
			p += 4
		case 3: // ARRAY
			p += 12
		case 4, 5: // STRUCT, UNION
			if kind == 4 && wanted[n] {
				s := out[n]
				s.size, s.members = size, map[string]uint64{}
				for i := uint64(0); i < vlen; i++ {
					m := p + 12*i
					off := le.Uint32(b[m+8:])
					if kflag {
						off &= 0xffffff
					}
					s.members[name(le.Uint32(b[m:]))] = uint64(off / 8)
				}
				out[n] = s
			}
			p += 12 * vlen
		case 6, 13: // ENUM, FUNC_PROTO
			p += 8 * vlen
		case 15, 19: // DATASEC, ENUM64
			p += 12 * vlen
		}
	}
	for _, w := range want {
		if _, ok := out[w]; !ok {
			t.Fatalf("BTF has no struct %s", w)
		}
	}
	return out
}

// Every sleeping task of both Debian dumps, from thread.sp, against
// crash's foreach bt and drgn's traces (the same rules as the CPUs).
func TestDebianTasksAgainstCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 4 MiB of BTF per dump")
	}
	for _, name := range []string{"panic-sysrq-mdf-zlib-d31.kdump", "stopped-mdf-zlib-d31.kdump"} {
		t.Run(name, func(t *testing.T) {
			path := kernelFixture(t, name)
			var crash struct {
				Backtraces  []crashTrace `json:"backtraces"`
				ActiveTasks []struct {
					Task string `json:"task"`
				} `json:"active_tasks"`
			}
			dir := filepath.Join(dumptest.ModuleRoot(t), "..", "shared", "kernel-fixtures", "debian-amd64")
			readJSON(t, filepath.Join(dir, name+".crash.json"), &crash)
			var drgn struct {
				Backtraces []drgnTrace `json:"backtraces"`
			}
			readJSON(t, filepath.Join(dir, name+".drgn.json"), &drgn)
			dk := openDump(t, path)
			btf := readBTFStructs(t, dk, "task_struct", "thread_struct", "inactive_task_frame")
			task, thread, frame := btf["task_struct"], btf["thread_struct"], btf["inactive_task_frame"]
			layout := InactiveTaskFrame{Size: frame.size, BP: frame.members["bp"], RetAddr: frame.members["ret_addr"]}
			threadSP := task.members["thread"] + thread.members["sp"]
			threadSize := dk.syms.Lookup("init_stack")[0].Size
			t.Logf("task_struct.stack at %d, thread.sp at %d, inactive_task_frame %+v, THREAD_SIZE %#x", task.members["stack"], threadSP, layout, threadSize)
			u, err := New(Config{Mem: kernelMem{dk.k}, ORC: dk.vmlinuxORC(t), Text: kallsymsText{dk.syms}})
			if err != nil {
				t.Fatal(err)
			}
			active := map[string]bool{}
			for _, a := range crash.ActiveTasks {
				active[a.Task] = true
			}
			retFromFork := dk.addr(t, "ret_from_fork")
			n := 0
			for i := range crash.Backtraces {
				ct := &crash.Backtraces[i]
				if active[ct.Task] {
					continue // running: thread.sp is stale; the CPU test covers it
				}
				ta := hexVal(ct.Task)
				stack := dk.word(t, ta+task.members["stack"], 8)
				sp := dk.word(t, ta+threadSP, 8)
				tr := u.Task(TaskStart{ThreadSP: sp, Frame: layout, RetFromFork: retFromFork}, StackSet{{StackTask, stack, stack + threadSize}})
				compareCrash(t, dk, -1, tr, ct)
				for _, dt := range drgn.Backtraces {
					if dt.Task != ct.Task || len(dt.Frames) == 0 || len(tr.Frames) == 0 {
						continue
					}
					// drgn 0.0.22 gives a QEMU dump's CPU registers to the
					// task whose pid is the prstatus pid field, which QEMU
					// fills with the CPU index + 1 (README "Reading the
					// oracle"): such a trace starts elsewhere.
					if hexVal(dt.Frames[0].PC) != tr.Frames[0].PC {
						t.Logf("task %s: drgn starts at %#x, not at its inactive_task_frame: skipped", ct.Task, hexVal(dt.Frames[0].PC))
						continue
					}
					compareDrgn(t, dk, -1, tr, Regs{}, dt)
				}
				n++
			}
			if n < 40 {
				t.Errorf("only %d sleeping tasks", n)
			}
			t.Logf("%d sleeping tasks compared", n)
		})
	}
}
