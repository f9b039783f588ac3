//go:build linux

package hugeheap

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"dumpscope/internal/hugeheap/start"
)

// vma is one mapping of /proc/self/smaps with the fields the tests read.
type vma struct {
	start, end     uintptr
	flags          []string
	anonHugePageKB int
}

func readSmaps(t *testing.T) []vma {
	t.Helper()
	vmas, err := smaps()
	if os.IsNotExist(err) {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	if err != nil {
		t.Fatalf("reading /proc/self/smaps: %v", err)
	}
	return vmas
}

// smaps reads /proc/self/smaps.
func smaps() ([]vma, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []vma
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				out = append(out, vma{start: uintptr(a), end: uintptr(b)})
				continue
			}
		}
		if len(out) == 0 {
			continue
		}
		cur := &out[len(out)-1]
		switch fields[0] {
		case "VmFlags:":
			cur.flags = fields[1:]
		case "AnonHugePages:":
			if len(fields) > 1 {
				cur.anonHugePageKB, _ = strconv.Atoi(fields[1])
			}
		}
	}
	return out, sc.Err()
}

func overlapping(vmas []vma, lo, hi uintptr) []vma {
	var out []vma
	for _, v := range vmas {
		if v.start < hi && lo < v.end {
			out = append(out, v)
		}
	}
	return out
}

func hasFlag(v vma, flag string) bool {
	for _, f := range v.flags {
		if f == flag {
			return true
		}
	}
	return false
}

// thpSetting skips the test where the kernel has no transparent huge pages.
func thpSetting(t *testing.T) string {
	t.Helper()
	mode := start.Setting("/sys/kernel/mm/transparent_hugepage/enabled")
	if mode == "" {
		t.Skip("transparent huge pages unavailable: no /sys/kernel/mm/transparent_hugepage/enabled")
	}
	if start.DisabledByGODEBUG(os.Getenv("GODEBUG")) {
		t.Skip("GODEBUG=disablethp=1 turns the package off")
	}
	return mode
}

func spans() []span {
	advised.Lock()
	defer advised.Unlock()
	return append([]span(nil), advised.spans...)
}

// TestPrepare: Prepare maps one advised region ahead of the heap, once.
// It runs before TestGrowthAdvised, which then checks that region.
func TestPrepare(t *testing.T) {
	if mode := thpSetting(t); mode != "madvise" {
		t.Skipf("transparent huge pages are %q: regions are advised ahead only in madvise mode", mode)
	}
	if !placeholderOK() {
		t.Skip("strict overcommit, an address-space or memory limit (GOMEMLIMIT), or little memory: no regions are mapped ahead")
	}
	ahead.Lock()
	placed := ahead.placed
	ahead.Unlock()
	before := len(spans())
	Prepare()
	after := len(spans())
	if want := before + 1; !placed && after != want {
		t.Fatalf("Prepare with no region ahead: %d advised ranges, want %d", after, want)
	}
	if placed && after != before {
		t.Fatalf("Prepare with a region already ahead advised %d more ranges, want none", after-before)
	}
	Prepare()
	if again := len(spans()); again != after {
		t.Errorf("second Prepare advised %d more ranges, want none", again-after)
	}
}

// TestGrowthAdvised: collections run the hook, the region mapped ahead of
// the heap (by Prepare here: the hook maps one only for a large heap, see
// TestHookWants) is advised, and memory the heap then gets there comes in
// huge pages.
func TestGrowthAdvised(t *testing.T) {
	if mode := thpSetting(t); mode != "madvise" {
		t.Skipf("transparent huge pages are %q: regions are advised ahead only in madvise mode", mode)
	}
	if !placeholderOK() {
		t.Skip("strict overcommit, an address-space or memory limit (GOMEMLIMIT), or little memory: no regions are mapped ahead")
	}
	Prepare()
	deadline := time.Now().Add(5 * time.Second)
	for collections.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the collection hook never ran")
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	s := spans()
	if len(s) == 0 {
		t.Fatalf("Prepare advised no region ahead of the heap (the hook ran %d times)", collections.Load())
	}
	region := s[0]
	if region.end-region.start < minRegion {
		t.Fatalf("region %#x-%#x is smaller than %d bytes", region.start, region.end, minRegion)
	}
	for _, v := range overlapping(readSmaps(t), region.start, region.end) {
		if !hasFlag(v, "hg") {
			t.Errorf("mapping %#x-%#x in the advised region lacks VmFlags hg: %v", v.start, v.end, v.flags)
		}
	}

	// The collection frees the unused slice; a large allocation then lands in
	// the region, and touching it brings huge pages.
	runtime.GC()
	buf := make([]byte, 8<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	hi := lo + uintptr(len(buf))
	if hi <= region.start || lo >= region.end {
		t.Skipf("the allocation at %#x-%#x fell outside the advised region %#x-%#x", lo, hi, region.start, region.end)
	}
	huge, advisedAll := 0, true
	for _, v := range overlapping(readSmaps(t), max(lo, region.start), min(hi, region.end)) {
		huge += v.anonHugePageKB
		advisedAll = advisedAll && hasFlag(v, "hg")
	}
	runtime.KeepAlive(buf)
	switch {
	case !advisedAll:
		t.Errorf("the mappings of an 8 MiB slice, inside the advised region, lost the advice (VmFlags without hg)")
	case huge == 0:
		// Advised, but the kernel had no free huge page at hand (fragmented
		// memory): the machine's state, not the package's.
		t.Skip("no AnonHugePages in the advised mappings of an 8 MiB slice: the kernel found no free huge page")
	}
}

// TestHookWants: a collection maps a region ahead of the heap only from a
// heap goal of hookMinGoal.
func TestHookWants(t *testing.T) {
	for _, c := range []struct {
		goal uint64
		want bool
	}{{0, false}, {4 << 20, false}, {hookMinGoal - 1, false}, {hookMinGoal, true}, {1 << 40, true}} {
		if got := hookWants(c.goal); got != c.want {
			t.Errorf("goal %d: %v, want %v", c.goal, got, c.want)
		}
	}
}
