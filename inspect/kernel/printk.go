package kernel

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"dumpscope/model"
)

// Log reads the kernel log, oldest record first: the lockless ring buffer
// when VMCOREINFO has SYMBOL(prb) (Linux 5.10 and later), else the
// structured log_buf (Linux 3.5 to 5.9). On an error part-way it returns
// the records read so far with the error. The log is read once.
func (k *Kernel) Log(ctx context.Context) ([]model.LogRecord, error) {
	return k.log.get(ctx, k.readLog)
}

func (k *Kernel) readLog(ctx context.Context) ([]model.LogRecord, error) {
	const what = "the kernel log"
	if k.vmci == nil {
		return nil, k.noVMCoreInfo(what)
	}
	if _, ok := k.vmci.Symbol("prb"); ok {
		return readLogWith(ctx, k, what+" (printk ring buffer)", k.prbLayout, readPRB)
	}
	if _, ok := k.vmci.Symbol("log_first_idx"); ok {
		return readLogWith(ctx, k, what+" (log_buf)", k.logBufLayout, readLogBuf)
	}
	return nil, &MissingError{File: k.name, What: what,
		Err:  fmt.Errorf("VMCOREINFO has neither SYMBOL(prb) nor SYMBOL(log_first_idx): %w", model.ErrNotFound),
		Hint: "kernels before 3.5 keep a plain text log_buf, which this reader does not decode"}
}

// readLogWith reads the log with one of its two readers: layout finds the
// fields from VMCOREINFO (its error already says what is missing), read
// walks the records; a failed read returns the records read so far and
// says that what (the log, by its structure) is missing.
func readLogWith[L any](ctx context.Context, k *Kernel, what string, layout func() (L, error), read func(readFunc, L) ([]model.LogRecord, error)) ([]model.LogRecord, error) {
	l, err := layout()
	if err != nil {
		return nil, err
	}
	recs, err := read(k.reader(ctx), l)
	if err != nil {
		return recs, k.missing(what, err)
	}
	return recs, nil
}

// ---- lockless ring buffer (Linux 5.10+) -------------------------------------
//
// kernel/printk/printk_ringbuffer.h: struct printk_ringbuffer holds a
// descriptor ring and a text data ring.
//
//   - prb_desc_ring: count_bits (unsigned int; 2^count_bits descriptors),
//     descs (struct prb_desc *), infos (struct printk_info *), head_id and
//     tail_id (atomic_long_t): the newest and oldest descriptor IDs.
//   - prb_desc: state_var (atomic_long_t: the top two bits are the state,
//     the rest the ID it holds), text_blk_lpos {begin, next} (unsigned
//     long logical positions in the data ring).
//   - prb_data_ring: size_bits, data (char *), head_lpos, tail_lpos. A
//     data block starts with the descriptor ID (unsigned long), then the
//     text. A block that would wrap is stored at the ring's start instead.
//   - printk_info: seq, ts_nsec (u64), text_len (u16), facility (u8),
//     flags:5 and level:3 (u8), caller_id (u32), dev_info {subsystem[16],
//     device[48]}.
//
// Records are the IDs from tail_id to head_id. kexec-tools' vmcore-dmesg
// (util_lib/elf_info.c dump_dmesg_lockless) prints those whose state is
// committed or finalized; so does this reader.

// Descriptor states (enum desc_state).
const (
	descCommitted = 1
	descFinalized = 2
)

// Bounds from the kernel: log_buf_len is at most 2^31 (LOG_BUF_LEN_MAX,
// kernel/printk/printk.c) and there is a descriptor per 2^5 bytes
// (PRB_AVGBITS).
const (
	maxDataSizeBits = 31
	maxCountBits    = 31 - 5
)

// prbLayout is where the ring buffer's fields are, from VMCOREINFO.
type prbLayout struct {
	ptrSize int
	prb     uint64 // SYMBOL(prb): a struct printk_ringbuffer * variable

	descRing, textDataRing                               uint64 // in printk_ringbuffer
	countBits, descs, infos, headID, tailID              uint64 // in prb_desc_ring
	descSize, stateVar, textBlkLpos, lposBegin, lposNext uint64
	infoSize, seq, tsNsec, textLen, callerID, devInfo    uint64
	sizeBits, data                                       uint64 // in prb_data_ring
	counter                                              uint64 // OFFSET(atomic_long_t.counter)
	// Optional dev_printk_info fields; subsystemLen 0 when absent.
	subsystem, subsystemLen, device, deviceLen uint64
}

func (k *Kernel) prbLayout() (prbLayout, error) {
	n := &need{k: k}
	l := prbLayout{ptrSize: k.ptrSize()}
	l.prb = n.symbol("prb")
	l.descRing = n.offset("printk_ringbuffer.desc_ring")
	l.textDataRing = n.offset("printk_ringbuffer.text_data_ring")
	l.countBits = n.offset("prb_desc_ring.count_bits")
	l.descs = n.offset("prb_desc_ring.descs")
	l.infos = n.offset("prb_desc_ring.infos")
	l.headID = n.offset("prb_desc_ring.head_id")
	l.tailID = n.offset("prb_desc_ring.tail_id")
	l.descSize = n.size("prb_desc")
	l.stateVar = n.offset("prb_desc.state_var")
	l.textBlkLpos = n.offset("prb_desc.text_blk_lpos")
	l.lposBegin = n.offset("prb_data_blk_lpos.begin")
	l.lposNext = n.offset("prb_data_blk_lpos.next")
	l.infoSize = n.size("printk_info")
	l.seq = n.offset("printk_info.seq")
	l.tsNsec = n.offset("printk_info.ts_nsec")
	l.textLen = n.offset("printk_info.text_len")
	l.callerID = n.offset("printk_info.caller_id")
	l.devInfo = n.offset("printk_info.dev_info")
	l.sizeBits = n.offset("prb_data_ring.size_bits")
	l.data = n.offset("prb_data_ring.data")
	l.counter = n.offset("atomic_long_t.counter")
	if err := n.err("the kernel log (printk ring buffer)", ""); err != nil {
		return l, err
	}
	opt := &need{k: k}
	sub, subLen := opt.offset("dev_printk_info.subsystem"), opt.length("printk_info_subsystem")
	dev, devLen := opt.offset("dev_printk_info.device"), opt.length("printk_info_device")
	if len(opt.miss) == 0 {
		l.subsystem, l.subsystemLen, l.device, l.deviceLen = sub, subLen, dev, devLen
	}
	return l, nil
}

// readPRB reads every committed record of the ring buffer.
func readPRB(read readFunc, l prbLayout) ([]model.LogRecord, error) {
	ptr := func(b []byte, off uint64) uint64 {
		if off+uint64(l.ptrSize) > uint64(len(b)) {
			return 0
		}
		return ptrAt(b[off:], 0, l.ptrSize)
	}
	pb := make([]byte, l.ptrSize)
	if err := read(l.prb, pb); err != nil {
		return nil, fmt.Errorf("the prb pointer at %#x: %w", l.prb, err)
	}
	rbAddr := ptrAt(pb, 0, l.ptrSize)
	// Read both rings' headers: the largest offset used plus a pointer.
	span := max(l.descRing+max(l.countBits+4, l.descs, l.infos, l.headID+l.counter, l.tailID+l.counter),
		l.textDataRing+max(l.sizeBits+4, l.data)) + uint64(l.ptrSize)
	rb := make([]byte, span)
	if err := read(rbAddr, rb); err != nil {
		return nil, fmt.Errorf("struct printk_ringbuffer at %#x: %w", rbAddr, err)
	}
	dr, tr := rb[l.descRing:], rb[l.textDataRing:]
	countBits := uint64(binary.LittleEndian.Uint32(dr[l.countBits:]))
	sizeBits := uint64(binary.LittleEndian.Uint32(tr[l.sizeBits:]))
	if countBits > maxCountBits || sizeBits > maxDataSizeBits || sizeBits < 4 {
		return nil, fmt.Errorf("printk ring sizes 2^%d descriptors, 2^%d text bytes are impossible: %w", countBits, sizeBits, model.ErrCorrupt)
	}
	r := prbReader{read: read, l: l,
		count: 1 << countBits, size: 1 << sizeBits, sizeBits: sizeBits,
		descs: ptr(dr, l.descs), infos: ptr(dr, l.infos), data: ptr(tr, l.data),
		longMask: uint64(1)<<(8*l.ptrSize) - 1,
	}
	r.idMask = r.longMask >> 2 // DESC_ID_MASK: the state takes the top two bits
	tail := ptr(dr, l.tailID+l.counter) & r.idMask
	head := ptr(dr, l.headID+l.counter) & r.idMask
	n := (head - tail) & r.idMask
	if n >= r.count {
		return nil, fmt.Errorf("printk descriptor IDs tail %#x, head %#x span more than the %d descriptors: %w", tail, head, r.count, model.ErrCorrupt)
	}
	var recs []model.LogRecord
	for i := uint64(0); i <= n; i++ {
		rec, ok, err := r.record((tail + i) & r.idMask)
		if err != nil {
			return recs, err
		}
		if ok {
			recs = append(recs, rec)
		}
	}
	return recs, nil
}

// prbReader reads records of one ring buffer.
type prbReader struct {
	read                  readFunc
	l                     prbLayout
	count, size, sizeBits uint64
	descs, infos, data    uint64
	longMask, idMask      uint64
}

func (r *prbReader) long(b []byte, off uint64) uint64 { return ptrAt(b[off:], 0, r.l.ptrSize) }

// record reads the record of descriptor id; ok is false for descriptors
// that hold another ID or are not committed (prb_read_valid skips them).
func (r *prbReader) record(id uint64) (rec model.LogRecord, ok bool, err error) {
	l := r.l
	slot := id % r.count
	desc := make([]byte, l.descSize)
	if err := r.read(r.descs+slot*l.descSize, desc); err != nil {
		return rec, false, fmt.Errorf("printk descriptor %d: %w", slot, err)
	}
	if l.stateVar+l.counter+uint64(l.ptrSize) > l.descSize || l.textBlkLpos+max(l.lposBegin, l.lposNext)+uint64(l.ptrSize) > l.descSize {
		return rec, false, fmt.Errorf("SIZE(prb_desc) = %d is smaller than its members' offsets: %w", l.descSize, model.ErrCorrupt)
	}
	sv := r.long(desc, l.stateVar+l.counter)
	state := sv >> (8*uint(l.ptrSize) - 2)
	if sv&r.idMask != id || (state != descCommitted && state != descFinalized) {
		return rec, false, nil
	}
	begin := r.long(desc, l.textBlkLpos+l.lposBegin)
	next := r.long(desc, l.textBlkLpos+l.lposNext)
	info := make([]byte, l.infoSize)
	if err := r.read(r.infos+slot*l.infoSize, info); err != nil {
		return rec, false, fmt.Errorf("printk_info %d: %w", slot, err)
	}
	if rec, err = decodeInfo(info, l); err != nil {
		return rec, false, err
	}
	text, truncated, err := r.text(id, begin, next, int(binary.LittleEndian.Uint16(info[l.textLen:])))
	if err != nil {
		return rec, false, fmt.Errorf("text of printk record %d (seq %d): %w", id, rec.Seq, err)
	}
	rec.Text, rec.Truncated = string(text), truncated
	return rec, true, nil
}

// decodeInfo reads a struct printk_info.
func decodeInfo(info []byte, l prbLayout) (model.LogRecord, error) {
	if max(l.seq+8, l.tsNsec+8, l.textLen+2, l.callerID+4) > uint64(len(info)) {
		return model.LogRecord{}, fmt.Errorf("SIZE(printk_info) = %d is smaller than its members' offsets: %w", len(info), model.ErrCorrupt)
	}
	rec := model.LogRecord{Seq: binary.LittleEndian.Uint64(info[l.seq:]), TimestampNS: binary.LittleEndian.Uint64(info[l.tsNsec:]), Level: -1, Facility: -1,
		Caller: callerName(binary.LittleEndian.Uint32(info[l.callerID:]))}
	// facility and the flags:5/level:3 byte follow text_len; VMCOREINFO
	// does not export their offsets, so trust them only when caller_id
	// sits right after them, as in the kernel's declaration.
	if l.callerID == l.textLen+4 {
		rec.Facility = int(info[l.textLen+2])
		rec.Level = int(info[l.textLen+3] >> 5)
	}
	if l.subsystemLen > 0 {
		rec.Subsystem = cString(info, l.devInfo+l.subsystem, l.subsystemLen)
		rec.Device = cString(info, l.devInfo+l.device, l.deviceLen)
	}
	return rec, nil
}

// callerName formats caller_id as printk does for CONFIG_PRINTK_CALLER:
// bit 31 set means a CPU number (not in task context), else a thread ID.
func callerName(id uint32) string {
	if id&0x80000000 != 0 {
		return fmt.Sprintf("C%d", id&^0x80000000)
	}
	return fmt.Sprintf("T%d", id)
}

// cString is the NUL-terminated string of at most n bytes at off in b.
func cString(b []byte, off, n uint64) string {
	if off >= uint64(len(b)) {
		return ""
	}
	s := b[off:min(off+n, uint64(len(b)))]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return string(s)
}

// text reads a record's text from its data block (get_data in
// printk_ringbuffer.c): a block in one wrap of the ring lies at begin; a
// wrapping block was stored at the ring's start and ends at next. The
// block starts with the descriptor ID. Data-less records (begin with bit 0
// set: FAILED_LPOS, NO_LPOS) have empty text.
func (r *prbReader) text(id, begin, next uint64, textLen int) ([]byte, bool, error) {
	if begin&1 != 0 || begin == next {
		return nil, false, nil
	}
	wraps := func(lpos uint64) uint64 { return (lpos & r.longMask) >> r.sizeBits }
	var off, size uint64
	switch {
	case wraps(begin) == wraps(next) && begin < next:
		off, size = begin&(r.size-1), next-begin
	case wraps(begin+r.size) == wraps(next):
		off, size = 0, next&(r.size-1)
	default:
		return nil, false, fmt.Errorf("data block lpos %#x-%#x is not a block of a %d-byte ring: %w", begin, next, r.size, model.ErrCorrupt)
	}
	hdr := uint64(r.l.ptrSize)
	if size < hdr || off+size > r.size {
		return nil, false, fmt.Errorf("data block lpos %#x-%#x has an impossible size: %w", begin, next, model.ErrCorrupt)
	}
	n := min(uint64(textLen), size-hdr)
	text := make([]byte, n)
	if err := r.read(r.data+off+hdr, text); err != nil {
		return nil, false, err
	}
	return text, n < uint64(textLen), nil
}
