package model

import (
	"bytes"
	"iter"
	"slices"
	"strconv"
	"strings"
)

// VMCoreInfo is the kernel's VMCOREINFO text: KEY=VALUE lines describing
// symbol addresses, structure sizes and offsets, and a few facts about the
// crashed kernel.
type VMCoreInfo struct {
	// Raw is the text exactly as stored.
	Raw []byte
	// Entries are the parsed lines in order; a key may repeat.
	Entries []VMCoreInfoEntry
	// File and FileOffset locate the text in the dump.
	File       string
	FileOffset FileOff
}

// VMCoreInfoEntry is one KEY=VALUE line.
type VMCoreInfoEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// VMCoreInfoLine is one line of VMCOREINFO text as ParseVMCoreInfo reads
// it, with where it stands in the text.
type VMCoreInfoLine struct {
	// Offset and Size locate the whole line in the text, its "\n" (and any
	// CR or NUL before it) included.
	Offset, Size int
	// Key and Value are the parts before and after the first "="; a line
	// without "=" (HasValue false) is all Key.
	Key, Value string
	HasValue   bool
}

// VMCoreInfoLines splits VMCOREINFO text into its lines, in order. It is
// the one reading of the text that the parsed entries (ParseVMCoreInfo)
// and the note's layout both use:
//   - lines end at "\n"; the last may lack it;
//   - CR and NUL bytes at the end of a line are dropped (a text saved on
//     Windows, the NUL padding of a note or a page);
//   - lines left empty are skipped;
//   - a line is split at its first "=", so a value may hold "=";
//   - keys and values keep any other white space as written: the kernel
//     writes none, and the numeric getters (Number, Offset, Size, Length,
//     Symbol, KernelOffset, CrashTime) trim it when they parse a value;
//   - a key that repeats is kept each time (Get returns the first).
func VMCoreInfoLines(raw []byte) []VMCoreInfoLine {
	return slices.Collect(VMCoreInfoLineSeq(raw))
}

// VMCoreInfoLineSeq yields the lines of VMCOREINFO text as VMCoreInfoLines
// reads them, without collecting them.
func VMCoreInfoLineSeq(raw []byte) iter.Seq[VMCoreInfoLine] {
	return func(yield func(VMCoreInfoLine) bool) {
		text := string(raw)
		for pos := 0; pos < len(text); {
			size := strings.IndexByte(text[pos:], '\n') + 1
			if size == 0 {
				size = len(text) - pos
			}
			line := strings.TrimRight(strings.TrimSuffix(text[pos:pos+size], "\n"), "\r\x00")
			if line != "" {
				k, val, ok := strings.Cut(line, "=")
				if !yield(VMCoreInfoLine{Offset: pos, Size: size, Key: k, Value: val, HasValue: ok}) {
					return
				}
			}
			pos += size
		}
	}
}

// ParseVMCoreInfo parses VMCOREINFO text into entries, one a line as
// VMCoreInfoLines reads them. Lines without "=" are kept with an empty
// value, so nothing in the text is hidden. (It is part of opening every
// dump: the entries are allocated once, for the number of lines.)
func ParseVMCoreInfo(raw []byte) *VMCoreInfo {
	v := &VMCoreInfo{Raw: raw, Entries: make([]VMCoreInfoEntry, 0, bytes.Count(raw, []byte{'\n'})+1)}
	for l := range VMCoreInfoLineSeq(raw) {
		v.Entries = append(v.Entries, VMCoreInfoEntry{Key: l.Key, Value: l.Value})
	}
	return v
}

// Get returns the value of the first entry with the key, as makedumpfile
// and crash do when a key repeats.
func (v *VMCoreInfo) Get(key string) (string, bool) {
	if v == nil {
		return "", false
	}
	for _, e := range v.Entries {
		if e.Key == key {
			return e.Value, true
		}
	}
	return "", false
}

// Symbol returns the address of SYMBOL(name), which the kernel prints in hex
// without a prefix.
func (v *VMCoreInfo) Symbol(name string) (uint64, bool) {
	s, ok := v.Get("SYMBOL(" + name + ")")
	if !ok {
		return 0, false
	}
	return parseHex(s)
}

// Number returns NUMBER(name). The kernel prints these in signed decimal,
// but some architectures print 0x-prefixed hex; both are accepted.
func (v *VMCoreInfo) Number(name string) (int64, bool) {
	s, ok := v.Get("NUMBER(" + name + ")")
	if !ok {
		return 0, false
	}
	return ParseVMCoreInfoInt(s)
}

// Offset returns OFFSET(type.member).
func (v *VMCoreInfo) Offset(member string) (int64, bool) { return v.decimal("OFFSET(" + member + ")") }

// Size returns SIZE(type).
func (v *VMCoreInfo) Size(typ string) (int64, bool) { return v.decimal("SIZE(" + typ + ")") }

// Length returns LENGTH(name).
func (v *VMCoreInfo) Length(name string) (int64, bool) { return v.decimal("LENGTH(" + name + ")") }

// KernelOffset returns KERNELOFFSET, printed in hex without a prefix.
func (v *VMCoreInfo) KernelOffset() (uint64, bool) {
	s, ok := v.Get("KERNELOFFSET")
	if !ok {
		return 0, false
	}
	return parseHex(s)
}

// CrashTime returns CRASHTIME, the time of the crash in seconds since the
// epoch. The kernel writes it as "CRASHTIME=%lld" (crash_save_vmcoreinfo)
// when it panics into a kdump kernel, so it is a signed decimal and only
// the crashed kernel's copy of the text has it. White space around the
// number is allowed (makedumpfile's strtol allows it before the number; a
// --vmcoreinfo file may have it after); hex is not.
func (v *VMCoreInfo) CrashTime() (int64, bool) {
	s, ok := v.Get("CRASHTIME")
	if !ok {
		return 0, false
	}
	t, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return t, err == nil
}

// SetVMCoreInfo copies what VMCOREINFO says of the crashed kernel into in:
// its release (OSRELEASE), build id (BUILD-ID) and crash time (CRASHTIME),
// each when the text has it. The dump's note (through the format readers)
// and a text from a file or from memory (through the session) fill Info
// by this one function, so that they agree.
func (in *Info) SetVMCoreInfo(v *VMCoreInfo) {
	if r, ok := v.Get("OSRELEASE"); ok {
		in.OSRelease = r
	}
	if b, ok := v.Get("BUILD-ID"); ok {
		in.BuildID = b
	}
	if t, ok := v.CrashTime(); ok {
		in.CrashTime = &t
	}
}

func (v *VMCoreInfo) decimal(key string) (int64, bool) {
	s, ok := v.Get(key)
	if !ok {
		return 0, false
	}
	return ParseVMCoreInfoInt(s)
}

// ParseVMCoreInfoInt parses a VMCOREINFO number the way makedumpfile does:
// base 10 (with an optional sign) or, failing that, hex with an optional 0x.
func ParseVMCoreInfoInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if u, ok := parseHex(s); ok {
		return int64(u), true
	}
	return 0, false
}

func parseHex(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	u, err := strconv.ParseUint(s, 16, 64)
	return u, err == nil
}

// Group classifies a key for display: SYMBOL, OFFSET, SIZE, LENGTH, NUMBER
// or other.
func (e VMCoreInfoEntry) Group() string {
	for _, g := range []string{"SYMBOL", "OFFSET", "SIZE", "LENGTH", "NUMBER"} {
		if strings.HasPrefix(e.Key, g+"(") {
			return g
		}
	}
	return "other"
}
