package inspect

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
)

// The verdict's analyses of kernel objects: stacks, BTF and tasks. When
// the engine has a reader of typed objects (kernel.Objects: the task list
// and the unwinder), it is asked to do the work; otherwise the reads
// those analyses start with are tried (the stack pages, the unwind
// tables, the BTF header and pages, init_task and each CPU's task).

// maxBTFBytes bounds the BTF section read from kallsyms' bounds (vmlinux
// BTF is a few MiB).
const maxBTFBytes = 256 << 20

// stacks tries the crashing CPU's kernel stack (every CPU's when none
// crashed) and what unwinds it: the ORC tables when kallsyms has them.
func (b *verdictBuilder) stacks(ctx context.Context, syms *kernel.Symbols, cpu *int) {
	if syms == nil {
		b.add(model.CapStacks, false, "needs kallsyms, which is not possible (see symbols)")
		return
	}
	var cpus []int
	if cpu != nil {
		cpus = []int{*cpu}
	} else {
		a, err := b.k.Crash(ctx)
		if err == nil {
			for _, c := range a.Where.CPUs {
				cpus = append(cpus, c.CPU)
			}
		}
	}
	if len(cpus) == 0 {
		b.add(model.CapStacks, false, "no CPU has saved registers to start from")
		return
	}
	var good []string
	for _, c := range cpus {
		w, err := b.k.Stack(ctx, c)
		if err != nil {
			b.add(model.CapStacks, false, fmt.Sprintf("the stack of CPU %d: %s", c, b.explain(err)))
			return
		}
		good = append(good, fmt.Sprintf("CPU %d's stack reads (%d text pointers)", c, len(w)))
	}
	if o := b.k.Objects(); o != nil && cpu != nil {
		frames, how, err := o.UnwindCPU(ctx, *cpu)
		if err != nil {
			b.add(model.CapStacks, false, fmt.Sprintf("unwinding CPU %d: %s", *cpu, b.explain(err)))
			return
		}
		good = append(good, fmt.Sprintf("%s unwinds %d frames of CPU %d", how, len(frames), *cpu))
		b.add(model.CapStacks, true, strings.Join(good, "; "))
		return
	}
	orc := [][2]string{{"__start_orc_unwind_ip", "__stop_orc_unwind_ip"}, {"__start_orc_unwind", "__stop_orc_unwind"}, {"orc_lookup", "orc_lookup_end"}}
	if len(syms.Lookup(orc[0][0])) == 0 {
		good = append(good, "kallsyms has no ORC tables: the kernel unwinds with frame pointers")
		b.add(model.CapStacks, true, strings.Join(good, "; "))
		return
	}
	for _, r := range orc {
		if err := b.stored(ctx, syms, r[0], r[1]); err != nil {
			b.add(model.CapStacks, false, fmt.Sprintf("the ORC table %s: %s", r[0], b.explain(err)))
			return
		}
	}
	good = append(good, "the ORC tables (orc_unwind_ip, orc_unwind, orc_lookup) are stored")
	b.add(model.CapStacks, true, strings.Join(good, "; "))
}

// symRange returns [start, stop) of two kallsyms symbols.
func symRange(syms *kernel.Symbols, start, stop string) (uint64, uint64, error) {
	a, z := syms.Lookup(start), syms.Lookup(stop)
	if len(a) == 0 || len(z) == 0 {
		return 0, 0, fmt.Errorf("kallsyms has no %s or %s: %w", start, stop, model.ErrNotFound)
	}
	lo, hi := uint64(a[0].Addr), uint64(z[0].Addr)
	if hi <= lo || hi-lo > maxBTFBytes {
		return 0, 0, fmt.Errorf("%s %#x and %s %#x do not bound a table: %w", start, lo, stop, hi, model.ErrCorrupt)
	}
	return lo, hi, nil
}

// stored checks that every page of [start, stop) is mapped and stored in
// the dump (page states only: the pages are not decoded).
func (b *verdictBuilder) stored(ctx context.Context, syms *kernel.Symbols, start, stop string) error {
	lo, hi, err := symRange(syms, start, stop)
	if err != nil {
		return err
	}
	ps := uint64(b.info.PageSize)
	for va := lo &^ (ps - 1); va < hi; va += ps {
		tr, err := b.k.Translate(ctx, model.VirtAddr(va))
		if err != nil {
			return err
		}
		if pi := b.s.dump.PageInfo(tr.PFN); !pi.State.Readable() {
			return &kernel.MissingError{File: b.file, What: fmt.Sprintf("%s+%#x (virtual %#x, physical %s)", start, va-lo, va, tr.PhysAddr),
				Err: model.AbsentError("", pi)}
		}
	}
	return nil
}

// btf tries the kernel's BTF: its bounds in kallsyms, its header, and
// every page of it stored.
func (b *verdictBuilder) btf(ctx context.Context, syms *kernel.Symbols) bool {
	if syms == nil {
		b.add(model.CapBTF, false, "needs kallsyms, which is not possible (see symbols)")
		return false
	}
	lo, hi, err := symRange(syms, "__start_BTF", "__stop_BTF")
	if err != nil {
		b.add(model.CapBTF, false, err.Error()+" (the kernel was built without CONFIG_DEBUG_INFO_BTF)")
		return false
	}
	hdr := make([]byte, 24)
	if err := b.k.ReadVirt(ctx, model.VirtAddr(lo), hdr); err != nil {
		b.add(model.CapBTF, false, "the BTF header: "+b.explain(err))
		return false
	}
	if err := checkBTFHeader(hdr, hi-lo); err != nil {
		b.add(model.CapBTF, false, fmt.Sprintf("the BTF header at %#x: %v", lo, err))
		return false
	}
	if err := b.stored(ctx, syms, "__start_BTF", "__stop_BTF"); err != nil {
		b.add(model.CapBTF, false, b.explain(err))
		return false
	}
	b.add(model.CapBTF, true, fmt.Sprintf("vmlinux BTF: %d bytes at %#x, header valid, every page stored", hi-lo, lo))
	return true
}

// checkBTFHeader checks struct btf_header (include/uapi/linux/btf.h):
// magic 0xeb9f, version 1, hdr_len at least 24, and the type and string
// sections inside size bytes.
func checkBTFHeader(h []byte, size uint64) error {
	var o binary.ByteOrder = binary.LittleEndian
	switch {
	case h[0] == 0x9f && h[1] == 0xeb:
	case h[0] == 0xeb && h[1] == 0x9f:
		o = binary.BigEndian
	default:
		return fmt.Errorf("magic %02x%02x is not 0xeb9f: %w", h[0], h[1], model.ErrCorrupt)
	}
	if h[2] != 1 {
		return fmt.Errorf("version %d, not 1: %w", h[2], model.ErrCorrupt)
	}
	hdrLen := uint64(o.Uint32(h[4:]))
	typeOff, typeLen := uint64(o.Uint32(h[8:])), uint64(o.Uint32(h[12:]))
	strOff, strLen := uint64(o.Uint32(h[16:])), uint64(o.Uint32(h[20:]))
	if hdrLen < 24 || hdrLen+max(typeOff+typeLen, strOff+strLen) > size {
		return fmt.Errorf("hdr_len %d, types %d+%d, strings %d+%d do not fit its %d bytes: %w", hdrLen, typeOff, typeLen, strOff, strLen, size, model.ErrCorrupt)
	}
	return nil
}

// tasks tries the task list: walked by the engine's object reader when it
// has one; otherwise the reads it starts with (init_task, each CPU's
// task) with BTF for their layout.
func (b *verdictBuilder) tasks(ctx context.Context, syms *kernel.Symbols, btf bool) {
	if o := b.k.Objects(); o != nil {
		n, err := o.TaskCount(ctx)
		if err != nil || n == 0 {
			why := "no task found"
			if err != nil {
				why = b.explain(err)
			}
			b.add(model.CapTasks, false, "walking the task list: "+why)
			return
		}
		b.add(model.CapTasks, true, fmt.Sprintf("the task list walks: %d tasks", n))
		return
	}
	if !btf {
		b.add(model.CapTasks, false, "needs BTF for task_struct's layout, which is not possible (see btf)")
		return
	}
	it := syms.Lookup("init_task")
	if len(it) == 0 {
		b.add(model.CapTasks, false, "kallsyms has no init_task (CONFIG_KALLSYMS_ALL is off)")
		return
	}
	buf := make([]byte, 64)
	if err := b.k.ReadVirt(ctx, it[0].Addr, buf); err != nil {
		b.add(model.CapTasks, false, "init_task: "+b.explain(err))
		return
	}
	read := []string{"init_task"}
	if a, err := b.k.Crash(ctx); err == nil {
		for _, t := range a.Memory.Tasks {
			if t.Task == nil {
				continue
			}
			if err := b.k.ReadVirt(ctx, *t.Task, buf); err != nil {
				b.add(model.CapTasks, false, fmt.Sprintf("the task on CPU %d: %s", t.CPU, b.explain(err)))
				return
			}
			read = append(read, fmt.Sprintf("CPU %d's task", t.CPU))
		}
	}
	b.add(model.CapTasks, true, fmt.Sprintf("%s read, and BTF gives task_struct; the list itself was not walked (this build has no task reader)", strings.Join(read, ", ")))
}
