package btf

import (
	"fmt"

	"dumpscope/model"
)

// errorf reports a structure of the blob that cannot be read: which
// structure, its offset in the blob, and what is wrong.
func errorf(structure string, off int64, err error, format string, args ...any) error {
	return model.Errorf("", structure, off, err, format, args...)
}

// MemberError reports a member path that does not resolve: the member
// that is missing and the type that was searched for it.
type MemberError struct {
	Type   string // the type searched, as C names it ("struct thread_struct")
	Member string // the path component not found ("spx", "[7]")
	Path   string // the whole path asked for ("thread.spx")
	Msg    string // why, when it is not simply absent
	Err    error  // model.ErrNotFound, or model.ErrCorrupt for damaged BTF
}

func (e *MemberError) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = "no member " + quote(e.Member)
	}
	s := fmt.Sprintf("%s in %s", msg, e.Type)
	if e.Path != "" && e.Path != e.Member {
		s += fmt.Sprintf(" (path %q)", e.Path)
	}
	return s
}

func (e *MemberError) Unwrap() error { return e.Err }

func quote(s string) string { return fmt.Sprintf("%q", s) }
