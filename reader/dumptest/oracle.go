package dumptest

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"testing"
)

// Oracle is a fixture's oracle JSON (../shared/fixtures/README.md, "Oracle
// JSON"): what libkdumpfile and an independent parser read from the file.
type Oracle struct {
	File                string        `json:"file"`
	Format              string        `json:"format"`
	SHA256              string        `json:"sha256"`
	Size                int64         `json:"size"`
	ZeroPageSHA256      string        `json:"zero_page_sha256"`
	IndependentPageRuns []Run         `json:"independent_page_runs"`
	LibKdumpfile        LibKdumpfile  `json:"libkdumpfile"`
	ELF                 *OracleELF    `json:"elf"`
	Kdump               *OracleKdump  `json:"kdump"`
	Flattened           *OracleFlat   `json:"flattened"`
	PageAgreement       PageAgreement `json:"page_agreement"`
}

// Run is [first_pfn, count, value]: a sha256, "!" plus an error, or "="
// (same as the reference oracle at that pfn).
type Run struct {
	First, Count uint64
	Value        string
}

// UnmarshalJSON reads the three-element array form.
func (r *Run) UnmarshalJSON(b []byte) error {
	var a []json.RawMessage
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	if len(a) != 3 {
		return fmt.Errorf("page run %s: want 3 elements", b)
	}
	if err := json.Unmarshal(a[0], &r.First); err != nil {
		return err
	}
	if err := json.Unmarshal(a[1], &r.Count); err != nil {
		return err
	}
	return json.Unmarshal(a[2], &r.Value)
}

// LibKdumpfile is what python3-libkdumpfile reported (the attributes the
// tests compare; the oracle also gives arch.ptr_size).
type LibKdumpfile struct {
	FileFormat    string            `json:"file.format"`
	ArchName      *string           `json:"arch.name"`
	PageSize      int64             `json:"arch.page_size"`
	CPUNumber     *int              `json:"cpu.number"`
	MaxPFN        uint64            `json:"max_pfn"`
	VMCoreInfoRaw string            `json:"vmcoreinfo_raw"`
	Uts           map[string]string `json:"linux.uts"`
	CPUs          []OracleCPU       `json:"cpus"`
	KvaddrReads   []KvaddrRead      `json:"kvaddr_reads"`
	PhysBase      *int64            `json:"linux.phys_base"`
}

// OracleCPU is one CPU's registers as libkdumpfile names them.
type OracleCPU struct {
	Index int               `json:"index"`
	PID   int64             `json:"pid"`
	Reg   map[string]uint64 `json:"reg"`
}

// KvaddrRead is a read of kernel virtual memory at a VMCOREINFO symbol.
type KvaddrRead struct {
	Symbol  string `json:"symbol"`
	Vaddr   uint64 `json:"vaddr"`
	Len     int    `json:"len"`
	SHA256  string `json:"sha256"`
	HeadHex string `json:"head_hex"`
}

// OracleELF is the independent ELF parser's view: the program headers and
// notes the tests compare (the oracle also gives the ELF header's class,
// machine and e_phoff, and e_phnum with the real count behind PN_XNUM).
type OracleELF struct {
	Phdrs []OraclePhdr `json:"phdrs"`
	Notes []OracleNote `json:"notes"`
}

// OraclePhdr is one program header.
type OraclePhdr struct {
	Type   uint32 `json:"type"`
	Offset uint64 `json:"offset"`
	Vaddr  uint64 `json:"vaddr"`
	Paddr  uint64 `json:"paddr"`
	Filesz uint64 `json:"filesz"`
	Memsz  uint64 `json:"memsz"`
}

// OracleNote is one note, with hand-decoded registers for prstatus.
type OracleNote struct {
	Name       string `json:"name"`
	Type       uint32 `json:"type"`
	Descsz     int    `json:"descsz"`
	DescSHA256 string `json:"desc_sha256"`
	Text       string `json:"text"`
	Prstatus   *struct {
		Layout string            `json:"layout"`
		PID    int64             `json:"pr_pid"`
		Regs   map[string]uint64 `json:"regs"`
	} `json:"prstatus"`
}

// OracleKdump is the independent kdump parser's view.
type OracleKdump struct {
	Signature     string            `json:"signature"`
	HeaderVersion int               `json:"header_version"`
	Layout        string            `json:"layout"`
	BlockSize     int64             `json:"block_size"`
	NrCPUs        int               `json:"nr_cpus"`
	Status        uint32            `json:"status"`
	StatusNames   []string          `json:"status_names"`
	MaxMapnr      uint64            `json:"max_mapnr"`
	SubHeader     map[string]int64  `json:"sub_header"`
	Utsname       map[string]string `json:"utsname"`
	Notes         []OracleNote      `json:"notes"`
	VMCoreInfo    string            `json:"vmcoreinfo_text"`
	Bitmap        struct {
		Bitmap1Runs        [][2]uint64 `json:"bitmap1_runs"`
		Bitmap2RunsInRange [][2]uint64 `json:"bitmap2_runs_in_range"`
		Range              [2]uint64   `json:"range"`
		EffectiveMaxMapnr  uint64      `json:"effective_max_mapnr"`
	} `json:"bitmap"`
	PageDescs struct {
		Count          int            `json:"count"`
		FlagsHistogram map[string]int `json:"flags_histogram"`
		SharedOffsets  []struct {
			Descs  int   `json:"descs"`
			Offset int64 `json:"offset"`
		} `json:"shared_offsets"`
	} `json:"page_descs"`
}

// OracleFlat is the flattened-stream parser's view.
type OracleFlat struct {
	Records             int    `json:"records"`
	EndMarker           bool   `json:"end_marker"`
	DataBytes           int64  `json:"data_bytes"`
	ReassembledSize     int64  `json:"reassembled_size"`
	MakedumpfileRSHA256 string `json:"makedumpfile_R_sha256"`
}

// PageAgreement says where libkdumpfile and the independent parser agree.
type PageAgreement struct {
	Same                       int `json:"same"`
	Different                  int `json:"different"`
	ReadableOnlyByLibkdumpfile int `json:"readable_only_by_libkdumpfile"`
}

// LoadOracle reads the oracle of a fixture ("x86_64/qemu-elf-mini.vmcore").
func LoadOracle(t testing.TB, name string) *Oracle {
	t.Helper()
	var o Oracle
	ReadJSON(t, name+".oracle.json", &o)
	return &o
}

// Arch returns libkdumpfile's architecture name in the contract's
// spelling (libkdumpfile says "ia32" for i386).
func (o *Oracle) Arch() string {
	if o.LibKdumpfile.ArchName == nil {
		return ""
	}
	if *o.LibKdumpfile.ArchName == "ia32" {
		return "i386"
	}
	return *o.LibKdumpfile.ArchName
}

// Expected is what the oracle says about one frame.
type Expected struct {
	State  string // a model.PageState name
	SHA256 string // for present pages
}

// Expectation answers "what state and bytes does pfn have" following the
// fixture README's rules ("Reading the oracle: the state and bytes of a
// pfn").
type Expectation struct {
	present []Run // sorted, values resolved to sha256
	absent  func(pfn uint64) string
	// Max is the end of the frame range the oracle covers.
	Max uint64
}

// Expect builds the expectation for the oracle of fixture name; it loads
// the reference oracle of the same folder to resolve "=".
func Expect(t testing.TB, name string, o *Oracle) *Expectation {
	t.Helper()
	ref := LoadOracle(t, path.Join(path.Dir(name), "qemu-elf-ram.vmcore"))
	refAt := func(pfn uint64) string {
		i := sort.Search(len(ref.IndependentPageRuns), func(i int) bool {
			r := ref.IndependentPageRuns[i]
			return r.First+r.Count > pfn
		})
		if i < len(ref.IndependentPageRuns) && ref.IndependentPageRuns[i].First <= pfn {
			return ref.IndependentPageRuns[i].Value
		}
		t.Fatalf("reference oracle has no page %#x", pfn)
		return ""
	}
	e := &Expectation{Max: o.LibKdumpfile.MaxPFN}
	for _, r := range o.IndependentPageRuns {
		if r.Value == "=" {
			// Resolve page by page: the reference's runs differ.
			for p := r.First; p < r.First+r.Count; p++ {
				e.present = append(e.present, Run{p, 1, refAt(p)})
			}
			continue
		}
		if len(r.Value) == 0 || r.Value[0] == '!' {
			continue
		}
		e.present = append(e.present, r)
	}
	switch {
	case o.Kdump != nil:
		bm := o.Kdump.Bitmap
		lo, hi := bm.Range[0], bm.Range[1]
		e.Max = max(e.Max, bm.EffectiveMaxMapnr)
		e.absent = func(pfn uint64) string {
			switch {
			case pfn < lo || pfn >= hi:
				return "not_in_dump"
			case inRuns(bm.Bitmap1Runs, pfn) && !inRuns(bm.Bitmap2RunsInRange, pfn):
				return "excluded"
			case !inRuns(bm.Bitmap1Runs, pfn):
				return "not_in_dump"
			}
			return "present?" // in both bitmaps but not decoded independently
		}
	case o.ELF != nil:
		e.absent = func(pfn uint64) string {
			for _, p := range o.ELF.Phdrs {
				if p.Type != 1 || p.Filesz >= p.Memsz {
					continue
				}
				if a := pfn * 4096; a >= p.Paddr+p.Filesz && a < p.Paddr+p.Memsz {
					return "zero_fill"
				}
			}
			return "not_in_dump"
		}
	default:
		e.absent = func(uint64) string { return "not_in_dump" }
	}
	return e
}

func inRuns(runs [][2]uint64, pfn uint64) bool {
	i := sort.Search(len(runs), func(i int) bool { return runs[i][0]+runs[i][1] > pfn })
	return i < len(runs) && runs[i][0] <= pfn
}

// At returns what the oracle says about pfn.
func (e *Expectation) At(pfn uint64) Expected {
	i := sort.Search(len(e.present), func(i int) bool { return e.present[i].First+e.present[i].Count > pfn })
	if i < len(e.present) && e.present[i].First <= pfn {
		return Expected{State: "present", SHA256: e.present[i].Value}
	}
	return Expected{State: e.absent(pfn)}
}
