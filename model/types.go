package model

import (
	"fmt"
	"strconv"
	"strings"
)

// PFN is a page frame number: a physical address divided by the page size.
// For Xen PV dumps it is the guest pseudo-physical frame; for legacy Xen
// cores, which record only machine frames, it is the machine frame.
type PFN uint64

// String formats the frame number as lower-case hex with a 0x prefix.
func (p PFN) String() string { return "0x" + strconv.FormatUint(uint64(p), 16) }

// Addr returns the physical address of the first byte of the frame.
func (p PFN) Addr(pageSize uint64) PhysAddr { return PhysAddr(uint64(p) * pageSize) }

// PhysAddr is a (guest) physical address.
type PhysAddr uint64

// String formats the address as lower-case hex with a 0x prefix.
func (a PhysAddr) String() string { return "0x" + strconv.FormatUint(uint64(a), 16) }

// PFN returns the frame that holds the address.
func (a PhysAddr) PFN(pageSize uint64) PFN { return PFN(uint64(a) / pageSize) }

// MarshalJSON encodes the address as a hex string, per the JSON contract.
func (a PhysAddr) MarshalJSON() ([]byte, error) { return []byte(`"` + a.String() + `"`), nil }

// VirtAddr is a kernel virtual address.
type VirtAddr uint64

// String formats the address as lower-case hex with a 0x prefix.
func (a VirtAddr) String() string { return "0x" + strconv.FormatUint(uint64(a), 16) }

// MarshalJSON encodes the address as a hex string, per the JSON contract.
func (a VirtAddr) MarshalJSON() ([]byte, error) { return []byte(`"` + a.String() + `"`), nil }

// FileOff is a byte offset in a dump file. It prints as hex but marshals to
// JSON as a number, as the contract wants for file offsets.
type FileOff int64

// String formats the offset as hex with a 0x prefix.
func (o FileOff) String() string {
	if o < 0 {
		return "-0x" + strconv.FormatUint(uint64(-o), 16)
	}
	return "0x" + strconv.FormatUint(uint64(o), 16)
}

// Hex is a 64-bit value (a register, an address inside a record) that
// marshals to JSON as a lower-case "0x" string.
type Hex uint64

// String formats the value as lower-case hex with a 0x prefix.
func (h Hex) String() string { return "0x" + strconv.FormatUint(uint64(h), 16) }

// MarshalJSON encodes the value as a hex string.
func (h Hex) MarshalJSON() ([]byte, error) { return []byte(`"` + h.String() + `"`), nil }

// Endian names the byte order of a dump as the JSON contract spells it.
type Endian string

// The two byte orders.
const (
	LittleEndian Endian = "little"
	BigEndian    Endian = "big"
)

// Format names a dump format as the JSON contract spells it.
type Format string

// The formats dumpscope reads.
const (
	FormatELF           Format = "elf"
	FormatKdump         Format = "kdump"    // signature "KDUMP   "
	FormatDiskdump      Format = "diskdump" // signature "DISKDUMP"
	FormatXenCore       Format = "xen-core"
	FormatXenCoreLegacy Format = "xen-core-legacy"
	FormatAIX           Format = "aix"
)

// Container says how the dump format is wrapped.
type Container string

// The containers.
const (
	ContainerPlain     Container = "plain"
	ContainerFlattened Container = "flattened"
)

// Codec names how a page is stored.
type Codec string

// The codecs of kdump-compressed pages; CodecNone is a raw page.
const (
	CodecNone   Codec = "none"
	CodecZlib   Codec = "zlib"
	CodecLZO    Codec = "lzo"
	CodecSnappy Codec = "snappy"
	CodecZstd   Codec = "zstd"
)

// HexBytes formats a byte slice as space-separated hex pairs, for layout
// values of short byte arrays.
func HexBytes(b []byte) string {
	out := make([]byte, 0, len(b)*3)
	for i, c := range b {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, fmt.Sprintf("%02x", c)...)
	}
	return string(out)
}

// ParseNumber parses a number as the CLI and the TUI command line accept
// it: decimal, or hex with a 0x prefix. A leading zero does not mean octal.
func ParseNumber(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	var v uint64
	var err error
	if strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") {
		v, err = strconv.ParseUint(t[2:], 16, 64)
	} else {
		v, err = strconv.ParseUint(t, 10, 64)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a number (decimal or 0x-hex)", s)
	}
	return v, nil
}

// SizeName names a power-of-two size the way page sizes are spoken of:
// "4 KiB", "2 MiB", "1 GiB".
func SizeName(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// SpacedHex puts a space between the byte pairs of a hex string: "c3e8"
// becomes "c3 e8".
func SpacedHex(s string) string {
	var b strings.Builder
	for i := 0; i+1 < len(s); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i : i+2])
	}
	return b.String()
}
