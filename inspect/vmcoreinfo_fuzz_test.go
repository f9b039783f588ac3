package inspect

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"

	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// FuzzRecoverVMCoreInfo searches hostile memory (two to four pages of an
// x86_64 ELF dump) for VMCOREINFO: every candidate it reports must be
// bounded, parse as VMCOREINFO and start with the needle; nothing may
// panic or hang.
func FuzzRecoverVMCoreInfo(f *testing.F) {
	text := []byte("OSRELEASE=6.1.0\nBUILD-ID=0011\nPAGESIZE=4096\nSYMBOL(_stext)=ffffffff81000000\nKERNELOFFSET=0\nCRASHTIME=1700000000\n")
	note := make([]byte, 24, 24+len(text))
	binary.LittleEndian.PutUint32(note[0:], 11)
	binary.LittleEndian.PutUint32(note[4:], uint32(len(text)))
	copy(note[12:], "VMCOREINFO")
	note = append(note, text...)
	page := func(parts ...[]byte) []byte {
		p := make([]byte, 4096)
		at := 0
		for _, b := range parts {
			at += copy(p[at:], b)
		}
		return p
	}
	f.Add(append(page(text), page(note)...))
	f.Add(append(page(make([]byte, 4090), []byte("OSREL")), page([]byte("EASE=x\nPAGESIZE=4096\nA=1\n"))...))
	f.Add(page([]byte("\x00CRASHTIME=%lld\n\x00VMCOREINFO\x00OSRELEASE=%s\n\x00BUILD-ID=%20phN\n\x00PAGESIZE=%ld\n")))
	f.Add(page(note[:24], bytes.Repeat([]byte("OSRELEASE="), 400)))
	f.Fuzz(func(t *testing.T, mem []byte) {
		if len(mem) > 4*4096 {
			return
		}
		core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Order: binary.LittleEndian, Machine: elf.EM_X86_64,
			Segments: []dumptest.ELFSegment{{Paddr: 0x1000, Data: mem}}}
		data, _ := core.Bytes()
		d, err := open.Sources(reader.Source{Name: "fuzz.vmcore", R: bytes.NewReader(data), Size: int64(len(data))})
		if err != nil {
			return
		}
		defer d.Close()
		s, v, err := RecoverVMCoreInfo(bg, d, RecoverOptions{Jobs: 2})
		if err != nil {
			t.Fatal(err)
		}
		if s.Hits < len(s.Candidates) || len(s.Candidates) > 2*maxRecoveryHits {
			t.Fatalf("%d hits, %d candidates", s.Hits, len(s.Candidates))
		}
		for _, c := range s.Candidates {
			if !bytes.HasPrefix(c.Raw, needle) || c.Size != len(c.Raw) || c.Size > maxVMCoreInfoBytes || c.OSRelease == "" {
				t.Fatalf("candidate %+v", c)
			}
			if _, ok := model.ParseVMCoreInfo(c.Raw).Get("PAGESIZE"); !ok {
				t.Fatalf("candidate without PAGESIZE: %q", c.Raw)
			}
		}
		if v != nil && (s.Chosen == nil || !s.Candidates[*s.Chosen].Valid) {
			t.Fatalf("a text was chosen without a valid candidate: %+v", s)
		}
	})
}

// FuzzBTFHeader: checkBTFHeader never panics and accepts only headers
// whose sections fit.
func FuzzBTFHeader(f *testing.F) {
	f.Add([]byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 0, 50, 0, 0, 0}, uint64(174))
	f.Fuzz(func(t *testing.T, h []byte, size uint64) {
		if len(h) < 24 {
			return
		}
		if checkBTFHeader(h[:24], size) == nil && size < 24 {
			t.Fatalf("a header larger than its section passed: %x %d", h[:24], size)
		}
	})
}
