package kernel

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"slices"
	"sort"
	"strings"

	"dumpscope/model"
)

// kallsyms is the kernel's own symbol table, built into the image by
// scripts/kallsyms.c and read by kernel/kallsyms.c. Linux 6.0 and later
// list its arrays in VMCOREINFO (kernel/crash_core.c):
//
//   - kallsyms_num_syms: unsigned int, the number of symbols.
//   - kallsyms_names: for each symbol, a length and that many token
//     numbers. The length is one byte; since Linux 6.1 (73bbb94466fd3,
//     "kallsyms: support big kernel symbols") a first byte with bit 7 set
//     is followed by a second (low 7 bits first). Nothing in the tables
//     says which form they use: expandNames reads the names both ways when
//     it matters and keeps the reading that makes sense (see namesForm).
//     Expanding the tokens gives the nm type letter followed by the name.
//   - kallsyms_token_table and kallsyms_token_index: 256 NUL-terminated
//     tokens, and u16 offsets of each token in the table.
//   - The addresses, in one of four encodings (kallsyms_sym_address() in
//     each release; libdrgn/kallsyms.c lists them):
//     absolute: unsigned long kallsyms_addresses[] (to 6.10);
//     base-relative: int kallsyms_offsets[] from kallsyms_relative_base
//     (4.6 to 6.19);
//     absolute per-CPU: the same offsets, where a non-negative one is
//     itself the address (a per-CPU variable's offset) and a negative one
//     means relative_base - 1 - offset (x86_64 SMP, 4.6 to 6.14);
//     place-relative: each offset counts from its own slot,
//     &kallsyms_offsets[i] + offset (7.0, a081b5789255d; VMCOREINFO then
//     lists no kallsyms_relative_base).
//     VMCOREINFO does not say which: the encoding under which kallsyms'
//     own _stext lands where VMCOREINFO's SYMBOL(_stext) says wins (the
//     other SYMBOL() entries break ties and check the result).
//
// Symbols are stored in address order (per-CPU offsets first).

// Bounds on what memory may claim.
const (
	maxKallsyms    = 1 << 21  // symbols; a large distribution kernel has ~250k
	maxSymName     = 1024     // expanded characters (KSYM_NAME_LEN is 128, 512 since 6.2)
	maxSymbolBytes = 64 << 20 // expanded name bytes in all
	maxTokenLen    = 256
)

// The address encodings, as Symbols.Mode names them.
const (
	encAbsolute      = "absolute"
	encRelative      = "relative"
	encAbsPercpu     = "absolute-percpu"
	encPlaceRelative = "place-relative"
)

// Symbols is the kernel's symbol table.
type Symbols struct {
	syms   []model.Symbol // kallsyms order
	byAddr []int          // symbols that are addresses, by address (ties in kallsyms order)
	byName nameIndex      // name → index of its first symbol in kallsyms order
	// sameName chains the symbols that share a name: the index of the
	// next one in kallsyms order, or -1.
	sameName []int32
	// lo and hi bound the addresses Addr answers for: from the lowest
	// symbol to the highest (_end) inclusive.
	lo, hi uint64
	// all is false when kallsyms holds text symbols only (a kernel built
	// without CONFIG_KALLSYMS_ALL): text lists the ranges Addr answers for.
	all  bool
	text [][2]uint64
	// Mode says how the addresses were encoded: "absolute", "relative",
	// "absolute-percpu" or "place-relative".
	Mode string
	// BigNames is true when kallsyms_names uses the two-byte lengths of
	// Linux 6.1 and later.
	BigNames bool
}

// kallsymsAddrs are the arrays' addresses, from VMCOREINFO.
type kallsymsAddrs struct {
	names, numSyms, tokenTable, tokenIndex uint64
	offsets, relativeBase                  uint64 // offset encodings (relativeBase 0 from 7.0)
	addresses                              uint64 // the absolute encoding
	ptrSize                                int
}

// readFunc reads kernel virtual memory.
type readFunc func(va uint64, p []byte) error

// reader returns a readFunc for one call's context.
func (k *Kernel) reader(ctx context.Context) readFunc {
	return func(va uint64, p []byte) error { return k.readVirt(ctx, va, p) }
}

// Symbols decodes kallsyms on first use.
func (k *Kernel) Symbols(ctx context.Context) (*Symbols, error) {
	return k.syms.get(ctx, k.loadSymbols)
}

func (k *Kernel) loadSymbols(ctx context.Context) (*Symbols, error) {
	const what = "kallsyms"
	if k.vmci == nil {
		return nil, k.noVMCoreInfo(what)
	}
	n := &need{k: k}
	a := kallsymsAddrs{
		ptrSize:    k.ptrSize(),
		names:      n.symbol("kallsyms_names"),
		numSyms:    n.symbol("kallsyms_num_syms"),
		tokenTable: n.symbol("kallsyms_token_table"),
		tokenIndex: n.symbol("kallsyms_token_index"),
	}
	if v, ok := k.vmci.Symbol("kallsyms_addresses"); ok {
		a.addresses = v
	} else {
		a.offsets = n.symbol("kallsyms_offsets")
		a.relativeBase, _ = k.vmci.Symbol("kallsyms_relative_base") // absent from 7.0
	}
	if err := n.err(what, "Linux 6.0 and later list kallsyms in VMCOREINFO when built with CONFIG_KALLSYMS"); err != nil {
		return nil, err
	}
	anchors := map[string]uint64{}
	for _, a := range k.anchors() {
		anchors[a.name] = a.va
	}
	s, err := decodeKallsyms(k.reader(ctx), a, anchors)
	if err != nil {
		return nil, k.missing(what, err)
	}
	return s, nil
}

// decodeKallsyms reads and expands the tables. anchors are known symbol
// addresses (VMCOREINFO's SYMBOL() entries) that choose how offsets are
// read and check the result.
func decodeKallsyms(read readFunc, a kallsymsAddrs, anchors map[string]uint64) (*Symbols, error) {
	var b4 [4]byte
	if err := read(a.numSyms, b4[:]); err != nil {
		return nil, fmt.Errorf("kallsyms_num_syms: %w", err)
	}
	num := int(binary.LittleEndian.Uint32(b4[:]))
	if num == 0 || num > maxKallsyms {
		return nil, fmt.Errorf("kallsyms_num_syms = %d is not a plausible symbol count (1..%d): %w", num, maxKallsyms, model.ErrCorrupt)
	}
	tokens, err := readTokens(read, a)
	if err != nil {
		return nil, err
	}
	names, big, err := namesForm(read, a.names, num, tokens)
	if err != nil {
		return nil, err
	}
	s := &Symbols{syms: make([]model.Symbol, num), BigNames: big}
	start := int32(0)
	for i, t := range names.types {
		s.syms[i] = model.Symbol{Name: names.all[start:names.ends[i]], Type: typeString(t)}
		start = names.ends[i]
	}
	s.indexNames()
	percpu, err := s.readAddresses(read, a, anchors)
	if err != nil {
		return nil, err
	}
	s.index(percpu)
	return s, nil
}

// readTokens reads the 256 tokens.
func readTokens(read readFunc, a kallsymsAddrs) ([256][]byte, error) {
	var tokens [256][]byte
	var idx [512]byte
	if err := read(a.tokenIndex, idx[:]); err != nil {
		return tokens, fmt.Errorf("kallsyms_token_index: %w", err)
	}
	c := newCursor(read, 0)
	for i := range tokens {
		c.seek(a.tokenTable + uint64(binary.LittleEndian.Uint16(idx[2*i:])))
		for {
			ch, err := c.byte()
			if err != nil {
				return tokens, fmt.Errorf("kallsyms_token_table token %d: %w", i, err)
			}
			if ch == 0 {
				break
			}
			if len(tokens[i]) == maxTokenLen {
				return tokens, fmt.Errorf("kallsyms_token_table token %d is longer than %d bytes: %w", i, maxTokenLen, model.ErrCorrupt)
			}
			tokens[i] = append(tokens[i], ch)
		}
	}
	return tokens, nil
}

// namesForm expands kallsyms_names, finding from the data which length
// form it uses. The forms read alike until a length byte has bit 7 set:
// the two-byte form then takes the next byte as the length's high bits,
// the one-byte form as the first token. Read the wrong way, every later
// entry is cut at a wrong place, which shows as a type that is not an nm
// letter, a name with control characters, or names that run out. So the
// names are read in the two-byte form (every kernel since 6.1); only if
// that reading used a two-byte length are they read again in the older
// one-byte form, and that one wins only if it alone makes sense.
func namesForm(read readFunc, at uint64, num int, tokens [256][]byte) (expanded, bool, error) {
	// Entries take about 16 bytes (Debian 6.1: 1.5 MB for 94k symbols).
	src := newPageStream(read, at, min(num*20+streamChunk, maxNamesBytes))
	names, used, err := expandNames(src, num, tokens, true)
	if err == nil && !used {
		return names, false, nil
	}
	bigOK := err == nil && plausibleNames(names)
	n1, _, err1 := expandNames(src, num, tokens, false)
	if err1 == nil && plausibleNames(n1) && !bigOK {
		return n1, false, nil
	}
	if err != nil {
		return expanded{}, false, err
	}
	return names, true, nil
}

// expanded is kallsyms_names expanded: each symbol's type, and the names
// one after another in one string, name i ending at ends[i].
type expanded struct {
	types []byte
	all   string
	ends  []int32
}

// plausibleNames reports whether every type is an nm letter (or '?') and
// every name printable ASCII without spaces, as scripts/kallsyms.c writes
// them.
func plausibleNames(names expanded) bool {
	for _, t := range names.types {
		if !(t >= 'a' && t <= 'z' || t >= 'A' && t <= 'Z' || t == '?') {
			return false
		}
	}
	for j := 0; j < len(names.all); j++ {
		if c := names.all[j]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// expandNames decodes num entries of kallsyms_names (kallsyms_expand_symbol
// in kernel/kallsyms.c): the first expanded character is the type. big
// selects the two-byte length form; used reports whether a two-byte
// length occurred.
func expandNames(src *pageStream, num int, tokens [256][]byte, big bool) (names expanded, used bool, err error) {
	pos := src.start
	types := make([]byte, 0, min(num, 1<<16))
	// The names are written one after another into one string and cut
	// from it: ends[i] is where name i ends. Room for names of about 20
	// characters is reserved up front (not touched until written).
	ends := make([]int32, 0, min(num, 1<<16))
	var all strings.Builder
	all.Grow(min(num*24, maxSymbolBytes))
	buf := make([]byte, 0, maxSymName)
	total := 0
	for i := 0; i < num; i++ {
		if err := src.need(pos + 1); err != nil {
			return expanded{}, used, fmt.Errorf("kallsyms_names entry %d: %w", i, err)
		}
		n := src.data[pos]
		pos++
		length := int(n)
		if big && n&0x80 != 0 {
			if err := src.need(pos + 1); err != nil {
				return expanded{}, used, fmt.Errorf("kallsyms_names entry %d: %w", i, err)
			}
			length, used = int(n&0x7f)|int(src.data[pos])<<7, true
			pos++
		}
		if err := src.need(pos + length); err != nil {
			return expanded{}, used, fmt.Errorf("kallsyms_names entry %d: %w", i, err)
		}
		toks := src.data[pos : pos+length]
		pos += length
		buf = buf[:0]
		for _, t := range toks {
			if len(buf)+len(tokens[t]) > maxSymName {
				return expanded{}, used, fmt.Errorf("kallsyms_names entry %d expands beyond %d characters: %w", i, maxSymName, model.ErrCorrupt)
			}
			buf = append(buf, tokens[t]...)
		}
		if len(buf) < 2 {
			return expanded{}, used, fmt.Errorf("kallsyms_names entry %d is empty: %w", i, model.ErrCorrupt)
		}
		if total += len(buf); total > maxSymbolBytes {
			return expanded{}, used, fmt.Errorf("kallsyms names exceed %d bytes: %w", maxSymbolBytes, model.ErrCorrupt)
		}
		types = append(types, buf[0])
		all.Write(buf[1:])
		ends = append(ends, int32(all.Len()))
	}
	return expanded{types: types, all: all.String(), ends: ends}, used, nil
}

// encoding is one way to read kallsyms_offsets: the address of symbol i
// and whether it is a per-CPU offset rather than an address.
type encoding struct {
	name string
	addr func(i int) (uint64, bool)
}

// readAddresses fills in the addresses and reports which symbols are
// per-CPU offsets rather than addresses.
func (s *Symbols) readAddresses(read readFunc, a kallsymsAddrs, anchors map[string]uint64) ([]bool, error) {
	num := len(s.syms)
	mask := uint64(1)<<(8*a.ptrSize) - 1 // unsigned long arithmetic wraps at the pointer size
	var encs []encoding
	if a.addresses != 0 {
		raw := make([]byte, num*a.ptrSize)
		if err := read(a.addresses, raw); err != nil {
			return nil, fmt.Errorf("kallsyms_addresses: %w", err)
		}
		encs = append(encs, encoding{encAbsolute, func(i int) (uint64, bool) { return ptrAt(raw, i, a.ptrSize), false }})
	} else {
		raw := make([]byte, num*4)
		if err := read(a.offsets, raw); err != nil {
			return nil, fmt.Errorf("kallsyms_offsets: %w", err)
		}
		off := func(i int) int32 { return int32(binary.LittleEndian.Uint32(raw[4*i:])) }
		if a.relativeBase != 0 {
			pb := make([]byte, a.ptrSize)
			if err := read(a.relativeBase, pb); err != nil {
				return nil, fmt.Errorf("kallsyms_relative_base: %w", err)
			}
			base := ptrAt(pb, 0, a.ptrSize)
			encs = append(encs,
				encoding{encRelative, func(i int) (uint64, bool) { return (base + uint64(uint32(off(i)))) & mask, false }},
				encoding{encAbsPercpu, func(i int) (uint64, bool) {
					if o := off(i); o < 0 {
						return (base - 1 - uint64(int64(o))) & mask, false
					}
					return uint64(off(i)), true
				}})
		}
		encs = append(encs, encoding{encPlaceRelative, func(i int) (uint64, bool) {
			return (a.offsets + 4*uint64(i) + uint64(int64(off(i)))) & mask, false
		}})
	}
	e, err := s.chooseEncoding(encs, anchors)
	percpu := s.setAddrs(e.addr)
	s.Mode = e.name
	return percpu, err
}

// chooseEncoding picks the encoding under which kallsyms' _stext is
// VMCOREINFO's; without that evidence, the one most anchors agree with
// (the first on a tie). It fails when anchors that kallsyms names
// disagree under every encoding.
func (s *Symbols) chooseEncoding(encs []encoding, anchors map[string]uint64) (encoding, error) {
	if want, ok := anchors["_stext"]; ok {
		for _, e := range encs {
			for _, i := range s.indexes("_stext") {
				if v, percpu := e.addr(i); !percpu && v == want {
					s.setAddrs(e.addr)
					_, err := s.check(anchors)
					return e, err
				}
			}
		}
	}
	best, bestScore := -1, 0
	var bestErr error
	for i, e := range encs {
		s.setAddrs(e.addr)
		score, err := s.check(anchors)
		if best < 0 || score > bestScore {
			best, bestScore, bestErr = i, score, err
		}
	}
	return encs[best], bestErr
}

// setAddrs sets every symbol's address with addr and returns which are
// per-CPU offsets.
func (s *Symbols) setAddrs(addr func(int) (uint64, bool)) []bool {
	percpu := make([]bool, len(s.syms))
	for i := range s.syms {
		var v uint64
		v, percpu[i] = addr(i)
		s.syms[i].Addr = model.VirtAddr(v)
	}
	return percpu
}

func ptrAt(b []byte, i, size int) uint64 {
	if size == 8 {
		return binary.LittleEndian.Uint64(b[8*i:])
	}
	return uint64(binary.LittleEndian.Uint32(b[4*i:]))
}

// check compares the decoded addresses with the anchors and counts those
// that agree. It fails when anchors that kallsyms names disagree and none
// agrees: the tables are not what VMCOREINFO describes.
func (s *Symbols) check(anchors map[string]uint64) (int, error) {
	agree := 0
	var bad []string
	for name, want := range anchors {
		idx := s.indexes(name)
		if len(idx) == 0 {
			continue
		}
		found := false
		for _, i := range idx {
			found = found || uint64(s.syms[i].Addr) == want
		}
		if found {
			agree++
		} else {
			bad = append(bad, fmt.Sprintf("%s at %s, VMCOREINFO says %#x", name, s.syms[idx[0]].Addr, want))
		}
	}
	if agree == 0 && len(bad) > 0 {
		sort.Strings(bad)
		return 0, fmt.Errorf("kallsyms disagrees with VMCOREINFO: %s: %w", bad[0], model.ErrCorrupt)
	}
	return agree, nil
}

// indexes returns the indexes of the symbols named name, in kallsyms
// order.
func (s *Symbols) indexes(name string) []int {
	i, ok := s.first(name)
	if !ok {
		return nil
	}
	var out []int
	for ; i >= 0 && len(out) < len(s.syms); i = s.sameName[i] {
		out = append(out, int(i))
	}
	return out
}

// nameIndex finds symbols by name: an open-addressing hash table, at
// most half full, whose slots hold the index + 1 of the first symbol in
// kallsyms order with a name (0: empty). The names stay in the symbols:
// a map keyed by them took 3 MB and 6% of a crash analysis to build.
type nameIndex struct {
	seed  maphash.Seed
	slots []int32
}

// slot returns the slot of name: the one that holds it, or the empty one
// it would take.
func (x *nameIndex) slot(syms []model.Symbol, name string) int {
	mask := len(x.slots) - 1
	for j := int(maphash.String(x.seed, name)) & mask; ; j = (j + 1) & mask {
		if v := x.slots[j]; v == 0 || syms[v-1].Name == name {
			return j
		}
	}
}

// indexNames indexes the symbols by name and chains those that share one.
func (s *Symbols) indexNames() {
	size := 8
	for size < 2*len(s.syms) {
		size <<= 1
	}
	s.byName = nameIndex{seed: maphash.MakeSeed(), slots: make([]int32, size)}
	s.sameName = make([]int32, len(s.syms))
	last := make([]int32, len(s.syms)) // the last symbol of a first one's chain
	for i := range s.syms {
		s.sameName[i] = -1
		j := s.byName.slot(s.syms, s.syms[i].Name)
		if s.byName.slots[j] == 0 {
			s.byName.slots[j], last[i] = int32(i)+1, int32(i)
			continue
		}
		first := s.byName.slots[j] - 1
		s.sameName[last[first]], last[first] = int32(i), int32(i)
	}
}

// first returns the index of the first symbol named name.
func (s *Symbols) first(name string) (int32, bool) {
	if len(s.byName.slots) == 0 {
		return 0, false
	}
	v := s.byName.slots[s.byName.slot(s.syms, name)]
	return v - 1, v != 0
}

// typeString returns the one-letter string of an nm type without
// allocating for the letters kallsyms uses.
func typeString(c byte) string {
	if c < 0x80 {
		return asciiLetters[c : c+1]
	}
	return string(c)
}

// asciiLetters holds every ASCII byte at its own index, for typeString's
// substrings.
const asciiLetters = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" +
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f" +
	" !\"#$%&'()*+,-./0123456789:;<=>?" +
	"@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_" +
	"`abcdefghijklmnopqrstuvwxyz{|}~\x7f"

// Len returns the number of symbols.
func (s *Symbols) Len() int { return len(s.syms) }

// All returns every symbol in kallsyms order.
func (s *Symbols) All() []model.Symbol { return s.syms }

// Lookup returns the symbols with the name, in kallsyms order (static
// functions of different files may share one).
func (s *Symbols) Lookup(name string) []model.Symbol {
	var out []model.Symbol
	for _, i := range s.indexes(name) {
		out = append(out, s.syms[i])
	}
	return out
}

// LookupErr is Lookup with an error that names what kallsyms does not
// have.
func (s *Symbols) LookupErr(name string) ([]model.Symbol, error) {
	if out := s.Lookup(name); len(out) > 0 {
		return out, nil
	}
	return nil, fmt.Errorf("no symbol %q in kallsyms (%d symbols): %w", name, len(s.syms), model.ErrNotFound)
}

// cursor reads kernel memory sequentially through a one-page buffer.
type cursor struct {
	read    readFunc
	addr    uint64
	buf     []byte
	bufAddr uint64
}

const cursorChunk = 4096

func newCursor(read readFunc, at uint64) *cursor {
	return &cursor{read: read, addr: at}
}

func (c *cursor) seek(at uint64) { c.addr = at }

// byte returns the next byte. Chunks end on 4 KiB boundaries, so a read
// never spans into a page the caller does not need.
func (c *cursor) byte() (byte, error) {
	// An address below bufAddr wraps to a large index and refills.
	if i := c.addr - c.bufAddr; i < uint64(len(c.buf)) {
		c.addr++
		return c.buf[i], nil
	}
	return c.fill()
}

// fill reads the chunk that holds the cursor's address and returns its
// byte there.
func (c *cursor) fill() (byte, error) {
	start := c.addr &^ (cursorChunk - 1)
	if c.buf == nil {
		c.buf = make([]byte, cursorChunk)
	}
	c.buf = c.buf[:cursorChunk]
	if err := c.read(start, c.buf); err != nil {
		c.buf = c.buf[:0]
		return 0, err
	}
	c.bufAddr = start
	b := c.buf[c.addr-c.bufAddr]
	c.addr++
	return b, nil
}

// pageStream reads kernel memory from an address onwards, as far as a
// reader asks, and keeps what it read: kallsyms_names is read once, in
// reads of many pages, for both readings of its length form. Like the
// cursor, it reads whole 4 KiB pages from the one that holds the start.
type pageStream struct {
	read  readFunc
	base  uint64 // the address of data[0], on a page boundary
	start int    // the offset in data of the first byte asked for
	data  []byte
	err   error // why data ends where it does, once a read failed
	limit int   // the most bytes it reads past start
}

// streamChunk is how much one read of a pageStream asks for.
const streamChunk = 64 << 10

// maxNamesBytes bounds kallsyms_names: each entry is a length of one or
// two bytes and token numbers, and a real token expands to a character at
// least.
const maxNamesBytes = maxSymbolBytes + 2*maxKallsyms

// newPageStream starts a stream at at; sizeHint is how much room to
// reserve for the reads.
func newPageStream(read readFunc, at uint64, sizeHint int) *pageStream {
	base := at &^ (cursorChunk - 1)
	return &pageStream{read: read, base: base, start: int(at - base),
		data: make([]byte, 0, int(at-base)+sizeHint), limit: maxNamesBytes}
}

// need makes data hold at least end bytes, or says why it cannot.
func (s *pageStream) need(end int) error {
	for len(s.data) < end {
		if s.err != nil {
			return s.err
		}
		if len(s.data)-s.start >= s.limit {
			s.err = fmt.Errorf("more than %d bytes of names: %w", s.limit, model.ErrCorrupt)
			return s.err
		}
		va := s.base + uint64(len(s.data))
		n := int(streamChunk - va%streamChunk)
		old := len(s.data)
		s.data = slices.Grow(s.data, n)[:old+n]
		if err := s.read(va, s.data[old:]); err == nil {
			continue
		}
		// A page of the chunk cannot be read: keep the pages before it,
		// and its error.
		s.data = s.data[:old]
		for ; len(s.data) < old+n; s.data = s.data[:len(s.data)+cursorChunk] {
			at := len(s.data)
			if err := s.read(s.base+uint64(at), s.data[at:at+cursorChunk]); err != nil {
				s.err = err
				break
			}
		}
	}
	return nil
}
