package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"dumpscope/model"
	"dumpscope/ui/render"
)

// The Tasks view's stacks and panes: the stacks unwound so far, and where
// the list, the stack and the code panes go on the screen.

// maxStacks bounds the stacks kept; the oldest are forgotten (unwinding
// one again takes milliseconds once the unwinder's tables are read).
const maxStacks = 512

// stackCache keeps the stacks unwound and unwinds one at a time: moving
// through the list quickly starts no pile of jobs, and the stack wanted
// last is unwound when the running one is done.
type stackCache struct {
	done  map[stackKey]stackRead
	order []stackKey
	job   *job
	key   stackKey // what job unwinds
	// cancelled is the stack whose unwinding esc stopped: it is not
	// unwound again until another one is asked for.
	cancelled    stackKey
	hasCancelled bool
}

func newStackCache() stackCache { return stackCache{done: map[stackKey]stackRead{}} }

// get returns a stack unwound.
func (s *stackCache) get(k stackKey) (stackRead, bool) {
	r, ok := s.done[k]
	return r, ok
}

// want asks for a stack: it starts a job unless the stack is known,
// being unwound, or another one is (the caller asks again when that job
// is done).
func (s *stackCache) want(c *Common, k stackKey, t *model.Task) tea.Cmd {
	if _, ok := s.done[k]; ok || s.job.running() {
		return nil
	}
	if s.hasCancelled && s.cancelled == k {
		return nil
	}
	s.hasCancelled = false
	s.key = k
	var task *model.Task
	if t != nil {
		cp := *t
		task = &cp
	}
	var cmd tea.Cmd
	s.job, cmd = startJob(c.Ctx, "unwind", unwind(c, task, k.cpu))
	return cmd
}

// update follows the job: ok says the message was its, got that a stack
// arrived.
func (s *stackCache) update(msg tea.Msg) (cmd tea.Cmd, ok, got bool) {
	cmd, ok = s.job.follow(msg, func(d jobDoneMsg) tea.Cmd {
		if d.cancelled() {
			s.cancelled, s.hasCancelled = s.key, true
			return nil
		}
		r, _ := d.val.(stackRead)
		if d.err != nil && r.err == nil {
			r.err = d.err
		}
		if len(s.order) >= maxStacks {
			delete(s.done, s.order[0])
			s.order = s.order[1:]
		}
		s.done[s.key] = r
		s.order = append(s.order, s.key)
		got = true
		return nil
	})
	return cmd, ok, got
}

// stop cancels the running job.
func (s *stackCache) stop() bool { return s.job.stop() }

// tasksGeometry places the panes. Each pane's first row is its title. A
// pane with no height is not shown.
type tasksGeometry struct {
	w, h                   int
	side                   bool
	listY, listW, listH    int
	stackY, stackW, stackH int
	codeY, codeW, codeH    int
	rightX                 int
}

// tasksSideWidth is the width from which the list stands beside the
// stack and code panes.
const tasksSideWidth = 140

// SetSize lays the panes out for a new size.
func (v *tasksView) SetSize(w, h int) {
	v.g.w, v.g.h = w, h
	v.layout()
}

// layout places the panes for the size, the focus and whether the code
// pane is open. Wide screens show the list beside the stack and the code
// under the stack; narrow ones show two panes, one over the other: the
// list and the stack, or (while the code is open and the list is not
// focused) the stack and the code; very short ones only the focused pane.
func (v *tasksView) layout() {
	g := tasksGeometry{w: v.g.w, h: v.g.h}
	w, h := g.w, g.h
	if w >= tasksSideWidth {
		g.side = true
		g.listW = clamp(v.listWidth(), 36, w/2)
		g.rightX = g.listW + 1
		g.listH = h
		g.stackW, g.codeW = w-g.rightX, w-g.rightX
		g.stackH = h
		if v.codeOpen {
			g.stackH = max(h*2/5, 3)
			g.codeY, g.codeH = g.stackH, h-g.stackH
		}
	} else {
		g.listW, g.stackW, g.codeW = w, w, w
		top, bottom := paneList, paneStack
		if v.codeOpen && v.focus != paneList {
			top, bottom = paneStack, paneCode
		}
		heights := map[tasksPane]*int{paneList: &g.listH, paneStack: &g.stackH, paneCode: &g.codeH}
		ys := map[tasksPane]*int{paneList: &g.listY, paneStack: &g.stackY, paneCode: &g.codeY}
		if h < 8 {
			*heights[v.focus] = h
		} else {
			*heights[top] = max(h*2/5, 4)
			*heights[bottom] = h - *heights[top]
			*ys[bottom] = *heights[top]
		}
	}
	widthChanged := g.stackW != v.g.stackW || g.codeW != v.g.codeW
	v.g = g
	v.stack.setSize(g.stackW, max(g.stackH-1, 0))
	v.mods.pane.setSize(g.stackW, max(g.stackH-1, 0))
	v.codeList.setSize(g.codeW, max(g.codeH-1, 0))
	v.scrollList()
	if widthChanged {
		v.rebuildStack()
		v.rebuildCode(false)
	}
}

// listWidth is the width the list's rows want.
func (v *tasksView) listWidth() int {
	switch {
	case v.mods.on:
		return v.mods.width()
	case v.table != nil:
		n := 2
		for _, cw := range v.table.colW {
			n += cw + 2
		}
		return n
	}
	return 60
}

// listHead is the lines between the list pane's title and its rows.
func (v *tasksView) listHead() []render.Line {
	st := v.c.St
	switch {
	case v.mods.on:
		return v.mods.head(st)
	case !v.loaded:
		return nil
	case v.table != nil:
		head := []render.Line{{st.label.Span("  " + v.table.header(v.g.listW-2))}}
		if v.why != nil {
			why := whyLines(st, "some tasks are missing", v.why, v.g.listW)
			head = append(why[:min(len(why), max(v.g.listH/4, 1))], head...)
		}
		return head
	}
	why := []render.Line{}
	if v.why != nil {
		why = whyLines(st, "no task list", v.why, v.g.listW)
		why = why[:min(len(why), max(v.g.listH/2, 2))]
	}
	return append(why, render.Line{}, render.Line{st.label.Span("  CPU stacks, unwound from each CPU's saved registers")})
}

// listRows is how many rows of the list fit under the title and head.
func (v *tasksView) listRows() int { return max(v.g.listH-1-len(v.listHead()), 1) }

// listTitle heads the list pane.
func (v *tasksView) listTitle() string {
	switch {
	case v.mods.on:
		return fmt.Sprintf("Modules (%d) · M: tasks", len(v.mods.list))
	case !v.loaded:
		return "Tasks"
	case v.table == nil:
		return fmt.Sprintf("CPUs (%d) · the dump gives no task list · M: modules", len(v.cpus))
	case v.filter.empty():
		return fmt.Sprintf("Tasks (%d) · f: filter, s: state, M: modules", len(v.table.tasks))
	}
	return fmt.Sprintf("Tasks (%d of %d) · filter: %s · f: filter, s: state", len(v.table.shown), len(v.table.tasks), v.filter.String())
}

// listLines draws the list pane: only the visible rows are formatted.
func (v *tasksView) listLines() []string {
	st, g := v.c.St, v.g
	out := []string{paneTitle(st, v.listTitle(), v.focus == paneList, g.listW)}
	switch {
	case !v.mods.on && !v.loaded:
		text := "reading the tasks from the kernel's lists… (esc cancels)"
		if v.load.cancelled {
			text = "reading the tasks was cancelled; switch to another view and back to read them again"
		}
		return append(out, render.Line{st.dim.Span("  " + text)}.Render(g.listW, nil))
	}
	out = append(out, render.Lines(v.listHead(), g.listW)...)
	n := v.rows()
	for i := v.top; i < n && i < v.top+v.listRows(); i++ {
		var l render.Line
		switch {
		case v.mods.on:
			l = v.mods.line(st, i)
		case v.table != nil:
			l = append(render.Line{render.Text("  ")}, v.table.line(st, i, g.listW-2)...)
		default:
			l = render.Line{st.value.Span(fmt.Sprintf("  CPU %d", v.cpus[i]))}
		}
		var sel *render.Pen
		if i == v.cursor {
			sel = &st.selected
		}
		out = append(out, l.Render(g.listW, sel))
	}
	if n == 0 && v.table != nil && !v.mods.on {
		out = append(out, render.Line{st.dim.Span("  no task matches the filter (f changes it; :filter with nothing shows all)")}.Render(g.listW, nil))
	}
	return out
}

// stackTitle heads the stack pane.
func (v *tasksView) stackTitle() string {
	if v.mods.on {
		return "Module · d: code, m: memory of a region"
	}
	return "Stack · enter/d: the frame's code, m: its memory"
}

// View draws the panes.
func (v *tasksView) View() string {
	st, g := v.c.St, v.g
	pane := func(title string, focused bool, w, h int, body func() string) string {
		if h <= 0 {
			return ""
		}
		s := paneTitle(st, title, focused, w)
		if h > 1 {
			s += "\n" + body()
		}
		return s
	}
	right := v.rightList()
	stack := pane(v.stackTitle(), v.focus == paneStack, g.stackW, g.stackH, func() string { return right.view(st, v.focus == paneStack) })
	code := pane(codeTitle(v.code, v.intel), v.focus == paneCode, g.codeW, g.codeH, func() string { return v.codeList.view(st, v.focus == paneCode) })
	list := ""
	if g.listH > 0 {
		list = render.Block(v.listLines(), g.listW, g.listH)
	}
	if g.side {
		r := stack
		if code != "" {
			r += "\n" + code
		}
		return render.SideBySide(list, r, st.dim.Paint("│"))
	}
	// One pane over the other: the list (when shown) is on top, and the
	// code (when shown) at the bottom.
	var parts []string
	for _, s := range []string{list, stack, code} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return render.Block(strings.Split(strings.Join(parts, "\n"), "\n"), g.w, g.h)
}

// rightList is the list the stack pane shows: the stack, or the
// module's details.
func (v *tasksView) rightList() *listModel {
	if v.mods.on {
		return &v.mods.pane
	}
	return &v.stack
}

// mouse focuses and scrolls the pane under the pointer; a click in the
// list selects a row.
func (v *tasksView) mouse(msg tea.MouseMsg) tea.Cmd {
	mo, g := msg.Mouse(), v.g
	var p tasksPane
	var y int
	switch {
	case g.side && mo.X < g.rightX:
		p, y = paneList, mo.Y
	case g.side && v.codeOpen && mo.Y >= g.codeY:
		p, y = paneCode, mo.Y-g.codeY
	case g.side:
		p, y = paneStack, mo.Y
	case g.listH > 0 && mo.Y >= g.listY && mo.Y < g.listY+g.listH:
		p, y = paneList, mo.Y-g.listY
	case g.codeH > 0 && mo.Y >= g.codeY:
		p, y = paneCode, mo.Y-g.codeY
	default:
		p, y = paneStack, mo.Y-g.stackY
	}
	if _, click := msg.(tea.MouseClickMsg); click && mo.Button == tea.MouseLeft {
		v.focus = p
	}
	switch p {
	case paneStack:
		v.rightList().mouse(msg, y-1)
	case paneCode:
		v.codeList.mouse(msg, y-1)
	default:
		switch mo.Button {
		case tea.MouseWheelUp:
			return v.moveTo(v.cursor - 3)
		case tea.MouseWheelDown:
			return v.moveTo(v.cursor + 3)
		}
		if _, click := msg.(tea.MouseClickMsg); click {
			if row := y - 1 - len(v.listHead()); row >= 0 && row < v.listRows() {
				return v.moveTo(v.top + row)
			}
		}
	}
	return nil
}
