package xencore

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"

	"dumpscope/model"
	"dumpscope/reader"
)

// Frame kinds reported in Info.FrameKind.
const (
	FrameGuest   = "guest-pseudo-physical" // .xen_p2m / .xen_pfn dumps
	FrameMachine = "machine"               // legacy cores
)

// Notes returns the .note.Xen notes (none for legacy cores).
func (f *File) Notes() ([]model.Note, error) { return f.notes, nil }

// VMCoreInfo always fails: dump-cores are taken by the tools from outside
// the guest and carry no VMCOREINFO.
func (f *File) VMCoreInfo() (*model.VMCoreInfo, error) {
	return nil, fmt.Errorf("%s: Xen dump-cores carry no VMCOREINFO: %w", f.src.Name, model.ErrNotFound)
}

// warnings returns what was found wrong while opening: headers, notes and
// section sizes. The frame table and the contexts are checked by Check.
func (f *File) warnings() []model.Problem { return append([]model.Problem(nil), f.problems...) }

// ReadFile reads raw bytes of the file, for the layout's hex view.
func (f *File) ReadFile(file string, p []byte, off int64) (int, error) { return f.src.R.ReadAt(p, off) }

// Close closes the underlying reader if it can be closed.
func (f *File) Close() error { return reader.Close(f.src.R) }

// Arch returns the architecture of the guest.
func (f *File) Arch() string { return f.archName }

// HVM reports whether the domain is fully virtualized.
func (f *File) HVM() bool { return f.hvm }

// Info reports what the headers, the notes and the ends of the frame
// table say. It reads O(log nr_pages) table entries and no page data.
func (f *File) Info() model.Info {
	info := model.Info{
		Format: model.FormatXenCore, Container: model.ContainerPlain, Parts: 1, Files: []string{f.src.Name},
		Arch: f.archName, Endian: model.LittleEndian, PageSize: f.pageSize, MaxPFN: f.maxPFN(),
		CPUs: int(max(f.Header.NrVCPUs, uint64(f.ctx.n))), Compression: []model.Codec{}, Flags: []string{},
		FrameKind: FrameGuest, Warnings: f.warnings(),
	}
	if f.Data == elf.ELFDATA2MSB {
		info.Endian = model.BigEndian
	}
	switch f.Header.Magic {
	case MagicPV:
		info.Flags = append(info.Flags, "XC_CORE_MAGIC")
	case MagicHVM:
		info.Flags = append(info.Flags, "XC_CORE_MAGIC_HVM")
	}
	if f.Legacy != nil {
		info.Format, info.FrameKind = model.FormatXenCoreLegacy, FrameMachine
		info.Endian = endianOf(f)
	} else if f.FormatVersion != nil {
		v := int64(*f.FormatVersion)
		info.HeaderVersion = &v
	}
	info.Details = f.details(f.validEntries())
	return info
}

// Counts counts frames from the ends of the frame table and the size of
// the page area: O(log nr_pages) table entries, no page data.
func (f *File) Counts(ctx context.Context) (model.StateCounts, error) {
	c := model.StateCounts{}
	valid := f.validEntries()
	avail := f.availPages()
	c.Add(model.StatePresent, uint64(min(valid, avail)))
	c.Add(model.StateLost, uint64(max(0, min(valid, f.pagesCap)-avail)))
	c.Add(model.StateUnreadable, uint64(max(0, valid-f.pagesCap)))
	if lim := uint64(f.maxPFN()); lim > uint64(valid) {
		c.Add(model.StateNotInDump, lim-uint64(valid))
	}
	return c, ctx.Err()
}

// validEntries is the number of table entries that name a frame, from the
// ends of the table.
func (f *File) validEntries() int64 {
	if s := f.table.sortedIndex(); s != nil {
		return int64(len(s.keys))
	}
	n, _, _ := f.table.valid()
	return n
}

func endianOf(f *File) model.Endian {
	if f.order == binary.ByteOrder(binary.BigEndian) {
		return model.BigEndian
	}
	return model.LittleEndian
}

// details are the format's facts for the text view of info.
func (f *File) details(valid int64) []model.KV {
	var d []model.KV
	add := func(k, format string, args ...any) {
		d = append(d, model.KV{Key: k, Value: fmt.Sprintf(format, args...)})
	}
	add("domain", "%s (xch_magic %#x)", domainKind(f.hvm), f.Header.Magic)
	if f.Legacy != nil {
		add("frame numbers", "--pfn addresses machine frames: a legacy core records only mfns")
		add("vCPU contexts", "%d of %d bytes at %#x", f.ctx.n, f.ctx.rec, f.ctx.off)
		add("frame index", "%d entries of %d bytes at %#x (machine frames, in the hypervisor's order)", f.table.n, f.table.ent, f.table.off)
		add("page area", "%d pages at %#x", f.pagesCap, f.pagesOff)
		return d
	}
	add("machine", "%v (guest %s)", f.Machine, f.archName)
	if f.table.kind == kindP2M {
		add("frame numbers", "--pfn addresses guest pseudo-physical frames; the machine frame is shown as mfn")
	} else {
		add("frame numbers", "--pfn addresses guest physical frames")
	}
	add("vCPUs", "%d (%s: %d records of %d bytes)", f.Header.NrVCPUs, SecPrstatus, f.ctx.n, f.ctx.rec)
	add("page area", "%d pages in %s at %#x; %d named by %s (%d entries)", f.Header.NrPages, SecPages, f.pagesOff, valid, f.table.name, f.table.n)
	if f.table.n > valid {
		add("invalid entries", "%d trailing entries of all ones (live dump of a shrinking domain)", f.table.n-valid)
	}
	if f.FormatVersion != nil {
		add("format version", "%s", formatVersion(*f.FormatVersion))
	}
	if v := f.Version; v != nil {
		add("Xen version", "%d.%d%s", v.Major, v.Minor, reader.Printable(v.Extra))
		add("Xen changeset", "%s", reader.Printable(v.Changeset))
		add("Xen compiled", "%s by %s@%s on %s", reader.Printable(v.Compiler), reader.Printable(v.CompileBy), reader.Printable(v.CompileDomain), reader.Printable(v.CompileDate))
		add("Xen capabilities", "%s", reader.Printable(v.Capabilities))
		add("Xen page size", "%d, virt_start %#x", v.PageSize, v.VirtStart)
	}
	var names []string
	for i, s := range f.Sections {
		if i > 0 {
			names = append(names, s.Name)
		}
	}
	add("sections", "%s", strings.Join(names, " "))
	return d
}
