package dumptest

import "encoding/binary"

// AIX dump magics and cookies (formats.md §6.3, §6.4; AIX sys/dump.h).
const (
	AIXMagic32   uint32 = 0xEEEEEEEE // DMP_MAGIC_32: cdt_head + cdt_entry32
	AIXMagicVR   uint32 = 0xEEEEEEEF // DMP_MAGIC_VR: cdt_head + cdt_entry_vr
	AIXMagic64   uint32 = 0xEEEEEEED // DMP_MAGIC_64: cdt_head + cdt_entry64
	AIXMagicU32  uint32 = 0xEEEEEEEC // DMP_MAGIC_U32: unlimited table, 32-bit kernel
	AIXMagicU64  uint32 = 0xEEEEEEEB // DMP_MAGIC_U64: unlimited table, 64-bit kernel
	AIXMagicUD32 uint32 = 0xEEEEEEEA // DMP_MAGIC_UD32: magic of each U32 entry
	AIXMagicUD64 uint32 = 0xEEEEEEE9 // DMP_MAGIC_UD64: magic of each U64 entry
	AIXMagicEnd  uint32 = 0xEEEEEEE0 // DMP_MAGIC_END

	AIXRealSegval32 uint64 = 0x007FFFFF         // DUMP_REAL_SEGVAL32: d_ptr is a real address
	AIXRealSegval64 uint64 = 0xFFFFFFFFFFFFFFFE // DUMP_REAL_SEGVAL64
	AIXGenSegval64  uint64 = 0xFFFFFFFFFFFFFFFF // DUMP_GEN_SEGVAL64: general kernel mapping

	AIXDReal uint32 = 0x1 // cdt_entry_vr d_addrflags D_REAL
	AIXDVMID uint32 = 0x2 // cdt_entry_vr d_addrflags D_VMID

	aixPage = 4096
)

// AIXArea is one data area (one table entry) to write.
type AIXArea struct {
	Name string
	// Addr is d_ptr, or d_realaddr for a VR entry with D_REAL.
	Addr uint64
	// Len is d_len as written in the table (not clipped).
	Len uint64
	// Segval is d_segval / du_segval (not written for VR real entries).
	Segval uint64
	// AddrFlags is a VR entry's d_addrflags.
	AddrFlags uint32
	// Xmemp is d_xmemp / du_xmemp (64-bit and unlimited entries).
	Xmemp uint64
	// Absent lists pages (0 = the page holding Addr) that were not in
	// memory: their bit is clear and their bytes are not stored.
	Absent []uint64
	// Data is the memory of the dumped span; nil means AIXByte(Seed, k)
	// for the byte at offset k from Addr.
	Data []byte
	Seed uint64
	// EntryMagic overrides du_magic of an unlimited entry (0: UD32 for a
	// U32 table, UD64 for a U64 table).
	EntryMagic uint32
	// BitmapPadding sets the unused high bits of the last bitmap byte,
	// which real writers leave clear (for checker tests).
	BitmapPadding bool
}

// AIXComponent is one component dump table to write.
type AIXComponent struct {
	Magic uint32 // AIXMagic32, VR, 64, U32 or U64
	Name  string
	Areas []AIXArea
	// NEntries is cdtu_nentries of an unlimited table (AIX writes 0).
	NEntries int32
}

// AIXEnd says how the written dump ends (formats.md §6.5, §6.8).
type AIXEnd int

// The ends of a dump.
const (
	// AIXEndMarker writes a 24-byte cdt_head with DMP_MAGIC_END, a zero
	// name and cdt_len 24, then zeros to a multiple of 512 (§6.8 item 2).
	AIXEndMarker AIXEnd = iota
	// AIXEndZeros writes zeros (at least 24) up to a multiple of 512, as
	// AIX 4.1's jflush pads the last block.
	AIXEndZeros
	// AIXEndEOF writes nothing after the last area.
	AIXEndEOF
)

// AIXDump describes an AIX system dump to write (formats.md §6).
type AIXDump struct {
	// Start is 0, or 512 for a copy of the dump logical volume whose
	// first sector (zeros here) precedes the first table.
	Start      int
	Components []AIXComponent
	End        AIXEnd
}

// AIXAreaLayout locates one written area and says what a reader should
// return for it.
type AIXAreaLayout struct {
	EntryOff  int64
	NPages    uint64
	BitmapOff int64
	BitmapLen int64
	DataOff   int64
	DataLen   int64
	// Span is the number of bytes of memory the bitmap covers from Addr
	// (Len, clipped to the 256 MiB segment for 32-bit tables).
	Span uint64
	// Image is the span as a reader returns it: absent pages are zeros.
	// It is nil for spans over 16 MiB (use AIXByte and Present).
	Image []byte
	// Present tells, per page, whether it was stored.
	Present []bool
}

// AIXLayout locates what was written, for tests that check or corrupt it.
type AIXLayout struct {
	Tables []int64
	Areas  [][]AIXAreaLayout
	// EndOff is where the end marker or padding starts (the file size for
	// AIXEndEOF).
	EndOff int64
	Size   int64
}

// aixPages returns the number of bitmap pages of an area and the number of
// memory bytes they hold (formats.md §6.6).
func aixPages(magic uint32, vrReal bool, ptr, length uint64) (npages, span uint64) {
	if length == 0 {
		return 0, 0
	}
	if magic == AIXMagic32 || (magic == AIXMagicVR && !vrReal) {
		// The 4.1 writer caps the area at DMP_MAXPAGES pages (§6.7), then
		// clips it at the end of its 256 MiB segment.
		length = min(length, 256<<20)
		p := uint32(ptr)
		btop := func(a uint32) uint64 { return uint64(a&0x0FFFFFFF) / aixPage }
		seg := func(a uint32) uint32 { return a & 0xF0000000 }
		last := p + uint32(length) - 1
		if seg(last) != seg(p) {
			last = 0x0FFFFFFF
		}
		npages = btop(last) - btop(p) + 1
	} else if magic == AIXMagicVR {
		npages = (ptr+length-1)/aixPage - ptr/aixPage + 1
	} else {
		npages = ((ptr & 0xFFF) + length + aixPage - 1) / aixPage
	}
	// The writer walks npages pages with chunk = min(remaining, 4096 -
	// addr%4096).
	addr, rem := ptr, length
	for i := uint64(0); i < npages && rem > 0; i++ {
		c := min(rem, aixPage-addr%aixPage)
		span += c
		addr += c
		rem -= c
	}
	return npages, span
}

// Bytes builds the dump image.
func (d *AIXDump) Bytes() ([]byte, AIXLayout) {
	be := binary.BigEndian
	b := make([]byte, d.Start)
	var lay AIXLayout
	for ci, c := range d.Components {
		lay.Tables = append(lay.Tables, int64(len(b)))
		lay.Areas = append(lay.Areas, make([]AIXAreaLayout, len(c.Areas)))
		unlimited := c.Magic == AIXMagicU32 || c.Magic == AIXMagicU64
		head := make([]byte, 24)
		be.PutUint32(head[0:], c.Magic)
		copy(head[4:20], c.Name)
		if unlimited {
			be.PutUint32(head[20:], uint32(c.NEntries))
			b = append(b, head...)
			for ai := range c.Areas {
				lay.Areas[ci][ai].EntryOff = int64(len(b))
				b = append(b, aixEntry(c.Magic, c.Areas[ai])...)
				b = aixAreaData(b, c.Magic, c.Areas[ai], &lay.Areas[ci][ai])
			}
			continue
		}
		var entries []byte
		for ai, a := range c.Areas {
			lay.Areas[ci][ai].EntryOff = int64(len(b) + 24 + len(entries))
			entries = append(entries, aixEntry(c.Magic, a)...)
		}
		be.PutUint32(head[20:], uint32(24+len(entries)))
		b = append(append(b, head...), entries...)
		for ai := range c.Areas {
			b = aixAreaData(b, c.Magic, c.Areas[ai], &lay.Areas[ci][ai])
		}
	}
	lay.EndOff = int64(len(b))
	switch d.End {
	case AIXEndMarker:
		end := make([]byte, 24)
		be.PutUint32(end[0:], AIXMagicEnd)
		be.PutUint32(end[20:], 24)
		b = append(b, end...)
		b = append(b, make([]byte, (512-len(b)%512)%512)...)
	case AIXEndZeros:
		b = append(b, make([]byte, 24)...)
		b = append(b, make([]byte, (512-len(b)%512)%512)...)
	}
	lay.Size = int64(len(b))
	return b, lay
}

// aixEntry encodes one table entry in the layout of the table kind.
func aixEntry(magic uint32, a AIXArea) []byte {
	be := binary.BigEndian
	var e []byte
	switch magic {
	case AIXMagic32: // cdt_entry32, 20 bytes
		e = make([]byte, 20)
		copy(e[0:8], a.Name)
		be.PutUint32(e[8:], uint32(a.Len))
		be.PutUint32(e[12:], uint32(a.Addr))
		be.PutUint32(e[16:], uint32(a.Segval))
	case AIXMagicVR: // cdt_entry_vr, 32 bytes
		e = make([]byte, 32)
		copy(e[0:16], a.Name)
		be.PutUint32(e[16:], uint32(a.Len))
		be.PutUint32(e[20:], a.AddrFlags)
		if a.AddrFlags&AIXDReal != 0 {
			be.PutUint64(e[24:], a.Addr)
		} else {
			be.PutUint32(e[24:], uint32(a.Addr))
			be.PutUint32(e[28:], uint32(a.Segval))
		}
	case AIXMagic64: // cdt_entry64, 48 bytes
		e = make([]byte, 48)
		copy(e[0:16], a.Name)
		be.PutUint64(e[16:], a.Len)
		be.PutUint64(e[24:], a.Addr)
		be.PutUint64(e[32:], a.Segval)
		be.PutUint64(e[40:], a.Xmemp)
	default: // cdt_entry_u, 56 bytes
		e = make([]byte, 56)
		m := a.EntryMagic
		if m == 0 {
			m = AIXMagicUD64
			if magic == AIXMagicU32 {
				m = AIXMagicUD32
			}
		}
		be.PutUint32(e[0:], m)
		copy(e[4:20], a.Name)
		be.PutUint64(e[24:], a.Len)
		be.PutUint64(e[32:], a.Addr)
		be.PutUint64(e[40:], a.Segval)
		be.PutUint64(e[48:], a.Xmemp)
	}
	return e
}

// aixAreaData appends the bitmap and the in-memory bytes of one area
// (formats.md §6.6): bit i of the bitmap, least significant bit first, is
// page i; only the covered part of the first and last page is stored.
func aixAreaData(b []byte, magic uint32, a AIXArea, al *AIXAreaLayout) []byte {
	vrReal := magic == AIXMagicVR && a.AddrFlags&AIXDReal != 0
	npages, span := aixPages(magic, vrReal, a.Addr, a.Len)
	al.NPages, al.Span = npages, span
	al.BitmapOff, al.DataOff = int64(len(b)), int64(len(b))
	if npages == 0 {
		return b
	}
	absent := map[uint64]bool{}
	for _, p := range a.Absent {
		absent[p] = true
	}
	bm := make([]byte, (npages+7)/8)
	al.Present = make([]bool, npages)
	for i := uint64(0); i < npages; i++ {
		if !absent[i] {
			bm[i/8] |= 1 << (i % 8)
			al.Present[i] = true
		}
	}
	if a.BitmapPadding && npages%8 != 0 {
		bm[len(bm)-1] |= 0xFF << (npages % 8)
	}
	b = append(b, bm...)
	al.BitmapLen = int64(len(bm))
	al.DataOff = int64(len(b))
	if span <= 16<<20 {
		al.Image = make([]byte, span)
	}
	addr, pos := a.Addr, uint64(0)
	for i := uint64(0); i < npages && pos < span; i++ {
		c := min(span-pos, aixPage-addr%aixPage)
		if al.Present[i] {
			at := len(b)
			if a.Data != nil {
				b = append(b, a.Data[pos:pos+c]...)
			} else {
				for k := pos; k < pos+c; k++ {
					b = append(b, AIXByte(a.Seed, k))
				}
			}
			if al.Image != nil {
				copy(al.Image[pos:], b[at:])
			}
		}
		addr += c
		pos += c
	}
	al.DataLen = int64(len(b)) - al.DataOff
	return b
}

// AIXByte is the content the writer gives byte k of an area without Data.
func AIXByte(seed, k uint64) byte {
	x := (k+1)*0x9E3779B97F4A7C15 ^ (seed+1)*0xC2B2AE3D27D4EB4F
	return byte(x>>56) ^ byte(x>>29)
}
