package oops

import (
	"regexp"
	"sync"
)

// lazyRegexp is a regular expression compiled when it is first used. The
// package has about a hundred patterns; compiled at process start they
// cost every dumpscope command about 10 ms of CPU and 10 000 allocations,
// whether it analyses a log or not.
type lazyRegexp struct {
	expr string
	once sync.Once
	re   *regexp.Regexp
}

// lazyRE returns a pattern that compiles expr on first use (and panics
// then, as regexp.MustCompile would at start-up, if expr is invalid: the
// tests use every pattern).
func lazyRE(expr string) *lazyRegexp { return &lazyRegexp{expr: expr} }

func (l *lazyRegexp) get() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.expr) })
	return l.re
}

func (l *lazyRegexp) MatchString(s string) bool { return l.get().MatchString(s) }

func (l *lazyRegexp) FindStringSubmatch(s string) []string { return l.get().FindStringSubmatch(s) }

func (l *lazyRegexp) FindAllStringSubmatch(s string, n int) [][]string {
	return l.get().FindAllStringSubmatch(s, n)
}

func (l *lazyRegexp) ReplaceAllString(src, repl string) string {
	return l.get().ReplaceAllString(src, repl)
}
