package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// tasksView lists the crashed kernel's tasks, as `dumpscope ps` does, read
// from its own lists through its BTF (a job, the first time the view is
// shown), and beside the list the selected task's stack as `dumpscope bt`
// unwinds it (stackpane.go). A frame opens its code in a third pane, or
// its memory in the Memory view; ctrl+o comes back. M switches the list
// to the loaded modules (modules.go): they need the same BTF and answer
// the question a frame's [module] raises, and a tenth tab would have no
// number key.
//
// Where the dump gives no task list (a kernel without
// CONFIG_DEBUG_INFO_BTF, memory not in the dump) the view says why and
// lists the CPUs instead, whose stacks unwind from their saved registers
// (ORC, or frame pointers).
type tasksView struct {
	c    *Common
	keys TasksKeys

	load    readJob
	loaded  bool
	table   *taskTable // nil when the dump gives no tasks
	cpus    []int      // without tasks: the CPUs the list shows
	why     error      // why there are no tasks, or why some are missing
	filter  taskFilter
	cursor  int
	top     int
	pending *model.VirtAddr // a task to select once the list is read

	mods modulesState

	stacks stackCache
	stack  listModel
	shown  stackKey // whose stack the pane shows
	// shownFrames: the pane shows frames (not a placeholder or a reason).
	shownFrames bool
	anch        []stackAnchor

	code     frameRef // the frame whose code is shown, when codeOpen
	codeOpen bool
	intel    bool
	codes    map[codeKey]codeResult[*kernel.Disassembly]
	codeList listModel

	focus tasksPane
	g     tasksGeometry
}

// tasksPane names the view's panes, left to right.
type tasksPane int

const (
	paneList tasksPane = iota
	paneStack
	paneCode
)

// stackKey names a stack: a task's (by its task_struct) or, without
// tasks, a CPU's (task 0).
type stackKey struct {
	task model.VirtAddr
	cpu  int
}

// tasksRead is what the load job returns.
type tasksRead struct {
	table *taskTable
	cpus  []int
	err   error
}

func newTasksView(c *Common) *tasksView {
	return &tasksView{c: c, keys: newTasksKeys(), stack: newList(), codeList: newList(),
		stacks: newStackCache(), codes: map[codeKey]codeResult[*kernel.Disassembly]{}}
}

func (v *tasksView) Name() string      { return "tasks" }
func (v *tasksView) Title() string     { return "Tasks" }
func (v *tasksView) Keys() help.KeyMap { return v.keys }
func (v *tasksView) Init() tea.Cmd     { return nil }

// Show reads the tasks the first time the view is shown, and again after
// a cancelled read.
func (v *tasksView) Show() tea.Cmd {
	if v.loaded || v.load.running() {
		return nil
	}
	c := v.c
	cmd := v.load.start(c, "tasks", func(ctx context.Context, progress func(done, total uint64)) (any, error) {
		res, err := c.engineCall(ctx, progress, func(ctx context.Context, k *kernel.Kernel) (any, error) {
			tasks, err := k.Tasks(ctx)
			if tasks != nil {
				return tasksRead{table: newTaskTable(tasks), err: err}, nil
			}
			return tasksRead{err: err}, ctx.Err()
		})
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		r, _ := res.(tasksRead)
		if err != nil {
			r.err = err // the engine cannot run on this dump
		}
		if r.table == nil {
			// The CPUs still unwind from their saved registers.
			sets, _ := c.S.Dump().Registers()
			for _, s := range sets {
				if !slices.Contains(r.cpus, s.CPU) {
					r.cpus = append(r.cpus, s.CPU)
				}
			}
			slices.Sort(r.cpus)
		}
		return r, nil
	})
	v.layout()
	return cmd
}

func (v *tasksView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case jobProgressMsg, jobDoneMsg:
		return v.jobMsg(msg)
	case codeMsg:
		if msg.owner == v.Name() {
			v.codes[msg.key] = codeResult[*kernel.Disassembly]{val: msg.dis, err: msg.err, done: true}
			v.rebuildCode(true)
		}
	case selectTaskMsg:
		return v.selectTask(msg.task)
	case openCodeMsg:
		v.code, v.codeOpen, v.focus = msg.f, true, paneCode
		v.layout()
		return v.openCode()
	case themeMsg:
		v.rebuildStack()
		v.rebuildCode(false)
		v.mods.rebuild(v.c.St, v.g.stackW)
	}
	return nil
}

// jobMsg follows the load, the stacks' and the modules' jobs.
func (v *tasksView) jobMsg(msg tea.Msg) tea.Cmd {
	if cmd, ok := v.load.follow(msg, v.tasksDone); ok {
		return cmd
	}
	if cmd, ok, got := v.stacks.update(msg); ok {
		if got {
			v.rebuildStack()
			return v.selected()
		}
		return cmd
	}
	if cmd, ok := v.mods.update(msg, v.c.St, v.g.stackW); ok {
		v.layout() // the list's width follows its columns
		return cmd
	}
	return nil
}

// tasksDone takes the task list (or why there is none) and selects the
// task asked for while it was read.
func (v *tasksView) tasksDone(d jobDoneMsg) tea.Cmd {
	if d.cancelled() {
		v.load.cancelled = true
		return nil
	}
	r, _ := d.val.(tasksRead)
	v.loaded, v.table, v.cpus, v.why = true, r.table, r.cpus, r.err
	if d.err != nil {
		v.why = d.err
	}
	v.applyFilter()
	v.layout() // the list's width follows its columns
	if v.pending != nil {
		a := *v.pending
		v.pending = nil
		return v.selectTask(a)
	}
	return v.selected()
}

// rows is how many rows the list has.
func (v *tasksView) rows() int {
	switch {
	case v.mods.on:
		return len(v.mods.list)
	case v.table != nil:
		return len(v.table.shown)
	}
	return len(v.cpus)
}

// current names the selected row's stack, and its task (nil for a CPU).
func (v *tasksView) current() (stackKey, *model.Task, bool) {
	if v.cursor >= v.rows() || v.mods.on {
		return stackKey{}, nil, false
	}
	if v.table != nil {
		t := v.table.task(v.cursor)
		return stackKey{task: t.Task, cpu: t.CPU}, t, true
	}
	return stackKey{cpu: v.cpus[v.cursor]}, nil, true
}

// selected shows the selected row's stack, unwinding it unless it is
// known or being unwound; one stack is unwound at a time, the selected
// one when the last is done.
func (v *tasksView) selected() tea.Cmd {
	if v.mods.on {
		v.mods.selectRow(v.cursor, v.c.St, v.g.stackW)
		return nil
	}
	key, t, ok := v.current()
	if !ok {
		v.rebuildStack()
		return nil
	}
	cmd := v.stacks.want(v.c, key, t)
	v.rebuildStack()
	return cmd
}

// moveTo puts the list's cursor on row i.
func (v *tasksView) moveTo(i int) tea.Cmd {
	n := v.rows()
	if n == 0 {
		return nil
	}
	i = clamp(i, 0, n-1)
	changed := i != v.cursor
	v.cursor = i
	v.scrollList()
	if !changed {
		return nil
	}
	return v.selected()
}

func (v *tasksView) scrollList() {
	v.top = scrolledTop(v.cursor, v.top, v.listRows(), v.rows())
}

// selectTask selects a task by address (clearing a filter that hides
// it), or once the list is read.
func (v *tasksView) selectTask(a model.VirtAddr) tea.Cmd {
	if !v.loaded {
		v.pending = &a
		return nil
	}
	if v.table == nil {
		return status("this dump gives no task list: the view lists the CPUs")
	}
	v.mods.on = false
	if v.table.rowOf(a) < 0 && !v.filter.empty() {
		v.filter = taskFilter{}
		v.table.filter(v.filter)
	}
	i := v.table.rowOf(a)
	if i < 0 {
		return status(fmt.Sprintf("no task at %s in the task list", a))
	}
	v.cursor = -1 // make moveTo select it
	v.focus = paneStack
	v.layout()
	return v.moveTo(i)
}

// applyFilter filters the list again and keeps the selected task if it
// is still shown.
func (v *tasksView) applyFilter() {
	if v.table == nil {
		return
	}
	var keep model.VirtAddr
	if _, t, ok := v.current(); ok && t != nil {
		keep = t.Task
	}
	v.table.filter(v.filter)
	v.cursor = 0
	if i := v.table.rowOf(keep); i >= 0 {
		v.cursor = i
	}
	v.top = 0
	v.scrollList()
}

func (v *tasksView) key(msg tea.KeyPressMsg) tea.Cmd {
	k := v.keys
	switch {
	case key.Matches(msg, k.Modules):
		return v.toggleModules()
	case key.Matches(msg, k.Left):
		v.setFocus(v.focus - 1)
		return nil
	case key.Matches(msg, k.Right):
		v.setFocus(v.focus + 1)
		return nil
	case key.Matches(msg, k.Filter):
		return func() tea.Msg { return promptMsg{"filter " + v.filter.String()} }
	case key.Matches(msg, k.State):
		return v.cycleState()
	case key.Matches(msg, k.Syntax):
		v.intel = !v.intel
		return v.openCode()
	case key.Matches(msg, k.Open) && v.focus == paneList:
		v.setFocus(paneStack)
		return nil
	case key.Matches(msg, k.Open), key.Matches(msg, k.Code):
		return v.frameCode()
	case key.Matches(msg, k.Memory):
		return v.frameMemory()
	}
	switch v.focus {
	case paneStack:
		v.rightList().handleKey(msg)
		return nil
	case paneCode:
		v.codeList.handleKey(msg)
		return nil
	}
	return v.listKey(msg)
}

// listKey moves the list's cursor.
func (v *tasksView) listKey(msg tea.KeyPressMsg) tea.Cmd {
	k, page := v.keys, v.listRows()
	switch {
	case key.Matches(msg, k.Up):
		return v.moveTo(v.cursor - 1)
	case key.Matches(msg, k.Down):
		return v.moveTo(v.cursor + 1)
	case key.Matches(msg, k.PageUp):
		v.top = max(v.top-page, 0)
		return v.moveTo(v.cursor - page)
	case key.Matches(msg, k.PageDown):
		v.top = clamp(v.top+page, 0, max(v.rows()-page, 0))
		return v.moveTo(v.cursor + page)
	case key.Matches(msg, k.Top):
		return v.moveTo(0)
	case key.Matches(msg, k.Bottom):
		return v.moveTo(v.rows() - 1)
	}
	return nil
}

// setFocus focuses a pane (the code pane only while it is open).
func (v *tasksView) setFocus(p tasksPane) {
	last := paneStack
	if v.codeOpen {
		last = paneCode
	}
	v.focus = tasksPane(clamp(int(p), int(paneList), int(last)))
	v.layout()
}

// cycleState filters the next state the tasks are in (s), then none.
func (v *tasksView) cycleState() tea.Cmd {
	if v.table == nil || v.mods.on {
		return nil
	}
	v.filter.states = v.table.nextState(v.filter)
	v.applyFilter()
	return v.selected()
}

// toggleModules switches the list between tasks and modules, reading the
// modules the first time.
func (v *tasksView) toggleModules() tea.Cmd {
	v.mods.on = !v.mods.on
	v.cursor, v.top = 0, 0
	v.focus = paneList
	v.codeOpen = false
	var cmd tea.Cmd
	if v.mods.on {
		cmd = v.mods.start(v.c)
	}
	v.layout()
	return tea.Batch(cmd, v.selected())
}

// frameCode opens the selected frame's (or module region's) code in the
// code pane; the place before is remembered, so ctrl+o closes it again.
func (v *tasksView) frameCode() tea.Cmd {
	var f frameRef
	switch {
	case v.mods.on:
		r, ok := v.mods.regionAt()
		if !ok {
			return status("select a text region of the module: d disassembles it")
		}
		f = frameRef{pc: r.Base, label: present.Printable(v.mods.list[v.mods.sel].Name) + " " + r.Kind}
	default:
		bt, a, ok := v.frameAt()
		if !ok || a.frame < 0 {
			return status("select a frame of the stack (l, then j/k): enter or d shows its code")
		}
		f = frameOf(bt.Frames[a.frame])
	}
	return navigate(v.Name(), openCodeMsg{f})
}

// openCodeMsg opens a frame's code in the Tasks view (through navigate,
// which remembers the place before).
type openCodeMsg struct{ f frameRef }

// frameMemory shows the selected frame's stack slot (or register block,
// or module region) in the Memory view.
func (v *tasksView) frameMemory() tea.Cmd {
	if v.mods.on {
		if r, ok := v.mods.regionAt(); ok {
			return navigate("memory", gotoVaddrMsg{r.Base})
		}
		return status("select a region of the module: m shows its memory")
	}
	bt, a, ok := v.frameAt()
	if !ok {
		return status("select a frame of the stack (l, then j/k): m shows its stack slot in Memory")
	}
	return showFrameMemory(bt, a)
}

// frameAt returns the shown stack and the anchor of the stack pane's
// cursor row.
func (v *tasksView) frameAt() (*model.Backtrace, stackAnchor, bool) {
	r, ok := v.stacks.get(v.shown)
	if !ok || r.bt == nil || v.stack.cursor >= len(v.anch) {
		return nil, stackAnchor{}, false
	}
	return r.bt, v.anch[v.stack.cursor], true
}

// openCode shows f's code (reading it unless it is read).
func (v *tasksView) openCode() tea.Cmd {
	if !v.codeOpen {
		return nil
	}
	key := codeKey{v.code.pc, v.intel}
	cmd := readOnce(v.codes, key, disassemble(v.c, v.Name(), key))
	v.rebuildCode(true)
	return cmd
}

// rebuildStack lays out the stack pane (or the module's pane); with the
// same stack shown, the cursor stays, else it goes to the first frame.
func (v *tasksView) rebuildStack() {
	st, w := v.c.St, max(v.g.stackW, 10)
	if v.mods.on {
		v.mods.rebuild(st, w)
		return
	}
	key, _, ok := v.current()
	var lines []render.Line
	v.anch = nil
	switch r, have := v.stacks.get(key); {
	case !ok:
		lines = []render.Line{{st.dim.Span(v.emptyText())}}
	case !have:
		lines = []render.Line{{st.dim.Span("unwinding… (esc cancels)")}}
	case r.err != nil:
		lines = whyLines(st, "no stack: it cannot be unwound", r.err, w)
	default:
		lines, v.anch = backtraceLines(st, r.bt, w)
	}
	// The cursor stays on the same stack; a stack shown for the first
	// time (after "unwinding…") starts on its first frame.
	same := key == v.shown && v.shownFrames
	v.shown, v.shownFrames = key, len(v.anch) > 0
	v.stack.setLines(lines)
	if !same {
		first := 0
		for i, a := range v.anch {
			if a.frame >= 0 {
				first = i
				break
			}
		}
		v.stack.top = 0
		v.stack.moveTo(first)
	}
}

// emptyText says why no stack is shown.
func (v *tasksView) emptyText() string {
	switch {
	case !v.loaded:
		return "reading the tasks…"
	case v.rows() == 0 && v.table != nil:
		return "no task matches the filter (f changes it)"
	}
	return "nothing to unwind"
}

// rebuildCode lays out the code pane; with recentre the marked
// instruction is brought into view.
func (v *tasksView) rebuildCode(recentre bool) {
	if !v.codeOpen {
		return
	}
	st, w := v.c.St, max(v.g.codeW, 10)
	var lines []render.Line
	marked := -1
	switch d := v.codes[codeKey{v.code.pc, v.intel}]; {
	case !d.done:
		lines = []render.Line{{st.dim.Span("disassembling…")}}
	case d.err != nil:
		lines = whyLines(st, "no code: the instructions cannot be read", d.err, w)
	default:
		lines, marked = codeLines(st, d.val, w, v.code.ret)
	}
	v.codeList.setLines(lines)
	if recentre && marked >= 0 {
		v.codeList.top = max(marked-v.codeList.h/3, 0)
		v.codeList.moveTo(marked)
	}
}

// Commands adds :filter and :task.
func (v *tasksView) Commands() []Command {
	return []Command{
		{Name: "filter", Args: "[WORDS]", Help: "show only tasks in a state (RU UN …), named with a word, with a pid, or running (>); none: all", Run: func(a string) (tea.Cmd, error) {
			if v.table == nil {
				return nil, errors.New("there is no task list to filter")
			}
			v.mods.on = false
			v.filter = parseTaskFilter(a)
			v.applyFilter()
			v.layout()
			return v.selected(), nil
		}},
		{Name: "task", Args: "PID|ADDR", Jump: true, Help: "select a task by pid, or by task_struct address", Run: func(a string) (tea.Cmd, error) {
			n, err := present.ParseNumber(a)
			if err != nil {
				return nil, err
			}
			if v.table == nil {
				return nil, errors.New("there is no task list (the Tasks view says why)")
			}
			for i := range v.table.tasks {
				if t := &v.table.tasks[i]; t.PID == int64(n) || uint64(t.Task) == n {
					return v.selectTask(t.Task), nil
				}
			}
			return nil, fmt.Errorf("no task with pid or address %s", a)
		}},
	}
}

// Search finds a task (pid, address, state, name) in the list, or text in
// the focused pane.
func (v *tasksView) Search(q string, d searchDir) tea.Cmd {
	switch {
	case v.focus == paneStack:
		return searchStatus(q, v.rightList().search(q, d))
	case v.focus == paneCode:
		return searchStatus(q, v.codeList.search(q, d))
	case v.table == nil || v.mods.on:
		return status("search the stack: l focuses it")
	}
	i, ok := findLine(len(v.table.shown), v.cursor, q, d, v.table.text)
	if !ok {
		return status("no task matches " + q)
	}
	return v.moveTo(i)
}

// Cancel closes the code pane, or stops a read.
func (v *tasksView) Cancel() bool {
	if v.codeOpen {
		v.codeOpen = false
		v.setFocus(min(v.focus, paneStack))
		return true
	}
	return v.stacks.stop() || v.load.stop() || v.mods.job.stop()
}

// Status says which row is selected and what is read.
func (v *tasksView) Status() string {
	switch {
	case v.load.running():
		return fmt.Sprintf("reading the tasks: %d pages read (esc cancels)", v.load.doneN)
	case v.mods.job.running():
		return "reading the modules… (esc cancels)"
	case v.stacks.job.running():
		return fmt.Sprintf("unwinding: %d pages read (esc cancels)", v.stacks.job.doneN)
	case v.mods.on:
		return fmt.Sprintf("module %d of %d", min(v.cursor+1, v.rows()), v.rows())
	case v.table != nil:
		s := fmt.Sprintf("task %d of %d", min(v.cursor+1, v.rows()), v.rows())
		if !v.filter.empty() {
			s += fmt.Sprintf(" (filter %q, %d tasks in all)", v.filter.String(), len(v.table.tasks))
		}
		return s
	}
	return ""
}

// tasksPlace is a position of the view, for the jump history.
type tasksPlace struct {
	modules       bool
	filter        string
	cursor        int
	task          model.VirtAddr
	stackCursor   int
	focus         tasksPane
	code          frameRef
	codeOpen      bool
	intel         bool
	codeTop, line int
}

// Location implements Locator.
func (v *tasksView) Location() any {
	p := tasksPlace{modules: v.mods.on, filter: v.filter.String(), cursor: v.cursor, stackCursor: v.stack.cursor,
		focus: v.focus, code: v.code, codeOpen: v.codeOpen, intel: v.intel, codeTop: v.codeList.top, line: v.codeList.cursor}
	if _, t, ok := v.current(); ok && t != nil {
		p.task = t.Task
	}
	return p
}

// Restore implements Locator.
func (v *tasksView) Restore(loc any) tea.Cmd {
	p, ok := loc.(tasksPlace)
	if !ok {
		return nil
	}
	v.mods.on = p.modules
	if v.table != nil && p.filter != v.filter.String() {
		v.filter = parseTaskFilter(p.filter)
		v.table.filter(v.filter)
	}
	v.cursor = clamp(p.cursor, 0, max(v.rows()-1, 0))
	if v.table != nil && !p.modules {
		if i := v.table.rowOf(p.task); i >= 0 {
			v.cursor = i
		}
	}
	v.scrollList()
	v.code, v.codeOpen, v.intel, v.focus = p.code, p.codeOpen, p.intel, p.focus
	v.layout()
	cmd := v.selected()
	v.stack.moveTo(p.stackCursor)
	cmds := []tea.Cmd{cmd, v.openCode()}
	v.codeList.top = p.codeTop
	v.codeList.moveTo(p.line)
	return tea.Batch(cmds...)
}
