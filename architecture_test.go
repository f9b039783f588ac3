package main

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The dependency rules of ARCHITECTURE.md, enforced: every import between
// our packages must be listed there.

const modulePath = "dumpscope"

// depRules maps a package (relative to the module, "dumpscope" for main)
// to the packages it may import.
type depRules map[string]map[string]bool

// readDepRules parses the ```deps block of ARCHITECTURE.md: lines of
// "package: allowed allowed ...".
func readDepRules(doc []byte) (depRules, error) {
	rules := depRules{}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "```deps":
			in = true
			continue
		case in && line == "```":
			return rules, nil
		case !in || line == "":
			continue
		}
		pkg, deps, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("ARCHITECTURE.md line %d: want \"package: allowed ...\", got %q", n, line)
		}
		pkg = strings.TrimSpace(pkg)
		if rules[pkg] != nil {
			return nil, fmt.Errorf("ARCHITECTURE.md line %d: %s is listed twice", n, pkg)
		}
		rules[pkg] = map[string]bool{}
		for _, d := range strings.Fields(deps) {
			rules[pkg][d] = true
		}
	}
	if !in {
		return nil, fmt.Errorf("ARCHITECTURE.md has no ```deps block")
	}
	return nil, fmt.Errorf("ARCHITECTURE.md: the ```deps block is not closed")
}

// edge is one import between two of our packages.
type edge struct{ from, to string }

// violations lists the edges the rules do not allow, and the packages they
// do not mention at all.
func (r depRules) violations(edges []edge, pkgs []string) []string {
	var out []string
	for _, p := range pkgs {
		if r[p] == nil {
			out = append(out, fmt.Sprintf("package %s is not in ARCHITECTURE.md's rules", p))
		}
	}
	for _, e := range edges {
		if allowed := r[e.from]; allowed != nil && !allowed[e.to] {
			out = append(out, fmt.Sprintf("%s imports %s, which ARCHITECTURE.md does not allow", e.from, e.to))
		}
	}
	sort.Strings(out)
	return out
}

// shortName is a package path relative to the module.
func shortName(path string) string {
	if path == modulePath {
		return path
	}
	return strings.TrimPrefix(path, modulePath+"/")
}

// moduleEdges lists our packages and their imports of each other, from
// `go list` (non-test files only).
func moduleEdges(t *testing.T) ([]edge, []string) {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "./...")
	cmd.Dir = "."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var edges []edge
	var pkgs []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		from := shortName(p.ImportPath)
		pkgs = append(pkgs, from)
		for _, imp := range p.Imports {
			if imp == modulePath || strings.HasPrefix(imp, modulePath+"/") {
				edges = append(edges, edge{from, shortName(imp)})
			}
		}
	}
	return edges, pkgs
}

func TestDependencyRules(t *testing.T) {
	doc, err := os.ReadFile("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := readDepRules(doc)
	if err != nil {
		t.Fatal(err)
	}
	edges, pkgs := moduleEdges(t)
	if len(edges) < 20 {
		t.Fatalf("go list found only %d edges between our packages", len(edges))
	}
	for _, v := range rules.violations(edges, pkgs) {
		t.Error(v)
	}
}

// TestDependencyRulesCatchBadEdges feeds the checker edges that break the
// rules (and a package they do not know), so the test above is known to
// fail when the tree does.
func TestDependencyRulesCatchBadEdges(t *testing.T) {
	doc, err := os.ReadFile("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := readDepRules(doc)
	if err != nil {
		t.Fatal(err)
	}
	bad := []edge{
		{"reader", "reader/kdump"},           // the contract importing a format
		{"reader/kdump", "reader/flat"},      // a format knowing about streams
		{"model", "reader"},                  // plain values importing the contract
		{"ui", "reader/elfcore"},             // a front end decoding bytes
		{"inspect/kernel", "inspect"},        // the engine importing its session
		{"reader/kdump", "reader/elfnote"},   // allowed: must not be reported
		{"dumpscope", "ui"},                  // allowed
		{"reader/elfcore", "reader/xencore"}, // one format importing another
	}
	got := rules.violations(bad, []string{"reader", "newpkg"})
	want := []string{
		"inspect/kernel imports inspect, which ARCHITECTURE.md does not allow",
		"model imports reader, which ARCHITECTURE.md does not allow",
		"package newpkg is not in ARCHITECTURE.md's rules",
		"reader imports reader/kdump, which ARCHITECTURE.md does not allow",
		"reader/elfcore imports reader/xencore, which ARCHITECTURE.md does not allow",
		"reader/kdump imports reader/flat, which ARCHITECTURE.md does not allow",
		"ui imports reader/elfcore, which ARCHITECTURE.md does not allow",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := readDepRules([]byte("```deps\nmodel\n```\n")); err == nil {
		t.Error("a rule line without a colon parsed")
	}
}

// TestNoPackageInit builds the binary and fails on any initialisation
// function of a package of ours (a func init, or the code the compiler
// makes for a package variable it cannot lay out as static data: a map
// literal, a call): every command would pay for it at its start
// (ARCHITECTURE.md). The huge-page advice of internal/hugeheap and
// internal/hugeheap/start is the one exception, and start must run before
// the packages that allocate most at start (see startRunsEarly). It also
// checks the runtime settings main.go gives the binary (watchesNoLimit).
func TestNoPackageInit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := t.TempDir() + "/dumpscope"
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	initFunc := regexp.MustCompile(`^(dumpscope/[a-z0-9_/]+)\.(init(\.[0-9]+)?|map\.init\.[0-9]+)$`)
	found := 0
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || (f[1] != "T" && f[1] != "t") {
			continue
		}
		m := initFunc.FindStringSubmatch(f[2])
		switch {
		case m == nil:
		case m[1] == "dumpscope/internal/hugeheap" || m[1] == "dumpscope/internal/hugeheap/start":
			found++
		default:
			t.Errorf("%s runs at every process start: build what it makes on first use, or make it static data", f[2])
		}
	}
	if found == 0 {
		t.Errorf("no init function of internal/hugeheap in the symbols of the binary: the check no longer sees init functions")
	}
	startRunsEarly(t, bin)
	watchesNoLimit(t, bin)
}

// watchesNoLimit checks that the binary carries main.go's
// //go:debug updatemaxprocs=0: without it the runtime starts a goroutine
// that watches the cgroup's CPU limit, which wakes one more thread in most
// processes.
func watchesNoLimit(t *testing.T, bin string) {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("reading the build information of %s: %v", bin, err)
	}
	for _, s := range info.Settings {
		if s.Key == "DefaultGODEBUG" && slices.Contains(strings.Split(s.Value, ","), "updatemaxprocs=0") {
			return
		}
	}
	t.Errorf("the binary's default GODEBUG lacks updatemaxprocs=0 (main.go's //go:debug line):\n%v", info)
}

// startRunsEarly checks, from the runtime's trace of package
// initialisation, that internal/hugeheap/start is initialised right after
// the runtime: Go initialises, in import-path order, the packages whose
// imports are initialised, and start imports nothing but unsafe, so only
// the runtime's own packages and those that sort before it and import
// nothing else come first. Every package initialised after start runs
// its code from the segment start mapped, and allocates in the block it
// collapsed.
func startRunsEarly(t *testing.T, bin string) {
	for _, goarch := range []string{"amd64", "arm64"} {
		cmd := exec.Command("go", "list", "-f", "{{join .Imports \" \"}}", "./internal/hugeheap/start")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list internal/hugeheap/start for linux/%s: %v", goarch, err)
		}
		if got := strings.TrimSpace(string(out)); got != "unsafe" {
			t.Errorf("internal/hugeheap/start imports %q on linux/%s, want only unsafe", got, goarch)
		}
	}
	cmd := exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "XDG_CACHE_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", bin, err, out)
	}
	var order []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			order = append(order, f[1])
		}
	}
	const start = "dumpscope/internal/hugeheap/start"
	at := slices.Index(order, start)
	if at < 0 {
		t.Fatalf("GODEBUG=inittrace=1 lists no initialisation of %s:\n%s", start, out)
	}
	for _, p := range order[:at] {
		if p != "runtime" && !strings.HasPrefix(p, "internal/") && !strings.HasPrefix(p, "runtime/") && p > start {
			t.Errorf("%s is initialised before %s: start must import nothing but unsafe", p, start)
		}
	}
}
