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
	"strings"
	"syscall"
	"time"

	"dumpscope/internal/hugeheap/start"
)

const (
	// retryAfter spaces the tries for one executable: after one that moved
	// the code, the page cache may drop part of it under memory pressure
	// and read it back in small pages; after one that failed, the commands
	// that kept its pages mapped (several started at once from a fresh
	// build) may be gone. A try costs a read of the code from disk.
	retryAfter = 5 * time.Minute
	// reloadPasses bounds the passes of one try (see reloadText).
	reloadPasses = 3
	// maxMark bounds the bytes read of a mark.
	maxMark = 256
	// madvPopulateRead is MADV_POPULATE_READ (Linux 5.14), which package
	// syscall lacks.
	madvPopulateRead = 22
	// block is a huge page with 4 KiB base pages.
	block = start.BlockSize
)

// localFileSystems are the statfs types (<linux/magic.h>) of the file
// systems on a local disk whose executables ReloadText moves. On a network
// or user-space file system another machine may rewrite the file in place
// (a running executable is protected from writes only locally), and the
// code read back after the drop would not be the code running; tmpfs and
// ramfs read nothing from a disk.
var localFileSystems = map[uint32]string{
	0xEF53:     "ext2/3/4",
	0x58465342: "XFS",
	0x9123683E: "Btrfs",
	0xF2F52010: "F2FS",
	0xCA451A4E: "bcachefs",
	0x794C7630: "overlayfs",
}

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
// Pages another process maps stay where they are. The try is remembered
// in $XDG_CACHE_HOME/dumpscope, a file of a few bytes per executable path
// naming the file and the outcome: a try is made at most every five
// minutes for one executable (the page cache may drop part of the code
// under memory pressure and read it back in small pages, or other
// commands may have kept its pages mapped), and never again after every
// block came back from the disk in small pages (a file system that reads
// no large pages). None is made where that
// folder cannot be used, where the executable is not this user's (an
// installed copy that root owns is root's to move: its first run as root
// does), deleted, or not on a local disk file system (on a network one,
// another machine may rewrite it in place, and the code read back would
// not be the code running), or where a debugger traces the process. The
// executable itself is never written.
func ReloadText() (r Reload) {
	if !on || !start.TextInSmallPages() {
		return ReloadNotNeeded
	}
	// The command is done and has said what it had to: nothing here may
	// change its exit, not even a panic of this optional work.
	defer func() {
		if recover() != nil {
			r = ReloadFailed
		}
	}()
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
	if syscall.Fstat(int(fd), &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Nlink == 0 ||
		(int(st.Uid) != os.Geteuid() && os.Geteuid() != 0) ||
		syscall.Fstatfs(int(fd), &fs) != nil || localFileSystems[uint32(fs.Type)] == "" {
		return ReloadSkipped
	}
	path, err := os.Readlink("/proc/self/exe")
	if err != nil || traced() {
		return ReloadSkipped
	}
	id := fmt.Sprintf("%d %d %d %d", st.Dev, st.Ino, st.Size, st.Mtim.Nano())
	name := markName(path)
	if !shouldTry(dir, name, id, now) || !writeMark(dir, name, id, "trying") {
		return ReloadSkipped
	}
	r, never := moveCode(fd, ring)
	outcome := r.String()
	if never {
		outcome = "never"
	}
	writeMark(dir, name, id, outcome)
	return r
}

// traced reports whether a debugger traces this process (TracerPid in
// /proc/self/status): its breakpoints live in private copies of the code's
// pages, which dropping the code would discard. Unknown counts as traced.
func traced() bool {
	status, err := os.ReadFile("/proc/self/status")
	return err != nil || tracedIn(string(status))
}

// tracedIn reads a /proc/PID/status text: true unless TracerPid is 0.
func tracedIn(status string) bool {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "TracerPid:"); ok {
			return strings.TrimSpace(v) != "0"
		}
	}
	return true
}

// moveCode writes the executable's dirty pages, drops its code and
// read-only data, and reads the code back, up to reloadPasses times, until
// every aligned block comes back in a 2 MiB page. never reports that every
// block came back from the disk in small pages: the file system reads no
// large pages, and another try would fare no better.
func moveCode(fd uintptr, ring bool) (r Reload, never bool) {
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
				return ReloadFailed, false
			}
		}
		counts, err := blockFaults(int(fd))
		if err != nil {
			return ReloadFailed, false
		}
		skip := -1
		if stub {
			skip = stubBlock(len(counts))
		}
		small, counted := smallBlocks(counts, skip), len(counts)
		if skip >= 0 {
			counted--
		}
		switch {
		case small == 0 && skip >= 0:
			return ReloadPartial, false
		case small == 0:
			return ReloadDone, false
		case small == counted && small >= 2 && readFromDisk(counts):
			// Every block read from the disk, none in a 2 MiB page.
			return ReloadFailed, true
		}
	}
	return ReloadFailed, false
}

// readFromDisk reports whether reading the blocks back took the disk.
func readFromDisk(counts []blockCount) bool {
	for _, c := range counts {
		if c.major > 0 {
			return true
		}
	}
	return false
}

// smallBlocks counts the blocks that took more than two faults each, but
// for the block skip (-1 for none).
func smallBlocks(counts []blockCount, skip int) int {
	small := 0
	for i, c := range counts {
		if c.faults > 2 && i != skip {
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
func blockAt(i int) uintptr { return start.First.Blocks.Start + uintptr(i)*block }

// blockCount is how many page faults mapping a block took, and how many
// of them waited for the disk.
type blockCount struct{ faults, major int64 }

// blockFaults maps the code's aligned 2 MiB blocks from the executable
// anew, at an address where each can be one huge page, advised for huge
// pages so that what the page cache lacks is read in them, and returns
// how many page faults each took: one, or two where it waited for the
// disk, where the page cache holds it in a 2 MiB page; 32 or more (one
// per 64 KiB) where it holds small ones. This process's own mapping of its
// code cannot tell: where it was mapped in small pages, its page tables
// stay, and the kernel maps even a 2 MiB page there 64 KiB per fault.
func blockFaults(fd int) ([]blockCount, error) {
	f := start.First
	if !f.TextHuge || f.TextBlocks == 0 {
		return nil, fmt.Errorf("no aligned block in the code segment %#x-%#x", f.Text.Start, f.Text.End)
	}
	size := f.Blocks.End - f.Blocks.Start
	off := f.TextOffset + (f.Blocks.Start - f.Text.Start)
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
	counts := make([]blockCount, f.TextBlocks)
	for i := len(counts) - 1; i >= 0; i-- {
		before, beforeMajor, ok1 := start.ThreadFaults()
		_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, at+uintptr(i)*block, block, madvPopulateRead)
		after, afterMajor, ok2 := start.ThreadFaults()
		if errno != 0 || !ok1 || !ok2 {
			return nil, fmt.Errorf("mapping block %d: errno %v, fault counts read %v %v", i, errno, ok1, ok2)
		}
		counts[i] = blockCount{int64(after - before), int64(afterMajor - beforeMajor)}
	}
	return counts, nil
}

// markName is the name of the mark for the executable at path: one per
// path, however often the file there is rebuilt.
func markName(path string) string {
	h := fnv.New64a()
	io.WriteString(h, path)
	return fmt.Sprintf("text-%016x", h.Sum64())
}

// shouldTry reports whether to try for the executable id (device, inode,
// size and modification time) whose mark is dir/name: not when the mark
// names it with the outcome "never", or is younger than retryAfter. The
// folder, and the one it is in (the user's cache folder, made if missing),
// must be this user's and writable by no one else: run by root through
// sudo with the user's HOME, it makes nothing there.
func shouldTry(dir, name, id string, now time.Time) bool {
	// A user whose Go has never built anything may have no cache folder
	// yet: make it, as the XDG convention has it (0700).
	if err := os.Mkdir(filepath.Dir(dir), 0o700); (err != nil && !errors.Is(err, os.ErrExist)) || !ownFolder(filepath.Dir(dir)) {
		return false
	}
	if err := os.Mkdir(dir, 0o700); (err != nil && !errors.Is(err, os.ErrExist)) || !ownFolder(dir) {
		return false
	}
	got, when, err := readMark(filepath.Join(dir, name))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return true
	case err != nil:
		return false // a mark that is not a file of ours: leave it be
	}
	markID, outcome, _ := strings.Cut(got, "\n")
	if markID != id {
		return true // another build at the same path
	}
	if strings.TrimSpace(outcome) == "never" {
		return false
	}
	age := now.Sub(when)
	return age < 0 || age >= retryAfter
}

// readMark reads a mark: its text and when it was written. It is never
// followed through a link, and a mark that is not a regular file is an
// error (a FIFO would hang the read).
func readMark(p string) (string, time.Time, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return "", time.Time{}, fmt.Errorf("%s is a link", p)
		}
		return "", time.Time{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", time.Time{}, err
	}
	if !fi.Mode().IsRegular() {
		return "", time.Time{}, fmt.Errorf("%s is not a file", p)
	}
	buf := make([]byte, maxMark)
	n, _ := io.ReadFull(f, buf)
	return string(buf[:n]), fi.ModTime(), nil
}

// writeMark writes the mark dir/name: the executable's id and an
// outcome, through a new file renamed over the old one, so that a reader
// never sees half of it; false when it cannot.
func writeMark(dir, name, id, outcome string) bool {
	f, err := os.CreateTemp(dir, "."+name+"-*")
	if err != nil {
		return false
	}
	_, werr := io.WriteString(f, id+"\n"+outcome+"\n")
	if cerr := f.Close(); werr != nil || cerr != nil || os.Rename(f.Name(), filepath.Join(dir, name)) != nil {
		os.Remove(f.Name())
		return false
	}
	return true
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
