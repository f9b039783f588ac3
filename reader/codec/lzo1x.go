package codec

import (
	"errors"
	"fmt"
)

// LZO1X decoding, written from the format description in the Linux
// kernel's Documentation/staging/lzo.rst (not from liblzo2 or kernel code).
//
// The stream is a sequence of instructions. Each starts with one byte whose
// range selects the kind; the "state" (how many literals the previous
// instruction copied: 0, 1..3, or 4 and more) changes the meaning of bytes
// 0..15:
//
//	0..15   state 0: literal run, length 3+L (L = 0: extended)
//	        state 1..3: 2-byte match, distance (H<<2)+D+1
//	        state 4: 3-byte match, distance (H<<2)+D+2049
//	16..31  M4: length 2+L, distance 16384+(H<<14)+D (LE16); 16384 ends the stream
//	32..63  M3: length 2+L, distance D+1 (LE16)
//	64..127 M2: length 3..4, distance (H<<3)+D+1
//	128..   M2: length 5..8, distance (H<<3)+D+1
//
// After a match, the low two bits S of its last byte say how many literals
// follow it (0..3), which becomes the new state. A first byte above 17
// starts the stream with byte-17 literals.
//
// The stream ends with an M4 whose H and D are both 0 (distance 16384),
// written as 11 00 00. Decoders differ on other spellings of it: liblzo2's
// lzo1x_decompress_safe, which makedumpfile and crash decode pages with,
// ends the stream on any M4 with H = 0 and D = 0, whatever its length
// (even an extended one, as in 10 30 00 00) and its S bits, and copies no
// literals after it. We do the same, so that every stream decodes here
// exactly as in the tools that read the same dumps (go-stack.md §4.1; the
// "end marker" cases of lzo1x_test.go, checked against liblzo2 by
// TestLZOHandBuiltRef and FuzzLZODiff under the lzoref build tag). No
// compressor writes those spellings, so being lenient costs nothing.

// errLZO classifies LZO1X decoding failures.
var errLZO = errors.New("lzo1x")

// lzoError reports where in the compressed input decoding failed.
func lzoError(ip int, format string, args ...any) error {
	return fmt.Errorf("%w: %s at input byte %d", errLZO, fmt.Sprintf(format, args...), ip)
}

// lzo1xDecompress decodes src into dst and returns the number of bytes
// written. It never writes past len(dst), never reads past len(src), and
// fails on a match that reaches before the start of the output, on output
// that would not fit in dst, on input that ends early, and on input left
// after the end marker: it accepts exactly what lzo1x_decompress_safe
// accepts, with the same output.
func lzo1xDecompress(src, dst []byte) (int, error) {
	if len(src) == 0 {
		return 0, lzoError(0, "empty input")
	}
	ip, op, state := 0, 0, 0
	var err error
	if src[0] > 17 {
		t := int(src[0]) - 17
		if ip, op, err = copyLiterals(src, dst, 1, op, t); err != nil {
			return op, err
		}
		state = min(t, 4)
	}
	for {
		if ip >= len(src) {
			return op, lzoError(ip, "input ends without an end marker")
		}
		inst := int(src[ip])
		ip++
		var length, dist, next int
		switch {
		case inst >= 64: // M2
			if ip >= len(src) {
				return op, lzoError(ip, "input ends inside a match")
			}
			if inst >= 128 {
				length = 5 + (inst>>5)&3
			} else {
				length = 3 + (inst>>5)&1
			}
			dist = int(src[ip])<<3 + (inst>>2)&7 + 1
			ip++
			next = inst & 3
		case inst >= 32: // M3
			if length = inst & 31; length == 0 {
				if length, ip, err = extendedLength(src, ip, 31); err != nil {
					return op, err
				}
			}
			length += 2
			if ip+2 > len(src) {
				return op, lzoError(ip, "input ends inside a match")
			}
			le := int(src[ip]) | int(src[ip+1])<<8
			ip += 2
			dist = le>>2 + 1
			next = le & 3
		case inst >= 16: // M4, or the end marker
			if length = inst & 7; length == 0 {
				if length, ip, err = extendedLength(src, ip, 7); err != nil {
					return op, err
				}
			}
			length += 2
			if ip+2 > len(src) {
				return op, lzoError(ip, "input ends inside a match")
			}
			le := int(src[ip]) | int(src[ip+1])<<8
			ip += 2
			dist = 16384 + (inst&8)<<11 + le>>2
			if dist == 16384 { // the end marker, in any spelling (top of file)
				if ip != len(src) {
					return op, lzoError(ip, "%d bytes of input after the end marker", len(src)-ip)
				}
				return op, nil
			}
			next = le & 3
		case state == 0: // literal run
			if length = inst; length == 0 {
				if length, ip, err = extendedLength(src, ip, 15); err != nil {
					return op, err
				}
			}
			if ip, op, err = copyLiterals(src, dst, ip, op, length+3); err != nil {
				return op, err
			}
			state = 4
			continue
		default: // short match after literals
			if ip >= len(src) {
				return op, lzoError(ip, "input ends inside a match")
			}
			h := int(src[ip])
			ip++
			if state == 4 {
				length, dist = 3, h<<2+(inst>>2)&3+2049
			} else {
				length, dist = 2, h<<2+(inst>>2)&3+1
			}
			next = inst & 3
		}
		if dist > op {
			return op, lzoError(ip, "match distance %d reaches before the start of the output (at %d)", dist, op)
		}
		if length > len(dst)-op {
			return op, lzoError(ip, "match of %d bytes overflows the %d-byte output at %d", length, len(dst), op)
		}
		from := op - dist
		if dist >= length {
			copy(dst[op:op+length], dst[from:from+length])
		} else {
			// The match overlaps its own output: it repeats the last dist
			// bytes. Copy in growing chunks, each taken only from bytes
			// that are already final.
			for n := 0; n < length; {
				n += copy(dst[op+n:op+length], dst[from:op+n])
			}
		}
		op += length
		if ip, op, err = copyLiterals(src, dst, ip, op, next); err != nil {
			return op, err
		}
		state = next
	}
}

// extendedLength reads an extended length field at src[ip:]: zero bytes,
// each adding 255, then a non-zero byte added to base. It returns the
// length and the index after the field.
func extendedLength(src []byte, ip, base int) (int, int, error) {
	start := ip
	for ip < len(src) && src[ip] == 0 {
		ip++
	}
	if ip >= len(src) {
		return 0, ip, lzoError(ip, "input ends inside a length")
	}
	return base + (ip-start)*255 + int(src[ip]), ip + 1, nil
}

// copyLiterals copies n literal bytes from src[ip:] to dst[op:] and
// returns the advanced indexes.
func copyLiterals(src, dst []byte, ip, op, n int) (int, int, error) {
	if n > len(src)-ip {
		return ip, op, lzoError(ip, "%d literals but %d input bytes left", n, len(src)-ip)
	}
	if n > len(dst)-op {
		return ip, op, lzoError(ip, "%d literals overflow the %d-byte output at %d", n, len(dst), op)
	}
	copy(dst[op:op+n], src[ip:ip+n])
	return ip + n, op + n, nil
}
