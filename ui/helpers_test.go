package ui

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"image/color"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/klauspost/compress/zstd"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open/opentest"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// demoName is how the embedded demo is named (as in main's openDemo).
const demoName = "demo:qemu-elf-mini.vmcore"

var demoBytes = sync.OnceValues(func() ([]byte, error) {
	z, err := os.ReadFile(filepath.Join("..", "testdata", "demo", "qemu-elf-mini.vmcore.zst"))
	if err != nil {
		return nil, err
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	return dec.DecodeAll(z, nil)
})

// openDemo opens the demo dump that `dumpscope` embeds (it is part of the
// repository, not of the external fixtures).
func openDemo(t testing.TB) reader.Dump {
	t.Helper()
	b, err := demoBytes()
	if err != nil {
		t.Fatal(err)
	}
	return opentest.Bytes(t, demoName, b)
}

// hugeELF builds an ELF vmcore whose only PT_LOAD is one page at the top
// of a 1 TiB physical address space: MaxPFN is 2^28.
func hugeELF(t testing.TB) reader.Dump {
	t.Helper()
	b, _ := hugeELFBytes()
	return opentest.Bytes(t, "huge.vmcore", b)
}

func hugeELFBytes() ([]byte, dumptest.ELFLayout) {
	c := dumptest.ELFCore{Class: elf.ELFCLASS64, Order: binary.LittleEndian, Machine: elf.EM_X86_64,
		Segments: []dumptest.ELFSegment{{Paddr: (1<<28 - 1) * 4096, Data: dumptest.Pattern(7, 4096)}}}
	return c.Bytes()
}

// smallELF builds an ELF vmcore with two PT_LOADs (one with zero fill), a
// gap between them, two CPUs and a VMCOREINFO note.
func smallELF(t testing.TB) reader.Dump {
	t.Helper()
	return opentest.Bytes(t, "small.vmcore", smallELFBytes())
}

// smallELFBytes is smallELF's file.
func smallELFBytes() []byte {
	regs := make([]uint64, 27)
	for i := range regs {
		regs[i] = uint64(i) * 0x1111
	}
	regs[18] = 0x246 // rflags
	vmci := "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=ffffffff82a0a000\nOFFSET(page.flags)=0\nSIZE(page)=64\nLENGTH(zone.free_area)=11\nNUMBER(phys_base)=0\nKERNELOFFSET=0\n"
	c := dumptest.ELFCore{Class: elf.ELFCLASS64, Order: binary.LittleEndian, Machine: elf.EM_X86_64,
		Notes: []dumptest.ELFNote{
			{Name: "CORE", Type: 1, Desc: dumptest.PrstatusX8664(binary.LittleEndian, 1, regs)},
			{Name: "CORE", Type: 1, Desc: dumptest.PrstatusX8664(binary.LittleEndian, 2, regs)},
			{Name: "VMCOREINFO", Type: 0, Desc: []byte(vmci)},
		},
		Segments: []dumptest.ELFSegment{
			{Paddr: 0x1000, Data: append([]byte("hello, dumpscope! needle here"), dumptest.Pattern(1, 2*4096-29)...)},
			{Paddr: 0x10000, Data: dumptest.Pattern(2, 4096), Memsz: 3 * 4096},
		}}
	b, _ := c.Bytes()
	return b
}

// newTestModel builds the UI at a size and theme and runs its start-up
// commands to the end.
func newTestModel(t testing.TB, d reader.Dump, w, h int, theme string) *Model {
	t.Helper()
	m := New(context.Background(), inspect.New(d), Options{Theme: theme})
	t.Cleanup(m.Close)
	send(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	run(t, m, m.Init())
	return m
}

// send gives messages to the model and runs the commands they return.
func send(t testing.TB, m *Model, msgs ...tea.Msg) {
	t.Helper()
	for _, msg := range msgs {
		run(t, m, update(m, msg))
	}
}

// run runs a command and everything it leads to, synchronously, feeding
// each message back into Update. It reports whether the program quit.
func run(t testing.TB, m *Model, cmd tea.Cmd) bool {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 100000 {
			t.Fatal("commands do not settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := c()
		switch msg := msg.(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
			return true
		default:
			queue = append(queue, update(m, msg))
		}
	}
	return false
}

// keyMsg builds a key press from its name ("j", "tab", "shift+tab",
// "ctrl+c", "enter").
func keyMsg(name string) tea.KeyPressMsg {
	special := map[string]rune{
		"tab": tea.KeyTab, "enter": tea.KeyEnter, "esc": tea.KeyEscape, "backspace": tea.KeyBackspace,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd, "space": tea.KeySpace,
	}
	var mod tea.KeyMod
	base := name
	if rest, ok := strings.CutPrefix(name, "ctrl+"); ok {
		mod, base = tea.ModCtrl, rest
	} else if rest, ok := strings.CutPrefix(name, "shift+"); ok {
		mod, base = tea.ModShift, rest
	}
	if r, ok := special[base]; ok {
		k := tea.KeyPressMsg{Code: r, Mod: mod}
		if base == "space" {
			k.Text = " "
		}
		return k
	}
	r := []rune(base)[0]
	if mod != 0 {
		return tea.KeyPressMsg{Code: r, Mod: mod}
	}
	return tea.KeyPressMsg{Code: r, Text: base}
}

// press sends key presses by name.
func press(t testing.TB, m *Model, names ...string) {
	t.Helper()
	for _, n := range names {
		send(t, m, keyMsg(n))
	}
}

// typeLine types text (each rune a key press) and presses enter.
func typeLine(t testing.TB, m *Model, text string) {
	t.Helper()
	for _, r := range text {
		send(t, m, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	press(t, m, "enter")
}

// screen returns the model's view content.
func screen(m *Model) string {
	inUI.Store(goroutineID())
	defer inUI.Store(0)
	return m.View().Content
}

// update calls Update, marking the goroutine as inside the UI so that
// strictDump can catch dump calls made from Update.
func update(m *Model, msg tea.Msg) tea.Cmd {
	inUI.Store(goroutineID())
	defer inUI.Store(0)
	_, cmd := m.Update(msg)
	return cmd
}

// inUI holds the id of the goroutine running Update or View, or 0.
var inUI atomic.Int64

func goroutineID() int64 {
	var buf [64]byte
	s := strings.TrimPrefix(string(buf[:runtime.Stack(buf[:], false)]), "goroutine ")
	id, _ := strconv.ParseInt(s[:strings.IndexByte(s, ' ')], 10, 64)
	return id
}

// strictDump fails the test when any method of the dump is called from
// inside Update or View: reads must run in commands.
type strictDump struct {
	reader.Dump
	t testing.TB
}

func (s strictDump) check(name string) {
	if id := inUI.Load(); id != 0 && id == goroutineID() {
		s.t.Errorf("Dump.%s called inside Update or View", name)
	}
}

func (s strictDump) Layout() (*model.Field, error) { s.check("Layout"); return s.Dump.Layout() }
func (s strictDump) Notes() ([]model.Note, error)  { s.check("Notes"); return s.Dump.Notes() }
func (s strictDump) VMCoreInfo() (*model.VMCoreInfo, error) {
	s.check("VMCoreInfo")
	return s.Dump.VMCoreInfo()
}
func (s strictDump) Registers() ([]model.RegisterSet, error) {
	s.check("Registers")
	return s.Dump.Registers()
}
func (s strictDump) Counts(ctx context.Context) (model.StateCounts, error) {
	s.check("Counts")
	return s.Dump.Counts(ctx)
}
func (s strictDump) ReadRange(ctx context.Context, start model.PFN, n uint64, opt reader.ReadOptions, fn func(model.PageInfo, []byte, error) bool) error {
	s.check("ReadRange")
	return s.Dump.ReadRange(ctx, start, n, opt, fn)
}
func (s strictDump) PageInfo(p model.PFN) model.PageInfo {
	s.check("PageInfo")
	return s.Dump.PageInfo(p)
}
func (s strictDump) ReadPage(p model.PFN, dst []byte, opt reader.ReadOptions) (model.PageInfo, error) {
	s.check("ReadPage")
	return s.Dump.ReadPage(p, dst, opt)
}
func (s strictDump) Runs(ctx context.Context, from model.PFN, detail bool, yield func(model.PageRun) bool) error {
	s.check("Runs")
	return s.Dump.Runs(ctx, from, detail, yield)
}
func (s strictDump) ReadFile(file string, p []byte, off int64) (int, error) {
	s.check("ReadFile")
	return s.Dump.ReadFile(file, p, off)
}
func (s strictDump) Check(ctx context.Context, report func(model.Problem)) error {
	s.check("Check")
	return s.Dump.Check(ctx, report)
}

// countingDump counts the page-level calls a UI makes, to prove it never
// walks every frame.
type countingDump struct {
	reader.Dump
	mu                   sync.Mutex
	pageInfos, readPages int
	runs                 int
}

func (c *countingDump) PageInfo(p model.PFN) model.PageInfo {
	c.mu.Lock()
	c.pageInfos++
	c.mu.Unlock()
	return c.Dump.PageInfo(p)
}

func (c *countingDump) ReadPage(p model.PFN, dst []byte, opt reader.ReadOptions) (model.PageInfo, error) {
	c.mu.Lock()
	c.readPages++
	c.mu.Unlock()
	return c.Dump.ReadPage(p, dst, opt)
}

func (c *countingDump) Runs(ctx context.Context, from model.PFN, detail bool, yield func(model.PageRun) bool) error {
	c.mu.Lock()
	c.runs++
	c.mu.Unlock()
	return c.Dump.Runs(ctx, from, detail, yield)
}

func colorOf(r, g, b uint8) color.Color { return color.RGBA{R: r, G: g, B: b, A: 0xff} }
