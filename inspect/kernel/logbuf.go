package kernel

import (
	"encoding/binary"
	"fmt"

	"dumpscope/model"
)

// The structured log_buf of Linux 3.5 to 5.9 (kernel/printk/printk.c):
// char *log_buf of u32 log_buf_len bytes holds records back to back from
// index log_first_idx to log_next_idx. Each record is a struct printk_log
// ("struct log" before 3.11):
//
//	u64 ts_nsec; u16 len; u16 text_len; u16 dict_len;
//	u8 facility; u8 flags:5, level:3; [u32 caller_id, CONFIG_PRINTK_CALLER]
//
// followed by text_len bytes of text and dict_len bytes of dictionary. len
// is the whole record, padded; a record with len 0 marks the end of the
// buffer, and the next record is at index 0 (log_next in printk.c).
// VMCOREINFO exports the offsets of ts_nsec, len, text_len and dict_len;
// facility and level follow dict_len in every version.

// logBufLayout is where the log_buf variables and record fields are.
type logBufLayout struct {
	ptrSize                                uint64
	logBuf, logBufLen, firstIdx, nextIdx   uint64 // variable addresses
	hdrSize, tsNsec, recLen, textLen, dict uint64 // struct printk_log
}

func (k *Kernel) logBufLayout() (logBufLayout, error) {
	n := &need{k: k}
	l := logBufLayout{ptrSize: uint64(k.ptrSize())}
	l.logBuf = n.symbol("log_buf")
	l.logBufLen = n.symbol("log_buf_len")
	l.firstIdx = n.symbol("log_first_idx")
	l.nextIdx = n.symbol("log_next_idx")
	typ := "printk_log"
	if _, ok := k.vmci.Size(typ); !ok {
		typ = "log" // the structure's name before Linux 3.11
	}
	l.hdrSize = n.size(typ)
	l.tsNsec = n.offset(typ + ".ts_nsec")
	l.recLen = n.offset(typ + ".len")
	l.textLen = n.offset(typ + ".text_len")
	l.dict = n.offset(typ + ".dict_len")
	return l, n.err("the kernel log (log_buf)", "")
}

// maxLogBufLen is LOG_BUF_LEN_MAX (kernel/printk/printk.c).
const maxLogBufLen = 1 << 31

// readLogBuf walks the records from log_first_idx to log_next_idx, as
// vmcore-dmesg's dump_dmesg_structured does. Sequence numbers count from
// 0 at the first record: log_first_seq is not in VMCOREINFO.
func readLogBuf(read readFunc, l logBufLayout) ([]model.LogRecord, error) {
	if max(l.tsNsec+8, l.recLen+2, l.textLen+2, l.dict+4) > l.hdrSize {
		return nil, fmt.Errorf("SIZE(printk_log) = %d is smaller than its members' offsets: %w", l.hdrSize, model.ErrCorrupt)
	}
	b := make([]byte, l.ptrSize)
	if err := read(l.logBuf, b); err != nil {
		return nil, fmt.Errorf("the log_buf pointer at %#x: %w", l.logBuf, err)
	}
	buf := ptrAt(b, 0, int(l.ptrSize))
	var u [4]byte
	vals := make([]uint64, 3)
	for i, a := range []uint64{l.logBufLen, l.firstIdx, l.nextIdx} {
		if err := read(a, u[:]); err != nil {
			return nil, fmt.Errorf("log_buf variable at %#x: %w", a, err)
		}
		vals[i] = uint64(binary.LittleEndian.Uint32(u[:]))
	}
	size, idx, end := vals[0], vals[1], vals[2]
	if size < l.hdrSize || size > maxLogBufLen || idx >= size || end >= size {
		return nil, fmt.Errorf("log_buf_len %d with indexes %d..%d is impossible: %w", size, idx, end, model.ErrCorrupt)
	}
	hdr := make([]byte, l.hdrSize)
	callerOff := l.dict + 4 // caller_id follows flags/level when the record has room
	var recs []model.LogRecord
	wrapped := false
	// Each record takes at least hdrSize bytes, so a buffer holds at most
	// size/hdrSize of them; a walk longer than that is a loop.
	for steps := uint64(0); idx != end; steps++ {
		if steps > size/l.hdrSize+1 || idx+l.hdrSize > size {
			return recs, fmt.Errorf("log_buf record index %d: the chain of records does not reach log_next_idx %d: %w", idx, end, model.ErrCorrupt)
		}
		if err := read(buf+idx, hdr); err != nil {
			return recs, fmt.Errorf("log_buf record at index %d: %w", idx, err)
		}
		recLen := uint64(binary.LittleEndian.Uint16(hdr[l.recLen:]))
		if recLen == 0 {
			if wrapped {
				return recs, fmt.Errorf("log_buf wraps twice before log_next_idx %d: %w", end, model.ErrCorrupt)
			}
			idx, wrapped = 0, true
			continue
		}
		textLen := uint64(binary.LittleEndian.Uint16(hdr[l.textLen:]))
		if recLen < l.hdrSize || idx+recLen > size || l.hdrSize+textLen > recLen {
			return recs, fmt.Errorf("log_buf record at index %d has len %d, text_len %d: %w", idx, recLen, textLen, model.ErrCorrupt)
		}
		text := make([]byte, textLen)
		if err := read(buf+idx+l.hdrSize, text); err != nil {
			return recs, fmt.Errorf("log_buf text at index %d: %w", idx, err)
		}
		rec := model.LogRecord{Seq: uint64(len(recs)), TimestampNS: binary.LittleEndian.Uint64(hdr[l.tsNsec:]), Text: string(text),
			Facility: int(hdr[l.dict+2]), Level: int(hdr[l.dict+3] >> 5)}
		if callerOff+4 <= l.hdrSize {
			rec.Caller = callerName(binary.LittleEndian.Uint32(hdr[callerOff:]))
		}
		recs = append(recs, rec)
		idx += recLen
	}
	return recs, nil
}
