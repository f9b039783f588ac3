//go:build linux

package hugeheap

import (
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"dumpscope/internal/hugeheap/start"
)

const (
	// chunk is the unit in which the runtime maps its heap (pallocChunkBytes):
	// every mapping starts on a multiple of it, so the chunk around any heap
	// object is mapped whole.
	chunk = 4 << 20
	// minRegion and maxRegion bound the region mapped at once ahead of the
	// heap's growth: large enough that a command's heap grows into it for
	// several collections, small enough that mapping it (untouched, it
	// costs no memory) cannot fail where the heap itself would not.
	minRegion = 64 << 20
	maxRegion = 512 << 20
	// maxRecorded bounds the list of advised ranges kept for the tests.
	maxRecorded = 64
)

// span is an advised address range.
type span struct{ start, end uintptr }

// advised records what was advised, for the tests.
var advised struct {
	sync.Mutex
	spans []span
}

// sentinel carries the finalizer that runs after each collection. Its
// pointer field keeps it out of the tiny allocator, whose objects may never
// be finalized.
type sentinel struct{ _ *sentinel }

// on is false when GODEBUG turned the package off; set once by init.
var on bool

func init() {
	if v, _ := syscall.Getenv("GODEBUG"); start.DisabledByGODEBUG(v) {
		return
	}
	on = true
	runtime.SetFinalizer(new(sentinel), collected)
}

// collections counts the finished runs of collected (finalizers run one at
// a time; the tests read it).
var collections atomic.Int32

// hookMinGoal is the heap goal from which a collection maps a region
// ahead of the heap. Below it the heap is small and stays so in most
// commands (verify, find and pages recycle their buffers), and mapping a
// region costs more than its huge pages save: the placeholder's
// allocation (the runtime maps 64 MiB and grows its page tables, about a
// millisecond here) and the collection it brings. A 30 ms read of a small
// dump with two workers reached one collection and paid both. The commands
// that build large heaps call Prepare.
const hookMinGoal = 32 << 20

// collected runs on the finalizer goroutine after a collection freed s.
func collected(*sentinel) {
	if !placeholderOK() {
		return
	}
	growAdvised(false)
	collections.Add(1)
	runtime.SetFinalizer(new(sentinel), collected)
}

// hookWants reports whether a collection with this heap goal should map a
// region ahead of the heap.
func hookWants(goal uint64) bool { return goal >= hookMinGoal }

// ahead serialises growAdvised between Prepare and the collection hook.
var ahead struct {
	sync.Mutex
	placed bool // a region was mapped ahead of the heap
}

// Prepare maps the advised region ahead of the heap now, if none was
// mapped yet, instead of after the first collection. Call it where
// heap-heavy work starts (building the kernel engine, walking every task):
// the heap the command builds before its first collection then comes in
// huge pages too. It costs a collection (with a small heap, 1 to 3 ms of
// CPU here), so not where light commands pass. Safe from any goroutine;
// it does nothing where the package is off or huge pages cannot be had.
func Prepare() {
	if on && placeholderOK() {
		growAdvised(true)
	}
}

// growAdvised makes the runtime map one advised region when the heap is
// about to grow (always the first time, from Prepare or from the first
// collection with a heap goal of hookMinGoal or more; later, after a
// collection, when the heap goal comes within a quarter of what the heap
// has mapped): it allocates a slice the size of the region
// and drops it untouched. The next collection frees the slice, and the
// heap grows into the region with huge pages. The cost is that collection,
// come earlier than it would have (about a millisecond of CPU here with
// 5 MB live).
func growAdvised(prepare bool) {
	ahead.Lock()
	defer ahead.Unlock()
	if prepare && ahead.placed {
		return
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if !prepare && !hookWants(m.NextGC) {
		return
	}
	if ahead.placed && m.NextGC+m.NextGC/4 <= m.HeapSys+m.StackInuse {
		return
	}
	ahead.placed = true
	// At most a quarter of the machine's memory: the kernel's heuristic
	// overcommit refuses a mapping larger than memory and swap, and the
	// runtime cannot survive a refused heap mapping.
	size := min(max(2*m.NextGC, minRegion), maxRegion, placeholder.ram/4)
	size = (size + chunk - 1) &^ (chunk - 1)
	// With collections off (SetGCPercent waits for one in progress to
	// end), the slice is allocated unmarked and only its address is kept:
	// the collection its size starts as soon as they are back on cannot
	// find it live. Allocated during a collection, or still referenced
	// from this stack when one began, it would survive it, and the next
	// heap goal would count its 64 MiB or more as live.
	gcPercent := debug.SetGCPercent(-1)
	base := uintptr(unsafe.Pointer(unsafe.SliceData(make([]byte, size))))
	adviseRange(base, (base+uintptr(size)+chunk-1)&^(chunk-1))
	debug.SetGCPercent(gcPercent)
}

// adviseRange asks for huge pages over [lo, hi); a failure leaves the
// range as it is.
func adviseRange(lo, hi uintptr) {
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, syscall.MADV_HUGEPAGE)
	if errno != 0 {
		return
	}
	advised.Lock()
	if len(advised.spans) < maxRecorded {
		advised.spans = append(advised.spans, span{lo, hi})
	}
	advised.Unlock()
}

var placeholder struct {
	once sync.Once
	ok   bool
	ram  uint64 // the machine's memory in bytes, when ok
}

// placeholderOK reports whether mapping regions ahead of the heap is useful
// and safe: the process has a 64-bit address space (in 32 bits a region of
// hundreds of MiB could leave the heap no room to grow); the kernel gives
// huge pages only where asked ("madvise" mode; in "always" mode it needs no
// asking, in "never" mode it gives none); no strict overcommit or
// address-space limit could make the runtime's mapping of an unused region
// fail; no memory limit (GOMEMLIMIT) asks for a heap kept tight; and the
// machine has at least four times minRegion of memory.
func placeholderOK() bool {
	placeholder.once.Do(func() {
		var si syscall.Sysinfo_t
		placeholder.ok = unsafe.Sizeof(uintptr(0)) == 8 &&
			start.Setting("/sys/kernel/mm/transparent_hugepage/enabled") == "madvise" &&
			start.Setting("/proc/sys/vm/overcommit_memory") != "2" &&
			addressSpaceUnlimited() &&
			debug.SetMemoryLimit(-1) == math.MaxInt64 &&
			syscall.Sysinfo(&si) == nil && uint64(si.Totalram)*uint64(si.Unit) >= 4*minRegion
		placeholder.ram = uint64(si.Totalram) * uint64(si.Unit)
	})
	return placeholder.ok
}

func addressSpaceUnlimited() bool {
	var r syscall.Rlimit
	return syscall.Getrlimit(syscall.RLIMIT_AS, &r) == nil && r.Cur == ^uint64(0)
}
