package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/reader"
)

type pagesCmd struct {
	jsonFlag
	filesArg
}

func (c *pagesCmd) Run(rc *runContext) error {
	return rc.withSession(c.Files, func(s *inspect.Session) error { return c.run(rc, s) })
}

func (c *pagesCmd) run(rc *runContext, s *inspect.Session) error {
	d := s.Dump()
	info := s.Info()
	// Both forms are written as the runs come: a dump can have millions
	// of runs, which must not be held in memory. Text uses fixed columns;
	// JSON is {page_size, max_pfn, runs: [...], counts: {...}}.
	counts := model.StateCounts{}
	const row = "%12s %12s %12s  %s\n"
	if rc.JSON {
		fmt.Fprintf(rc.out, "{\n  \"page_size\": %d,\n  \"max_pfn\": %d,\n  \"runs\": [", info.PageSize, info.MaxPFN)
	} else {
		fmt.Fprintf(rc.out, row, "first pfn", "last pfn", "frames", "state")
	}
	sep := "\n    "
	prog := newProgress("reading the page map", "frames")
	defer prog.clear()
	err := d.Runs(rc.ctx, 0, true, func(r model.PageRun) bool {
		counts.Add(r.State, r.Count)
		prog.print(rc.out, func() {
			if rc.JSON {
				b, _ := json.Marshal(r)
				fmt.Fprintf(rc.out, "%s%s", sep, b)
				sep = ",\n    "
				return
			}
			state := string(r.State)
			if r.ZeroPage {
				state += " (shared zero page)"
			}
			fmt.Fprintf(rc.out, row, r.Start, r.End()-1, fmt.Sprint(r.Count), state)
		})
		prog.update(uint64(r.End()), uint64(info.MaxPFN))
		return true
	})
	if err != nil {
		return err
	}
	if rc.JSON {
		b, _ := json.Marshal(counts)
		fmt.Fprintf(rc.out, "\n  ],\n  \"counts\": %s\n}\n", b)
		return nil
	}
	fmt.Fprintf(rc.out, "total %d frames of %d bytes: %s\n", info.MaxPFN, info.PageSize, present.Counts(counts))
	return nil
}

// maxPageCount bounds page --count: 2^24 frames, 64 GiB of 4 KiB pages.
// Everything is written as it is read, so memory does not grow with it.
const maxPageCount = 1 << 24

type pageCmd struct {
	PFN      Num  `name:"pfn" required:"" help:"First frame number (decimal or 0x-hex)."`
	Count    Num  `default:"1" help:"Number of frames, at most 16777216."`
	Raw      bool `help:"Write the page bytes, exactly count × page size."`
	ZeroFill bool `name:"zero-fill" help:"Write zeros for frames that are not readable, and list them on stderr."`
	jsonFlag
	filesArg
}

// pageJSON is one page of `page --json`.
type pageJSON struct {
	PFN        model.PFN       `json:"pfn"`
	PhysAddr   model.PhysAddr  `json:"phys_addr"`
	State      model.PageState `json:"state"`
	ZeroPage   bool            `json:"zero_page,omitempty"`
	Codec      *model.Codec    `json:"codec"`
	StoredSize int64           `json:"stored_size"`
	FileOffset *int64          `json:"file_offset"`
	File       string          `json:"file,omitempty"`
	MFN        *uint64         `json:"mfn,omitempty"`
	SHA256     string          `json:"sha256,omitempty"`
	Reason     string          `json:"reason,omitempty"`
}

func toPageJSON(pi model.PageInfo) pageJSON {
	j := pageJSON{PFN: pi.PFN, PhysAddr: pi.PhysAddr, State: pi.State, ZeroPage: pi.ZeroPage,
		StoredSize: pi.StoredSize, File: pi.File, MFN: pi.MFN, Reason: pi.Reason}
	if pi.Codec != "" {
		c := pi.Codec
		j.Codec = &c
	}
	if pi.FileOffset >= 0 {
		o := int64(pi.FileOffset)
		j.FileOffset = &o
	}
	return j
}

func (c *pageCmd) Run(rc *runContext) error {
	if c.Count == 0 || c.Count > maxPageCount {
		return usageError{fmt.Sprintf("--count must be 1..%d", maxPageCount)}
	}
	if c.Raw && rc.JSON {
		return usageError{"--raw and --json cannot be combined"}
	}
	if model.PFN(c.PFN)+model.PFN(c.Count)-1 < model.PFN(c.PFN) {
		return usageError{"--pfn plus --count overflows"}
	}
	return rc.withSession(c.Files, func(s *inspect.Session) error { return c.run(rc, s) })
}

func (c *pageCmd) run(rc *runContext, s *inspect.Session) error {
	d := s.Dump()
	first := model.PFN(c.PFN)
	count := uint64(c.Count)
	name := s.Name()
	// The frames' states first, a run at a time: an absent frame means
	// nothing is written (unless --zero-fill); --json lists every page and
	// exits 1 at the end.
	unreadable, err := unreadableRuns(rc, d, first, count)
	if err != nil {
		return err
	}
	if len(unreadable) > 0 && !c.ZeroFill && !rc.JSON {
		return absentErr(name, d.PageInfo(unreadable[0].Start))
	}
	if c.ZeroFill {
		for _, r := range unreadable {
			pi := d.PageInfo(r.Start)
			what := fmt.Sprintf("pfn %s", r.Start)
			if r.Count > 1 {
				what = fmt.Sprintf("pfns %s-%s (%d frames)", r.Start, r.End()-1, r.Count)
			}
			rc.notef("zero-filled %s: %s", what, describeState(pi))
		}
	}
	buf := make([]byte, s.Info().PageSize)
	var failed error
	sep := "[\n"
	for i := uint64(0); i < count; i++ {
		if i%256 == 0 && rc.ctx.Err() != nil {
			return rc.ctx.Err()
		}
		pfn := first + model.PFN(i)
		pi, err := d.ReadPage(pfn, buf, reader.ReadOptions{})
		if err != nil {
			if !c.ZeroFill && !rc.JSON {
				return err
			}
			if failed == nil {
				failed = err
			}
			clear(buf)
			if pi.State == "" || pi.State.Readable() {
				// Stored, but it cannot be read: listed as it is found.
				pi.PFN, pi.State, pi.Reason = pfn, model.StateUnreadable, err.Error()
				if c.ZeroFill {
					rc.notef("zero-filled pfn %s: %s", pfn, describeState(pi))
				}
			}
		}
		switch {
		case rc.JSON:
			j := toPageJSON(pi)
			if pi.State.Readable() {
				sum := sha256.Sum256(buf)
				j.SHA256 = hex.EncodeToString(sum[:])
			}
			b, _ := json.MarshalIndent(j, "  ", "  ")
			rc.out.WriteString(sep + "  ")
			rc.out.Write(b)
			sep = ",\n"
		case c.Raw:
			if _, err := rc.out.Write(buf); err != nil {
				return err
			}
		default:
			fmt.Fprintln(rc.out, pageHeading(pi))
			if err := hexdump(rc.out, uint64(pi.PhysAddr), buf); err != nil {
				return err
			}
		}
	}
	if rc.JSON {
		rc.out.WriteString("\n]\n")
		if len(unreadable) > 0 && !c.ZeroFill {
			return absentErr(name, d.PageInfo(unreadable[0].Start))
		}
	}
	if failed != nil && !c.ZeroFill {
		return failed
	}
	return nil
}

// unreadableRuns returns the runs of frames in [first, first+count) whose
// state the headers give as not readable, from the dump's runs: the work
// is proportional to the runs, not to the frames.
func unreadableRuns(rc *runContext, d reader.Dump, first model.PFN, count uint64) ([]model.PageRun, error) {
	end := first + model.PFN(count)
	var out []model.PageRun
	add := func(r model.PageRun) {
		from, to := max(r.Start, first), min(r.End(), end)
		if from >= to || r.State.Readable() {
			return
		}
		r.Start, r.Count = from, uint64(to-from)
		if n := len(out); n > 0 && out[n-1].End() == r.Start && out[n-1].State == r.State {
			out[n-1].Count += r.Count
			return
		}
		out = append(out, r)
	}
	covered := first
	err := d.Runs(rc.ctx, first, false, func(r model.PageRun) bool {
		add(r)
		covered = max(covered, r.End())
		return r.End() < end
	})
	if err != nil {
		return nil, err
	}
	if covered < end { // beyond the dump's frames
		add(model.PageRun{Start: covered, Count: uint64(end - covered), State: model.StateNotInDump})
	}
	return out, nil
}

// absentErr names the first frame that is not readable and why.
func absentErr(name string, pi model.PageInfo) error {
	return model.AbsentError(name, pi)
}

func describeState(pi model.PageInfo) string {
	s := string(pi.State)
	if pi.Reason != "" {
		s += " (" + pi.Reason + ")"
	}
	return s
}

// pageHeading is the line above each page's hex rows.
func pageHeading(pi model.PageInfo) string {
	s := fmt.Sprintf("pfn %s  phys %s  %s", pi.PFN, pi.PhysAddr, pi.State)
	if pi.ZeroPage {
		s += " (shared zero page)"
	}
	if pi.Partial {
		s += " (partial)"
	}
	if pi.State == model.StatePresent {
		s += fmt.Sprintf("  codec %s  stored %d bytes  file offset %s", pi.Codec, pi.StoredSize, pi.FileOffset)
		if pi.File != "" {
			s += "  in " + pi.File
		}
	}
	if pi.MFN != nil {
		s += fmt.Sprintf("  mfn %#x", *pi.MFN)
	}
	if !pi.State.Readable() {
		s += "  (zero-filled: " + present.OrDash(pi.Reason) + ")"
	}
	return s
}
