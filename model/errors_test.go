package model

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("f: no symbol %q in kallsyms: %w", "x", ErrNotFound), `f: no symbol "x" in kallsyms`},
		{fmt.Errorf("f: VMCOREINFO lacks X: %w (Linux 6.0 and later list it)", ErrNotFound), "f: VMCOREINFO lacks X (Linux 6.0 and later list it)"},
		{fmt.Errorf("f: bad: %w", ErrTruncated), "f: bad: truncated"},
		{ErrNotFound, "not found"},
		{errors.New("plain: not found"), "plain: not found"}, // not the sentinel
	} {
		if got := ErrorText(tc.err); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
	}
}
