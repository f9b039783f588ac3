//go:build !unix

package remote

import "os"

// openCacheFile opens a block file for reading (see diskcache_unix.go).
func openCacheFile(p string) (*os.File, error) { return os.Open(p) }

// untrusted says why the cache folder root cannot be used, or "": it must
// be a folder, not a link.
func untrusted(root string) string {
	st, err := os.Lstat(root)
	if err != nil {
		return err.Error()
	}
	if !st.IsDir() {
		return "is not a folder"
	}
	return ""
}
