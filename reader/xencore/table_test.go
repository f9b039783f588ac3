package xencore

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand"
	"testing"

	"dumpscope/reader"
)

// tableOf builds a frame table over raw entries with small blocks, so the
// two-level search crosses block boundaries even in small tests.
func tableOf(raw []byte, kind tableKind, per int64) *frameTable {
	ent, word := int64(16), int64(8)
	switch kind {
	case kindPFN:
		ent = 8
	case kindMFN:
		ent, word = 4, 4
	}
	src := reader.Source{Name: "t", R: bytes.NewReader(raw), Size: int64(len(raw))}
	t := newFrameTable(src, binary.LittleEndian, ".xen_test", kind, 0, int64(len(raw))/ent, ent, word)
	t.per = per
	return t
}

// model is the reference: the table's keys decoded directly, the first
// entry of every valid key, and whether a binary search is valid on it
// (keys never decrease, all ones counting as the largest).
type refModel struct {
	keys   []uint64
	first  map[uint64]int64
	sorted bool
	limit  uint64
}

func newModel(t *frameTable) *refModel {
	m := &refModel{first: map[uint64]int64{}, sorted: true}
	for i := int64(0); i < t.n; i++ {
		k, _, err := t.entry(i)
		if err != nil {
			panic(err)
		}
		if i > 0 && k < m.keys[i-1] {
			m.sorted = false
		}
		m.keys = append(m.keys, k)
		if _, ok := m.first[k]; !ok && k != t.invalid {
			m.first[k] = i
			m.limit = max(m.limit, k+1)
		}
	}
	return m
}

// checkTableModel compares lookups of every key (and of the keys beside
// them), the walk and the limit with the reference.
func checkTableModel(tb testing.TB, t *frameTable) {
	tb.Helper()
	m := newModel(t)
	probes := []uint64{0, t.invalid}
	for k := range m.first {
		probes = append(probes, k, k+1)
	}
	probe := func(when string) {
		for _, k := range probes {
			want, wok := m.first[k]
			got, ok, err := t.lookup(k)
			if err != nil || ok != wok || (ok && got != want) {
				tb.Fatalf("%s: lookup(%#x) = %d %v %v, want %d %v", when, k, got, ok, err, want, wok)
			}
		}
	}
	if m.sorted {
		probe("sorted table")
	}
	// A walk lists every valid key once, ascending, with its first entry
	// (sorting the table in memory if it is not sorted).
	var walked []uint64
	if err := t.walk(context.Background(), 0, func(k uint64, idx int64) bool {
		if want, ok := m.first[k]; !ok || want != idx {
			tb.Fatalf("walk: key %#x at entry %d, first entry is %d (%v)", k, idx, want, ok)
		}
		walked = append(walked, k)
		return true
	}); err != nil {
		tb.Fatal(err)
	}
	for i := 1; i < len(walked); i++ {
		if walked[i] <= walked[i-1] {
			tb.Fatalf("walk not ascending: %v", walked)
		}
	}
	if len(walked) != len(m.first) {
		tb.Fatalf("walk found %d keys, the table has %d", len(walked), len(m.first))
	}
	probe("after walk")
	if got := t.limit(); got != m.limit {
		tb.Fatalf("limit %#x, want %#x", got, m.limit)
	}
}

func encode(kind tableKind, keys []uint64) []byte {
	var b []byte
	for i, k := range keys {
		switch kind {
		case kindP2M:
			g := uint64(0x1000 + i)
			if k == ^uint64(0) {
				g = k
			}
			b = binary.LittleEndian.AppendUint64(b, k)
			b = binary.LittleEndian.AppendUint64(b, g)
		case kindPFN:
			b = binary.LittleEndian.AppendUint64(b, k)
		case kindMFN:
			b = binary.LittleEndian.AppendUint32(b, uint32(k))
		}
	}
	return b
}

// TestTableModel runs random sorted tables (with repeats, gaps and an
// invalid tail), shuffled tables and legacy indexes against the reference.
func TestTableModel(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 200; round++ {
		n := rng.Intn(300)
		keys := make([]uint64, 0, n)
		k := uint64(rng.Intn(5))
		for len(keys) < n {
			keys = append(keys, k)
			k += uint64(rng.Intn(3)) // 0: a repeat
		}
		for i := rng.Intn(4); i > 0; i-- {
			keys = append(keys, ^uint64(0))
		}
		if round%3 == 2 {
			rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		}
		kind := []tableKind{kindP2M, kindPFN}[round%2]
		if round%5 == 4 {
			kind = kindMFN
			for i := range keys {
				keys[i] &= 0xffffffff
			}
		}
		checkTableModel(t, tableOf(encode(kind, keys), kind, int64(1+rng.Intn(7))))
	}
}

// FuzzFrameTable feeds arbitrary bytes as a .xen_p2m, .xen_pfn or legacy
// index, with blocks of 1 to 8 entries, and checks lookups, walks and
// limits against the reference.
func FuzzFrameTable(f *testing.F) {
	f.Add(encode(kindP2M, []uint64{1, 2, 2, 5, 9, ^uint64(0)}), uint8(0), uint8(2))
	f.Add(encode(kindPFN, []uint64{0, 1, 2, 3, 0x100, 0x101, 0x200}), uint8(1), uint8(3))
	f.Add(encode(kindPFN, []uint64{7, 3, ^uint64(0), 5}), uint8(1), uint8(1))
	f.Add(encode(kindMFN, []uint64{0x20005, 0x20001, 0x20003, 0x20001}), uint8(2), uint8(4))
	f.Fuzz(func(t *testing.T, raw []byte, kind, per uint8) {
		if len(raw) > 1<<12 {
			return
		}
		k := tableKind(kind % 3)
		checkTableModel(t, tableOf(raw, k, int64(per%8)+1))
	})
}
