package inspect

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/reader"
)

// This file reads each VMCOREINFO candidate found in memory, checks that
// it describes the kernel whose memory this is, and chooses one.

// startKernelMap is x86_64's __START_KERNEL_map; physicalAlign the
// smallest CONFIG_PHYSICAL_ALIGN (arch/x86/Kconfig: 0x200000 on x86_64),
// which the kernel's link address and KASLR's offset are multiples of.
const (
	startKernelMap = 0xffffffff80000000
	physicalAlign  = 0x200000
	// kernelImageSize is KERNEL_IMAGE_SIZE with KASLR (1 GiB): the
	// kernel text lies within it from __START_KERNEL_map.
	kernelImageSize = 1 << 30
)

// readCandidate reads the text of a needle at addr: inside a VMCOREINFO
// note when the 24 bytes before it are the note's header, else up to the
// first NUL. It reports false for what is not VMCOREINFO text.
func readCandidate(d reader.Dump, addr model.PhysAddr, ps uint64, order binary.ByteOrder) (model.VMCoreInfoCandidate, bool) {
	c := model.VMCoreInfoCandidate{PhysAddr: addr, Form: "text", Checks: []string{}}
	limit := max(ps, 4096)
	limit = min(limit, maxVMCoreInfoBytes)
	var raw []byte
	if addr >= noteHeader {
		if h := readPhysUpTo(d, addr-noteHeader, noteHeader, false); len(h) == noteHeader {
			namesz, descsz, typ := order.Uint32(h[0:]), order.Uint32(h[4:]), order.Uint32(h[8:])
			if namesz == 11 && typ == 0 && string(h[12:24]) == "VMCOREINFO\x00\x00" {
				if descsz == 0 || uint64(descsz) > limit {
					return c, false
				}
				c.Form = "note"
				raw = readPhysUpTo(d, addr, int(descsz), false)
				if len(raw) != int(descsz) {
					return c, false
				}
			}
		}
	}
	if c.Form == "text" {
		raw = readPhysUpTo(d, addr, int(limit), true)
	}
	if !plausibleText(raw) {
		return c, false
	}
	v := model.ParseVMCoreInfo(raw)
	rel, _ := v.Get("OSRELEASE")
	psz, ok := v.Get("PAGESIZE")
	if n, err := strconv.ParseInt(strings.TrimSpace(psz), 10, 64); !ok || err != nil || n <= 0 || rel == "" || strings.ContainsAny(rel, "% ") {
		return c, false
	}
	c.Raw, c.Size, c.OSRelease = raw, len(raw), rel
	c.BuildID, _ = v.Get("BUILD-ID")
	if off, ok := v.KernelOffset(); ok {
		h := model.Hex(off)
		c.KernelOffset = &h
	}
	if st, ok := v.Symbol("_stext"); ok {
		va := model.VirtAddr(st)
		c.Stext = &va
	}
	if t, ok := v.CrashTime(); ok {
		c.CrashTime = &t
	}
	return c, true
}

// readPhysUpTo reads up to n bytes of physical memory at addr, stopping at
// the first frame that cannot be read and, with toNUL, at the first NUL.
func readPhysUpTo(d reader.Dump, addr model.PhysAddr, n int, toNUL bool) []byte {
	ps := uint64(d.Info().PageSize)
	page := make([]byte, ps)
	var out []byte
	for a := uint64(addr); len(out) < n; {
		if _, err := d.ReadPage(model.PFN(a/ps), page, reader.ReadOptions{}); err != nil {
			break
		}
		chunk := page[a%ps:]
		chunk = chunk[:min(len(chunk), n-len(out))]
		if toNUL {
			if i := bytes.IndexByte(chunk, 0); i >= 0 {
				return append(out, chunk[:i]...)
			}
		}
		out = append(out, chunk...)
		a += uint64(len(chunk))
	}
	return out
}

// plausibleText reports whether b is VMCOREINFO-like text: printable ASCII
// lines, at least two of them.
func plausibleText(b []byte) bool {
	if bytes.Count(b, []byte{'\n'}) < 2 {
		return false
	}
	for _, c := range b {
		if (c < 0x20 && c != '\n') || c >= 0x7f {
			return false
		}
	}
	return true
}

// kernelKey identifies a kernel's text: its lines as the parser reads them
// (model.VMCoreInfoLines), without CRASHTIME, which the crash adds to some
// copies only. Two texts with one key parse to the same entries but for
// CRASHTIME.
func kernelKey(raw []byte) string {
	var b strings.Builder
	for _, l := range model.VMCoreInfoLines(raw) {
		if l.Key == "CRASHTIME" {
			continue
		}
		b.WriteString(l.Key)
		if l.HasValue {
			b.WriteByte('=')
			b.WriteString(l.Value)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// validateCandidates numbers the kernels and checks each once. It returns
// the engines the checks built, by text, so that the one chosen is not
// built (and kallsyms not decoded) twice.
func validateCandidates(ctx context.Context, d reader.Dump, s *model.VMCoreInfoSearch) map[string]*kernel.Kernel {
	type result struct {
		kernel  int
		valid   bool
		checks  []string
		reason  string
		inText  int
		checked bool
	}
	engines := map[string]*kernel.Kernel{}
	kernels := map[string]*result{}
	n := 0
	for i := range s.Candidates {
		c := &s.Candidates[i]
		key := kernelKey(c.Raw)
		r, ok := kernels[key]
		if !ok {
			n++
			r = &result{kernel: n}
			kernels[key] = r
		}
		if !r.checked && ctx.Err() == nil {
			var k *kernel.Kernel
			k, r.valid, r.checks, r.reason, r.inText = validateVMCoreInfo(ctx, d, model.ParseVMCoreInfo(c.Raw))
			r.checked = true
			if r.valid {
				engines[string(c.Raw)] = k
			}
		}
		c.Kernel, c.Valid, c.Reason, c.CPUsInText = r.kernel, r.valid, r.reason, r.inText
		c.Checks = append(c.Checks, r.checks...)
	}
	return engines
}

// PageSizeMismatch says why a VMCOREINFO cannot describe the dump's
// memory at all: its PAGESIZE is not the dump's page size (or not a
// number). It is empty when the page sizes agree.
func PageSizeMismatch(d reader.Dump, v *model.VMCoreInfo) string {
	psz, _ := v.Get("PAGESIZE")
	n, ok := model.ParseVMCoreInfoInt(psz)
	switch ps := d.Info().PageSize; {
	case ok && n == ps:
		return ""
	case ps == 0:
		return fmt.Sprintf("PAGESIZE=%s, and the dump does not say its page size", psz)
	default:
		return fmt.Sprintf("PAGESIZE=%s, the dump's page size is %d", psz, ps)
	}
}

// validateVMCoreInfo checks a VMCOREINFO text against the dump's memory: its
// page size, kallsyms decoded through it with _stext where SYMBOL(_stext)
// says, and on x86_64 KERNELOFFSET consistent with _stext and the page
// tables mapping _stext where phys_base says. inText counts the CPUs
// whose saved instruction pointer lies in this kernel's text. It returns
// the engine it read the kernel with (nil when none could be built).
func validateVMCoreInfo(ctx context.Context, d reader.Dump, v *model.VMCoreInfo) (k *kernel.Kernel, valid bool, checks []string, reason string, inText int) {
	info := d.Info()
	checks = []string{}
	if why := PageSizeMismatch(d, v); why != "" {
		return nil, false, checks, why, 0
	}
	checks = append(checks, "PAGESIZE agrees with the dump")
	k, err := kernel.NewWithOptions(d, kernel.Options{VMCoreInfo: v})
	if err != nil {
		return nil, false, checks, "cannot be checked: " + err.Error(), 0
	}
	syms, err := k.Symbols(ctx)
	if err != nil {
		return k, false, checks, "kallsyms does not decode through it: " + err.Error(), 0
	}
	stext, ok := v.Symbol("_stext")
	if !ok {
		return k, false, checks, "it has no SYMBOL(_stext) to check kallsyms against", 0
	}
	found := syms.Lookup("_stext")
	if len(found) == 0 || uint64(found[0].Addr) != stext {
		return k, false, checks, fmt.Sprintf("kallsyms decoded through it does not put _stext at SYMBOL(_stext) %#x", stext), 0
	}
	checks = append(checks, fmt.Sprintf("kallsyms decodes through it (%d symbols) and puts _stext at %#x, as SYMBOL(_stext) says", syms.Len(), stext))
	if info.Arch == "x86_64" {
		if koff, ok := v.KernelOffset(); ok {
			link := stext - koff
			if link < startKernelMap || link-startKernelMap >= kernelImageSize || (link-startKernelMap)%physicalAlign != 0 {
				return k, false, checks, fmt.Sprintf("_stext %#x minus KERNELOFFSET %#x is %#x, not a link address of the kernel text (a multiple of %#x above __START_KERNEL_map)", stext, koff, link, physicalAlign), 0
			}
			checks = append(checks, fmt.Sprintf("_stext minus KERNELOFFSET is the link address %#x", link))
		}
		tr, err := k.Translate(ctx, model.VirtAddr(stext))
		if err != nil || !tr.Mapped || tr.Shortcut == nil || tr.Shortcut.Agrees == nil || !*tr.Shortcut.Agrees {
			why := "they do not map it"
			if err != nil {
				why = err.Error()
			}
			return k, false, checks, fmt.Sprintf("the page tables do not map _stext where phys_base says: %s", why), 0
		}
		checks = append(checks, fmt.Sprintf("the page tables map _stext at physical %s, where phys_base says", tr.PhysAddr))
	}
	end := syms.Lookup("_etext")
	if regs, err := d.Registers(); err == nil && len(end) > 0 {
		seen := map[int]bool{}
		for _, r := range regs {
			pc, ok := r.Get(pcName(info.Arch))
			if ok && !seen[r.CPU] && pc >= stext && pc < uint64(end[0].Addr) {
				seen[r.CPU] = true
				inText++
			}
		}
		if inText > 0 {
			checks = append(checks, fmt.Sprintf("%d CPU(s) saved an instruction pointer in its text", inText))
		}
	}
	return k, true, checks, "", inText
}

func pcName(arch string) string {
	if arch == "i386" {
		return "eip"
	}
	return "rip"
}

// chooseCandidate picks the crashed kernel's text among the valid ones:
// a text with CRASHTIME (crash_save_vmcoreinfo() ran in that kernel at the
// crash), then a kernel whose text holds the CPUs' saved instruction
// pointers, then the note (the copy kdump exports), then the lowest
// address. It returns -1 when none is valid.
func chooseCandidate(cs []model.VMCoreInfoCandidate) int {
	best := -1
	better := func(a, b *model.VMCoreInfoCandidate) bool {
		if (a.CrashTime != nil) != (b.CrashTime != nil) {
			return a.CrashTime != nil
		}
		if (a.CPUsInText > 0) != (b.CPUsInText > 0) {
			return a.CPUsInText > 0
		}
		if (a.Form == "note") != (b.Form == "note") {
			return a.Form == "note"
		}
		return a.PhysAddr < b.PhysAddr
	}
	for i := range cs {
		if cs[i].Valid && (best < 0 || better(&cs[i], &cs[best])) {
			best = i
		}
	}
	return best
}

// chosenReason says why the chosen candidate is the one.
func chosenReason(s *model.VMCoreInfoSearch) string {
	kernels := map[int]bool{}
	valid := 0
	for _, c := range s.Candidates {
		kernels[c.Kernel] = true
		if c.Valid {
			valid++
		}
	}
	head := fmt.Sprintf("searched %d pages: %d \"OSRELEASE=\" strings, %d VMCOREINFO texts of %d kernel(s), %d valid",
		s.PagesSearched, s.Hits, len(s.Candidates), len(kernels), valid)
	if s.Chosen == nil {
		if len(s.Candidates) == 0 {
			return head + ": the kernel's VMCOREINFO is not in the dump's memory"
		}
		return head + ": no text describes this memory"
	}
	c := s.Candidates[*s.Chosen]
	var why []string
	if c.CrashTime != nil {
		why = append(why, "it has CRASHTIME (the kernel that crashed)")
	}
	if c.CPUsInText > 0 {
		why = append(why, "the CPUs' saved instruction pointers are in its text")
	}
	why = append(why, c.Checks...)
	return fmt.Sprintf("%s; using the %s at %s (kernel %d, %s): %s", head, c.Form, c.PhysAddr, c.Kernel, c.OSRelease, strings.Join(why, "; "))
}
