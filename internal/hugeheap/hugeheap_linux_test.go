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
)

// vma is one mapping of /proc/self/smaps with the fields the tests read.
type vma struct {
	start, end     uintptr
	flags          []string
	anonHugePageKB int
}

func readSmaps(t *testing.T) []vma {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
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
	if err := sc.Err(); err != nil {
		t.Fatalf("reading /proc/self/smaps: %v", err)
	}
	return out
}

// overlapping returns the mappings that overlap [start, end).
func overlapping(vmas []vma, start, end uintptr) []vma {
	var out []vma
	for _, v := range vmas {
		if v.start < end && start < v.end {
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
	mode := sysfsSetting("/sys/kernel/mm/transparent_hugepage/enabled")
	if mode == "" {
		t.Skip("transparent huge pages unavailable: no /sys/kernel/mm/transparent_hugepage/enabled")
	}
	if disabledByGODEBUG(func(k string) (string, bool) { return os.LookupEnv(k) }) {
		t.Skip("GODEBUG=disablethp=1 turns the package off")
	}
	return mode
}

func spans() []span {
	advised.Lock()
	defer advised.Unlock()
	return append([]span(nil), advised.spans...)
}

// TestFirstChunkAdvised: init advised the heap chunk of its first object,
// and the kernel marked that mapping for huge pages ("hg").
func TestFirstChunkAdvised(t *testing.T) {
	thpSetting(t)
	s := spans()
	if len(s) == 0 {
		t.Fatal("init advised nothing")
	}
	first := s[0]
	if first.end-first.start != chunk || first.start%chunk != 0 {
		t.Fatalf("first advised range %#x-%#x is not one aligned %d-byte chunk", first.start, first.end, chunk)
	}
	vs := overlapping(readSmaps(t), first.start, first.end)
	if len(vs) == 0 {
		t.Fatalf("no mapping at the advised chunk %#x-%#x", first.start, first.end)
	}
	for _, v := range vs {
		if !hasFlag(v, "hg") {
			t.Errorf("mapping %#x-%#x in the advised chunk lacks VmFlags hg: %v", v.start, v.end, v.flags)
		}
	}
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

// TestGrowthAdvised: after a collection the hook maps an advised region
// ahead of the heap, and memory the heap then gets there comes in huge pages.
func TestGrowthAdvised(t *testing.T) {
	if mode := thpSetting(t); mode != "madvise" {
		t.Skipf("transparent huge pages are %q: regions are advised ahead only in madvise mode", mode)
	}
	if !placeholderOK() {
		t.Skip("strict overcommit, an address-space or memory limit (GOMEMLIMIT), or little memory: no regions are mapped ahead")
	}
	deadline := time.Now().Add(5 * time.Second)
	for collections.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the collection hook never ran")
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	s := spans()
	if len(s) < 2 {
		t.Fatalf("the hook ran %d times but advised no region ahead of the heap", collections.Load())
	}
	region := s[1]
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
	start := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	end := start + uintptr(len(buf))
	if end <= region.start || start >= region.end {
		t.Skipf("the allocation at %#x-%#x fell outside the advised region %#x-%#x", start, end, region.start, region.end)
	}
	huge, advisedAll := 0, true
	for _, v := range overlapping(readSmaps(t), max(start, region.start), min(end, region.end)) {
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

func TestDisabledByGODEBUG(t *testing.T) {
	for _, c := range []struct {
		godebug string
		set     bool
		want    bool
	}{
		{"", false, false},
		{"disablethp=1", true, true},
		{"gctrace=1, disablethp=1", true, true},
		{"disablethp=1,disablethp=0", true, false},
		{"disablethp=0", true, false},
		{"xdisablethp=1", true, false},
	} {
		got := disabledByGODEBUG(func(string) (string, bool) { return c.godebug, c.set })
		if got != c.want {
			t.Errorf("GODEBUG=%q: disabled %v, want %v", c.godebug, got, c.want)
		}
	}
}

func TestSysfsSetting(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{
		"always [madvise] never\n": "madvise",
		"[always] madvise never\n": "always",
		"2\n":                      "2",
		"":                         "",
	} {
		p := dir + "/setting"
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := sysfsSetting(p); got != want {
			t.Errorf("%q: got %q, want %q", content, got, want)
		}
	}
	if got := sysfsSetting(dir + "/absent"); got != "" {
		t.Errorf("absent file: got %q, want empty", got)
	}
}
