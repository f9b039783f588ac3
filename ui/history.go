package ui

import tea "charm.land/bubbletea/v2"

// The jump history: following a link — a `:pfn`, `:phys`, `:vaddr` or
// `:offset`, an explanation, a find hit, a verify problem — first records
// where the user was (the view and, for a Locator, its position); ctrl+o
// and backspace go back through the record, most recent first, as in
// Vim's jump list.

// place is one position in the history.
type place struct {
	view int
	loc  any // Locator.Location(), nil for views without one
}

// maxHistory bounds the history; the oldest places are forgotten.
const maxHistory = 100

// remember records the current place, unless it is the last one
// recorded.
func (m *Model) remember() {
	p := place{view: m.active}
	if l, ok := m.views[m.active].(Locator); ok {
		p.loc = l.Location()
	}
	if n := len(m.history); n > 0 && m.history[n-1] == p {
		return
	}
	m.history = append(m.history, p)
	if len(m.history) > maxHistory {
		m.history = m.history[len(m.history)-maxHistory:]
	}
}

// jumpBack returns to the last place recorded.
func (m *Model) jumpBack() tea.Cmd {
	n := len(m.history)
	if n == 0 {
		m.status = "no earlier place: ctrl+o and backspace go back after following a link (:pfn, :phys, :vaddr, explain, find, verify)"
		return nil
	}
	p := m.history[n-1]
	m.history = m.history[:n-1]
	cmd := m.show(p.view)
	if l, ok := m.views[p.view].(Locator); ok && p.loc != nil {
		cmd = tea.Batch(cmd, l.Restore(p.loc))
	}
	return cmd
}
