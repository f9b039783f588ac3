package main

import (
	"bytes"
	"io"
	"strconv"
)

// hexDumper writes data in the style of `hexdump -C` as it comes, piece
// by piece: 16 bytes a row, the address (here a physical or virtual
// address) in hex, the bytes in two groups of eight, and the printable
// characters between bars. A row equal to the one before it is replaced
// by a single "*" line, and Close writes the address after the last byte.
// It holds one row, whatever the size of the data.
type hexDumper struct {
	w       io.Writer
	addr    uint64 // address of the next row
	row     []byte // bytes of the row being filled
	prev    [16]byte
	hasPrev bool
	starred bool
	line    []byte
}

func newHexDumper(w io.Writer, addr uint64) *hexDumper {
	return &hexDumper{w: w, addr: addr, row: make([]byte, 0, 16)}
}

// Write adds data after what was written before.
func (h *hexDumper) Write(data []byte) error {
	for len(data) > 0 {
		n := copy(h.row[len(h.row):16], data)
		h.row = h.row[:len(h.row)+n]
		data = data[n:]
		if len(h.row) == 16 {
			if err := h.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush writes the row (or a "*" for a repeated full row).
func (h *hexDumper) flush() error {
	row := h.row
	h.row = h.row[:0]
	defer func() { h.addr += uint64(len(row)) }()
	if len(row) == 16 && h.hasPrev && bytes.Equal(row, h.prev[:]) {
		if h.starred {
			return nil
		}
		h.starred = true
		_, err := io.WriteString(h.w, "*\n")
		return err
	}
	h.starred = false
	if len(row) == 16 {
		copy(h.prev[:], row)
		h.hasPrev = true
	}
	h.line = appendHexRow(h.line[:0], h.addr, row)
	_, err := h.w.Write(h.line)
	return err
}

// Close writes a last partial row and the end address.
func (h *hexDumper) Close() error {
	if len(h.row) > 0 {
		if err := h.flush(); err != nil {
			return err
		}
	}
	_, err := h.w.Write(append(appendAddr(h.line[:0], h.addr), '\n'))
	return err
}

// hexdump writes data as one block (see hexDumper).
func hexdump(w io.Writer, addr uint64, data []byte) error {
	h := newHexDumper(w, addr)
	if err := h.Write(data); err != nil {
		return err
	}
	return h.Close()
}

const hexDigits = "0123456789abcdef"

func appendAddr(b []byte, a uint64) []byte {
	s := strconv.FormatUint(a, 16)
	for i := len(s); i < 8; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendHexRow formats one row: "addr  xx xx .. xx  xx .. xx  |ascii|\n".
func appendHexRow(b []byte, addr uint64, row []byte) []byte {
	b = appendAddr(b, addr)
	b = append(b, ' ', ' ')
	for i := 0; i < 16; i++ {
		if i == 8 {
			b = append(b, ' ')
		}
		if i < len(row) {
			b = append(b, hexDigits[row[i]>>4], hexDigits[row[i]&15], ' ')
		} else {
			b = append(b, ' ', ' ', ' ')
		}
	}
	b = append(b, ' ', '|')
	for _, c := range row {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		b = append(b, c)
	}
	return append(b, '|', '\n')
}
