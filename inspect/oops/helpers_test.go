package oops

import (
	"regexp"
	"strings"
	"testing"

	"dumpscope/model"
)

// The excerpts in these tests are written by hand in the shape the kernel
// prints them, from the format strings of the functions each test names;
// they are not copies of real logs.

// callerRe matches the caller id a test line may start with. The kernel
// keeps it outside the text (CONFIG_PRINTK_CALLER, model.LogRecord.Caller).
var callerRe = regexp.MustCompile(`^\[([TC]\d+)\] ?`)

// klog builds records from an excerpt: one record per line, 1 ms apart
// from startNS, sequence numbers from seq0.
func klog(seq0, startNS uint64, excerpt string) []model.LogRecord {
	var recs []model.LogRecord
	for i, l := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(excerpt, "\n"), "\n"), "\n") {
		r := model.LogRecord{Seq: seq0 + uint64(i), TimestampNS: startNS + uint64(i)*1e6, Level: -1, Facility: -1}
		if m := callerRe.FindStringSubmatch(l); m != nil {
			r.Caller = m[1]
			l = l[len(m[0]):]
		}
		r.Text = l
		recs = append(recs, r)
	}
	return recs
}

// analyze runs Analyze on an excerpt.
func analyze(t *testing.T, excerpt string) *Analysis {
	t.Helper()
	return Analyze(klog(100, 5e9, excerpt), Facts{})
}

// mustCause returns the cause report, failing the test when there is none.
func mustCause(t *testing.T, a *Analysis) *Report {
	t.Helper()
	if a.Cause == nil {
		t.Fatalf("no cause (verdict %q: %s); reports: %s", a.Verdict, a.CauseReason, classes(a))
	}
	return &a.Reports[*a.Cause]
}

// classes lists the reports' classes, for messages.
func classes(a *Analysis) string {
	var s []string
	for _, r := range a.Reports {
		s = append(s, string(r.Class))
	}
	return strings.Join(s, ",")
}

// want is what a test expects of an analysis; empty fields are not
// checked.
type want struct {
	verdict  string
	class    Class
	title    string
	guilty   string
	frames   []string
	cpu      *int
	pid      int64
	comm     string
	message  string
	address  string
	reports  int
	complete *bool
}

func intp(i int) *int    { return &i }
func boolp(b bool) *bool { return &b }

// check compares an analysis with w.
func check(t *testing.T, a *Analysis, w want) *Report {
	t.Helper()
	if w.verdict != "" && a.Verdict != w.verdict {
		t.Errorf("verdict %q, want %q (%s)", a.Verdict, w.verdict, a.CauseReason)
	}
	if w.reports != 0 && len(a.Reports) != w.reports {
		t.Errorf("%d reports (%s), want %d", len(a.Reports), classes(a), w.reports)
	}
	c := mustCause(t, a)
	if w.class != "" && c.Class != w.class {
		t.Errorf("class %q, want %q", c.Class, w.class)
	}
	if w.message != "" && c.Message != w.message {
		t.Errorf("message %q, want %q", c.Message, w.message)
	}
	if w.address != "" && (c.Address == nil || c.Address.String() != w.address) {
		t.Errorf("address %v, want %s", c.Address, w.address)
	}
	if w.cpu != nil || w.comm != "" {
		if c.Task == nil {
			t.Errorf("no task line")
		} else {
			if w.cpu != nil && c.Task.CPU != *w.cpu {
				t.Errorf("cpu %d, want %d", c.Task.CPU, *w.cpu)
			}
			if w.pid != 0 && c.Task.PID != w.pid {
				t.Errorf("pid %d, want %d", c.Task.PID, w.pid)
			}
			if w.comm != "" && c.Task.Comm != w.comm {
				t.Errorf("comm %q, want %q", c.Task.Comm, w.comm)
			}
		}
	}
	if w.complete != nil && c.Complete != *w.complete {
		t.Errorf("complete %v (missing %v), want %v", c.Complete, c.Missing, *w.complete)
	}
	s := a.Signature
	if s == nil {
		t.Fatalf("no signature")
	}
	if w.title != "" && s.Title != w.title {
		t.Errorf("title %q, want %q", s.Title, w.title)
	}
	if w.guilty != "" && s.GuiltyFrame != w.guilty {
		t.Errorf("guilty frame %q, want %q (frames %v)", s.GuiltyFrame, w.guilty, s.Frames)
	}
	if w.frames != nil && strings.Join(s.Frames, "|") != strings.Join(w.frames, "|") {
		t.Errorf("frames\n got %q\nwant %q", s.Frames, w.frames)
	}
	return c
}
