package remote

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// Stats tells what reading a remote object cost, so that a user sees
// what a view fetched (dumpscope's --stats prints it).
type Stats struct {
	Name      string // redacted
	Size      int64  // of the object
	BlockSize int64
	// Validator names what pins the object's version: "etag",
	// "last-modified", "weak-etag", or "size" when the server gave no
	// validator and only a changed size can be noticed.
	Validator string

	Requests     int64 // GET requests sent, the opening one and retries included
	Retries      int64 // requests repeated after a transient failure
	BytesFetched int64 // response body bytes received
	Reads        int64 // ReadAt calls
	BytesRead    int64 // bytes returned by ReadAt
	CacheHits    int64 // blocks found in memory
	CacheMisses  int64 // blocks reads wanted that were not in memory (fetched, or joined a fetch under way)
	ReadAhead    int64 // blocks fetched ahead of sequential readers
	DiskHits     int64 // blocks read from Options.CacheDir
	DiskWrites   int64 // blocks written to Options.CacheDir
	// DiskRefused says why Options.CacheDir was not used, or is empty.
	DiskRefused string

	// Open is the time Open took; Wait the time ReadAt callers spent
	// waiting for the network or the disk cache, summed over callers (so
	// it can exceed the wall-clock time of parallel work).
	Open time.Duration
	Wait time.Duration
}

// counters are the live counts behind Stats.
type counters struct {
	requests, retries, fetched, reads, read atomic.Int64
	hits, misses, ahead, diskHits, diskPuts atomic.Int64
	wait                                    atomic.Int64 // nanoseconds
}

func (c *counters) snapshot() Stats {
	return Stats{
		Requests: c.requests.Load(), Retries: c.retries.Load(), BytesFetched: c.fetched.Load(),
		Reads: c.reads.Load(), BytesRead: c.read.Load(),
		CacheHits: c.hits.Load(), CacheMisses: c.misses.Load(), ReadAhead: c.ahead.Load(),
		DiskHits: c.diskHits.Load(), DiskWrites: c.diskPuts.Load(),
		Wait: time.Duration(c.wait.Load()),
	}
}

// String is one line for a terminal:
//
//	s3://b/vmcore: 14 requests (1 retry), 3.5 MiB fetched of 2.0 GiB (0.17%) for 1.2 MiB read; blocks 310 hits, 14 misses, 8 ahead; waited 0.84s (open 0.12s)
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d %s", s.Name, s.Requests, noun(s.Requests, "request", "requests"))
	if s.Retries > 0 {
		fmt.Fprintf(&b, " (%d %s)", s.Retries, noun(s.Retries, "retry", "retries"))
	}
	fmt.Fprintf(&b, ", %s fetched", byteSize(s.BytesFetched))
	if s.Size > 0 {
		fmt.Fprintf(&b, " of %s (%s)", byteSize(s.Size), percent(s.BytesFetched, s.Size))
	}
	fmt.Fprintf(&b, " for %s read in %d %s; blocks of %s: %d %s, %d %s, %d ahead",
		byteSize(s.BytesRead), s.Reads, noun(s.Reads, "call", "calls"), byteSize(s.BlockSize),
		s.CacheHits, noun(s.CacheHits, "hit", "hits"), s.CacheMisses, noun(s.CacheMisses, "miss", "misses"), s.ReadAhead)
	if s.DiskHits > 0 || s.DiskWrites > 0 {
		fmt.Fprintf(&b, ", disk cache %d %s, %d written", s.DiskHits, noun(s.DiskHits, "hit", "hits"), s.DiskWrites)
	}
	if s.DiskRefused != "" {
		fmt.Fprintf(&b, ", disk cache not used: %s", s.DiskRefused)
	}
	fmt.Fprintf(&b, "; waited %.2fs (open %.2fs); pinned by %s", s.Wait.Seconds(), s.Open.Seconds(), s.Validator)
	return b.String()
}

// percent is part/whole in percent, with two significant digits below
// 10%.
func percent(part, whole int64) string {
	p := 100 * float64(part) / float64(whole)
	switch {
	case part == 0:
		return "0%"
	case p < 0.01:
		return "<0.01%"
	case p < 10:
		return fmt.Sprintf("%.2g%%", p)
	}
	return fmt.Sprintf("%.0f%%", p)
}

func noun(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// byteSize is a size with one decimal in the largest binary unit.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}

// MarshalJSON gives the JSON form: snake_case names, counts as numbers,
// times in seconds.
func (s Stats) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name         string  `json:"name"`
		Size         int64   `json:"size"`
		BlockSize    int64   `json:"block_size"`
		Validator    string  `json:"validator"`
		Requests     int64   `json:"requests"`
		Retries      int64   `json:"retries"`
		BytesFetched int64   `json:"bytes_fetched"`
		Reads        int64   `json:"reads"`
		BytesRead    int64   `json:"bytes_read"`
		CacheHits    int64   `json:"cache_hits"`
		CacheMisses  int64   `json:"cache_misses"`
		ReadAhead    int64   `json:"readahead_blocks"`
		DiskHits     int64   `json:"disk_hits"`
		DiskWrites   int64   `json:"disk_writes"`
		DiskRefused  string  `json:"disk_refused,omitempty"`
		OpenSeconds  float64 `json:"open_seconds"`
		WaitSeconds  float64 `json:"wait_seconds"`
	}{s.Name, s.Size, s.BlockSize, s.Validator, s.Requests, s.Retries, s.BytesFetched,
		s.Reads, s.BytesRead, s.CacheHits, s.CacheMisses, s.ReadAhead, s.DiskHits, s.DiskWrites,
		s.DiskRefused, s.Open.Seconds(), s.Wait.Seconds()})
}
