package ui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// The Tasks view's list: every task the kernel's lists hold (a dump may
// have a hundred thousand), filtered by state, name and pid. Only the
// visible rows are formatted; the filter is one pass over the tasks when
// it changes; column widths are measured once, by the job that reads the
// tasks.

// taskFilter selects tasks: any of its states, and any of its names
// (parts of comm, without case), and any of its pids (pid or tgid), and
// only tasks running on a CPU when active is set. An empty filter selects
// every task.
type taskFilter struct {
	states []string
	names  []string
	pids   []int64
	active bool
}

// taskStates are the states as crash's ps letters them (model.Task.State).
var taskStates = []string{"RU", "IN", "UN", "ID", "ST", "TR", "ZO", "DE", "PA", "WA", "NE", "SW"}

// parseTaskFilter reads a filter: words that are a state's letters (RU,
// UN, …, any case), numbers (a pid or tgid), ">" (running on a CPU), and
// other words, which match a part of the name.
func parseTaskFilter(s string) taskFilter {
	var f taskFilter
	for _, w := range strings.Fields(s) {
		up := strings.ToUpper(w)
		switch {
		case w == ">":
			f.active = true
		case slices.Contains(taskStates, up):
			if !slices.Contains(f.states, up) {
				f.states = append(f.states, up)
			}
		default:
			if n, err := strconv.ParseInt(w, 10, 64); err == nil && n >= 0 {
				f.pids = append(f.pids, n)
			} else {
				f.names = append(f.names, strings.ToLower(w))
			}
		}
	}
	return f
}

// String writes the filter back as parseTaskFilter reads it.
func (f taskFilter) String() string {
	var parts []string
	if f.active {
		parts = append(parts, ">")
	}
	parts = append(parts, f.states...)
	for _, p := range f.pids {
		parts = append(parts, fmt.Sprint(p))
	}
	return strings.Join(append(parts, f.names...), " ")
}

func (f taskFilter) empty() bool {
	return !f.active && len(f.states) == 0 && len(f.names) == 0 && len(f.pids) == 0
}

// match reports whether the filter selects t.
func (f taskFilter) match(t *model.Task) bool {
	if f.active && !t.Active {
		return false
	}
	if len(f.states) > 0 && !slices.Contains(f.states, t.State) {
		return false
	}
	if len(f.pids) > 0 && !slices.Contains(f.pids, t.PID) && !slices.Contains(f.pids, t.TGID) {
		return false
	}
	if len(f.names) == 0 {
		return true
	}
	comm := strings.ToLower(t.Comm)
	for _, n := range f.names {
		if strings.Contains(comm, n) {
			return true
		}
	}
	return false
}

// taskTable is the tasks read, the rows the filter shows and the columns'
// widths.
type taskTable struct {
	tasks []model.Task
	shown []int32 // indexes into tasks, in order
	colW  []int   // widths of present.TaskColumns, the longest value of each
	// states lists the states the tasks are in, in taskStates' order (s
	// cycles through them).
	states []string
}

// newTaskTable measures the tasks; it runs in the job that reads them.
func newTaskTable(tasks []model.Task) *taskTable {
	t := &taskTable{tasks: tasks, colW: make([]int, len(present.TaskColumns))}
	for i, c := range present.TaskColumns {
		t.colW[i] = len(c)
	}
	seen := map[string]bool{}
	for i := range tasks {
		for j, c := range present.TaskRow(tasks[i]) {
			t.colW[j] = max(t.colW[j], render.Width(c))
		}
		seen[tasks[i].State] = true
	}
	for _, s := range taskStates {
		if seen[s] {
			t.states = append(t.states, s)
		}
	}
	t.filter(taskFilter{})
	return t
}

// filter keeps the tasks f selects.
func (t *taskTable) filter(f taskFilter) {
	t.shown = t.shown[:0]
	for i := range t.tasks {
		if f.match(&t.tasks[i]) {
			t.shown = append(t.shown, int32(i))
		}
	}
}

// task returns the task of row i.
func (t *taskTable) task(i int) *model.Task { return &t.tasks[t.shown[i]] }

// rowOf returns the row of the task at address a, or -1.
func (t *taskTable) rowOf(a model.VirtAddr) int {
	for i, k := range t.shown {
		if t.tasks[k].Task == a {
			return i
		}
	}
	return -1
}

// withTask says whether the TASK column fits in w cells.
func (t *taskTable) withTask(w int) bool {
	total := 0
	for _, cw := range t.colW {
		total += cw + 2
	}
	return total <= w
}

// cells lays out a row's cells at the columns' widths: numbers to the
// right, as ps does, the command as it is; the TASK column only when
// withTask.
func (t *taskTable) cells(row []string, withTask bool) string {
	var b strings.Builder
	for i, c := range row {
		switch {
		case i == 3 && !withTask:
			continue
		case i == len(row)-1:
			b.WriteString(c)
		case i < 3:
			fmt.Fprintf(&b, "%*s  ", t.colW[i], c)
		default:
			b.WriteString(render.Pad(c, t.colW[i]) + "  ")
		}
	}
	return b.String()
}

// header is the row of column names.
func (t *taskTable) header(w int) string { return t.cells(present.TaskColumns, t.withTask(w)) }

// line draws row i: running tasks in the title pen (their pid starts with
// ">" too), zombies and dead tasks dim.
func (t *taskTable) line(st *styles, i, w int) render.Line {
	task := t.task(i)
	pen := st.value
	switch {
	case task.Active:
		pen = st.title
	case task.State == "ZO" || task.State == "DE":
		pen = st.dim
	}
	return render.Line{pen.Span(t.cells(present.TaskRow(*task), t.withTask(w)))}
}

// text is row i as `/` searches it: pid, task address, state and name.
func (t *taskTable) text(i int) string {
	task := t.task(i)
	return fmt.Sprintf("%d %x %s %s", task.PID, uint64(task.Task), task.State, task.Comm)
}

// nextState is the state s cycles to after the filter's: the next one
// the tasks are in, then none.
func (t *taskTable) nextState(f taskFilter) []string {
	if len(f.states) != 1 {
		if len(t.states) == 0 {
			return nil
		}
		return []string{t.states[0]}
	}
	i := slices.Index(t.states, f.states[0])
	if i < 0 || i+1 >= len(t.states) {
		return nil
	}
	return []string{t.states[i+1]}
}
