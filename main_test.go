package main

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dumpscope/open"
	"dumpscope/reader/dumptest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"dumpscope": func() { startWatchdog(); os.Exit(run(os.Args[1:])) },
	})
}

// TestScripts runs the txtar CLI scripts of testdata/script. Scripts that
// need the real fixtures guard themselves with [fixtures]; the fixture
// paths are in $ELF_PAGING, $ELF_MINI, $I386_MINI, $QEMU_FLAT, $MDF_D31,
// $SPLIT1OF8 and $PAGING_STRIPPED (the paging ELF without VMCOREINFO).
// Scripts that need the Debian dumps guard themselves with [kfixtures]:
// $PANIC_KDUMP, $STOPPED_KDUMP and $PANIC_STRIPPED.
func TestScripts(t *testing.T) {
	fixtures := map[string]string{}
	if _, err := os.Stat(filepath.Join(dumptest.ModuleRoot(t), "..", "shared", "fixtures", "MANIFEST.tsv")); err == nil || os.Getenv("DUMPSCOPE_FIXTURES") != "" {
		fixtures["ELF_PAGING"] = dumptest.Fixture(t, "x86_64/qemu-elf-paging.vmcore")
		fixtures["ELF_MINI"] = dumptest.Fixture(t, "x86_64/qemu-elf-mini.vmcore")
		fixtures["I386_MINI"] = dumptest.Fixture(t, "i386/qemu-elf-mini.vmcore")
		fixtures["QEMU_FLAT"] = dumptest.Fixture(t, "x86_64/qemu-kdump-zlib.flat")
		fixtures["I386_SPLIT1"] = dumptest.Fixture(t, "i386/mdf-zlib-d31-split1.kdump")
		fixtures["I386_SPLIT2"] = dumptest.Fixture(t, "i386/mdf-zlib-d31-split2.kdump")
		fixtures["MDF_D31"] = dumptest.Fixture(t, "x86_64/mdf-zlib-d31.kdump")
		fixtures["SPLIT1OF8"] = dumptest.Fixture(t, "x86_64/mdf-zlib-d31-split1of8.kdump")
		fixtures["PAGING_STRIPPED"] = strippedCopy(t, fixtures["ELF_PAGING"])
	} else {
		t.Log("real fixtures not found: scripts guarded by [fixtures] are skipped")
	}
	// The Debian kernel dumps (../shared/kernel-fixtures): $DEBIAN_PANIC
	// and $DEBIAN_STOPPED, and $PANIC_STRIPPED, a copy of the panic dump
	// without VMCOREINFO, for the scripts guarded by [kfixtures].
	kfixtures := map[string]string{}
	if _, err := os.Stat(filepath.Join(dumptest.ModuleRoot(t), "..", "shared", "kernel-fixtures", "debian-amd64")); err == nil || os.Getenv("DUMPSCOPE_KERNEL_FIXTURES") != "" {
		kfixtures["DEBIAN_STOPPED"] = dumptest.KernelFixture(t, dumptest.KernelFixtureNames[0])
		kfixtures["DEBIAN_PANIC"] = dumptest.KernelFixture(t, dumptest.KernelFixtureNames[1])
		kfixtures["PANIC_STRIPPED"] = strippedCopy(t, kfixtures["DEBIAN_PANIC"])
	} else {
		t.Log("kernel fixtures not found: scripts guarded by [kfixtures] are skipped")
	}
	remote := newRemoteScripts(t, len(fixtures) > 0) // main_remote_test.go
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			for k, v := range fixtures {
				env.Setenv(k, v)
			}
			for k, v := range kfixtures {
				env.Setenv(k, v)
			}
			if err := writeAIXDumps(env.WorkDir); err != nil {
				return err
			}
			if err := writeXenDumps(env.WorkDir); err != nil {
				return err
			}
			if err := writeKdumpDumps(env.WorkDir); err != nil {
				return err
			}
			if err := remote.setup(env); err != nil {
				return err
			}
			return writeSyntheticDumps(env.WorkDir)
		},
		Condition: func(cond string) (bool, error) {
			if cond == "fixtures" {
				return len(fixtures) > 0, nil
			}
			if cond == "kfixtures" {
				return len(kfixtures) > 0, nil
			}
			if ok, known := remote.condition(cond); known {
				return ok, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: merge(remote.commands(), map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// size FILE N: the file has exactly N bytes.
			"size": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: size FILE N")
				}
				st, err := os.Stat(ts.MkAbs(args[0]))
				ts.Check(err)
				want, err := strconv.ParseInt(args[1], 0, 64)
				ts.Check(err)
				if (st.Size() == want) == neg {
					ts.Fatalf("%s has %d bytes (want %s%d)", args[0], st.Size(), map[bool]string{true: "not ", false: ""}[neg], want)
				}
			},
			// exits CODE PROG ARGS...: run PROG (like exec) and check its
			// exit code exactly.
			"exits": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: exits CODE PROG ARGS...")
				}
				want, err := strconv.Atoi(args[0])
				ts.Check(err)
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("%v", err)
				}
				if (got == want) == neg {
					ts.Fatalf("exit code %d, want %d", got, want)
				}
			},
			// sha256 FILE HEX: the file's sha256.
			"sha256": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: sha256 FILE HEX")
				}
				b, err := os.ReadFile(ts.MkAbs(args[0]))
				ts.Check(err)
				sum := sha256.Sum256(b)
				if got := hex.EncodeToString(sum[:]); (got == args[1]) == neg {
					ts.Fatalf("%s: sha256 %s, want %s", args[0], got, args[1])
				}
			},
		}),
	})
}

// strippedCopy writes a copy of a dump file without its VMCOREINFO (the
// notes renamed, a kdump sub-header's pointers cleared) into the test's
// temporary folder.
func strippedCopy(t *testing.T, path string) string {
	t.Helper()
	d, err := open.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	lay, err := d.Layout()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, n := dumptest.StripVMCoreInfo(b, lay)
	if n == 0 {
		t.Fatalf("%s: no VMCOREINFO to strip", path)
	}
	p := filepath.Join(t.TempDir(), "stripped-"+filepath.Base(path))
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeSyntheticDumps writes the writer-made dumps the scripts use: a small
// x86_64 vmcore, and copies cut inside a PT_LOAD and inside the notes.
func writeSyntheticDumps(dir string) error {
	le := binary.LittleEndian
	regs := make([]uint64, 27)
	for i := range regs {
		regs[i] = 0xffffffff81000000 + uint64(i)
	}
	core := &dumptest.ELFCore{
		Class: elf.ELFCLASS64, Order: le, Machine: elf.EM_X86_64,
		Notes: []dumptest.ELFNote{
			{Name: "CORE", Type: 1, Desc: dumptest.PrstatusX8664(le, 1, regs)},
			{Name: "CORE", Type: 1, Desc: dumptest.PrstatusX8664(le, 2, regs)},
			{Name: "VMCOREINFO", Desc: []byte("OSRELEASE=6.1.0-test\nPAGESIZE=4096\nCRASHTIME=1700000000\n")},
		},
		Segments: []dumptest.ELFSegment{
			{Paddr: 0x1000, Vaddr: 0xffff888000001000, Data: dumptest.Pattern(1, 4*4096)},
			{Paddr: 0x10000, Vaddr: 0xffff888000010000, Data: dumptest.Pattern(2, 4096), Memsz: 3 * 4096},
		},
	}
	b, lay := core.Bytes()
	// A PT_LOAD that stores 2 pages and claims 2^62 bytes (issue 12, item
	// 2), and one whose p_filesz is beyond 2^63.
	huge := *core
	huge.Segments = []dumptest.ELFSegment{{Paddr: 0x1000, Data: append([]byte("NEEDLE"), dumptest.Pattern(3, 2*4096-6)...), Memsz: 1 << 62}}
	hugeMem, hugeLay := huge.Bytes()
	hugeFile := append([]byte(nil), hugeMem...)
	le.PutUint64(hugeFile[hugeLay.Phoff+56+32:], 0xc2634800000001bd) // p_filesz
	le.PutUint64(hugeFile[hugeLay.Phoff+56+40:], 0xc2634800000001bd) // p_memsz
	files := map[string][]byte{
		"synth-elf.flat":     dumptest.Flatten(b, 3000),
		"huge-memsz.vmcore":  hugeMem,
		"huge-filesz.vmcore": hugeFile,
		"synth.vmcore":       b,
		"trunc-load.vmcore":  b[:lay.SegmentOffsets[0]+2*4096+123],
		"trunc-notes.vmcore": b[:lay.NoteOffsets[1]+50],
		"garbage.bin":        []byte("this is not a crash dump, just text\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
