// Package present turns what a dump says into the words both front ends
// print: the rows of `info` and the Overview, the register groups of
// `regs` and the CPUs view, the instruction line of `disasm` and the code
// pane, the rows of `notes` and the Notes view, problem locations and
// sizes. One fact has one label and one format, whether it ends up in a
// terminal UI pane or on stdout; the front ends add only layout and
// colour.
//
// Nothing here reads a dump: the functions take plain values (package
// model) and return strings and rows.
package present

import (
	"fmt"
	"strings"
	"time"

	"dumpscope/model"
)

// Row is a label and its value, as `info` prints it and the Overview
// shows it.
type Row struct {
	Key   string
	Value string
}

// OrDash returns s, or "-" when it is empty.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// YesNo spells a boolean.
func YesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Plural returns "s" unless n is 1.
func Plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Count formats "n thing(s)".
func Count(n int, thing string) string { return fmt.Sprintf("%d %s%s", n, thing, Plural(n)) }

// Time formats seconds since the epoch as "2026-12-02 14:34:36 UTC
// (1796222076)"; nil is "-".
func Time(t *int64) string {
	if t == nil {
		return "-"
	}
	return fmt.Sprintf("%s (%d)", time.Unix(*t, 0).UTC().Format("2006-01-02 15:04:05 UTC"), *t)
}

// Bytes formats a byte count with its binary unit: "4096 (4 KiB)",
// "17 B".
func Bytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%d (%.4g %s)", n, f, units[i])
}

// Codecs lists codecs, "-" when there are none.
func Codecs(cs []model.Codec) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return OrDash(strings.Join(s, ", "))
}

// Frames describes the frame space: "81882 (pfn 0x0-0x13fd9), physical
// frame numbers"; an empty one is "none".
func Frames(maxPFN model.PFN, kind string) string {
	if kind == "" {
		kind = "physical"
	}
	if maxPFN == 0 {
		return fmt.Sprintf("none (%s frame numbers)", kind)
	}
	return fmt.Sprintf("%d (pfn 0x0-%#x), %s frame numbers", uint64(maxPFN), uint64(maxPFN)-1, kind)
}

// InfoRows are the facts of model.Info in the order and words both `info`
// and the Overview show. Frame counts and warnings are shown apart
// (StateRows, Problem).
func InfoRows(in model.Info) []Row {
	rows := []Row{
		{"files", strings.Join(in.Files, " ")},
		{"format", fmt.Sprintf("%s, %s container, %s", in.Format, in.Container, Count(in.Parts, "file"))},
		{"architecture", fmt.Sprintf("%s, %s-endian", OrDash(in.Arch), in.Endian)},
		{"kernel release", OrDash(in.OSRelease)},
		{"crash time", Time(in.CrashTime)},
		{"build-id", OrDash(in.BuildID)},
		{"vmcoreinfo", vmcoreinfoRow(in)},
		{"page size", Bytes(in.PageSize)},
		{"frames", Frames(in.MaxPFN, in.FrameKind)},
		{"cpus", fmt.Sprint(in.CPUs)},
	}
	if in.HeaderVersion != nil {
		rows = append(rows, Row{"header version", fmt.Sprint(*in.HeaderVersion)})
	}
	rows = append(rows,
		Row{"compression", Codecs(in.Compression)},
		Row{"flags", OrDash(strings.Join(in.Flags, ", "))},
	)
	for _, kv := range in.Details {
		rows = append(rows, Row{kv.Key, kv.Value})
	}
	return rows
}

// vmcoreinfoRow says whether the dump has VMCOREINFO, and where the one
// in use came from when it is not the dump's note.
func vmcoreinfoRow(in model.Info) string {
	if in.VMCoreInfoFrom == "" {
		return YesNo(in.VMCoreInfo)
	}
	if in.VMCoreInfo {
		return "yes; using the one from " + in.VMCoreInfoFrom
	}
	return "no note; using the one from " + in.VMCoreInfoFrom
}

// StateCount is one page state's share of the frames.
type StateCount struct {
	State   model.PageState
	Count   uint64
	Percent float64
}

// StateRows lists the states that have frames, in the contract's order,
// with their share of all frames.
func StateRows(c model.StateCounts) []StateCount {
	var total uint64
	for _, n := range c {
		total += n
	}
	var out []StateCount
	for _, s := range model.AllStates {
		if n := c[s]; n > 0 {
			out = append(out, StateCount{s, n, 100 * float64(n) / float64(max(total, 1))})
		}
	}
	return out
}

// Counts is the one-line form of StateRows: "present 19468, excluded
// 29548, not_in_dump 32866".
func Counts(c model.StateCounts) string {
	var parts []string
	for _, r := range StateRows(c) {
		parts = append(parts, fmt.Sprintf("%s %d", r.State, r.Count))
	}
	return OrDash(strings.Join(parts, ", "))
}

// stateGlyphs are a page state's glyphs, so that states are told apart
// without colour: all for frames in the state (and a minimap cell whose
// frames all are), mostly for a minimap cell whose frames mostly, not all,
// are. A cell with lost or unreadable frames shows them as such. A state
// without glyphs has blanks.
func stateGlyphs(st model.PageState) (all, mostly string) {
	switch st {
	case model.StatePresent:
		return "█", "▓"
	case model.StateZeroFill:
		return "0", "o"
	case model.StateExcluded:
		return "x", "+"
	case model.StateNotInDump:
		return "·", ":"
	case model.StateLost:
		return "!", "!"
	case model.StateUnreadable:
		return "?", "?"
	}
	return " ", " "
}

// StateGlyph is a page state's glyph in the minimap and legends.
func StateGlyph(st model.PageState) string {
	all, _ := stateGlyphs(st)
	return all
}

// MostlyGlyph is the glyph of a minimap cell whose frames are mostly, not
// all, in state st.
func MostlyGlyph(st model.PageState) string {
	_, mostly := stateGlyphs(st)
	return mostly
}

// CrashRows are the crash summary's facts: which CPU crashed and why we
// think so, and each CPU's instruction and stack pointers by symbol.
func CrashRows(s *model.CrashSummary, arch string) []Row {
	crash := "unknown: " + strings.TrimPrefix(s.CrashCPUReason, "unknown: ")
	if s.CrashCPU != nil {
		crash = fmt.Sprintf("CPU %d: %s", *s.CrashCPU, s.CrashCPUReason)
	}
	return cpuRows([]Row{{"crashing cpu", crash}}, s.CPUs, s.CrashCPU, arch)
}

// PCSP names the instruction and stack pointer registers of an
// architecture.
func PCSP(arch string) (pc, sp string) {
	switch arch {
	case "i386":
		return "eip", "esp"
	case "x86_64":
		return "rip", "rsp"
	}
	return "pc", "sp"
}

// Article puts "a" or "an" before a noun phrase, as its first letter is
// spoken: "an ELF core", "a kdump-compressed file", "an AIX system dump".
func Article(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case 'a', 'e', 'i', 'o', 'u', 'A', 'E', 'F', 'H', 'I', 'L', 'M', 'N', 'O', 'R', 'S', 'X':
		// Vowels, and the letters whose names start with a vowel sound
		// when an initialism starts with them (ELF, an S3 URL, an X…).
		if s[0] >= 'A' && s[0] <= 'Z' && len(s) > 1 && s[1] >= 'a' && s[1] <= 'z' {
			// A capitalised word, not an initialism: only vowels count.
			if !strings.ContainsRune("AEIOU", rune(s[0])) {
				return "a " + s
			}
		}
		return "an " + s
	}
	return "a " + s
}
