package model

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestVMCoreInfoParsing(t *testing.T) {
	v := ParseVMCoreInfo([]byte("OSRELEASE=6.1.0\nSYMBOL(init_top_pgt)=ffffffff82a0a000\nNUMBER(phys_base)=-2097152\n" +
		"NUMBER(kimage_voffset)=0xffff800008000000\nOFFSET(page.flags)=0\nKERNELOFFSET=1e600000\nnot a pair\nOSRELEASE=later\n"))
	if len(v.Entries) != 8 {
		t.Fatalf("%d entries", len(v.Entries))
	}
	if s, _ := v.Get("OSRELEASE"); s != "6.1.0" {
		t.Errorf("the first of a repeated key wins, got %q", s)
	}
	if a, ok := v.Symbol("init_top_pgt"); !ok || a != 0xffffffff82a0a000 {
		t.Errorf("symbol %#x %v", a, ok)
	}
	if n, ok := v.Number("phys_base"); !ok || n != -2097152 {
		t.Errorf("signed number %d %v", n, ok)
	}
	if n, ok := v.Number("kimage_voffset"); !ok || uint64(n) != 0xffff800008000000 {
		t.Errorf("hex number %#x %v", n, ok)
	}
	if o, ok := v.KernelOffset(); !ok || o != 0x1e600000 {
		t.Errorf("KERNELOFFSET %#x", o)
	}
	if g := (VMCoreInfoEntry{Key: "OFFSET(page.flags)"}).Group(); g != "OFFSET" {
		t.Errorf("group %s", g)
	}
	var nilv *VMCoreInfo
	if _, ok := nilv.Get("X"); ok {
		t.Error("nil VMCoreInfo has keys")
	}
}

// TestJSONEncoding checks the contract's value encoding: addresses and
// register values as 0x strings, pfns and offsets as numbers, empty lists
// as [].
func TestJSONEncoding(t *testing.T) {
	pid := int64(1)
	set := RegisterSet{CPU: 1, Source: SourcePrstatus, Arch: "x86_64", PID: &pid,
		Registers: []Register{{Name: "rip", Value: 0xffffffff81000000}, {Name: "rax", Value: 0}}}
	b, _ := json.Marshal(set)
	want := `{"cpu":1,"source":"prstatus","arch":"x86_64","pid":1,"registers":{"rip":"0xffffffff81000000","rax":"0x0"}}`
	if string(b) != want {
		t.Errorf("register set: %s", b)
	}
	b, _ = json.Marshal(PageInfo{PFN: 0x10, PhysAddr: 0x10000, State: StatePresent, FileOffset: 4096})
	if !strings.Contains(string(b), `"pfn":16`) || !strings.Contains(string(b), `"phys_addr":"0x10000"`) || !strings.Contains(string(b), `"file_offset":4096`) {
		t.Errorf("page info: %s", b)
	}
	b, _ = json.Marshal(Info{})
	for _, k := range []string{`"files":[]`, `"compression":[]`, `"flags":[]`, `"warnings":[]`, `"pages":{}`, `"crash_time":null`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("info lacks %s: %s", k, b)
		}
	}
	p := NewProblem(SeverityError, CodeTruncated, "f", -1, "cut at %d", 5)
	b, _ = json.Marshal(p.WithPFN(7))
	if string(b) != `{"severity":"error","code":"truncated","file":"f","offset":null,"pfn":7,"message":"cut at 5"}` {
		t.Errorf("problem: %s", b)
	}
}

func TestErrors(t *testing.T) {
	fe := Errorf("vmcore", "Elf64_Phdr[3]", 0x100, ErrTruncated, "needs %d bytes", 56)
	if fe.Error() != "vmcore: needs 56 bytes, Elf64_Phdr[3] at offset 0x100" || !errors.Is(fe, ErrTruncated) {
		t.Errorf("%v", fe)
	}
	pe := AbsentError("d", PageInfo{PFN: 3, State: StateExcluded, FileOffset: -1, Reason: "dump level 31"})
	if pe.Error() != "d: pfn 0x3 is excluded: dump level 31" || !errors.Is(pe, ErrPageAbsent) {
		t.Errorf("%v", pe)
	}
	ue := AbsentError("d", PageInfo{PFN: 4, State: StateUnreadable, FileOffset: 0x2000, Reason: "bad"})
	if !errors.Is(ue, ErrCorrupt) || !strings.Contains(ue.Error(), "(file offset 0x2000)") {
		t.Errorf("%v", ue)
	}
	if PFN(0x1f).String() != "0x1f" || FileOff(-16).String() != "-0x10" || PhysAddr(0).String() != "0x0" {
		t.Error("hex formatting")
	}
}

// TestVMCoreInfoLines checks the documented reading of the text: lines at
// "\n" (the last may lack it), CR and NUL dropped at a line's end, empty
// lines skipped, a split at the first "=", other white space kept, and
// where each line stands.
func TestVMCoreInfoLines(t *testing.T) {
	raw := "A=1\r\n\nB= x=y \n\r\n\x00\x00\nnot a pair\nA=2\x00"
	want := []VMCoreInfoLine{
		{Offset: 0, Size: 5, Key: "A", Value: "1", HasValue: true},
		{Offset: 6, Size: 8, Key: "B", Value: " x=y ", HasValue: true},
		{Offset: 19, Size: 11, Key: "not a pair"},
		{Offset: 30, Size: 4, Key: "A", Value: "2", HasValue: true},
	}
	got := VMCoreInfoLines([]byte(raw))
	if len(got) != len(want) {
		t.Fatalf("%d lines: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	v := ParseVMCoreInfo([]byte(raw))
	if len(v.Entries) != len(want) || v.Entries[1] != (VMCoreInfoEntry{Key: "B", Value: " x=y "}) || v.Entries[2].Value != "" {
		t.Errorf("entries %+v", v.Entries)
	}
	if len(VMCoreInfoLines(nil)) != 0 || len(VMCoreInfoLines([]byte("\n\r\n"))) != 0 {
		t.Error("a text of empty lines has lines")
	}
}

// TestVMCoreInfoCrashTime checks CRASHTIME as the kernel writes it
// (%lld), with blanks around it, and what is not a crash time; and that
// SetVMCoreInfo fills Info only with what the text has.
func TestVMCoreInfoCrashTime(t *testing.T) {
	for text, want := range map[string]int64{"CRASHTIME=1700000000\n": 1700000000, "CRASHTIME=-1\n": -1, "CRASHTIME= 12\t\r\n": 12} {
		if got, ok := ParseVMCoreInfo([]byte(text)).CrashTime(); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", text, got, ok, want)
		}
	}
	for _, text := range []string{"CRASHTIME=0x10\n", "CRASHTIME=\n", "CRASHTIME=1 2\n", "OSRELEASE=6.1\n", "CRASHTIME=99999999999999999999\n"} {
		if got, ok := ParseVMCoreInfo([]byte(text)).CrashTime(); ok {
			t.Errorf("%q: crash time %d", text, got)
		}
	}
	in := Info{OSRelease: "from the header", BuildID: "kept"}
	in.SetVMCoreInfo(ParseVMCoreInfo([]byte("OSRELEASE=6.1.0\nCRASHTIME=5\n")))
	if in.OSRelease != "6.1.0" || in.BuildID != "kept" || in.CrashTime == nil || *in.CrashTime != 5 {
		t.Errorf("info %+v", in)
	}
	in = Info{OSRelease: "kept"}
	in.SetVMCoreInfo(nil)
	if in.OSRelease != "kept" || in.CrashTime != nil {
		t.Errorf("nil text changed info: %+v", in)
	}
}

// topKeys returns the keys of the JSON object b, in order.
func topKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	if len(keys) != len(raw) {
		t.Fatalf("keys %v, object %s", keys, b)
	}
	return keys
}

// TestCrashCauseInPlace: CrashAnalysis and Triage embed CrashCause, whose
// "why" and "where" must stay where the JSON contract has them.
func TestCrashCauseInPlace(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{CrashAnalysis{}, "why where memory reports excerpt log_records notes problems"},
		{Triage{}, "what why where usable vmcoreinfo memory reports notes problems"},
	} {
		b, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(topKeys(t, b), " "); got != c.want {
			t.Errorf("%T keys %q, want %q", c.v, got, c.want)
		}
	}
}
