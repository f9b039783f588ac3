//go:build !linux || !(amd64 || arm64)

package hugeheap

// ReloadText does nothing: the code's page-cache pages are moved on Linux
// on amd64 and arm64 only.
func ReloadText() Reload { return ReloadNotNeeded }
