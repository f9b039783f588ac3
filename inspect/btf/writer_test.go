package btf

import (
	"encoding/binary"
)

// byteOrder is what the writer needs of binary.LittleEndian and BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// blobWriter writes BTF blobs for tests, record by record as
// include/uapi/linux/btf.h lays them out, in either byte order, as base or
// split BTF, with an optional extended header and layout section.
type blobWriter struct {
	bo       byteOrder
	types    []byte
	strs     []byte
	strOff   map[string]uint32
	firstID  TypeID
	strStart uint32
	n        int
	// hdrLen is the header length written (24 by default; 32 adds
	// layout_off/layout_len; more adds zero bytes).
	hdrLen  int
	layouts []Layout
	// hdrTail is written in the header bytes beyond the known fields.
	hdrTail []byte
}

func newWriter(bo byteOrder) *blobWriter {
	return &blobWriter{bo: bo, strs: []byte{0}, strOff: map[string]uint32{"": 0}, firstID: 1, hdrLen: 24}
}

// newSplitWriter writes split BTF on top of base: IDs and string offsets
// continue after the base's.
func newSplitWriter(base *Spec) *blobWriter {
	return &blobWriter{
		bo: base.ByteOrder.(byteOrder), strOff: map[string]uint32{"": 0},
		firstID: base.LastID() + 1, strStart: base.strStart + uint32(len(base.strs)), hdrLen: 24,
	}
}

func (w *blobWriter) str(s string) uint32 {
	if s == "" {
		return 0
	}
	if off, ok := w.strOff[s]; ok {
		return off
	}
	off := w.strStart + uint32(len(w.strs))
	w.strs = append(append(w.strs, s...), 0)
	w.strOff[s] = off
	return off
}

func (w *blobWriter) u32(vs ...uint32) {
	for _, v := range vs {
		w.types = w.bo.AppendUint32(w.types, v)
	}
}

// raw appends a record with an info word given whole.
func (w *blobWriter) raw(nameOff, info, sizeType uint32, tail ...uint32) TypeID {
	w.u32(nameOff, info, sizeType)
	w.u32(tail...)
	w.n++
	return w.firstID + TypeID(w.n-1)
}

func info(kind Kind, kflag bool, vlen int) uint32 {
	i := uint32(kind)<<24 | uint32(vlen)&0xffffff
	if kflag {
		i |= 1 << 31
	}
	return i
}

func (w *blobWriter) add(name string, kind Kind, kflag bool, vlen int, sizeType uint32, tail ...uint32) TypeID {
	return w.raw(w.str(name), info(kind, kflag, vlen), sizeType, tail...)
}

func (w *blobWriter) Int(name string, size uint32, enc IntEncoding, offset, bits uint8) TypeID {
	return w.add(name, KindInt, false, 0, size, uint32(enc)<<24|uint32(offset)<<16|uint32(bits))
}

func (w *blobWriter) Ptr(to TypeID) TypeID { return w.add("", KindPtr, false, 0, uint32(to)) }

func (w *blobWriter) Array(elem, index TypeID, n uint32) TypeID {
	return w.add("", KindArray, false, 0, 0, uint32(elem), uint32(index), n)
}

type wm struct {
	name    string
	typ     TypeID
	bitOff  uint32
	bitSize uint32 // only with kind_flag
}

func (w *blobWriter) composite(kind Kind, name string, size uint32, kflag bool, ms ...wm) TypeID {
	var tail []uint32
	for _, m := range ms {
		off := m.bitOff
		if kflag {
			off = m.bitSize<<24 | m.bitOff
		}
		tail = append(tail, w.str(m.name), uint32(m.typ), off)
	}
	return w.add(name, kind, kflag, len(ms), size, tail...)
}

func (w *blobWriter) Struct(name string, size uint32, kflag bool, ms ...wm) TypeID {
	return w.composite(KindStruct, name, size, kflag, ms...)
}

func (w *blobWriter) Union(name string, size uint32, kflag bool, ms ...wm) TypeID {
	return w.composite(KindUnion, name, size, kflag, ms...)
}

type we struct {
	name string
	val  int64
}

func (w *blobWriter) Enum(name string, size uint32, signed bool, es ...we) TypeID {
	var tail []uint32
	for _, e := range es {
		tail = append(tail, w.str(e.name), uint32(e.val))
	}
	return w.add(name, KindEnum, signed, len(es), size, tail...)
}

func (w *blobWriter) Enum64(name string, size uint32, signed bool, es ...we) TypeID {
	var tail []uint32
	for _, e := range es {
		tail = append(tail, w.str(e.name), uint32(e.val), uint32(uint64(e.val)>>32))
	}
	return w.add(name, KindEnum64, signed, len(es), size, tail...)
}

func (w *blobWriter) Fwd(name string, union bool) TypeID {
	return w.add(name, KindFwd, union, 0, 0)
}

func (w *blobWriter) Ref(kind Kind, name string, to TypeID) TypeID {
	return w.add(name, kind, false, 0, uint32(to))
}

func (w *blobWriter) Func(name string, proto TypeID, linkage int) TypeID {
	return w.add(name, KindFunc, false, linkage, uint32(proto))
}

type wp struct {
	name string
	typ  TypeID
}

func (w *blobWriter) FuncProto(ret TypeID, ps ...wp) TypeID {
	var tail []uint32
	for _, p := range ps {
		tail = append(tail, w.str(p.name), uint32(p.typ))
	}
	return w.add("", KindFuncProto, false, len(ps), uint32(ret), tail...)
}

func (w *blobWriter) Var(name string, typ TypeID, linkage uint32) TypeID {
	return w.add(name, KindVar, false, 0, uint32(typ), linkage)
}

func (w *blobWriter) Datasec(name string, size uint32, vs ...VarSecinfo) TypeID {
	var tail []uint32
	for _, v := range vs {
		tail = append(tail, uint32(v.Type), v.Offset, v.Size)
	}
	return w.add(name, KindDatasec, false, len(vs), size, tail...)
}

func (w *blobWriter) Float(name string, size uint32) TypeID {
	return w.add(name, KindFloat, false, 0, size)
}

func (w *blobWriter) DeclTag(name string, typ TypeID, component int32) TypeID {
	return w.add(name, KindDeclTag, false, 0, uint32(typ), uint32(component))
}

// bytes lays out header, types, layout section (when hdrLen >= 32 and
// layouts are set) and strings.
func (w *blobWriter) bytes() []byte {
	hdrLen := w.hdrLen
	if len(w.layouts) > 0 && hdrLen < 32 {
		hdrLen = 32
	}
	var layout []byte
	for _, l := range w.layouts {
		layout = append(layout, l.InfoSize, l.ElemSize)
		layout = w.bo.AppendUint16(layout, l.Flags)
	}
	h := make([]byte, hdrLen)
	w.bo.PutUint16(h, Magic)
	h[2] = Version
	w.bo.PutUint32(h[4:], uint32(hdrLen))
	w.bo.PutUint32(h[8:], 0)
	w.bo.PutUint32(h[12:], uint32(len(w.types)))
	w.bo.PutUint32(h[16:], uint32(len(w.types)+len(layout)))
	w.bo.PutUint32(h[20:], uint32(len(w.strs)))
	if hdrLen >= 32 && len(layout) > 0 {
		w.bo.PutUint32(h[24:], uint32(len(w.types)))
		w.bo.PutUint32(h[28:], uint32(len(layout)))
	}
	copy(h[min(32, hdrLen):], w.hdrTail)
	out := append(h, w.types...)
	out = append(out, layout...)
	return append(out, w.strs...)
}
