package kernel

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/bits"

	"dumpscope/model"
)

// Per-CPU variables (include/linux/percpu-defs.h per_cpu_ptr): CPU n's
// copy of a per-CPU variable lies at the variable's kallsyms address plus
// __per_cpu_offset[n] (mm/percpu.c setup_per_cpu_areas,
// arch/x86/kernel/setup_percpu.c). On x86_64 up to 6.14 the kallsyms
// address is the variable's offset in the per-CPU section (an absolute
// per-CPU symbol, kallsyms.go); elsewhere it is the address of the boot
// copy in .data..percpu: the sum is the CPU's copy either way. A kernel
// built without CONFIG_SMP has no __per_cpu_offset: its per-CPU variables
// are plain ones.

// maxCPUs bounds the CPUs believed: NR_CPUS is at most 8192 on x86
// (arch/x86/Kconfig NR_CPUS_RANGE_END).
const maxCPUs = 8192

// perCPU is where each CPU's per-CPU area lies.
type perCPU struct {
	// offsets[n] is __per_cpu_offset[n], for n below nr_cpu_ids.
	offsets []uint64
	// online lists the CPUs online at the crash (__cpu_online_mask), or
	// every CPU below nr_cpu_ids when the mask cannot be read.
	online []int
	// smp is false for a uniprocessor kernel (no __per_cpu_offset).
	smp bool
}

func (k *Kernel) perCPUAreas(ctx context.Context) (*perCPU, error) {
	return k.objs.percpu.get(ctx, k.loadPerCPU)
}

func (k *Kernel) loadPerCPU(ctx context.Context) (*perCPU, error) {
	const what = "the per-CPU areas (__per_cpu_offset)"
	syms, err := k.Symbols(ctx)
	if err != nil {
		return nil, k.missing(what, err)
	}
	pco, ok := syms.addrOf("__per_cpu_offset")
	if !ok {
		if !syms.AllSymbols() {
			_, err := k.symAddr(syms, "__per_cpu_offset", what)
			return nil, err
		}
		return &perCPU{offsets: []uint64{0}, online: []int{0}}, nil
	}
	ws := uint64(k.ptrSize())
	// nr_cpu_ids bounds the array; the symbol's own size (NR_CPUS
	// entries) bounds nr_cpu_ids.
	limit := uint64(maxCPUs)
	if s := syms.Lookup("__per_cpu_offset"); len(s) > 0 && s[0].Size >= ws && s[0].Size/ws < limit {
		limit = s[0].Size / ws
	}
	nr := limit
	if at, ok := syms.addrOf("nr_cpu_ids"); ok {
		var b [4]byte
		if err := k.readVirt(ctx, at, b[:]); err != nil {
			return nil, k.missing("nr_cpu_ids", err)
		}
		nr = uint64(binary.LittleEndian.Uint32(b[:]))
		if nr == 0 || nr > limit {
			return nil, &MissingError{File: k.name, What: what,
				Err: fmt.Errorf("nr_cpu_ids = %d is not in 1..%d (the size of __per_cpu_offset): %w", nr, limit, model.ErrCorrupt)}
		}
	}
	raw := make([]byte, nr*ws)
	if err := k.readVirt(ctx, pco, raw); err != nil {
		return nil, k.missing(what, err)
	}
	p := &perCPU{smp: true, offsets: make([]uint64, nr)}
	for i := range p.offsets {
		p.offsets[i] = ptrAt(raw, i, int(ws))
	}
	p.online = k.onlineCPUs(ctx, syms, int(nr))
	return p, nil
}

// onlineCPUs reads __cpu_online_mask (cpu_online_mask before 4.5), a
// bitmap of unsigned longs; every CPU below nr when it cannot be read.
func (k *Kernel) onlineCPUs(ctx context.Context, syms *Symbols, nr int) []int {
	ws := k.ptrSize()
	words := (nr + 8*ws - 1) / (8 * ws)
	b := make([]byte, words*ws)
	var all []int
	for i := 0; i < nr; i++ {
		all = append(all, i)
	}
	at, ok := syms.addrOf("__cpu_online_mask")
	if !ok {
		at, ok = syms.addrOf("cpu_online_bits")
	}
	if !ok || k.readVirt(ctx, at, b) != nil {
		return all
	}
	var out []int
	for w := 0; w < words; w++ {
		v := ptrAt(b, w, ws)
		for v != 0 {
			bit := bits.TrailingZeros64(v)
			v &^= 1 << bit
			if cpu := w*8*ws + bit; cpu < nr {
				out = append(out, cpu)
			}
		}
	}
	if len(out) == 0 {
		return all
	}
	return out
}

// perCPUAddr returns the address of CPU cpu's copy of a per-CPU variable.
func (k *Kernel) perCPUAddr(ctx context.Context, name string, cpu int) (uint64, error) {
	syms, err := k.Symbols(ctx)
	if err != nil {
		return 0, err
	}
	p, err := k.perCPUAreas(ctx)
	if err != nil {
		return 0, err
	}
	v, err := k.symAddr(syms, name, "per-CPU variable "+name)
	if err != nil {
		return 0, err
	}
	if cpu < 0 || cpu >= len(p.offsets) {
		return 0, &MissingError{File: k.name, What: fmt.Sprintf("%s of CPU %d", name, cpu),
			Err: fmt.Errorf("the kernel has %d CPUs (nr_cpu_ids): %w", len(p.offsets), model.ErrNotFound)}
	}
	return v + p.offsets[cpu], nil
}

// PerCPUAddr returns the address of CPU cpu's copy of a per-CPU variable
// (a kallsyms symbol of the per-CPU section, such as runqueues).
func (k *Kernel) PerCPUAddr(ctx context.Context, name string, cpu int) (model.VirtAddr, error) {
	v, err := k.perCPUAddr(ctx, name, cpu)
	return model.VirtAddr(v), err
}

// IsPerCPU reports whether a global is a per-CPU variable, as the
// kernel's BTF says (a VAR of the .data..percpu section).
func (k *Kernel) IsPerCPU(ctx context.Context, name string) bool {
	spec, err := k.BTF(ctx)
	if err != nil {
		return false
	}
	g, err := spec.Global(name)
	return err == nil && g.PerCPU
}

// OnlineCPUs returns the CPUs online at the crash, ascending.
func (k *Kernel) OnlineCPUs(ctx context.Context) ([]int, error) {
	p, err := k.perCPUAreas(ctx)
	if err != nil {
		return nil, err
	}
	return append([]int(nil), p.online...), nil
}

// readWord reads one unsigned long.
func (k *Kernel) readWord(ctx context.Context, va uint64) (uint64, error) {
	b := make([]byte, k.ptrSize())
	if err := k.readVirt(ctx, va, b); err != nil {
		return 0, err
	}
	return ptrAt(b, 0, len(b)), nil
}
