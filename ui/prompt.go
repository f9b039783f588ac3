package ui

import (
	"dumpscope/ui/render"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// prompt is the one-line editor of the `:` command line and the `/` search
// line, with a history per kind.
type prompt struct {
	keys    PromptKeys
	kind    string // ":" or "/"; "" when closed
	text    []rune
	pos     int
	history map[string][]string
	hist    int // index into history while browsing; len(history) = the line being typed
}

func newPrompt() prompt {
	return prompt{keys: newPromptKeys(), history: map[string][]string{}}
}

// open starts editing a line of the given kind with text typed in.
func (p *prompt) open(kind, text string) {
	p.kind = kind
	p.text = []rune(text)
	p.pos = len(p.text)
	p.hist = len(p.history[kind])
}

func (p *prompt) active() bool { return p.kind != "" }

func (p *prompt) close() { p.kind, p.text, p.pos = "", nil, 0 }

// promptResult is what a key did to the prompt.
type promptResult int

const (
	promptEditing promptResult = iota
	promptSubmitted
	promptAborted
)

// update edits the line; on submit the line is returned and remembered.
func (p *prompt) update(msg tea.KeyPressMsg) (promptResult, string) {
	k := p.keys
	switch {
	case key.Matches(msg, k.Submit):
		line := strings.TrimSpace(string(p.text))
		if line != "" {
			h := p.history[p.kind]
			if len(h) == 0 || h[len(h)-1] != line {
				p.history[p.kind] = append(h, line)
			}
		}
		p.close()
		return promptSubmitted, line
	case key.Matches(msg, k.Abort):
		p.close()
		return promptAborted, ""
	case key.Matches(msg, k.Left):
		p.pos = max(p.pos-1, 0)
	case key.Matches(msg, k.Right):
		p.pos = min(p.pos+1, len(p.text))
	case key.Matches(msg, k.Home):
		p.pos = 0
	case key.Matches(msg, k.End):
		p.pos = len(p.text)
	case key.Matches(msg, k.Backspace):
		if p.pos > 0 {
			p.text = append(p.text[:p.pos-1], p.text[p.pos:]...)
			p.pos--
		} else if len(p.text) == 0 {
			p.close()
			return promptAborted, ""
		}
	case key.Matches(msg, k.Delete):
		if p.pos < len(p.text) {
			p.text = append(p.text[:p.pos], p.text[p.pos+1:]...)
		}
	case key.Matches(msg, k.Kill):
		p.text, p.pos = p.text[:0], 0
	case key.Matches(msg, k.HistUp):
		p.browse(-1)
	case key.Matches(msg, k.HistDown):
		p.browse(+1)
	default:
		if msg.Text != "" {
			r := []rune(msg.Text)
			p.text = append(p.text[:p.pos], append(r, p.text[p.pos:]...)...)
			p.pos += len(r)
		}
	}
	return promptEditing, ""
}

// paste inserts pasted text (first line only).
func (p *prompt) paste(s string) {
	s, _, _ = strings.Cut(s, "\n")
	r := []rune(s)
	p.text = append(p.text[:p.pos], append(r, p.text[p.pos:]...)...)
	p.pos += len(r)
}

func (p *prompt) browse(d int) {
	h := p.history[p.kind]
	n := clamp(p.hist+d, 0, len(h))
	if n == p.hist {
		return
	}
	p.hist = n
	if n == len(h) {
		p.text = nil
	} else {
		p.text = []rune(h[n])
	}
	p.pos = len(p.text)
}

// view draws the line in w cells, the cursor as a reversed cell.
func (p *prompt) view(st *styles, w int) string {
	before := string(p.text[:p.pos])
	at := " "
	after := ""
	if p.pos < len(p.text) {
		at = string(p.text[p.pos])
		after = string(p.text[p.pos+1:])
	}
	// Keep the cursor on screen: drop text from the left when long.
	room := w - 2
	for render.Width(before)+1 > room && before != "" {
		_, size := utf8.DecodeRuneInString(before)
		before = before[size:]
	}
	l := render.Line{st.prompt.Span(p.kind), render.Text(before), st.cursor.Span(at), render.Text(after)}
	return l.Render(w, nil)
}
