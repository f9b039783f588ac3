package main

import (
	"fmt"
	"strconv"
	"strings"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/reader"
)

// The read command: physical memory (--addr), kernel virtual memory
// (--vaddr) and AIX areas (--area C.E).

type readCmd struct {
	Addr     *Addr  `help:"Physical address (0x-hex, bare hex as /proc/iomem prints it, or decimal)."`
	Vaddr    *Addr  `name:"vaddr" help:"Kernel virtual address (0x-hex, bare hex as System.map prints it, or decimal), translated through the dump's page tables."`
	Area     string `name:"area" placeholder:"C.E" help:"AIX: read entry E of component C (indexes as areas lists them); --addr is then an address inside that entry."`
	Len      Num    `required:"" help:"Number of bytes: at most 1073741824 with --addr, 67108864 with --vaddr."`
	Raw      bool   `help:"Write the bytes instead of a hex dump."`
	ZeroFill bool   `name:"zero-fill" help:"Write zeros for bytes in frames that are not readable, and list those frames on stderr."`
	filesArg
}

// maxReadLen bounds a physical read (1 GiB, written as it is read);
// maxVirtLen a virtual read (64 MiB, held whole, so that nothing is
// written when a page of it cannot be translated).
const (
	maxReadLen = 1 << 30
	maxVirtLen = 64 << 20
)

func (c *readCmd) Run(rc *runContext) error {
	if c.Vaddr != nil {
		return c.runVirtual(rc)
	}
	if c.Addr == nil {
		return usageError{"read needs --addr or --vaddr"}
	}
	if c.Len == 0 {
		return usageError{"--len must be at least 1"}
	}
	if c.Len > maxReadLen {
		return usageError{fmt.Sprintf("--len %d exceeds the limit of %d bytes per read", c.Len, maxReadLen)}
	}
	addr := uint64(*c.Addr)
	if addr+uint64(c.Len) < addr {
		return usageError{"--addr plus --len overflows"}
	}
	return rc.withSession(c.Files, func(s *inspect.Session) error {
		if c.Area != "" {
			return c.readArea(rc, s, addr)
		}
		return c.readPhys(rc, s, addr)
	})
}

// readPhys is `read --addr ADDR --len N`: physical memory, written as it
// is read, a chunk at a time. Without --zero-fill the states of every
// frame are checked first, so that nothing is written when a byte is not
// in the dump.
func (c *readCmd) readPhys(rc *runContext, s *inspect.Session, addr uint64) error {
	name := s.Name()
	n := uint64(c.Len)
	if !c.ZeroFill {
		if absent := inspect.PhysAbsent(s.Dump(), model.PhysAddr(addr), n, true); len(absent) > 0 {
			return absent[0].Error(name)
		}
	}
	// Chunks end on multiples of their size, a multiple of the page size,
	// so that no frame is split between two (and listed twice).
	chunk := max(uint64(1<<20), uint64(s.Info().PageSize))
	buf := make([]byte, chunk)
	var hex *hexDumper
	if !c.Raw {
		hex = newHexDumper(rc.out, addr)
	}
	zf := zeroFilled{rc: rc}
	defer zf.flush()
	for pos := addr; pos < addr+n; {
		if err := rc.ctx.Err(); err != nil {
			return err
		}
		next := min(addr+n, (pos/chunk+1)*chunk)
		data := buf[:next-pos]
		absent, err := s.ReadPhys(model.PhysAddr(pos), data, c.ZeroFill)
		if err != nil {
			if len(absent) > 0 && !c.ZeroFill {
				return absent[len(absent)-1].Error(name)
			}
			return err
		}
		for _, a := range absent {
			zf.add(a)
		}
		if c.Raw {
			if _, err := rc.out.Write(data); err != nil {
				return err
			}
		} else if err := hex.Write(data); err != nil {
			return err
		}
		pos = next
	}
	if hex != nil {
		return hex.Close()
	}
	return nil
}

// zeroFilled lists on stderr what --zero-fill filled, consecutive whole
// frames of one state and reason on one line.
type zeroFilled struct {
	rc  *runContext
	run []inspect.Absent // whole frames, consecutive, alike: the first and the last
}

func (z *zeroFilled) add(a inspect.Absent) {
	if n := len(z.run); n > 0 && !a.Gap && a.Page.PFN == z.run[n-1].Page.PFN+1 &&
		a.Page.State == z.run[0].Page.State && a.Page.Reason == z.run[0].Page.Reason {
		z.run = append(z.run[:1], a) // keep the first and the last
		return
	}
	z.flush()
	if a.Gap {
		z.rc.notef("zero-filled phys %s-%s (pfn %s): %s", a.Start, a.End, a.Page.PFN, a.Reason())
		return
	}
	z.run = append(z.run[:0], a)
}

func (z *zeroFilled) flush() {
	if len(z.run) == 0 {
		return
	}
	a, b := z.run[0], z.run[len(z.run)-1]
	if a.Page.PFN == b.Page.PFN {
		z.rc.notef("zero-filled pfn %s: %s", a.Page.PFN, a.Reason())
	} else {
		z.rc.notef("zero-filled pfns %s-%s (%d frames): %s", a.Page.PFN, b.Page.PFN, b.Page.PFN-a.Page.PFN+1, a.Reason())
	}
	z.run = z.run[:0]
}

// runVirtual is `read --vaddr ADDR --len N [--raw]`: kernel virtual memory
// through the page tables.
func (c *readCmd) runVirtual(rc *runContext) error {
	if c.Addr != nil {
		return usageError{"--addr and --vaddr cannot be combined"}
	}
	if c.ZeroFill {
		return usageError{"--zero-fill applies to physical reads (--addr)"}
	}
	if c.Len == 0 || c.Len > maxVirtLen {
		return usageError{fmt.Sprintf("--len must be 1..%d with --vaddr", maxVirtLen)}
	}
	va := uint64(*c.Vaddr)
	if va+uint64(c.Len) < va {
		return usageError{"--vaddr plus --len overflows"}
	}
	return rc.withSession(c.Files, func(s *inspect.Session) error {
		data := make([]byte, c.Len)
		// Read in pieces of at most 16 MiB (one ReadVirt call's limit is 64).
		for off := uint64(0); off < uint64(c.Len); off += 16 << 20 {
			if err := s.ReadVirt(rc.ctx, model.VirtAddr(va+off), data[off:min(off+16<<20, uint64(c.Len))]); err != nil {
				return err
			}
		}
		if c.Raw {
			_, err := rc.out.Write(data)
			return err
		}
		return hexdump(rc.out, va, data)
	})
}

// readArea is `read --area C.E --addr ADDR --len N`: bytes of one AIX
// entry by its own (virtual or real) address. Pages that are not in the
// dump make it fail with exit 1, naming the range and why, unless
// --zero-fill.
func (c *readCmd) readArea(rc *runContext, s *inspect.Session, addr uint64) error {
	name := s.Name()
	ci, ei, ok := parseAreaRef(c.Area)
	if !ok {
		return usageError{fmt.Sprintf("%s: --area %q: want C.E, a component and an entry index as `areas` lists them (for example 2.5)", name, c.Area)}
	}
	ar, comps, err := components(s, "--area")
	if err != nil {
		return err
	}
	if ci >= len(comps) || ei >= len(comps[ci].Entries) {
		return fmt.Errorf("%s: no area %s (the dump has %d components; see `areas`): %w", name, c.Area, len(comps), model.ErrNotFound)
	}
	e := comps[ci].Entries[ei]
	label := fmt.Sprintf("area %s %q", c.Area, reader.Printable(e.Name))
	if e.Length == 0 {
		return fmt.Errorf("%s: %s has length 0: nothing of it is in the dump: %w", name, label, model.ErrNotFound)
	}
	start := uint64(e.Address)
	if addr < start || addr-start >= e.Length {
		return usageError{fmt.Sprintf("%s: --addr %#x is outside %s [%#x, %#x+%#x)", name, addr, label, start, start, e.Length)}
	}
	if uint64(c.Len) > e.Length-(addr-start) {
		return usageError{fmt.Sprintf("%s: --addr %#x --len %d runs past the end of %s (%d bytes left)", name, addr, c.Len, label, e.Length-(addr-start))}
	}
	data := make([]byte, c.Len)
	gaps, err := ar.ReadArea(ci, ei, addr, data)
	if err != nil {
		return err
	}
	if len(gaps) > 0 && !c.ZeroFill {
		return areaGapError{fmt.Sprintf("%s: %s %s is %s", name, label, gapRange(gaps[0]), gaps[0].Reason)}
	}
	for _, g := range gaps {
		rc.notef("zero-filled %s %s: %s", label, gapRange(g), g.Reason)
	}
	if c.Raw {
		_, err = rc.out.Write(data)
		return err
	}
	return hexdump(rc.out, addr, data)
}

// parseAreaRef parses "C.E".
func parseAreaRef(s string) (int, int, bool) {
	cs, es, ok := strings.Cut(s, ".")
	if !ok {
		return 0, 0, false
	}
	ci, err1 := strconv.Atoi(cs)
	ei, err2 := strconv.Atoi(es)
	if err1 != nil || err2 != nil || ci < 0 || ei < 0 {
		return 0, 0, false
	}
	return ci, ei, true
}

func gapRange(g model.AreaGap) string {
	return fmt.Sprintf("%#x-%#x (%d bytes)", g.Address, uint64(g.Address)+g.Length, g.Length)
}

// areaGapError says which bytes of an area are not in the dump; it is
// classified as absent data (exit 1).
type areaGapError struct{ msg string }

func (e areaGapError) Error() string { return e.msg }
func (e areaGapError) Unwrap() error { return model.ErrPageAbsent }
