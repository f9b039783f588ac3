//go:build unix

package remote

import (
	"fmt"
	"os"
	"syscall"
)

// openCacheFile opens a block file for reading without following a link
// and without blocking on a FIFO put in its place (get then refuses what
// is not a regular file).
func openCacheFile(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
}

// untrusted says why the cache folder root cannot be trusted, or "": it
// must be a folder, not a link, owned by this user and writable by no one
// else (as ssh asks of ~/.ssh).
func untrusted(root string) string {
	st, err := os.Lstat(root)
	if err != nil {
		return err.Error()
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	switch {
	case !st.IsDir():
		return "is not a folder"
	case ok && int(sys.Uid) != os.Getuid():
		return fmt.Sprintf("belongs to another user (uid %d)", sys.Uid)
	case st.Mode().Perm()&0o022 != 0:
		return fmt.Sprintf("may be written by other users (mode %04o)", st.Mode().Perm())
	}
	return ""
}
