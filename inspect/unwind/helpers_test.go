package unwind

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"dumpscope/model"
)

// fakeMem is a sparse memory of 4 KiB pages; pages never written are
// absent.
type fakeMem struct {
	pages map[uint64][]byte
	reads int
}

func newFakeMem() *fakeMem { return &fakeMem{pages: map[uint64][]byte{}} }

func (m *fakeMem) ReadVirt(va uint64, p []byte) error {
	m.reads++
	for len(p) > 0 {
		pg, ok := m.pages[va&^0xfff]
		if !ok {
			return fmt.Errorf("fake memory %#x: %w", va, model.ErrPageAbsent)
		}
		n := copy(p, pg[va&0xfff:])
		p, va = p[n:], va+uint64(n)
	}
	return nil
}

func (m *fakeMem) write(va uint64, b []byte) {
	for len(b) > 0 {
		pg, ok := m.pages[va&^0xfff]
		if !ok {
			pg = make([]byte, 4096)
			m.pages[va&^0xfff] = pg
		}
		n := copy(pg[va&0xfff:], b)
		b, va = b[n:], va+uint64(n)
	}
}

func (m *fakeMem) put64(va uint64, vals ...uint64) {
	for i, v := range vals {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		m.write(va+8*uint64(i), b[:])
	}
}

func (m *fakeMem) put32(va uint64, vals ...uint32) {
	for i, v := range vals {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], v)
		m.write(va+4*uint64(i), b[:])
	}
}

// fakeText is a list of functions [start, start+size).
type fakeText []struct{ start, size uint64 }

func (t fakeText) FuncStart(pc uint64) (uint64, bool) {
	for _, f := range t {
		if pc >= f.start && pc < f.start+f.size {
			return f.start, true
		}
	}
	return 0, false
}

// orcRow is one entry of a writer-made table.
type orcRow struct {
	ip uint64
	e  Entry
}

// encodeTable writes the two arrays of a table for ip array address
// ipAddr in a layout, sorted by ip.
func encodeTable(t testing.TB, l Layout, ipAddr uint64, rows []orcRow) (ip, raw []byte) {
	t.Helper()
	rows = append([]orcRow(nil), rows...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].ip < rows[j].ip })
	ip = make([]byte, 4*len(rows))
	raw = make([]byte, entrySize*len(rows))
	for i, r := range rows {
		binary.LittleEndian.PutUint32(ip[4*i:], uint32(int32(int64(r.ip-(ipAddr+4*uint64(i))))))
		f, ok := encodeFlags(r.e, l)
		if !ok {
			t.Fatalf("entry %v cannot be written in %v", r.e, l)
		}
		binary.LittleEndian.PutUint16(raw[entrySize*i:], uint16(r.e.SPOffset))
		binary.LittleEndian.PutUint16(raw[entrySize*i+2:], uint16(r.e.BPOffset))
		binary.LittleEndian.PutUint16(raw[entrySize*i+4:], f)
	}
	return ip, raw
}

// Common entries.
var (
	eCall8      = Entry{Type: TypeCall, SPReg: RegSP, SPOffset: 8}
	eCall16BP   = Entry{Type: TypeCall, SPReg: RegSP, SPOffset: 16, BPReg: RegPrevSP, BPOffset: -16}
	eEnd        = Entry{Type: TypeEndOfStack}
	eUndef      = Entry{Type: TypeUndefined}
	eRegs       = Entry{Type: TypeRegs, SPReg: RegSP, Signal: true}
	eRegsIret   = Entry{Type: TypeRegsPartial, SPReg: RegSP, Signal: true}
	eSwizzle    = Entry{Type: TypeCall, SPReg: RegSPIndirect, SPOffset: 8}
	eCallBPBase = Entry{Type: TypeCall, SPReg: RegBP, SPOffset: 16, BPReg: RegPrevSP, BPOffset: -16}
)

// realisticRows is a table mix a kernel has: call frames with and without
// a saved bp, entry code (regs, iret regs, with signal), end-of-stack and
// terminators.
func realisticRows(base uint64) []orcRow {
	var rows []orcRow
	for i := uint64(0); i < 64; i++ {
		fn := base + i*0x100
		rows = append(rows, orcRow{fn, eCall8}, orcRow{fn + 1, eCall16BP}, orcRow{fn + 0x40, eCall8}, orcRow{fn + 0xf0, eUndef})
	}
	rows = append(rows, orcRow{base + 0x10000, eRegs}, orcRow{base + 0x10010, eRegsIret}, orcRow{base + 0x10020, eEnd},
		orcRow{base + 0x10030, Entry{Type: TypeCall, SPReg: RegR10, BPReg: RegUndefined}},
		orcRow{base + 0x10040, eSwizzle}, orcRow{base + 0x10050, eUndef})
	return rows
}

// TestReadTableWholeAndChunked: a table whose last entries are readable
// is read with one read per array; when a page in the middle is missing,
// the error still names the chunk of entries that could not be read.
func TestReadTableWholeAndChunked(t *testing.T) {
	const n = 30000
	const ipAddr, uAddr = 0xffffffff82000000, 0xffffffff82100000
	mem := newFakeMem()
	ips := make([]uint32, n)
	raw := make([]byte, entrySize*n)
	for i := range ips {
		ips[i] = uint32(16*i - 4*i) // ascending after adding the entry's own address
		raw[entrySize*i] = byte(i)
	}
	mem.put32(ipAddr, ips...)
	mem.write(uAddr, raw)
	tab, err := readTable(mem, "vmlinux", ipAddr, uAddr, n)
	if err != nil {
		t.Fatal(err)
	}
	if mem.reads > 6 {
		t.Errorf("%d reads of memory for a readable table, want one per array (and the two last entries)", mem.reads)
	}
	for _, i := range []int{0, 1, 4095, n - 1} {
		if got, want := tab.IP(i), uint64(ipAddr)+4*uint64(i)+uint64(ips[i]); got != want || tab.raw[entrySize*i] != byte(i) {
			t.Errorf("entry %d: ip %#x, want %#x; raw %d", i, got, want, tab.raw[entrySize*i])
		}
	}
	// A missing page of orc_unwind, away from its end.
	hole := uint64(uAddr+entrySize*20000) &^ 0xfff
	delete(mem.pages, hole)
	_, err = readTable(mem, "vmlinux", ipAddr, uAddr, n)
	per := uint64(readChunk / entrySize)
	lo := (hole - uAddr) / entrySize / per * per
	if want := fmt.Sprintf("orc_unwind entries %d-%d ", lo, lo+per-1); err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, model.ErrPageAbsent) {
		t.Errorf("a missing page: %v, want %q", err, want)
	}
}
