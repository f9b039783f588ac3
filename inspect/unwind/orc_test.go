package unwind

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"dumpscope/model"
)

var allLayouts = []Layout{LayoutV1, LayoutV2, LayoutV3, LayoutV4}

// Every entry a layout can express decodes back to itself.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, l := range allLayouts {
		n := 0
		for typ := TypeUndefined; typ <= TypeRegsPartial; typ++ {
			for sp := RegUndefined; sp < regInvalid; sp++ {
				for bp := RegUndefined; bp < regInvalid; bp++ {
					for _, sig := range []bool{false, true} {
						e := Entry{SPOffset: 24, BPOffset: -16, SPReg: sp, BPReg: bp, Type: typ, Signal: sig}
						if typ <= TypeEndOfStack {
							e = Entry{Type: typ}
						}
						f, ok := encodeFlags(e, l)
						if !ok {
							continue
						}
						var b [6]byte
						binary.LittleEndian.PutUint16(b[:], uint16(e.SPOffset))
						binary.LittleEndian.PutUint16(b[2:], uint16(e.BPOffset))
						binary.LittleEndian.PutUint16(b[4:], f)
						got, ok := decodeEntry(b[:], l)
						want := e
						if l == LayoutV1 && typ >= TypeRegs {
							want.Signal = true // v1: REGS and REGS_PARTIAL imply signal
						}
						if l == LayoutV1 && typ == TypeCall {
							want.Signal = false
						}
						valid := typ <= TypeEndOfStack || usableSP(sp) && usableBP(bp)
						if ok != valid || ok && got != want {
							t.Errorf("%v: %v → %#04x → %v ok=%v", l, e, f, got, ok)
						}
						n++
					}
				}
			}
		}
		if n < 100 {
			t.Errorf("%v: only %d entries tried", l, n)
		}
	}
}

// The register numbers of orc_types.h: to 7.0, and from 7.1.
func TestRegisterNumbering(t *testing.T) {
	old := map[uint16]Reg{0: RegUndefined, 1: RegPrevSP, 2: RegDX, 3: RegDI, 4: RegBP, 5: RegSP, 6: RegR10, 7: RegR13, 8: RegBPIndirect, 9: RegSPIndirect, 10: RegAX}
	nw := map[uint16]Reg{0: RegUndefined, 1: RegAX, 2: RegDX, 3: RegSP, 4: RegBP, 5: RegDI, 6: RegR10, 7: RegR13, 8: RegPrevSP, 9: RegSPIndirect, 10: RegBPIndirect}
	for n, r := range old {
		if oldRegs[n] != r {
			t.Errorf("old numbering %d = %v, want %v", n, oldRegs[n], r)
		}
	}
	for n, r := range nw {
		if newRegs[n] != r {
			t.Errorf("7.1 numbering %d = %v, want %v", n, newRegs[n], r)
		}
	}
}

// orc_fp_entry as each layout stores it.
func TestFPEntryFlags(t *testing.T) {
	want := map[Layout]uint16{LayoutV1: 0x0014, LayoutV2: 0x0014, LayoutV3: 0x0214, LayoutV4: 0x0284}
	for l, w := range want {
		f, ok := encodeFlags(fpEntry, l)
		if !ok || f != w {
			t.Errorf("%v: orc_fp_entry flags %#04x, want %#04x", l, f, w)
		}
	}
}

func fpBytes(l Layout) []byte {
	f, _ := encodeFlags(fpEntry, l)
	b := make([]byte, 6)
	binary.LittleEndian.PutUint16(b, 16)
	binary.LittleEndian.PutUint16(b[2:], uint16(0xfff0))
	binary.LittleEndian.PutUint16(b[4:], f)
	return b
}

// A realistic table is recognised from its data alone, in every layout,
// and the orc_fp_entry and header evidence agree.
func TestDetectLayoutFromData(t *testing.T) {
	for _, l := range allLayouts {
		_, raw := encodeTable(t, l, 0xffffffff82000000, realisticRows(0xffffffff81000000))
		d, err := DetectLayout(raw, Evidence{})
		if err != nil || d.Layout != l {
			t.Errorf("%v: detected %v (%v), invalid %v, reasons %v", l, d.Layout, err, d.Invalid, d.Reasons)
			continue
		}
		for _, other := range allLayouts {
			if other != l && d.Invalid[other] == 0 {
				t.Errorf("%v data decode wholly in %v too", l, other)
			}
		}
		d, err = DetectLayout(raw, Evidence{FPEntry: fpBytes(l), Release: "2.6.32"})
		if err != nil || d.Layout != l {
			t.Errorf("%v with orc_fp_entry: %v %v", l, d.Layout, err)
		}
	}
}

// A table too small to tell layouts apart needs evidence; the release
// string only breaks ties, and contradicting evidence is refused.
func TestDetectLayoutEvidence(t *testing.T) {
	_, raw := encodeTable(t, LayoutV1, 0x1000, []orcRow{{0x5000, eCall8}, {0x5010, Entry{Type: TypeCall, SPReg: RegSP, SPOffset: 24}}})
	if _, err := DetectLayout(raw, Evidence{}); !errors.Is(err, model.ErrUnsupported) {
		t.Errorf("ambiguous table: %v", err)
	}
	d, err := DetectLayout(raw, Evidence{Release: "6.3.1"})
	if err != nil || d.Layout != LayoutV2 {
		t.Errorf("release 6.3.1: %v %v", d.Layout, err)
	}
	d, err = DetectLayout(raw, Evidence{FPEntry: fpBytes(LayoutV1), Release: "6.1.0-57-amd64"})
	if err != nil || d.Layout != LayoutV1 {
		t.Errorf("orc_fp_entry v1/v2 + release: %v %v", d.Layout, err)
	}
	// A release that contradicts the data decides nothing.
	if _, err := DetectLayout(raw, Evidence{FPEntry: fpBytes(LayoutV1), Release: "5.14.0-570.el9.x86_64"}); !errors.Is(err, model.ErrUnsupported) {
		t.Errorf("orc_fp_entry v1/v2 + RHEL 9.6 release: %v", err)
	}
	for rel, want := range map[string]Layout{"4.19.0": LayoutV1, "6.2.16": LayoutV1, "6.3.0": LayoutV2, "6.4": LayoutV3,
		"7.0.2": LayoutV3, "7.1.0-rc1": LayoutV4, "5.14.0-503.el9": LayoutV1, "5.14.0-517.el9": LayoutV3, "garbage": LayoutUnknown, "3.10.0": LayoutUnknown} {
		if got := layoutFromRelease(rel); got != want {
			t.Errorf("release %q: %v, want %v", rel, got, want)
		}
	}
	// A v3 header on v1 data: the header narrows to v3, whose entries
	// do not decode.
	_, raw = encodeTable(t, LayoutV1, 0x1000, realisticRows(0x100000))
	if _, err := DetectLayout(raw, Evidence{Header: knownHeaders[1].hash[:]}); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("contradicting header: %v", err)
	}
	if _, err := DetectLayout(raw[:5], Evidence{}); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("partial entry: %v", err)
	}
}

// ReadVmlinux reads a table through Memory, checks sizes and order.
func TestReadVmlinux(t *testing.T) {
	const ipAt, uAt = 0xffffffff82000000, 0xffffffff82100000
	rows := realisticRows(0xffffffff81000000)
	ip, raw := encodeTable(t, LayoutV3, ipAt, rows)
	mem := newFakeMem()
	mem.write(ipAt, ip)
	mem.write(uAt, raw)
	mem.write(0xffffffff83000000, fpBytes(LayoutV3))
	s := VmlinuxSymbols{StartIP: ipAt, StopIP: ipAt + uint64(len(ip)), StartUnwind: uAt, StopUnwind: uAt + uint64(len(raw)), FPEntry: 0xffffffff83000000}
	tab, det, err := ReadVmlinux(mem, s)
	if err != nil || tab.Layout != LayoutV3 || tab.Len() != len(rows) {
		t.Fatalf("ReadVmlinux: %v %v %v", tab, det, err)
	}
	o := NewORC(tab)
	if e, err := o.Find(0xffffffff81000040 + 5); err != nil || e != eCall8 {
		t.Errorf("Find: %v %v", e, err)
	}
	if e, err := o.Find(0xffffffff81000001); err != nil || e != eCall16BP {
		t.Errorf("Find at an entry's ip: %v %v", e, err)
	}
	if _, err := o.Find(0xffffffff80000000); !errors.Is(err, errNoEntry) {
		t.Errorf("below the table: %v", err)
	}
	if e, err := o.Find(0); err != nil || e != nullEntry {
		t.Errorf("ip 0: %v %v", e, err)
	}

	bad := s
	bad.StopUnwind -= 6
	if _, _, err := ReadVmlinux(mem, bad); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("unequal arrays: %v", err)
	}
	bad = s
	bad.StopIP, bad.StopUnwind = s.StartIP+4*(maxEntries+1), s.StartUnwind+6*(maxEntries+1)
	if _, _, err := ReadVmlinux(mem, bad); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("too many entries: %v", err)
	}
	// A count that memory does not back fails at the first absent page,
	// before allocating for the whole claim.
	bad.StopIP, bad.StopUnwind = s.StartIP+4*(maxEntries/2), s.StartUnwind+6*(maxEntries/2)
	if _, _, err := ReadVmlinux(mem, bad); !errors.Is(err, model.ErrPageAbsent) {
		t.Errorf("count beyond memory: %v", err)
	}
	// Unsorted ips.
	binary.LittleEndian.PutUint32(ip[8:], 0x7fff0000)
	mem.write(ipAt, ip)
	if _, _, err := ReadVmlinux(mem, s); !errors.Is(err, model.ErrCorrupt) || !strings.Contains(err.Error(), "not sorted") {
		t.Errorf("unsorted: %v", err)
	}
}

// The rightmost of equal ips wins (a real entry over the section
// terminator sorted before it), as __orc_find.
func TestFindRightmostDuplicate(t *testing.T) {
	ip, raw := encodeTable(t, LayoutV1, 0x10000, []orcRow{{0x1000, eCall8}, {0x2000, eUndef}, {0x2000, eCall16BP}, {0x3000, eEnd}})
	tab, err := NewTable("t", LayoutV1, 0x10000, ip, raw)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := NewORC(tab).Find(0x2004); err != nil || e != eCall16BP {
		t.Errorf("duplicate ip: %v %v", e, err)
	}
	mod, err := NewTable("mod", LayoutV1, 0x20000, encodeTableIP(t, 0x20000, 0x9000), raw[:6])
	if err != nil {
		t.Fatal(err)
	}
	o := NewORC(tab, nil, mod)
	if len(o.Tables()) != 2 {
		t.Errorf("tables %d", len(o.Tables()))
	}
	if e, err := o.Find(0x9000); err != nil || e != eCall8 {
		t.Errorf("module lookup: %v %v", e, err)
	}
}

func encodeTableIP(t *testing.T, ipAddr, target uint64) []byte {
	ip, _ := encodeTable(t, LayoutV1, ipAddr, []orcRow{{target, eCall8}})
	return ip
}

// A module's table: read through memory with vmlinux's layout, answering
// for its code range.
func TestReadModule(t *testing.T) {
	const ipAt, uAt, text = 0xffffffffc0010000, 0xffffffffc0020000, 0xffffffffc0000000
	ip, raw := encodeTable(t, LayoutV4, ipAt, []orcRow{{text, eCall8}, {text + 0x10, eCall16BP}, {text + 0x100, eUndef}})
	mem := newFakeMem()
	mem.write(ipAt, ip)
	mem.write(uAt, raw)
	m := ModuleORC{Name: "qemu_fw_cfg", IP: ipAt, Unwind: uAt, Num: 3, TextLo: text, TextHi: text + 0x1000}
	tab, err := ReadModule(mem, m, LayoutV4)
	if err != nil || tab.Lo != text || tab.Hi != text+0xfff {
		t.Fatalf("ReadModule: %+v %v", tab, err)
	}
	if e, err := NewORC(tab).Find(text + 0x20); err != nil || e != eCall16BP {
		t.Errorf("module entry: %v %v", e, err)
	}
	if _, err := NewORC(tab).Find(text + 0x1000); !errors.Is(err, errNoEntry) {
		t.Errorf("beyond the module's code: %v", err)
	}
	if _, err := ReadModule(mem, ModuleORC{Name: "none"}, LayoutV4); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("no table: %v", err)
	}
	if _, err := ReadModule(mem, m, LayoutUnknown); !errors.Is(err, model.ErrUnsupported) {
		t.Errorf("unknown layout: %v", err)
	}
	m.Num = 1 << 30
	if _, err := ReadModule(mem, m, LayoutV4); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("hostile count: %v", err)
	}
}
