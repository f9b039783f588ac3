package open

import "syscall"

// pseudoFS names the pseudo file system p lies on, or "" for another:
// the pseudo file systems are those whose files report size 0, known by
// their magic numbers (Linux include/uapi/linux/magic.h).
func pseudoFS(p string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(p, &st); err != nil {
		return ""
	}
	switch int64(st.Type) {
	case 0x9fa0:
		return "procfs"
	case 0x62656572:
		return "sysfs"
	case 0x64626720:
		return "debugfs"
	case 0x74726163:
		return "tracefs"
	case 0x27e0eb:
		return "cgroupfs"
	case 0x63677270:
		return "cgroup2fs"
	}
	return ""
}
