package ui

import (
	"context"
	"fmt"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/reader"
)

// memoryView is physical memory: a hex view of decoded pages with physical
// addresses and ASCII, the current page's state and storage, and a minimap
// of the whole pfn space. The cursor is a physical address; rows are
// drawn from an LRU of decoded pages that commands fill, so nothing here
// grows with the dump. Long work (the minimap pass, run jumps, find) runs
// as cancellable jobs.
type memoryView struct {
	c    *Common
	keys MemoryKeys

	ps, maxAddr uint64 // page size; one past the last byte of the last frame
	cur, top    uint64 // cursor address; address of the first visible row
	pages       *lru[model.PFN, *pageEntry]
	pending     map[model.PFN]bool
	shown       bool
	moved       bool // the user moved before the first readable run was found

	mm       minimap
	mapJob   *job
	mapErr   string
	focusMap bool

	seek  *job // a run jump in progress
	find  findState
	vaddr *vaddrState // the last :vaddr, shown above the hex pane

	// The selection (memselect.go): from mark to the cursor when marked.
	mark      uint64
	marked    bool
	write     *job
	writeWhat string

	syms *kernel.Symbols // kallsyms, for the data inspector; nil until read

	g memGeometry
}

// pageEntry is a decoded page (or why it cannot be read).
type pageEntry struct {
	info model.PageInfo
	data []byte
	err  error
}

// pageMsg brings a page read by loadPage.
type pageMsg struct {
	pfn  model.PFN
	info model.PageInfo
	data []byte
	err  error
}

// firstRunMsg brings the first readable frame, where the view starts.
type firstRunMsg struct {
	pfn   model.PFN
	found bool
}

// pageCacheSize is how many decoded pages the view keeps.
const pageCacheSize = 256

func newMemoryView(c *Common) *memoryView {
	ps := c.pageSize()
	maxAddr := uint64(c.Info.MaxPFN) * ps
	if c.Info.MaxPFN != 0 && maxAddr/ps != uint64(c.Info.MaxPFN) {
		maxAddr = ^uint64(0) // the address space does not fit in 64 bits
	}
	m := &memoryView{c: c, keys: newMemoryKeys(), ps: ps, maxAddr: maxAddr,
		pages: newLRU[model.PFN, *pageEntry](pageCacheSize), pending: map[model.PFN]bool{}}
	m.mm.maxPFN = uint64(c.Info.MaxPFN)
	return m
}

func (m *memoryView) Name() string      { return "memory" }
func (m *memoryView) Title() string     { return "Memory" }
func (m *memoryView) Keys() help.KeyMap { return m.keys }
func (m *memoryView) Init() tea.Cmd     { return nil }

// Show looks for the first readable frame the first time the view is
// shown, starts the minimap pass unless it is done or running (it runs
// again after a cancel), and loads what is visible.
func (m *memoryView) Show() tea.Cmd {
	var cmds []tea.Cmd
	if !m.shown && m.c.Info.MaxPFN > 0 {
		cmds = append(cmds, firstReadable(m.c))
		if linuxKernel(m.c) {
			cmds = append(cmds, loadSymbols(m.c)) // for the data inspector
		}
	}
	m.shown = true
	if m.mm.sum == nil && !m.mapJob.running() && m.c.Info.MaxPFN > 0 {
		var cmd tea.Cmd
		d, maxPFN := m.c.S.Dump(), uint64(m.c.Info.MaxPFN)
		m.mapErr = ""
		m.mapJob, cmd = startJob(m.c.Ctx, "page map", func(ctx context.Context, progress func(done, total uint64)) (any, error) {
			return summarize(ctx, d, maxPFN, progress)
		})
		cmds = append(cmds, cmd)
	}
	return tea.Batch(append(cmds, m.ensure())...)
}

// loadPage reads one frame (a command: it does I/O).
func loadPage(c *Common, pfn model.PFN) tea.Cmd {
	d, ps := c.S.Dump(), c.pageSize()
	return func() tea.Msg {
		buf := make([]byte, ps)
		info, err := d.ReadPage(pfn, buf, reader.ReadOptions{})
		if err != nil {
			if info.State == "" {
				info = d.PageInfo(pfn)
			}
			return pageMsg{pfn: pfn, info: info, err: err}
		}
		return pageMsg{pfn: pfn, info: info, data: buf}
	}
}

// firstReadable finds the first present or zero-filled frame.
func firstReadable(c *Common) tea.Cmd {
	d, ctx := c.S.Dump(), c.Ctx
	return func() tea.Msg {
		var out firstRunMsg
		_ = d.Runs(ctx, 0, false, func(r model.PageRun) bool {
			if r.State.Readable() {
				out = firstRunMsg{pfn: r.Start, found: true}
				return false
			}
			return true
		})
		return out
	}
}

func (m *memoryView) curPFN() model.PFN { return model.PFN(m.cur / m.ps) }

// ensure loads the pages the visible rows show, and the next one.
func (m *memoryView) ensure() tea.Cmd {
	if m.maxAddr == 0 {
		return nil
	}
	first := m.top / m.ps
	last := (m.top + uint64(max(m.g.hexRows, 1)*m.g.bpr) - 1) / m.ps
	var cmds []tea.Cmd
	for p := first; p <= last+1 && p < uint64(m.c.Info.MaxPFN); p++ {
		pfn := model.PFN(p)
		if _, ok := m.pages.get(pfn); ok || m.pending[pfn] {
			continue
		}
		m.pending[pfn] = true
		cmds = append(cmds, loadPage(m.c, pfn))
	}
	return tea.Batch(cmds...)
}

func (m *memoryView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case pageMsg:
		delete(m.pending, msg.pfn)
		m.pages.put(msg.pfn, &pageEntry{info: msg.info, data: msg.data, err: msg.err})
	case firstRunMsg:
		if msg.found && !m.moved {
			m.jump(uint64(msg.pfn) * m.ps)
			return m.ensure()
		}
	case vaddrMsg:
		return m.vaddrDone(msg)
	case gotoVaddrMsg:
		return m.startVaddr(uint64(msg.va))
	case symbolsMsg:
		m.syms = msg.syms
	case copiedMsg:
		return tea.Batch(tea.SetClipboard(msg.text), status(msg.status))
	case gotoPhysMsg:
		m.closeVaddr()
		m.moved = true
		m.focusMap = false
		if uint64(msg.addr) >= m.maxAddr {
			return errorCmd(fmt.Errorf("phys %s is beyond the dump's last frame %#x", msg.addr, max(m.c.Info.MaxPFN, 1)-1))
		}
		m.jump(uint64(msg.addr))
		return m.ensure()
	case jobProgressMsg, jobDoneMsg:
		return m.jobMsg(msg)
	}
	return nil
}

// jobMsg follows the view's jobs: the minimap pass, run jumps, finds and
// writes.
func (m *memoryView) jobMsg(msg tea.Msg) tea.Cmd {
	cmd, _ := followJobs(msg, jobDone{m.mapJob, m.mapDone}, jobDone{m.seek, m.seekDone},
		jobDone{m.find.job, m.findDone}, jobDone{m.write, m.writeDone})
	return cmd
}

// mapDone takes the minimap pass's frame summary, or says why there is
// none.
func (m *memoryView) mapDone(d jobDoneMsg) tea.Cmd {
	if s, _ := d.val.(*pfnSummary); s != nil && d.err == nil {
		m.mm.sum = s
		m.mm.recompute()
	} else if d.err != nil && !d.cancelled() {
		m.mapErr = errText(d.err)
	}
	return nil
}

// jump moves the cursor to addr and scrolls its row to the top.
func (m *memoryView) jump(addr uint64) {
	m.cur = min(addr, m.maxAddr-1)
	m.top = m.rowOf(m.cur)
	m.clampTop()
}

// moveBy moves the cursor by delta bytes, scrolling as little as possible.
func (m *memoryView) moveBy(delta int64) {
	m.moved = true
	switch {
	case delta < 0 && uint64(-delta) > m.cur:
		m.cur = 0
	case delta > 0 && uint64(delta) >= m.maxAddr-m.cur:
		m.cur = m.maxAddr - 1
	default:
		m.cur = uint64(int64(m.cur) + delta)
	}
	span := uint64(max(m.g.hexRows, 1) * m.g.bpr)
	if m.cur < m.top {
		m.top = m.rowOf(m.cur)
	} else if m.cur >= m.top+span {
		m.top = m.rowOf(m.cur) - span + uint64(m.g.bpr)
	}
	m.clampTop()
}

func (m *memoryView) rowOf(a uint64) uint64 { return a / uint64(m.g.bpr) * uint64(m.g.bpr) }

// clampTop keeps the last row of the space at the bottom at most.
func (m *memoryView) clampTop() {
	span := uint64(max(m.g.hexRows, 1) * m.g.bpr)
	if m.maxAddr > span && m.top > m.rowOf(m.maxAddr-1)+uint64(m.g.bpr)-span {
		m.top = m.rowOf(m.maxAddr-1) + uint64(m.g.bpr) - span
	}
}

func (m *memoryView) key(msg tea.KeyPressMsg) tea.Cmd {
	if m.maxAddr == 0 {
		return nil
	}
	k := m.keys
	bpr := int64(m.g.bpr)
	screen := int64(max(m.g.hexRows, 1)) * bpr
	page := m.cur / m.ps * m.ps
	switch {
	case key.Matches(msg, k.Focus):
		m.focusMap = !m.focusMap
		return nil
	case key.Matches(msg, k.Goto):
		return func() tea.Msg { return promptMsg{text: "pfn "} }
	case key.Matches(msg, k.Explain):
		return navigate("layout", explainMsg{pfn: m.curPFN()})
	case key.Matches(msg, k.Mark):
		return m.toggleMark()
	case key.Matches(msg, k.Copy):
		return m.copySelection()
	case key.Matches(msg, k.Write):
		return func() tea.Msg { return promptMsg{text: "write "} }
	case key.Matches(msg, k.NextRun):
		return m.startSeek(true)
	case key.Matches(msg, k.PrevRun):
		return m.startSeek(false)
	case key.Matches(msg, k.Top):
		m.moved = true
		m.jump(0)
	case key.Matches(msg, k.Bottom):
		m.moved = true
		m.jump((m.maxAddr - 1) / m.ps * m.ps)
	case key.Matches(msg, k.NextPage):
		m.moved = true
		if page+m.ps < m.maxAddr {
			m.jump(page + m.ps)
		}
	case key.Matches(msg, k.PrevPage):
		m.moved = true
		if page >= m.ps {
			m.jump(page - m.ps)
		} else {
			m.jump(0)
		}
	case m.focusMap:
		return m.mapKey(msg)
	case key.Matches(msg, k.Up):
		m.moveBy(-bpr)
	case key.Matches(msg, k.Down):
		m.moveBy(bpr)
	case key.Matches(msg, k.Left):
		m.moveBy(-1)
	case key.Matches(msg, k.Right):
		m.moveBy(1)
	case key.Matches(msg, k.PageUp):
		m.top -= min(m.top, uint64(screen))
		m.moveBy(-screen)
	case key.Matches(msg, k.PageDown):
		m.top += uint64(screen)
		m.clampTop()
		m.moveBy(screen)
	default:
		return nil
	}
	return m.ensure()
}

// mapKey moves the cursor cell by cell through the minimap.
func (m *memoryView) mapKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	cell := m.mm.cellOf(uint64(m.curPFN()))
	cols := m.mm.cols
	switch {
	case key.Matches(msg, k.Left):
		cell--
	case key.Matches(msg, k.Right):
		cell++
	case key.Matches(msg, k.Up):
		cell -= cols
	case key.Matches(msg, k.Down):
		cell += cols
	case key.Matches(msg, k.PageUp):
		cell -= cols * max(m.mm.rows/2, 1)
	case key.Matches(msg, k.PageDown):
		cell += cols * max(m.mm.rows/2, 1)
	default:
		return nil
	}
	m.moved = true
	m.jump(m.mm.cellStart(cell) * m.ps)
	return m.ensure()
}

func (m *memoryView) mouse(msg tea.MouseMsg) tea.Cmd {
	mo := msg.Mouse()
	g := m.g
	inMap := mo.X >= g.mapX && mo.X < g.mapX+g.mapW && mo.Y >= g.mapY && mo.Y < g.mapY+m.mm.rows
	switch msg.(type) {
	case tea.MouseWheelMsg:
		d := int64(3 * g.bpr)
		if inMap {
			d = int64(m.mm.cols) * int64(m.ps) * int64(m.mm.framesPer())
		}
		if mo.Button == tea.MouseWheelUp {
			d = -d
		}
		m.top = uint64(max(int64(m.top)+d, 0))
		m.moveBy(d)
		return m.ensure()
	case tea.MouseClickMsg:
		if mo.Button != tea.MouseLeft {
			return nil
		}
		if inMap {
			cell := (mo.Y-g.mapY)*m.mm.cols + (mo.X - g.mapX)
			if cell < len(m.mm.cells) {
				m.moved = true
				m.jump(m.mm.cellStart(cell) * m.ps)
				return m.ensure()
			}
			return nil
		}
		if row := mo.Y - g.hexY; row >= 0 && row < g.hexRows && mo.X < g.hexW {
			if i, ok := g.byteAt(mo.X); ok {
				m.moved = true
				m.focusMap = false
				m.cur = min(m.top+uint64(row*g.bpr+i), m.maxAddr-1)
			}
		}
	}
	return nil
}

// framesPer is the average number of frames per cell (at least 1).
func (mm *minimap) framesPer() uint64 {
	cs := mm.cellSplit()
	if cs.n == 0 {
		return 1
	}
	return max(mm.maxPFN/cs.n, 1)
}

// Cancel stops the view's newest work: a write, a find or a run jump if
// one is running; else it closes the translation panel or drops the
// selection; else it stops the minimap pass.
func (m *memoryView) Cancel() bool {
	if m.write.stop() || m.find.job.stop() || m.seek.stop() || m.closeVaddr() {
		return true
	}
	if m.marked {
		m.marked = false
		return true
	}
	return m.mapJob.stop()
}

// Commands adds :pfn, :phys, :vaddr, :find, :findhex and :next.
func (m *memoryView) Commands() []Command {
	last := max(m.c.Info.MaxPFN, 1) - 1
	return []Command{
		{Name: "pfn", Args: "N", Help: "show frame N in Memory", Jump: true, Run: func(a string) (tea.Cmd, error) {
			n, err := present.ParseNumber(a)
			if err != nil {
				return nil, err
			}
			if n >= uint64(m.c.Info.MaxPFN) {
				return nil, fmt.Errorf("pfn %#x is beyond the dump's last frame %s", n, last)
			}
			return func() tea.Msg { return gotoPhysMsg{addr: model.PFN(n).Addr(m.ps)} }, nil
		}},
		{Name: "phys", Args: "ADDR", Help: "show physical address ADDR in Memory", Jump: true, Run: func(a string) (tea.Cmd, error) {
			n, err := present.ParseNumber(a)
			if err != nil {
				return nil, err
			}
			if n >= m.maxAddr {
				return nil, fmt.Errorf("phys %#x is beyond the dump's last frame %s (which ends at %#x)", n, last, m.maxAddr-1)
			}
			return func() tea.Msg { return gotoPhysMsg{addr: model.PhysAddr(n)} }, nil
		}},
		{Name: "vaddr", Args: "ADDR", Jump: true, Help: "translate kernel virtual address ADDR through the page tables and show its frame in Memory", Run: func(a string) (tea.Cmd, error) {
			va, err := present.ParseNumber(a)
			if err != nil {
				return nil, err
			}
			return m.startVaddr(va), nil
		}},
		{Name: "find", Args: "TEXT", Jump: true, Help: "find text in physical memory from the cursor on", Run: func(a string) (tea.Cmd, error) {
			return m.startFind([]byte(a), fmt.Sprintf("%q", a), m.cur)
		}},
		{Name: "findhex", Args: "HEX", Jump: true, Help: "find bytes (\"de ad be ef\" or 0xdeadbeef) from the cursor on", Run: func(a string) (tea.Cmd, error) {
			b, err := parseHexBytes(a)
			if err != nil {
				return nil, err
			}
			return m.startFind(b, "0x"+fmt.Sprintf("%x", b), m.cur)
		}},
		{Name: "write", Args: "FILE", Help: "write the selection (v … cursor), or the page, to a new file", Run: m.writeSelection},
		{Name: "next", Jump: true, Help: "go to the next match of the last find", Run: func(string) (tea.Cmd, error) {
			return m.findNext()
		}},
	}
}

// memPlace is a position in the Memory view.
type memPlace struct{ cur, top uint64 }

// Location implements Locator.
func (m *memoryView) Location() any { return memPlace{m.cur, m.top} }

// Restore implements Locator.
func (m *memoryView) Restore(loc any) tea.Cmd {
	p, ok := loc.(memPlace)
	if !ok || m.maxAddr == 0 {
		return nil
	}
	m.closeVaddr()
	m.moved, m.focusMap = true, false
	m.cur, m.top = min(p.cur, m.maxAddr-1), p.top
	m.clampTop()
	return m.ensure()
}

// Search finds text in memory: / starts at the cursor, n goes on, N goes
// back through the matches found so far.
// hasSearch implements ownSearcher: after :find or :findhex, n and N go
// on with that pattern.
func (m *memoryView) hasSearch() bool { return m.find.pattern != nil }

func (m *memoryView) Search(q string, dir searchDir) tea.Cmd {
	var cmd tea.Cmd
	var err error
	switch dir {
	case searchNew:
		cmd, err = m.startFind([]byte(q), fmt.Sprintf("%q", q), m.cur)
	case searchNext:
		if m.find.pattern == nil {
			cmd, err = m.startFind([]byte(q), fmt.Sprintf("%q", q), m.cur)
		} else {
			cmd, err = m.findNext()
		}
	case searchPrev:
		cmd = m.findPrev()
	}
	if err != nil {
		return errorCmd(err)
	}
	return cmd
}
