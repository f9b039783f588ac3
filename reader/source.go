package reader

import (
	"errors"
	"fmt"
	"io"

	"dumpscope/model"
)

// MaxAlloc bounds any single allocation whose size comes from a file
// (64 MiB). Larger structures are read in pieces.
const MaxAlloc = 64 << 20

// Source is one input file: its name for messages, its bytes, and its size.
// Every read through it is bounded: a length from the file is checked
// against the size before anything is allocated or read.
type Source struct {
	Name string
	R    io.ReaderAt
	Size int64
}

// Sizer is implemented by readers whose size is learned lazily: the
// logical file of a flattened stream knows its size only once indexed.
type Sizer interface{ Size() int64 }

// Len returns the current best knowledge of the source's size.
func (s Source) Len() int64 {
	if z, ok := s.R.(Sizer); ok {
		return z.Size()
	}
	return s.Size
}

// ReadAt reads exactly len(p) bytes at off. A read that runs past the end
// of the source returns a *model.FormatError wrapping model.ErrTruncated
// that names the structure; other I/O errors are wrapped too.
func (s Source) ReadAt(p []byte, off int64, structure string) error {
	if off < 0 {
		return model.Errorf(s.Name, structure, off, model.ErrCorrupt, "negative offset")
	}
	if end, ok := AddOK(off, int64(len(p))); !ok || end > s.Len() {
		return model.Errorf(s.Name, structure, off, model.ErrTruncated,
			"%d bytes needed but the file ends at %#x", len(p), s.Len())
	}
	n, err := s.R.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return model.Errorf(s.Name, structure, off, model.ErrTruncated, "read %d of %d bytes", n, len(p))
	}
	// An I/O error (a failed request, a bad disk): its own words say why.
	return model.Errorf(s.Name, structure, off, err, "read %d of %d bytes: %v", n, len(p), err)
}

// Bytes reads n bytes at off into a new slice. n is checked against the
// file size and against max before anything is allocated.
func (s Source) Bytes(off, n, max int64, structure string) ([]byte, error) {
	if n < 0 || n > max {
		return nil, model.Errorf(s.Name, structure, off, model.ErrCorrupt, "size %d is out of range (limit %d)", n, max)
	}
	if end, ok := AddOK(off, n); !ok || off < 0 || end > s.Len() {
		return nil, model.Errorf(s.Name, structure, off, model.ErrTruncated,
			"%d bytes needed but the file ends at %#x", n, s.Len())
	}
	b := make([]byte, n)
	if err := s.ReadAt(b, off, structure); err != nil {
		return nil, err
	}
	return b, nil
}

// Contains reports whether [off, off+n) lies inside the source.
func (s Source) Contains(off, n int64) bool {
	end, ok := AddOK(off, n)
	return ok && off >= 0 && n >= 0 && end <= s.Len()
}

// AddOK returns a+b and whether it did not overflow (for non-negative
// operands).
func AddOK(a, b int64) (int64, bool) {
	c := a + b
	if (b >= 0 && c < a) || (b < 0 && c > a) {
		return 0, false
	}
	return c, true
}

// MulOK returns a*b and whether it fits in an int64 (for non-negative
// operands).
func MulOK(a, b int64) (int64, bool) {
	if a < 0 || b < 0 {
		return 0, false
	}
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if c/b != a {
		return 0, false
	}
	return c, true
}

// CString returns the bytes up to the first NUL as a string.
func CString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Printable returns s with control and non-ASCII bytes replaced by '.', for
// showing strings read from a possibly corrupt file.
func Printable(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c < 0x20 || c > 0x7e {
			out[i] = '.'
		}
	}
	return string(out)
}

// Quote formats a C string field for a layout value.
func Quote(b []byte) string { return fmt.Sprintf("%q", CString(b)) }

// Close closes r if it is an io.Closer; readers that own nothing (a
// bytes.Reader) need no closing.
func Close(r io.ReaderAt) error {
	if c, ok := r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
