//go:build linux && (amd64 || arm64)

package start

import "unsafe"

const (
	// chunk is the unit in which the runtime maps its heap
	// (pallocChunkBytes): every mapping starts on a multiple of it, so the
	// chunk around any heap object is mapped whole.
	chunk = 4 << 20
	// block is a huge page with 4 KiB base pages on amd64 and arm64.
	block = 2 << 20
	// BlockSize is that huge page's size, for package hugeheap.
	BlockSize = block
	// madvHugepage and madvCollapse are MADV_HUGEPAGE and MADV_COLLAPSE
	// (Linux 6.1 and later), from <asm-generic/mman-common.h>.
	madvHugepage = 14
	madvCollapse = 25
	// stackFrame is growStack's frame: with what lies below it and the
	// stack guard it needs more than 8 KiB, so the stack grows once, from
	// 2 to 16 KiB.
	stackFrame = 12 << 10
)

// Range is an address range [Start, End).
type Range struct{ Start, End uintptr }

// First is what initialisation did, for the tests.
var First struct {
	// Off: GODEBUG=disablethp=1 turned huge pages off.
	Off bool
	// Mode is the kernel's setting ("always", "madvise", "never"; empty
	// where there is none).
	Mode string
	// Chunk is the advised chunk, and Block the block asked to collapse;
	// zero when nothing was asked.
	Chunk, Block Range
	// AdviseErr and CollapseErr are the answers of the two madvise calls.
	AdviseErr, CollapseErr Errno
	// Text is the executable's code segment, and TextErr the first
	// failed answer of the madvise calls that advised and mapped it.
	Text    Range
	TextErr Errno
	// Rodata is the executable's read-only data segment, and
	// TextOffset the file offset Text.Start maps.
	Rodata     Range
	TextOffset uintptr
	// TextHuge: both segments were advised for huge pages. TextFaults
	// counts the page faults of mapping the code's TextBlocks aligned
	// 2 MiB blocks, and TextSmall the blocks that took more than 4 (see
	// mapText and TextInSmallPages).
	TextHuge                          bool
	TextBlocks, TextFaults, TextSmall uintptr
	// Blocks is the range of the code's aligned 2 MiB blocks.
	Blocks Range
}

// sink makes the sentinel escape to the heap.
var sink *[2]uintptr

func init() {
	if First.Off = DisabledByGODEBUG(getenv("GODEBUG")); !First.Off {
		First.Mode = Setting("/sys/kernel/mm/transparent_hugepage/enabled")
	}
	pages4K := pageSize(runtimeAuxv()) == 4096
	mapText(pages4K && (First.Mode == "madvise" || First.Mode == "always"))
	growStack()
	if First.Mode != "madvise" || !pages4K {
		return
	}
	sink = new([2]uintptr)
	p := uintptr(unsafe.Pointer(sink))
	sink = nil
	First.Chunk = Range{p &^ (chunk - 1), p&^(chunk-1) + chunk}
	First.AdviseErr = madvise(First.Chunk, madvHugepage)
	if First.AdviseErr != 0 {
		return
	}
	First.Block = Range{p &^ (block - 1), p&^(block-1) + block}
	First.CollapseErr = madvise(First.Block, madvCollapse)
}

// madvise is a raw system call: nothing else is ready to run while
// packages are initialised, and a call that told the scheduler it blocks
// (syscall.Syscall) would have the runtime's monitor hand the processor to
// another thread after 20 µs, waking or starting one (about 0.5 ms of
// `version`'s CPU here).
func madvise(r Range, advice uintptr) Errno {
	_, errno := rawSyscall6(sysMadvise, r.Start, r.End-r.Start, advice, 0, 0, 0)
	return errno
}

// growStack grows the stack of the goroutine that initialises the
// packages, which goes on to run main, while it is shallow: one copy of a
// few frames. Otherwise the stack grows from 2 KiB in steps as the
// packages' initialisers call deeper, each step copying a deeper stack and
// reading the frames' tables from the executable (page faults in its line
// table); `dumpscope version` grew it twice that way, to 8 KiB, and spent
// 0.3-0.5 ms more CPU than with this call, which grows it once, to 16 KiB.
// With the code and its tables in 2 MiB pages the difference is within
// the noise (7.40 against 7.41 ms, 7.05 against 7.04); it stays for where
// they are not.
//
//go:noinline
func growStack() {
	var frame [stackFrame]byte
	touch(frame[:])
}

// touch writes the last byte of b, so that growStack's frame exists.
//
//go:noinline
func touch(b []byte) { b[len(b)-1] = 1 }
