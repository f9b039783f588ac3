// Package codec decodes the pages of kdump-compressed dumps: zlib, LZO1X,
// snappy and zstd, exactly as makedumpfile and QEMU write them
// (../shared/docs/go-stack.md §3, formats.md §1.6).
//
// Every decoder produces exactly one page or an error: output shorter or
// longer than the page, a bad checksum, or input left over are all errors,
// and nothing is written past the page. Where makedumpfile's C readers are
// lenient, so is Decode: bytes after a zlib stream are ignored as zlib's
// uncompress() ignores them (unless Decoder.Strict), and a zstd page may
// hold several frames and skippable frames, as ZSTD_decompress() allows.
// snappy and zstd come from klauspost/compress; zlib's inflate (inflate.go)
// and LZO1X (lzo1x.go) are written here from their specifications.
package codec

import (
	"fmt"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"

	"dumpscope/model"
)

// ErrCorrupt classifies every decoding failure; it wraps model.ErrCorrupt.
var ErrCorrupt error = corruptError{}

// corruptError is ErrCorrupt's type. A value of it is static data, where
// fmt.Errorf would make the error at process start.
type corruptError struct{}

func (corruptError) Error() string { return "corrupt compressed page: " + model.ErrCorrupt.Error() }

func (corruptError) Unwrap() error { return model.ErrCorrupt }

// Error is a decoding failure: which codec and why.
type Error struct {
	Codec model.Codec
	Err   error
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %v", e.Codec, e.Err) }

// Unwrap lets errors.Is match ErrCorrupt and the underlying error.
func (e *Error) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// Decoder decodes pages of one size. It keeps reusable state (the zlib
// code tables, a zstd decoder), so it is not safe for concurrent use: keep one per
// goroutine, for example in a sync.Pool.
type Decoder struct {
	pageSize int
	// Strict selects the strictest decoding: snappy without the S2
	// extensions klauspost tolerates, and no bytes after a zlib stream.
	Strict bool

	inflater *inflater
	zstd     *zstd.Decoder
}

// NewDecoder returns a decoder for pages of pageSize bytes.
func NewDecoder(pageSize int) *Decoder {
	return &Decoder{pageSize: pageSize}
}

// Decode decodes src, stored with codec c, into dst, which must be exactly
// one page long. CodecNone copies a raw page, which must be one page long.
func (d *Decoder) Decode(c model.Codec, src, dst []byte) error {
	if d.pageSize <= 0 {
		return fmt.Errorf("codec: page size %d", d.pageSize)
	}
	if len(dst) != d.pageSize {
		return fmt.Errorf("codec: destination is %d bytes, the page size is %d", len(dst), d.pageSize)
	}
	var err error
	switch c {
	case model.CodecNone:
		if len(src) != d.pageSize {
			err = fmt.Errorf("raw page is %d bytes, not %d", len(src), d.pageSize)
		} else {
			copy(dst, src)
		}
	case model.CodecZlib:
		err = d.zlib(src, dst)
	case model.CodecLZO:
		var n int
		if n, err = lzo1xDecompress(src, dst); err == nil && n != d.pageSize {
			err = fmt.Errorf("decoded %d bytes, not one page of %d", n, d.pageSize)
		}
	case model.CodecSnappy:
		err = d.snappy(src, dst)
	case model.CodecZstd:
		err = d.zstdDecode(src, dst)
	default:
		return fmt.Errorf("codec: unknown codec %q", c)
	}
	if err != nil {
		return &Error{Codec: c, Err: err}
	}
	return nil
}

// zlib decodes a zlib stream (RFC 1950) into the page, checking its
// Adler-32 (inflate.go).
func (d *Decoder) zlib(src, dst []byte) error {
	if d.inflater == nil {
		d.inflater = new(inflater)
	}
	trailing, err := d.inflater.inflate(src, dst)
	if err != nil {
		return err
	}
	if d.Strict && trailing != 0 {
		return fmt.Errorf("%d bytes after the end of the zlib stream", trailing)
	}
	return nil
}

// snappy decodes a raw snappy block (not the framed format).
func (d *Decoder) snappy(src, dst []byte) error {
	n, err := snappy.DecodedLen(src)
	if err != nil {
		return err
	}
	if n != d.pageSize {
		return fmt.Errorf("block decodes to %d bytes, not one page of %d", n, d.pageSize)
	}
	var out []byte
	if d.Strict {
		out, err = snappy.DecodeStrict(dst, src)
	} else {
		out, err = snappy.Decode(dst, src)
	}
	if err != nil {
		return err
	}
	if len(out) != d.pageSize || &out[0] != &dst[0] {
		copy(dst, out)
	}
	return nil
}

// zstdDecode decodes one zstd frame with memory capped to one page.
func (d *Decoder) zstdDecode(src, dst []byte) error {
	if d.zstd == nil {
		dec, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(uint64(max(d.pageSize, 1<<16))),
			zstd.WithDecodeAllCapLimit(true))
		if err != nil {
			return err
		}
		d.zstd = dec
	}
	// The decoder appends within cap(dst), so cap it at one page: a caller's
	// dst may be a page cut from a larger buffer, and a frame that decodes
	// to more than a page must not write past it.
	out, err := d.zstd.DecodeAll(src, dst[:0:d.pageSize])
	if err != nil {
		return err
	}
	if len(out) != d.pageSize {
		return fmt.Errorf("frame decodes to %d bytes, not one page of %d", len(out), d.pageSize)
	}
	return nil
}

// Close releases the zstd decoder's goroutines.
func (d *Decoder) Close() {
	if d.zstd != nil {
		d.zstd.Close()
		d.zstd = nil
	}
}
