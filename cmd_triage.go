package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/kernel"
)

// The triage commands read the crashed kernel's own structures through
// reader/kernel: dmesg, vtop, sym, disasm, find, and read --vaddr.

// openKernel opens a dump and the triage engine over it. The caller closes
// the dump.
func openKernel(files []string) (reader.Dump, *kernel.Kernel, error) {
	d, err := openDump(files)
	if err != nil {
		return nil, nil, err
	}
	k, err := kernel.New(d)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return d, k, nil
}

type dmesgCmd struct {
	filesArg
}

func (c *dmesgCmd) Run(rc *runContext) error {
	d, k, err := openKernel(c.Files)
	if err != nil {
		return err
	}
	defer d.Close()
	recs, err := k.Log()
	if rc.JSON {
		if recs == nil {
			recs = []model.LogRecord{}
		}
		if jerr := writeJSON(rc.out, recs); jerr != nil {
			return jerr
		}
		return err
	}
	for _, r := range recs {
		rc.out.WriteString(model.DmesgLine(r))
		rc.out.WriteByte('\n')
	}
	return err
}

type vtopCmd struct {
	Vaddr Num  `name:"vaddr" required:"" help:"Kernel virtual address (decimal or 0x-hex)."`
	CPU   *int `name:"cpu" help:"Walk the page tables of this CPU's cr3 instead of the kernel's own."`
	filesArg
}

func (c *vtopCmd) Run(rc *runContext) error {
	d, k, err := openKernel(c.Files)
	if err != nil {
		return err
	}
	defer d.Close()
	var tr model.Translation
	if c.CPU != nil {
		tr, err = k.TranslateCPU(uint64(c.Vaddr), *c.CPU)
	} else {
		tr, err = k.Translate(uint64(c.Vaddr))
	}
	if rc.JSON {
		if tr.Steps == nil {
			tr.Steps = []model.VtopStep{}
		}
		if jerr := writeJSON(rc.out, tr); jerr != nil {
			return jerr
		}
		return err
	}
	writeTranslation(rc.out, tr)
	return err
}

// writeTranslation prints a walk: a heading, one line per entry, and the
// result with the shortcut's verdict.
func writeTranslation(w io.Writer, tr model.Translation) {
	if tr.Paging == "" {
		return // nothing was walked
	}
	fmt.Fprintf(w, "vaddr %s: %s, root %s (%s)\n", tr.VirtAddr, tr.Paging, tr.Root, tr.RootFrom)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range tr.Steps {
		next := ""
		if s.Next != nil {
			next = "-> " + s.Next.String()
			if s.Large {
				next += " (large page)"
			}
		}
		flags := strings.Join(s.Flags, " ")
		if s.Next == nil {
			flags = "not present"
		}
		fmt.Fprintf(tw, "  %s[%d]\t%s\t= %#016x\t%s\t%s\n", s.Level, s.Index, s.EntryAddr, uint64(s.Entry), flags, next)
	}
	tw.Flush()
	if tr.Mapped {
		fmt.Fprintf(w, "phys %s (pfn %s, %s) by %s, %s page\n", tr.PhysAddr, tr.PFN,
			orDash(string(tr.PageState)), tr.Method, model.SizeName(tr.PageSize))
	}
	if sc := tr.Shortcut; sc != nil {
		verdict := "not checked"
		if sc.Agrees != nil && *sc.Agrees {
			verdict = "agrees with the walk"
		} else if sc.Agrees != nil {
			verdict = "DISAGREES with the walk"
		}
		fmt.Fprintf(w, "%s: %s, %s\n", sc.Kind, sc.PhysAddr, verdict)
	}
	if tr.Note != "" {
		fmt.Fprintf(w, "note: %s\n", tr.Note)
	}
}

type symCmd struct {
	Addr *Num   `name:"addr" help:"Address to resolve to symbol+offset/size."`
	Name string `name:"name" help:"Symbol to resolve to its address (several when static symbols share the name)."`
	filesArg
}

func (c *symCmd) Run(rc *runContext) error {
	if (c.Addr == nil) == (c.Name == "") {
		return usageError{"sym needs exactly one of --addr and --name"}
	}
	d, k, err := openKernel(c.Files)
	if err != nil {
		return err
	}
	defer d.Close()
	syms, err := k.Symbols()
	if err != nil {
		return err
	}
	if c.Addr != nil {
		ref, err := syms.AddrErr(uint64(*c.Addr))
		if err != nil {
			return fmt.Errorf("%s: %w", k.Name(), err)
		}
		if rc.JSON {
			return writeJSON(rc.out, ref)
		}
		fmt.Fprintf(rc.out, "%s %s (%s %s at %s)\n", ref.Addr, ref, ref.Symbol.Type, ref.Symbol.Name, ref.Symbol.Addr)
		return nil
	}
	found, err := syms.LookupErr(c.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", k.Name(), err)
	}
	if rc.JSON {
		return writeJSON(rc.out, found)
	}
	for _, s := range found {
		fmt.Fprintf(rc.out, "%s %s %s (size %#x)\n", s.Addr, s.Type, s.Name, s.Size)
	}
	return nil
}

type disasmCmd struct {
	CPU   *int `name:"cpu" help:"CPU whose instruction pointer to start from (default: the crashing CPU, else the first)."`
	Vaddr *Num `name:"vaddr" help:"Address to disassemble around instead of an instruction pointer."`
	Count Num  `default:"16" help:"Number of instructions."`
	Intel bool `help:"Intel syntax instead of GNU (AT&T)."`
	filesArg
}

func (c *disasmCmd) Run(rc *runContext) error {
	if rc.JSON {
		return usageError{"disasm has no JSON form"}
	}
	if c.Count == 0 || c.Count > 4096 {
		return usageError{"--count must be 1..4096"}
	}
	d, k, err := openKernel(c.Files)
	if err != nil {
		return err
	}
	defer d.Close()
	o := kernel.DisasmOptions{Count: int(c.Count), Intel: c.Intel}
	if c.Vaddr != nil {
		a := uint64(*c.Vaddr)
		o.Addr = &a
	}
	switch {
	case c.CPU != nil:
		o.CPU = *c.CPU
	case c.Vaddr == nil:
		if cpu := k.CrashCPU(); cpu != nil {
			o.CPU = *cpu
		}
	}
	dis, err := k.Disassemble(o)
	if err != nil {
		return err
	}
	fmt.Fprintf(rc.out, "%s  %s  (%s)\n", dis.Addr, orDash(dis.Location), dis.From)
	for _, n := range dis.Notes {
		fmt.Fprintf(rc.out, "note: %s\n", n)
	}
	tw := tabwriter.NewWriter(rc.out, 0, 0, 1, ' ', 0)
	for _, in := range dis.Instructions {
		mark := "  "
		if in.Marked {
			mark = "=>"
		}
		loc := ""
		if in.Location != "" {
			loc = "<" + in.Location + ">"
		}
		text := in.Text
		if in.TargetSymbol != "" && !strings.Contains(text, in.TargetSymbol) {
			text += " <" + in.TargetSymbol + ">"
		}
		if in.Why != "" {
			text += "  # " + in.Why
		}
		fmt.Fprintf(tw, "%s %s %s:\t%s\t%s\n", mark, in.Addr, loc, model.SpacedHex(in.Bytes), text)
	}
	tw.Flush()
	if c.Vaddr != nil {
		return nil
	}
	words, err := k.Stack(o.CPU)
	if err != nil {
		fmt.Fprintf(rc.out, "\nstack: %v\n", err)
		return nil
	}
	fmt.Fprintf(rc.out, "\nstack of CPU %d: words that point into kernel text, from the stack pointer up\n", o.CPU)
	for _, w := range words {
		fmt.Fprintf(rc.out, "  %s: %s %s\n", w.Addr, w.Value, w.Symbol)
	}
	return nil
}

type findCmd struct {
	Text string `name:"text" help:"Text to search for."`
	Hex  string `name:"hex" help:"Bytes to search for, in hex (\"deadbeef\" or \"de ad be ef\")."`
	Max  Num    `name:"max" help:"Stop after this many matches (0: no limit)."`
	filesArg
}

func (c *findCmd) Run(rc *runContext) error {
	if (c.Text == "") == (c.Hex == "") {
		return usageError{"find needs exactly one of --text and --hex"}
	}
	pattern := []byte(c.Text)
	if c.Hex != "" {
		var err error
		if pattern, err = parseHexPattern(c.Hex); err != nil {
			return usageError{err.Error()}
		}
	}
	d, err := openDump(c.Files)
	if err != nil {
		return err
	}
	defer d.Close()
	opts := reader.FindOptions{Max: int(min(c.Max, 1<<31-1)), Progress: findProgress("searching")}
	hits := []model.SearchHit{}
	var tw *tabwriter.Writer
	if !rc.JSON {
		tw = tabwriter.NewWriter(rc.out, 0, 0, 2, ' ', 0)
	}
	found := 0
	counted := func(h model.SearchHit) bool {
		found++
		if rc.JSON {
			hits = append(hits, h)
			return true
		}
		va := "-"
		if h.VirtAddr != nil {
			va = h.VirtAddr.String()
		}
		fmt.Fprintf(tw, "phys %s\tpfn %s\tvaddr %s\n", h.PhysAddr, h.PFN, va)
		return true
	}
	ctx := context.Background()
	if k, kerr := kernel.New(d); kerr == nil {
		err = k.Find(ctx, pattern, opts, counted)
	} else {
		err = reader.Find(ctx, d, pattern, opts, counted)
	}
	if opts.Progress != nil {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	if rc.JSON {
		if jerr := writeJSON(rc.out, hits); jerr != nil {
			return jerr
		}
	} else {
		tw.Flush()
	}
	if found == 0 {
		return fmt.Errorf("%s: no match for the pattern in the readable frames: %w", strings.Join(c.Files, " "), model.ErrNotFound)
	}
	return nil
}

// parseHexPattern reads "deadbeef", "de ad be ef" or "0xdeadbeef".
func parseHexPattern(s string) ([]byte, error) {
	t := strings.NewReplacer(" ", "", ":", "", "\t", "").Replace(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	b, err := hex.DecodeString(t)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("--hex %q is not a sequence of hex bytes", s)
	}
	return b, nil
}

// findProgress returns a progress callback that redraws one line on
// stderr at most five times a second, or nil when stderr is not a
// terminal.
func findProgress(label string) func(done, total uint64) {
	if fi, err := os.Stderr.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	var last time.Time
	return func(done, total uint64) {
		if now := time.Now(); now.Sub(last) >= 200*time.Millisecond && total > 0 {
			last = now
			fmt.Fprintf(os.Stderr, "\r%s: %d%% (%d of %d frames)", label, done*100/total, done, total)
		}
	}
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
	if c.Len == 0 || c.Len > maxReadLen {
		return usageError{fmt.Sprintf("--len must be 1..%d", maxReadLen)}
	}
	va := uint64(*c.Vaddr)
	if va+uint64(c.Len) < va {
		return usageError{"--vaddr plus --len overflows"}
	}
	d, k, err := openKernel(c.Files)
	if err != nil {
		return err
	}
	defer d.Close()
	data := make([]byte, c.Len)
	// Read in pieces of at most 16 MiB (one ReadVirt call's limit is 64).
	for off := uint64(0); off < uint64(c.Len); off += 16 << 20 {
		if err := k.ReadVirt(va+off, data[off:min(off+16<<20, uint64(c.Len))]); err != nil {
			return err
		}
	}
	if c.Raw {
		_, err = rc.out.Write(data)
		return err
	}
	return hexdump(rc.out, va, data)
}

// crashSummary is the crash summary `info` shows: nil when the dump is of
// an architecture the triage engine does not read. It reads page data:
// the kernel log, kallsyms, and the CPUs' stacks.
func crashSummary(d reader.Dump) *model.CrashSummary {
	k, err := kernel.New(d)
	if err != nil {
		return nil
	}
	return k.Summary(10)
}

// writeCrashSummary prints the summary as `info` lines.
func writeCrashSummary(w io.Writer, s *model.CrashSummary) {
	if s == nil {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	crash := "unknown: " + s.CrashCPUReason
	if s.CrashCPU != nil {
		crash = fmt.Sprintf("%d (%s)", *s.CrashCPU, s.CrashCPUReason)
	}
	fmt.Fprintf(tw, "crashing cpu\t%s\n", crash)
	for _, c := range s.CPUs {
		fmt.Fprintf(tw, "cpu %d\tpc %s %s  sp %s\n", c.CPU, c.PC, orDash(c.PCSymbol), c.SP)
	}
	tw.Flush()
	if len(s.Stack) > 0 {
		fmt.Fprintln(w, "stack (text pointers):")
		for _, sw := range s.Stack {
			fmt.Fprintf(w, "  %s: %s\n", sw.Addr, sw.Symbol)
		}
	}
	if len(s.LastLog) > 0 {
		fmt.Fprintln(w, "last kernel log lines:")
		for _, r := range s.LastLog {
			fmt.Fprintf(w, "  %s\n", model.DmesgLine(r))
		}
	}
	for _, p := range s.Problems {
		fmt.Fprintf(w, "not available: %s\n", p)
	}
}
