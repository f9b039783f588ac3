package remote

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// diskFiles lists the files under dir and their total size.
func diskFiles(t *testing.T, dir string) ([]string, int64) {
	t.Helper()
	var files []string
	var total int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil { // not removed meanwhile
				files = append(files, p)
				total += info.Size()
			}
		}
		return nil
	})
	return files, total
}

// TestDiskCache: a second Open of the same version reads every block from
// disk (one request: the opening one); a damaged file is fetched again; a
// new version never sees the old blocks.
func TestDiskCache(t *testing.T) {
	const bs = 16 << 10
	data := randomBytes(20*bs+99, 19)
	srv := &fileServer{}
	srv.set(data, `"v1"`, time.Time{})
	url := serve(t, srv)
	opt := testOptions()
	opt.CacheDir = t.TempDir()

	o := mustOpen(t, url, opt)
	checkRead(t, o, data, 0, len(data))
	o.Close()
	if s := o.Stats(); s.DiskWrites != 21 || s.DiskHits != 0 {
		t.Fatalf("first run: %v", s)
	}
	files, _ := diskFiles(t, opt.CacheDir)
	if len(files) != 21 {
		t.Fatalf("%d files: %v", len(files), files)
	}
	for _, f := range files {
		if info, _ := os.Stat(f); info.Mode().Perm() != 0o600 {
			t.Fatalf("%s is %v, want private", f, info.Mode())
		}
		if strings.Contains(f, "SECRET") || strings.Contains(f, "vmcore") {
			t.Fatalf("file name shows the URL: %s", f)
		}
	}
	if info, _ := os.Stat(filepath.Dir(files[0])); info.Mode().Perm() != 0o700 {
		t.Fatalf("cache folder is %v", info.Mode())
	}

	// Damage one block: a flipped byte, and a truncated file.
	b3 := filepath.Join(filepath.Dir(files[0]), "0000000000000003.blk")
	raw, _ := os.ReadFile(b3)
	raw[100] ^= 0xff
	os.WriteFile(b3, raw, 0o600)
	os.Truncate(filepath.Join(filepath.Dir(files[0]), "0000000000000005.blk"), 10)

	o2 := mustOpen(t, url, opt)
	checkRead(t, o2, data, 0, len(data))
	o2.Close() // the blocks reach the disk after the readers have them
	// The two damaged blocks are fetched and written again; the opening
	// block, on disk already, is not rewritten.
	if s := o2.Stats(); s.Requests != 3 || s.DiskHits != 18 || s.DiskWrites != 2 {
		t.Fatalf("second run: %v", s)
	}

	// A new version: the old blocks are not used.
	data2 := randomBytes(len(data), 20)
	srv.set(data2, `"v2"`, time.Time{})
	o3 := mustOpen(t, url, opt)
	checkRead(t, o3, data2, 0, len(data2))
	if s := o3.Stats(); s.DiskHits != 0 {
		t.Fatalf("new version read old blocks: %v", s)
	}
}

// TestDiskCacheBound: the folder stays within its bound; the least
// recently used blocks go.
func TestDiskCacheBound(t *testing.T) {
	const bs = 16 << 10
	data := randomBytes(64*bs, 21)
	srv := &fileServer{}
	srv.set(data, `"v1"`, time.Time{})
	opt := testOptions()
	opt.CacheDir = t.TempDir()
	opt.CacheDirSize = 16 * bs
	opt.ReadAhead = -1 // blocks written in the order read
	o := mustOpen(t, serve(t, srv), opt)
	for b := range 64 {
		if b == 63 {
			// Let the writes under way end (a block is handed to its
			// readers before it is written), so that the last block has
			// the newest modification time.
			time.Sleep(50 * time.Millisecond)
		}
		checkRead(t, o, data, int64(b)*bs, 10)
	}
	o.Close() // waits for the last writes
	files, total := diskFiles(t, opt.CacheDir)
	if total > opt.CacheDirSize || len(files) < 10 {
		t.Fatalf("%d files, %d bytes on disk, bound %d", len(files), total, opt.CacheDirSize)
	}
	var newest bool
	for _, f := range files {
		newest = newest || strings.HasSuffix(f, "000000000000003f.blk")
	}
	if !newest {
		t.Fatalf("the last block is not cached: %v", files)
	}
}

// TestDiskCacheShared: two objects in two goroutines share one folder;
// both read right and no temporary file is left.
func TestDiskCacheShared(t *testing.T) {
	const bs = 16 << 10
	data := randomBytes(40*bs, 22)
	srv := &fileServer{}
	srv.set(data, `"v1"`, time.Time{})
	url := serve(t, srv)
	opt := testOptions()
	opt.CacheDir = t.TempDir()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := mustOpen(t, url, opt)
			for i := range 40 {
				b := (i*7 + g*3) % 40
				checkRead(t, o, data, int64(b)*bs+1, bs)
			}
			o.Close() // waits for the fetches (and writes) under way
		}()
	}
	wg.Wait()
	files, _ := diskFiles(t, opt.CacheDir)
	for _, f := range files {
		if strings.Contains(filepath.Base(f), diskTmp) {
			t.Fatalf("temporary file left: %s", f)
		}
	}
	if len(files) != 40 {
		t.Fatalf("%d files", len(files))
	}
}

// TestNoDiskByDefault: without CacheDir nothing is written, and an
// object without validator is never cached on disk.
func TestNoDiskByDefault(t *testing.T) {
	home, tmp := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("TMPDIR", tmp)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	data := randomBytes(100000, 23)
	srv := &fileServer{}
	srv.set(data, `"v1"`, time.Time{})
	o := mustOpen(t, serve(t, srv), testOptions())
	checkRead(t, o, data, 0, len(data))
	for _, d := range []string{home, tmp} {
		if files, _ := diskFiles(t, d); len(files) > 0 {
			t.Fatalf("written without CacheDir: %v", files)
		}
	}

	srv.set(data, "", time.Time{})
	opt := testOptions()
	opt.CacheDir = t.TempDir()
	o2 := mustOpen(t, serve(t, srv), opt)
	checkRead(t, o2, data, 0, len(data))
	if files, _ := diskFiles(t, opt.CacheDir); len(files) > 0 || o2.Stats().DiskWrites != 0 {
		t.Fatalf("an object without validator was cached: %v", files)
	}
}
