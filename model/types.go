package model

import (
	"fmt"
	"strconv"
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

// formatInt formats a named integer type for fmt: %v and %s print its
// String form ("0x1a2b"), every integer verb (%d, %x, %#x, %08x…) prints
// the number, so that the named types format like the integers they are
// and never as the hex of their string.
func formatInt(f fmt.State, verb rune, v uint64, str func() string) {
	switch verb {
	case 'v', 's', 'q':
		fmt.Fprintf(f, fmt.FormatString(f, verb), str())
	default:
		fmt.Fprintf(f, fmt.FormatString(f, verb), v)
	}
}

// Format implements fmt.Formatter (see formatInt).
func (p PFN) Format(f fmt.State, verb rune) { formatInt(f, verb, uint64(p), p.String) }

// Format implements fmt.Formatter (see formatInt).
func (a PhysAddr) Format(f fmt.State, verb rune) { formatInt(f, verb, uint64(a), a.String) }

// Format implements fmt.Formatter (see formatInt).
func (a VirtAddr) Format(f fmt.State, verb rune) { formatInt(f, verb, uint64(a), a.String) }

// Format implements fmt.Formatter (see formatInt).
func (h Hex) Format(f fmt.State, verb rune) { formatInt(f, verb, uint64(h), h.String) }

// Format implements fmt.Formatter (see formatInt); negative offsets print
// with their sign.
func (o FileOff) Format(f fmt.State, verb rune) {
	if o < 0 && verb != 'v' && verb != 's' && verb != 'q' {
		fmt.Fprintf(f, fmt.FormatString(f, verb), int64(o))
		return
	}
	formatInt(f, verb, uint64(o), o.String)
}
