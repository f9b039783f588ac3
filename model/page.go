package model

// PageState says what a dump holds for one frame. The names are part of the
// CLI and JSON contract (design.md §4).
type PageState string

// The page states.
const (
	// StatePresent: the page's data is stored in the dump.
	StatePresent PageState = "present"
	// StateZeroFill: the frame lies inside an ELF PT_LOAD beyond p_filesz;
	// it is defined as zeros but not stored.
	StateZeroFill PageState = "zero_fill"
	// StateExcluded: RAM left out by the dump level (kdump: bitmap 1 set,
	// bitmap 2 clear).
	StateExcluded PageState = "excluded"
	// StateNotInDump: no part of the dump covers the frame (no PT_LOAD,
	// bitmap 1 clear, beyond max_mapnr, a missing split part, a pfn absent
	// from a Xen p2m table, an AIX area page that was not in memory).
	StateNotInDump PageState = "not_in_dump"
	// StateLost: the dump meant to hold the page but does not (descriptor
	// offset 0 in an INCOMPLETE dump, or data beyond the end of a
	// truncated file).
	StateLost PageState = "lost"
	// StateUnreadable: the page is stored but cannot be decoded or located
	// (corrupt descriptor, bad compressed data, unreadable bitmap).
	StateUnreadable PageState = "unreadable"
)

// AllStates lists the states in the order reports show them.
var AllStates = []PageState{StatePresent, StateZeroFill, StateExcluded, StateNotInDump, StateLost, StateUnreadable}

// Readable reports whether the page's bytes are defined: stored data, or
// zeros by definition.
func (s PageState) Readable() bool { return s == StatePresent || s == StateZeroFill }

// PageInfo describes one frame: its state and, for stored pages, how and
// where it is stored.
type PageInfo struct {
	PFN      PFN       `json:"pfn"`
	PhysAddr PhysAddr  `json:"phys_addr"`
	State    PageState `json:"state"`
	// Codec is how the page is stored; empty when nothing is stored.
	Codec Codec `json:"codec"`
	// StoredSize is the number of bytes the page occupies in the file
	// (compressed size for kdump pages); 0 when nothing is stored.
	StoredSize int64 `json:"stored_size"`
	// FileOffset is where the stored bytes start, in File; -1 when nothing
	// is stored.
	FileOffset FileOff `json:"file_offset"`
	// File names the file that holds the page when a dump has several.
	File string `json:"file,omitempty"`
	// ZeroPage is true when a kdump descriptor points at the shared zero
	// page image.
	ZeroPage bool `json:"zero_page,omitempty"`
	// Partial is true when only part of the page is covered by stored data
	// (ELF segments that do not start or end on a page boundary); the rest
	// reads as zeros.
	Partial bool `json:"partial,omitempty"`
	// MFN is the machine frame of a Xen PV guest page.
	MFN *uint64 `json:"mfn,omitempty"`
	// Reason explains a state other than present (which dump level, which
	// structure, what is corrupt).
	Reason string `json:"reason,omitempty"`
	// Code is the verify problem code for a lost or unreadable frame
	// (CodeTruncated, CodeLostPage, CodeBadPageDescriptor).
	Code Code `json:"-"`
}

// PageRun is a run of consecutive frames in the same state.
type PageRun struct {
	Start    PFN       `json:"start"`
	Count    uint64    `json:"count"`
	State    PageState `json:"state"`
	ZeroPage bool      `json:"zero_page,omitempty"`
}

// End returns the first frame after the run.
func (r PageRun) End() PFN { return r.Start + PFN(r.Count) }

// StateCounts counts frames by state.
type StateCounts map[PageState]uint64

// Add adds n frames of state s.
func (c StateCounts) Add(s PageState, n uint64) {
	if n != 0 {
		c[s] += n
	}
}
