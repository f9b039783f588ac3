package aix

import (
	"context"
	"fmt"
	"strings"

	"dumpscope/model"
	"dumpscope/reader"
)

// Architecture names. AIX dumps do not record the processor; the table
// kinds tell the kernel's word size. A dump with any 64-bit table
// (DMP_MAGIC_64, DMP_MAGIC_U64) comes from a 64-bit kernel, "ppc64" in the
// contract's names; one with only 32-bit tables (DMP_MAGIC_32, _VR, _U32)
// from a 32-bit kernel, "ppc".
const (
	ArchPPC64 = "ppc64"
	ArchPPC   = "ppc"
)

// Arch returns the architecture name the table kinds imply.
func (f *File) Arch() string {
	comps := f.walked().comps
	if len(comps) == 0 {
		return archOf(f.first.Magic, ArchPPC)
	}
	arch := ArchPPC
	for _, c := range comps {
		arch = archOf(c.head.Magic, arch)
	}
	return arch
}

func archOf(m uint32, dflt string) string {
	if m == Magic64 || m == MagicU64 {
		return ArchPPC64
	}
	return dflt
}

// Info reports what the tables and bitmaps say; it never reads area data.
func (f *File) Info() model.Info {
	w := f.walked()
	info := model.Info{
		Format: model.FormatAIX, Container: model.ContainerPlain, Parts: 1, Files: []string{f.src.Name},
		Arch: f.Arch(), Endian: model.BigEndian, PageSize: PageSize, MaxPFN: f.maxPFN(),
		Compression: []model.Codec{}, Flags: []string{}, FrameKind: "physical", Warnings: f.warnings(),
	}
	first := fmt.Sprintf("%#x", f.start)
	if f.start == 512 {
		first += " (after the 512-byte LVM sector of the dump logical volume)"
	}
	kinds := map[uint32]int{}
	var entries, withData, real int
	for _, c := range w.comps {
		kinds[c.head.Magic]++
		for k := range c.entries {
			a := &c.entries[k]
			entries++
			if a.npages > 0 {
				withData++
			}
			if a.Real {
				real++
			}
		}
	}
	var ks []string
	for _, m := range []uint32{Magic32, MagicVR, Magic64, MagicU32, MagicU64} {
		if n := kinds[m]; n > 0 {
			ks = append(ks, fmt.Sprintf("%s %d", MagicName(m), n))
		}
	}
	info.Details = append(info.Details,
		model.KV{Key: "first table", Value: first},
		model.KV{Key: "components", Value: fmt.Sprintf("%d (%s)", len(w.comps), strings.Join(ks, ", "))},
		model.KV{Key: "entries", Value: fmt.Sprintf("%d (%d with data, %d with real addresses in the page view)", entries, withData, real)},
		model.KV{Key: "dump end", Value: w.describeEnd()},
	)
	return info
}

// describeEnd says how the walk stopped.
func (w *walk) describeEnd() string {
	switch w.end {
	case endMarker:
		return fmt.Sprintf("DMP_MAGIC_END at %#x", w.endOff)
	case endZero:
		return fmt.Sprintf("zero padding from %#x", w.endOff)
	case endEOF:
		return fmt.Sprintf("end of file at %#x, no end marker", w.endOff)
	case endUnknown:
		return fmt.Sprintf("unrecognised magic %#08x at %#x (walk stopped)", w.endMagic, w.endOff)
	case endTruncated:
		return fmt.Sprintf("truncated: the file ends inside an item (at %#x)", w.endOff)
	case endCorrupt:
		return fmt.Sprintf("a damaged table at %#x stopped the walk", w.endOff)
	}
	return fmt.Sprintf("read error at %#x", w.endOff)
}

// Counts counts the frames of the physical view by state, from the area
// bitmaps.
func (f *File) Counts(ctx context.Context) (model.StateCounts, error) {
	return reader.CountsByRuns(ctx, f)
}

// warnings lists what the walk found wrong.
func (f *File) warnings() []model.Problem {
	return append([]model.Problem(nil), f.walked().problems...)
}

// Notes returns nothing: AIX dumps carry no ELF notes.
func (f *File) Notes() ([]model.Note, error) { return nil, nil }

// VMCoreInfo reports that AIX dumps have none.
func (f *File) VMCoreInfo() (*model.VMCoreInfo, error) {
	return nil, fmt.Errorf("%s: AIX dumps carry no VMCOREINFO: %w", f.src.Name, model.ErrNotFound)
}

// Registers returns nothing: CPU state is inside component areas whose
// layout is each component's own.
func (f *File) Registers() ([]model.RegisterSet, error) { return nil, nil }

// ReadFile reads raw bytes of the file, for the layout's hex view.
func (f *File) ReadFile(file string, p []byte, off int64) (int, error) {
	return f.src.R.ReadAt(p, off)
}
