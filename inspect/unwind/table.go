package unwind

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"

	"dumpscope/model"
)

// Memory reads kernel virtual memory. An address the dump cannot give
// yields an error (the engine's errors wrap model.ErrPageAbsent or
// model.ErrNotFound).
type Memory interface {
	ReadVirt(va uint64, p []byte) error
}

// Bounds on what memory may claim.
const (
	// maxEntries bounds one ORC table: a large distribution kernel has
	// ~400k entries, an allyesconfig kernel about 2M.
	maxEntries = 1 << 22
	// readChunk is how much of a table one read asks for.
	readChunk = 64 << 10
)

// Table is one ORC table: vmlinux's or a module's.
type Table struct {
	// Name is "vmlinux" or the module's name.
	Name string
	// Layout is the flags layout the entries are decoded with.
	Layout Layout
	// IPAddr is the address of the orc_unwind_ip array: entry i covers
	// code from IPAddr + 4*i + ipOff[i].
	IPAddr uint64
	ipOff  []int32
	raw    []byte // the orc_unwind array, entrySize bytes each
	// Lo and Hi bound the code the table answers for (inclusive).
	Lo, Hi uint64
}

// Len returns the number of entries.
func (t *Table) Len() int { return len(t.ipOff) }

// IP returns the first code address entry i covers.
func (t *Table) IP(i int) uint64 {
	return t.IPAddr + 4*uint64(i) + uint64(int64(t.ipOff[i]))
}

// Entry returns entry i decoded; ok is false when the layout cannot
// decode it (it is then TypeUndefined).
func (t *Table) Entry(i int) (Entry, bool) {
	return decodeEntry(t.raw[i*entrySize:], t.Layout)
}

// find returns the index of the entry covering pc: the rightmost entry
// whose ip is at or below pc, as __orc_find does (the rightmost among
// equal ips, so a real entry wins over a section terminator sorted before
// it).
func (t *Table) find(pc uint64) (int, bool) {
	if pc < t.Lo || pc > t.Hi || len(t.ipOff) == 0 {
		return 0, false
	}
	i := sort.Search(len(t.ipOff), func(i int) bool { return t.IP(i) > pc }) - 1
	return i, i >= 0
}

// VmlinuxSymbols are the kallsyms addresses that locate vmlinux's ORC
// tables (arch/x86/kernel/vmlinux.lds.S, include/asm-generic/vmlinux.lds.h).
type VmlinuxSymbols struct {
	StartIP, StopIP         uint64 // __start_orc_unwind_ip, __stop_orc_unwind_ip
	StartUnwind, StopUnwind uint64 // __start_orc_unwind, __stop_orc_unwind
	// Header is __start_orc_header (0 when the kernel has none: before
	// 6.3.10/6.4).
	Header uint64
	// FPEntry is the address of the static orc_fp_entry (0 when unknown).
	FPEntry uint64
	// Release is the kernel release, a hint for layout detection only.
	Release string
}

// ReadVmlinux reads vmlinux's ORC table from memory and detects its
// layout. The table sizes come from the symbols: the two arrays must hold
// the same number of entries. The ip array must be sorted (sorttable sorts
// it at build time since 5.6, unwind_init at boot before).
//
// Lookups use a binary search over the whole sorted ip array, as
// unwind_orc.c does for init text; the kernel's orc_lookup[] block index
// (one u32 per 256 bytes of _stext.._etext, filled at boot) only narrows
// that search, so it is not read.
func ReadVmlinux(mem Memory, s VmlinuxSymbols) (*Table, *Detection, error) {
	if s.StopIP < s.StartIP || s.StopUnwind < s.StartUnwind {
		return nil, nil, fmt.Errorf("vmlinux ORC: __stop_orc_unwind_ip %#x or __stop_orc_unwind %#x lies below its start: %w", s.StopIP, s.StopUnwind, model.ErrCorrupt)
	}
	ipBytes, uBytes := s.StopIP-s.StartIP, s.StopUnwind-s.StartUnwind
	if ipBytes%4 != 0 || uBytes%entrySize != 0 || ipBytes/4 != uBytes/entrySize {
		return nil, nil, fmt.Errorf("vmlinux ORC: orc_unwind_ip spans %d bytes and orc_unwind %d bytes, not the same number of 4- and %d-byte entries: %w",
			ipBytes, uBytes, entrySize, model.ErrCorrupt)
	}
	t, err := readTable(mem, "vmlinux", s.StartIP, s.StartUnwind, ipBytes/4)
	if err != nil {
		return nil, nil, err
	}
	ev := Evidence{Release: s.Release}
	if s.Header != 0 {
		h := make([]byte, orcHeaderSize)
		if err := mem.ReadVirt(s.Header, h); err == nil {
			ev.Header = h
		}
	}
	if s.FPEntry != 0 {
		fp := make([]byte, entrySize)
		if err := mem.ReadVirt(s.FPEntry, fp); err == nil {
			ev.FPEntry = fp
		}
	}
	det, err := DetectLayout(t.raw, ev)
	if err != nil {
		return nil, &det, fmt.Errorf("vmlinux ORC at %#x: %w", s.StartUnwind, err)
	}
	t.Layout = det.Layout
	return t, &det, nil
}

// ModuleORC locates a module's table: struct module's arch.orc_unwind_ip,
// arch.orc_unwind and arch.num_orcs (arch/x86/include/asm/module.h),
// sorted by unwind_module_init when the module was loaded.
type ModuleORC struct {
	Name   string
	IP     uint64 // mod->arch.orc_unwind_ip
	Unwind uint64 // mod->arch.orc_unwind
	Num    uint64 // mod->arch.num_orcs
	TextLo uint64 // optional: the module's code range [TextLo, TextHi)
	TextHi uint64
}

// ReadModule reads a module's ORC table; a module is built with its
// kernel's objtool, so it has vmlinux's layout.
func ReadModule(mem Memory, m ModuleORC, layout Layout) (*Table, error) {
	if m.IP == 0 || m.Unwind == 0 || m.Num == 0 {
		return nil, fmt.Errorf("module %s has no ORC table: %w", m.Name, model.ErrNotFound)
	}
	if layout < LayoutV1 || layout > LayoutV4 {
		return nil, fmt.Errorf("module %s: ORC layout %v: %w", m.Name, layout, model.ErrUnsupported)
	}
	t, err := readTable(mem, m.Name, m.IP, m.Unwind, m.Num)
	if err != nil {
		return nil, err
	}
	t.Layout = layout
	if m.TextHi > m.TextLo {
		t.Lo, t.Hi = m.TextLo, m.TextHi-1
	}
	return t, nil
}

// readTable reads n parallel entries, in chunks, checking as it goes so
// that a bogus count fails at the first unreadable page rather than
// allocating for it.
func readTable(mem Memory, name string, ipAddr, uAddr, n uint64) (*Table, error) {
	if n == 0 || n > maxEntries {
		return nil, fmt.Errorf("%s ORC: %d entries (at most %d are believed): %w", name, n, maxEntries, model.ErrCorrupt)
	}
	if ipAddr+4*n < ipAddr || uAddr+entrySize*n < uAddr {
		return nil, fmt.Errorf("%s ORC: table at %#x/%#x wraps around the address space: %w", name, ipAddr, uAddr, model.ErrCorrupt)
	}
	t := &Table{Name: name, IPAddr: ipAddr}
	// When both arrays' last entries are readable, the count is believed
	// enough to allocate for it at once; otherwise the arrays grow as the
	// chunks are read, and the first unreadable one says why.
	var last [entrySize]byte
	if mem.ReadVirt(ipAddr+4*(n-1), last[:4]) == nil && mem.ReadVirt(uAddr+entrySize*(n-1), last[:]) == nil {
		if readWhole(mem, t, ipAddr, uAddr, n) {
			if err := t.checkSorted(); err != nil {
				return nil, err
			}
			return t, nil
		}
		t.ipOff, t.raw = make([]int32, 0, n), make([]byte, 0, entrySize*n)
	}
	buf := make([]byte, readChunk)
	for done := uint64(0); done < n; {
		k := min(n-done, readChunk/entrySize)
		ip := buf[:4*k]
		if err := mem.ReadVirt(ipAddr+4*done, ip); err != nil {
			return nil, fmt.Errorf("%s ORC: orc_unwind_ip entries %d-%d at %#x: %w", name, done, done+k-1, ipAddr+4*done, err)
		}
		for i := uint64(0); i < k; i++ {
			t.ipOff = append(t.ipOff, int32(binary.LittleEndian.Uint32(ip[4*i:])))
		}
		start := len(t.raw)
		t.raw = slices.Grow(t.raw, entrySize*int(k))[:start+entrySize*int(k)]
		if err := mem.ReadVirt(uAddr+entrySize*done, t.raw[start:]); err != nil {
			return nil, fmt.Errorf("%s ORC: orc_unwind entries %d-%d at %#x: %w", name, done, done+k-1, uAddr+entrySize*done, err)
		}
		done += k
	}
	if err := t.checkSorted(); err != nil {
		return nil, err
	}
	return t, nil
}

// readWhole reads both arrays of a table whose count is believed with one
// read each (a kernel engine decodes the pages of a read that large on
// several goroutines) and reports whether both reads succeeded; when one
// fails, readTable reads in chunks, so that its error names the entries
// that could not be read.
func readWhole(mem Memory, t *Table, ipAddr, uAddr, n uint64) bool {
	ip, raw := make([]byte, 4*n), make([]byte, entrySize*n)
	if mem.ReadVirt(ipAddr, ip) != nil || mem.ReadVirt(uAddr, raw) != nil {
		return false
	}
	t.ipOff = make([]int32, n)
	for i := range t.ipOff {
		t.ipOff[i] = int32(binary.LittleEndian.Uint32(ip[4*i:]))
	}
	t.raw = raw
	return true
}

// checkSorted checks that the ips ascend and sets Lo and Hi.
func (t *Table) checkSorted() error {
	prev := t.IP(0)
	for i := 1; i < len(t.ipOff); i++ {
		ip := t.IP(i)
		if ip < prev {
			return fmt.Errorf("%s ORC: orc_unwind_ip is not sorted: entry %d (at %#x) covers %#x, below entry %d's %#x: %w",
				t.Name, i, t.IPAddr+4*uint64(i), ip, i-1, prev, model.ErrCorrupt)
		}
		prev = ip
	}
	t.Lo, t.Hi = t.IP(0), prev
	return nil
}

// NewTable builds a table from arrays already in hand (writer-made tables
// in tests, or a table read by other means): ip holds the s32
// orc_unwind_ip entries as stored at ipAddr, raw the orc_unwind entries.
func NewTable(name string, layout Layout, ipAddr uint64, ip []byte, raw []byte) (*Table, error) {
	n := len(ip) / 4
	if n == 0 || n > maxEntries || len(ip)%4 != 0 || len(raw) != n*entrySize {
		return nil, fmt.Errorf("%s ORC: %d ip bytes and %d entry bytes do not make a table: %w", name, len(ip), len(raw), model.ErrCorrupt)
	}
	if ipAddr+4*uint64(n) < ipAddr {
		return nil, fmt.Errorf("%s ORC: table at %#x wraps around the address space: %w", name, ipAddr, model.ErrCorrupt)
	}
	t := &Table{Name: name, Layout: layout, IPAddr: ipAddr, ipOff: make([]int32, n), raw: append([]byte(nil), raw...)}
	for i := range t.ipOff {
		t.ipOff[i] = int32(binary.LittleEndian.Uint32(ip[4*i:]))
	}
	if err := t.checkSorted(); err != nil {
		return nil, err
	}
	return t, nil
}

// ORC is the set of tables an unwinder looks code up in.
type ORC struct {
	tables []*Table
}

// NewORC gathers vmlinux's table and the modules'. Nil tables are
// skipped.
func NewORC(tables ...*Table) *ORC {
	o := &ORC{}
	for _, t := range tables {
		if t != nil {
			o.tables = append(o.tables, t)
		}
	}
	return o
}

// Tables returns the tables, vmlinux's first.
func (o *ORC) Tables() []*Table { return o.tables }

// errNoEntry says that no table covers an address.
var errNoEntry = errors.New("no ORC entry")

// Find returns the entry that covers pc, from the first table whose range
// holds it. pc 0 gets unwind_orc.c's null entry.
func (o *ORC) Find(pc uint64) (Entry, error) {
	if pc == 0 {
		return nullEntry, nil
	}
	for _, t := range o.tables {
		if i, ok := t.find(pc); ok {
			e, valid := t.Entry(i)
			if !valid {
				return e, fmt.Errorf("%s ORC entry %d for %#x does not decode in %s", t.Name, i, pc, t.Layout)
			}
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%w covers %#x", errNoEntry, pc)
}
