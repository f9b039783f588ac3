package xencore_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/xencore"
)

// The File type offers the Dump contract and its optional checks.
var (
	_ reader.Dump          = (*xencore.File)(nil)
	_ reader.PageExplainer = (*xencore.File)(nil)
)

// TestVerify runs the generic verifier with parallel workers (go test
// -race checks the readers are safe for concurrent use) over a PV dump
// with a live-dump tail and over an unsorted one, and checks its manifest.
func TestVerify(t *testing.T) {
	core := pvCore(3000)
	core.InvalidTail = 7
	f := open(t, mustBytes(core))
	var manifest bytes.Buffer
	rep, err := inspect.Verify(context.Background(), f, inspect.VerifyOptions{Jobs: 4, Manifest: &manifest})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.PagesChecked != 3000 || rep.Format != model.FormatXenCore || !hasProblem(rep.Problems, "invalid-entries", "7 invalid") {
		t.Fatalf("report %+v", rep)
	}
	if lines := strings.Count(manifest.String(), "\n"); lines != 3001 {
		t.Errorf("manifest has %d lines", lines)
	}
	core.InvalidTail = 0
	core.Pages[5], core.Pages[2500] = core.Pages[2500], core.Pages[5]
	f = open(t, mustBytes(core))
	m, err := inspect.ReadManifest(&manifest)
	if err != nil {
		t.Fatal(err)
	}
	rep, err = inspect.Verify(context.Background(), f, inspect.VerifyOptions{Jobs: 3, Against: m})
	if err != nil {
		t.Fatal(err)
	}
	// The table is out of order, but every page is found and matches.
	if rep.OK || rep.PagesChecked != 3000 || !hasProblem(rep.Problems, "unsorted-p2m", "follows") ||
		hasProblem(rep.Problems, "manifest-mismatch", "") || hasProblem(rep.Problems, "manifest-missing-page", "") {
		t.Fatalf("report %+v", rep.Problems)
	}
}
