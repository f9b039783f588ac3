package elfcore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/elfcore"
)

// openFixture opens a real fixture with the ELF reader.
func openFixture(t *testing.T, name string) *elfcore.File {
	t.Helper()
	path := dumptest.Fixture(t, name)
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	st, _ := fh.Stat()
	f, err := elfcore.NewFile(reader.Source{Name: name, R: fh, Size: st.Size()})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFixturePages checks every frame's state and every present page's
// sha256 against the oracle, for every ELF fixture.
func TestFixturePages(t *testing.T) {
	for _, name := range dumptest.Fixtures(t, "ELF64") {
		t.Run(name, func(t *testing.T) {
			f := openFixture(t, name)
			o := dumptest.LoadOracle(t, name)
			exp := dumptest.Expect(t, name, o)
			if got := uint64(f.Info().MaxPFN); got != o.LibKdumpfile.MaxPFN {
				t.Errorf("MaxPFN = %d, oracle %d", got, o.LibKdumpfile.MaxPFN)
			}
			buf := make([]byte, f.Info().PageSize)
			present := 0
			for pfn := uint64(0); pfn < exp.Max; pfn++ {
				want := exp.At(pfn)
				pi := f.PageInfo(model.PFN(pfn))
				if string(pi.State) != want.State {
					t.Fatalf("pfn %#x: state %s, oracle %s", pfn, pi.State, want.State)
				}
				if want.State != "present" {
					if _, err := f.ReadPage(model.PFN(pfn), buf, reader.ReadOptions{}); err == nil {
						t.Fatalf("pfn %#x (%s): ReadPage succeeded", pfn, pi.State)
					}
					continue
				}
				present++
				if _, err := f.ReadPage(model.PFN(pfn), buf, reader.ReadOptions{}); err != nil {
					t.Fatalf("pfn %#x: %v", pfn, err)
				}
				sum := sha256.Sum256(buf)
				if got := hex.EncodeToString(sum[:]); got != want.SHA256 {
					t.Fatalf("pfn %#x: sha256 %s, oracle %s", pfn, got, want.SHA256)
				}
			}
			if present == 0 {
				t.Fatal("the oracle lists no present page")
			}
			t.Logf("%d frames, %d present pages match", exp.Max, present)
		})
	}
}

// TestFixtureNotes checks registers, QEMU CPU state and VMCOREINFO.
func TestFixtureNotes(t *testing.T) {
	for _, name := range dumptest.Fixtures(t, "ELF64") {
		t.Run(name, func(t *testing.T) {
			f := openFixture(t, name)
			o := dumptest.LoadOracle(t, name)
			sets, err := f.Registers()
			if err != nil {
				t.Fatal(err)
			}
			pr := map[int]model.RegisterSet{}
			qemu := map[int]model.RegisterSet{}
			for _, s := range sets {
				switch s.Source {
				case model.SourcePrstatus:
					pr[s.CPU] = s
				case model.SourceQEMUCPUState:
					qemu[s.CPU] = s
				}
			}
			if len(pr) != len(o.LibKdumpfile.CPUs) || len(o.LibKdumpfile.CPUs) == 0 {
				t.Fatalf("%d prstatus sets, oracle %d CPUs", len(pr), len(o.LibKdumpfile.CPUs))
			}
			for _, cpu := range o.LibKdumpfile.CPUs {
				s, ok := pr[cpu.Index]
				if !ok {
					t.Fatalf("CPU %d: no prstatus", cpu.Index)
				}
				if s.PID == nil || *s.PID != cpu.PID {
					t.Errorf("CPU %d: pid %v, oracle %d", cpu.Index, s.PID, cpu.PID)
				}
				for name, want := range cpu.Reg {
					got, ok := s.Get(name)
					if !ok || got != want {
						t.Errorf("CPU %d prstatus %s = %#x (%v), oracle %#x", cpu.Index, name, got, ok, want)
					}
				}
				if len(s.Registers) != len(cpu.Reg) {
					t.Errorf("CPU %d: %d registers, oracle %d", cpu.Index, len(s.Registers), len(cpu.Reg))
				}
				// The QEMU CPU state of the same vCPU holds the same
				// general and segment registers.
				q, ok := qemu[cpu.Index]
				if !ok {
					t.Fatalf("CPU %d: no QEMU CPU state", cpu.Index)
				}
				common := 0
				for _, r := range s.Registers {
					if r.Name == "orig_rax" || r.Name == "orig_eax" {
						continue
					}
					qv, ok := q.Get(r.Name)
					if !ok {
						t.Errorf("CPU %d: QEMU state lacks %s", cpu.Index, r.Name)
						continue
					}
					common++
					if qv != r.Value {
						t.Errorf("CPU %d %s: QEMU %#x, prstatus %#x", cpu.Index, r.Name, qv, r.Value)
					}
				}
				for _, cr := range []string{"cr0", "cr3", "cr4"} {
					if _, ok := q.Get(cr); !ok {
						t.Errorf("CPU %d: QEMU state lacks %s", cpu.Index, cr)
					}
				}
				if common < 16 {
					t.Errorf("CPU %d: only %d registers compared", cpu.Index, common)
				}
			}
			v, err := f.VMCoreInfo()
			if err != nil {
				t.Fatal(err)
			}
			if string(v.Raw) != o.LibKdumpfile.VMCoreInfoRaw {
				t.Errorf("VMCOREINFO differs from the oracle (%d vs %d bytes)", len(v.Raw), len(o.LibKdumpfile.VMCoreInfoRaw))
			}
			notes, _ := f.Notes()
			if len(notes) != len(o.ELF.Notes) {
				t.Fatalf("%d notes, oracle %d", len(notes), len(o.ELF.Notes))
			}
			for i, n := range notes {
				on := o.ELF.Notes[i]
				sum := sha256.Sum256(n.Desc)
				if n.Name != on.Name || n.Type != on.Type || int(n.DescSize) != on.Descsz || hex.EncodeToString(sum[:]) != on.DescSHA256 {
					t.Errorf("note %d: %s/%#x/%d, oracle %s/%#x/%d", i, n.Name, n.Type, n.DescSize, on.Name, on.Type, on.Descsz)
				}
			}
		})
	}
}

// TestFixtureInfo checks the values info reports against the oracle.
func TestFixtureInfo(t *testing.T) {
	for _, name := range dumptest.Fixtures(t, "ELF64") {
		t.Run(name, func(t *testing.T) {
			f := openFixture(t, name)
			o := dumptest.LoadOracle(t, name)
			in := f.Info()
			if string(in.Format) != o.LibKdumpfile.FileFormat {
				t.Errorf("format %s, oracle %s", in.Format, o.LibKdumpfile.FileFormat)
			}
			if in.Arch != o.Arch() {
				t.Errorf("arch %s, oracle %s", in.Arch, o.Arch())
			}
			if in.PageSize != o.LibKdumpfile.PageSize {
				t.Errorf("page size %d, oracle %d", in.PageSize, o.LibKdumpfile.PageSize)
			}
			if o.LibKdumpfile.CPUNumber == nil || in.CPUs != *o.LibKdumpfile.CPUNumber {
				t.Errorf("cpus %d, oracle %v", in.CPUs, o.LibKdumpfile.CPUNumber)
			}
			if in.OSRelease != o.LibKdumpfile.Uts["release"] {
				t.Errorf("osrelease %q, oracle %q", in.OSRelease, o.LibKdumpfile.Uts["release"])
			}
			if uint64(in.MaxPFN) != o.LibKdumpfile.MaxPFN {
				t.Errorf("max_pfn %d, oracle %d", in.MaxPFN, o.LibKdumpfile.MaxPFN)
			}
			if len(in.Warnings) != 0 {
				t.Errorf("unexpected warnings: %v", in.Warnings)
			}
		})
	}
}
