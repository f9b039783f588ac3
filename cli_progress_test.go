package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair (Linux /dev/ptmx), or skips.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open the pty's slave: %v", err)
	}
	return m, s
}

// runWithStderr runs the CLI with stderr sent to errf and stdout to a
// file, and returns the exit code.
func runWithStderr(t *testing.T, errf *os.File, args ...string) int {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = out, errf
	defer func() { os.Stdout, os.Stderr = oldOut, oldErr }()
	return run(args)
}

// TestProgressOnTerminalOnly: verify, find, pages and rearrange draw
// their progress on stderr when it is a terminal, and never when it is a
// pipe or a file (issue 12, item 16).
func TestProgressOnTerminalOnly(t *testing.T) {
	dir := t.TempDir()
	if err := writeKdumpDumps(dir); err != nil {
		t.Fatal(err)
	}
	kdump, flat := filepath.Join(dir, "synth.kdump"), filepath.Join(dir, "synth.flat")
	cmds := map[string][]string{
		"verifying":            {"verify", kdump},
		"searching":            {"find", "--text", "page 5 of", kdump},
		"reading the page map": {"pages", kdump},
		"rearranging":          {"rearrange", flat, filepath.Join(dir, "out.kdump")},
	}
	for label, args := range cmds {
		// A pipe: nothing but what the command says.
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		code := runWithStderr(t, w, args...)
		w.Close()
		piped, _ := io.ReadAll(r)
		r.Close()
		if code != 0 || bytes.ContainsAny(piped, "\r\033") || strings.Contains(string(piped), label) {
			t.Fatalf("%s in a pipe: exit %d, stderr %q", args[0], code, piped)
		}
		// A terminal: the progress line, erased at the end.
		m, s := openPTY(t)
		got := make(chan []byte)
		go func() { b, _ := io.ReadAll(m); got <- b }()
		code = runWithStderr(t, s, args...)
		s.Close()
		tty := <-got
		m.Close()
		if code != 0 || !strings.Contains(string(tty), label+": ") || !bytes.HasSuffix(tty, []byte("\r\033[K")) {
			t.Fatalf("%s on a terminal: exit %d, stderr %q", args[0], code, tty)
		}
	}
}

// TestDevNullIsNotATerminal: /dev/null is a character device but not a
// terminal; `rearrange IN - > /dev/null` was refused as one.
func TestDevNullIsNotATerminal(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Fatalf("%s is taken for a terminal", os.DevNull)
	}
}
