package model

import "fmt"

// Code is a stable problem code: a kebab-case word that scripts match on
// (README "Problem codes"). Codes are values of this package only — the
// type has no exported field, so a typo elsewhere cannot make a new code;
// the zero Code means "no code". A test checks that this list and the
// README's table agree.
type Code struct{ name string }

// String returns the code's word.
func (c Code) String() string { return c.name }

// IsZero reports whether c is the zero Code (no code).
func (c Code) IsZero() bool { return c.name == "" }

// MarshalText writes the code's word.
func (c Code) MarshalText() ([]byte, error) { return []byte(c.name), nil }

// UnmarshalText reads a code's word; unknown words are an error.
func (c *Code) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*c = Code{}
		return nil
	}
	for _, k := range AllCodes {
		if k.name == string(b) {
			*c = k
			return nil
		}
	}
	return fmt.Errorf("unknown problem code %q", b)
}

// The codes, in the README's order.
var (
	// CodeTruncated (error): the file ends inside a structure, or before page data its headers
	// place in it (ELF PT_LOAD, kdump bitmaps, descriptors or pages, notes, Xen sections, AIX
	// areas, flattened records)
	CodeTruncated = Code{"truncated"}
	// CodeIncomplete (error): the header says the writer could not finish (kdump
	// DUMP_DH_COMPRESSED_INCOMPLETE, ELF DUMP_ELF_INCOMPLETE)
	CodeIncomplete = Code{"incomplete"}
	// CodeLostPage (error): frames the dump meant to hold but does not (descriptor offset 0 in an
	// incomplete dump)
	CodeLostPage = Code{"lost-page"}
	// CodeBadCompressedPage (error): a stored page does not decode to exactly one page (corrupt
	// stream, bad zlib checksum, strict snappy, zstd over one page)
	CodeBadCompressedPage = Code{"bad-compressed-page"}
	// CodeBadPageDescriptor (error, warning, note): a kdump page_desc with impossible values (size
	// 0 or over a block, raw size not a block, offset before the page data or past the end of an
	// otherwise complete file); several or unannounced codecs (warning); reserved bits set (note)
	CodeBadPageDescriptor = Code{"bad-page-descriptor"}
	// CodeUnreadablePage (error): a page that cannot be read for another reason (the message says why)
	CodeUnreadablePage = Code{"unreadable-page"}
	// CodeBadHeader (error, warning): kdump header fields that contradict each other or the file
	// (bitmap too small for max_mapnr, max_mapnr vs max_mapnr_64, sub-header pointers outside the
	// sub-header area)
	CodeBadHeader = Code{"bad-header"}
	// CodeBadSubHeader (error, warning): kdump header fields that contradict each other or the
	// file (bitmap too small for max_mapnr, max_mapnr vs max_mapnr_64, sub-header pointers outside
	// the sub-header area)
	CodeBadSubHeader = Code{"bad-sub-header"}
	// CodeUnknownHeaderVersion (warning): kdump header_version above 6, read as 6
	CodeUnknownHeaderVersion = Code{"unknown-header-version"}
	// CodeBitmapMismatch (error): a pfn stored (bitmap 2) but not RAM (bitmap 1), or fewer
	// descriptors than bitmap 2 counts
	CodeBitmapMismatch = Code{"bitmap-mismatch"}
	// CodeSingleBitmap (note): an old diskdump file with one bitmap
	CodeSingleBitmap = Code{"single-bitmap"}
	// CodeZeroPage (note): the first page image is not zero although zero pages are excluded
	CodeZeroPage = Code{"zero-page"}
	// CodeMissingSplitPart (warning): the split parts given do not cover every pfn; those frames
	// are not_in_dump
	CodeMissingSplitPart = Code{"missing-split-part"}
	// CodeSplitMismatch (warning): split parts whose VMCOREINFO differs
	CodeSplitMismatch = Code{"split-mismatch"}
	// CodeStreamCoverage (error): no record of a flattened stream writes part of a kdump structure
	CodeStreamCoverage = Code{"stream-coverage"}
	// CodeMissingEndMarker (error (flattened), warning or note (AIX)): the flattened stream or AIX
	// dump ends without its end marker
	CodeMissingEndMarker = Code{"missing-end-marker"}
	// CodeBadFlatRecord (error): a flattened record with a negative offset, a size ≤ 0 or an
	// overflowing range
	CodeBadFlatRecord = Code{"bad-flat-record"}
	// CodeTrailingData (warning): bytes after a flattened stream's end marker
	CodeTrailingData = Code{"trailing-data"}
	// CodeUnknownFlatVersion (warning): flattened header version other than 1
	CodeUnknownFlatVersion = Code{"unknown-flat-version"}
	// CodeBadProgramHeader (error, warning): ELF headers that are inconsistent (p_filesz >
	// p_memsz, overflowing ranges, wrong entry sizes)
	CodeBadProgramHeader = Code{"bad-program-header"}
	// CodeBadSectionHeader (error, warning): ELF headers that are inconsistent (p_filesz >
	// p_memsz, overflowing ranges, wrong entry sizes)
	CodeBadSectionHeader = Code{"bad-section-header"}
	// CodeBadELFHeader (error, warning): ELF headers that are inconsistent (p_filesz > p_memsz,
	// overflowing ranges, wrong entry sizes)
	CodeBadELFHeader = Code{"bad-elf-header"}
	// CodeNoProgramHeaders (warning, error): an ELF core with no program headers or no PT_LOAD
	CodeNoProgramHeaders = Code{"no-program-headers"}
	// CodeNoMemory (warning, error): an ELF core with no program headers or no PT_LOAD
	CodeNoMemory = Code{"no-memory"}
	// CodeNoPhysicalAddresses (warning): every PT_LOAD has p_paddr 0: physical addresses are unknown
	CodeNoPhysicalAddresses = Code{"no-physical-addresses"}
	// CodeBadNote (error): a note whose sizes run past its segment or section, or whose descriptor
	// cannot be decoded
	CodeBadNote = Code{"bad-note"}
	// CodeCPUCountMismatch (warning): fewer CPU states than CPUs, none at all, or all-zero
	// registers (offline CPUs)
	CodeCPUCountMismatch = Code{"cpu-count-mismatch"}
	// CodeNoCPUState (warning): fewer CPU states than CPUs, none at all, or all-zero registers
	// (offline CPUs)
	CodeNoCPUState = Code{"no-cpu-state"}
	// CodeEmptyCPUState (warning): fewer CPU states than CPUs, none at all, or all-zero registers
	// (offline CPUs)
	CodeEmptyCPUState = Code{"empty-cpu-state"}
	// CodeNoVMCoreInfo (warning and note; error with verify --ready when none is recovered): no
	// VMCOREINFO: debuggers cannot find symbols; crash --log, drgn and makedumpfile filtering fail
	CodeNoVMCoreInfo = Code{"no-vmcoreinfo"}
	// CodeVMCoreInfoMissingKey (warning): a key the architecture's kernel exports is missing
	// (OSRELEASE, PAGESIZE, x86_64 NUMBER(phys_base) and KERNELOFFSET, BUILD-ID from Linux 5.9)
	CodeVMCoreInfoMissingKey = Code{"vmcoreinfo-missing-key"}
	// CodeVMCoreInfoMismatch (error, warning): PAGESIZE differs from the dump's page size;
	// offset_vmcoreinfo points at other text than the VMCOREINFO note
	CodeVMCoreInfoMismatch = Code{"vmcoreinfo-mismatch"}
	// CodePartialMemory (error, with verify --ready): the memory the dump means to hold is not all
	// there: a part of a split set not given, a partial ELF (QEMU dump-guest-memory begin/length),
	// a truncated or incomplete file, the kernel text or RAM up to max_pfn missing
	CodePartialMemory = Code{"partial-memory"}
	// CodeNoKernelLog (error, with verify --ready): the kernel log (printk ring buffer) cannot be
	// read; the message names the missing frame and what left it out
	CodeNoKernelLog = Code{"no-kernel-log"}
	// CodeNoKallsyms (error, with verify --ready): kallsyms cannot be read
	CodeNoKallsyms = Code{"no-kallsyms"}
	// CodeNoPageTables (error, with verify --ready): the kernel's page tables cannot be walked
	CodeNoPageTables = Code{"no-page-tables"}
	// CodeNoCrashRegisters (error, with verify --ready): the crashing CPU (every CPU when none
	// crashed) has no saved registers
	CodeNoCrashRegisters = Code{"no-crash-registers"}
	// CodeNoKernelStacks (warning, with verify --ready): the crashing CPU's kernel stack or the ORC
	// unwind tables are not in the dump
	CodeNoKernelStacks = Code{"no-kernel-stacks"}
	// CodeNoBTF (warning, with verify --ready): the kernel's BTF is not in the dump, or the kernel
	// has none: no task list, no typed structures
	CodeNoBTF = Code{"no-btf"}
	// CodeNoTaskList (warning, with verify --ready): the task list cannot be read
	CodeNoTaskList = Code{"no-task-list"}
	// CodeVMCoreInfoRecovered (note, with verify --ready): the dump has no VMCOREINFO note; the one
	// in use was recovered from memory or given with --vmcoreinfo
	CodeVMCoreInfoRecovered = Code{"vmcoreinfo-recovered"}
	// CodeManifestMismatch (error): --against-manifest: a page differs from the manifest, or a
	// manifest page is not present
	CodeManifestMismatch = Code{"manifest-mismatch"}
	// CodeManifestMissingPage (error): --against-manifest: a page differs from the manifest, or a
	// manifest page is not present
	CodeManifestMissingPage = Code{"manifest-missing-page"}
	// CodeManifestExtraPage (warning): a present page the manifest does not list
	CodeManifestExtraPage = Code{"manifest-extra-page"}
	// CodeFlattened (note): a flattened stream: older crash, libkdumpfile and drgn need
	// makedumpfile -R (or dumpscope rearrange) first
	CodeFlattened = Code{"flattened"}
	// CodeCodecSupport (note): snappy or zstd pages, which common crash and makedumpfile builds
	// cannot read
	CodeCodecSupport = Code{"codec-support"}
	// CodeQEMUELFLayout (note): QEMU's ELF layout: program headers not after the ELF header
	// (makedumpfile 1.7.2 rejects the file), e_ehsize 8
	CodeQEMUELFLayout = Code{"qemu-elf-layout"}
	// CodeNoVirtualAddresses (note): PT_LOADs with p_vaddr 0, or no PT_LOAD mapping the kernel
	// text: vmcore-dmesg fails
	CodeNoVirtualAddresses = Code{"no-virtual-addresses"}
	// CodeNoArchName (note): the kdump header names no architecture (utsname.machine)
	CodeNoArchName = Code{"no-arch-name"}
	// CodeQEMUKdump (note): a kdump file whose utsname holds only machine, as QEMU writes it:
	// libkdumpfile 0.5.1 reports neither architecture nor registers
	CodeQEMUKdump = Code{"qemu-kdump"}
	// CodeBadXenHeader (error (warning)): Xen dump-core header note and sections that disagree
	// (nr_pages vs section sizes, a page size not a power of two, a required section missing)
	CodeBadXenHeader = Code{"bad-xen-header"}
	// CodeBadPageSize (error (warning)): Xen dump-core header note and sections that disagree
	// (nr_pages vs section sizes, a page size not a power of two, a required section missing)
	CodeBadPageSize = Code{"bad-page-size"}
	// CodeMissingSection (error (warning)): Xen dump-core header note and sections that disagree
	// (nr_pages vs section sizes, a page size not a power of two, a required section missing)
	CodeMissingSection = Code{"missing-section"}
	// CodeSectionSizeMismatch (error (warning)): Xen dump-core header note and sections that
	// disagree (nr_pages vs section sizes, a page size not a power of two, a required section
	// missing)
	CodeSectionSizeMismatch = Code{"section-size-mismatch"}
	// CodeFormatVersion (warning): Xen dump-core format version other than 0.1
	CodeFormatVersion = Code{"format-version"}
	// CodeUnknownMachine (warning): a Xen core for an architecture whose vCPU contexts are not decoded
	CodeUnknownMachine = Code{"unknown-machine"}
	// CodeBadVCPUContext (error): a Xen .xen_prstatus record size that fits no context layout
	CodeBadVCPUContext = Code{"bad-vcpu-context"}
	// CodeIA64SectionOrder (note): ia64 libxc wrote shared info before the mapped registers
	// although the section headers say otherwise
	CodeIA64SectionOrder = Code{"ia64-section-order"}
	// CodeUnsortedP2M (error): Xen .xen_p2m/.xen_pfn tables out of order, with repeated frames, or
	// with entries beyond nr_pages
	CodeUnsortedP2M = Code{"unsorted-p2m"}
	// CodeDuplicatePFN (error): Xen .xen_p2m/.xen_pfn tables out of order, with repeated frames,
	// or with entries beyond nr_pages
	CodeDuplicatePFN = Code{"duplicate-pfn"}
	// CodeDuplicateMFN (error): Xen .xen_p2m/.xen_pfn tables out of order, with repeated frames,
	// or with entries beyond nr_pages
	CodeDuplicateMFN = Code{"duplicate-mfn"}
	// CodeBadP2MEntry (error): Xen .xen_p2m/.xen_pfn tables out of order, with repeated frames, or
	// with entries beyond nr_pages
	CodeBadP2MEntry = Code{"bad-p2m-entry"}
	// CodeInvalidEntries (warning and note): a Xen live dump ending in invalid (~0) entries
	CodeInvalidEntries = Code{"invalid-entries"}
	// CodeBadLegacyHeader (error, warning): a legacy Xen core header whose offsets or counts do
	// not fit the file
	CodeBadLegacyHeader = Code{"bad-legacy-header"}
	// CodeBadCDTLen (error): AIX component dump tables with impossible lengths or entry counts, or
	// areas whose address range wraps
	CodeBadCDTLen = Code{"bad-cdt-len"}
	// CodeTooManyEntries (error): AIX component dump tables with impossible lengths or entry
	// counts, or areas whose address range wraps
	CodeTooManyEntries = Code{"too-many-entries"}
	// CodeBadEntry (error): AIX component dump tables with impossible lengths or entry counts, or
	// areas whose address range wraps
	CodeBadEntry = Code{"bad-entry"}
	// CodeUnknownMagic (error): AIX walk stopped at an unknown table magic, or found an entry
	// magic where a table should start
	CodeUnknownMagic = Code{"unknown-magic"}
	// CodeOutOfSync (error): AIX walk stopped at an unknown table magic, or found an entry magic
	// where a table should start
	CodeOutOfSync = Code{"out-of-sync"}
	// CodeReadError (error): an AIX structure that could not be read
	CodeReadError = Code{"read-error"}
	// CodeBadBitmap (warning): an AIX area bitmap with bits set beyond the area's pages
	CodeBadBitmap = Code{"bad-bitmap"}
	// CodeSegmentClipped (note): AIX facts worth knowing: an area clipped at its 256 MiB segment,
	// real-address areas that overlap, unlimited tables' counts, bytes after the end marker, no
	// real-address area to build a physical view from
	CodeSegmentClipped = Code{"segment-clipped"}
	// CodeOverlappingRealAreas (note): AIX facts worth knowing: an area clipped at its 256 MiB
	// segment, real-address areas that overlap, unlimited tables' counts, bytes after the end
	// marker, no real-address area to build a physical view from
	CodeOverlappingRealAreas = Code{"overlapping-real-areas"}
	// CodeUnlimitedNentries (note): AIX facts worth knowing: an area clipped at its 256 MiB
	// segment, real-address areas that overlap, unlimited tables' counts, bytes after the end
	// marker, no real-address area to build a physical view from
	CodeUnlimitedNentries = Code{"unlimited-nentries"}
	// CodeDataAfterEnd (note): AIX facts worth knowing: an area clipped at its 256 MiB segment,
	// real-address areas that overlap, unlimited tables' counts, bytes after the end marker, no
	// real-address area to build a physical view from
	CodeDataAfterEnd = Code{"data-after-end"}
	// CodeNoPhysicalView (note): AIX facts worth knowing: an area clipped at its 256 MiB segment,
	// real-address areas that overlap, unlimited tables' counts, bytes after the end marker, no
	// real-address area to build a physical view from
	CodeNoPhysicalView = Code{"no-physical-view"}
)

// AllCodes lists every code, in the README's order.
var AllCodes = []Code{
	CodeTruncated,
	CodeIncomplete,
	CodeLostPage,
	CodeBadCompressedPage,
	CodeBadPageDescriptor,
	CodeUnreadablePage,
	CodeBadHeader,
	CodeBadSubHeader,
	CodeUnknownHeaderVersion,
	CodeBitmapMismatch,
	CodeSingleBitmap,
	CodeZeroPage,
	CodeMissingSplitPart,
	CodeSplitMismatch,
	CodeStreamCoverage,
	CodeMissingEndMarker,
	CodeBadFlatRecord,
	CodeTrailingData,
	CodeUnknownFlatVersion,
	CodeBadProgramHeader,
	CodeBadSectionHeader,
	CodeBadELFHeader,
	CodeNoProgramHeaders,
	CodeNoMemory,
	CodeNoPhysicalAddresses,
	CodeBadNote,
	CodeCPUCountMismatch,
	CodeNoCPUState,
	CodeEmptyCPUState,
	CodeNoVMCoreInfo,
	CodeVMCoreInfoMissingKey,
	CodeVMCoreInfoMismatch,
	CodePartialMemory,
	CodeNoKernelLog,
	CodeNoKallsyms,
	CodeNoPageTables,
	CodeNoCrashRegisters,
	CodeNoKernelStacks,
	CodeNoBTF,
	CodeNoTaskList,
	CodeVMCoreInfoRecovered,
	CodeManifestMismatch,
	CodeManifestMissingPage,
	CodeManifestExtraPage,
	CodeFlattened,
	CodeCodecSupport,
	CodeQEMUELFLayout,
	CodeNoVirtualAddresses,
	CodeNoArchName,
	CodeQEMUKdump,
	CodeBadXenHeader,
	CodeBadPageSize,
	CodeMissingSection,
	CodeSectionSizeMismatch,
	CodeFormatVersion,
	CodeUnknownMachine,
	CodeBadVCPUContext,
	CodeIA64SectionOrder,
	CodeUnsortedP2M,
	CodeDuplicatePFN,
	CodeDuplicateMFN,
	CodeBadP2MEntry,
	CodeInvalidEntries,
	CodeBadLegacyHeader,
	CodeBadCDTLen,
	CodeTooManyEntries,
	CodeBadEntry,
	CodeUnknownMagic,
	CodeOutOfSync,
	CodeReadError,
	CodeBadBitmap,
	CodeSegmentClipped,
	CodeOverlappingRealAreas,
	CodeUnlimitedNentries,
	CodeDataAfterEnd,
	CodeNoPhysicalView,
}
