package oops

import (
	"reflect"
	"testing"
)

// TestTaintFromMask: tainted_mask read from memory gives the text
// print_tainted() prints, which the log parser reads back to the same
// flags.
func TestTaintFromMask(t *testing.T) {
	cases := []struct {
		mask uint64
		text string
	}{
		{0, "Not tainted"},
		{1<<9 | 1<<12, "Tainted: G        W  O"},
		{1, "Tainted: P"},
		{1 << 7, "Tainted: G      D"},
		{1<<0 | 1<<13 | 1<<19, "Tainted: P            E     J"},
	}
	for _, c := range cases {
		got := TaintFromMask(c.mask)
		if got.Text != c.text {
			t.Errorf("%#x: text %q, want %q", c.mask, got.Text, c.text)
		}
		back := parseTaint(got.Text)
		if !reflect.DeepEqual(back.Flags, got.Flags) {
			t.Errorf("%#x: parsed back %+v, decoded %+v", c.mask, back.Flags, got.Flags)
		}
		if TaintMask(got) != c.mask {
			t.Errorf("%#x: mask back %#x", c.mask, TaintMask(got))
		}
	}
	// A bit the table does not know is kept, not dropped.
	got := TaintFromMask(1 << 40)
	if len(got.Flags) != 1 || got.Flags[0].Bit != 40 || got.Flags[0].Name != "" || got.Text[len(got.Text)-1] != '?' {
		t.Errorf("unknown bit: %+v", got)
	}
}
