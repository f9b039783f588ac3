package ui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dumpscope/open"
	"dumpscope/reader"
)

// TestDataInspector: at the cursor the inspector reads u16, u32 and u64 in
// both byte orders, the dump's first, and names the pointer-sized value
// by kallsyms (issue 12 item 21).
func TestDataInspector(t *testing.T) {
	m := newTestModel(t, smallELF(t), 120, 40, "dark")
	typeLine(t, m, ":phys 0x1012") // "needle h"
	s := flat(ansi.Strip(screen(m)))
	for _, w := range []string{"cursor 0x1012 = u8 0x6e 110 'n'",
		"le u16 0x656e 25966 u32 0x6465656e 1684366702 u64 0x6820656c6465656e 7503108495414486382 (the dump's byte order)",
		"be u16 0x6e65 28261 u32 0x6e656564 1852138852 u64 0x6e6565646c652068 7954875798809550952"} {
		if !strings.Contains(s, w) {
			t.Errorf("the inspector lacks %q:\n%s", w, ansi.Strip(screen(m)))
		}
	}
	// Near the end of the dump's last readable page the wider values are
	// not there.
	typeLine(t, m, ":phys 0x2ffd")
	if s := flat(ansi.Strip(screen(m))); !strings.Contains(s, "le u16 0x") || !strings.Contains(s, "u64 -") {
		t.Errorf("the inspector at the end of a run:\n%s", ansi.Strip(screen(m)))
	}
	// A kernel pointer on the stack of the paging fixture is named.
	m = newTestModel(t, pagingFixture(t), 160, 50, "dark")
	typeLine(t, m, ":vaddr 0xffffffff80a03e58")
	if s := flat(ansi.Strip(screen(m))); !strings.Contains(s, "le u16 0xcd84") || !strings.Contains(s, "u64 0xffffffff8020cd84") ||
		!strings.Contains(s, "→ amd_e400_idle+0x14") {
		t.Errorf("the return address on the stack is not named:\n%s", ansi.Strip(screen(m)))
	}
}

// clipboard runs the commands a key press returns and gives what they put
// on the clipboard (OSC 52, tea.SetClipboard).
func clipboard(t *testing.T, m *Model, key string) string {
	t.Helper()
	var got string
	queue := []tea.Cmd{update(m, keyMsg(key))}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		default:
			if fmt.Sprintf("%T", msg) == "tea.setClipboardMsg" {
				got = fmt.Sprint(msg)
				continue
			}
			queue = append(queue, update(m, msg))
		}
	}
	return got
}

// TestCopyAndWriteTheSelection: v marks, y copies the selection as hex,
// w writes its bytes to a new file and says where; an existing file — the
// dump's own — is never written over (issue 12 item 21).
func TestCopyAndWriteTheSelection(t *testing.T) {
	dir := t.TempDir()
	dumpPath := filepath.Join(dir, "small.vmcore")
	b := smallELFBytes()
	if err := os.WriteFile(dumpPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := open.Open(dumpPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	m := newTestModel(t, d, 120, 40, "dark")
	typeLine(t, m, ":phys 0x1012")
	press(t, m, "v", "l", "l", "l", "l", "l")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "selected 0x1012-0x1017 (6 bytes; y copies, w writes)") {
		t.Fatalf("the selection is not shown:\n%s", s)
	}
	if got := clipboard(t, m, "y"); got != "6e 65 65 64 6c 65" {
		t.Fatalf("y copies %q, want the six bytes of \"needle\"", got)
	}
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "copied phys 0x1012-0x1017 (6 bytes) as hex to the clipboard") {
		t.Fatalf("no word of the copy:\n%s", s)
	}
	out := filepath.Join(dir, "needle.bin")
	press(t, m, "w")
	typeLine(t, m, out)
	if s := flat(ansi.Strip(screen(m))); !strings.Contains(s, "wrote phys 0x1012-0x1017 (6 bytes) to "+out) {
		t.Fatalf("no word of the write:\n%s", s)
	}
	if got, _ := os.ReadFile(out); string(got) != "needle" {
		t.Fatalf("the file holds %q", got)
	}
	// Neither the file just written nor the dump is written over.
	for _, p := range []string{out, dumpPath} {
		typeLine(t, m, ":write "+p)
		if s := flat(ansi.Strip(screen(m))); !strings.Contains(s, p+" exists and is not written over") {
			t.Fatalf(":write %s:\n%s", p, lastLines(s, 2))
		}
	}
	if got, _ := os.ReadFile(dumpPath); !bytes.Equal(got, b) {
		t.Fatal("the dump changed")
	}
	// Without a mark, the page under the cursor; pages not in the dump
	// are written as zeros and counted.
	press(t, m, "esc")
	typeLine(t, m, ":pfn 0x3")
	page := filepath.Join(dir, "page3.bin")
	typeLine(t, m, ":write "+page)
	if s := flat(ansi.Strip(screen(m))); !strings.Contains(s, "wrote pfn 0x3 (4096 bytes) to "+page+"; 1 page not in the dump written as zeros") {
		t.Fatalf("no word of the page write:\n%s", lastLines(s, 2))
	}
	if got, _ := os.ReadFile(page); !bytes.Equal(got, make([]byte, 4096)) {
		t.Fatalf("pfn 3 (not in the dump) was written as % x…", got[:min(len(got), 16)])
	}
	// And the page of pfn 1, which is in the dump.
	typeLine(t, m, ":pfn 0x1")
	one := filepath.Join(dir, "page1.bin")
	typeLine(t, m, ":write "+one)
	want := make([]byte, 4096)
	if _, err := d.ReadPage(1, want, reader.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(one); !bytes.Equal(got, want) {
		t.Fatal("the file of pfn 1 is not its page")
	}
}
