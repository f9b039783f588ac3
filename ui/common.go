package ui

import (
	"context"
	"strings"

	"charm.land/lipgloss/v2"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/themes"
	"dumpscope/ui/render"
)

// Common is what every view shares: the inspection session, what the
// dump's headers say, the current styles and the context that ends with
// the program. Views hold a pointer to the one Common the root owns; only
// the root's Update changes it (theme switches, the frame counts, Info
// after an index pass), so views see the change at their next View (and
// countedMsg or themeMsg tells those that cache text).
type Common struct {
	// Ctx is cancelled when the UI quits; long work derives from it.
	Ctx context.Context
	// S is the inspection session over the dump: its kernel engine, reads,
	// searches and verification. Only commands (tea.Cmd functions) call
	// it, never Update or View: they may read the file.
	S *inspect.Session
	// Info is what the headers say, read when the session started (and
	// again after a container's index pass). Its frame counts (Pages) are
	// nil until the root's count job is done.
	Info model.Info
	// Counting is true until the frame counts are known; CountErr says
	// why there are none when counting failed.
	Counting bool
	CountErr error
	// Theme is the current theme and St its styles as pens.
	Theme themes.Theme
	St    *styles
	// Search relays the session's search of memory for VMCOREINFO (nil
	// when the session does not search); builds are the engine calls
	// waiting for the engine (recover.go).
	Search *Progress
	builds builds
}

// SetTheme switches the theme every view draws with.
func (c *Common) SetTheme(t themes.Theme) {
	c.Theme = t
	c.St = newStyles(t)
}

// pageSize returns the dump's page size as a uint64 (never 0).
func (c *Common) pageSize() uint64 {
	if c.Info.PageSize > 0 {
		return uint64(c.Info.PageSize)
	}
	return 4096
}

// styles are the theme's styles as pens, plus the page-state pens in
// model.AllStates order.
type styles struct {
	header, headerKey, tabOn, tabOff                  render.Pen
	title, label, value, dim, selected                render.Pen
	addr, byte_, zero, printable, unprintable         render.Pen
	highlight, cursor, match                          render.Pen
	err, warn, note, ok, status, key, keyDesc, prompt render.Pen
	states                                            map[model.PageState]render.Pen
	helpKey, helpDesc, helpSep                        lipgloss.Style
}

func newStyles(t themes.Theme) *styles {
	return &styles{
		header: render.PenOf(t.Header), headerKey: render.PenOf(t.HeaderKey), tabOn: render.PenOf(t.TabActive), tabOff: render.PenOf(t.TabInactive),
		title: render.PenOf(t.Title), label: render.PenOf(t.Label), value: render.PenOf(t.Value), dim: render.PenOf(t.Dim), selected: render.PenOf(t.Selected),
		addr: render.PenOf(t.Address), byte_: render.PenOf(t.Byte), zero: render.PenOf(t.Zero), printable: render.PenOf(t.Printable), unprintable: render.PenOf(t.Unprintable),
		highlight: render.PenOf(t.Highlight), cursor: render.PenOf(t.Cursor), match: render.PenOf(t.Match),
		err: render.PenOf(t.Error), warn: render.PenOf(t.Warning), note: render.PenOf(t.Note), ok: render.PenOf(t.OK),
		status: render.PenOf(t.Status), key: render.PenOf(t.Key), keyDesc: render.PenOf(t.KeyDesc), prompt: render.PenOf(t.Prompt),
		states: map[model.PageState]render.Pen{
			model.StatePresent: render.PenOf(t.Present), model.StateZeroFill: render.PenOf(t.ZeroFill),
			model.StateExcluded: render.PenOf(t.Excluded), model.StateNotInDump: render.PenOf(t.NotInDump),
			model.StateLost: render.PenOf(t.Lost), model.StateUnreadable: render.PenOf(t.Unreadable),
		},
		helpKey: t.Key, helpDesc: t.KeyDesc, helpSep: t.Dim,
	}
}

// severityPen is the pen of a problem's severity (present.SeverityMark
// gives its glyph, so severities are told apart without colour).
func severityPen(st *styles, sev model.Severity) render.Pen {
	switch sev {
	case model.SeverityError:
		return st.err
	case model.SeverityWarning:
		return st.warn
	}
	return st.note
}

// clamp limits v to [lo, hi].
func clamp(v, lo, hi int) int {
	if hi < lo {
		return lo
	}
	return min(max(v, lo), hi)
}

// scrolledTop is the first row a window of n rows (of rows in all) shows
// so that it shows the cursor: top, moved as little as that takes.
func scrolledTop(cursor, top, n, rows int) int {
	if cursor < top {
		top = cursor
	}
	if cursor >= top+n {
		top = cursor - n + 1
	}
	return clamp(top, 0, max(rows-n, 0))
}

// errText is an error as one line.
func errText(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
