package kernel

import (
	"testing"

	"dumpscope/model"
)

// TestTaskStateTables: the state bits come from the kernel's own tables
// in memory: task_state_array[] of 4.14+ (with the bits after
// TASK_PARKED), stat_nam[] of 2.6.33–4.13, and task_state_array[] alone
// (2.6.32: the bits after EXIT_DEAD); crash's letters follow.
func TestTaskStateTables(t *testing.T) {
	const arr, strs = 0x200000, 0x201000
	for _, c := range []struct {
		name    string
		table   string // "array" or "stat_nam"
		entries []string
		want    map[uint64]string
	}{
		{"4.14+", "array", []string{"R (running)", "S (sleeping)", "D (disk sleep)", "T (stopped)", "t (tracing stop)", "X (dead)", "Z (zombie)", "P (parked)", "I (idle)"},
			map[uint64]string{0: "RU", 1: "IN", 0x2001: "IN", 2: "UN", 0x402: "ID", 4: "ST", 8: "TR", 0x10: "DE", 0x80: "DE", 0x20: "ZO", 0x40: "PA", 0x200: "WA", 0x800: "NE", 0x1000: "??"}},
		{"3.14-4.13", "stat_nam", []string{"RSDTtXZxKWPN"},
			map[uint64]string{0: "RU", 1: "IN", 2: "UN", 0x402: "ID", 0x10: "DE", 0x20: "ZO", 0x40: "DE", 0x200: "PA", 0x100: "WA"}},
		{"2.6.32", "array", []string{"R (running)", "S (sleeping)", "D (disk sleep)", "T (stopped)", "t (tracing stop)", "Z (zombie)", "X (dead)"},
			map[uint64]string{1: "IN", 0x10: "ZO", 0x20: "DE", 0x40: "DE", 0x100: "WA"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, mem, _ := x8664Kernel(t, pageOffsetL4, 0x1000000)
			syms := []model.Symbol{{Name: "_stext", Type: "T", Addr: startKernelMap + 0x200000}, {Name: "_etext", Type: "T", Addr: startKernelMap + 0x300000}}
			if c.table == "array" {
				at := uint64(strs)
				for i, e := range c.entries {
					mem.put64(arr+uint64(8*i), va(at))
					mem.write(at, append([]byte(e), 0))
					at += 32
				}
				syms = append(syms, model.Symbol{Name: "task_state_array", Type: "d", Addr: model.VirtAddr(va(arr))}, model.Symbol{Name: "zz_next", Type: "d", Addr: model.VirtAddr(va(arr + 0x80))})
			} else {
				mem.write(arr, append([]byte(c.entries[0]), 0))
				syms = append(syms, model.Symbol{Name: "stat_nam", Type: "r", Addr: model.VirtAddr(va(arr))}, model.Symbol{Name: "zz_next", Type: "r", Addr: model.VirtAddr(va(arr + 0x10))})
			}
			withObjects(k, symbolsOf(syms), nil)
			st, err := k.taskStateBits(bg)
			if err != nil {
				t.Fatal(err)
			}
			for state, want := range c.want {
				if got := st.letters(state); got != want {
					t.Errorf("%#x: %s, want %s (%s)", state, got, want, st.from)
				}
			}
		})
	}
}
