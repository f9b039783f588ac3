package ui

import (
	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"dumpscope/model"
	"dumpscope/reader"
)

// View is one screen of the UI (Overview, Layout, Memory, ...). The root
// model owns the views, draws the active one between the header and the
// footer, and routes messages:
//
//   - key presses and mouse events (with Y relative to the view's top) go
//     to the active view only: to its key and mouse methods when it has
//     them (keyer, mouser), else to Update;
//   - every other message goes to every view, so a view must ignore
//     messages that are not its own (its results carry its job ids or its
//     own message types).
//
// Views are pointers, updated in place. Update and View never do I/O:
// anything that reads the dump runs in a tea.Cmd and comes back as a
// message.
type View interface {
	// Name is the lower-case name `:view NAME` takes.
	Name() string
	// Title is the tab label.
	Title() string
	// Init starts the view's first loads; the root calls it once when the
	// dump is ready (after an Indexer's pass).
	Init() tea.Cmd
	// Update handles a message.
	Update(msg tea.Msg) tea.Cmd
	// View draws the view in exactly the size SetSize gave.
	View() string
	// SetSize gives the view its size in cells.
	SetSize(width, height int)
	// Keys is the view's key map, for the footer and `?`.
	Keys() help.KeyMap
}

// Optional abilities a view may have; the root checks for them.
type (
	// Shower is told each time the view becomes the active one (the
	// Memory view starts its minimap pass the first time).
	Shower interface{ Show() tea.Cmd }
	// Searcher searches the view's content for `/`, `n` and `N`.
	Searcher interface {
		Search(query string, dir searchDir) tea.Cmd
	}
	// Commander adds `:` commands.
	Commander interface{ Commands() []Command }
	// Canceler stops the view's long work on esc; it reports whether
	// there was any.
	Canceler interface{ Cancel() bool }
	// Statuser adds a view's own status (position, progress) to the
	// status line.
	Statuser interface{ Status() string }
	// keyer takes the key presses in a method of its own, so that Update
	// is left the view's other messages.
	keyer interface{ key(tea.KeyPressMsg) tea.Cmd }
	// mouser takes the mouse events in a method of its own.
	mouser interface{ mouse(tea.MouseMsg) tea.Cmd }
	// Locator has a position the user jumps away from when following a
	// link (a `:pfn`, an explanation, a find hit, a verify problem) and
	// back to with ctrl+o or backspace: Memory's cursor, Layout's field.
	Locator interface {
		// Location returns the position, a value only the view reads.
		Location() any
		// Restore goes back to a position Location gave.
		Restore(loc any) tea.Cmd
	}
)

// The views whose Update leaves them their input: were one's key or mouse
// method to change its signature, that input would fall to Update unseen.
var _ = []interface {
	keyer
	mouser
}{(*cpusView)(nil), (*layoutView)(nil), (*logView)(nil), (*memoryView)(nil), (*tasksView)(nil)}

// searchDir says which match Search should go to.
type searchDir int

const (
	searchNew  searchDir = iota // a new query: first match from the cursor on
	searchNext                  // n
	searchPrev                  // N
)

// Command is one `:` command.
type Command struct {
	// Name is the word typed after ':'.
	Name string
	// Args describes the arguments for help ("N", "ADDR", "TEXT").
	Args string
	// Help says what the command does.
	Help string
	// View, when set, is the view the command shows before it runs.
	View string
	// Jump marks commands that move to another place (a frame, an
	// address, a match, a field): the root remembers where the user was,
	// for ctrl+o and backspace.
	Jump bool
	// Run does the command with the rest of the line.
	Run func(args string) (tea.Cmd, error)
}

// ViewSpec registers a view: the root builds one View per spec whose
// Available accepts the dump, in order; tabs and number keys follow that
// order. Adding a view (a Log view, say) is one ViewSpec in DefaultViews
// and one file with its model.
type ViewSpec struct {
	Name string
	// Available reports whether the view applies to this dump (nil: it
	// always does). It may look at Info and the session, not read.
	Available func(c *Common) bool
	// New builds the view.
	New func(c *Common) View
}

// DefaultViews lists the views of dumpscope in tab order.
func DefaultViews() []ViewSpec {
	return []ViewSpec{
		{Name: "overview", New: func(c *Common) View { return newOverview(c) }},
		{Name: "layout", New: func(c *Common) View { return newLayoutView(c) }},
		{Name: "notes", New: func(c *Common) View { return newNotesView(c) }, Available: linuxKernel},
		{Name: "vmcoreinfo", New: func(c *Common) View { return newVMCoreInfoView(c) }, Available: linuxKernel},
		{Name: "cpus", New: func(c *Common) View { return newCPUsView(c) }, Available: linuxKernel},
		{Name: "tasks", New: func(c *Common) View { return newTasksView(c) }, Available: linuxKernel},
		{Name: "memory", New: func(c *Common) View { return newMemoryView(c) }},
		{Name: "log", New: func(c *Common) View { return newLogView(c) }, Available: linuxKernel},
		{Name: "components", New: func(c *Common) View { return newComponentsView(c) }, Available: areas},
		{Name: "verify", New: func(c *Common) View { return newVerifyView(c) }},
	}
}

// linuxKernel accepts the dumps of a Linux kernel: every format but AIX
// system dumps, which carry no ELF notes, no VMCOREINFO, no CPU registers
// and no Linux log.
func linuxKernel(c *Common) bool { return c.Info.Format != model.FormatAIX }

// areas accepts dumps made of named memory areas (reader.AreaReader).
func areas(c *Common) bool { _, ok := c.S.Dump().(reader.AreaReader); return ok }

// Messages the views and the root exchange.
type (
	// statusMsg shows a line in the status bar.
	statusMsg string
	// errMsg shows an error in the status bar.
	errMsg struct{ err error }
	// navigateMsg makes View the active view and then gives it Msg (which
	// may be nil).
	navigateMsg struct {
		View string
		Msg  tea.Msg
	}
	// promptMsg opens the command line with text typed in already.
	promptMsg struct{ text string }
	// themeMsg tells views the theme changed (views caching styled text
	// redraw it).
	themeMsg struct{}
	// countedMsg tells views the frame counts are known (Common.Info.Pages,
	// or Common.CountErr).
	countedMsg struct{}
	// infoMsg brings what the headers say, read again by a job (after a
	// VMCOREINFO was recovered from memory, after verify); the root keeps
	// it in Common.Info and tells the views.
	infoMsg struct{ info model.Info }
	// gotoPhysMsg moves the Memory view to a physical address.
	gotoPhysMsg struct{ addr model.PhysAddr }
	// explainMsg asks the Layout view to explain a frame.
	explainMsg struct{ pfn model.PFN }
	// locateMsg asks the Layout view to select the field at a file offset.
	locateMsg struct {
		file string
		off  int64
	}
	// gotoVaddrMsg asks the Memory view to translate a kernel virtual
	// address and show its frame (as :vaddr does).
	gotoVaddrMsg struct{ va model.VirtAddr }
	// selectTaskMsg asks the Tasks view to select a task by its
	// task_struct address.
	selectTaskMsg struct{ task model.VirtAddr }
	// selectCPUMsg asks the CPUs view to show a CPU (the dump's index).
	selectCPUMsg struct{ cpu int }
	// logJumpMsg asks the Log view to go to the record with a sequence
	// number.
	logJumpMsg struct{ seq uint64 }
)

func status(format string) tea.Cmd {
	return func() tea.Msg { return statusMsg(format) }
}

func errorCmd(err error) tea.Cmd {
	return func() tea.Msg { return errMsg{err} }
}

func navigate(view string, msg tea.Msg) tea.Cmd {
	return func() tea.Msg { return navigateMsg{View: view, Msg: msg} }
}
