package model

import (
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

// ParseVMCoreInfo splits VMCOREINFO text into entries. Lines without "="
// are kept with an empty value, so nothing in the text is hidden.
func ParseVMCoreInfo(raw []byte) *VMCoreInfo {
	v := &VMCoreInfo{Raw: raw}
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimRight(line, "\r\x00")
		if line == "" {
			continue
		}
		k, val, _ := strings.Cut(line, "=")
		v.Entries = append(v.Entries, VMCoreInfoEntry{Key: k, Value: val})
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
