package ui

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/themes"
	"dumpscope/ui/render"
)

// commands lists the root's own commands followed by every view's.
func (m *Model) commands() []Command {
	cmds := []Command{
		{Name: "view", Args: "NAME", Help: "show a view by name or number", Run: func(a string) (tea.Cmd, error) {
			i := m.viewIndex(a)
			if i < 0 {
				return nil, fmt.Errorf("no view %q (views: %s)", a, strings.Join(m.viewNames(), ", "))
			}
			return m.show(i), nil
		}},
		{Name: "theme", Args: "NAME", Help: "switch theme: " + strings.Join(themes.Names(), ", ") + ", auto", Run: func(a string) (tea.Cmd, error) {
			t, ok := themes.ByName(strings.TrimSpace(a), m.c.Theme.Dark)
			if !ok {
				return nil, fmt.Errorf("no theme %q (themes: %s, auto)", a, strings.Join(themes.Names(), ", "))
			}
			m.themeFixed = strings.TrimSpace(a) != "auto"
			m.applyTheme(t)
			return tea.Batch(m.broadcast(themeMsg{}), status("theme "+t.Name)), nil
		}},
		{Name: "help", Help: "list keys and commands", Run: func(string) (tea.Cmd, error) {
			m.openHelp()
			return nil, nil
		}},
		{Name: "quit", Help: "leave dumpscope", Run: func(string) (tea.Cmd, error) { return m.quit(), nil }},
	}
	for _, v := range m.views {
		if c, ok := v.(Commander); ok {
			for _, cmd := range c.Commands() {
				if cmd.View == "" {
					cmd.View = v.Name()
				}
				cmds = append(cmds, cmd)
			}
		}
	}
	return cmds
}

func (m *Model) viewNames() []string {
	out := make([]string, len(m.views))
	for i, v := range m.views {
		out[i] = v.Name()
	}
	return out
}

// runCommand runs one `:` line.
func (m *Model) runCommand(lineText string) tea.Cmd {
	name, args, _ := strings.Cut(strings.TrimSpace(lineText), " ")
	name = strings.ToLower(name)
	if name == "q" {
		name = "quit"
	}
	for _, c := range m.commands() {
		if c.Name != name {
			continue
		}
		marks := len(m.history)
		if c.Jump {
			m.remember()
		}
		var show tea.Cmd
		if c.View != "" {
			if i := m.viewIndex(c.View); i >= 0 && i != m.active {
				show = m.show(i)
			}
		}
		cmd, err := c.Run(strings.TrimSpace(args))
		if err != nil {
			m.errText = fmt.Sprintf("%s: %s", name, errText(err))
			m.history = m.history[:marks] // nothing was followed
			return show
		}
		return tea.Batch(show, cmd)
	}
	var names []string
	for _, c := range m.commands() {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	m.errText = fmt.Sprintf("unknown command %q; commands: %s", name, strings.Join(names, " "))
	return nil
}

// openHelp fills the help page from the key maps and the commands.
func (m *Model) openHelp() {
	st := m.c.St
	var lines []render.Line
	section := func(title string, groups [][]key.Binding) {
		lines = append(lines, render.Line{st.title.Span(title)})
		for _, g := range groups {
			for _, b := range g {
				h := b.Help()
				if h.Key == "" {
					continue
				}
				lines = append(lines, render.Line{render.Text("  "), st.key.Span(render.Pad(h.Key, 12)), st.keyDesc.Span(h.Desc)})
			}
		}
		lines = append(lines, render.Line{})
	}
	v := m.views[m.active]
	section(v.Title()+" keys", v.Keys().FullHelp())
	section("Keys in every view", m.keys.FullHelp())
	section("Command line and search line", m.prompt.keys.FullHelp())
	lines = append(lines, render.Line{st.title.Span("Commands (type : first; numbers are decimal or 0x-hex)")})
	for _, c := range m.commands() {
		usage := c.Name
		if c.Args != "" {
			usage += " " + c.Args
		}
		lines = append(lines, render.Line{render.Text("  "), st.key.Span(render.Pad(usage, 18)), st.keyDesc.Span(c.Help)})
	}
	lines = append(lines, render.Line{}, render.Line{st.title.Span("Views")})
	for i, v := range m.views {
		lines = append(lines, render.Line{render.Text("  "), st.key.Span(render.Pad(fmt.Sprint(i+1), 12)), st.keyDesc.Span(v.Title())})
	}
	lines = append(lines, render.Line{}, render.Line{st.title.Span("Page states (minimap glyphs)")})
	for _, s := range model.AllStates {
		lines = append(lines, render.Line{render.Text("  "), st.states[s].Span(render.Pad(present.StateGlyph(s), 12)), st.keyDesc.Span(string(s))})
	}
	m.helpList.setLines(lines)
	m.helpList.moveTo(0)
	m.helpOpen = true
}
