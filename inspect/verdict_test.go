package inspect

import (
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/reader/dumptest"
)

// TestVerdictFixtures: complete dumps are ready for triage; the partial
// QEMU ELF (begin/length over .data..bss) and a lone part of a split set
// are not, and say why with the frame and what left it out.
func TestVerdictFixtures(t *testing.T) {
	for _, c := range []struct {
		files []string
		ready bool
		// codes the verdict must give (errors), and words its problems
		// must hold.
		codes []model.Code
		words []string
	}{
		{files: []string{"x86_64/qemu-elf-paging.vmcore"}, ready: true},
		{files: []string{"x86_64/mdf-zlib-d31.kdump"}, ready: true},
		{files: []string{"x86_64/qemu-kdump-zlib.flat"}, ready: true},
		{files: []string{"i386/mdf-zlib-d31-split1.kdump", "i386/mdf-zlib-d31-split2.kdump"}, ready: true},
		{files: []string{"x86_64/qemu-elf-mini.vmcore"},
			codes: []model.Code{model.CodePartialMemory, model.CodeNoKallsyms, model.CodeNoPageTables},
			words: []string{"the kernel text at _stext", "no PT_LOAD covers it", "begin/length"}},
		{files: []string{"i386/qemu-elf-mini.vmcore"},
			codes: []model.Code{model.CodePartialMemory, model.CodeNoKallsyms},
			words: []string{"no PT_LOAD covers it"}},
		{files: []string{"x86_64/mdf-zlib-d31-split1of8.kdump"},
			codes: []model.Code{model.CodePartialMemory, model.CodeNoKernelLog, model.CodeNoKallsyms, model.CodeNoPageTables},
			words: []string{"one part of a split set", "in a split part that was not given"}},
		{files: []string{"x86_64/mdf-zstd-d31-split1of8.kdump"},
			codes: []model.Code{model.CodePartialMemory}, words: []string{"one part of a split set"}},
	} {
		t.Run(c.files[0], func(t *testing.T) {
			paths := make([]string, len(c.files))
			for i, f := range c.files {
				paths[i] = dumptest.Fixture(t, f)
			}
			s := openSession(t, paths...)
			v, err := s.Verdict(bg)
			if err != nil {
				t.Fatal(err)
			}
			if v.Ready != c.ready {
				t.Fatalf("ready %v: %s\n%+v", v.Ready, v.Summary, v.Capabilities)
			}
			if len(v.Capabilities) != 9 {
				t.Errorf("%d capabilities", len(v.Capabilities))
			}
			var all []string
			errs := map[model.Code]bool{}
			for _, p := range v.Problems {
				all = append(all, p.Message)
				if p.Severity == model.SeverityError {
					errs[p.Code] = true
				}
			}
			for _, code := range c.codes {
				if !errs[code] {
					t.Errorf("no %s error: %v", code, all)
				}
			}
			for _, w := range c.words {
				if !strings.Contains(strings.Join(all, "\n"), w) {
					t.Errorf("problems lack %q: %v", w, all)
				}
			}
			if c.ready {
				for _, cp := range v.Capabilities {
					if cp.Needed && !cp.Supported {
						t.Errorf("%s: %s", cp.Name, cp.Detail)
					}
				}
				// The tiny kernels have no BTF: a warning, not an error.
				for _, p := range v.Problems {
					if p.Severity == model.SeverityError {
						t.Errorf("error in a ready dump: %v", p)
					}
				}
			}
		})
	}
}

// TestVerdictKernelFixtures: both Debian dumps support every analysis,
// BTF and the tasks included.
func TestVerdictKernelFixtures(t *testing.T) {
	for _, name := range []string{"panic-sysrq-mdf-zlib-d31.kdump", "stopped-mdf-zlib-d31.kdump"} {
		t.Run(name, func(t *testing.T) {
			s := openSession(t, dumptest.KernelFixture(t, name))
			tr, err := s.Triage(bg)
			if err != nil {
				t.Fatal(err)
			}
			v := tr.Usable
			if !v.Ready || len(v.Problems) != 0 || !strings.HasPrefix(v.Summary, "ready for triage: every") {
				t.Errorf("verdict %+v", v)
			}
			for _, c := range v.Capabilities {
				if !c.Supported {
					t.Errorf("%s: %s", c.Name, c.Detail)
				}
			}
			if d := v.Capability(model.CapStacks).Detail; !strings.Contains(d, "ORC tables") && !strings.Contains(d, "orc unwinds") {
				t.Errorf("stacks: %s", d)
			}
			if d := v.Capability(model.CapBTF).Detail; !strings.Contains(d, "header valid, every page stored") {
				t.Errorf("btf: %s", d)
			}
			panicked := strings.HasPrefix(name, "panic")
			if (tr.Why.Verdict == model.CrashPanic) != panicked || (tr.Why.Signature != nil) != panicked || tr.What.KernelOffset == nil {
				t.Errorf("why %+v what %+v", tr.Why, tr.What)
			}
		})
	}
}

// TestVerdictBTFHeader: struct btf_header's checks, both byte orders.
func TestVerdictBTFHeader(t *testing.T) {
	good := []byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 0, 50, 0, 0, 0}
	if err := checkBTFHeader(good, 24+150); err != nil {
		t.Errorf("good header: %v", err)
	}
	if err := checkBTFHeader(good, 24+149); err == nil {
		t.Error("sections beyond the size pass")
	}
	bad := append([]byte(nil), good...)
	bad[0] = 0
	if err := checkBTFHeader(bad, 1000); err == nil {
		t.Error("bad magic passes")
	}
	big := []byte{0xeb, 0x9f, 1, 0, 0, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 0, 50}
	if err := checkBTFHeader(big, 24+150); err != nil {
		t.Errorf("big-endian header: %v", err)
	}
}
