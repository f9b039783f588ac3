package btf_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	. "dumpscope/inspect/btf"
	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader/dumptest"
)

// The Debian 6.1 kernel dumps of ../shared/kernel-fixtures (README.md
// there): two dumps of linux-image-6.1.0-57-amd64 with crash's and drgn's
// view of their tasks and modules as oracles.
var kernelFixtureNames = dumptest.KernelFixtureNames

func kernelFixturesDir(t testing.TB) string { return dumptest.KernelFixturesDir(t) }

func kernelFixture(t testing.TB, name string) string { return dumptest.KernelFixture(t, name) }

func init() {
	RealBTF = func(t testing.TB) *Spec { return openKernelBTF(t, kernelFixtureNames[0]).spec }
}

// kernelBTF is one opened fixture with its vmlinux BTF loaded from memory.
type kernelBTF struct {
	name string
	k    *kernel.Kernel
	syms *kernel.Symbols
	spec *Spec
	// blobAddr and blobSize are __start_BTF and its span.
	blobAddr, blobSize uint64
}

var (
	kernelBTFMu    sync.Mutex
	kernelBTFCache = map[string]*kernelBTF{}
)

// openKernelBTF opens a fixture dump through the current kernel engine,
// finds __start_BTF..__stop_BTF in kallsyms and loads the BTF through a
// reader over kernel virtual memory, as the lead's code will. Opened once
// per test binary.
func openKernelBTF(t testing.TB, name string) *kernelBTF {
	t.Helper()
	path := kernelFixture(t, name)
	kernelBTFMu.Lock()
	defer kernelBTFMu.Unlock()
	if kb, ok := kernelBTFCache[name]; ok {
		return kb
	}
	d, err := open.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	k, err := kernel.New(d)
	if err != nil {
		t.Fatal(err)
	}
	syms, err := k.Symbols(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kb := &kernelBTF{name: name, k: k, syms: syms}
	start, stop := kb.sym(t, "__start_BTF"), kb.sym(t, "__stop_BTF")
	kb.blobAddr, kb.blobSize = start, stop-start
	kb.spec, err = Load(MemoryReader(kb.read, start), int64(stop-start), nil)
	if err != nil {
		t.Fatalf("%s: vmlinux BTF at %#x: %v", name, start, err)
	}
	kernelBTFCache[name] = kb
	return kb
}

func (kb *kernelBTF) sym(t testing.TB, name string) uint64 {
	t.Helper()
	s, err := kb.syms.LookupErr(name)
	if err != nil {
		t.Fatal(err)
	}
	return uint64(s[0].Addr)
}

func (kb *kernelBTF) read(va uint64, p []byte) error {
	return kb.k.ReadVirt(context.Background(), model.VirtAddr(va), p)
}

func (kb *kernelBTF) u64(t testing.TB, va uint64) uint64 {
	t.Helper()
	var b [8]byte
	if err := kb.read(va, b[:]); err != nil {
		t.Fatalf("reading %#x: %v", va, err)
	}
	return binary.LittleEndian.Uint64(b[:])
}

func (kb *kernelBTF) symbolize(va uint64) (string, bool) {
	r, ok := kb.syms.Addr(va)
	if !ok {
		return "", false
	}
	if r.Offset == 0 {
		return r.Symbol.Name, true
	}
	return fmt.Sprintf("%s+%#x", r.Symbol.Name, r.Offset), true
}

// offset returns a member path's byte offset ("task_struct.comm").
func (kb *kernelBTF) offset(t testing.TB, s *Spec, path string) uint64 {
	t.Helper()
	_, f, err := s.FieldOf(path)
	if err != nil {
		t.Fatalf("%s: %v", kb.name, err)
	}
	return f.Offset
}

// crashOracle is the part of <dump>.crash.json these tests compare with.
type crashOracle struct {
	Tasks []struct {
		Comm string `json:"comm"`
		PID  int    `json:"pid"`
		PPID int    `json:"ppid"`
		Task string `json:"task"`
		CPU  int    `json:"cpu"`
	} `json:"tasks"`
	ActiveTasks []struct {
		CPU  int    `json:"cpu"`
		Task string `json:"task"`
	} `json:"active_tasks"`
	Modules []struct {
		Name   string `json:"name"`
		Module string `json:"module"`
		Base   string `json:"base"`
	} `json:"modules"`
	Sys map[string]string `json:"sys"`
}

func readCrashOracle(t testing.TB, name string) crashOracle {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(kernelFixturesDir(t), name+".crash.json"))
	if err != nil {
		t.Fatal(err)
	}
	var o crashOracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func hexAddr(t testing.TB, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
