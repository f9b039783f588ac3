package ui

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/present"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// End-to-end tests in a real terminal: the dumpscope binary runs in a
// detached tmux session, keys go in with send-keys and the screen comes
// back with capture-pane.

// tmuxSession is one detached session on a private tmux server.
type tmuxSession struct {
	t      *testing.T
	socket string
}

// buildBinary builds dumpscope once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed: skipping the end-to-end terminal tests")
	}
	bin := filepath.Join(t.TempDir(), "dumpscope")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dumptest.ModuleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startTmux runs argv (with extra environment) in a 120×40 session.
func startTmux(t *testing.T, env []string, argv ...string) *tmuxSession {
	t.Helper()
	s := &tmuxSession{t: t, socket: fmt.Sprintf("dumpscope-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	// The binary remembers its page-cache work in a cache folder
	// (internal/hugeheap.ReloadText): the test's, not the user's.
	env = append([]string{"XDG_CACHE_HOME=" + t.TempDir()}, env...)
	shell := "exec env " + strings.Join(append(env, argv...), " ")
	s.tmux("-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", shell)
	t.Cleanup(func() { exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// capture returns the screen; with escapes, styles are kept as SGR.
func (s *tmuxSession) capture(escapes bool) string {
	args := []string{"capture-pane", "-p", "-t", "e2e"}
	if escapes {
		args = append(args, "-e")
	}
	return s.tmux(args...)
}

// waitFor polls the screen until it contains text.
func (s *tmuxSession) waitFor(text string) string {
	s.t.Helper()
	return s.waitUntil(text, func(screen string) bool { return strings.Contains(screen, text) })
}

// waitUntil polls the screen until ok accepts it.
func (s *tmuxSession) waitUntil(what string, ok func(string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		screen := s.capture(false)
		if ok(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s; the screen is:\n%s", what, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// typeKeys types literal text, then presses the named keys.
func (s *tmuxSession) typeKeys(text string, keys ...string) {
	s.tmux("send-keys", "-t", "e2e", "-l", text)
	if len(keys) > 0 {
		s.tmux(append([]string{"send-keys", "-t", "e2e"}, keys...)...)
	}
}

// waitExit waits for the program to end (the session goes away).
func (s *tmuxSession) waitExit() {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if exec.Command("tmux", "-L", s.socket, "has-session", "-t", "e2e").Run() != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("dumpscope did not quit; the screen is:\n%s", s.capture(false))
}

// checkPageOnScreen compares every hex row on the screen with the page.
func checkPageOnScreen(t *testing.T, screen string, pfn model.PFN, page []byte) {
	t.Helper()
	rows := hexRowsOnScreen(screen)
	if len(rows) < 20 {
		t.Fatalf("only %d hex rows on the screen:\n%s", len(rows), screen)
	}
	base := uint64(pfn) * uint64(len(page))
	for addr, b := range rows {
		if addr < base || addr+uint64(len(b)) > base+uint64(len(page)) {
			t.Fatalf("row %#x lies outside pfn %s", addr, pfn)
		}
		if want := page[addr-base : addr-base+uint64(len(b))]; !bytes.Equal(b, want) {
			t.Fatalf("row %#x on screen is % x, ReadPage gives % x", addr, b, want)
		}
	}
}

func TestTmuxPFNShowsThePage(t *testing.T) {
	bin := buildBinary(t)
	const pfn = model.PFN(0xa05)
	cases := []struct {
		name   string
		env    []string
		args   []string
		dump   func(t *testing.T) reader.Dump
		colour bool // whether colour escapes are expected
	}{
		{"demo", nil, nil, func(t *testing.T) reader.Dump { return openDemo(t) }, true},
		{"fixture", nil, []string{"FIXTURE"}, nil, true},
		{"fixture-NO_COLOR=1", []string{"NO_COLOR=1"}, []string{"FIXTURE"}, nil, false},
		{"fixture-NO_COLOR=yes", []string{"NO_COLOR=yes"}, []string{"FIXTURE"}, nil, false},
		{"demo-color-never", nil, []string{"--color=never"}, func(t *testing.T) reader.Dump { return openDemo(t) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{bin}, tc.args...)
			dump := tc.dump
			if len(tc.args) > 0 && tc.args[0] == "FIXTURE" {
				path := dumptest.Fixture(t, "x86_64/qemu-elf-mini.vmcore")
				args[1] = path
				dump = func(t *testing.T) reader.Dump {
					d, err := open.Open(path)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { d.Close() })
					return d
				}
			}
			page := make([]byte, 4096)
			if _, err := dump(t).ReadPage(pfn, page, reader.ReadOptions{}); err != nil {
				t.Fatal(err)
			}
			env := append([]string{"TERM=xterm-256color", "COLORTERM="}, tc.env...)
			s := startTmux(t, env, args...)
			s.waitFor("1 Overview")
			s.typeKeys(":pfn 0xa05", "Enter")
			// Wait for the whole screen: a capture can catch the terminal
			// half-way through drawing a frame.
			screen := s.waitUntil("pfn 0xa05's rows", func(screen string) bool {
				rows := hexRowsOnScreen(screen)
				_, first := rows[uint64(pfn)*4096]
				return first && len(rows) > 20 && strings.Contains(screen, "pfn 0xa05  phys 0xa05000-0xa05fff  █ present")
			})
			checkPageOnScreen(t, screen, pfn, page)
			styled := s.capture(true)
			switch {
			case tc.colour && !colourSGR.MatchString(styled):
				t.Fatalf("no colour escapes on a colour terminal:\n%q", styled)
			case !tc.colour && colourSGR.MatchString(styled):
				t.Fatalf("colour escape %q written although colour is off", colourSGR.FindString(styled))
			case !tc.colour && !strings.Contains(styled, "\x1b[7m") && !strings.Contains(styled, ";7m"):
				t.Fatalf("without colour the selection is not shown in reverse video:\n%q", styled)
			}
			// Scroll one screen down: the rows still match the page.
			s.typeKeys("", "PageDown")
			screen = s.waitUntil("the rows to scroll", func(screen string) bool {
				_, first := hexRowsOnScreen(screen)[uint64(pfn)*4096]
				return !first && len(hexRowsOnScreen(screen)) > 20
			})
			checkPageOnScreen(t, screen, pfn, page)
			s.typeKeys("q")
			s.waitExit()
		})
	}
}

// TestTmuxUpAtOnce opens the largest fixture and a 1 TiB synthetic dump
// and times the first screen and the Memory view.
func TestTmuxUpAtOnce(t *testing.T) {
	bin := buildBinary(t)
	huge := filepath.Join(t.TempDir(), "huge.vmcore")
	hugeBytes, _ := hugeELFBytes()
	if err := os.WriteFile(huge, hugeBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, file, memory string }{
		{"qemu-elf-paging", "", "pfn 0x0  phys 0x0-0xfff"},
		{"1TiB", huge, "pfn 0xfffffff  phys 0xfffffff000-0xffffffffff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = dumptest.Fixture(t, "x86_64/qemu-elf-paging.vmcore")
			}
			start := time.Now()
			s := startTmux(t, []string{"TERM=xterm-256color"}, bin, file)
			s.waitFor("1 Overview")
			up := time.Since(start)
			s.typeKeys("7") // Memory
			s.waitFor(tc.memory)
			t.Logf("%s: first screen after %v, Memory after %v", tc.name, up.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
			if up > 5*time.Second {
				t.Fatalf("the first screen took %v", up)
			}
			s.typeKeys("q")
			s.waitExit()
		})
	}
}

// TestTmuxLogShowsTheMarker opens the paging fixture and reads its kernel
// log in the Log view, which opens on the newest records.
func TestTmuxLogShowsTheMarker(t *testing.T) {
	path := dumptest.Fixture(t, "x86_64/qemu-elf-paging.vmcore")
	bin := buildBinary(t)
	s := startTmux(t, []string{"TERM=xterm-256color"}, bin, path)
	s.waitFor("1 Overview")
	s.typeKeys(":view log", "Enter")
	// The Overview shows the last log lines too: wait for the Log view's
	// own rows, level and caller first.
	want := []string{"Kernel log · ", "warn   T1  [    1.402019] " + markerLine,
		"warn   T32 [    1.478323] dumpfixture: pattern holder pid 32 len 983040"}
	s.waitUntil("the Log view's rows", func(screen string) bool {
		for _, w := range want {
			if !strings.Contains(screen, w) {
				return false
			}
		}
		return true
	})
	s.typeKeys("q")
	s.waitExit()
}

// TestTmuxVaddrShowsTheKernelText translates SYMBOL(_stext) of the paging
// fixture in Memory: the hex rows are the bytes `dumpscope read --vaddr`
// gives, and the walk is shown level by level.
func TestTmuxVaddrShowsTheKernelText(t *testing.T) {
	path := dumptest.Fixture(t, "x86_64/qemu-elf-paging.vmcore")
	bin := buildBinary(t)
	const stext = "0xffffffff80200000"
	text, err := exec.Command(bin, "read", "--vaddr", stext, "--len", "4096", "--raw", path).Output()
	if err != nil || len(text) != 4096 {
		t.Fatalf("dumpscope read --vaddr: %v (%d bytes)", err, len(text))
	}
	s := startTmux(t, []string{"TERM=xterm-256color"}, bin, path)
	s.waitFor("1 Overview")
	s.typeKeys("7") // Memory
	s.waitFor("Physical memory")
	s.typeKeys(":vaddr "+stext, "Enter")
	screen := s.waitUntil("the kernel text's rows", func(screen string) bool {
		rows := hexRowsOnScreen(screen)
		_, first := rows[0x200000]
		return first && len(rows) > 20 && strings.Contains(screen, "→ phys 0x200000") && strings.Contains(screen, "agrees with the walk")
	})
	checkPageOnScreen(t, screen, 0x200, text)
	for _, w := range []string{"vaddr " + stext, "pml4[511]", "pdpt[510]", "pd[1]", "2 MiB page by page-table walk",
		"kernel text map: 0x200000, agrees with the walk"} {
		if !strings.Contains(screen, w) {
			t.Fatalf("the translation lacks %q:\n%s", w, screen)
		}
	}
	s.typeKeys("q")
	s.waitExit()
}

// TestTmuxNeedsATerminal runs the binary in a terminal with its standard
// output piped to cat, then with its standard input from /dev/null: it
// says why it does not start, names `dumpscope info`, and exits 2 at once
// instead of waiting for keys or drawing into the pipe (issue 12 item 18).
func TestTmuxNeedsATerminal(t *testing.T) {
	bin := buildBinary(t)
	for _, tc := range []struct{ name, redirect, which string }{
		{"stdout piped", "| cat", "standard output"},
		{"stdin from /dev/null", "< /dev/null", "standard input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startTmux(t, nil, "bash", "-c", fmt.Sprintf("'set -o pipefail; %s %s; echo exit=$?; sleep 30'", bin, tc.redirect))
			// The message is longer than the terminal is wide: join the
			// lines it wraps into.
			screen := strings.ReplaceAll(s.waitFor("exit="), "\n", "")
			want := "dumpscope: the terminal UI needs a terminal and " + tc.which + " is not one; `dumpscope info` prints what it shows as text"
			if !strings.Contains(screen, want) || !strings.Contains(screen, "exit=2") {
				t.Fatalf("the screen lacks %q and exit=2:\n%s", want, screen)
			}
		})
	}
}

// TestTmuxMemoryLinks drives the Memory view in a real terminal: a find
// past the last match wraps around and puts the match in the middle of the
// hex pane; ctrl+o and backspace go back through the places left; v, y
// and w copy a selection to the clipboard (tmux keeps OSC 52 copies as a
// buffer) and write it to a new file (issue 12 items 21 and 24).
func TestTmuxMemoryLinks(t *testing.T) {
	bin := buildBinary(t)
	s := startTmux(t, []string{"TERM=xterm-256color"}, bin)
	s.tmux("set-option", "-g", "set-clipboard", "on")
	s.waitFor("1 Overview")
	s.typeKeys(":pfn 0xb00", "Enter")
	s.waitFor("pfn 0xb00  phys 0xb00000-0xb00fff")
	s.typeKeys(":find dumpfixture: marker", "Enter")
	screen := s.waitFor("wrapped around to the start")
	if !strings.Contains(screen, "pfn 0xadc  phys 0xadc000-0xadcfff") || !strings.Contains(screen, `"dumpfixture: marker" at phys 0xadcb08`) {
		t.Fatalf("the find did not wrap to the marker:\n%s", screen)
	}
	var rows []string
	for _, l := range strings.Split(screen, "\n") {
		if f := strings.Fields(l); len(f) > 1 && len(f[0]) == 8 && strings.HasPrefix(f[0], "00a") {
			rows = append(rows, f[0])
		}
	}
	at := slices.Index(rows, "00adcb00")
	if at < 0 || at < len(rows)/2-1 || at > len(rows)/2+1 {
		t.Fatalf("the match's row is row %d of %d, not in the middle:\n%s", at, len(rows), screen)
	}
	s.typeKeys("", "C-o")
	s.waitFor("pfn 0xb00  phys 0xb00000-0xb00fff")
	s.typeKeys("", "BSpace")
	s.waitFor("crash signature") // back on the Overview, where :pfn was typed
	// Select the marker's 19 bytes, copy them and write them.
	s.typeKeys(":phys 0xadcb08", "Enter")
	s.waitFor("cursor 0xadcb08")
	s.typeKeys("v" + strings.Repeat("l", 18))
	s.waitFor("selected 0xadcb08-0xadcb1a")
	s.typeKeys("y")
	s.waitFor("copied phys 0xadcb08-0xadcb1a (19 bytes) as hex to the clipboard")
	want := "64 75 6d 70 66 69 78 74 75 72 65 3a 20 6d 61 72 6b 65 72"
	if got := strings.TrimSpace(s.tmux("show-buffer")); got != want {
		t.Fatalf("the clipboard holds %q, want %q", got, want)
	}
	out := filepath.Join(t.TempDir(), "marker.bin")
	s.typeKeys("w")
	s.waitFor(":write")
	s.typeKeys(out, "Enter")
	s.waitUntil("the write's report", func(screen string) bool {
		return strings.Contains(strings.ReplaceAll(screen, "\n", ""), "wrote phys 0xadcb08-0xadcb1a (19 bytes) to "+out)
	})
	if got, err := os.ReadFile(out); err != nil || string(got) != "dumpfixture: marker" {
		t.Fatalf("the file holds %q (%v)", got, err)
	}
	s.typeKeys("q")
	s.waitExit()
}

// TestTmuxThemeFromCOLORFGBG: a terminal that says its background through
// COLORFGBG gets the matching theme from the first frame (tmux does not
// answer the background query itself) (issue 12 item 26).
func TestTmuxThemeFromCOLORFGBG(t *testing.T) {
	bin := buildBinary(t)
	headerBG := regexp.MustCompile(`\x1b\[48;5;(\d+)m`)
	bg := map[string]int{}
	for _, v := range []string{"0;15", "15;0"} {
		s := startTmux(t, []string{"TERM=xterm-256color", "COLORFGBG='" + v + "'"}, bin)
		s.waitFor("1 Overview")
		top := strings.SplitN(s.capture(true), "\n", 2)[0]
		m := headerBG.FindStringSubmatch(top)
		if m == nil {
			t.Fatalf("COLORFGBG=%s: no background on the header: %q", v, top)
		}
		bg[v], _ = strconv.Atoi(m[1])
		s.typeKeys("q")
		s.waitExit()
	}
	// 232-255 is the grey ramp from black to white.
	if bg["0;15"] < 250 || bg["15;0"] >= 240 {
		t.Fatalf("header backgrounds: light terminal %d, dark terminal %d", bg["0;15"], bg["15;0"])
	}
}

// TestTmuxTasksFlow drives the Tasks view on the Debian panic dump in a
// real terminal: open it, filter, select the task, open a frame's code,
// close it with ctrl+o, show the frame's stack slot in Memory and come
// back with backspace.
func TestTmuxTasksFlow(t *testing.T) {
	path := dumptest.KernelFixture(t, debianPanic)
	// What the screens must show, from the engine.
	k, err := debianSession(t, debianPanic).Kernel()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tasks, err := k.Tasks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inits, err := k.TasksByPID(ctx, 1)
	if err != nil || len(inits) != 1 {
		t.Fatalf("pid 1: %v %v", inits, err)
	}
	bt, err := k.TaskBacktrace(ctx, inits[0])
	if err != nil || len(bt.Frames) < 4 {
		t.Fatalf("pid 1's stack: %v %v", bt, err)
	}
	f := bt.Frames[3]
	dis, err := k.Disassemble(ctx, kernel.DisasmOptions{Addr: &f.PC, Count: codeCount})
	if err != nil {
		t.Fatal(err)
	}
	marked := slices.IndexFunc(dis.Instructions, func(in model.Instruction) bool { return in.Marked })
	if marked < 1 {
		t.Fatalf("no instruction before the return address in %+v", dis.Instructions)
	}
	call, ret := present.Instruction(dis.Instructions[marked-1]), present.Instruction(dis.Instructions[marked])
	filtered := fmt.Sprintf("Tasks (1 of %d) · filter: init", len(tasks))

	bin := buildBinary(t)
	s := startTmux(t, []string{"TERM=xterm-256color"}, bin, path)
	s.waitFor("crash signature")
	s.typeKeys(":view tasks", "Enter")
	s.waitFor(fmt.Sprintf("Tasks (%d) · f: filter", len(tasks)))
	s.typeKeys("f")
	s.waitFor(":filter")
	s.typeKeys("init", "Enter")
	s.waitFor(filtered)
	s.typeKeys("", "Enter") // the task's stack
	s.waitFor(present.BacktraceTitle(*bt))
	s.waitFor(present.FrameLine(bt.Frames[len(bt.Frames)-1]))
	s.typeKeys("jjj", "Enter") // frame #3's code
	s.waitFor("Code of #3 " + f.Location)
	s.waitFor("-> " + call.Addr + " " + call.Location)
	s.waitFor("=> " + ret.Addr + " " + ret.Location)
	s.typeKeys("", "C-o")
	s.waitUntil("the code pane to close", func(screen string) bool {
		return !strings.Contains(screen, "Code of #3") && strings.Contains(screen, filtered)
	})
	s.typeKeys("m") // the frame's stack slot in Memory
	s.waitFor("vaddr " + f.Slot.String() + " → phys")
	s.typeKeys("", "BSpace")
	s.waitUntil("the Tasks view again", func(screen string) bool {
		return strings.Contains(screen, filtered) && strings.Contains(screen, present.FrameLine(f))
	})
	s.typeKeys("q")
	s.waitExit()
}

// TestTmuxLogJumps: in the Log view of the Debian panic dump, p goes to
// the crash, f filters by level, ] says there is no later report.
func TestTmuxLogJumps(t *testing.T) {
	path := dumptest.KernelFixture(t, debianPanic)
	// The crash's report and its first two records, from the engine.
	k, err := debianSession(t, debianPanic).Kernel()
	if err != nil {
		t.Fatal(err)
	}
	a, err := k.Crash(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	recs, err := k.Log(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cause := a.Reports[slices.IndexFunc(a.Reports, func(r model.CrashReportRef) bool { return r.Cause })]
	first := slices.IndexFunc(recs, func(r model.LogRecord) bool { return r.Seq == cause.FirstSeq })
	if first < 0 || first+1 >= len(recs) {
		t.Fatalf("no record %d in the log", cause.FirstSeq)
	}
	gutter := func(r model.LogRecord) string {
		return levelName(r.Level) + strings.Repeat(" ", 7-len(levelName(r.Level))) + r.Caller
	}
	opens := "┏ " + gutter(recs[first])
	next := "┃ " + gutter(recs[first+1])

	bin := buildBinary(t)
	s := startTmux(t, []string{"TERM=xterm-256color"}, bin, path)
	s.waitFor("crash signature")
	s.typeKeys(":view log", "Enter")
	s.waitFor(fmt.Sprintf("%s (]/[ move, p: the crash)", present.Count(len(a.Reports), "report")))
	s.typeKeys("gp")
	s.waitFor(fmt.Sprintf("of %d: %s (the crash)", len(a.Reports), cause.Title))
	s.waitUntil("the crash's lines marked", func(screen string) bool {
		return strings.Contains(screen, opens) && strings.Contains(screen, model.DmesgLine(recs[first])) &&
			strings.Contains(screen, next) && strings.Contains(screen, model.DmesgLine(recs[first+1]))
	})
	s.typeKeys("f")
	s.waitFor("warn and worse: ")
	s.typeKeys("]")
	s.waitFor("no report after this line")
	s.typeKeys("q")
	s.waitExit()
}
