package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/themes"
	"dumpscope/ui/render"
)

// Options configure the UI.
type Options struct {
	// Theme names the theme (themes.Names); "" or "auto" follows the
	// terminal background: COLORFGBG's until the terminal answers the
	// background query, dark when neither says (the dark theme reads on
	// either background).
	Theme string
	// ColorFGBG is the COLORFGBG environment variable (see
	// themes.DarkFromCOLORFGBG).
	ColorFGBG string
	// Views lists the views; nil means DefaultViews().
	Views []ViewSpec
	// VMCoreInfoSearch, when not nil, relays the session's search of
	// memory for VMCOREINFO (its Report is the session's
	// inspect.Options.RecoverProgress): the status line shows it and esc
	// stops it.
	VMCoreInfoSearch *Progress
}

// Model is the root model: header, tabs, the active view, status line and
// key help. It owns the views and the Common they share, and is the only
// model that returns a tea.View.
type Model struct {
	c      *Common
	cancel context.CancelFunc
	keys   GlobalKeys
	views  []View
	active int

	prompt     prompt
	lastSearch string
	history    []place
	helpOpen   bool
	helpList   listModel
	help       help.Model

	status, errText string
	width, height   int
	themeFixed      bool
	index, count    *job
	started         bool
	// vmciSearch is the last report of the search of memory for VMCOREINFO.
	vmciSearch searchMsg
}

// FrameRate is the frame rate to run the program at (tea.WithFPS). Bubble
// Tea draws on a ticker at this rate for as long as the program runs, even
// when nothing changes (tea.go, startRenderer); it is the only timer that
// runs while the UI is idle, so it is kept as low as keeps typing and
// scrolling smooth.
const FrameRate = 20

// Layout of the screen: header and tabs on top, status and key help at the
// bottom, the active view in between.
const (
	headerRows = 2
	footerRows = 2
)

// New builds the UI for a dump opened for inspection. It reads nothing
// but what the session already holds: the frame counts, which may scan
// bitmaps, are a job Init starts, so opening costs the same for any size.
func New(ctx context.Context, s *inspect.Session, opts Options) *Model {
	ctx, cancel := context.WithCancel(ctx)
	c := &Common{Ctx: ctx, S: s, Info: s.Info(), Counting: true, Search: opts.VMCoreInfoSearch}
	m := &Model{c: c, cancel: cancel, keys: newGlobalKeys(), prompt: newPrompt(), helpList: newList(), help: help.New(), width: 80, height: 24}
	th := themes.Dark()
	if dark, ok := themes.DarkFromCOLORFGBG(opts.ColorFGBG); ok {
		th = themes.New(dark)
	}
	if opts.Theme != "" && opts.Theme != "auto" {
		if t, ok := themes.ByName(opts.Theme, true); ok {
			th, m.themeFixed = t, true
		}
	}
	m.applyTheme(th)
	specs := opts.Views
	if specs == nil {
		specs = DefaultViews()
	}
	for _, spec := range specs {
		if spec.Available == nil || spec.Available(c) {
			m.views = append(m.views, spec.New(c))
		}
	}
	m.layout()
	return m
}

// Init asks the terminal for its background colour and starts the dump's
// index pass (flattened streams only) or, without one, the frame count
// and the views' loads.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor}
	if m.c.Search != nil {
		cmds = append(cmds, m.c.Search.wait(m.c.Ctx))
	}
	if s := m.c.S; s.NeedsIndex() {
		var cmd tea.Cmd
		m.index, cmd = startJob(m.c.Ctx, "indexing", func(ctx context.Context, progress func(done, total uint64)) (any, error) {
			_, err := s.Index(ctx, func(done, total int64) { progress(uint64(max(done, 0)), uint64(max(total, 0))) })
			// Indexing a container completes what its headers say
			// (problems, the sub-header), even when it stopped part-way.
			s.RefreshInfo()
			return s.Info(), err
		})
		cmds = append(cmds, cmd)
	} else {
		cmds = append(cmds, m.start())
	}
	return tea.Batch(cmds...)
}

// start counts the frames and runs the views' Init once the dump is
// ready, and shows the first view.
func (m *Model) start() tea.Cmd {
	if m.started {
		return nil
	}
	m.started = true
	cmds := make([]tea.Cmd, 0, len(m.views)+2)
	cmds = append(cmds, m.startCount())
	for _, v := range m.views {
		cmds = append(cmds, v.Init())
	}
	cmds = append(cmds, m.show(m.active))
	return tea.Batch(cmds...)
}

// startCount counts the frames by state (Session.Counts) in a job; the
// header and the Overview say "counting…" until countsMsg arrives.
func (m *Model) startCount() tea.Cmd {
	s := m.c.S
	var cmd tea.Cmd
	m.count, cmd = startJob(m.c.Ctx, "counting frames", func(ctx context.Context, _ func(done, total uint64)) (any, error) {
		return s.Counts(ctx)
	})
	return cmd
}

// indexed takes the Info an index pass completed and starts the views.
func (m *Model) indexed(d jobDoneMsg) tea.Cmd {
	if d.err != nil && !d.cancelled() {
		m.errText = m.index.name + ": " + errText(d.err)
	}
	if in, ok := d.val.(model.Info); ok {
		m.c.Info = in
	}
	return m.start()
}

// counted records the frame counts (or why there are none) and tells the
// views.
func (m *Model) counted(d jobDoneMsg) tea.Cmd {
	m.c.Counting = false
	switch {
	case d.cancelled():
		m.c.CountErr = errors.New("counting was cancelled")
	case d.err != nil:
		m.c.CountErr = d.err
	default:
		m.c.Info.Pages, _ = d.val.(model.StateCounts)
	}
	return m.broadcast(countedMsg{})
}

// applyTheme switches the theme of every view and of the key help.
func (m *Model) applyTheme(t themes.Theme) {
	m.c.SetTheme(t)
	st := m.c.St
	m.help.Styles.ShortKey = st.helpKey
	m.help.Styles.ShortDesc = st.helpDesc
	m.help.Styles.ShortSeparator = st.helpSep
	m.help.Styles.Ellipsis = st.helpSep
	m.help.Styles.FullKey = st.helpKey
	m.help.Styles.FullDesc = st.helpDesc
	m.help.Styles.FullSeparator = st.helpSep
}

// Close stops every job; call it after the program ends.
func (m *Model) Close() { m.cancel() }

// Update handles a message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		if !m.themeFixed {
			m.applyTheme(themes.New(msg.IsDark()))
			return m, m.broadcast(themeMsg{})
		}
		return m, nil
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case tea.PasteMsg:
		if m.prompt.active() {
			m.prompt.paste(msg.Content)
		}
		return m, nil
	case tea.MouseMsg:
		return m, m.mouse(msg)
	case statusMsg:
		m.status, m.errText = string(msg), ""
		return m, nil
	case errMsg:
		m.errText = errText(msg.err)
		return m, nil
	case navigateMsg:
		return m, m.navigate(msg)
	case promptMsg:
		m.prompt.open(":", msg.text)
		return m, nil
	case searchMsg:
		m.vmciSearch = msg
		return m, m.c.Search.wait(m.c.Ctx)
	case infoMsg:
		// What the headers say, completed (a VMCOREINFO recovered from
		// memory names the release; verify reads a container whole).
		pages := m.c.Info.Pages
		m.c.Info = msg.info
		m.c.Info.Pages = pages
		return m, m.broadcast(msg)
	case jobProgressMsg, jobDoneMsg:
		if cmd, ok := followJobs(msg, jobDone{m.index, m.indexed}, jobDone{m.count, m.counted}); ok {
			return m, cmd
		}
	}
	return m, m.broadcast(msg)
}

// broadcast gives a message to every view.
func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.views))
	for _, v := range m.views {
		cmds = append(cmds, v.Update(msg))
	}
	return tea.Batch(cmds...)
}

// key handles a key press: the prompt and the help page first, then the
// global keys, then the active view.
func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	m.status, m.errText = "", ""
	if m.prompt.active() {
		kind := m.prompt.kind
		res, text := m.prompt.update(msg)
		if res != promptSubmitted || text == "" {
			return nil
		}
		if kind == "/" {
			m.lastSearch = text
			return m.search(searchNew)
		}
		return m.runCommand(text)
	}
	k := m.keys
	if m.helpOpen {
		switch {
		case key.Matches(msg, k.Help), key.Matches(msg, k.Cancel), msg.String() == "q":
			m.helpOpen = false
		case msg.String() == "ctrl+c":
			return m.quit()
		default:
			m.helpList.handleKey(msg)
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.NextView):
		return m.show((m.active + 1) % len(m.views))
	case key.Matches(msg, k.PrevView):
		return m.show((m.active + len(m.views) - 1) % len(m.views))
	case key.Matches(msg, k.Views):
		if i := int(msg.Code - '1'); i >= 0 && i < len(m.views) {
			return m.show(i)
		}
		return nil
	case key.Matches(msg, k.Command):
		m.prompt.open(":", "")
		return nil
	case key.Matches(msg, k.Search):
		m.prompt.open("/", "")
		return nil
	case key.Matches(msg, k.SearchNext):
		return m.search(searchNext)
	case key.Matches(msg, k.SearchPrev):
		return m.search(searchPrev)
	case key.Matches(msg, k.Back):
		return m.jumpBack()
	case key.Matches(msg, k.Help):
		m.openHelp()
		return nil
	case key.Matches(msg, k.Cancel):
		if c, ok := m.views[m.active].(Canceler); ok && c.Cancel() {
			m.status = "cancelled"
		} else if m.searching() && m.c.builds.stop() {
			m.status = "the search of memory for VMCOREINFO was cancelled"
		} else if m.index.stop() {
			m.status = m.index.name + " cancelled"
		} else if m.count.stop() {
			m.status = m.count.name + " cancelled"
		}
		return nil
	}
	if v, ok := m.views[m.active].(keyer); ok {
		return v.key(msg)
	}
	return m.views[m.active].Update(msg)
}

func (m *Model) quit() tea.Cmd {
	m.cancel()
	return tea.Quit
}

// ownSearcher is a Searcher with a search of its own besides the last `/`
// query (Memory's :find and :findhex), which n and N continue.
type ownSearcher interface {
	hasSearch() bool
}

// search runs the last `/` query in the active view, or continues the
// view's own search.
func (m *Model) search(dir searchDir) tea.Cmd {
	if m.lastSearch == "" {
		if o, ok := m.views[m.active].(ownSearcher); !ok || !o.hasSearch() {
			m.status = "no search yet: type / and a text"
			return nil
		}
	}
	s, ok := m.views[m.active].(Searcher)
	if !ok {
		m.status = m.views[m.active].Title() + " has nothing to search"
		return nil
	}
	if _, ok := s.(Locator); ok {
		m.remember() // a match is a place to come back from
	}
	return s.Search(m.lastSearch, dir)
}

// show makes view i the active one.
func (m *Model) show(i int) tea.Cmd {
	m.active = i
	if s, ok := m.views[i].(Shower); ok && m.started {
		return s.Show()
	}
	return nil
}

// navigate follows a link: it remembers the place, shows a view by name
// and gives it a message.
func (m *Model) navigate(msg navigateMsg) tea.Cmd {
	i := m.viewIndex(msg.View)
	if i < 0 {
		m.errText = fmt.Sprintf("this dump has no %s view", msg.View)
		return nil
	}
	m.remember()
	cmd := m.show(i)
	if msg.Msg == nil {
		return cmd
	}
	return tea.Batch(cmd, m.views[i].Update(msg.Msg))
}

// viewIndex finds a view by name, title or number; -1 if none.
func (m *Model) viewIndex(name string) int {
	name = strings.ToLower(strings.TrimSpace(name))
	for i, v := range m.views {
		if v.Name() == name || strings.ToLower(v.Title()) == name || fmt.Sprint(i+1) == name {
			return i
		}
	}
	for i, v := range m.views {
		if name != "" && strings.HasPrefix(v.Name(), name) {
			return i
		}
	}
	return -1
}

// mouse handles clicks on the tabs and gives other events to the active
// view, with Y relative to the view's first row.
func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	mo := msg.Mouse()
	if m.prompt.active() || m.helpOpen {
		if m.helpOpen {
			m.helpList.mouse(msg, mo.Y-headerRows)
		}
		return nil
	}
	if _, click := msg.(tea.MouseClickMsg); click && mo.Y == 1 {
		for i, r := range m.tabRanges() {
			if mo.X >= r[0] && mo.X < r[1] {
				return m.show(i)
			}
		}
		return nil
	}
	if mo.Y < headerRows || mo.Y >= m.height-footerRows {
		return nil
	}
	msg = shiftMouse(msg, -headerRows)
	if v, ok := m.views[m.active].(mouser); ok {
		return v.mouse(msg)
	}
	return m.views[m.active].Update(msg)
}

// shiftMouse moves a mouse event's Y.
func shiftMouse(msg tea.MouseMsg, dy int) tea.MouseMsg {
	switch e := msg.(type) {
	case tea.MouseClickMsg:
		e.Y += dy
		return e
	case tea.MouseReleaseMsg:
		e.Y += dy
		return e
	case tea.MouseWheelMsg:
		e.Y += dy
		return e
	case tea.MouseMotionMsg:
		e.Y += dy
		return e
	}
	return msg
}

// layout gives every view the body's size.
func (m *Model) layout() {
	w, h := m.bodySize()
	for _, v := range m.views {
		v.SetSize(w, h)
	}
	m.helpList.setSize(w, h)
	m.help.SetWidth(w)
}

func (m *Model) bodySize() (int, int) {
	return max(m.width, 1), max(m.height-headerRows-footerRows, 1)
}

// View draws the screen.
func (m *Model) View() tea.View {
	st := m.c.St
	w, h := m.bodySize()
	var body string
	if m.helpOpen {
		body = m.helpList.view(st, true)
	} else {
		body = m.views[m.active].View()
	}
	parts := []string{m.headerLine(w), m.tabLine(w), render.Block(strings.Split(body, "\n"), w, h)}
	parts = append(parts, m.footer(w)...)
	v := tea.NewView(strings.Join(parts, "\n"))
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "dumpscope " + m.fileLabel()
	return v
}

// fileLabel names the dump's file(s) briefly.
func (m *Model) fileLabel() string {
	files := m.c.Info.Files
	if len(files) == 0 {
		return "(no file)"
	}
	s := filepath.Base(files[0])
	if strings.HasPrefix(files[0], "demo:") {
		s = files[0]
	}
	if len(files) > 1 {
		s += " +" + present.Count(len(files)-1, "part")
	}
	return s
}

// headerLine: file, format, arch, OSRELEASE, page size, frames present.
func (m *Model) headerLine(w int) string {
	st, in := m.c.St, m.c.Info
	rel := in.OSRelease
	if rel == "" {
		rel = "release unknown"
	}
	format := string(in.Format)
	if in.Container == model.ContainerFlattened {
		format += " (flattened)"
	}
	present := fmt.Sprintf("%d/%d", in.Pages[model.StatePresent], in.MaxPFN)
	switch {
	case m.c.Counting:
		present = "counting…"
	case m.c.CountErr != nil:
		present = "?"
	}
	k, v := st.headerKey, st.header
	// The long form labels every fact; the short one drops the labels.
	// The file name gets what room is left.
	facts := render.Line{k.Span("  format "), v.Span(format), k.Span("  arch "), v.Span(in.Arch),
		k.Span("  kernel "), v.Span(rel), k.Span("  page "), v.Span(fmt.Sprint(in.PageSize)),
		k.Span("  present "), v.Span(present)}
	file := m.fileLabel()
	if render.Width(facts.Plain())+render.Width(file)+1 > w {
		facts = render.Line{k.Span(" · "), v.Span(format), k.Span(" · "), v.Span(in.Arch), k.Span(" · "), v.Span(rel),
			k.Span(" · page "), v.Span(fmt.Sprint(in.PageSize)), k.Span(" · present "), v.Span(present)}
	}
	room := max(w-render.Width(facts.Plain())-1, 12)
	l := append(render.Line{v.Span(" " + render.CutMiddle(file, room))}, facts...)
	l = append(l, v.Span(strings.Repeat(" ", w)))
	return l.Render(w, nil)
}

// tabRanges returns each tab's [start, end) columns in the tab line.
func (m *Model) tabRanges() [][2]int {
	labels := m.tabLabels()
	out := make([][2]int, len(labels))
	x := 0
	for i, l := range labels {
		out[i] = [2]int{x, x + render.Width(l)}
		x += render.Width(l) + 1
	}
	return out
}

// tabLabels are " 1 Title " per view. When they do not fit, the other
// tabs drop their padding ("2 Layout"), then the tabs farthest from the
// active one drop their titles ("9"), one at a time; the active tab keeps
// its whole title, and a title is never cut.
func (m *Model) tabLabels() []string {
	labels := make([]string, len(m.views))
	total := func() int {
		n := -1
		for _, l := range labels {
			n += render.Width(l) + 1
		}
		return n
	}
	for i, v := range m.views {
		labels[i] = fmt.Sprintf(" %d %s ", i+1, v.Title())
	}
	if total() <= m.width {
		return labels
	}
	for i, v := range m.views {
		if i != m.active {
			labels[i] = fmt.Sprintf("%d %s", i+1, v.Title())
		}
	}
	// Farthest first; of two at the same distance, the later one.
	for d := len(m.views); d > 0 && total() > m.width; d-- {
		for _, i := range []int{m.active + d, m.active - d} {
			if i >= 0 && i < len(m.views) && total() > m.width {
				labels[i] = fmt.Sprint(i + 1)
			}
		}
	}
	return labels
}

func (m *Model) tabLine(w int) string {
	st := m.c.St
	var l render.Line
	for i, lab := range m.tabLabels() {
		p := st.tabOff
		if i == m.active {
			p = st.tabOn
		}
		if i > 0 {
			l = append(l, render.Text(" "))
		}
		l = append(l, p.Span(lab))
	}
	return l.Render(w, nil)
}

// statusLine shows the prompt while it is open; otherwise an error, a
// message or the view's own status.
func (m *Model) statusLine(w int) string {
	st := m.c.St
	if m.prompt.active() {
		return m.prompt.view(st, w)
	}
	l := m.message()
	right := ""
	if s, ok := m.views[m.active].(Statuser); ok && !m.helpOpen {
		right = s.Status()
	}
	switch {
	case m.searching():
		pct := 100 * float64(m.vmciSearch.done) / float64(m.vmciSearch.total)
		right = fmt.Sprintf("no VMCOREINFO note: searching memory for it %s %.0f%% (esc cancels)", progressBar(pct, 12), pct)
	case m.index.running():
		right = fmt.Sprintf("%s %s %.0f%% (esc cancels)", m.index.name, progressBar(m.index.percent(), 12), m.index.percent())
	case m.count.running() && right == "":
		right = m.count.name + "… (esc cancels)"
	}
	if right != "" {
		lw := render.Width(l.Plain())
		rw := render.Width(right)
		if lw+rw+2 <= w {
			l = append(l, render.Text(strings.Repeat(" ", w-lw-rw)), st.dim.Span(right))
		} else if lw == 0 {
			l = render.Line{st.dim.Span(right)}
		}
	}
	return l.Render(w, nil)
}

// searching reports whether the session is searching memory for
// VMCOREINFO.
func (m *Model) searching() bool { return m.vmciSearch.done < m.vmciSearch.total }

// message is the error or the message of the status line, if any.
func (m *Model) message() render.Line {
	st := m.c.St
	switch {
	case m.errText != "":
		return render.Line{st.err.Span("error: "), st.err.Span(m.errText)}
	case m.status != "":
		return render.Line{st.status.Span(m.status)}
	}
	return nil
}

// footer is the status line and the key help; a message too long for one
// line (a file name, an error) takes the key help's line too, so that it
// is read whole.
func (m *Model) footer(w int) []string {
	msg := m.message()
	if m.prompt.active() || render.Width(msg.Plain()) <= w {
		return []string{m.statusLine(w), m.keyLine(w)}
	}
	p := msg[len(msg)-1].Pen
	text := render.Wrap(msg.Plain(), w)
	if len(text) > footerRows {
		text[footerRows-1] = render.Cut(text[footerRows-1]+" "+strings.Join(text[footerRows:], " "), w)
		text = text[:footerRows]
	}
	out := make([]string, footerRows)
	for i := range out {
		if i < len(text) {
			out[i] = render.Line{p.Span(text[i])}.Render(w, nil)
		} else {
			out[i] = strings.Repeat(" ", w)
		}
	}
	return out
}

// keyLine is the key help of the active view (or the prompt) followed by
// the global keys.
func (m *Model) keyLine(w int) string {
	var b []key.Binding
	switch {
	case m.prompt.active():
		b = m.prompt.keys.ShortHelp()
	case m.helpOpen:
		b = []key.Binding{m.keys.Help, m.keys.Cancel}
	default:
		b = append(m.views[m.active].Keys().ShortHelp(), m.keys.ShortHelp()...)
	}
	return render.Fit(m.help.ShortHelpView(b), w)
}

// Active returns the name of the active view (for tests and callers).
func (m *Model) Active() string { return m.views[m.active].Name() }
