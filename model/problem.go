package model

import "fmt"

// Severity grades a Problem. The names are part of the JSON contract.
type Severity string

// The severities, most serious first.
const (
	// SeverityError: the dump is damaged.
	SeverityError Severity = "error"
	// SeverityWarning: the dump is intact but something a receiver needs
	// is missing (VMCOREINFO, a split part).
	SeverityWarning Severity = "warning"
	// SeverityNote: compatibility information (which tools cannot open the
	// dump as it is).
	SeverityNote Severity = "note"
)

// Problem is one finding about a dump: a warning found while opening it, or
// a verify result.
type Problem struct {
	Severity Severity `json:"severity"`
	// Code is a stable kebab-case word ("truncated", "bad-page-descriptor").
	Code Code   `json:"code"`
	File string `json:"file"`
	// Offset is the file offset the problem is about, if any.
	Offset *FileOff `json:"offset"`
	// PFN is the frame the problem is about, if any.
	PFN *PFN `json:"pfn"`
	// Message says what is wrong, in one line.
	Message string `json:"message"`
}

// String formats the problem as one line: "severity code: where: message".
func (p Problem) String() string {
	return fmt.Sprintf("%s %s: %s: %s", p.Severity, p.Code, p.Where(), p.Message)
}

// Where is the problem's location: its file, file offset and frame, as
// far as it has them ("vmcore @0x5000 pfn 0x12").
func (p Problem) Where() string {
	where := p.File
	if p.Offset != nil {
		where += fmt.Sprintf(" @%#x", *p.Offset)
	}
	if p.PFN != nil {
		where += fmt.Sprintf(" pfn %#x", *p.PFN)
	}
	return where
}

// NewProblem builds a Problem; off < 0 means "no offset".
func NewProblem(sev Severity, code Code, file string, off int64, msg string, args ...any) Problem {
	p := Problem{Severity: sev, Code: code, File: file, Message: fmt.Sprintf(msg, args...)}
	if off >= 0 {
		o := FileOff(off)
		p.Offset = &o
	}
	return p
}

// WithPFN returns a copy of p about the given frame.
func (p Problem) WithPFN(pfn PFN) Problem {
	p.PFN = &pfn
	return p
}
