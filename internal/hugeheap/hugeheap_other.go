//go:build !linux

package hugeheap

// Prepare does nothing: huge pages are asked for on Linux only.
func Prepare() {}
