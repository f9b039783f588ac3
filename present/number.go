package present

import (
	"fmt"
	"strconv"
	"strings"
)

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

// ParseAddress parses an address as the CLI and the TUI accept it where
// only an address makes sense: everything ParseNumber takes, and bare hex
// as VMCOREINFO (SYMBOL(_stext)=ffffffff81000000) and System.map
// (ffffffff81000000 T _stext, 00000000c1000000 on 32-bit kernels) print
// it. A string of digits alone stays decimal, unless it is zero-padded to
// the 8 or 16 digits System.map and /proc/iomem print (a leading 0: no
// one writes decimal so), which is hex. Counts and sizes keep
// ParseNumber's rule.
func ParseAddress(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	bareHex := false
	if t != "" && !strings.HasPrefix(t, "0x") && !strings.HasPrefix(t, "0X") {
		digitsOnly := strings.Trim(t, "0123456789") == ""
		hexOnly := strings.Trim(t, "0123456789abcdefABCDEF") == ""
		bareHex = hexOnly && (!digitsOnly || (t[0] == '0' && (len(t) == 8 || len(t) == 16)))
	}
	if !bareHex {
		v, err := ParseNumber(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not an address (0x-hex, bare hex as System.map prints it, or decimal)", s)
		}
		return v, nil
	}
	v, err := strconv.ParseUint(t, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an address: more than 64 bits", s)
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
