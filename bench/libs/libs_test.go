package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImportsAreDumpscopes checks that this program imports what
// dumpscope's own packages import from outside the module, no more and no
// less, and dumpscope's start-up packages: otherwise the start section's
// row would measure other libraries than dumpscope's.
func TestImportsAreDumpscopes(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	// The imports of every package of the module that dumpscope links.
	out, err := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if eq .Module.Path "dumpscope"}}{{join .Imports " "}}{{end}}{{end}}`,
		"dumpscope").Output()
	if err != nil {
		t.Fatalf("go list dumpscope: %v", err)
	}
	want := []string{"dumpscope/internal/hugeheap", "dumpscope/internal/hugeheap/start"}
	for _, p := range strings.Fields(string(out)) {
		if !strings.HasPrefix(p, "dumpscope/") && !slices.Contains(want, p) {
			want = append(want, p)
		}
	}
	out, err = exec.Command("go", "list", "-f", `{{join .Imports " "}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list bench/libs: %v", err)
	}
	got := strings.Fields(string(out))
	slices.Sort(want)
	slices.Sort(got)
	for _, p := range want {
		if !slices.Contains(got, p) {
			t.Errorf("bench/libs does not import %s, which dumpscope does", p)
		}
	}
	for _, p := range got {
		if !slices.Contains(want, p) {
			t.Errorf("bench/libs imports %s, which dumpscope does not", p)
		}
	}
}
