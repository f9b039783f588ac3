package ui

import "charm.land/bubbles/v2/key"

// Key maps: one struct per screen. The footer and the `?` page are
// generated from them, and Update matches keys only through them (never by
// string literals), so a binding changed here changes everywhere.

func bind(keys []string, helpKey, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKey, desc))
}

// GlobalKeys work in every view.
type GlobalKeys struct {
	Quit, NextView, PrevView, Views, Command, Search, SearchNext, SearchPrev, Help, Cancel, Back key.Binding
}

func newGlobalKeys() GlobalKeys {
	return GlobalKeys{
		Quit:       bind([]string{"q", "ctrl+c"}, "q", "quit"),
		NextView:   bind([]string{"tab"}, "tab", "next view"),
		PrevView:   bind([]string{"shift+tab"}, "shift+tab", "previous view"),
		Views:      bind([]string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}, "1-9", "view by number"),
		Command:    bind([]string{":"}, ":", "command"),
		Search:     bind([]string{"/"}, "/", "search"),
		SearchNext: bind([]string{"n"}, "n", "next match"),
		SearchPrev: bind([]string{"N"}, "N", "previous match"),
		Help:       bind([]string{"?"}, "?", "help"),
		Cancel:     bind([]string{"esc"}, "esc", "cancel / close"),
		Back:       bind([]string{"ctrl+o", "backspace"}, "ctrl+o/bksp", "jump back"),
	}
}

// ShortHelp is the footer's global part.
func (k GlobalKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.NextView, k.Command, k.Search, k.Back, k.Help, k.Quit}
}

// FullHelp lists every global key.
func (k GlobalKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.NextView, k.PrevView, k.Views, k.Help, k.Quit}, {k.Command, k.Search, k.SearchNext, k.SearchPrev, k.Back, k.Cancel}}
}

// NavKeys move through a list, tree or text.
type NavKeys struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
}

func newNavKeys() NavKeys {
	return NavKeys{
		Up:       bind([]string{"up", "k"}, "↑/k", "up"),
		Down:     bind([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   bind([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown: bind([]string{"pgdown", "ctrl+f", "space"}, "pgdn", "page down"),
		Top:      bind([]string{"g", "home"}, "g", "top"),
		Bottom:   bind([]string{"G", "end"}, "G", "bottom"),
	}
}

func (k NavKeys) list() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
}

// ListKeys is the key map of views that are a scrolling list only
// (Overview, Notes).
type ListKeys struct{ NavKeys }

// ShortHelp implements help.KeyMap.
func (k ListKeys) ShortHelp() []key.Binding { return []key.Binding{k.Down, k.Up, k.PageDown} }

// FullHelp implements help.KeyMap.
func (k ListKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.list()} }

// OverviewKeys scroll the Overview and follow its links.
type OverviewKeys struct {
	NavKeys
	Open key.Binding
}

// ShortHelp implements help.KeyMap.
func (k OverviewKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.Up, k.PageDown, k.Open}
}

// FullHelp implements help.KeyMap.
func (k OverviewKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.list(), {k.Open}} }

// LayoutKeys drive the header tree and its hex pane.
type LayoutKeys struct {
	NavKeys
	Toggle, Open, Close, HexDown, HexUp, Decoded, Explain key.Binding
}

func newLayoutKeys() LayoutKeys {
	return LayoutKeys{
		NavKeys: newNavKeys(),
		Toggle:  bind([]string{"enter"}, "enter", "expand/collapse"),
		Open:    bind([]string{"right", "l"}, "→/l", "expand"),
		Close:   bind([]string{"left", "h"}, "←/h", "collapse / parent"),
		HexDown: bind([]string{"J"}, "J", "scroll hex down"),
		HexUp:   bind([]string{"K"}, "K", "scroll hex up"),
		Decoded: bind([]string{"d"}, "d", "file bytes / decoded page"),
		Explain: bind([]string{"x"}, "x", "explain a pfn"),
	}
}

// ShortHelp implements help.KeyMap.
func (k LayoutKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.Toggle, k.Close, k.HexDown, k.Explain}
}

// FullHelp implements help.KeyMap.
func (k LayoutKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.list(), {k.Toggle, k.Open, k.Close, k.HexDown, k.HexUp}, {k.Explain, k.Decoded}}
}

// VMCoreInfoKeys add the raw-text switch to list keys.
type VMCoreInfoKeys struct {
	NavKeys
	Raw key.Binding
}

// ShortHelp implements help.KeyMap.
func (k VMCoreInfoKeys) ShortHelp() []key.Binding { return []key.Binding{k.Down, k.PageDown, k.Raw} }

// FullHelp implements help.KeyMap.
func (k VMCoreInfoKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.list(), {k.Raw}} }

// CPUKeys switch between vCPUs, move the focus between the registers and
// the code pane, and switch the disassembly's syntax.
type CPUKeys struct {
	NavKeys
	PrevCPU, NextCPU, Focus, Syntax, Open, Code, Memory key.Binding
}

func newCPUKeys() CPUKeys {
	return CPUKeys{NavKeys: newNavKeys(),
		PrevCPU: bind([]string{"[", "left", "h"}, "[/h", "previous CPU"),
		NextCPU: bind([]string{"]", "right", "l"}, "]/l", "next CPU"),
		Focus:   bind([]string{"c"}, "c", "focus registers / code"),
		Syntax:  bind([]string{"i"}, "i", "GNU / Intel syntax"),
		Open:    bind([]string{"enter"}, "enter", "a frame's code (code pane)"),
		Code:    bind([]string{"d"}, "d", "a frame's code (code pane)"),
		Memory:  bind([]string{"m"}, "m", "a frame's stack slot in Memory")}
}

// ShortHelp implements help.KeyMap.
func (k CPUKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.PrevCPU, k.NextCPU, k.Down, k.Focus, k.Open, k.Memory}
}

// FullHelp implements help.KeyMap.
func (k CPUKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.list(), {k.PrevCPU, k.NextCPU, k.Focus, k.Syntax}, {k.Open, k.Code, k.Memory}}
}

// TasksKeys drive the Tasks view: the list, the stack and the code
// panes, the filter, and the modules.
type TasksKeys struct {
	NavKeys
	Left, Right, Open, Code, Memory, Filter, State, Modules, Syntax key.Binding
}

func newTasksKeys() TasksKeys {
	return TasksKeys{NavKeys: newNavKeys(),
		Left:    bind([]string{"left", "h"}, "←/h", "pane left"),
		Right:   bind([]string{"right", "l"}, "→/l", "pane right"),
		Open:    bind([]string{"enter"}, "enter", "stack / code"),
		Code:    bind([]string{"d"}, "d", "frame's code"),
		Memory:  bind([]string{"m"}, "m", "frame's memory"),
		Filter:  bind([]string{"f"}, "f", "filter"),
		State:   bind([]string{"s"}, "s", "next state"),
		Modules: bind([]string{"M"}, "M", "modules/tasks"),
		Syntax:  bind([]string{"i"}, "i", "GNU/Intel")}
}

// ShortHelp implements help.KeyMap.
func (k TasksKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.Right, k.Open, k.Memory, k.Filter, k.State, k.Modules}
}

// FullHelp implements help.KeyMap.
func (k TasksKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.list(), {k.Left, k.Right, k.Open, k.Code, k.Memory, k.Syntax}, {k.Filter, k.State, k.Modules}}
}

// LogKeys move through the kernel log.
type LogKeys struct {
	NavKeys
	Left, Right, Fields, Level, NextReport, PrevReport, Crash key.Binding
}

func newLogKeys() LogKeys {
	return LogKeys{NavKeys: newNavKeys(),
		Left:       bind([]string{"left", "h"}, "←/h", "scroll left"),
		Right:      bind([]string{"right", "l"}, "→/l", "scroll right"),
		Fields:     bind([]string{"d"}, "d", "level and caller / dmesg only"),
		Level:      bind([]string{"f"}, "f", "filter: next level (:level)"),
		NextReport: bind([]string{"]"}, "]", "next report (oops, warning…)"),
		PrevReport: bind([]string{"["}, "[", "previous report"),
		Crash:      bind([]string{"p"}, "p", "the crash (panic or oops)")}
}

// ShortHelp implements help.KeyMap.
func (k LogKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.PageDown, k.Crash, k.NextReport, k.PrevReport, k.Level}
}

// FullHelp implements help.KeyMap.
func (k LogKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.list(), {k.Left, k.Right, k.Fields}, {k.Level, k.Crash, k.NextReport, k.PrevReport}}
}

// MemoryKeys move through physical memory and the minimap.
type MemoryKeys struct {
	Up, Down, Left, Right, PageUp, PageDown, Top, Bottom       key.Binding
	PrevPage, NextPage, PrevRun, NextRun, Focus, Goto, Explain key.Binding
	Mark, Copy, Write                                          key.Binding
}

func newMemoryKeys() MemoryKeys {
	return MemoryKeys{
		Up:       bind([]string{"up", "k"}, "↑/k", "row up / minimap row up"),
		Down:     bind([]string{"down", "j"}, "↓/j", "row down / minimap row down"),
		Left:     bind([]string{"left", "h"}, "←/h", "byte left / minimap cell left"),
		Right:    bind([]string{"right", "l"}, "→/l", "byte right / minimap cell right"),
		PageUp:   bind([]string{"pgup", "ctrl+b"}, "pgup", "screen up"),
		PageDown: bind([]string{"pgdown", "ctrl+f", "space"}, "pgdn", "screen down"),
		Top:      bind([]string{"g", "home"}, "g", "first frame"),
		Bottom:   bind([]string{"G", "end"}, "G", "last frame"),
		PrevPage: bind([]string{"["}, "[", "previous page"),
		NextPage: bind([]string{"]"}, "]", "next page"),
		PrevRun:  bind([]string{"{"}, "{", "previous run"),
		NextRun:  bind([]string{"}"}, "}", "next run"),
		Focus:    bind([]string{"m"}, "m", "focus hex / minimap"),
		Goto:     bind([]string{"p"}, "p", "go to pfn"),
		Explain:  bind([]string{"e"}, "e", "explain page (layout)"),
		Mark:     bind([]string{"v"}, "v", "start / drop a selection"),
		Copy:     bind([]string{"y"}, "y", "copy the selection (or page) as hex"),
		Write:    bind([]string{"w"}, "w", "write the selection (or page) to a file"),
	}
}

// ShortHelp implements help.KeyMap.
func (k MemoryKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.NextPage, k.NextRun, k.PrevRun, k.Focus, k.Goto}
}

// FullHelp implements help.KeyMap.
func (k MemoryKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Left, k.Right, k.PageUp, k.PageDown},
		{k.Top, k.Bottom, k.PrevPage, k.NextPage, k.PrevRun, k.NextRun},
		{k.Focus, k.Goto, k.Explain},
		{k.Mark, k.Copy, k.Write},
	}
}

// ComponentsKeys browse AIX components, entries and their data.
type ComponentsKeys struct {
	NavKeys
	HexDown, HexUp, HexPageDown, HexPageUp key.Binding
}

// ShortHelp implements help.KeyMap.
func (k ComponentsKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.Up, k.HexDown, k.HexUp, k.HexPageDown}
}

// FullHelp implements help.KeyMap.
func (k ComponentsKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.list(), {k.HexDown, k.HexUp, k.HexPageDown, k.HexPageUp}}
}

// VerifyKeys run verify and open what it found.
type VerifyKeys struct {
	NavKeys
	Run, Open key.Binding
}

// ShortHelp implements help.KeyMap.
func (k VerifyKeys) ShortHelp() []key.Binding { return []key.Binding{k.Run, k.Down, k.Open} }

// FullHelp implements help.KeyMap.
func (k VerifyKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.list(), {k.Run, k.Open}} }

// PromptKeys edit the command line and the search line.
type PromptKeys struct {
	Submit, Abort, Left, Right, Home, End, Backspace, Delete, Kill, HistUp, HistDown key.Binding
}

func newPromptKeys() PromptKeys {
	return PromptKeys{
		Submit:    bind([]string{"enter"}, "enter", "run"),
		Abort:     bind([]string{"esc", "ctrl+c"}, "esc", "cancel"),
		Left:      bind([]string{"left", "ctrl+b"}, "←", "cursor left"),
		Right:     bind([]string{"right", "ctrl+f"}, "→", "cursor right"),
		Home:      bind([]string{"home", "ctrl+a"}, "home", "line start"),
		End:       bind([]string{"end", "ctrl+e"}, "end", "line end"),
		Backspace: bind([]string{"backspace", "ctrl+h"}, "bksp", "delete left"),
		Delete:    bind([]string{"delete", "ctrl+d"}, "del", "delete right"),
		Kill:      bind([]string{"ctrl+u"}, "ctrl+u", "clear line"),
		HistUp:    bind([]string{"up"}, "↑", "older command"),
		HistDown:  bind([]string{"down"}, "↓", "newer command"),
	}
}

// ShortHelp implements help.KeyMap.
func (k PromptKeys) ShortHelp() []key.Binding { return []key.Binding{k.Submit, k.Abort, k.HistUp} }

// FullHelp implements help.KeyMap.
func (k PromptKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Submit, k.Abort, k.HistUp, k.HistDown}, {k.Left, k.Right, k.Home, k.End, k.Backspace, k.Delete, k.Kill}}
}
