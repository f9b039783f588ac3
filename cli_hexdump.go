package main

import (
	"bytes"
	"io"
	"strconv"
)

// hexdump writes data in the style of `hexdump -C`: 16 bytes a row, the
// address (here a physical address) in hex, the bytes in two groups of
// eight, and the printable characters between bars. A row equal to the one
// before it is replaced by a single "*" line, and the address after the
// last byte ends the block.
func hexdump(w io.Writer, addr uint64, data []byte) error {
	var line []byte
	var prev []byte
	starred := false
	for off := 0; off < len(data); off += 16 {
		row := data[off:min(off+16, len(data))]
		if prev != nil && len(row) == 16 && bytes.Equal(row, prev) {
			if !starred {
				if _, err := io.WriteString(w, "*\n"); err != nil {
					return err
				}
				starred = true
			}
			continue
		}
		starred = false
		prev = row
		line = appendHexRow(line[:0], addr+uint64(off), row)
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	_, err := w.Write(append(appendAddr(line[:0], addr+uint64(len(data))), '\n'))
	return err
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
