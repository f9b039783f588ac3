package main

// The dumpscope side runs in a child process (this program, started again
// with "child" as its first argument), as the libkdumpfile side runs in
// lkdf_bench: each side has a fresh process and heap for every
// measurement, times itself from before it opens the dump to after it
// closes it, and prints one line of key=value pairs in the same form.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// chunkPages is how many page-list entries a worker takes at a time;
// worker w of n takes chunks w, w+n, w+2n ... (the C side does the same).
const chunkPages = 256

// childResult is what one child reports.
type childResult struct {
	ns     float64 // elapsed time of the measured work
	cpu    float64 // CPU time of the process meanwhile (user + system, all threads)
	ops    int64   // operations (pages, opens)
	ok     int64
	failed int64
	bytes  int64
	hits   int64
}

func (r childResult) String() string {
	return fmt.Sprintf("ns=%.0f cpu_ns=%.0f ops=%d ok=%d failed=%d bytes=%d hits=%d", r.ns, r.cpu, r.ops, r.ok, r.failed, r.bytes, r.hits)
}

// clock measures the wall time and the process's CPU time of the work: on
// a busy machine the CPU time of single-threaded work stays comparable
// when the wall time does not.
type clock struct {
	start time.Time
	cpu0  float64
}

func startClock() clock { return clock{time.Now(), processCPU()} }

func (c clock) wall() float64 { return float64(time.Since(c.start)) }

func (c clock) cpu() float64 { return processCPU() - c.cpu0 }

// processCPU is the user plus system time of this process, in ns.
func processCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano() + ru.Stime.Nano())
}

// runChild runs one measurement of the dumpscope side:
//
//	child info N FILE...            open, Info, close, N times
//	child read LIST WORKERS FILE... read the pfns of LIST with WORKERS goroutines
//	child verify JOBS FILE...       verify with JOBS page workers
//	child verify-warm JOBS FILE...  the same, timed after one untimed verify
//	child find PATTERN JOBS FILE...      find PATTERN in every readable page
//	child ceiling LIST JOBS FILE... decode the stored images of LIST, already in memory
//	child index FILE...             open and build a flattened stream's whole index
//
// With SIDEBYSIDE_CPUPROFILE, SIDEBYSIDE_MEMPROFILE or
// SIDEBYSIDE_MUTEXPROFILE set to a file name, the child writes a CPU
// profile, an allocation profile (sampled every 64 KiB) or a mutex
// contention profile there, for go tool pprof.
func runChild(args []string) error {
	if len(args) < 2 {
		return errors.New("child: no operation")
	}
	if path := os.Getenv("SIDEBYSIDE_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if path := os.Getenv("SIDEBYSIDE_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 64 << 10
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if path := os.Getenv("SIDEBYSIDE_MUTEXPROFILE"); path != "" {
		runtime.SetMutexProfileFraction(1)
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("mutex").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	op, rest := args[0], args[1:]
	var r childResult
	var err error
	switch op {
	case "info":
		r, err = childInfo(rest)
	case "read":
		r, err = childRead(rest)
	case "verify":
		r, err = childVerify(rest, false)
	case "verify-warm":
		r, err = childVerify(rest, true)
	case "find":
		r, err = childFind(rest)
	case "ceiling":
		r, err = childCeiling(rest)
	case "index":
		r, err = childIndex(rest)
	default:
		err = fmt.Errorf("child: unknown operation %q", op)
	}
	if err != nil {
		return err
	}
	fmt.Println(r)
	return nil
}

// intArg parses a positive count argument.
func intArg(s, what string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s: %q is not a positive number", what, s)
	}
	return n, nil
}

// openDo opens the dump of files, calls do on it and closes it again:
// what a child that times one operation on a dump of its own does. It
// also returns the dump's page size.
func openDo[T any](files []string, do func(*dsDump) (T, error)) (T, int, error) {
	d, err := dsOpen(files...)
	if err != nil {
		var zero T
		return zero, 0, err
	}
	v, err := do(d)
	ps := d.PageSize()
	d.Close()
	return v, ps, err
}

// listArgs reads the arguments LIST COUNT FILE [FILE ...] of the children
// that work through a page list (usage is the child's usage line, count
// the name it gives COUNT): the list, the count and the files.
func listArgs(args []string, usage, count string) ([]uint64, int, []string, error) {
	if len(args) < 3 {
		return nil, 0, nil, errors.New("usage: child " + usage)
	}
	list, err := readList(args[0])
	if err != nil {
		return nil, 0, nil, err
	}
	n, err := intArg(args[1], count)
	if err != nil {
		return nil, 0, nil, err
	}
	return list, n, args[2:], nil
}

func childInfo(args []string) (childResult, error) {
	if len(args) < 2 {
		return childResult{}, errors.New("usage: child info N FILE [FILE ...]")
	}
	n, err := intArg(args[0], "N")
	if err != nil {
		return childResult{}, err
	}
	var sum uint64
	start := startClock()
	for i := 0; i < n; i++ {
		d, err := dsOpen(args[1:]...)
		if err != nil {
			return childResult{}, err
		}
		sum += d.Info()
		d.Close()
	}
	return childResult{ns: start.wall(), cpu: start.cpu(), ops: int64(n), ok: int64(n), hits: int64(sum)}, nil
}

// readList reads a page list: little-endian uint64 pfns.
func readList(path string) ([]uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("%s: %d bytes is not a list of 8-byte pfns", path, len(b))
	}
	out := make([]uint64, len(b)/8)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return out, nil
}

// writeList writes a page list for both sides.
func writeList(path string, pfns []uint64) error {
	b := make([]byte, 8*len(pfns))
	for i, p := range pfns {
		binary.LittleEndian.PutUint64(b[8*i:], p)
	}
	return os.WriteFile(path, b, 0o644)
}

func childRead(args []string) (childResult, error) {
	list, workers, files, err := listArgs(args, "read LIST WORKERS FILE [FILE ...]", "WORKERS")
	if err != nil {
		return childResult{}, err
	}
	start := startClock()
	d, err := dsOpen(files...)
	if err != nil {
		return childResult{}, err
	}
	ok := make([]int64, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, d.PageSize())
			for c := w * chunkPages; c < len(list); c += workers * chunkPages {
				for _, pfn := range list[c:min(c+chunkPages, len(list))] {
					if d.ReadPage(pfn, buf) == nil {
						ok[w]++
					}
				}
			}
		}()
	}
	wg.Wait()
	ps := d.PageSize()
	d.Close()
	r := childResult{ns: start.wall(), cpu: start.cpu(), ops: int64(len(list))}
	for _, n := range ok {
		r.ok += n
	}
	r.failed = r.ops - r.ok
	r.bytes = r.ok * int64(ps)
	return r, nil
}

// childVerify opens the dump, verifies it and closes it. With warm, it
// does so once untimed first, as childCeiling decodes once untimed first:
// the process's first pass also pays for what any first pass pays once
// (the program's code paged in, the heap grown, decoders built), which the
// ceiling's timed pass does not, so comparing a cold verify with the warm
// ceiling overstates what verify adds to decoding.
func childVerify(args []string, warm bool) (childResult, error) {
	if len(args) < 2 {
		return childResult{}, errors.New("usage: child verify JOBS FILE [FILE ...]")
	}
	jobs, err := intArg(args[0], "JOBS")
	if err != nil {
		return childResult{}, err
	}
	verify := func(d *dsDump) (uint64, error) { return d.Verify(jobs) }
	if warm {
		if _, _, err := openDo(args[1:], verify); err != nil {
			return childResult{}, err
		}
	}
	start := startClock()
	n, ps, err := openDo(args[1:], verify)
	if err != nil {
		return childResult{}, err
	}
	pages := int64(n) / int64(ps)
	return childResult{ns: start.wall(), cpu: start.cpu(), ops: pages, ok: pages, bytes: int64(n)}, nil
}

func childFind(args []string) (childResult, error) {
	if len(args) < 3 {
		return childResult{}, errors.New("usage: child find PATTERN JOBS FILE [FILE ...]")
	}
	jobs, err := intArg(args[1], "JOBS")
	if err != nil {
		return childResult{}, err
	}
	start := startClock()
	hits, _, err := openDo(args[2:], func(d *dsDump) (int, error) { return d.Find([]byte(args[0]), jobs) })
	if err != nil {
		return childResult{}, err
	}
	return childResult{ns: start.wall(), cpu: start.cpu(), hits: int64(hits)}, nil
}

// childCeiling decodes the stored pages of LIST with JOBS goroutines, one
// decoder each, from memory: what verify could reach if reading, checking
// and bookkeeping cost nothing. Only the second decoding pass is timed.
func childCeiling(args []string) (childResult, error) {
	list, jobs, files, err := listArgs(args, "ceiling LIST JOBS FILE [FILE ...]", "JOBS")
	if err != nil {
		return childResult{}, err
	}
	// No collections: the child holds every stored page (tens of MB), and
	// a collection, or internal/hugeheap's growth of the heap after one,
	// running on the idle CPU during the timed pass would count as
	// decoding. The pass allocates next to nothing.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	pages, ps, err := openDo(files, func(d *dsDump) ([]storedPage, error) { return d.StoredPages(list) })
	if err != nil {
		return childResult{}, err
	}
	// One untimed pass first: on some virtual machines the first user-mode
	// touch of a page the kernel filled costs microseconds, which is not
	// the codec's cost.
	warm := newDSDecoder(ps)
	dst := make([]byte, ps)
	for _, p := range pages {
		if err := warm.Decode(p.codec, p.data, dst); err != nil {
			warm.Close()
			return childResult{}, err
		}
	}
	warm.Close()
	errs := make([]error, jobs)
	start := startClock()
	var wg sync.WaitGroup
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec := newDSDecoder(ps)
			defer dec.Close()
			dst := make([]byte, ps)
			for i := w; i < len(pages); i += jobs {
				if err := dec.Decode(pages[i].codec, pages[i].data, dst); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	r := childResult{ns: start.wall(), cpu: start.cpu(), ops: int64(len(pages)), ok: int64(len(pages)), bytes: int64(len(pages) * ps)}
	return r, errors.Join(errs...)
}

func childIndex(args []string) (childResult, error) {
	if len(args) < 1 {
		return childResult{}, errors.New("usage: child index FILE [FILE ...]")
	}
	start := startClock()
	d, err := dsOpen(args...)
	if err != nil {
		return childResult{}, err
	}
	err = d.Index()
	d.Close()
	return childResult{ns: start.wall(), cpu: start.cpu(), ops: 1, ok: 1}, err
}
