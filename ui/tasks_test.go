package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/present"
	"dumpscope/reader/dumptest"
)

// Tests of the Tasks view: the list against the engine and crash's ps,
// the filters, the stacks against the engine's unwinder, a frame's code
// and memory and the way back, the modules, and the view of a dump
// without BTF.

// tasksOf returns the root's Tasks view.
func tasksOf(m *Model) *tasksView { return m.views[m.viewIndex("tasks")].(*tasksView) }

func TestTasksViewListsEveryTask(t *testing.T) {
	s := debianSession(t, debianPanic)
	o := oracleOf(t, debianPanic)
	k, err := s.Kernel()
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := k.Tasks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := newSessionModel(t, s, 160, 50, "dark")
	typeLine(t, m, ":view tasks")
	tv := tasksOf(m)
	if tv.table == nil || len(tv.table.shown) != len(tasks) || len(tasks) != len(o.Tasks) {
		t.Fatalf("the view lists %v tasks; the engine has %d, crash %d (%v)", tv.table != nil && len(tv.table.shown) > 0, len(tasks), len(o.Tasks), tv.why)
	}
	// The first rows are crash's ps rows, in the engine's order.
	scr := ansi.Strip(screen(m))
	for _, tk := range tasks[:10] {
		row := strings.Join(strings.Fields(strings.Join(present.TaskRow(tk), " ")), " ")
		if !strings.Contains(flat(scr), row) {
			t.Errorf("the list lacks %q:\n%s", row, scr)
		}
	}
	count := func(keep func(state, comm string, pid int64) bool) int {
		n := 0
		for _, ot := range o.Tasks {
			if keep(ot.State, ot.Comm, ot.PID) {
				n++
			}
		}
		return n
	}
	// Each state crash letters, and s through them.
	states := map[string]bool{}
	for _, ot := range o.Tasks {
		states[ot.State] = true
	}
	for st := range states {
		typeLine(t, m, ":filter "+strings.ToLower(st))
		if want := count(func(s, _ string, _ int64) bool { return s == st }); len(tv.table.shown) != want {
			t.Errorf(":filter %s shows %d tasks, crash has %d", st, len(tv.table.shown), want)
		}
		for i := range tv.table.shown {
			if tv.table.task(i).State != st {
				t.Fatalf(":filter %s shows a task in state %s", st, tv.table.task(i).State)
			}
		}
	}
	typeLine(t, m, ":filter")
	for _, st := range tv.table.states {
		press(t, m, "s")
		if want := count(func(s, _ string, _ int64) bool { return s == st }); len(tv.table.shown) != want || tv.filter.String() != st {
			t.Errorf("s shows %d tasks with filter %q, want %d in %s", len(tv.table.shown), tv.filter.String(), want, st)
		}
	}
	press(t, m, "s")
	if !tv.filter.empty() || len(tv.table.shown) != len(tasks) {
		t.Errorf("s after the last state leaves filter %q", tv.filter.String())
	}
	// Names, pids and states together.
	typeLine(t, m, ":filter kworker")
	if want := count(func(_, c string, _ int64) bool { return strings.Contains(c, "kworker") }); len(tv.table.shown) != want || want == 0 {
		t.Errorf(":filter kworker shows %d tasks, crash has %d", len(tv.table.shown), want)
	}
	if s := ansi.Strip(screen(m)); !strings.Contains(s, fmt.Sprintf("Tasks (%d of %d) · filter: kworker", len(tv.table.shown), len(tasks))) {
		t.Errorf("the title does not name the filter:\n%s", s)
	}
	typeLine(t, m, ":filter ID kworker")
	if want := count(func(s, c string, _ int64) bool { return s == "ID" && strings.Contains(c, "kworker") }); len(tv.table.shown) != want {
		t.Errorf(":filter ID kworker shows %d tasks, crash has %d", len(tv.table.shown), want)
	}
	typeLine(t, m, ":filter >")
	if want := count(func(s, _ string, _ int64) bool { return false }); len(tv.table.shown) == want {
		t.Error(":filter > shows no running task")
	}
	for i := range tv.table.shown {
		if !tv.table.task(i).Active {
			t.Errorf(":filter > shows pid %d, which is not running", tv.table.task(i).PID)
		}
	}
	typeLine(t, m, ":filter nosuchtask")
	if s := ansi.Strip(screen(m)); len(tv.table.shown) != 0 || !strings.Contains(s, "no task matches the filter") {
		t.Errorf("a filter that matches nothing:\n%s", s)
	}
	// f opens the command line with the filter typed in.
	press(t, m, "f")
	if !m.prompt.active() || !strings.Contains(ansi.Strip(screen(m)), ":filter nosuchtask") {
		t.Errorf("f does not open :filter:\n%s", lastLines(ansi.Strip(screen(m)), 2))
	}
	press(t, m, "esc")
	typeLine(t, m, ":filter")
	// `/` finds a task by name.
	typeLine(t, m, "/khungtaskd")
	if _, tk, _ := tv.current(); tk == nil || tk.Comm != "khungtaskd" {
		t.Errorf("/khungtaskd selects %+v", tk)
	}
}

func TestTasksViewStackCodeAndMemory(t *testing.T) {
	s := debianSession(t, debianPanic)
	k, err := s.Kernel()
	if err != nil {
		t.Fatal(err)
	}
	m := newSessionModel(t, s, 160, 50, "dark")
	typeLine(t, m, ":view tasks")
	typeLine(t, m, ":task 1")
	tv := tasksOf(m)
	_, tk, ok := tv.current()
	if !ok || tk == nil || tk.PID != 1 || tv.focus != paneStack {
		t.Fatalf(":task 1 selects %+v (focus %d)", tk, tv.focus)
	}
	bt, err := k.TaskBacktrace(context.Background(), *tk)
	if err != nil {
		t.Fatal(err)
	}
	// The stack is the engine's, in `bt`'s words; the cursor starts on the
	// first frame.
	stack := paneText(tv.stack)
	for _, f := range bt.Frames {
		if !strings.Contains(stack, present.FrameLine(f)) {
			t.Errorf("the stack lacks %q:\n%s", present.FrameLine(f), stack)
		}
	}
	for _, w := range []string{present.BacktraceTitle(*bt), present.BacktraceEnd(*bt), "[user mode registers at"} {
		if !strings.Contains(stack, w) {
			t.Errorf("the stack lacks %q:\n%s", w, stack)
		}
	}
	if a := tv.anch[tv.stack.cursor]; a.frame != 0 {
		t.Fatalf("the stack's cursor is on %+v, not the first frame", a)
	}
	// A frame opens its code: the call marked "->", the return address
	// "=>".
	guilty := slices.IndexFunc(bt.Frames, func(f model.Frame) bool { return f.Symbol == "sysrq_handle_crash" })
	if guilty < 0 {
		t.Fatalf("no sysrq_handle_crash frame in %+v", bt.Frames)
	}
	for tv.anch[tv.stack.cursor].frame != guilty {
		press(t, m, "j")
	}
	press(t, m, "enter")
	f := bt.Frames[guilty]
	scr := ansi.Strip(screen(m))
	code := paneText(tv.codeList)
	if !tv.codeOpen || tv.focus != paneCode || !strings.Contains(scr, "Code of #3 "+f.Location) ||
		!strings.Contains(code, fmt.Sprintf("=> %x <sysrq_handle_crash+0x16>", uint64(f.PC))) || !strings.Contains(code, "-> ") {
		t.Fatalf("enter on frame #%d does not show its code:\n%s", guilty, scr)
	}
	press(t, m, "i")
	if code := paneText(tv.codeList); !strings.Contains(ansi.Strip(screen(m)), "Intel (i: GNU)") || !strings.Contains(code, "=> ") {
		t.Fatalf("i does not switch the syntax:\n%s", code)
	}
	press(t, m, "i")
	// ctrl+o closes the code again; d opens it too.
	press(t, m, "ctrl+o")
	if tv.codeOpen || tv.focus != paneStack || m.Active() != "tasks" {
		t.Fatalf("ctrl+o leaves the code open (%v, focus %d)", tv.codeOpen, tv.focus)
	}
	press(t, m, "d")
	if !tv.codeOpen {
		t.Fatal("d does not open the frame's code")
	}
	press(t, m, "esc")
	if tv.codeOpen {
		t.Fatal("esc does not close the code")
	}
	// m shows the frame's stack slot in Memory; backspace comes back to
	// the same task and frame.
	press(t, m, "m")
	mv := memory(m)
	if m.Active() != "memory" || mv.vaddr == nil || model.VirtAddr(mv.vaddr.va) != *f.Slot {
		t.Fatalf("m shows %s at %+v, want memory at the slot %s", m.Active(), mv.vaddr, f.Slot)
	}
	if s := flat(screen(m)); !strings.Contains(s, "vaddr "+f.Slot.String()+" → phys") {
		t.Errorf("the slot is not translated:\n%s", ansi.Strip(screen(m)))
	}
	press(t, m, "backspace")
	if _, tk, _ := tv.current(); m.Active() != "tasks" || tk == nil || tk.PID != 1 || tv.anch[tv.stack.cursor].frame != guilty {
		t.Fatalf("backspace returns to %s, task %+v, stack row %d", m.Active(), tk, tv.stack.cursor)
	}
	// A register block opens at its address.
	for tv.stack.cursor < len(tv.anch)-1 && tv.anch[tv.stack.cursor].regs == nil {
		press(t, m, "j")
	}
	press(t, m, "m")
	if mv.vaddr == nil || model.VirtAddr(mv.vaddr.va) != bt.UserRegs.Addr {
		t.Fatalf("m on the user registers shows %+v, want %s", mv.vaddr, bt.UserRegs.Addr)
	}
	press(t, m, "backspace")
	// h, l move the focus; enter in the list focuses the stack.
	press(t, m, "h")
	if tv.focus != paneList {
		t.Fatalf("h focuses pane %d", tv.focus)
	}
	press(t, m, "j", "enter")
	if tv.focus != paneStack {
		t.Fatalf("enter in the list focuses pane %d", tv.focus)
	}
}

func TestTasksViewModules(t *testing.T) {
	s := debianSession(t, debianPanic)
	o := oracleOf(t, debianPanic)
	m := newSessionModel(t, s, 160, 50, "dark")
	typeLine(t, m, ":view tasks")
	press(t, m, "M")
	tv := tasksOf(m)
	if !tv.mods.on || len(tv.mods.list) != len(o.Modules) {
		t.Fatalf("M lists %d modules, crash %d (%v)", len(tv.mods.list), len(o.Modules), tv.mods.err)
	}
	scr := ansi.Strip(screen(m))
	for _, om := range o.Modules {
		if !strings.Contains(scr, om.Name) || !strings.Contains(scr, strings.TrimPrefix(om.Base, "0x")) {
			t.Errorf("the modules lack %s at %s:\n%s", om.Name, om.Base, scr)
		}
	}
	mod := tv.mods.list[0]
	text := slices.IndexFunc(mod.Regions, func(r model.ModuleRegion) bool { return r.Kind == "text" })
	if text < 0 {
		t.Fatalf("no text region in %+v", mod.Regions)
	}
	press(t, m, "l")
	for tv.mods.region[tv.mods.pane.cursor] != text {
		press(t, m, "j")
	}
	press(t, m, "d")
	if !tv.codeOpen || tv.code.pc != mod.Regions[text].Base || !strings.Contains(paneText(tv.codeList), "=> ") {
		t.Fatalf("d on the text region shows %+v:\n%s", tv.code, paneText(tv.codeList))
	}
	press(t, m, "m")
	if mv := memory(m); m.Active() != "memory" || mv.vaddr == nil || model.VirtAddr(mv.vaddr.va) != mod.Regions[text].Base {
		t.Fatalf("m on the text region shows %s", m.Active())
	}
	press(t, m, "ctrl+o")
	press(t, m, "M")
	if tv.mods.on || tv.table == nil {
		t.Fatal("M does not go back to the tasks")
	}
}

// TestTasksViewWithoutBTF: the tiny fixtures' kernels have no BTF: the
// view says so, naming the option, and lists the CPUs, whose stacks
// unwind along the frame pointers.
func TestTasksViewWithoutBTF(t *testing.T) {
	d := pagingFixture(t)
	m := newTestModel(t, d, 160, 50, "dark")
	typeLine(t, m, ":view tasks")
	tv := tasksOf(m)
	s := flat(strings.Join(tv.listLines(), "\n") + "\n" + paneText(tv.stack))
	for _, w := range []string{"CPUs (2) · the dump gives no task list", "! no task list", "missing the kernel's BTF",
		"the kernel was built without CONFIG_DEBUG_INFO_BTF", "CPU 0", "CPU 1", "unwound by frame-pointer from prstatus registers of CPU 0"} {
		if !strings.Contains(s, w) {
			t.Errorf("the view lacks %q:\n%s", w, ansi.Strip(screen(m)))
		}
	}
	k, err := m.c.S.Kernel()
	if err != nil {
		t.Fatal(err)
	}
	bt, err := k.CPUBacktrace(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	press(t, m, "j")
	stack := paneText(tv.stack)
	for _, f := range bt.Frames {
		if !strings.Contains(stack, present.FrameLine(f)) {
			t.Errorf("CPU 1's stack lacks %q:\n%s", present.FrameLine(f), stack)
		}
	}
	press(t, m, "l", "j", "enter")
	if !tv.codeOpen || !strings.Contains(paneText(tv.codeList), fmt.Sprintf("=> %x", uint64(bt.Frames[1].PC))) {
		t.Fatalf("a frame's code:\n%s", ansi.Strip(screen(m)))
	}
	typeLine(t, m, ":filter UN")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "there is no task list to filter") {
		t.Errorf(":filter without tasks:\n%s", lastLines(s, 2))
	}
	press(t, m, "M")
	if s := flat(screen(m)); !strings.Contains(s, "no module list: the pane says why") || !strings.Contains(s, "CONFIG_DEBUG_INFO_BTF") {
		t.Errorf("the modules without BTF:\n%s", ansi.Strip(screen(m)))
	}
}

func TestTaskFilterWords(t *testing.T) {
	f := parseTaskFilter("un  kworker 42 > RU un")
	if got := f.String(); got != "> UN RU 42 kworker" {
		t.Errorf("the filter reads back as %q", got)
	}
	for _, tc := range []struct {
		t    model.Task
		want bool
	}{
		{model.Task{PID: 42, TGID: 42, State: "UN", Comm: "kworker/1:2", Active: true}, true},
		{model.Task{PID: 7, TGID: 42, State: "RU", Comm: "Kworker/0:1", Active: true}, true},
		{model.Task{PID: 7, TGID: 7, State: "RU", Comm: "kworker/0:1", Active: true}, false}, // no pid matches
		{model.Task{PID: 42, TGID: 42, State: "IN", Comm: "kworker", Active: true}, false},   // no state matches
		{model.Task{PID: 42, TGID: 42, State: "UN", Comm: "kworker", Active: false}, false},  // not running
	} {
		if got := f.match(&tc.t); got != tc.want {
			t.Errorf("%+v: match %v, want %v", tc.t, got, tc.want)
		}
	}
	if f := parseTaskFilter(""); !f.empty() || !f.match(&model.Task{}) {
		t.Error("the empty filter does not select every task")
	}
	if f := parseTaskFilter("sh -1"); len(f.names) != 2 || len(f.pids) != 0 {
		t.Errorf("names are not told from pids: %+v", f)
	}
}

// syntheticTasks are n tasks in varied states with varied names.
func syntheticTasks(n int) []model.Task {
	tasks := make([]model.Task, n)
	for i := range tasks {
		tasks[i] = model.Task{Task: model.VirtAddr(0xffff888000000000 + uint64(i)*0x2000), PID: int64(i), TGID: int64(i - i%4),
			PPID: int64(i / 10), CPU: i % 64, State: taskStates[i%4], Comm: fmt.Sprintf("worker/%d:%d", i%64, i%7), KernelThread: i%3 == 0}
	}
	return tasks
}

// TestTasksViewLargeList: a hundred thousand tasks draw, filter, search
// and scroll; only the visible rows are formatted.
func TestTasksViewLargeList(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 40, "dark")
	typeLine(t, m, ":view tasks")
	tv := tasksOf(m)
	tv.table, tv.loaded, tv.why = newTaskTable(syntheticTasks(100_000)), true, nil
	tv.cursor = 0
	tv.layout()
	press(t, m, "G")
	s := ansi.Strip(screen(m))
	checkScreen(t, screen(m), 120, 40)
	if !strings.Contains(s, "task 100000 of 100000") || !strings.Contains(s, "99999") {
		t.Fatalf("the last of 100000 tasks is not shown:\n%s", s)
	}
	typeLine(t, m, ":filter UN worker/62:")
	want := 0
	for i := range tv.table.tasks {
		if tk := &tv.table.tasks[i]; tk.State == "UN" && strings.Contains(tk.Comm, "worker/62:") {
			want++
		}
	}
	if len(tv.table.shown) != want || want == 0 {
		t.Fatalf("the filter shows %d tasks, want %d", len(tv.table.shown), want)
	}
	typeLine(t, m, ":filter")
	typeLine(t, m, "/worker/17:3")
	if _, tk, _ := tv.current(); tk == nil || tk.Comm != "worker/17:3" {
		t.Fatalf("/worker/17:3 selects %+v", tk)
	}
}

// TestNoDumpCallsInTasksLogAndCPUs drives the Tasks, Log, CPUs and
// Overview views of a kernel with tasks, stacks and a panic on a dump
// that fails the test when Update or View call it.
func TestNoDumpCallsInTasksLogAndCPUs(t *testing.T) {
	d, err := open.Open(dumptest.KernelFixture(t, debianPanic))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m := New(context.Background(), inspect.New(strictDump{Dump: d, t: t}), Options{Theme: "dark"})
	defer m.Close()
	send(t, m, tea.WindowSizeMsg{Width: 150, Height: 45})
	run(t, m, m.Init())
	for _, c := range []string{":view tasks", ":task 1", ":filter UN", ":filter kworker", ":filter", "/init", ":view log", "/panic", ":level err", ":view cpus"} {
		typeLine(t, m, c)
		screen(m)
		press(t, m, "j", "l", "j", "enter", "i", "d", "esc", "m", "backspace", "s", "M", "l", "j", "d", "M", "p", "]", "[", "f", "c", "j", "enter", "esc", "h")
		screen(m)
	}
	press(t, m, "1", "j", "enter", "backspace")
	screen(m)
}
