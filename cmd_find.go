package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"dumpscope/inspect"
	"dumpscope/model"
)

// maxFindContext bounds find --context (bytes each side of a hit).
const maxFindContext = 4096

type findCmd struct {
	Text    string `name:"text" help:"Text to search for."`
	Hex     string `name:"hex" help:"Bytes to search for, in hex (\"deadbeef\" or \"de ad be ef\")."`
	Max     Num    `name:"max" help:"Stop after this many matches (0: no limit); the output says when it stopped there."`
	Count   bool   `name:"count" help:"Print only the number of matches (as grep -c)."`
	Context Num    `name:"context" placeholder:"N" help:"Show N bytes before and after each match as hex rows (as grep -C), at most 4096."`
	Jobs    int    `default:"0" help:"Workers reading and searching pages, at most 256 (default: one per CPU); matches come in address order whatever the number."`
	jsonFlag
	filesArg
}

func (c *findCmd) Run(rc *runContext) error {
	if (c.Text == "") == (c.Hex == "") {
		return usageError{"find needs exactly one of --text and --hex"}
	}
	if c.Context > maxFindContext {
		return usageError{fmt.Sprintf("--context must be 0..%d", maxFindContext)}
	}
	if c.Jobs < 0 || c.Jobs > inspect.MaxJobs {
		return usageError{fmt.Sprintf("--jobs must be 0..%d (0: one per CPU)", inspect.MaxJobs)}
	}
	if c.Count && c.Context > 0 {
		return usageError{"--count and --context cannot be combined"}
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
	prog := newProgress("searching", "frames")
	opts := inspect.FindOptions{Max: int(min(c.Max, 1<<31-1)), Progress: prog.update, Jobs: c.Jobs}
	found := 0
	// Hits are written as they are found: a search can find millions.
	sep := "[\n"
	hit := func(h model.SearchHit) bool {
		found++
		if c.Count {
			return true
		}
		prog.print(rc.out, func() {
			if c.JSON {
				b, _ := json.MarshalIndent(h, "  ", "  ")
				rc.out.WriteString(sep + "  ")
				rc.out.Write(b)
				sep = ",\n"
				return
			}
			c.writeHit(rc, s, h, len(pattern))
		})
		return true
	}
	err := s.Find(rc.ctx, pattern, opts, hit)
	prog.clear()
	if err != nil {
		return err
	}
	stopped := opts.Max > 0 && found >= opts.Max
	switch {
	case c.Count && c.JSON:
		writeJSON(rc.out, struct {
			Count   int  `json:"count"`
			Stopped bool `json:"stopped_at_max"`
		}{found, stopped})
	case c.Count:
		fmt.Fprintln(rc.out, found)
	case c.JSON && found == 0:
		rc.out.WriteString("[]\n")
	case c.JSON:
		rc.out.WriteString("\n]\n")
	default:
		if found > 0 {
			fmt.Fprintln(rc.out, matches(found, stopped, c.Max))
		}
	}
	if stopped && (c.JSON || c.Count) {
		rc.out.Flush()
		fmt.Fprintf(os.Stderr, "%s: %s\n", programName, matches(found, stopped, c.Max))
	}
	if found == 0 {
		return fmt.Errorf("%s: no match for the pattern in the readable frames: %w", s.Name(), model.ErrNotFound)
	}
	return nil
}

// matches says how many matches there were, and whether --max stopped the
// search.
func matches(n int, stopped bool, max Num) string {
	s := fmt.Sprintf("%d match", n)
	if n != 1 {
		s += "es"
	}
	if stopped {
		s += fmt.Sprintf(": stopped at --max %d, there may be more", max)
	}
	return s
}

// writeHit writes one hit: where it is, then with --context the bytes
// around it as hex rows (bytes that are not in the dump as zeros).
func (c *findCmd) writeHit(rc *runContext, s *inspect.Session, h model.SearchHit, n int) {
	va := "-"
	if h.VirtAddr != nil {
		va = h.VirtAddr.String()
	}
	fmt.Fprintf(rc.out, "phys %-14s  pfn %-11s  vaddr %s\n", h.PhysAddr, h.PFN, va)
	if c.Context == 0 {
		return
	}
	from := uint64(h.PhysAddr) - min(uint64(h.PhysAddr), uint64(c.Context))
	data := make([]byte, uint64(h.PhysAddr)+uint64(n)+uint64(c.Context)-from)
	s.ReadPhys(model.PhysAddr(from), data, true)
	var b strings.Builder
	hexdump(&b, from, data)
	for _, line := range strings.SplitAfter(strings.TrimSuffix(b.String(), "\n"), "\n") {
		rc.out.WriteString("  " + line)
	}
	rc.out.WriteString("\n")
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
