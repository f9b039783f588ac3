package present

import (
	"errors"
	"strings"

	"dumpscope/model"
)

// ErrorText is an error's message as a sentence to show: the text of a
// sentinel error that only classifies it (model.ErrNotFound's "not
// found", model.ErrPageAbsent's "page not available") is dropped where
// fmt.Errorf's %w put it, at the end or before a parenthesis. The
// sentinel says which exit code or view applies; the message around it
// already says what is missing.
func ErrorText(err error) string {
	s := err.Error()
	for _, sentinel := range []error{model.ErrNotFound, model.ErrPageAbsent} {
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
