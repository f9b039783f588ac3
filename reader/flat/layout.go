package flat

import (
	"context"
	"encoding/binary"
	"fmt"

	"dumpscope/model"
	"dumpscope/reader"
)

// maxLayoutRecords bounds how many records the layout lists one by one.
const maxLayoutRecords = 2000

// Layout describes the stream's own structures: the 4096-byte header and
// the record headers. Offsets in this subtree are stream offsets (the same
// value is in stream_offset). It indexes the whole stream.
func (f *File) Layout() (*model.Field, error) {
	if err := f.Index(context.Background(), nil); err != nil {
		return nil, err
	}
	n, end := f.Records()
	root := &model.Field{Name: "makedumpfile flattened stream", File: f.src.Name, Offset: 0, Size: f.src.Size,
		Value:   fmt.Sprintf("%d records, end marker %v", n, end),
		Meaning: "the stream makedumpfile -F and QEMU write; the rest of this tree is the file makedumpfile -R rebuilds from it (offsets there are logical, stream_offset is where the bytes are in the stream)"}
	zero := model.FileOff(0)
	root.StreamOffset = &zero
	b := make([]byte, HeaderSize)
	if err := f.src.ReadAt(b, 0, "makedumpfile_header"); err != nil {
		return nil, err
	}
	s := reader.NewStruct("makedumpfile_header", "stream header, 4096 bytes, integers big-endian", 0, b, binary.BigEndian)
	s.Raw("signature", 0, 16, "\"makedumpfile\" and 4 NUL bytes", fmt.Sprintf("%q", b[:16]))
	s.Int("type", 16, 8, "1 = TYPE_FLAT_HEADER")
	s.Int("version", 24, 8, "1 = VERSION_FLAT_HEADER")
	s.Raw("(padding)", 32, HeaderSize-32, "zero up to 4096 bytes")
	root.Add(s.Node)
	recs := &model.Field{Name: "records", Offset: HeaderSize, Size: f.src.Size - HeaderSize,
		Value: fmt.Sprintf("%d", n), Meaning: "16-byte header {offset, buf_size} (big-endian) then buf_size payload bytes; ends with offset = buf_size = -1"}
	pos := int64(HeaderSize)
	var hdr [recordHdr]byte
	for i := int64(0); ; i++ {
		if f.src.ReadAt(hdr[:], pos, "record header") != nil {
			break
		}
		off := int64(binary.BigEndian.Uint64(hdr[0:]))
		size := int64(binary.BigEndian.Uint64(hdr[8:]))
		if i < maxLayoutRecords || (off == -1 && size == -1) {
			r := reader.NewStruct(fmt.Sprintf("record %d", i), "", pos, hdr[:], binary.BigEndian)
			r.Int("offset", 0, 8, "where the payload goes in the rebuilt file")
			r.Int("buf_size", 8, 8, "payload bytes")
			r.Node.Size = recordHdr + max(size, 0)
			p := model.FileOff(pos)
			r.Node.StreamOffset = &p
			if off == -1 && size == -1 {
				r.Node.Name, r.Node.Meaning = "end marker", "offset = buf_size = -1: the end of the stream"
			} else {
				r.Node.Value = fmt.Sprintf("%d bytes → logical %#x", size, off)
				r.Node.Meaning = "one write of makedumpfile or QEMU"
			}
			recs.Add(r.Node)
		} else if i == maxLayoutRecords {
			recs.Add(&model.Field{Name: "…", Offset: model.FileOff(pos), Value: fmt.Sprintf("%d more records", n-i), Meaning: "not listed one by one"})
		}
		if off < 0 || size <= 0 {
			break
		}
		pos += recordHdr + size
	}
	root.Add(recs)
	return root, nil
}
