//go:build !linux

package open

// pseudoFS names the pseudo file system p lies on; only Linux has them.
func pseudoFS(string) string { return "" }
