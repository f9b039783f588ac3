package dumptest

import (
	"context"
	"io"
	"sync/atomic"
	"testing"

	"dumpscope/model"
)

// CountingReaderAt wraps an io.ReaderAt and counts the calls and bytes read
// through it. Tests use it to prove that a command reads only headers.
type CountingReaderAt struct {
	R     io.ReaderAt
	calls atomic.Int64
	bytes atomic.Int64
	max   atomic.Int64 // highest end offset read
}

// ReadAt implements io.ReaderAt.
func (c *CountingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.R.ReadAt(p, off)
	c.calls.Add(1)
	c.bytes.Add(int64(n))
	for end := off + int64(n); ; {
		m := c.max.Load()
		if end <= m || c.max.CompareAndSwap(m, end) {
			break
		}
	}
	return n, err
}

// Calls returns the number of ReadAt calls so far.
func (c *CountingReaderAt) Calls() int64 { return c.calls.Load() }

// Bytes returns the number of bytes read so far.
func (c *CountingReaderAt) Bytes() int64 { return c.bytes.Load() }

// MaxEnd returns the highest offset+length read so far.
func (c *CountingReaderAt) MaxEnd() int64 { return c.max.Load() }

// InfoWithCounts is d.Info() with the frame counts d.Counts gives, as
// `info` reports them.
func InfoWithCounts(t testing.TB, d interface {
	Info() model.Info
	Counts(context.Context) (model.StateCounts, error)
}) model.Info {
	t.Helper()
	in := d.Info()
	c, err := d.Counts(context.Background())
	if err != nil {
		t.Fatalf("counts: %v", err)
	}
	in.Pages = c
	return in
}
