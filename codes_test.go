package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"dumpscope/model"
)

// TestProblemCodesMatchREADME checks that the README's table of problem
// codes and model.AllCodes list the same codes in the same order: a code
// is contract, so adding one means documenting it.
func TestProblemCodesMatchREADME(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "### Problem codes")
	if start < 0 {
		t.Fatal("README.md has no \"### Problem codes\" section")
	}
	doc = doc[start:]
	if end := strings.Index(doc[1:], "\n#"); end > 0 {
		doc = doc[:end+1]
	}
	var readme []string
	cell := regexp.MustCompile("`([a-z0-9-]+)`")
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(strings.TrimPrefix(line, "|"), "|", 2)[0]
		for _, m := range cell.FindAllStringSubmatch(first, -1) {
			readme = append(readme, m[1])
		}
	}
	var codes []string
	for _, c := range model.AllCodes {
		codes = append(codes, c.String())
	}
	if strings.Join(readme, " ") != strings.Join(codes, " ") {
		t.Errorf("README codes:\n%s\nmodel.AllCodes:\n%s", strings.Join(readme, " "), strings.Join(codes, " "))
	}
}
