package present

import (
	"errors"
	"fmt"
	"testing"

	"dumpscope/model"
)

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("f: no symbol %q in kallsyms: %w", "x", model.ErrNotFound), `f: no symbol "x" in kallsyms`},
		{fmt.Errorf("f: VMCOREINFO lacks X: %w (Linux 6.0 and later list it)", model.ErrNotFound), "f: VMCOREINFO lacks X (Linux 6.0 and later list it)"},
		{fmt.Errorf("f: bad: %w", model.ErrTruncated), "f: bad: truncated"},
		{model.ErrNotFound, "not found"},
		{errors.New("plain: not found"), "plain: not found"}, // not the sentinel
	} {
		if got := ErrorText(tc.err); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
	}
}

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
