package oops

import "strings"

// TaintFromMask decodes the kernel's tainted_mask (kernel/panic.c: bit i
// is taint_flags[i], include/linux/panic.h TAINT_*) as print_tainted()
// writes it: "Not tainted" when no bit is set, else "Tainted: " and, for
// each flag of the table, its letter when set and a space (a 'G' for bit
// 0) when clear, trailing spaces dropped as the log's task line is read.
// A set bit beyond the table is kept as a flag with its bit number, the
// letter "?" and no name, and is written as "?".
func TaintFromMask(mask uint64) Taint {
	t := Taint{Flags: []TaintFlag{}}
	if mask == 0 {
		t.Text = "Not tainted"
		return t
	}
	var b strings.Builder
	b.WriteString("Tainted: ")
	for bit := 0; bit < 64; bit++ {
		set := mask&(1<<bit) != 0
		if bit >= len(taintFlags) {
			if set {
				b.WriteByte('?')
				t.Flags = append(t.Flags, TaintFlag{Letter: "?", Bit: bit})
			}
			continue
		}
		f := taintFlags[bit]
		switch {
		case set:
			b.WriteByte(f.letter)
			t.Flags = append(t.Flags, TaintFlag{Letter: string(f.letter), Name: f.name, Bit: bit})
		case bit == 0:
			b.WriteByte('G')
		default:
			b.WriteByte(' ')
		}
	}
	t.Text = strings.TrimRight(b.String(), " ")
	return t
}

// TaintMask is the inverse of TaintFromMask for the flags a Taint names:
// the bits of its flags whose bit number is known.
func TaintMask(t Taint) uint64 {
	var m uint64
	for _, f := range t.Flags {
		if f.Bit >= 0 && f.Bit < 64 {
			m |= 1 << f.Bit
		}
	}
	return m
}
