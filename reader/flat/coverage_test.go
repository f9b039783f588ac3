package flat_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/flat"
)

// verifyFile runs verify on a file and returns the report.
func verifyFile(t *testing.T, path string) *inspect.Report {
	t.Helper()
	d, err := open.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rep, err := inspect.Verify(context.Background(), d, inspect.VerifyOptions{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func problemsOf(rep *inspect.Report, code model.Code) []model.Problem {
	var out []model.Problem
	for _, p := range rep.Problems {
		if p.Code == code {
			out = append(out, p)
		}
	}
	return out
}

// TestMakedumpfileStreamVerifies: a real `makedumpfile -F -c -d 31` stream
// of a machine whose max_mapnr is not a multiple of the 32768 bits of a
// bitmap block verifies OK, and so does its rearranged file. makedumpfile
// never writes the bitmap bytes beyond max_mapnr, so no record covers them:
// they are no coverage gap, because the reader never reads them (issue 12,
// item 1).
func TestMakedumpfileStreamVerifies(t *testing.T) {
	mdf, err := exec.LookPath("makedumpfile")
	if err != nil {
		t.Skip("makedumpfile is not installed (.ci/run installs it): skipping the real-stream check")
	}
	const frames = 3000 // 3000 bits: 375 bitmap bytes of a 4096-byte block
	core := &dumptest.KexecX8664{
		Pages: frames,
		Fill: func(pfn uint64, page []byte) {
			if pfn%5 == 0 {
				return // zero pages: -d 1 excludes them
			}
			copy(page, bytes.Repeat([]byte(fmt.Sprintf("frame %#x ", pfn)), len(page)))
		},
		Anon: func(pfn uint64) bool { return pfn%7 == 3 }, // -d 8 excludes them
	}
	dir := t.TempDir()
	vmcore := filepath.Join(dir, "vmcore")
	if err := os.WriteFile(vmcore, core.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	stream := filepath.Join(dir, "vmcore.flat")
	out, err := os.Create(stream)
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	// A small cyclic buffer makes makedumpfile work in cycles, as it does in
	// a kdump kernel's little memory: then it writes only the bitmap bytes
	// of the cycle's pfns (makedumpfile.c write_kdump_bitmap1_buffer); with
	// memory to spare it writes whole bitmap blocks.
	cmd := exec.Command(mdf, "-F", "-c", "-d", "31", "--cyclic-buffer", "1", vmcore)
	cmd.Stdout, cmd.Stderr = out, &stderr
	err = cmd.Run()
	out.Close()
	if err != nil {
		t.Fatalf("makedumpfile -F: %v\n%s", err, stderr.String())
	}
	rearranged := filepath.Join(dir, "vmcore.kdump")
	cmd = exec.Command(mdf, "-R", rearranged)
	if cmd.Stdin, err = os.Open(stream); err != nil {
		t.Fatal(err)
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("makedumpfile -R: %v\n%s", err, msg)
	}
	// The stream leaves the bitmap padding beyond max_mapnr unwritten.
	fh, err := os.Open(stream)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	st, _ := fh.Stat()
	sf, err := flat.NewFile(reader.Source{Name: stream, R: fh, Size: st.Size()})
	if err != nil {
		t.Fatal(err)
	}
	if err := sf.Index(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	padding := 0
	for _, h := range sf.Holes() {
		if h[1]%4096 == 0 && h[1]-h[0] == 4096-(frames+7)/8 {
			padding++
		}
	}
	if padding != 2 {
		t.Fatalf("holes %#x: the stream does not leave both bitmaps' padding unwritten", sf.Holes())
	}
	for _, path := range []string{stream, rearranged} {
		rep := verifyFile(t, path)
		if !rep.OK || len(problemsOf(rep, model.CodeStreamCoverage)) > 0 {
			t.Fatalf("%s: verify: %v", filepath.Base(path), rep.Problems)
		}
		// The dump levels took effect, and every frame was accounted for.
		d, err := open.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := d.Counts(context.Background())
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		if c[model.StateExcluded] == 0 || c[model.StatePresent]+c[model.StateExcluded] != frames || rep.PagesChecked != c[model.StatePresent] {
			t.Fatalf("%s: counts %v, %d pages checked", filepath.Base(path), c, rep.PagesChecked)
		}
	}
}

// TestStreamHoleInNeededStructure: a stream in which no record writes
// bytes the kdump reader needs (part of the page descriptor table, and one
// page's data) fails verify with stream-coverage errors naming the
// structure and the page.
func TestStreamHoleInNeededStructure(t *testing.T) {
	file, lay := sampleFile()
	const rec = 512
	stream := dumptest.Flatten(file, rec)
	// Drop a record of descriptors, and one inside pfn 2's stored image.
	descRec := (lay.DescOff + 2*rec) / rec * rec
	pageRec := (lay.PageOff[2] + rec) / rec * rec // inside pfn 2's image
	stream = dropRecords(t, stream, descRec, pageRec)
	path := filepath.Join(t.TempDir(), "holes.flat")
	if err := os.WriteFile(path, stream, 0o644); err != nil {
		t.Fatal(err)
	}
	rep := verifyFile(t, path)
	if rep.OK {
		t.Fatalf("verify OK on a stream with holes: %v", rep.Problems)
	}
	var descs, page bool
	for _, p := range problemsOf(rep, model.CodeStreamCoverage) {
		if p.Severity != model.SeverityError {
			t.Fatalf("%v: not an error", p)
		}
		descs = descs || strings.Contains(p.Message, fmt.Sprintf("bytes %#x-%#x of page_desc table", descRec, descRec+rec))
		page = page || (p.PFN != nil && strings.Contains(p.Message, "no record of the flattened stream writes its stored bytes"))
	}
	if !descs || !page {
		t.Fatalf("descriptor hole reported %v, page hole reported %v: %v", descs, page, rep.Problems)
	}
}

// dropRecords removes the records whose logical offsets are given.
func dropRecords(t *testing.T, stream []byte, offsets ...int64) []byte {
	t.Helper()
	out := append([]byte(nil), stream[:4096]...)
	dropped := 0
	for pos := 4096; pos+16 <= len(stream); {
		off := int64(binary.BigEndian.Uint64(stream[pos:]))
		size := int64(binary.BigEndian.Uint64(stream[pos+8:]))
		if size < 0 { // the end marker
			out = append(out, stream[pos:]...)
			break
		}
		end := pos + 16 + int(size)
		drop := false
		for _, o := range offsets {
			drop = drop || o == off
		}
		if drop {
			dropped++
		} else {
			out = append(out, stream[pos:end]...)
		}
		pos = end
	}
	if dropped != len(offsets) {
		t.Fatalf("dropped %d of %d records", dropped, len(offsets))
	}
	return out
}
