package btf

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"dumpscope/model"
)

// ReadFunc reads len(p) bytes of memory at a virtual address.
type ReadFunc func(va uint64, p []byte) error

// FormatOptions bound and shape what Format shows. Zero fields take the
// defaults in brackets.
type FormatOptions struct {
	MaxDepth  int  // structs, unions and arrays nested below the top [12]
	MaxElems  int  // elements shown of one array [64]
	MaxNodes  int  // values in the whole tree [10000]
	MaxString int  // bytes read at a char * to show its string; -1: none [128]
	MaxObject int  // bytes of the top-level object read [1 MiB]
	Hex       bool // integers in hexadecimal (crash's struct -x), not decimal
	// Symbolize names the symbol at an address ("init_task",
	// "do_idle+0x1c"); pointers it knows print as "0x… <name>".
	Symbolize func(va uint64) (string, bool)
}

func (o *FormatOptions) defaults() {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&o.MaxDepth, 12)
	def(&o.MaxElems, 64)
	def(&o.MaxNodes, 10000)
	def(&o.MaxString, 128)
	def(&o.MaxObject, 1<<20)
}

// Value is one node of a formatted object: the model's plain tree, which
// turns into JSON as {name, type, offset, size, value, children} and into
// crash's text with Text (or WriteText).
type Value = model.StructValue

// Format reads the object of type t at addr and returns it as a tree, as
// crash's `struct TYPE ADDR` shows it: integers in decimal (or hex),
// char arrays as quoted strings stopping at NUL, pointers in hex with the
// symbol Symbolize knows, enums by enumerator name, bitfields extracted,
// bools as true/false, structs, unions and arrays as children. The object
// is read in page-sized pieces: a piece that cannot be read marks the
// values in it with Error and the rest are shown.
func (s *Spec) Format(t Type, read ReadFunc, addr uint64, opt FormatOptions) (Value, error) {
	opt.defaults()
	size, err := s.Size(t)
	if err != nil {
		return Value{}, err
	}
	if size > uint64(opt.MaxObject) {
		return Value{}, fmt.Errorf("%s is %d bytes, more than the %d Format reads: %w", s.TypeName(t), size, opt.MaxObject, model.ErrUnsupported)
	}
	f := &formatter{s: s, opt: &opt, read: read, addr: addr, buf: make([]byte, size), nodes: opt.MaxNodes}
	f.load()
	return f.value("", t, 0, 0, 0, 0), nil
}

// formatPiece is the unit Format reads memory in: a page, so that one
// absent page costs only the values on it.
const formatPiece = 4096

type formatter struct {
	s     *Spec
	opt   *FormatOptions
	read  ReadFunc
	addr  uint64
	buf   []byte
	bad   []error // per piece of buf: the read error, or nil
	nodes int     // values left to make
}

func (f *formatter) load() {
	if len(f.buf) == 0 {
		return
	}
	if err := f.read(f.addr, f.buf); err == nil {
		return
	}
	// Read page by page (aligned on the address) to keep what can be read.
	f.bad = make([]error, 0, len(f.buf)/formatPiece+2)
	for off := uint64(0); off < uint64(len(f.buf)); {
		end := min((f.addr+off)/formatPiece*formatPiece+formatPiece-f.addr, uint64(len(f.buf)))
		f.bad = append(f.bad, f.read(f.addr+off, f.buf[off:end]))
		off = end
	}
}

// readErr returns the error of a read covering [off, off+n) of the
// object if any piece of it failed, and whether every piece failed.
func (f *formatter) readErr(off, n uint64) (all bool, err error) {
	if f.bad == nil || n == 0 {
		return false, nil
	}
	// The first piece holds the bytes up to the first page boundary.
	head := formatPiece - f.addr%formatPiece
	piece := func(o uint64) int {
		if o < head {
			return 0
		}
		return int((o-head)/formatPiece) + 1
	}
	var first error
	all = true
	for i := piece(off); i <= piece(off+n-1) && i < len(f.bad); i++ {
		if f.bad[i] != nil && first == nil {
			first = f.bad[i]
		}
		all = all && f.bad[i] != nil
	}
	return all && first != nil, first
}

// value formats the object part of type t at byte offset off; bitOff
// and bitSize place a bitfield (bitSize 0 for an ordinary member).
func (f *formatter) value(name string, t Type, off, bitOff uint64, bitSize uint32, depth int) Value {
	f.nodes--
	s := f.s
	v := Value{Name: name, Type: s.TypeName(t), Offset: off}
	r, err := s.Resolve(t)
	if err != nil {
		v.Error = err.Error()
		return v
	}
	if bitSize > 0 {
		v.BitOffset, v.BitSize = bitOff, bitSize
		v.Size = (bitOff%8 + uint64(bitSize) + 7) / 8
	} else if v.Size, err = s.Size(r); err != nil {
		v.Error = err.Error()
		return v
	}
	if off+v.Size > uint64(len(f.buf)) {
		v.Error = fmt.Sprintf("extends beyond the object (%d bytes)", len(f.buf))
		return v
	}
	// Scalars need all their bytes; composites show what their members
	// can, unless none can be read.
	composite := r.Kind == KindStruct || r.Kind == KindUnion || r.Kind == KindArray
	if all, err := f.readErr(off, v.Size); err != nil && (all || !composite || r.Kind == KindArray && f.charArray(r)) {
		v.Error = err.Error()
		return v
	}
	b := f.buf[off : off+v.Size]
	switch r.Kind {
	case KindInt:
		v.Value = f.intText(r, b, bitOff, bitSize)
	case KindEnum, KindEnum64:
		x := f.uint(b)
		if bitSize > 0 {
			x = f.bits(bitOff, bitSize)
		}
		if n, ok := s.EnumName(r, x); ok {
			v.Value = n
		} else {
			v.Value = f.number(extend(x, v.Size, r.KindFlag), r.KindFlag)
		}
	case KindFloat:
		v.Value = f.floatText(b)
	case KindPtr:
		v.Value = f.pointerText(r, f.uint(b))
	case KindArray:
		f.array(&v, r, off, depth)
	case KindStruct, KindUnion:
		f.members(&v, r, off, depth)
	default:
		v.Error = fmt.Sprintf("cannot show a %s", r.Kind)
	}
	return v
}

func (f *formatter) members(v *Value, r Type, off uint64, depth int) {
	if depth >= f.opt.MaxDepth {
		v.Value = "{...}"
		return
	}
	ms, err := f.s.Members(r)
	if err != nil {
		v.Error = err.Error()
	}
	if len(ms) == 0 && err == nil {
		v.Value = "{}"
	}
	for i, m := range ms {
		if f.nodes <= 0 {
			v.More = len(ms) - i
			return
		}
		mt, err := f.s.TypeByID(m.Type)
		if err != nil {
			v.Children = append(v.Children, Value{Name: m.Name, Offset: off + uint64(m.BitOffset)/8, Error: err.Error()})
			continue
		}
		bitOff := off*8 + uint64(m.BitOffset)
		bitSize := uint32(m.BitfieldSize)
		if bitSize == 0 {
			if ir, err := f.s.Resolve(mt); err == nil && ir.Kind == KindInt && (ir.IntOffset != 0 || uint64(ir.Bits) < 8*ir.Size) {
				bitOff += uint64(ir.IntOffset)
				bitSize = uint32(ir.Bits)
			}
		}
		if bitSize == 0 && bitOff%8 != 0 {
			v.Children = append(v.Children, Value{Name: m.Name, Type: f.s.TypeName(mt), Offset: bitOff / 8, Error: fmt.Sprintf("member at bit offset %d is not byte-aligned", bitOff)})
			continue
		}
		v.Children = append(v.Children, f.value(m.Name, mt, bitOff/8, bitOff, bitSize, depth+1))
	}
}

func (f *formatter) array(v *Value, r Type, off uint64, depth int) {
	elem, err := f.s.Target(r)
	if err != nil {
		v.Error = err.Error()
		return
	}
	if isChar(f.s, elem) {
		v.Value = cQuote(f.buf[off:off+v.Size], true)
		return
	}
	if depth >= f.opt.MaxDepth {
		v.Value = "{...}"
		return
	}
	es, err := f.s.Size(elem)
	if err != nil || es == 0 {
		if err != nil {
			v.Error = err.Error()
		}
		return
	}
	n := int(r.Nelems)
	for i := range n {
		if i >= f.opt.MaxElems || f.nodes <= 0 {
			v.More = n - i
			return
		}
		eo := off + uint64(i)*es
		v.Children = append(v.Children, f.value("["+strconv.Itoa(i)+"]", elem, eo, eo*8, 0, depth+1))
	}
}

// charArray reports an array of char, shown as a string.
func (f *formatter) charArray(r Type) bool {
	elem, err := f.s.Target(r)
	return err == nil && isChar(f.s, elem)
}

// isChar reports C's plain char (and BTF_INT_CHAR), whose arrays are
// strings. signed and unsigned char arrays (u8 buffers, MAC addresses)
// stay arrays of numbers.
func isChar(s *Spec, t Type) bool {
	r, err := s.Resolve(t)
	return err == nil && r.Kind == KindInt && r.Size == 1 && (r.Encoding&IntChar != 0 || r.Name == "char")
}

// uint reads an unsigned integer of len(b) ≤ 8 bytes in the BTF's byte
// order.
func (f *formatter) uint(b []byte) uint64 {
	var x uint64
	le := f.s.ByteOrder == binary.LittleEndian
	for i := range b {
		j := i
		if le {
			j = len(b) - 1 - i
		}
		x = x<<8 | uint64(b[j])
	}
	return x
}

// bits extracts a bitfield of the object: width bits from bit offset off.
// Little-endian machines number bits from the least significant bit of
// the first byte, big-endian from the most significant (libbpf
// btf_dump_get_bitfield_value).
func (f *formatter) bits(off uint64, width uint32) uint64 {
	var x uint64
	le := f.s.ByteOrder == binary.LittleEndian
	for i := range uint64(min(width, 64)) {
		k := off + i
		if k/8 >= uint64(len(f.buf)) {
			break
		}
		var bit uint64
		if le {
			bit = uint64(f.buf[k/8]>>(k%8)) & 1
			x |= bit << i
		} else {
			bit = uint64(f.buf[k/8]>>(7-k%8)) & 1
			x = x<<1 | bit
		}
	}
	return x
}

func (f *formatter) number(x uint64, signed bool) string {
	if f.opt.Hex {
		return "0x" + strconv.FormatUint(x, 16)
	}
	if signed {
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatUint(x, 10)
}

func (f *formatter) intText(r Type, b []byte, bitOff uint64, bitSize uint32) string {
	signed := r.Encoding&IntSigned != 0
	if bitSize > 0 {
		x := f.bits(bitOff, bitSize)
		if signed && bitSize < 64 && x>>(bitSize-1)&1 != 0 {
			x |= ^mask(bitSize) // a negative signed bitfield
		}
		return f.number(x, signed)
	}
	if len(b) > 8 { // __int128: hex, most significant half first
		hi, lo := b[:8], b[8:]
		if f.s.ByteOrder == binary.LittleEndian {
			hi, lo = b[8:], b[:8]
		}
		return fmt.Sprintf("0x%016x%016x", f.uint(hi), f.uint(lo))
	}
	x := extend(f.uint(b), uint64(len(b)), signed)
	switch {
	case r.Encoding&IntBool != 0 || r.Name == "_Bool":
		if x == 0 {
			return "false"
		}
		if x == 1 {
			return "true"
		}
		return f.number(x, false)
	case isChar(f.s, r) || r.Name == "signed char" || r.Name == "unsigned char":
		// gdb (and so crash) shows a char as its number and the character.
		return f.number(x, signed) + " " + cQuote([]byte{byte(x)}, false)
	}
	return f.number(x, signed)
}

func mask(width uint32) uint64 {
	if width >= 64 {
		return math.MaxUint64
	}
	return 1<<width - 1
}

func (f *formatter) floatText(b []byte) string {
	switch len(b) {
	case 4:
		return strconv.FormatFloat(float64(math.Float32frombits(uint32(f.uint(b)))), 'g', -1, 32)
	case 8:
		return strconv.FormatFloat(math.Float64frombits(f.uint(b)), 'g', -1, 64)
	}
	return "0x" + fmt.Sprintf("%x", b)
}

// pointerText shows a pointer as crash does: hex, the symbol at the
// address when Symbolize knows it, and for a char * the string it points
// to.
func (f *formatter) pointerText(r Type, p uint64) string {
	text := fmt.Sprintf("0x%x", p)
	if p == 0 {
		return text
	}
	if f.opt.Symbolize != nil {
		if sym, ok := f.opt.Symbolize(p); ok {
			return text + " <" + sym + ">"
		}
	}
	if target, err := f.s.Target(r); err == nil && isChar(f.s, target) && f.opt.MaxString > 0 {
		if str, ok := f.readString(p); ok {
			text += " " + str
		}
	}
	return text
}

// readString reads a NUL-terminated string of at most MaxString bytes,
// page by page so that a short string next to an absent page reads.
func (f *formatter) readString(p uint64) (string, bool) {
	var out []byte
	for len(out) < f.opt.MaxString {
		n := min(uint64(f.opt.MaxString-len(out)), formatPiece-(p+uint64(len(out)))%formatPiece)
		chunk := make([]byte, n)
		if err := f.read(p+uint64(len(out)), chunk); err != nil {
			if len(out) == 0 {
				return "", false
			}
			break
		}
		if i := strings.IndexByte(string(chunk), 0); i >= 0 {
			return cQuote(append(out, chunk[:i]...), false), true
		}
		out = append(out, chunk...)
	}
	return cQuote(out, false) + "...", true
}

// cQuote quotes bytes as a C string literal, as gdb prints one: printable
// ASCII as is, the usual escapes, other bytes in octal. A char array
// stops at its first NUL (stopAtNUL); a single char is quoted with '.
func cQuote(b []byte, stopAtNUL bool) string {
	q := byte('"')
	if !stopAtNUL && len(b) == 1 {
		q = '\''
	}
	var sb strings.Builder
	sb.WriteByte(q)
	for _, c := range b {
		if c == 0 && stopAtNUL {
			break
		}
		switch {
		case c == q || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\t':
			sb.WriteString(`\t`)
		case c >= 0x20 && c < 0x7f:
			sb.WriteByte(c)
		default:
			fmt.Fprintf(&sb, `\%03o`, c)
		}
	}
	sb.WriteByte(q)
	return sb.String()
}
