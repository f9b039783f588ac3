// Package start readies the process's memory as early as a package of ours
// can run: it asks for the executable's code and read-only data in huge
// pages of the page cache and maps the code in one call, grows the stack
// of the goroutine that goes on to run main, and gives the Go heap's first
// chunk transparent huge pages.
//
// It is initialised right after the runtime and its own packages (only a
// package with nothing to wait for that sorts before it, such as
// crypto/internal/fips140deps/cpu, comes first): on Linux on amd64 and
// arm64 it imports nothing but unsafe. Go initialises, in import-path
// order, the packages whose imports are initialised, so a package that
// imports syscall waits for syscall and everything syscall imports, and
// packages with nothing to wait for go before it (the terminal UI's
// escape-sequence parser, hash/crc32, ...). So it makes its few system
// calls itself (sys_linux_$GOARCH.s), and takes the auxiliary vector and
// the environment from the runtime under the names golang.org/x/sys and
// package syscall take them by. Moving it
// from after syscall to first saved 1.5-1.9 ms of the CPU of `dumpscope
// version` (11-12 ms before; interleaved runs, bench/results/README.md):
// the code, heap and stack the other packages' initialisers touch are
// then mapped before they run.
//
// The code: every package initialised from here on runs a few pages of
// its own code somewhere in the 7 MB segment, and the first touch of each
// page would be a page fault (about 30 µs each on a virtual machine with
// shadow page tables). MADV_POPULATE_READ (Linux 5.14) maps the whole
// segment in one call instead (about half a millisecond), from the program
// headers the auxiliary vector points at; `dumpscope version` then takes 2
// code faults after this point, and 11 before it, in the runtime. Where
// the call is refused, nothing changes. It costs 1-3 MB more resident
// (clean page cache, shared).
//
// The code in huge pages: before that call, in the kernel's "madvise" and
// "always" modes with 4 KiB pages, the package advises both read-only
// segments for huge pages (MADV_HUGEPAGE on a file mapping). What the page
// cache then reads of them comes in 2 MiB pages where the file system
// reads large pages (ext4 from Linux 6.16, XFS from 5.18), and the kernel
// maps each such page at an aligned 2 MiB block of the segment in one
// fault, in this and every later process: Go's linker lays the segments
// out so that addresses and file offsets agree modulo 2 MiB. It counts
// the faults of mapping the code's aligned blocks (getrusage of the
// thread around the call): one per block where the page cache holds them
// in 2 MiB pages, one per 64 KiB (the kernel's fault-around) where it
// holds the small pages the linker or a copy wrote. Package hugeheap reads
// that count when a command ends (TextInSmallPages) and moves the code
// into 2 MiB pages once (hugeheap.ReloadText). With the code in 2 MiB
// pages, `dumpscope version` took 9.1-9.5 ms of CPU against 13.6-14.0 with
// it in small pages (bench/results/README.md, seventeenth pass).
//
// The stack: the goroutine that initialises the packages, and then runs
// main, starts with 2 KiB of stack, which grew in steps as initialisers
// called deeper, each step copying the stack and reading the frames'
// tables from the executable. It is grown once here, while shallow, to
// 16 KiB; a garbage collection may shrink it again later, when the start
// is over.
//
// Its system calls are raw: nothing else is ready to run during
// initialisation, and a call that tells the scheduler it may block lets
// the runtime's monitor wake a second thread after 20 µs.
//
// The heap:
//
// The runtime maps its heap in 4 MiB chunks and starts it at a random page
// of the first one (Go 1.26 randomises the heap's base), before any package
// is initialised; the runtime touches about ninety 4 KiB pages of it first,
// and the packages' initialisers would touch as many more, one page fault
// each (about 10 µs each on a virtual machine with shadow page tables). So
// at initialisation the package
//
//   - advises the chunk of a fresh heap object (madvise MADV_HUGEPAGE), so a
//     2 MiB half of it still untouched comes as one huge page;
//   - collapses the 2 MiB block the heap is using into one huge page
//     (MADV_COLLAPSE, Linux 6.1 and later): the kernel copies the pages
//     touched so far, and the rest of the block costs no fault.
//
// All four parts act only on Linux on amd64 and arm64; the heap part only
// in the kernel's "madvise" mode (in "always" mode the heap needs no
// asking; in "never" mode none is given), the code's advice in "madvise"
// and "always" modes (the page cache's pages are asked for by file mapping
// in both), both with 4 KiB pages (where a huge page is 2 MiB, half a
// chunk), and neither when GODEBUG=disablethp=1, the runtime's own
// switch, is set. Every failure leaves the memory as it is.
//
// internal/hugeheap does the rest: it advises the regions the heap grows
// into, moves code held in small pages into huge ones (with DropCode where
// io_uring is refused), and reads this package's settings.
package start
