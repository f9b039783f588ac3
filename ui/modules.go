package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// The Tasks view's modules (M): the loaded modules as `dumpscope modules`
// lists them, read from the kernel's module list through its BTF, and the
// selected module's memory regions, each of which opens its code (d) or
// its memory (m).

// modulesState is the module list and the selected module's pane.
type modulesState struct {
	on     bool
	job    *job
	loaded bool
	list   []model.Module
	err    error // why there are no modules, or why some are missing
	colW   []int
	sel    int
	pane   listModel
	region []int // per pane row: the region it shows, or -1
}

// modulesRead is what the job returns.
type modulesRead struct {
	mods []model.Module
	err  error
}

// start reads the modules unless they are read or being read.
func (s *modulesState) start(c *Common) tea.Cmd {
	if s.loaded || s.job.running() {
		return nil
	}
	s.pane = newList()
	s.pane.setLines([]render.Line{{c.St.dim.Span("reading the modules… (esc cancels)")}})
	var cmd tea.Cmd
	s.job, cmd = startJob(c.Ctx, "modules", func(ctx context.Context, progress func(done, total uint64)) (any, error) {
		res, err := c.engineCall(ctx, progress, func(ctx context.Context, k *kernel.Kernel) (any, error) {
			mods, err := k.Modules(ctx)
			return modulesRead{mods, err}, ctx.Err()
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			return modulesRead{err: err}, nil
		}
		return res, err
	})
	return cmd
}

// update follows the job; ok says the message was its.
func (s *modulesState) update(msg tea.Msg, st *styles, w int) (tea.Cmd, bool) {
	return s.job.follow(msg, func(d jobDoneMsg) tea.Cmd {
		if d.cancelled() {
			s.pane.setLines([]render.Line{{st.dim.Span("reading the modules was cancelled; M twice reads them again")}})
			return nil
		}
		r, _ := d.val.(modulesRead)
		s.loaded, s.list, s.err = true, r.mods, r.err
		s.colW = make([]int, len(present.ModuleColumns))
		for i, c := range present.ModuleColumns {
			s.colW[i] = len(c)
		}
		for _, m := range s.list {
			for i, c := range present.ModuleRow(m) {
				s.colW[i] = max(s.colW[i], render.Width(c))
			}
		}
		s.selectRow(0, st, w)
		return nil
	})
}

// width is the width the list's rows want.
func (s *modulesState) width() int {
	n := 2
	for _, w := range s.colW {
		n += w + 2
	}
	return max(n, 40)
}

// head is the lines above the rows: why modules are missing, the column
// names.
func (s *modulesState) head(st *styles) []render.Line {
	var out []render.Line
	switch {
	case s.err != nil && len(s.list) == 0:
		out = append(out, render.Line{st.warn.Span("  ! no module list: the pane says why")})
	case s.err != nil:
		out = append(out, render.Line{st.warn.Span("  ! some modules are missing: the pane says why")})
	}
	if len(s.list) > 0 {
		out = append(out, render.Line{st.label.Span("  " + s.cells(present.ModuleColumns))})
	} else if s.loaded && s.err == nil {
		out = append(out, render.Line{st.dim.Span("  no modules loaded")})
	}
	return out
}

// cells lays a row out at the columns' widths.
func (s *modulesState) cells(row []string) string {
	var b strings.Builder
	for i, c := range row {
		if i == len(row)-1 {
			b.WriteString(c)
			break
		}
		b.WriteString(render.Pad(c, s.colW[i]) + "  ")
	}
	return b.String()
}

// line draws module i.
func (s *modulesState) line(st *styles, i int) render.Line {
	return render.Line{st.value.Span("  " + s.cells(present.ModuleRow(s.list[i])))}
}

// selectRow shows module i in the pane.
func (s *modulesState) selectRow(i int, st *styles, w int) {
	s.sel = i
	s.rebuild(st, w)
	s.pane.top = 0
	s.pane.moveTo(0)
}

// rebuild lays out the selected module's pane: its facts in the words of
// `dumpscope modules`, then its memory regions, one a row.
func (s *modulesState) rebuild(st *styles, w int) {
	s.region = nil
	if !s.loaded {
		return
	}
	var lines []render.Line
	add := func(region int, ls ...render.Line) {
		for _, l := range ls {
			lines, s.region = append(lines, l), append(s.region, region)
		}
	}
	if s.sel >= len(s.list) {
		if s.err != nil {
			add(-1, whyLines(st, "no modules", s.err, w)...)
		} else {
			add(-1, render.Line{st.dim.Span("no modules loaded")})
		}
		s.pane.setLines(lines)
		return
	}
	m := s.list[s.sel]
	add(-1, render.Line{st.title.Span("Module " + present.Printable(m.Name))})
	row := present.ModuleRow(m)
	for i, col := range present.ModuleColumns {
		if col != "NAME" {
			add(-1, labelled(st, strings.ToLower(col), row[i], w)...)
		}
	}
	add(-1, render.Line{}, render.Line{st.label.Span("  regions"), st.dim.Span("  (d: code of a text region, m: memory)")})
	for i, r := range m.Regions {
		add(i, render.Line{st.value.Span(fmt.Sprintf("    %-14s ", r.Kind)), st.addr.Span(r.Base.String()), st.value.Span("  " + present.Bytes(int64(r.Size)))})
	}
	if s.err != nil {
		add(-1, render.Line{})
		add(-1, whyLines(st, "some modules are missing", s.err, w)...)
	}
	s.pane.setLines(lines)
}

// regionAt returns the region of the pane's cursor row.
func (s *modulesState) regionAt() (model.ModuleRegion, bool) {
	if s.sel >= len(s.list) || s.pane.cursor >= len(s.region) || s.region[s.pane.cursor] < 0 {
		return model.ModuleRegion{}, false
	}
	return s.list[s.sel].Regions[s.region[s.pane.cursor]], true
}
