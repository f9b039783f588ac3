package inspect_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"dumpscope/inspect"
	"dumpscope/open"
)

// BenchmarkVerifyFile verifies the dump named by DUMPSCOPE_VERIFY_BENCH
// (one of the files bench/run.sh makes) with one and two jobs, for CPU
// profiles of the page path (go test -bench VerifyFile -cpuprofile).
func BenchmarkVerifyFile(b *testing.B) {
	path := os.Getenv("DUMPSCOPE_VERIFY_BENCH")
	if path == "" {
		b.Skip("DUMPSCOPE_VERIFY_BENCH names no dump file")
	}
	for _, jobs := range []int{1, 2} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			for b.Loop() {
				// Opened each time, as `dumpscope verify` does: the caches
				// of descriptors and bitmaps start empty.
				d, err := open.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				r, err := inspect.Verify(context.Background(), d, inspect.VerifyOptions{Jobs: jobs})
				d.Close()
				if err != nil {
					b.Fatal(err)
				}
				if !r.OK {
					b.Fatalf("verify found problems: %v", r.Problems)
				}
				b.SetBytes(int64(r.BytesChecked))
			}
		})
	}
}
