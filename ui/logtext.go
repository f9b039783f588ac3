package ui

import (
	"context"
	"fmt"
	"strings"

	"dumpscope/model"
	"dumpscope/ui/render"
)

// logText is a kernel log ready to draw: the records, and one row per line
// of vmcore-dmesg's output (a record whose text holds newlines prints as
// several lines). Rows point into the records, so the index costs eight
// bytes a line and a row is formatted only when it is drawn. It is built
// by a job and never changed afterwards, so jobs may search it while the
// view draws it.
type logText struct {
	recs []model.LogRecord
	rows []logRow
	// callerW is the widest caller ("T123", "C1"); 0 when no record has
	// one. levels says whether any record has a level.
	callerW int
	levels  bool
	// maxW is the widest row, for horizontal scrolling.
	maxW int
}

// logRow is line sub of record rec's output.
type logRow struct{ rec, sub int32 }

// newLogText indexes the records' lines, reporting progress and stopping
// when ctx ends.
func newLogText(ctx context.Context, recs []model.LogRecord, progress func(done, total uint64)) (*logText, error) {
	t := &logText{recs: recs, rows: make([]logRow, 0, len(recs))}
	n := uint64(len(recs))
	for i, r := range recs {
		if i&0xfff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			progress(uint64(i), n)
		}
		lines := strings.Count(r.Text, "\n") + 1
		for sub := range lines {
			t.rows = append(t.rows, logRow{rec: int32(i), sub: int32(sub)})
		}
		t.callerW = max(t.callerW, len(r.Caller))
		t.levels = t.levels || r.Level >= 0
		// The longest line is at most the whole record: timestamp,
		// text, and \xNN escapes (four cells a byte at most).
		t.maxW = max(t.maxW, min(15+4*len(r.Text), 1<<16))
	}
	progress(n, n)
	return t, nil
}

// row returns the text of row i as vmcore-dmesg prints it, with tabs
// expanded and the other control characters it keeps escaped, so it can
// be drawn.
func (t *logText) row(i int) string {
	r := t.rows[i]
	s := model.DmesgLine(t.recs[r.rec])
	for k := int32(0); k < r.sub; k++ {
		_, s, _ = strings.Cut(s, "\n")
	}
	s, _, _ = strings.Cut(s, "\n")
	return drawable(s)
}

// record returns the record of row i.
func (t *logText) record(i int) model.LogRecord { return t.recs[t.rows[i].rec] }

// drawable expands tabs (to stops of 8) and escapes \v, \f and \r, the
// control characters vmcore-dmesg writes as they are (isspace).
func drawable(s string) string {
	if !strings.ContainsAny(s, "\t\v\f\r") {
		return s
	}
	var b strings.Builder
	col := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\t':
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case '\v', '\f', '\r':
			fmt.Fprintf(&b, "\\x%02x", c)
			col += 4
		default:
			b.WriteByte(c)
			col++
		}
	}
	return b.String()
}

// search finds the next row containing query (lower case), from row
// `from` (inclusive for a new search) in the direction dir, wrapping
// around, as listModel's search does. With vis, only the rows it lists
// are searched, and from and the result count in it.
func (t *logText) search(ctx context.Context, query string, vis []int32, from int, dir searchDir, progress func(done, total uint64)) (int, bool, error) {
	n := len(t.rows)
	if vis != nil {
		n = len(vis)
	}
	if n == 0 || query == "" {
		return 0, false, nil
	}
	step, start := 1, from
	switch dir {
	case searchNext:
		start = from + 1
	case searchPrev:
		step, start = -1, from-1
	}
	for k := 0; k < n; k++ {
		if k&0xfff == 0 {
			if err := ctx.Err(); err != nil {
				return 0, false, err
			}
			progress(uint64(k), uint64(n))
		}
		i := ((start+step*k)%n + n) % n
		row := i
		if vis != nil {
			row = int(vis[i])
		}
		if strings.Contains(strings.ToLower(t.row(row)), query) {
			return i, true, nil
		}
	}
	return 0, false, nil
}

// levelNames are the syslog levels as the kernel names them (KERN_*).
var levelNames = [...]string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"}

// levelName names a level, "" when unknown.
func levelName(l int) string {
	if l >= 0 && l < len(levelNames) {
		return levelNames[l]
	}
	return ""
}

// levelPen draws a record by its level: errors and worse in the error
// pen, warnings in the warning pen, debug dim. The level's name is in the
// gutter too, so colour is never the only sign.
func levelPen(st *styles, l int) render.Pen {
	switch {
	case l >= 0 && l <= 3:
		return st.err
	case l == 4:
		return st.warn
	case l == 7:
		return st.dim
	}
	return st.value
}

// recordDetail describes a record's fields beyond the printed line.
func recordDetail(r model.LogRecord) string {
	parts := []string{fmt.Sprintf("seq %d", r.Seq)}
	if name := levelName(r.Level); name != "" {
		parts = append(parts, fmt.Sprintf("level %d %s", r.Level, name))
	}
	if r.Facility >= 0 {
		parts = append(parts, fmt.Sprintf("facility %d", r.Facility))
	}
	if r.Caller != "" {
		who := "task " + strings.TrimPrefix(r.Caller, "T")
		if cpu, ok := strings.CutPrefix(r.Caller, "C"); ok {
			who = "CPU " + cpu
		}
		parts = append(parts, "caller "+r.Caller+" ("+who+")")
	}
	if r.Subsystem != "" || r.Device != "" {
		parts = append(parts, "device "+strings.Trim(r.Subsystem+" "+r.Device, " "))
	}
	if r.Truncated {
		parts = append(parts, "text truncated in memory")
	}
	return strings.Join(parts, " · ")
}
