// Package hugeheap asks Linux for transparent huge pages for the Go heap,
// where the kernel gives them only on request (THP "madvise" mode), and
// for the executable's code in the page cache.
//
// On a machine where every page fault is expensive (a virtual machine with
// shadow page tables pays ~10 µs per 4 KiB fault), dumpscope's start-up and
// its heap-heavy commands spend a large share of their time faulting in
// heap pages.
// One 2 MiB huge-page fault costs about as much as twelve 4 KiB faults and
// maps 512 pages.
//
// The Go runtime grows its heap by mmap(MAP_FIXED) over its reservation, 4 MiB
// (or more) at a time, so every growth is a new mapping without the advice
// given to earlier ones. So:
//
//   - at initialisation, package start (internal/hugeheap/start, initialised
//     as early as a package of ours can be) advises the 4 MiB chunk the heap
//     started in and collapses the 2 MiB block in use into one huge page;
//   - after each garbage collection (a finalizer re-armed on a sentinel)
//     with a heap goal of 32 MiB or more, when the goal exceeds the heap
//     the runtime has mapped, the heap is about to grow: this package
//     allocates and drops a large unused slice, so the runtime maps one
//     large region at once, and advises that region. The next collection
//     frees the slice and the heap grows into the advised region. Commands
//     with small heaps pay nothing for it.
//
// Prepare, called where heap-heavy work starts, maps that first region
// at once rather than after the first collection, so the heap built before
// it comes in huge pages too; it costs a collection.
//
// ReloadText, called by main when a command is done, moves the
// executable's code and read-only data into 2 MiB pages of the page cache
// where package start found the code in small ones (as the linker leaves a
// fresh build): once per build, and then every process of it maps its code
// 2 MiB per fault (see ReloadText).
//
// Every failure leaves the memory as it is: nothing is reported. Setting
// GODEBUG=disablethp=1 (the runtime's own switch against huge pages for the
// heap) turns the package off, the code's part too. Elsewhere than Linux
// (and, for the code, than amd64 and arm64) it does nothing.
package hugeheap
