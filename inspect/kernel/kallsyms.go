package kernel

import (
	"context"
	"fmt"
	"sort"

	"dumpscope/model"
)

// kallsyms is the kernel's own symbol table, built into the image by
// scripts/kallsyms.c and read by kernel/kallsyms.c. Linux 6.0 and later
// list its arrays in VMCOREINFO (kernel/crash_core.c):
//
//   - kallsyms_num_syms: unsigned int, the number of symbols.
//   - kallsyms_names: for each symbol, a length and that many token
//     numbers. The length is one byte, or two when the first has bit 7 set
//     (low 7 bits first; "big" symbols, Linux 6.1). Expanding the tokens
//     gives the nm type letter followed by the name.
//   - kallsyms_token_table and kallsyms_token_index: 256 NUL-terminated
//     tokens, and u16 offsets of each token in the table.
//   - kallsyms_offsets with kallsyms_relative_base (KALLSYMS_BASE_RELATIVE,
//     since Linux 4.6 on most architectures): int offsets.
//     kallsyms_sym_address() makes an offset an address in one of two ways:
//     relative_base + (u32)offset, or, with KALLSYMS_ABSOLUTE_PERCPU (the
//     default of x86_64 SMP kernels such as 6.1), a non-negative offset is
//     itself the address (a per-CPU variable's offset) and a negative one
//     means relative_base - 1 - offset. VMCOREINFO does not say which; the
//     addresses of its own SYMBOL() entries decide.
//   - kallsyms_addresses: unsigned long absolute addresses, on kernels
//     without KALLSYMS_BASE_RELATIVE.
//
// Symbols are stored in address order (per-CPU offsets first).

// Bounds on what memory may claim.
const (
	maxKallsyms    = 1 << 21  // symbols; a large distribution kernel has ~250k
	maxSymName     = 1024     // expanded characters (KSYM_NAME_LEN is 128, 512 since 6.2)
	maxSymbolBytes = 64 << 20 // expanded name bytes in all
	maxTokenLen    = 256
)

// Symbols is the kernel's symbol table.
type Symbols struct {
	syms   []model.Symbol   // kallsyms order
	byAddr []int            // symbols that are addresses, by address (ties in kallsyms order)
	byName map[string][]int // name → indexes in kallsyms order
	// lo and hi bound the addresses Addr answers for: from the lowest
	// symbol to the highest (_end) inclusive.
	lo, hi uint64
	// Mode says how kallsyms_offsets were read: "relative",
	// "absolute-percpu" or "absolute".
	Mode string
}

// kallsymsAddrs are the arrays' addresses, from VMCOREINFO.
type kallsymsAddrs struct {
	names, numSyms, tokenTable, tokenIndex uint64
	offsets, relativeBase                  uint64 // base-relative kernels
	addresses                              uint64 // others
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
	a := kallsymsAddrs{ptrSize: k.ptrSize()}
	a.names = n.symbol("kallsyms_names")
	a.numSyms = n.symbol("kallsyms_num_syms")
	a.tokenTable = n.symbol("kallsyms_token_table")
	a.tokenIndex = n.symbol("kallsyms_token_index")
	if v, ok := k.vmci.Symbol("kallsyms_addresses"); ok {
		a.addresses = v
	} else {
		a.offsets = n.symbol("kallsyms_offsets")
		a.relativeBase = n.symbol("kallsyms_relative_base")
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
	num := int(le.Uint32(b4[:]))
	if num == 0 || num > maxKallsyms {
		return nil, fmt.Errorf("kallsyms_num_syms = %d is not a plausible symbol count (1..%d): %w", num, maxKallsyms, model.ErrCorrupt)
	}
	tokens, err := readTokens(read, a)
	if err != nil {
		return nil, err
	}
	types, names, err := expandNames(read, a.names, num, tokens)
	if err != nil {
		return nil, err
	}
	s := &Symbols{syms: make([]model.Symbol, num), byName: make(map[string][]int, num)}
	for i := range names {
		s.syms[i] = model.Symbol{Name: names[i], Type: string(types[i])}
		s.byName[names[i]] = append(s.byName[names[i]], i)
	}
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
		c.seek(a.tokenTable + uint64(le.Uint16(idx[2*i:])))
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

// expandNames decodes num entries of kallsyms_names (kallsyms_expand_symbol
// in kernel/kallsyms.c): the first expanded character is the type.
func expandNames(read readFunc, at uint64, num int, tokens [256][]byte) ([]byte, []string, error) {
	c := newCursor(read, at)
	types := make([]byte, 0, min(num, 1<<16))
	names := make([]string, 0, min(num, 1<<16))
	total := 0
	buf := make([]byte, 0, maxSymName)
	for i := 0; i < num; i++ {
		n, err := c.byte()
		if err != nil {
			return nil, nil, fmt.Errorf("kallsyms_names entry %d: %w", i, err)
		}
		length := int(n)
		if n&0x80 != 0 {
			hi, err := c.byte()
			if err != nil {
				return nil, nil, fmt.Errorf("kallsyms_names entry %d: %w", i, err)
			}
			length = int(n&0x7f) | int(hi)<<7
		}
		buf = buf[:0]
		for j := 0; j < length; j++ {
			t, err := c.byte()
			if err != nil {
				return nil, nil, fmt.Errorf("kallsyms_names entry %d: %w", i, err)
			}
			if len(buf)+len(tokens[t]) > maxSymName {
				return nil, nil, fmt.Errorf("kallsyms_names entry %d expands beyond %d characters: %w", i, maxSymName, model.ErrCorrupt)
			}
			buf = append(buf, tokens[t]...)
		}
		if len(buf) < 2 {
			return nil, nil, fmt.Errorf("kallsyms_names entry %d is empty: %w", i, model.ErrCorrupt)
		}
		if total += len(buf); total > maxSymbolBytes {
			return nil, nil, fmt.Errorf("kallsyms names exceed %d bytes: %w", maxSymbolBytes, model.ErrCorrupt)
		}
		types = append(types, buf[0])
		names = append(names, string(buf[1:]))
	}
	return types, names, nil
}

// readAddresses fills in the addresses and reports which symbols are
// per-CPU offsets rather than addresses.
func (s *Symbols) readAddresses(read readFunc, a kallsymsAddrs, anchors map[string]uint64) ([]bool, error) {
	num := len(s.syms)
	if a.addresses != 0 {
		raw := make([]byte, num*a.ptrSize)
		if err := read(a.addresses, raw); err != nil {
			return nil, fmt.Errorf("kallsyms_addresses: %w", err)
		}
		for i := range s.syms {
			s.syms[i].Addr = model.VirtAddr(ptrAt(raw, i, a.ptrSize))
		}
		s.Mode = "absolute"
		_, err := s.check(anchors)
		return make([]bool, num), err
	}
	raw := make([]byte, num*4)
	if err := read(a.offsets, raw); err != nil {
		return nil, fmt.Errorf("kallsyms_offsets: %w", err)
	}
	pb := make([]byte, a.ptrSize)
	if err := read(a.relativeBase, pb); err != nil {
		return nil, fmt.Errorf("kallsyms_relative_base: %w", err)
	}
	base := ptrAt(pb, 0, a.ptrSize)
	mask := uint64(1)<<(8*a.ptrSize) - 1 // unsigned long arithmetic wraps at the pointer size
	negative := false
	for i := 0; i < num; i++ {
		negative = negative || int32(le.Uint32(raw[4*i:])) < 0
	}
	relative := func(i int) (uint64, bool) { return (base + uint64(le.Uint32(raw[4*i:]))) & mask, false }
	absPercpu := func(i int) (uint64, bool) {
		off := int32(le.Uint32(raw[4*i:]))
		if off >= 0 {
			return uint64(off), true
		}
		return (base - 1 - uint64(int64(off))) & mask, false
	}
	modes := []struct {
		name string
		addr func(int) (uint64, bool)
	}{{"relative", relative}}
	if negative {
		// Negative offsets are what --absolute-percpu writes; try it first.
		modes = append([]struct {
			name string
			addr func(int) (uint64, bool)
		}{{"absolute-percpu", absPercpu}}, modes...)
	}
	// Read the offsets each way; the way most anchors agree with wins.
	best, bestScore := -1, 0
	var bestErr error
	for mi, m := range modes {
		s.setAddrs(m.addr)
		score, err := s.check(anchors)
		if best < 0 || score > bestScore {
			best, bestScore, bestErr = mi, score, err
		}
	}
	percpu := s.setAddrs(modes[best].addr)
	s.Mode = modes[best].name
	return percpu, bestErr
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
		return le.Uint64(b[8*i:])
	}
	return uint64(le.Uint32(b[4*i:]))
}

// check compares the decoded addresses with the anchors and counts those
// that agree. It fails when anchors that kallsyms names disagree and none
// agrees: the tables are not what VMCOREINFO describes.
func (s *Symbols) check(anchors map[string]uint64) (int, error) {
	agree := 0
	var bad []string
	for name, want := range anchors {
		idx, ok := s.byName[name]
		if !ok {
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

// index sorts the address-bearing symbols and sets sizes and bounds.
func (s *Symbols) index(percpu []bool) {
	s.byAddr = s.byAddr[:0]
	for i := range s.syms {
		if !percpu[i] {
			s.byAddr = append(s.byAddr, i)
		}
	}
	sort.SliceStable(s.byAddr, func(a, b int) bool { return s.syms[s.byAddr[a]].Addr < s.syms[s.byAddr[b]].Addr })
	if len(s.byAddr) == 0 {
		return
	}
	// Like the kernel's is_kernel(), _end itself still belongs to the
	// image.
	s.lo = uint64(s.syms[s.byAddr[0]].Addr)
	s.hi = uint64(s.syms[s.byAddr[len(s.byAddr)-1]].Addr) + 1
	// Walk down from the top so each symbol's size is the distance to the
	// next higher address, aliases included, in one pass.
	next := uint64(s.syms[s.byAddr[len(s.byAddr)-1]].Addr)
	for j := len(s.byAddr) - 1; j >= 0; j-- {
		sym := &s.syms[s.byAddr[j]]
		if j+1 < len(s.byAddr) && s.syms[s.byAddr[j+1]].Addr > sym.Addr {
			next = uint64(s.syms[s.byAddr[j+1]].Addr)
		}
		if next > uint64(sym.Addr) {
			sym.Size = next - uint64(sym.Addr)
		}
	}
}

// Len returns the number of symbols.
func (s *Symbols) Len() int { return len(s.syms) }

// All returns every symbol in kallsyms order.
func (s *Symbols) All() []model.Symbol { return s.syms }

// Lookup returns the symbols with the name, in kallsyms order (static
// functions of different files may share one).
func (s *Symbols) Lookup(name string) []model.Symbol {
	var out []model.Symbol
	for _, i := range s.byName[name] {
		out = append(out, s.syms[i])
	}
	return out
}

// Addr resolves an address to the symbol that contains it. Among symbols
// at one address it picks the first in kallsyms order, as the kernel's
// get_symbol_pos does. Addresses outside the kernel image (below its
// lowest symbol or beyond its highest, _end) have no symbol: module
// symbols are not in the core kallsyms tables.
func (s *Symbols) Addr(addr uint64) (model.SymbolRef, bool) {
	if addr < s.lo || addr >= s.hi || len(s.byAddr) == 0 {
		return model.SymbolRef{}, false
	}
	j := sort.Search(len(s.byAddr), func(j int) bool { return uint64(s.syms[s.byAddr[j]].Addr) > addr }) - 1
	for j > 0 && s.syms[s.byAddr[j-1]].Addr == s.syms[s.byAddr[j]].Addr {
		j--
	}
	sym := s.syms[s.byAddr[j]]
	return model.SymbolRef{Addr: model.VirtAddr(addr), Symbol: sym, Offset: addr - uint64(sym.Addr)}, true
}

// LookupErr is Lookup with an error that names what kallsyms does not
// have.
func (s *Symbols) LookupErr(name string) ([]model.Symbol, error) {
	if out := s.Lookup(name); len(out) > 0 {
		return out, nil
	}
	return nil, fmt.Errorf("no symbol %q in kallsyms (%d symbols): %w", name, len(s.syms), model.ErrNotFound)
}

// AddrErr is Addr with an error for addresses outside the image.
func (s *Symbols) AddrErr(addr uint64) (model.SymbolRef, error) {
	if r, ok := s.Addr(addr); ok {
		return r, nil
	}
	return model.SymbolRef{}, fmt.Errorf("%#x lies outside the kernel image (kallsyms covers %#x-%#x; module addresses are not in it): %w",
		addr, s.lo, s.hi, model.ErrNotFound)
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
	if c.buf == nil || c.addr < c.bufAddr || c.addr-c.bufAddr >= uint64(len(c.buf)) {
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
	}
	b := c.buf[c.addr-c.bufAddr]
	c.addr++
	return b, nil
}
