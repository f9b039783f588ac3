package xencore

import (
	"fmt"
	"math/bits"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/arch"
)

// shared_info is the page Xen shares with a domain (xen/include/public/
// xen.h, arch-x86/xen.h): 32 vcpu_info slots of 64 bytes (event upcall
// flags, pending selector, arch cr2, vcpu_time_info), the event channel
// pending and mask bitmaps (one xen_ulong_t per bit of a xen_ulong_t),
// the wallclock, and arch_shared_info (max_pfn, the p2m frame list list,
// nmi_reason, the linear p2m's cr3, address and generation). The layout
// follows the guest's word size: a 32-bit PV guest on a 64-bit hypervisor
// sees the compat layout. Other architectures' layouts are shown raw.

// sharedInfoWords describes one word size's offsets.
type sharedInfoWords struct {
	word      int // xen_ulong_t and unsigned long
	evtchn    int // offset of evtchn_pending
	wallclock int // offset of wc_version
	arch      int // offset of arch_shared_info
	secHi     int // offset of wc_sec_hi
}

var (
	shinfo64 = sharedInfoWords{word: 8, evtchn: 2048, wallclock: 3072, arch: 3088, secHi: 3084}
	shinfo32 = sharedInfoWords{word: 4, evtchn: 2048, wallclock: 2304, arch: 2316, secHi: 2340}
)

// sharedInfoLayout labels .xen_shared_info.
func (f *File) sharedInfoLayout(n *model.Field) {
	var w sharedInfoWords
	switch f.archName {
	case arch.X8664:
		w = shinfo64
	case arch.I386:
		w = shinfo32
	default:
		n.Value = "shared_info (layout of this architecture not decoded)"
		return
	}
	b, err := f.src.Bytes(int64(n.Offset), n.Size, 1<<20, SecSharedInfo)
	if err != nil {
		n.Value = err.Error()
		return
	}
	if len(b) < w.secHi+4 {
		n.Value = fmt.Sprintf("%d bytes, too short for shared_info", len(b))
		return
	}
	s := reader.NewStruct("shared_info", "", int64(n.Offset), b, f.order)
	online := 0
	for i := 0; i < 32; i++ {
		v := f.vcpuInfoLayout(b, int64(n.Offset), i, w.word)
		if v.Value != "unused" {
			online++
		}
		s.Node.Add(v)
	}
	bitmap := (w.word * 8) * w.word
	for _, bm := range []struct {
		name, meaning string
		off           int
	}{{"evtchn_pending", "event channels with a pending notification", w.evtchn}, {"evtchn_mask", "masked event channels", w.evtchn + bitmap}} {
		set := 0
		for _, c := range b[bm.off : bm.off+bitmap] {
			set += bits.OnesCount8(c)
		}
		s.Raw(bm.name, bm.off, bitmap, fmt.Sprintf("%s: one bit per port", bm.meaning), fmt.Sprintf("%d of %d bits set", set, bitmap*8))
	}
	c := w.wallclock
	s.Uint("wc_version", c, 4, "wallclock version (odd while being updated)")
	s.Uint("wc_sec", c+4, 4, "wallclock seconds since the epoch, low 32 bits")
	s.Uint("wc_nsec", c+8, 4, "wallclock nanoseconds")
	if w.word == 8 {
		s.Uint("wc_sec_hi", w.secHi, 4, "wallclock seconds, high 32 bits")
	}
	a := w.arch
	s.Uint("arch.max_pfn", a, w.word, "number of valid entries in the guest's p2m")
	s.Uint("arch.pfn_to_mfn_frame_list_list", a+w.word, w.word, "mfn of the frame listing the frames that list the p2m's frames (0: not set up; ~0: use p2m_vaddr)")
	s.Uint("arch.nmi_reason", a+2*w.word, w.word, "reason of a pending NMI")
	s.Uint("arch.p2m_cr3", a+3*w.word, w.word, "cr3 (xen_pfn_to_cr3 encoding) of the address space where p2m_vaddr is valid")
	s.Uint("arch.p2m_vaddr", a+4*w.word, w.word, "virtual address of the guest's linear p2m list")
	s.Uint("arch.p2m_generation", a+5*w.word, w.word, "p2m mapping generation (odd while being changed)")
	if w.word == 4 {
		s.Uint("arch.wc_sec_hi", w.secHi, 4, "wallclock seconds, high 32 bits (i386 keeps it in arch_shared_info)")
	}
	end := w.secHi + 4
	if w.word == 8 {
		end = a + 6*w.word
	}
	if end < len(b) {
		s.Raw("(rest of the page)", end, len(b)-end, "unused by shared_info")
	}
	n.Value = fmt.Sprintf("shared_info (%s layout), %d vcpu_info slots in use", f.archName, online)
	n.Children = s.Node.Children
}

// vcpuInfoLayout labels vcpu_info[i]: upcall flags, the pending selector,
// arch_vcpu_info (cr2) and vcpu_time_info (32 bytes at +32).
func (f *File) vcpuInfoLayout(b []byte, base int64, i, word int) *model.Field {
	off := 64 * i
	s := reader.NewStruct(fmt.Sprintf("vcpu_info[%d]", i), fmt.Sprintf("event and time state of vCPU %d", i), base+int64(off), b[off:off+64], f.order)
	s.Uint("evtchn_upcall_pending", 0, 1, "an event upcall is pending")
	s.Uint("evtchn_upcall_mask", 1, 1, "event upcalls are masked")
	s.Uint("evtchn_pending_sel", word, word, "which words of evtchn_pending have pending bits")
	s.Uint("arch.cr2", 2*word, word, "page-fault address for the PV guest")
	s.Uint("time.version", 32, 4, "time version (odd while being updated)")
	s.Uint("time.tsc_timestamp", 40, 8, "TSC at the last time update")
	s.Uint("time.system_time", 48, 8, "nanoseconds since boot at tsc_timestamp")
	s.Uint("time.tsc_to_system_mul", 56, 4, "TSC to nanoseconds multiplier (32.32 fixed point)")
	s.Int("time.tsc_shift", 60, 1, "TSC shift applied before the multiplier")
	s.Uint("time.flags", 61, 1, "XEN_PVCLOCK_* flags")
	s.Node.Value = "unused"
	for _, c := range b[off : off+64] {
		if c != 0 {
			s.Node.Value = "in use"
			break
		}
	}
	return s.Node
}
