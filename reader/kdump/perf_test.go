package kdump_test

import (
	"context"
	"runtime"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
)

// TestReadRangeReusesBuffers reads the same 256 frames again and again, as
// verify does chunk after chunk: after the first call, a call allocates
// nothing in proportion to the frames it reads (the page and the span of
// stored images come from a pool).
func TestReadRangeReusesBuffers(t *testing.T) {
	k := baseDump(6, "snappy", 400)
	b, _ := k.Bytes()
	d := openBytes(t, "reuse.kdump", b)
	defer d.Close()
	ctx := context.Background()
	read := func() {
		n := 0
		err := d.ReadRange(ctx, 0, 256, reader.ReadOptions{Strict: true}, func(pi model.PageInfo, page []byte, err error) bool {
			if pi.State == model.StatePresent && err == nil {
				n++
			}
			return true
		})
		if err != nil || n == 0 {
			t.Fatalf("ReadRange: %d pages, %v", n, err)
		}
	}
	read()
	// Absent frames build their error (a few allocations each); what must
	// not happen is a page or a span buffer per call.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const calls = 20
	for range calls {
		read()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / calls; per > 64<<10 {
		t.Errorf("a ReadRange of 256 frames allocates %d bytes: buffers are not reused", per)
	}
}
