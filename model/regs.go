package model

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// RegSource says where a register set came from. The names are part of the
// JSON contract.
type RegSource string

// The register sources.
const (
	SourcePrstatus       RegSource = "prstatus"
	SourceQEMUCPUState   RegSource = "qemu-cpu-state"
	SourceXenVCPUContext RegSource = "xen-vcpu-context"
	SourceIA64MappedRegs RegSource = "ia64-mapped-regs"
)

// Register groups, used to lay out the CPU view.
const (
	GroupGeneral = "general"
	GroupSegment = "segment"
	GroupControl = "control"
	GroupDebug   = "debug"
	GroupFlags   = "flags"
	GroupOther   = "other"
)

// RegisterSet is the saved state of one CPU from one source.
type RegisterSet struct {
	// CPU is the CPU index as stored in the dump (order of notes or
	// contexts).
	CPU int
	// Source says which structure the registers come from.
	Source RegSource
	// Arch is the architecture of the register layout.
	Arch string
	// Registers in the order of the structure.
	Registers []Register
	// PID is the pid recorded with the registers (prstatus), if any.
	PID *int64
	// Signal is the current signal recorded with the registers, if any.
	Signal *int64
	// File and Offset locate the structure in the dump.
	File   string
	Offset FileOff
}

// Register is one named register value.
type Register struct {
	Name  string
	Value uint64
	// Group is one of the Group* constants.
	Group string
	// Offset is the file offset of the register's bytes and Size their
	// count.
	Offset FileOff
	Size   int
	// Bits decodes flag and control registers bit by bit; nil otherwise.
	Bits []BitField
}

// BitField is a named bit or bit range inside a register.
type BitField struct {
	Name    string
	Shift   uint
	Width   uint
	Value   uint64
	Meaning string
}

// FormatBits formats decoded bits compactly: the set one-bit flags by name
// and the non-zero multi-bit fields as name=value, in brackets.
func FormatBits(bits []BitField) string {
	var parts []string
	for _, b := range bits {
		switch {
		case b.Width == 1 && b.Value != 0:
			parts = append(parts, b.Name)
		case b.Width > 1 && b.Value != 0:
			parts = append(parts, b.Name+"="+Hex(b.Value).String())
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// Get returns the value of the named register.
func (s RegisterSet) Get(name string) (uint64, bool) {
	for _, r := range s.Registers {
		if r.Name == name {
			return r.Value, true
		}
	}
	return 0, false
}

// MarshalJSON writes {cpu, source, arch, registers: {name: "0x…"}}, with the
// registers in structure order.
func (s RegisterSet) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"cpu":`)
	b.WriteString(strconv.Itoa(s.CPU))
	b.WriteString(`,"source":`)
	writeJSONString(&b, string(s.Source))
	b.WriteString(`,"arch":`)
	writeJSONString(&b, s.Arch)
	if s.PID != nil {
		b.WriteString(`,"pid":` + strconv.FormatInt(*s.PID, 10))
	}
	if s.Signal != nil {
		b.WriteString(`,"signal":` + strconv.FormatInt(*s.Signal, 10))
	}
	b.WriteString(`,"registers":{`)
	for i, r := range s.Registers {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, r.Name)
		b.WriteString(`:"` + Hex(r.Value).String() + `"`)
	}
	b.WriteString("}}")
	return b.Bytes(), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}
