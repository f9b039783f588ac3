package model

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors classify failures; test them with errors.Is.
var (
	// ErrUnrecognized: no probe recognised the file.
	ErrUnrecognized = errors.New("unrecognized dump format")
	// ErrUnsupported: the format was recognised but this variant cannot be
	// read.
	ErrUnsupported = errors.New("unsupported")
	// ErrTruncated: the file ends inside a structure.
	ErrTruncated = errors.New("truncated")
	// ErrCorrupt: a structure holds impossible values.
	ErrCorrupt = errors.New("corrupt")
	// ErrPageAbsent: the requested page is not in the dump in readable form.
	ErrPageAbsent = errors.New("page not available")
	// ErrNotFound: the requested item (VMCOREINFO, a CPU, an area) is not
	// in the dump.
	ErrNotFound = errors.New("not found")
)

// FormatError reports a structure that cannot be read: which file, which
// structure, where, and what is wrong. It wraps ErrTruncated or ErrCorrupt
// (or an I/O error).
type FormatError struct {
	File   string
	Struct string
	Off    FileOff
	Msg    string
	Err    error
}

func (e *FormatError) Error() string {
	s := e.Msg
	if e.Struct != "" {
		s += ", " + e.Struct
	}
	if e.Off >= 0 {
		s += fmt.Sprintf(" at offset %#x", e.Off)
	}
	if e.File != "" {
		s = e.File + ": " + s
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

// Errorf builds a FormatError; err classifies it (ErrTruncated, ErrCorrupt,
// an I/O error).
func Errorf(file, structure string, off int64, err error, format string, args ...any) *FormatError {
	return &FormatError{File: file, Struct: structure, Off: FileOff(off), Msg: fmt.Sprintf(format, args...), Err: err}
}

// PageError reports a page that cannot be read: the frame, its state, and
// why. It wraps ErrPageAbsent for absent pages and ErrCorrupt or an I/O
// error for unreadable ones.
type PageError struct {
	File  string
	PFN   PFN
	State PageState
	// Code is the verify problem code for this failure
	// (CodeBadCompressedPage, CodeBadPageDescriptor); the zero Code lets
	// verify derive one from the state.
	Code Code
	// Off is the file offset involved (a descriptor or the page data), or
	// -1.
	Off FileOff
	Msg string
	Err error
}

func (e *PageError) Error() string {
	s := fmt.Sprintf("pfn %s is %s", e.PFN, e.State)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Off >= 0 {
		s += fmt.Sprintf(" (file offset %#x)", e.Off)
	}
	if e.File != "" {
		s = e.File + ": " + s
	}
	return s
}

func (e *PageError) Unwrap() error { return e.Err }

// AbsentError builds the error for reading a page whose state is not
// readable, from its PageInfo.
func AbsentError(file string, pi PageInfo) *PageError {
	err := ErrPageAbsent
	if pi.State == StateUnreadable {
		err = ErrCorrupt
	}
	return &PageError{File: file, PFN: pi.PFN, State: pi.State, Off: pi.FileOffset, Msg: pi.Reason, Err: err}
}

// ErrorText is an error's message as a sentence to show: the text of a
// sentinel error that only classifies it (ErrNotFound's "not
// found", ErrPageAbsent's "page not available") is dropped where
// fmt.Errorf's %w put it, at the end or before a parenthesis. The
// sentinel says which exit code or view applies; the message around it
// already says what is missing.
func ErrorText(err error) string {
	s := err.Error()
	for _, sentinel := range []error{ErrNotFound, ErrPageAbsent} {
		if !errors.Is(err, sentinel) {
			continue
		}
		tail := ": " + sentinel.Error()
		s = strings.ReplaceAll(s, tail+" (", " (")
		if t := strings.TrimSuffix(s, tail); t != "" {
			s = t
		}
	}
	return s
}
