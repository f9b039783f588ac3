package kdump

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"

	"dumpscope/model"
	"dumpscope/reader"
)

// Set is the parts of one makedumpfile --split run, read as one dump
// (formats.md §1.9). Every part repeats the headers, notes and full-size
// bitmaps, and stores the pages of its own pfn range [start, end). A set
// may be incomplete: frames of the parts not given are not_in_dump.
type Set struct {
	parts    []*File // sorted by start pfn
	gaps     [][2]uint64
	problems []model.Problem

	countsMu sync.Mutex
	counts   model.StateCounts // Counts, once counted
}

// NewSet joins the parts of a split set, given in any order. Parts that do
// not belong together (different utsname, timestamp, max_mapnr, block
// size, header version or byte order) or whose ranges overlap are an error.
func NewSet(files []*File) (*Set, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("kdump: empty split set")
	}
	parts := append([]*File(nil), files...)
	sort.Slice(parts, func(i, j int) bool { return parts[i].start < parts[j].start })
	first := parts[0]
	for _, p := range parts {
		if len(parts) > 1 && !p.IsSplit() {
			return nil, model.Errorf(p.src.Name, "kdump_sub_header.split", int64(p.Header.BlockSize), model.ErrUnsupported,
				"is a complete dump, not a part of a split set (the files of one command are one dump)")
		}
		if m := mismatch(first, p); m.field != "" {
			return nil, model.Errorf(p.src.Name, m.field, m.off, model.ErrUnsupported,
				"does not belong to the same split set as %s: %s", first.src.Name, m.why)
		}
	}
	s := &Set{parts: parts}
	next := uint64(0)
	for i, p := range parts {
		if i > 0 && p.start < parts[i-1].end {
			return nil, model.Errorf(p.src.Name, "kdump_sub_header", int64(p.Header.BlockSize), model.ErrUnsupported,
				"its pfns %#x-%#x overlap those of %s (%#x-%#x)", p.start, p.end, parts[i-1].src.Name, parts[i-1].start, parts[i-1].end)
		}
		if p.start > next {
			s.gaps = append(s.gaps, [2]uint64{next, p.start})
		}
		next = max(next, p.end)
	}
	if next < first.maxMapnr {
		s.gaps = append(s.gaps, [2]uint64{next, first.maxMapnr})
	}
	for _, g := range s.gaps {
		s.problems = append(s.problems, model.NewProblem(model.SeverityWarning, model.CodeMissingSplitPart, s.names(), -1,
			"pfns %#x-%#x are in split parts that were not given; those frames read as not_in_dump", g[0], g[1]))
	}
	return s, nil
}

// setMismatch is the first field in which a part differs from the set's
// first part: its name and offset in the part, and both values.
type setMismatch struct {
	field string
	off   int64
	why   string
}

// mismatch says where part b differs from a, the set's first part, in
// what every part of one set repeats; the zero setMismatch when nowhere.
func mismatch(a, b *File) setMismatch {
	main := func(name string, why string, args ...any) setMismatch {
		return setMismatch{"disk_dump_header." + name, mainFieldOff(b.HeaderLayout, name), fmt.Sprintf(why, args...)}
	}
	ha, hb := a.Header, b.Header
	switch {
	case ha.Signature != hb.Signature:
		return setMismatch{"disk_dump_header.signature", 0, fmt.Sprintf("signature %q vs %q", hb.Signature, ha.Signature)}
	case a.order != b.order:
		return setMismatch{"disk_dump_header", 0, "byte order differs"}
	case ha.HeaderVersion != hb.HeaderVersion:
		return setMismatch{"disk_dump_header.header_version", 8, fmt.Sprintf("header version %d vs %d", hb.HeaderVersion, ha.HeaderVersion)}
	case ha.BlockSize != hb.BlockSize:
		return main("block_size", "block size %d vs %d", hb.BlockSize, ha.BlockSize)
	case ha.MaxMapnr != hb.MaxMapnr:
		return main("max_mapnr", "max_mapnr %#x vs %#x", hb.MaxMapnr, ha.MaxMapnr)
	case a.maxMapnr != b.maxMapnr:
		off := int64(-1)
		for _, f := range subFields(b.SubLayout) {
			if f.name == "max_mapnr_64" {
				off = int64(hb.BlockSize) + int64(f.off)
			}
		}
		return setMismatch{"kdump_sub_header.max_mapnr_64", off, fmt.Sprintf("max_mapnr_64 %#x vs %#x", b.maxMapnr, a.maxMapnr)}
	case ha.TimestampSec != hb.TimestampSec:
		return main("timestamp.tv_sec", "timestamp.tv_sec %d vs %d", hb.TimestampSec, ha.TimestampSec)
	case ha.TimestampUsec != hb.TimestampUsec:
		return main("timestamp.tv_usec", "timestamp.tv_usec %d vs %d", hb.TimestampUsec, ha.TimestampUsec)
	}
	ua, ub := ha.Utsname, hb.Utsname
	for i, f := range []struct {
		name string
		a, b string
	}{
		{"sysname", ua.Sysname, ub.Sysname}, {"nodename", ua.Nodename, ub.Nodename},
		{"release", ua.Release, ub.Release}, {"version", ua.Version, ub.Version},
		{"machine", ua.Machine, ub.Machine}, {"domainname", ua.Domainname, ub.Domainname},
	} {
		if f.a != f.b {
			return setMismatch{"disk_dump_header.utsname." + f.name, int64(12 + 65*i), fmt.Sprintf("utsname.%s %q vs %q", f.name, f.b, f.a)}
		}
	}
	return setMismatch{}
}

// Parts returns the parts in pfn order.
func (s *Set) Parts() []*File { return s.parts }

func (s *Set) names() string {
	n := make([]string, len(s.parts))
	for i, p := range s.parts {
		n[i] = p.src.Name
	}
	return strings.Join(n, " ")
}

// part returns the part holding pfn, or nil.
func (s *Set) part(pfn uint64) *File {
	i := sort.Search(len(s.parts), func(i int) bool { return s.parts[i].end > pfn })
	if i < len(s.parts) && s.parts[i].start <= pfn {
		return s.parts[i]
	}
	return nil
}

// PageInfo returns the state of a frame from the part that holds it.
func (s *Set) PageInfo(pfn model.PFN) model.PageInfo {
	if p := s.part(uint64(pfn)); p != nil {
		return s.named(p, p.PageInfo(pfn))
	}
	return s.missing(pfn)
}

// named records which part holds a page when the set has several.
func (s *Set) named(p *File, pi model.PageInfo) model.PageInfo {
	if len(s.parts) > 1 {
		pi.File = p.src.Name
	}
	return pi
}

func (s *Set) missing(pfn model.PFN) model.PageInfo {
	pi := model.PageInfo{PFN: pfn, PhysAddr: model.PhysAddr(uint64(pfn) * uint64(s.parts[0].pageSize)), State: model.StateNotInDump, FileOffset: -1}
	if uint64(pfn) >= s.parts[0].maxMapnr {
		pi.Reason = fmt.Sprintf("beyond max_mapnr %#x", s.parts[0].maxMapnr)
	} else {
		pi.Reason = "in a split part that was not given"
	}
	return pi
}

// ReadPage reads a frame from the part that holds it.
func (s *Set) ReadPage(pfn model.PFN, dst []byte, opt reader.ReadOptions) (model.PageInfo, error) {
	if p := s.part(uint64(pfn)); p != nil {
		pi, err := p.ReadPage(pfn, dst, opt)
		return s.named(p, pi), err
	}
	pi := s.missing(pfn)
	return pi, model.AbsentError(s.names(), pi)
}

// Runs walks each part's range in order, with not_in_dump for the gaps.
func (s *Set) Runs(ctx context.Context, from model.PFN, detail bool, yield func(model.PageRun) bool) error {
	w := reader.RunWriter{Yield: yield}
	pos := uint64(from)
	max := s.parts[0].maxMapnr
	for _, p := range s.parts {
		if p.end <= pos {
			continue
		}
		if p.start > pos && !w.Add(model.PageRun{Start: model.PFN(pos), Count: p.start - pos, State: model.StateNotInDump}) {
			return nil
		}
		pos = max2(pos, p.start)
		stop := false
		err := p.Runs(ctx, model.PFN(pos), detail, func(r model.PageRun) bool {
			if uint64(r.Start) >= p.end {
				return false
			}
			r.Count = min(r.Count, p.end-uint64(r.Start))
			if !w.Add(r) {
				stop = true
				return false
			}
			return true
		})
		if err != nil || stop {
			return err
		}
		pos = p.end
	}
	if pos < max && !w.Add(model.PageRun{Start: model.PFN(pos), Count: max - pos, State: model.StateNotInDump}) {
		return nil
	}
	w.Flush()
	return nil
}

func max2(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// Info joins what the parts say.
func (s *Set) Info() model.Info {
	in := s.parts[0].Info()
	in.Parts = len(s.parts)
	in.Files = nil
	for _, p := range s.parts {
		in.Files = append(in.Files, p.src.Name)
	}
	in.Warnings = s.warnings()
	var ranges []string
	for _, p := range s.parts {
		ranges = append(ranges, fmt.Sprintf("%s: %#x-%#x", p.src.Name, p.start, p.end))
	}
	for i, kv := range in.Details {
		if kv.Key == "split part" {
			in.Details[i] = model.KV{Key: "split parts", Value: strings.Join(ranges, "; ")}
		}
	}
	return in
}

// Counts adds up each part's own range; the frames of missing parts are
// not in the dump.
func (s *Set) Counts(ctx context.Context) (model.StateCounts, error) {
	s.countsMu.Lock()
	defer s.countsMu.Unlock()
	if s.counts != nil {
		return maps.Clone(s.counts), nil
	}
	c := model.StateCounts{}
	var covered uint64
	for _, p := range s.parts {
		pc, err := p.countRange(ctx)
		if err != nil {
			return nil, err
		}
		for st, n := range pc {
			c.Add(st, n)
		}
		covered += p.end - p.start
	}
	c.Add(model.StateNotInDump, s.parts[0].maxMapnr-covered)
	s.counts = c
	return maps.Clone(c), nil
}

// QuickCounts adds up the parts' present frames when every part knows
// them (see File.QuickCounts); the frames of missing parts are not in the
// dump.
func (s *Set) QuickCounts() model.StateCounts {
	s.countsMu.Lock()
	done := s.counts
	s.countsMu.Unlock()
	if done != nil {
		return maps.Clone(done)
	}
	known := model.StateCounts{}
	var covered, present uint64
	all := true
	for _, p := range s.parts {
		n, ok := p.descriptorExtent()
		all = all && ok
		present += n
		covered += p.end - p.start
	}
	if all {
		known[model.StatePresent] = present
	}
	if out := s.parts[0].maxMapnr - covered; out > 0 {
		known.Add(model.StateNotInDump, out)
	}
	return known
}

// CountScanBytes is the bytes of bitmaps Counts reads over every part,
// or 0 once it has counted.
func (s *Set) CountScanBytes() int64 {
	s.countsMu.Lock()
	done := s.counts != nil
	s.countsMu.Unlock()
	if done {
		return 0
	}
	var scan int64
	for _, p := range s.parts {
		scan += p.CountScanBytes()
	}
	return scan
}

// Layout shows each part's structures.
func (s *Set) Layout() (*model.Field, error) {
	if len(s.parts) == 1 {
		return s.parts[0].Layout()
	}
	root := &model.Field{Name: "split set", Offset: 0, Value: fmt.Sprintf("%d parts", len(s.parts)),
		Meaning: "the files of one makedumpfile --split run; each stores the pages of its pfn range"}
	for _, p := range s.parts {
		l, err := p.Layout()
		if err != nil {
			return nil, err
		}
		l.Value += fmt.Sprintf(", pfns %#x-%#x", p.start, p.end)
		root.Add(l)
	}
	return root, nil
}

// Notes, VMCoreInfo and Registers come from the first part, the file the
// sub-header is taken from (libkdumpfile does the same).
func (s *Set) Notes() ([]model.Note, error) { return s.parts[0].Notes() }

// VMCoreInfo returns the first part's VMCOREINFO.
func (s *Set) VMCoreInfo() (*model.VMCoreInfo, error) { return s.parts[0].VMCoreInfo() }

// Registers returns the first part's register sets.
func (s *Set) Registers() ([]model.RegisterSet, error) { return s.parts[0].Registers() }

// ReadFile reads raw bytes of the named part.
func (s *Set) ReadFile(file string, p []byte, off int64) (int, error) {
	for _, f := range s.parts {
		if f.src.Name == file {
			return f.ReadFile(file, p, off)
		}
	}
	return s.parts[0].ReadFile(file, p, off)
}

// warnings lists every part's problems and the set's.
func (s *Set) warnings() []model.Problem {
	var out []model.Problem
	for _, p := range s.parts {
		out = append(out, p.warnings()...)
	}
	return append(out, s.problems...)
}

// ExplainPage explains a frame with the part that holds it.
func (s *Set) ExplainPage(pfn model.PFN) (*model.Field, error) {
	if p := s.part(uint64(pfn)); p != nil {
		return p.ExplainPage(pfn)
	}
	pi := s.missing(pfn)
	return &model.Field{Name: fmt.Sprintf("pfn %s", pfn), Offset: -1, Value: string(pi.State), Meaning: pi.Reason}, nil
}

// Close closes every part.
func (s *Set) Close() error {
	var first error
	for _, p := range s.parts {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
