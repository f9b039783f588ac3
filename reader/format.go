package reader

import (
	"errors"
	"fmt"
	"strings"

	"dumpscope/model"
)

// Format is one dump format: how to recognise it from a file's first bytes
// and how to open it. Each format package exports its Format values; a
// probe chain is a list of them, tried in order (package open).
type Format struct {
	// Name names the format in messages ("kdump-compressed (KDUMP)").
	Name string
	// Magic says what Probe looks for, for the "tried" list of an unknown
	// file ("\"KDUMP   \" or \"DISKDUMP\" at 0").
	Magic string
	// Probe looks at the first bytes of a file (up to ProbeSize, fewer if
	// the file is shorter) and says whether they are this format, and
	// where its first structure starts.
	Probe func(head []byte) (Match, bool)
	// Open reads the format's fixed headers from src. An error wrapping
	// model.ErrUnrecognized means "not this format after all" (an ELF
	// file with sections but no Xen notes), and the next format whose probe
	// matches is tried.
	Open func(src Source, m Match) (Dump, error)
}

// Match is what a probe found.
type Match struct {
	// Offset is where the format's first structure starts (AIX dumps copied
	// off a dump device start with a 512-byte LVM sector).
	Offset int64
}

// ProbeSize is how much of a file a probe chain reads: enough for every
// magic, including AIX's at 512.
const ProbeSize = 4096

// Detect runs a probe chain on the first n bytes of src and returns every
// format that matched, in chain order. A file no format matches gives a
// *model.FormatError wrapping model.ErrUnrecognized that lists what was
// tried.
func Detect(src Source, chain []Format, n int64) ([]Format, []Match, error) {
	head := make([]byte, min(src.Len(), n))
	if err := src.ReadAt(head, 0, "file header"); err != nil {
		return nil, nil, err
	}
	var formats []Format
	var matches []Match
	for _, f := range chain {
		if m, ok := f.Probe(head); ok {
			formats, matches = append(formats, f), append(matches, m)
		}
	}
	if len(formats) > 0 {
		return formats, matches, nil
	}
	tried := make([]string, len(chain))
	for i, f := range chain {
		tried[i] = fmt.Sprintf("%s (%s)", f.Name, f.Magic)
	}
	what := "no known signature"
	if len(head) == 0 {
		what = "the file is empty"
	}
	return nil, nil, &model.FormatError{File: src.Name, Off: -1, Err: model.ErrUnrecognized,
		Msg: fmt.Sprintf("not a crash dump (%s; tried %s)", what, strings.Join(tried, ", "))}
}

// OpenWith detects the format of src among chain (reading at most n bytes
// for the probes) and opens it. When a format's Open says the file is not
// its format after all, the next matching format is tried.
func OpenWith(src Source, chain []Format, n int64) (Dump, error) {
	formats, matches, err := Detect(src, chain, n)
	if err != nil {
		return nil, err
	}
	for i, f := range formats {
		var d Dump
		if d, err = f.Open(src, matches[i]); err == nil {
			return d, nil
		}
		if !errors.Is(err, model.ErrUnrecognized) {
			break
		}
	}
	return nil, err
}
