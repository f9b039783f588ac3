//go:build linux && (amd64 || arm64)

package hugeheap

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"unsafe"

	"dumpscope/internal/hugeheap/start"
)

// The io_uring interface, from <linux/io_uring.h> (Linux 5.6 and later for
// the two operations used here).
const (
	sysIoUringSetup = 425 // the same number on amd64 and arm64
	sysIoUringEnter = 426

	ioringOffSqRing = 0
	ioringOffCqRing = 0x8000000
	ioringOffSqes   = 0x10000000

	ioringFeatSingleMmap   = 1 << 0
	ioringEnterGetevents   = 1 << 0
	iosqeIoLink            = 1 << 2
	ioringOpFadvise        = 24
	ioringOpMadvise        = 25
	sqeSize                = 64
	cqeSize                = 16
	madvDontneed           = 4
	posixFadvDontneed      = 4
	ringEntries            = 4
	maxRingRegionsAndFiles = ringEntries - 1
	// maxRingWaits bounds the waits for the answers, each of which a
	// signal may end early.
	maxRingWaits = 1000
)

// ioSqringOffsets, ioCqringOffsets and ioUringParams are struct
// io_sqring_offsets, io_cqring_offsets and io_uring_params.
type ioSqringOffsets struct {
	Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1 uint32
	UserAddr                                                        uint64
}

type ioCqringOffsets struct {
	Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1 uint32
	UserAddr                                                        uint64
}

type ioUringParams struct {
	SqEntries, CqEntries, Flags, SqThreadCPU, SqThreadIdle, Features, WqFd uint32
	Resv                                                                   [3]uint32
	SqOff                                                                  ioSqringOffsets
	CqOff                                                                  ioCqringOffsets
}

// dropInOneCall drops the regions from this process's page tables
// (MADV_DONTNEED) and then the pages of the file fd from the page cache
// (POSIX_FADV_DONTNEED), as linked operations of one io_uring_enter
// call: the kernel runs them one after the other while this thread waits
// in the call, so it runs none of the code being dropped in between, and
// no page of it is kept (compare start.DropCode, which must run a few
// instructions there). It fails where io_uring is missing or refused (a
// kernel before 5.6, kernel.io_uring_disabled, a seccomp filter).
func dropInOneCall(regions []start.Range, fd uintptr) error {
	if len(regions) > maxRingRegionsAndFiles {
		return fmt.Errorf("%d regions: at most %d", len(regions), maxRingRegionsAndFiles)
	}
	var p ioUringParams
	ring, _, errno := syscall.RawSyscall(sysIoUringSetup, ringEntries, uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return fmt.Errorf("io_uring_setup: %w", errno)
	}
	defer syscall.Close(int(ring))
	sqLen := int(p.SqOff.Array + p.SqEntries*4)
	cqLen := int(p.CqOff.Cqes + p.CqEntries*cqeSize)
	if p.Features&ioringFeatSingleMmap != 0 {
		sqLen = max(sqLen, cqLen)
	}
	sq, err := syscall.Mmap(int(ring), ioringOffSqRing, sqLen, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("mapping the submission ring: %w", err)
	}
	defer syscall.Munmap(sq)
	cq := sq
	if p.Features&ioringFeatSingleMmap == 0 {
		if cq, err = syscall.Mmap(int(ring), ioringOffCqRing, cqLen, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE); err != nil {
			return fmt.Errorf("mapping the completion ring: %w", err)
		}
		defer syscall.Munmap(cq)
	}
	sqes, err := syscall.Mmap(int(ring), ioringOffSqes, int(p.SqEntries)*sqeSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("mapping the submission entries: %w", err)
	}
	defer syscall.Munmap(sqes)

	// One entry per region, then the file's: each linked to the next, so
	// that they run in order.
	n := uint32(len(regions) + 1)
	tail := atomic.LoadUint32(u32(sq, p.SqOff.Tail))
	mask := *u32(sq, p.SqOff.RingMask)
	for i := uint32(0); i < n; i++ {
		e := sqes[(tail+i)&mask*sqeSize:][:sqeSize]
		clear(e)
		if i < n-1 {
			e[0] = ioringOpMadvise
			e[1] = iosqeIoLink
			*(*uint64)(unsafe.Pointer(&e[16])) = uint64(regions[i].Start)
			*(*uint32)(unsafe.Pointer(&e[24])) = uint32(regions[i].End - regions[i].Start)
			*(*uint32)(unsafe.Pointer(&e[28])) = madvDontneed
		} else {
			e[0] = ioringOpFadvise
			*(*int32)(unsafe.Pointer(&e[4])) = int32(fd)
			*(*uint32)(unsafe.Pointer(&e[28])) = posixFadvDontneed // offset 0, length 0: the whole file
		}
		*(*uint64)(unsafe.Pointer(&e[32])) = uint64(i)
		*u32(sq, p.SqOff.Array+((tail+i)&mask)*4) = (tail + i) & mask
	}
	atomic.StoreUint32(u32(sq, p.SqOff.Tail), tail+n)
	submitted, _, errno := syscall.RawSyscall6(sysIoUringEnter, ring, uintptr(n), 0, 0, 0, 0)
	if errno != 0 {
		return fmt.Errorf("io_uring_enter: %w", errno)
	}
	if uint32(submitted) != n {
		return fmt.Errorf("io_uring_enter took %d of %d operations", submitted, n)
	}
	// Wait for every answer: a signal (the runtime's preemption, say) ends
	// a wait early, and the ring must not be closed with an operation
	// still running.
	cmask := *u32(cq, p.CqOff.RingMask)
	var first error
	for got, tries := uint32(0), 0; got < n; {
		head := atomic.LoadUint32(u32(cq, p.CqOff.Head))
		ctail := atomic.LoadUint32(u32(cq, p.CqOff.Tail))
		for ; head != ctail; head++ {
			c := cq[p.CqOff.Cqes+(head&cmask)*cqeSize:][:cqeSize]
			if res := *(*int32)(unsafe.Pointer(&c[8])); res < 0 && first == nil {
				first = fmt.Errorf("operation %d: %w", *(*uint64)(unsafe.Pointer(&c[0])), syscall.Errno(-res))
			}
			got++
		}
		atomic.StoreUint32(u32(cq, p.CqOff.Head), head)
		if got >= n {
			break
		}
		if tries++; tries > maxRingWaits {
			return fmt.Errorf("%d of %d operations answered after %d waits", got, n, maxRingWaits)
		}
		_, _, errno := syscall.RawSyscall6(sysIoUringEnter, ring, 0, uintptr(n-got), ioringEnterGetevents, 0, 0)
		if errno != 0 && errno != syscall.EINTR {
			return fmt.Errorf("io_uring_enter, waiting: %w", errno)
		}
	}
	return first
}

// u32 is the 32-bit word at offset off of a ring's mapping.
func u32(m []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&m[off])) }
