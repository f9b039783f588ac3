package awsauth

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
)

// maxConfigFileSize bounds what is read of a shared config or credentials
// file: real ones are a few KiB.
const maxConfigFileSize = 1 << 20

// iniFile is one shared config or credentials file, parsed the way the
// AWS SDK for Go v2 (config/internal/ini) does: "[type name]" headers,
// "key = value" (or "key: value") properties with keys in lower case,
// values trimmed and stripped of one pair of surrounding quotes, " #" and
// " ;" starting a comment after a value, indented "key = value" lines
// nested under a property with an empty value ("s3 =" in a services
// section), and other indented lines continuing the previous value.
//
// Where the SDK silently skips a line it cannot make sense of, this is an
// error naming the file and line, as in the AWS CLI. Errors never quote
// the line: it could hold a secret.
type iniFile struct {
	path     string
	sections map[string]*iniSection
}

// iniSection is one "[type name]" section; several headers with the same
// name make one section, the later values winning.
type iniSection struct {
	name   string // "profile dev", "default", "sso-session corp", "services local"
	line   int    // of its first header
	values map[string]*iniValue
}

// iniValue is one property.
type iniValue struct {
	line  int
	parts []string          // the value, then its continuation lines
	sub   map[string]string // nested properties, for a property with an empty value
}

// text is the value, with its continuation lines joined by newlines.
func (v *iniValue) text() string {
	return strings.Join(v.parts, "\n")
}

// empty says whether the value is "" (a nested property's parent).
func (v *iniValue) empty() bool {
	return len(v.parts) == 1 && v.parts[0] == ""
}

// readINI reads and parses the file at path. A file that does not exist
// gives nil and no error.
func readINI(path string) (*iniFile, error) {
	data, ok, err := readSmallFile(path, maxConfigFileSize)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading AWS config file: %w", err)
	case !ok:
		return nil, fmt.Errorf("AWS config file %s: larger than %d KiB", path, maxConfigFileSize>>10)
	}
	return parseINI(path, data)
}

// parseINI parses the text of the file at path.
func parseINI(path string, data []byte) (*iniFile, error) {
	file := &iniFile{path: path, sections: map[string]*iniSection{}}
	var sec *iniSection
	var cur *iniValue // the last property, which indented lines extend
	text := strings.TrimPrefix(string(data), "\ufeff")
	for n := 1; text != ""; n++ {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		line = strings.TrimSuffix(line, "\r")
		bad := func(format string, args ...any) error {
			return fmt.Errorf("AWS config file %s:%d: %s", path, n, fmt.Sprintf(format, args...))
		}
		trimmed := strings.TrimLeft(line, " \t")
		if strings.TrimSpace(trimmed) == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			continue
		}
		if trimmed[0] == '[' {
			header, _, _ := strings.Cut(trimmed, "#")
			header, _, _ = strings.Cut(header, ";")
			header = strings.TrimSpace(header)
			if !strings.HasSuffix(header, "]") {
				return nil, bad("section header without its closing ]")
			}
			name := sectionName(header[1 : len(header)-1])
			if name == "" {
				return nil, bad("section header without a name")
			}
			if sec = file.sections[name]; sec == nil {
				sec = &iniSection{name: name, line: n, values: map[string]*iniValue{}}
				file.sections[name] = sec
			}
			cur = nil
			continue
		}
		if sec == nil {
			return nil, bad("a property before any [section]")
		}
		indented := len(trimmed) < len(line)
		if !indented {
			// As in the SDK, a top-level line loses its comment before it
			// is split: "key = #x" is an empty value.
			trimmed = strings.TrimRight(cutComment(trimmed), " \t")
		}
		key, value, isProperty := splitProperty(trimmed)
		switch {
		case !indented || (isProperty && (cur == nil || !cur.empty())):
			// A property; an indented one when there is nothing to nest it
			// under, as in the SDK.
			if !isProperty {
				return nil, bad("expected [section] or key = value")
			}
			if indented {
				value = strings.TrimSpace(cutComment(unquote(value)))
			} else {
				value = unquote(value)
			}
			if key == "" {
				return nil, bad("property without a name")
			}
			cur = &iniValue{line: n, parts: []string{value}}
			sec.values[key] = cur
		case isProperty:
			// Nested under cur, whose value is empty: "s3 =" then
			// "  endpoint_url = ...". As in the SDK, the rest of the line
			// is the value: no comment is cut.
			if key == "" {
				return nil, bad("nested property without a name")
			}
			if cur.sub == nil {
				cur.sub = map[string]string{}
			}
			cur.sub[key] = value
		default:
			if cur == nil || cur.empty() {
				return nil, bad("an indented line, but no value above it to continue")
			}
			cur.parts = append(cur.parts, strings.TrimRight(trimmed, " \t"))
		}
	}
	return file, nil
}

// sectionName gives the name of a section from what is between its
// brackets: "profile  dev " is "profile dev", and "default" is itself.
func sectionName(s string) string {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s
	}
	return s[:i] + " " + strings.TrimLeft(s[i:], " \t")
}

// splitProperty splits "key = value" at the first = or : (whichever
// comes first, as in the SDK), trimming both and lowering the key; the
// value keeps any comment and quotes.
func splitProperty(s string) (key, value string, ok bool) {
	i := strings.IndexAny(s, "=:")
	if i < 0 {
		return "", "", false
	}
	return strings.ToLower(strings.TrimSpace(s[:i])), strings.TrimSpace(s[i+1:]), true
}

// cutComment cuts a value at a comment: " #", " ;" or the same after a
// tab. A # or ; inside a value (a URL's fragment) stays.
func cutComment(s string) string {
	for i := 1; i < len(s); i++ {
		if (s[i] == '#' || s[i] == ';') && (s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i-1]
		}
	}
	return s
}

// unquote removes one pair of surrounding single or double quotes.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
