package present

import "dumpscope/model"

// SeverityMark is the glyph that tells severities apart without colour:
// ✗ error, ! warning, i note.
func SeverityMark(sev model.Severity) string {
	switch sev {
	case model.SeverityError:
		return "✗"
	case model.SeverityWarning:
		return "!"
	}
	return "i"
}
