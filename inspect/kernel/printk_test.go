package kernel

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"dumpscope/model"
)

// The VMCOREINFO printk lines of the fixture kernels (Linux 6.1), 64- and
// 32-bit: the layouts the writers below follow.
const prbInfo64 = `SYMBOL(prb)=ffffffff80a1a010
SIZE(printk_ringbuffer)=88
OFFSET(printk_ringbuffer.desc_ring)=0
OFFSET(printk_ringbuffer.text_data_ring)=48
OFFSET(printk_ringbuffer.fail)=80
SIZE(prb_desc_ring)=48
OFFSET(prb_desc_ring.count_bits)=0
OFFSET(prb_desc_ring.descs)=8
OFFSET(prb_desc_ring.infos)=16
OFFSET(prb_desc_ring.head_id)=24
OFFSET(prb_desc_ring.tail_id)=32
SIZE(prb_desc)=24
OFFSET(prb_desc.state_var)=0
OFFSET(prb_desc.text_blk_lpos)=8
SIZE(prb_data_blk_lpos)=16
OFFSET(prb_data_blk_lpos.begin)=0
OFFSET(prb_data_blk_lpos.next)=8
SIZE(printk_info)=88
OFFSET(printk_info.seq)=0
OFFSET(printk_info.ts_nsec)=8
OFFSET(printk_info.text_len)=16
OFFSET(printk_info.caller_id)=20
OFFSET(printk_info.dev_info)=24
SIZE(dev_printk_info)=64
OFFSET(dev_printk_info.subsystem)=0
LENGTH(printk_info_subsystem)=16
OFFSET(dev_printk_info.device)=16
LENGTH(printk_info_device)=48
SIZE(prb_data_ring)=32
OFFSET(prb_data_ring.size_bits)=0
OFFSET(prb_data_ring.data)=8
OFFSET(prb_data_ring.head_lpos)=16
OFFSET(prb_data_ring.tail_lpos)=24
SIZE(atomic_long_t)=8
OFFSET(atomic_long_t.counter)=0
`

const prbInfo32 = `SYMBOL(prb)=c03c2710
SIZE(printk_ringbuffer)=44
OFFSET(printk_ringbuffer.desc_ring)=0
OFFSET(printk_ringbuffer.text_data_ring)=24
OFFSET(prb_desc_ring.count_bits)=0
OFFSET(prb_desc_ring.descs)=4
OFFSET(prb_desc_ring.infos)=8
OFFSET(prb_desc_ring.head_id)=12
OFFSET(prb_desc_ring.tail_id)=16
SIZE(prb_desc)=12
OFFSET(prb_desc.state_var)=0
OFFSET(prb_desc.text_blk_lpos)=4
OFFSET(prb_data_blk_lpos.begin)=0
OFFSET(prb_data_blk_lpos.next)=4
SIZE(printk_info)=88
OFFSET(printk_info.seq)=0
OFFSET(printk_info.ts_nsec)=8
OFFSET(printk_info.text_len)=16
OFFSET(printk_info.caller_id)=20
OFFSET(printk_info.dev_info)=24
OFFSET(dev_printk_info.subsystem)=0
LENGTH(printk_info_subsystem)=16
OFFSET(dev_printk_info.device)=16
LENGTH(printk_info_device)=48
OFFSET(prb_data_ring.size_bits)=0
OFFSET(prb_data_ring.data)=4
OFFSET(prb_data_ring.head_lpos)=8
OFFSET(prb_data_ring.tail_lpos)=12
OFFSET(atomic_long_t.counter)=0
`

// prbRec is a record to write: state 0 reserved, 1 committed, 2
// finalized; dataless gives FAILED_LPOS; short stores fewer text bytes
// than text_len says; staleID stores another ID in the descriptor.
type prbRec struct {
	text     string
	level    int
	caller   uint32
	state    uint64
	dataless bool
	short    int
	staleID  bool
	device   string
}

// prbWriter lays out a ring buffer the way printk_ringbuffer.c fills one.
type prbWriter struct {
	mem                     *pageMem
	l                       prbLayout
	ptr                     uint64
	countBits, sizeBits     uint64
	rb, descs, infos, data  uint64
	firstID, lpos, longMask uint64
	tsBase                  uint64 // the first record's time
}

// layoutOf parses a VMCOREINFO fragment with the engine's own reader.
func layoutOf(t testing.TB, arch, vmci string) prbLayout {
	t.Helper()
	l, err := testKernel(arch, vmci, newPageMem(), 0).prbLayout()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// write stores recs with IDs from firstID and data from lpos on, and
// returns the lines vmcore-dmesg would print for them.
func (w *prbWriter) write(recs []prbRec) []string {
	l, m := w.l, w.mem
	size := uint64(1) << w.sizeBits
	idMask := w.longMask >> 2
	put := func(a, v uint64) {
		if w.ptr == 8 {
			m.put64(a, v)
		} else {
			m.put32(a, uint32(v))
		}
	}
	put(l.prb, w.rb)
	m.put32(w.rb+l.descRing+l.countBits, uint32(w.countBits))
	put(w.rb+l.descRing+l.descs, w.descs)
	put(w.rb+l.descRing+l.infos, w.infos)
	m.put32(w.rb+l.textDataRing+l.sizeBits, uint32(w.sizeBits))
	put(w.rb+l.textDataRing+l.data, w.data)
	var want []string
	id := w.firstID
	for i, r := range recs {
		id = (w.firstID + uint64(i)) & idMask
		slot := id % (1 << w.countBits)
		desc, info := w.descs+slot*l.descSize, w.infos+slot*l.infoSize
		begin, next := uint64(1), uint64(1) // FAILED_LPOS
		stored := len(r.text) - r.short
		if !r.dataless {
			blk := (w.ptr + uint64(stored) + w.ptr - 1) &^ (w.ptr - 1)
			begin, next = w.lpos, w.lpos+blk
			at := begin % size
			if begin/size != next/size { // wraps: stored at the start
				next = (next/size)*size + blk
				put(w.data+at, id)
				at = 0
			}
			put(w.data+at, id)
			m.write(w.data+at+w.ptr, []byte(r.text[:stored]))
			w.lpos = next
		}
		sv := r.state<<(8*w.ptr-2) | id
		if r.staleID {
			sv = r.state<<(8*w.ptr-2) | (id-1)&idMask
		}
		put(desc+l.stateVar, sv)
		put(desc+l.textBlkLpos+l.lposBegin, begin&w.longMask)
		put(desc+l.textBlkLpos+l.lposNext, next&w.longMask)
		m.put64(info+l.seq, uint64(100+i))
		m.put64(info+l.tsNsec, w.tsBase+uint64(i)*1234567891)
		m.put16(info+l.textLen, uint16(len(r.text)))
		m.write(info+l.textLen+2, []byte{0, byte(r.level << 5)})
		m.put32(info+l.callerID, r.caller)
		m.write(info+l.devInfo+l.device, []byte(r.device+"\x00"))
		if (r.state == descCommitted || r.state == descFinalized) && !r.staleID {
			text := r.text[:stored]
			if r.dataless {
				text = ""
			}
			want = append(want, model.DmesgLine(model.LogRecord{TimestampNS: w.tsBase + uint64(i)*1234567891, Text: text}))
		}
	}
	put(w.rb+l.descRing+l.tailID, w.firstID&idMask)
	put(w.rb+l.descRing+l.headID, id)
	return want
}

func testRecords() []prbRec {
	return []prbRec{
		{text: "Linux version 6.1.0", level: 5, caller: 0, state: descFinalized},
		{text: "a reserved record is skipped", state: 0},
		{text: "tab\there, bell\a, é and\nsecond line", level: 4, caller: 0x80000001, state: descFinalized, device: "+pci:0000:00:01.0"},
		{text: "", state: descFinalized, dataless: true},
		{text: "stale descriptor", state: descFinalized, staleID: true},
		{text: "this text was cut short by the writer", short: 13, state: descCommitted, caller: 42},
		{text: strings.Repeat("x", 60), state: descFinalized},
		{text: "after the wrap", level: 3, state: descFinalized, caller: 7},
	}
}

// TestPRB writes ring buffers of both word sizes, with the descriptor IDs
// wrapping around their mask and a data block wrapping the ring, and
// reads them back.
func TestPRB(t *testing.T) {
	for _, c := range []struct {
		arch, vmci string
		ptr        uint64
	}{{"x86_64", prbInfo64, 8}, {"i386", prbInfo32, 4}} {
		t.Run(c.arch, func(t *testing.T) {
			mem := newPageMem()
			mask := uint64(1)<<(8*c.ptr) - 1
			w := &prbWriter{mem: mem, l: layoutOf(t, c.arch, c.vmci), ptr: c.ptr, countBits: 4, sizeBits: 9,
				rb: 0x10000, descs: 0x20000, infos: 0x30000, data: 0x40000,
				firstID: mask>>2 - 2, lpos: 2<<9 - 3*c.ptr, longMask: mask}
			want := w.write(testRecords())
			recs, err := readPRB(mem.readPhys, w.l)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, model.DmesgLine(r))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if len(recs) != 6 {
				t.Fatalf("%d records, want 6", len(recs))
			}
			r := recs[1]
			if r.Seq != 102 || r.Level != 4 || r.Caller != "C1" || r.Device != "+pci:0000:00:01.0" {
				t.Errorf("record 2: %+v", r)
			}
			if !recs[3].Truncated || recs[3].Caller != "T42" || recs[3].Text != "this text was cut short " {
				t.Errorf("short record: %+v", recs[3])
			}
			if want := `tab	here, bell\x07, \xc3\xa9 and`; !strings.Contains(model.DmesgLine(r), want) {
				t.Errorf("escaping: %q lacks %q", model.DmesgLine(r), want)
			}
			if recs[5].Text != "after the wrap" {
				t.Errorf("wrapped block: %+v", recs[5])
			}
		})
	}
}

// TestPRBCorrupt: impossible sizes and ID spans give ErrCorrupt, a missing
// page gives ErrPageAbsent; neither hangs.
func TestPRBCorrupt(t *testing.T) {
	build := func() (*pageMem, *prbWriter) {
		mem := newPageMem()
		w := &prbWriter{mem: mem, l: layoutOf(t, "x86_64", prbInfo64), ptr: 8, countBits: 4, sizeBits: 9,
			rb: 0x10000, descs: 0x20000, infos: 0x30000, data: 0x40000, firstID: 0, lpos: 0, longMask: ^uint64(0)}
		w.write(testRecords())
		return mem, w
	}
	mem, w := build()
	mem.put32(w.rb+w.l.descRing+w.l.countBits, 40)
	if _, err := readPRB(mem.readPhys, w.l); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("count_bits 40: %v", err)
	}
	mem, w = build()
	mem.put64(w.rb+w.l.descRing+w.l.headID, 1000)
	if _, err := readPRB(mem.readPhys, w.l); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("head far beyond tail: %v", err)
	}
	mem, w = build()
	delete(mem.pages, w.data/4096)
	recs, err := readPRB(mem.readPhys, w.l)
	if !errors.Is(err, model.ErrPageAbsent) || len(recs) != 0 {
		t.Errorf("text ring absent: %d records, %v", len(recs), err)
	}
}

// logBufInfo is the VMCOREINFO of a 5.4 kernel with CONFIG_PRINTK_CALLER.
const logBufInfo = `SYMBOL(log_buf)=ffffffff81000000
SYMBOL(log_buf_len)=ffffffff81000008
SYMBOL(log_first_idx)=ffffffff8100000c
SYMBOL(clear_idx)=ffffffff81000010
SYMBOL(log_next_idx)=ffffffff81000014
SIZE(printk_log)=24
OFFSET(printk_log.ts_nsec)=0
OFFSET(printk_log.len)=8
OFFSET(printk_log.text_len)=10
OFFSET(printk_log.dict_len)=12
`

// TestLogBuf writes a structured log_buf whose records wrap (a len-0
// record sends the reader to index 0) and reads it back.
func TestLogBuf(t *testing.T) {
	mem := newPageMem()
	k := testKernel("x86_64", logBufInfo, mem, 0)
	l, err := k.logBufLayout()
	if err != nil {
		t.Fatal(err)
	}
	const buf, size = 0x50000, 256
	mem.put64(l.logBuf, buf)
	mem.put32(l.logBufLen, size)
	texts := []string{"first, near the end", "second wraps to 0", "third", "fourth"}
	rec := func(idx uint64, i int) uint64 {
		n := (24 + uint64(len(texts[i])) + 7) &^ 7
		mem.put64(buf+idx, uint64(i)*1e9+5e5)
		mem.put16(buf+idx+8, uint16(n))
		mem.put16(buf+idx+10, uint16(len(texts[i])))
		mem.write(buf+idx+14, []byte{0, byte(i << 5)})
		mem.put32(buf+idx+16, uint32(i))
		mem.write(buf+idx+24, []byte(texts[i]))
		return idx + n
	}
	// The kernel places a record only where a header still fits after it
	// (log_store), so the end-of-buffer marker always fits.
	first := uint64(160)
	rec(first, 0)
	mem.put16(buf+first+48+8, 0) // len 0: the end-of-buffer marker
	idx := rec(0, 1)
	idx = rec(idx, 2)
	idx = rec(idx, 3)
	mem.put32(l.firstIdx, uint32(first))
	mem.put32(l.nextIdx, uint32(idx))
	recs, err := readLogBuf(mem.readPhys, l)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%d %d %s %s", r.Seq, r.Level, r.Caller, model.DmesgLine(r)))
	}
	want := "0 0 T0 [    0.000500] first, near the end|1 1 T1 [    1.000500] second wraps to 0|2 2 T2 [    2.000500] third|3 3 T3 [    3.000500] fourth"
	if strings.Join(got, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
	// A chain that never reaches log_next_idx is reported, not followed
	// forever.
	mem.put32(l.nextIdx, 8)
	if _, err := readLogBuf(mem.readPhys, l); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("unreachable log_next_idx: %v", err)
	}
}

// TestLogMissing: what the errors say when the log cannot be found.
func TestLogMissing(t *testing.T) {
	_, err := testKernel("x86_64", "", newPageMem(), 0).Log(bg)
	if !errors.Is(err, model.ErrNotFound) || !strings.Contains(err.Error(), "-device vmcoreinfo") {
		t.Errorf("no VMCOREINFO: %v", err)
	}
	_, err = testKernel("x86_64", "OSRELEASE=6.1\nSYMBOL(prb)=ffffffff80a1a010\n", newPageMem(), 0).Log(bg)
	if !errors.Is(err, model.ErrNotFound) || !strings.Contains(err.Error(), "OFFSET(printk_ringbuffer.desc_ring)") {
		t.Errorf("offsets missing: %v", err)
	}
	_, err = testKernel("x86_64", "OSRELEASE=3.4\n", newPageMem(), 0).Log(bg)
	if !errors.Is(err, model.ErrNotFound) || !strings.Contains(err.Error(), "SYMBOL(prb)") {
		t.Errorf("no log symbols: %v", err)
	}
}
