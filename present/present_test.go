package present

import (
	"testing"

	"dumpscope/model"
)

func TestArticle(t *testing.T) {
	for s, want := range map[string]string{"ELF core": "an ELF core", "elf dump": "an elf dump", "kdump dump": "a kdump dump",
		"AIX system dump": "an AIX system dump", "Xen dump-core": "a Xen dump-core"} {
		if got := Article(s); got != want {
			t.Errorf("%q: %q, want %q", s, got, want)
		}
	}
}

func TestParseAddress(t *testing.T) {
	for s, want := range map[string]uint64{
		"0x1000": 0x1000, "4096": 4096, "ffffffffa0ffb000": 0xffffffffa0ffb000, "FFFF8880": 0xffff8880,
		"c1000000": 0xc1000000, "00001000": 0x1000, "0000000000001000": 0x1000, "10000000": 10000000, "0100": 100,
	} {
		if got, err := ParseAddress(s); err != nil || got != want {
			t.Errorf("%q: %#x %v, want %#x", s, got, err, want)
		}
	}
	for _, s := range []string{"", "xyz", "0x", "1ffffffffffffffff", "12g"} {
		if _, err := ParseAddress(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if _, err := ParseNumber("ff"); err == nil {
		t.Error("ParseNumber takes bare hex: counts must stay decimal")
	}
}

func TestFrames(t *testing.T) {
	if got := Frames(0, ""); got != "none (physical frame numbers)" {
		t.Errorf("empty frame space: %q", got)
	}
	if got := Frames(0x1400, "physical"); got != "5120 (pfn 0x0-0x13ff), physical frame numbers" {
		t.Errorf("%q", got)
	}
}

func TestCrashRowsNoDoubledUnknown(t *testing.T) {
	rows := CrashRows(&model.CrashSummary{CrashCPUReason: "unknown: the log names no panicking CPU"}, "x86_64")
	if rows[0].Value != "unknown: the log names no panicking CPU" {
		t.Errorf("%q", rows[0].Value)
	}
}
