package flat_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"dumpscope/reader/dumptest"
)

// TestRearrangeHoleToFile: to a file, a hole stays a hole of a sparse file,
// as makedumpfile -R's pwrite leaves it: a record 1 TiB away costs a seek,
// not a terabyte of zeros.
func TestRearrangeHoleToFile(t *testing.T) {
	const far = int64(1) << 40
	head, tail := dumptest.Pattern(1, 4096), dumptest.Pattern(2, 100)
	stream := streamOfRecords(record{0, head}, record{far, tail})
	path := filepath.Join(t.TempDir(), "rearranged")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := streamOf(t, stream).Rearrange(context.Background(), f, nil)
	if err != nil || n != far+100 {
		t.Fatalf("Rearrange: %d bytes, %v", n, err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != far+100 {
		t.Fatalf("size %d, want %d", st.Size(), far+100)
	}
	if blocks := st.Sys().(*syscall.Stat_t).Blocks; blocks*512 > 1<<20 {
		t.Fatalf("%d bytes allocated: the hole was written, not left", blocks*512)
	}
	got := make([]byte, 100)
	if _, err := f.ReadAt(got, far); err != nil || !bytes.Equal(got, tail) {
		t.Fatalf("the far record reads back wrong: %v", err)
	}
	if _, err := f.ReadAt(got, 4096); err != nil || !bytes.Equal(got, make([]byte, 100)) {
		t.Fatalf("the hole does not read as zeros: %v", err)
	}
}
