package unwind

import (
	"encoding/binary"
	"testing"
)

// FuzzTable: hostile ORC tables, through memory (symbols that lie) and in
// hand: an error or a table whose lookups stay in bounds.
func FuzzTable(f *testing.F) {
	for _, l := range allLayouts {
		ip, raw := encodeTable(f, l, ipTable, realisticRows(tBase))
		f.Add(append(ip, raw...), uint64(len(ip)), uint64(len(raw)), uint8(l))
	}
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, uint64(4), uint64(6), uint8(0))
	f.Add(make([]byte, 100), uint64(1<<40), uint64(6<<40), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, ipLen, uLen uint64, hint uint8) {
		mem := newFakeMem()
		mem.write(ipTable, data)
		s := VmlinuxSymbols{StartIP: ipTable, StopIP: ipTable + ipLen, StartUnwind: ipTable + ipLen, StopUnwind: ipTable + ipLen + uLen,
			Release: []string{"", "4.19", "6.3", "6.5", "7.1"}[hint%5]}
		if hint&0x80 != 0 && len(data) >= 6 {
			mem.write(0xffffffff83000000, data[:6])
			s.FPEntry = 0xffffffff83000000
		}
		tab, _, err := ReadVmlinux(mem, s)
		if err == nil {
			probe(t, NewORC(tab), data)
		}
		n := len(data) / 10
		if n == 0 {
			return
		}
		d, err := DetectLayout(data[4*n:10*n], Evidence{Release: s.Release})
		for l := LayoutV1; l <= LayoutV4; l++ {
			bad := 0
			for i := 4 * n; i < 10*n; i += 6 {
				if _, ok := decodeEntry(data[i:], l); !ok {
					bad++
				}
			}
			if d.Invalid[l] != bad {
				t.Fatalf("%v: DetectLayout counts %d entries that do not decode, entry by entry %d", l, d.Invalid[l], bad)
			}
		}
		if err != nil {
			return
		}
		tab, err = NewTable("fuzz", Layout(hint%4+1), ipTable, data[:4*n], data[4*n:10*n])
		if err == nil {
			probe(t, NewORC(tab), data)
		}
	})
}

func probe(t *testing.T, o *ORC, data []byte) {
	tab := o.Tables()[0]
	if tab.Lo > tab.Hi {
		t.Fatalf("table range %#x-%#x", tab.Lo, tab.Hi)
	}
	for i := 0; i+8 <= len(data) && i < 64; i += 8 {
		pc := binary.LittleEndian.Uint64(data[i:])
		_, _ = o.Find(pc)
		_, _ = o.Find(tab.Lo + pc%(tab.Hi-tab.Lo+1))
	}
}

// FuzzUnwind: hostile stacks, tables and code, from every start: an error
// or a bounded trace, never a hang.
func FuzzUnwind(f *testing.F) {
	seedStack := make([]byte, 0x200)
	for i, w := range []uint64{0xdead0001, fB + 0x20, fC + 0x30, 0, 0, fTop + 5, fE + 0x15, fI + 0x25} {
		binary.LittleEndian.PutUint64(seedStack[8*i:], w)
	}
	_, raw := encodeTable(f, LayoutV3, ipTable, synthRows())
	f.Add(seedStack, raw, uint64(fA+0x10), uint64(0x100), uint64(0), uint8(0))
	f.Add(seedStack, raw, uint64(fH+8), uint64(0x40), uint64(0x1000), uint8(1))
	f.Add(seedStack, []byte{0x55, 0x48, 0x89, 0xe5, 0xe8, 0, 0, 0, 0, 0xc3}, uint64(fA+0x10), uint64(0x80), uint64(0x10000), uint8(2))
	f.Fuzz(func(t *testing.T, stack, table []byte, ip, spOff, bp uint64, mode uint8) {
		if len(stack) > 0x8000 || len(table) > 0x6000 {
			return
		}
		mem := newFakeMem()
		base := uint64(stkTask + 0x4000 - 0x2000)
		mem.write(base, stack)
		mem.write(stkNMI+0x2000-uint64(min(len(stack), 0x2000)), stack[:min(len(stack), 0x2000)])
		mem.write(tBase, table) // the same bytes are the functions' code
		sp := base + spOff%0x2000
		var rows []orcRow
		for i := 0; i+6 <= len(table) && i < 6*256; i += 6 {
			rows = append(rows, orcRow{tBase + uint64(i/6)*16, Entry{}})
		}
		cfg := Config{Mem: mem, Text: synthText, MaxFrames: 64}
		if len(rows) > 0 {
			ipb := make([]byte, 4*len(rows))
			for i, r := range rows {
				binary.LittleEndian.PutUint32(ipb[4*i:], uint32(int32(int64(r.ip-(ipTable+4*uint64(i))))))
			}
			tab, err := NewTable("fuzz", Layout(mode%4+1), ipTable, ipb, table[:6*len(rows)])
			if err != nil {
				t.Fatal(err)
			}
			cfg.ORC = NewORC(tab)
		}
		if mode&0x10 != 0 {
			cfg.ORC, cfg.WordSize = nil, 4<<(mode>>5&1)
		}
		u, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := kernelRegs(ip, sp, bp)
		for _, saved := range []Saved{SavedInterrupted, SavedByCode} {
			check(t, u.CPU(r, taskStacks, saved), cfg.MaxFrames)
		}
		check(t, u.CPU(r, nil, SavedInterrupted), cfg.MaxFrames)
		check(t, u.Task(TaskStart{ThreadSP: sp, Frame: InactiveTaskFrame{Size: 56, BP: 40, RetAddr: 48}, RetFromFork: ip}, taskStacks), cfg.MaxFrames)
	})
}

func check(t *testing.T, tr *Trace, max int) {
	if len(tr.Frames) > max+2 || tr.End == 0 {
		t.Fatalf("%d frames (max %d), end %v", len(tr.Frames), max, tr.End)
	}
	for i, f := range tr.Frames {
		if f.Level != i {
			t.Fatalf("frame %d has level %d", i, f.Level)
		}
	}
}
