package kdump

import (
	"encoding/binary"
	"fmt"
	"strings"

	"dumpscope/model"
	"dumpscope/reader/elfnote"
)

// Info reports what the headers and notes say; it reads no bitmap, no
// descriptor and no page data (Counts scans the bitmaps).
func (f *File) Info() model.Info {
	n := f.loadNotes()
	h := f.Header
	ver := int64(h.HeaderVersion)
	in := model.Info{
		Format: model.FormatKdump, Container: model.ContainerPlain, Parts: 1, Files: []string{f.src.Name},
		Arch: f.Arch(), Endian: model.LittleEndian, PageSize: f.pageSize, MaxPFN: model.PFN(f.maxMapnr),
		CPUs: int(h.NrCPUs), HeaderVersion: &ver, Flags: statusFlags(h.Signature, h.Status),
		FrameKind: "physical", Warnings: f.warnings(),
	}
	if !f.isKdump() {
		in.Format = model.FormatDiskdump
	}
	if f.order == binary.ByteOrder(binary.BigEndian) {
		in.Endian = model.BigEndian
	}
	if c := elfnote.CountCPUs(n.notes); in.CPUs <= 0 {
		in.CPUs = c
	}
	for _, c := range []model.Codec{model.CodecZlib, model.CodecLZO, model.CodecSnappy, model.CodecZstd} {
		if h.Status&codecFlag(c) != 0 {
			in.Compression = append(in.Compression, c)
		}
	}
	elfnote.FillFromVMCoreInfo(&in, n.vmci)
	if in.OSRelease == "" {
		in.OSRelease = h.Utsname.Release
	}
	if h.TimestampSec != 0 {
		t := h.TimestampSec
		in.CrashTime = &t
	}
	u := h.Utsname
	in.Details = append(in.Details,
		model.KV{Key: "signature", Value: fmt.Sprintf("%q", h.Signature)},
		model.KV{Key: "utsname", Value: strings.Join([]string{u.Sysname, u.Nodename, u.Release, u.Version, u.Machine, u.Domainname}, " | ")},
		model.KV{Key: "header layout", Value: fmt.Sprintf("%d-bit main header, %v sub-header", f.HeaderLayout, f.SubLayout)},
		model.KV{Key: "block size", Value: fmt.Sprint(h.BlockSize)},
	)
	if f.isKdump() {
		in.Details = append(in.Details,
			model.KV{Key: "dump level", Value: dumpLevel(f.Sub.DumpLevel)},
			model.KV{Key: "phys_base", Value: fmt.Sprintf("%#x", f.Sub.PhysBase)})
	}
	if f.IsSplit() {
		in.Details = append(in.Details, model.KV{Key: "split part", Value: fmt.Sprintf("pfns %#x-%#x", f.start, f.end)})
	}
	if e := n.erase; len(e) > 0 {
		in.Details = append(in.Details, model.KV{Key: "eraseinfo", Value: fmt.Sprintf("%d lines at %#x", strings.Count(string(e), "\n"), f.Sub.OffsetEraseInfo)})
	}
	return in
}

func codecFlag(c model.Codec) uint32 {
	switch c {
	case model.CodecZlib:
		return FlagZlib
	case model.CodecLZO:
		return FlagLZO
	case model.CodecSnappy:
		return FlagSnappy
	case model.CodecZstd:
		return FlagZstd
	}
	return 0
}

// dumpLevel spells out makedumpfile's -d bits.
func dumpLevel(l int32) string {
	names := []string{"zero pages", "non-private cache", "private cache", "user data", "free pages"}
	var ex []string
	for i, n := range names {
		if l&(1<<i) != 0 {
			ex = append(ex, n)
		}
	}
	if len(ex) == 0 {
		return fmt.Sprintf("%d (nothing excluded)", l)
	}
	return fmt.Sprintf("%d (excludes %s)", l, strings.Join(ex, ", "))
}
