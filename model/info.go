package model

import "encoding/json"

// Info is what `dumpscope info` reports: the facts the fixed headers and
// notes give, never page data.
type Info struct {
	// Signature is the crash signature, when the `info` command analysed
	// the crash and something crashed; it leads the JSON so that a fleet
	// reads it first. Dump.Info does not fill it.
	Signature *CrashSignature `json:"signature,omitempty"`
	Format    Format          `json:"format"`
	Container Container       `json:"container"`
	Parts     int             `json:"parts"`
	Files     []string        `json:"files"`
	Arch      string          `json:"arch"`
	Endian    Endian          `json:"endian"`
	PageSize  int64           `json:"page_size"`
	// MaxPFN is one past the highest frame the dump describes.
	MaxPFN PFN `json:"max_pfn"`
	CPUs   int `json:"cpus"`
	// HeaderVersion is the format's header version (kdump header_version,
	// ELF e_version, Xen format version); nil when the format has none.
	HeaderVersion *int64 `json:"header_version"`
	// Compression lists the codecs the header announces.
	Compression []Codec `json:"compression"`
	// Flags are the header's status flags by name.
	Flags      []string `json:"flags"`
	VMCoreInfo bool     `json:"vmcoreinfo"`
	// VMCoreInfoFrom names where the VMCOREINFO in use came from when it
	// is not the dump's note: "file F" (--vmcoreinfo) or "memory at
	// 0x…" (recovered); empty otherwise.
	VMCoreInfoFrom string `json:"vmcoreinfo_from,omitempty"`
	OSRelease      string `json:"osrelease"`
	// CrashTime is the crash time in seconds since the epoch, when known.
	CrashTime *int64 `json:"crash_time"`
	BuildID   string `json:"build_id"`
	// Pages counts frames by the states the headers alone give.
	Pages StateCounts `json:"pages"`
	// FrameKind says what --pfn addresses: "physical", "guest-pseudo-physical"
	// (Xen with a p2m table) or "machine" (legacy Xen cores).
	FrameKind string    `json:"frame_kind"`
	Warnings  []Problem `json:"warnings"`
	// Details are format-specific facts for the text view, in order.
	Details []KV `json:"details,omitempty"`
	// Crash is the crash analysis (why and where the kernel crashed, from
	// its log and memory), when the kernel's structures can be found; the
	// `info` command fills it, Dump.Info does not.
	Crash *CrashAnalysis `json:"crash,omitempty"`
}

// KV is a label and a value for text views.
type KV struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// MarshalJSON writes empty lists as [] rather than null, so scripts can
// iterate over them without checks.
func (in Info) MarshalJSON() ([]byte, error) {
	type plain Info
	p := plain(in)
	if p.Files == nil {
		p.Files = []string{}
	}
	if p.Compression == nil {
		p.Compression = []Codec{}
	}
	if p.Flags == nil {
		p.Flags = []string{}
	}
	if p.Warnings == nil {
		p.Warnings = []Problem{}
	}
	if p.Pages == nil {
		p.Pages = StateCounts{}
	}
	return json.Marshal(p)
}
