package xencore_test

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// kdumpScript reads a Xen dump-core with libkdumpfile's Python binding
// and prints, as JSON, its max_pfn and vCPU count, the sha256 of every
// frame it can read in the guest physical address space (KDUMP_KPHYSADDR:
// libkdumpfile maps pfns through .xen_p2m / .xen_pfn), the sha256 of the
// machine frames given on the command line (KDUMP_MACHPHYSADDR: through
// the gmfn column of .xen_p2m for PV domains, the identity for HVM), and a
// few registers of every vCPU.
const kdumpScript = `
import sys, json, hashlib, kdumpfile
from kdumpfile.exceptions import NoDataException
k = kdumpfile.kdumpfile(sys.argv[1])
ps = k.attr['arch.page_size']
out = {"max_pfn": k.attr['max_pfn'], "cpus": k.attr['cpu.number'], "page_size": ps, "pages": {}, "mfns": {}, "regs": []}
def read(space, frame):
    try:
        return hashlib.sha256(k.read(space, frame * ps, ps)).hexdigest()
    except NoDataException:
        return None
for pfn in range(out["max_pfn"] + 64):
    h = read(kdumpfile.KDUMP_KPHYSADDR, pfn)
    if h is not None:
        out["pages"][str(pfn)] = h
for mfn in json.loads(sys.argv[2]):
    out["mfns"][str(mfn)] = read(kdumpfile.KDUMP_MACHPHYSADDR, mfn)
for cpu in range(out["cpus"]):
    out["regs"].append({n: k.attr["cpu.%d.reg.%s" % (cpu, n)] for n in ("rip", "rsp", "rflags", "rax", "cr0", "cr3", "cs", "ss")})
print(json.dumps(out))
`

// kdumpPython returns a python3 that can import kdumpfile, or skips.
func kdumpPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import kdumpfile").Run() == nil {
			return py
		}
	}
	t.Skip("python3-libkdumpfile is not installed (neither python3 nor /usr/bin/python3 can import kdumpfile): skipping the libkdumpfile differential test")
	return ""
}

type kdumpResult struct {
	MaxPFN   uint64                       `json:"max_pfn"`
	CPUs     int                          `json:"cpus"`
	PageSize int64                        `json:"page_size"`
	Pages    map[string]string            `json:"pages"`
	MFNs     map[string]*string           `json:"mfns"`
	Regs     []map[string]json.RawMessage `json:"regs"`
}

// TestLibkdumpfile has libkdumpfile read writer-made x86_64 PV and HVM
// dumps and checks that it agrees with dumpscope on every frame, on the
// machine frames of PV pages, and on the registers.
func TestLibkdumpfile(t *testing.T) {
	py := kdumpPython(t)
	dir := t.TempDir()
	for _, hvm := range []bool{false, true} {
		name := map[bool]string{false: "pv", true: "hvm"}[hvm]
		t.Run(name, func(t *testing.T) {
			pages := dumptest.SortedXenPages(0, 1500, hole, func(pfn uint64) uint64 { return 0x300000 - pfn*5 })
			if !hvm {
				// A frame far above the rest, as ballooned guests have.
				pages = append(pages, dumptest.XenPage{PFN: 0x3ffff, GMFN: 0x42})
			}
			core := dumptest.XenCore{Machine: elf.EM_X86_64, HVM: hvm, Pages: pages, Version: sampleVersion,
				VCPUs: [][]byte{x86Regs(0, true).Context64(le), x86Regs(1, true).Context64(le), x86Regs(2, true).Context64(le)}}
			b, _ := core.Bytes()
			path := filepath.Join(dir, name+".core")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			f := open(t, b)
			var mfns []uint64
			for _, p := range pages {
				mfns = append(mfns, p.GMFN)
			}
			if hvm {
				mfns = []uint64{0, 5, 0x9f, 0xa0}
			}
			arg, _ := json.Marshal(mfns)
			out, err := exec.Command(py, "-c", kdumpScript, path, string(arg)).Output()
			if err != nil {
				if ee, ok := err.(*exec.ExitError); ok {
					t.Fatalf("libkdumpfile: %v\n%s", err, ee.Stderr)
				}
				t.Fatal(err)
			}
			var kd kdumpResult
			if err := json.Unmarshal(out, &kd); err != nil {
				t.Fatalf("libkdumpfile output: %v", err)
			}
			if kd.MaxPFN != uint64(f.Info().MaxPFN) || kd.CPUs != len(core.VCPUs) || kd.PageSize != f.Info().PageSize {
				t.Fatalf("libkdumpfile: max_pfn %d, %d cpus, page size %d; dumpscope: %d, %d, %d",
					kd.MaxPFN, kd.CPUs, kd.PageSize, f.Info().MaxPFN, len(core.VCPUs), f.Info().PageSize)
			}
			// Every frame: same state, same bytes.
			buf := make([]byte, f.Info().PageSize)
			present := 0
			for pfn := uint64(0); pfn < kd.MaxPFN+64; pfn++ {
				want, inKD := kd.Pages[strconv.FormatUint(pfn, 10)]
				pi, err := f.ReadPage(model.PFN(pfn), buf, reader.ReadOptions{})
				switch {
				case inKD != (err == nil):
					t.Fatalf("pfn %#x: libkdumpfile reads it: %v; dumpscope: %s %v", pfn, inKD, pi.State, err)
				case inKD && hashOf(buf) != want:
					t.Fatalf("pfn %#x: libkdumpfile and dumpscope read different bytes", pfn)
				case inKD:
					present++
				}
			}
			if present != len(pages) {
				t.Fatalf("%d frames compared, %d pages written", present, len(pages))
			}
			// Machine frames (PV): libkdumpfile's MACHPHYSADDR page is
			// dumpscope's page whose mfn it is.
			if !hvm {
				for _, p := range pages {
					got := kd.MFNs[strconv.FormatUint(p.GMFN, 10)]
					pi, _ := f.ReadPage(model.PFN(p.PFN), buf, reader.ReadOptions{})
					if got == nil || *got != hashOf(buf) || pi.MFN == nil || *pi.MFN != p.GMFN {
						t.Fatalf("mfn %#x (pfn %#x): libkdumpfile %v, dumpscope mfn %v", p.GMFN, p.PFN, got, pi.MFN)
					}
				}
			}
			// HVM: the machine address space is the guest's (no p2m).
			if hvm {
				for _, m := range mfns {
					got, want := kd.MFNs[strconv.FormatUint(m, 10)], kd.Pages[strconv.FormatUint(m, 10)]
					if (got == nil) != (want == "") || (got != nil && *got != want) {
						t.Fatalf("HVM frame %#x: libkdumpfile machine read %v, physical read %q", m, got, want)
					}
				}
			}
			// Registers.
			sets, _ := f.Registers()
			for cpu, regs := range kd.Regs {
				for name, raw := range regs {
					var want uint64
					if err := json.Unmarshal(raw, &want); err != nil {
						t.Fatalf("cpu %d %s: %s", cpu, name, raw)
					}
					if got, ok := sets[cpu].Get(name); !ok || got != want {
						t.Errorf("cpu %d %s: dumpscope %#x, libkdumpfile %#x", cpu, name, got, want)
					}
				}
			}
			t.Logf("%s: %d frames agree (%d present), %d machine frames, %d vCPUs", name, kd.MaxPFN+64, present, len(kd.MFNs), len(kd.Regs))
		})
	}
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
