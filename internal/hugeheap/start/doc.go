// Package start readies the process's memory as early as a package of ours
// can run: it maps the executable's code in one call, and gives the Go
// heap's first chunk transparent huge pages.
//
// The code: from here on, every package initialised runs a few pages of its
// own code somewhere in the 7 MB segment, and the first touch of each page
// would be a page fault (44 of `dumpscope version`'s 62 code faults came
// after this point). MADV_POPULATE_READ (Linux 5.14) maps the whole segment
// in one call instead, from the program headers the auxiliary vector points
// at. On a virtual machine with shadow page tables that saved 0.7-1.8 ms
// of CPU per command in most hours and cost 0.7-1.2 ms more in one
// (README), for 1-3 MB more resident (clean page cache, shared). Where the
// call is refused, nothing changes.
//
// Its madvise calls are raw system calls: nothing else is ready to run during
// initialisation, and a call that tells the scheduler it may block lets the
// runtime's monitor wake a second thread after 20 µs.
//
// The heap:
//
// The runtime maps its heap in 4 MiB chunks and starts it at a random page
// of the first one (Go 1.26 randomises the heap's base), before any package
// is initialised; the runtime and the first packages then touch a few
// hundred 4 KiB pages of it, one page fault each (about 10 µs each on a
// virtual machine with shadow page tables). So at initialisation the package
//
//   - advises the chunk of a fresh heap object (madvise MADV_HUGEPAGE), so a
//     2 MiB half of it still untouched comes as one huge page;
//   - collapses the 2 MiB block the heap is using into one huge page
//     (MADV_COLLAPSE, Linux 6.1 and later): the kernel copies the pages
//     touched so far, and the rest of the block costs no fault.
//
// It imports only syscall and unsafe (and takes the auxiliary vector from
// the runtime, as golang.org/x/sys does), so it is initialised right after
// syscall, before the packages that allocate most at start (Go initialises
// packages in import-path order as soon as their imports are). Both parts
// act only on Linux on amd64 and arm64; the heap part only in the kernel's
// "madvise" mode (in "always" mode the heap needs no asking; in "never"
// mode none is given), with 4 KiB pages (where a huge page is 2 MiB, half
// a chunk), and not when GODEBUG=disablethp=1, the runtime's own switch,
// is set. Every failure leaves the memory as it is.
//
// internal/hugeheap does the rest: it advises the regions the heap grows
// into, and reads this package's settings.
package start
