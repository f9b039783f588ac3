package model

import (
	"fmt"
	"testing"
)

// TestNamedTypesFormat checks that the named integer types print as their
// numbers with integer verbs and as their String with %v and %s: a
// Stringer's %x would otherwise be the hex of its string.
func TestNamedTypesFormat(t *testing.T) {
	for _, c := range []struct {
		f    string
		v    any
		want string
	}{
		{"%#x", PFN(0xc15), "0xc15"}, {"%x", PFN(0xc15), "c15"}, {"%d", PFN(0xc15), "3093"},
		{"%v", PFN(0xc15), "0xc15"}, {"%s", PFN(0xc15), "0xc15"}, {"%6d", PFN(5), "     5"}, {"%8s", PFN(5), "     0x5"},
		{"%08x", PhysAddr(0x10), "00000010"}, {"%#x", VirtAddr(0xffffffff81000000), "0xffffffff81000000"},
		{"%#x", FileOff(-16), "-0x10"}, {"%v", FileOff(-16), "-0x10"}, {"%d", Hex(255), "255"},
	} {
		if got := fmt.Sprintf(c.f, c.v); got != c.want {
			t.Errorf("Sprintf(%q, %T) = %q, want %q", c.f, c.v, got, c.want)
		}
	}
}
