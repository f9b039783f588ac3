package ui

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect"
	"dumpscope/open"
	"dumpscope/reader/dumptest"
)

// The Debian kernel fixtures (../shared/kernel-fixtures): real dumps of a
// distribution kernel with BTF, ORC and kallsyms, and crash's view of
// them (*.crash.json). Tests skip when they are absent.

const (
	debianPanic   = "panic-sysrq-mdf-zlib-d31.kdump"
	debianStopped = "stopped-mdf-zlib-d31.kdump"
)

// debianSessions are the sessions over the Debian dumps, one per dump for
// the whole test binary: their engines decode kallsyms, BTF, the tasks and
// the crash analysis once, so each test does not pay for it again.
var (
	debianMu       sync.Mutex
	debianSessions = map[string]*inspect.Session{}
)

// debianSession opens a Debian dump once (skipping without the fixtures).
func debianSession(t testing.TB, name string) *inspect.Session {
	t.Helper()
	path := dumptest.KernelFixture(t, name)
	debianMu.Lock()
	defer debianMu.Unlock()
	if s, ok := debianSessions[name]; ok {
		return s
	}
	d, err := open.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s := inspect.New(d)
	debianSessions[name] = s
	return s
}

// newSessionModel builds the UI on a session at a size and theme and runs
// its start-up commands to the end.
func newSessionModel(t testing.TB, s *inspect.Session, w, h int, theme string) *Model {
	t.Helper()
	m := New(context.Background(), s, Options{Theme: theme})
	t.Cleanup(m.Close)
	send(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	run(t, m, m.Init())
	return m
}

// crashOracle is the part of a fixture's *.crash.json the tests read.
type crashOracle struct {
	Tasks []struct {
		PID    int64  `json:"pid"`
		State  string `json:"state"`
		Comm   string `json:"comm"`
		Task   string `json:"task"`
		Active bool   `json:"active"`
	} `json:"tasks"`
	Modules []struct {
		Name string `json:"name"`
		Base string `json:"base"`
	} `json:"modules"`
}

// oracleOf reads crash's view of a Debian dump.
func oracleOf(t testing.TB, name string) crashOracle {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dumptest.KernelFixturesDir(t), name+".crash.json"))
	if err != nil {
		t.Fatal(err)
	}
	var o crashOracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// paneText is a list's lines as plain text.
func paneText(l listModel) string {
	var out []string
	for _, line := range l.lines {
		out = append(out, line.Plain())
	}
	return strings.Join(out, "\n")
}
