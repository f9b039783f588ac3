package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"dumpscope/inspect"
	"dumpscope/model"
)

type findCmd struct {
	Text string `name:"text" help:"Text to search for."`
	Hex  string `name:"hex" help:"Bytes to search for, in hex (\"deadbeef\" or \"de ad be ef\")."`
	Max  Num    `name:"max" help:"Stop after this many matches (0: no limit)."`
	jsonFlag
	filesArg
}

func (c *findCmd) Run(rc *runContext) error {
	if (c.Text == "") == (c.Hex == "") {
		return usageError{"find needs exactly one of --text and --hex"}
	}
	pattern := []byte(c.Text)
	if c.Hex != "" {
		var err error
		if pattern, err = parseHexPattern(c.Hex); err != nil {
			return usageError{err.Error()}
		}
	}
	return rc.withSession(c.Files, func(s *inspect.Session) error { return c.run(rc, s, pattern) })
}

func (c *findCmd) run(rc *runContext, s *inspect.Session, pattern []byte) error {
	opts := inspect.FindOptions{Max: int(min(c.Max, 1<<31-1)), Progress: findProgress("searching")}
	hits := []model.SearchHit{}
	var tw *tabwriter.Writer
	if !rc.JSON {
		tw = tabwriter.NewWriter(rc.out, 0, 0, 2, ' ', 0)
	}
	found := 0
	counted := func(h model.SearchHit) bool {
		found++
		if rc.JSON {
			hits = append(hits, h)
			return true
		}
		va := "-"
		if h.VirtAddr != nil {
			va = h.VirtAddr.String()
		}
		fmt.Fprintf(tw, "phys %s\tpfn %s\tvaddr %s\n", h.PhysAddr, h.PFN, va)
		return true
	}
	err := s.Find(rc.ctx, pattern, opts, counted)
	if opts.Progress != nil {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	if rc.JSON {
		if jerr := writeJSON(rc.out, hits); jerr != nil {
			return jerr
		}
	} else {
		tw.Flush()
	}
	if found == 0 {
		return fmt.Errorf("%s: no match for the pattern in the readable frames: %w", s.Name(), model.ErrNotFound)
	}
	return nil
}

// parseHexPattern reads "deadbeef", "de ad be ef" or "0xdeadbeef".
func parseHexPattern(s string) ([]byte, error) {
	t := strings.NewReplacer(" ", "", ":", "", "\t", "").Replace(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	b, err := hex.DecodeString(t)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("--hex %q is not a sequence of hex bytes", s)
	}
	return b, nil
}

// findProgress returns a progress callback that redraws one line on
// stderr at most five times a second, or nil when stderr is not a
// terminal.
func findProgress(label string) func(done, total uint64) {
	if fi, err := os.Stderr.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	var last time.Time
	return func(done, total uint64) {
		if now := time.Now(); now.Sub(last) >= 200*time.Millisecond && total > 0 {
			last = now
			fmt.Fprintf(os.Stderr, "\r%s: %d%% (%d of %d frames)", label, done*100/total, done, total)
		}
	}
}
