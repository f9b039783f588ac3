package present

import (
	"fmt"
	"path/filepath"
	"strings"

	"dumpscope/model"
)

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

// Where is a problem's location as Problem.Where gives it ("vmcore
// @0x5000 pfn 0x12"), with the file named relative to dir when it lies in
// dir or below: a list of problems from one dump need not repeat the
// dump's folder on every row.
func Where(p model.Problem, dir string) string {
	p.File = RelPath(p.File, dir)
	return strings.TrimSpace(p.Where())
}

// RelPath names a file relative to dir when it lies in dir or below, and
// as it is otherwise (another folder, a name that is not a path, no dir).
func RelPath(file, dir string) string {
	if file == "" || dir == "" || !filepath.IsAbs(file) || !filepath.IsAbs(dir) {
		return file
	}
	rel, err := filepath.Rel(dir, file)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return file
	}
	return rel
}

// NotAvailable lists what a crash summary could not read (its Problems),
// each once: name (the dump's file names, which the engine puts first) is
// left out, and problems that fail for the same reason — everything read
// through VMCOREINFO when there is none — are merged into one line naming
// each thing that is missing and the reason once.
func NotAvailable(problems []string, name string) []string {
	var out []string
	var whats [][]string
	index := map[string]int{} // reason → index in out
	for _, p := range problems {
		p = strings.TrimPrefix(p, name+": ")
		what, why, ok := strings.Cut(p, ": ")
		if !ok {
			out = append(out, p)
			whats = append(whats, nil)
			continue
		}
		if i, seen := index[why]; seen {
			whats[i] = append(whats[i], what)
			continue
		}
		index[why] = len(out)
		out = append(out, why)
		whats = append(whats, []string{what})
	}
	for i, w := range whats {
		if w != nil {
			out[i] = fmt.Sprintf("%s: %s", strings.Join(w, "; "), out[i])
		}
	}
	return out
}

// Reasons shortens reasons given again: in a list where several rows fail
// for one cause (every analysis of a dump without VMCOREINFO), a row
// whose value ends with a reason an earlier row gave says so instead of
// repeating it: "NO: kallsyms: the same reason as kernel-log". A reason
// is the text after one of the value's ": " (at least minReason bytes);
// the zero value is ready to use.
type Reasons struct {
	seen map[string]string // reason → the key of the row that gave it
}

// minReason is the shortest text counted as a reason: shorter tails
// ("not found", "needs kallsyms, which is not possible (see symbols)") say
// more than a reference to another row.
const minReason = 60

// Shorten returns value, its longest repeated reason replaced, and
// records its reasons under key.
func (r *Reasons) Shorten(key, value string) string {
	if r.seen == nil {
		r.seen = map[string]string{}
	}
	var tails []int // where each tail starts, longest first
	for i := 0; i+2 < len(value); i++ {
		if value[i] == ':' && value[i+1] == ' ' && len(value)-(i+2) >= minReason {
			tails = append(tails, i+2)
		}
	}
	out := value
	for _, at := range tails {
		if k, ok := r.seen[value[at:]]; ok && k != key {
			out = value[:at] + "the same reason as " + k
			break
		}
	}
	for _, at := range tails {
		if _, ok := r.seen[value[at:]]; !ok {
			r.seen[value[at:]] = key
		}
	}
	return out
}
