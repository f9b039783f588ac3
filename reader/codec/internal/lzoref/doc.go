// Package lzoref wraps Debian's liblzo2 (lzo1x_1_compress,
// lzo1x_999_compress, lzo1x_decompress_safe) through cgo, as the reference
// for the differential tests of dumpscope/reader/codec.
//
// liblzo2 is GPL-2.0: only test binaries may link it. The wrapper is built
// only with the lzoref build tag (go test -tags lzoref ./reader/codec/...),
// and only _test.go files import this package, so the product never
// contains it. Without the tag the package is empty.
package lzoref
