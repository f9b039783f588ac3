package remote

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// The disk cache (Options.CacheDir) keeps fetched blocks between runs, so
// that a second look at the same dump costs one request (the opening one,
// which must still confirm the version). It is used only when asked for.
//
// Layout: CacheDir/dumpscope-remote/KEY/BLOCK.blk, where KEY hashes the
// object's identity: its URL without query string (or S3 endpoint, bucket
// and key), ETag, Last-Modified, size and block size, so another version
// of the object, or another block size, never finds these blocks. An
// object without ETag or Last-Modified is not cached on disk at all.
// Each file is the block followed by an 8-byte trailer (CRC-32C of the
// object's KEY, the block's number and the block, then "DSC2"), so that a
// file moved or copied to another block's or object's name does not pass
// for it; a file of the wrong length or checksum is removed and fetched
// again. Files are opened without following links and without waiting
// on a FIFO, whatever was put in their place. They are written to a
// temporary name in the same folder and renamed, so two processes sharing
// the folder never see a partial block. The whole folder is bounded by
// Options.CacheDirSize: when it grows past it, the least recently used
// files (by modification time, refreshed at each hit) are removed down to
// 90% of the bound. Folders are private to the user (0700): blocks are
// kernel memory, and a dumpscope-remote folder others may write to is not
// used (openDiskCache).

const (
	diskDir     = "dumpscope-remote"
	diskMagic   = "DSC2"
	diskTrailer = 8
	diskTmp     = ".tmp-"
	// diskTmpAge is when a temporary file is taken as left by a process
	// that died while writing it.
	diskTmpAge = time.Hour
)

// castagnoli is the CRC-32C table, which hash/crc32 makes on first use
// and keeps.
func castagnoli() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

type diskCache struct {
	root string // CacheDir/dumpscope-remote
	dir  string // root/KEY
	max  int64

	mu        sync.Mutex
	sinceTrim int64 // bytes written since the last trim
}

// openDiskCache returns the cache of one object version and trims the
// folder to its bound. It returns no cache, and why, when the folder's
// dumpscope-remote cannot be trusted: a link, not a folder, or (Unix) one
// another user owns or may write to, where blocks could be planted.
func openDiskCache(cacheDir string, maxBytes int64, identity string, p pin, blockSize int64) (*diskCache, string) {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\n%s\n%s\n%d\n%d", identity, p.etag, p.lastModified, p.size, blockSize))
	root := filepath.Join(cacheDir, diskDir)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err.Error()
	}
	if why := untrusted(root); why != "" {
		return nil, root + " " + why
	}
	d := &diskCache{root: root, dir: filepath.Join(root, hex.EncodeToString(sum[:16])), max: maxBytes}
	d.mu.Lock()
	d.trimLocked()
	d.mu.Unlock()
	return d, ""
}

// checksum is the CRC-32C a block file's trailer holds: of the object's
// KEY (the folder's name), the block's number and the block.
func (d *diskCache) checksum(block int64, data []byte) uint32 {
	crc := crc32.Update(0, castagnoli(), []byte(filepath.Base(d.dir)))
	crc = crc32.Update(crc, castagnoli(), binary.LittleEndian.AppendUint64(nil, uint64(block)))
	return crc32.Update(crc, castagnoli(), data)
}

func (d *diskCache) path(block int64) string {
	return filepath.Join(d.dir, fmt.Sprintf("%016x.blk", block))
}

// get returns block b when a whole, intact copy of its n bytes is on
// disk.
func (d *diskCache) get(b, n int64) ([]byte, bool) {
	p := d.path(b)
	f, err := openCacheFile(p)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() != n+diskTrailer {
		os.Remove(p)
		return nil, false
	}
	buf := make([]byte, n+diskTrailer)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, false
	}
	data, trailer := buf[:n], buf[n:]
	if string(trailer[4:]) != diskMagic || binary.LittleEndian.Uint32(trailer) != d.checksum(b, data) {
		os.Remove(p)
		return nil, false
	}
	now := time.Now()
	os.Chtimes(p, now, now) // recently used
	return data, true
}

// has reports whether a file of the right length holds block b of n
// bytes (its checksum is checked when it is read).
func (d *diskCache) has(b, n int64) bool {
	st, err := os.Stat(d.path(b))
	return err == nil && st.Mode().IsRegular() && st.Size() == n+diskTrailer
}

// put stores block b; it reports whether the block was written. Failures
// (a full disk, a read-only folder) only mean the block is not cached.
func (d *diskCache) put(b int64, data []byte) bool {
	// Another process's trim may have removed the folder since.
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return false
	}
	f, err := os.CreateTemp(d.dir, diskTmp+"*")
	if err != nil {
		return false
	}
	var trailer [diskTrailer]byte
	binary.LittleEndian.PutUint32(trailer[:], d.checksum(b, data))
	copy(trailer[4:], diskMagic)
	_, err1 := f.Write(data)
	_, err2 := f.Write(trailer[:])
	err3 := f.Close()
	if err1 != nil || err2 != nil || err3 != nil || os.Rename(f.Name(), d.path(b)) != nil {
		os.Remove(f.Name())
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sinceTrim += int64(len(data)) + diskTrailer
	if d.sinceTrim > d.max/16 {
		d.trimLocked()
	}
	return true
}

// trimLocked removes stale temporary files, and the least recently used
// blocks of every object while the folder holds more than its bound.
func (d *diskCache) trimLocked() {
	d.sinceTrim = 0
	type file struct {
		path string
		size int64
		mod  time.Time
	}
	var files []file
	var total int64
	dirs, _ := os.ReadDir(d.root)
	for _, sub := range dirs {
		if !sub.IsDir() {
			continue
		}
		dir := filepath.Join(d.root, sub.Name())
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			info, err := e.Info()
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if strings.HasPrefix(e.Name(), diskTmp) {
				if time.Since(info.ModTime()) > diskTmpAge {
					os.Remove(p)
				}
				continue
			}
			files = append(files, file{p, info.Size(), info.ModTime()})
			total += info.Size()
		}
	}
	if total <= d.max {
		return
	}
	slices.SortFunc(files, func(a, b file) int { return a.mod.Compare(b.mod) })
	for _, f := range files {
		if total <= d.max/10*9 {
			break
		}
		os.Remove(f.path) // gone either way when another process removed it first
		total -= f.size
	}
	for _, sub := range dirs {
		if sub.IsDir() {
			os.Remove(filepath.Join(d.root, sub.Name())) // only when empty
		}
	}
}
