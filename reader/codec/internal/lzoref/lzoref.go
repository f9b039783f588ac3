//go:build cgo && lzoref

package lzoref

/*
#cgo LDFLAGS: -llzo2
#include <stdlib.h>
#include <lzo/lzo1x.h>

static int ref_init(void) { return lzo_init(); }

static int ref_compress(int level, const unsigned char *src, size_t n,
                        unsigned char *dst, size_t *dstlen) {
	void *wrk = malloc(level == 999 ? LZO1X_999_MEM_COMPRESS : LZO1X_1_MEM_COMPRESS);
	if (wrk == NULL)
		return LZO_E_OUT_OF_MEMORY;
	lzo_uint out = *dstlen;
	int r = level == 999 ? lzo1x_999_compress(src, n, dst, &out, wrk)
	                     : lzo1x_1_compress(src, n, dst, &out, wrk);
	free(wrk);
	*dstlen = out;
	return r;
}

static int ref_decompress_safe(const unsigned char *src, size_t n,
                               unsigned char *dst, size_t *dstlen) {
	lzo_uint out = *dstlen;
	int r = lzo1x_decompress_safe(src, n, dst, &out, NULL);
	*dstlen = out;
	return r;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func init() {
	if r := C.ref_init(); r != C.LZO_E_OK {
		panic(fmt.Sprintf("lzo_init: %d", int(r)))
	}
}

// Error is a liblzo2 status code other than LZO_E_OK.
type Error int

func (e Error) Error() string {
	names := map[Error]string{
		-1: "LZO_E_ERROR", -2: "LZO_E_OUT_OF_MEMORY", -3: "LZO_E_NOT_COMPRESSIBLE",
		-4: "LZO_E_INPUT_OVERRUN", -5: "LZO_E_OUTPUT_OVERRUN", -6: "LZO_E_LOOKBEHIND_OVERRUN",
		-7: "LZO_E_EOF_NOT_FOUND", -8: "LZO_E_INPUT_NOT_CONSUMED",
	}
	if s, ok := names[e]; ok {
		return "liblzo2: " + s
	}
	return fmt.Sprintf("liblzo2: error %d", int(e))
}

// Compress1 compresses src with lzo1x_1_compress, as makedumpfile -l does.
func Compress1(src []byte) []byte { return compress(1, src) }

// Compress999 compresses src with lzo1x_999_compress, the slow compressor
// whose output uses the long and rare instruction forms more often.
func Compress999(src []byte) []byte { return compress(999, src) }

func compress(level int, src []byte) []byte {
	// Worst case expansion of LZO1X, from lzo1x.h's documentation.
	dst := make([]byte, len(src)+len(src)/16+64+3)
	n := C.size_t(len(dst))
	r := C.ref_compress(C.int(level), ptr(src), C.size_t(len(src)), ptr(dst), &n)
	if r != C.LZO_E_OK {
		panic(Error(r))
	}
	return dst[:n]
}

// Decompress runs lzo1x_decompress_safe on src with len(dst) bytes of
// output room and returns the number of bytes it wrote.
func Decompress(src, dst []byte) (int, error) {
	// Zero padding keeps any read past len(src) inside memory we own, so a
	// difference shows up as a different verdict, not as a crash.
	in := make([]byte, len(src), len(src)+16)
	copy(in, src)
	in = in[:cap(in)]
	out := dst
	if len(out) == 0 {
		out = make([]byte, 1)
	}
	n := C.size_t(len(dst))
	r := C.ref_decompress_safe(ptr(in), C.size_t(len(src)), ptr(out), &n)
	if r != C.LZO_E_OK {
		return int(n), Error(r)
	}
	return int(n), nil
}

// DecompressDirect is Decompress without the padded copy of src, for
// benchmarks: src and dst must not be empty.
func DecompressDirect(src, dst []byte) (int, error) {
	n := C.size_t(len(dst))
	r := C.ref_decompress_safe(ptr(src), C.size_t(len(src)), ptr(dst), &n)
	if r != C.LZO_E_OK {
		return int(n), Error(r)
	}
	return int(n), nil
}

func ptr(b []byte) *C.uchar {
	if len(b) == 0 {
		return nil
	}
	return (*C.uchar)(unsafe.Pointer(&b[0]))
}
