//go:build linux && (amd64 || arm64)

package hugeheap

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"dumpscope/internal/hugeheap/start"
)

const (
	// retryAfter spaces the tries for one executable: a try that fails
	// (pages another process keeps mapped, a file system that reads no
	// large pages) costs a read of the code from disk.
	retryAfter = time.Hour
	// reloadPasses bounds the passes of one try (see reloadText).
	reloadPasses = 3
	// tmpfsMagic and ramfsMagic are the statfs types of file systems kept
	// in memory (<linux/magic.h>): their pages are not read from a disk,
	// and cannot be dropped, only swapped out.
	tmpfsMagic = 0x01021994
	ramfsMagic = 0x858458f6
	// madvPopulateRead is MADV_POPULATE_READ (Linux 5.14), and
	// rusageThread RUSAGE_THREAD; package syscall has neither.
	madvPopulateRead = 22
	rusageThread     = 1
	// block is a huge page with 4 KiB base pages.
	block = 2 << 20
)

// ReloadText moves the executable's code and read-only data into 2 MiB
// pages of the page cache when package start found the code in small ones,
// so that every later process of this executable maps each 2 MiB of them
// in one page fault. Call it once, when a command is done, just before the
// process exits.
//
// Package start advises both segments for huge pages at every start
// (MADV_HUGEPAGE on a file mapping): what the page cache reads of them
// from then on comes in 2 MiB pages where the file system reads large
// pages (ext4 from Linux 6.16, XFS from 5.18, ...), and the kernel maps
// such a page in one fault in every process whose segment is aligned. But
// pages already cached stay as they are: the linker, cp or install wrote
// them in small pages, and a process started from a fresh build maps its
// code 64 KiB per fault. On this project's virtual machines that cost
// `dumpscope version` 4.1-4.9 ms of CPU, 13.6-14.0 ms against 9.1-9.5
// (bench/results/README.md, seventeenth pass).
//
// So, when start counted more than four faults per 2 MiB block, this
// writes the file's dirty pages to disk (a fresh build's are: they cannot
// be dropped), drops both segments from this process's page tables and
// then from the page cache (dropInOneCall, or start.DropCode where
// io_uring is refused), and maps the code's blocks anew, which reads them
// back in 2 MiB pages. It checks that they came back so, and makes up to
// reloadPasses passes: a page another thread ran while it was being
// dropped (the runtime's monitor, waking every few milliseconds) stays
// small, and so does its block.
//
// Pages another process maps stay where they are. A try is made at most
// once an hour for one executable, remembered in $XDG_CACHE_HOME/dumpscope
// (a file of a few bytes per executable path), and none where that folder
// cannot be used, where the executable is not this user's (an installed
// copy that root owns is root's to move: its first run as root does), or
// lies in memory (tmpfs). The executable itself is never written.
func ReloadText() Reload {
	if !on || !start.TextInSmallPages() {
		return ReloadNotNeeded
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ReloadSkipped
	}
	return reloadText(filepath.Join(dir, "dumpscope"), time.Now(), true)
}

// reloadText is ReloadText with the folder of its marks, the time, and
// whether to try io_uring first.
func reloadText(dir string, now time.Time, ring bool) Reload {
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		return ReloadSkipped
	}
	defer exe.Close()
	fd := exe.Fd()
	var st syscall.Stat_t
	var fs syscall.Statfs_t
	if syscall.Fstat(int(fd), &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG ||
		(int(st.Uid) != os.Geteuid() && os.Geteuid() != 0) ||
		syscall.Fstatfs(int(fd), &fs) != nil || fs.Type == tmpfsMagic || uint32(fs.Type) == ramfsMagic {
		return ReloadSkipped
	}
	path, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return ReloadSkipped
	}
	id := fmt.Sprintf("%d %d %d %d\n", st.Dev, st.Ino, st.Size, st.Mtim.Nano())
	if !markTry(dir, markName(path), id, now) {
		return ReloadSkipped
	}
	// A raw call: one that lets the scheduler know it blocks (tens of
	// milliseconds, writing a fresh build) has the runtime's monitor hand
	// the processor on and poll every 20 µs again, running its code, in
	// the first block, while the blocks are dropped.
	syscall.RawSyscall(syscall.SYS_FDATASYNC, fd, 0, 0)
	segments := []start.Range{start.First.Rodata, start.First.Text}
	for pass := 0; pass < reloadPasses; pass++ {
		stub := !ring || dropInOneCall(segments, fd) != nil
		if stub {
			ring = false // refused once, refused again
			if start.DropCode(fd) != 0 {
				return ReloadFailed
			}
		}
		faults, err := blockFaults(int(fd))
		if err != nil {
			return ReloadFailed
		}
		skip := -1
		if stub {
			skip = stubBlock(len(faults))
		}
		if smallBlocks(faults, skip) == 0 {
			if skip >= 0 {
				return ReloadPartial
			}
			return ReloadDone
		}
	}
	return ReloadFailed
}

// smallBlocks counts the blocks that took more than two faults each, but
// for the block skip (-1 for none).
func smallBlocks(faults []int64, skip int) int {
	small := 0
	for i, n := range faults {
		if n > 2 && i != skip {
			small++
		}
	}
	return small
}

// stubBlock is the index, among the code's n aligned blocks, of the one
// that holds start.DropCode's code; -1 when none does.
func stubBlock(n int) int {
	for i := range n {
		if blockAt(i) == start.DropCodeBlock() {
			return i
		}
	}
	return -1
}

// blockAt is the address of the code's i-th aligned 2 MiB block.
func blockAt(i int) uintptr {
	return (start.First.Text.Start+block-1)&^(block-1) + uintptr(i)*block
}

// blockFaults maps the code's aligned 2 MiB blocks from the executable
// anew, at an address where each can be one huge page, advised for huge
// pages so that what the page cache lacks is read in them, and returns
// how many page faults each took: one, or two where it waited for the
// disk, where the page cache holds it in a 2 MiB page; 32 or more (one
// per 64 KiB) where it holds small ones. This process's own mapping of its
// code cannot tell: where it was mapped in small pages, its page tables
// stay, and the kernel maps even a 2 MiB page there 64 KiB per fault.
func blockFaults(fd int) ([]int64, error) {
	f := start.First
	first := blockAt(0)
	if !f.TextHuge || f.TextBlocks == 0 || first+f.TextBlocks*block > f.Text.End {
		return nil, fmt.Errorf("no aligned block in the code segment %#x-%#x", f.Text.Start, f.Text.End)
	}
	size := f.TextBlocks * block
	off := f.TextOffset + (first - f.Text.Start)
	// Reserve room for an aligned address, then map the file there.
	res, _, errno := syscall.Syscall6(syscall.SYS_MMAP, 0, size+block, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON, ^uintptr(0), 0)
	if errno != 0 {
		return nil, fmt.Errorf("reserving %d bytes: %w", size+block, errno)
	}
	defer syscall.Syscall(syscall.SYS_MUNMAP, res, size+block, 0)
	at := (res + block - 1) &^ (block - 1)
	if _, _, errno := syscall.Syscall6(syscall.SYS_MMAP, at, size, syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_FIXED, uintptr(fd), off); errno != 0 {
		return nil, fmt.Errorf("mapping the code's blocks: %w", errno)
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, at, size, syscall.MADV_HUGEPAGE); errno != 0 {
		return nil, fmt.Errorf("advising the code's blocks: %w", errno)
	}
	runtime.LockOSThread() // the counts are the thread's
	defer runtime.UnlockOSThread()
	// Last block first: a read that finds part of a block cached falls
	// back to small pages for that block and the next, and so would spoil
	// a next block not yet read.
	faults := make([]int64, f.TextBlocks)
	for i := len(faults) - 1; i >= 0; i-- {
		before, err1 := threadFaults()
		_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, at+uintptr(i)*block, block, madvPopulateRead)
		after, err2 := threadFaults()
		if errno != 0 || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("mapping block %d: %v %v %v", i, errno, err1, err2)
		}
		faults[i] = after - before
	}
	return faults, nil
}

// threadFaults is how many page faults the calling thread has taken; the
// kernel counts there those a madvise call takes for its caller.
func threadFaults() (int64, error) {
	var ru syscall.Rusage
	err := syscall.Getrusage(rusageThread, &ru)
	return int64(ru.Minflt + ru.Majflt), err
}

// markName is the name of the mark for the executable at path: one per
// path, however often the file there is rebuilt.
func markName(path string) string {
	h := fnv.New64a()
	io.WriteString(h, path)
	return fmt.Sprintf("text-%016x", h.Sum64())
}

// markTry records a try for the executable id (device, inode, size and
// modification time) in dir/name, and reports whether to make it: not
// when the mark names the same executable and is younger than retryAfter,
// and not when the mark cannot be written (an untried executable would
// then be tried at every start). The folder, and the one it is in (the
// user's cache folder), must be this user's and writable by no one else:
// run by root through sudo with the user's HOME, it makes nothing there.
// The mark is never followed through a link.
func markTry(dir, name, id string, now time.Time) bool {
	if !ownFolder(filepath.Dir(dir)) {
		return false
	}
	if err := os.Mkdir(dir, 0o700); (err != nil && !errors.Is(err, os.ErrExist)) || !ownFolder(dir) {
		return false
	}
	p := filepath.Join(dir, name)
	if f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0); err == nil {
		var buf [128]byte
		n, _ := io.ReadFull(f, buf[:])
		fi, err := f.Stat()
		f.Close()
		if err == nil && fi.Mode().IsRegular() && string(buf[:n]) == id {
			if age := now.Sub(fi.ModTime()); age >= 0 && age < retryAfter {
				return false
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return false
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return false
	}
	_, werr := io.WriteString(f, id)
	return f.Close() == nil && werr == nil
}

// ownFolder reports whether dir is a folder, not a link, owned by this
// user and writable by no one else.
func ownFolder(dir string) bool {
	var st syscall.Stat_t
	if syscall.Lstat(dir, &st) != nil {
		return false
	}
	return st.Mode&syscall.S_IFMT == syscall.S_IFDIR && int(st.Uid) == os.Geteuid() && st.Mode&0o022 == 0
}
