package btf

import "testing"

// RealBTF returns the vmlinux BTF of the first Debian kernel fixture. The
// external tests (package btf_test) set it: they read the dump through
// the kernel engine, which imports this package, so the internal tests
// cannot.
var RealBTF func(testing.TB) *Spec

// CountNodes counts the values of a tree.
func CountNodes(v Value) int { return countNodes(v) }
