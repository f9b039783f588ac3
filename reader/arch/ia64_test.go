package arch_test

import (
	"encoding/binary"
	"testing"

	"dumpscope/model"
	"dumpscope/reader/arch"
	"dumpscope/reader/dumptest"
)

func TestIA64Context(t *testing.T) {
	le := binary.LittleEndian
	r := &dumptest.IA64Regs{Flags: 1 << 3, IP: 0xa000000100012340, PSR: 1<<13 | 1<<14 | 2<<32 | 1<<44, CFM: 0x8000000000000307,
		PR: 0x5, NaTs: 0x80, BNaTs: 0x40, EventCallbackIP: 0xa000000100001000, PrivregsPFN: 0x4321}
	for i := range r.R {
		r.R[i] = 0x100 + uint64(i)
	}
	for i := range r.B {
		r.B[i] = 0x200 + uint64(i)
	}
	for i := range r.Bank {
		r.Bank[i] = 0x300 + uint64(i)
	}
	for i := range r.AR {
		r.AR[i] = 0x400 + uint64(i)
	}
	for i := range r.CR {
		r.CR[i] = 0x500 + uint64(i)
	}
	for i := range r.RR {
		r.RR[i], r.DBR[i], r.IBR[i] = 0x600+uint64(i), 0x700+uint64(i), 0x800+uint64(i)
	}
	r.PKR[15] = 0x9f
	rec := r.Context(le)
	if len(rec) != arch.IA64ContextSize {
		t.Fatalf("writer made %d bytes", len(rec))
	}
	set, err := arch.DecodeIA64Context(le, rec, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{
		"flags": 8, "r0": 0x100, "r12": 0x10c, "r31": 0x11f, "b0": 0x200, "b7": 0x207, "bank0": 0x300, "bank15": 0x30f,
		"ip": r.IP, "psr": r.PSR, "cfm": r.CFM, "pr": 5, "nats": 0x80, "bnats": 0x40,
		"kr0": 0x400, "kr7": 0x407, "rsc": 0x410, "bsp": 0x411, "bspstore": 0x412, "rnat": 0x413, "ccv": 0x420,
		"unat": 0x424, "fpsr": 0x428, "itc": 0x42c, "pfs": 0x440, "lc": 0x441, "ec": 0x442,
		"dcr": 0x500, "itm": 0x501, "iva": 0x502, "pta": 0x508, "ipsr": 0x510, "isr": 0x511, "iip": 0x513, "ifa": 0x514,
		"ifs": 0x517, "iim": 0x518, "iha": 0x519, "lid": 0x540, "irr3": 0x547, "itv": 0x548, "lrr1": 0x551,
		"rr0": 0x600, "rr7": 0x607, "dbr3": 0x703, "ibr7": 0x807, "pkr15": 0x9f,
		"event_callback_ip": r.EventCallbackIP, "privregs_pfn": 0x4321,
	}
	for n, v := range want {
		if got := reg(t, set, n); got.Value != v {
			t.Errorf("%s = %#x, want %#x", n, got.Value, v)
		}
	}
	psr := reg(t, set, "psr")
	if b := bitNamed(psr.Bits, "cpl"); b == nil || b.Value != 2 {
		t.Error("psr.cpl not decoded")
	}
	if b := bitNamed(psr.Bits, "bn"); b == nil || b.Value != 1 {
		t.Error("psr.bn not decoded")
	}
	if b := bitNamed(reg(t, set, "flags").Bits, "VGCF_online"); b == nil || b.Value != 1 {
		t.Error("VGCF_online not decoded")
	}
	if _, ok := set.Get("ar[20]"); ok {
		t.Error("a reserved application register is exported")
	}
	checkGroups(t, set)
	if _, err := arch.DecodeIA64Context(le, rec[:100], 0); err == nil {
		t.Error("a short record decoded")
	}
	checkCover(t, arch.IA64Context(), rec)
}

func TestIA64MappedRegs(t *testing.T) {
	le := binary.LittleEndian
	m := &dumptest.IA64Mapped{VAC: 0x41, VDC: 0x3, VHPI: 0x10, VNaT: 1, VBNaT: 2, VPSR: 1 << 14, VPR: 0xff,
		InterruptCollection: 1, Pending: 1, MetaphysicalMode: 1, Banknum: 1, ITCOffset: 0x1234, ITCLast: 0x5678}
	for i := range m.VGR {
		m.VGR[i], m.VBGR[i] = 0x100+uint64(i), 0x200+uint64(i)
	}
	for i := range m.VCR {
		m.VCR[i] = 0x300 + uint64(i)
	}
	for i := range m.RRS {
		m.RRS[i], m.KRS[i] = 0x400+uint64(i), 0x500+uint64(i)
	}
	rec := m.Bytes(le, 16384)
	set, err := arch.DecodeIA64MappedRegs(le, rec, 8192)
	if err != nil {
		t.Fatal(err)
	}
	if set.Source != model.SourceIA64MappedRegs {
		t.Fatalf("source %s", set.Source)
	}
	want := map[string]uint64{"vac": 0x41, "vdc": 3, "vhpi": 0x10, "vgr0": 0x100, "vgr15": 0x10f, "vbgr15": 0x20f,
		"vnat": 1, "vbnat": 2, "vpsr": 1 << 14, "vpr": 0xff, "dcr": 0x300, "iip": 0x313, "lrr1": 0x351,
		"interrupt_collection_enabled": 1, "pending_interruption": 1, "metaphysical_mode": 1, "banknum": 1,
		"rrs0": 0x400, "rrs7": 0x407, "krs7": 0x507, "itc_offset": 0x1234, "itc_last": 0x5678}
	for n, v := range want {
		if got := reg(t, set, n); got.Value != v {
			t.Errorf("%s = %#x, want %#x", n, got.Value, v)
		}
	}
	if got := reg(t, set, "vpsr"); got.Offset != 8192+1424 {
		t.Errorf("vpsr at %d", got.Offset)
	}
	if b := bitNamed(reg(t, set, "vac").Bits, "a_bsw"); b == nil || b.Value != 1 {
		t.Error("vac.a_bsw not decoded")
	}
	checkGroups(t, set)
	checkCover(t, arch.IA64MappedRegs(), rec)
}

// checkCover checks the flat layout of a record labels every byte once.
func checkCover(t *testing.T, s *arch.Struct, rec []byte) {
	t.Helper()
	pos := int64(0)
	for _, n := range s.Layout(binary.LittleEndian, rec, 0) {
		if int64(n.Offset) != pos {
			t.Fatalf("%s: %s at %d, expected %d", s.Name, n.Name, n.Offset, pos)
		}
		// The only alignment gap is before interrupt_mask_addr (a pointer
		// after an int).
		if n.Name == "(padding)" && s == arch.IA64MappedRegs() && n.Offset != 3092 {
			t.Errorf("%s: unexplained padding at %d", s.Name, n.Offset)
		}
		pos += n.Size
	}
	if pos != int64(len(rec)) {
		t.Fatalf("%s: layout ends at %d of %d", s.Name, pos, len(rec))
	}
}
