package btf

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"dumpscope/reader/dumptest"
)

// seedBlobs are the fuzz seeds: writer-made blobs of every kind in both
// byte orders, the 2026 header with a layout section, hostile shapes, and
// when the kernel fixtures are present a compact blob of the real vmlinux
// BTF's first types (records copied verbatim, names re-packed).
func seedBlobs(f *testing.F) [][]byte {
	var out [][]byte
	for _, bo := range byteOrders {
		w, _ := writeZoo(bo)
		out = append(out, w.bytes())
		w.layouts = kindLayouts[:]
		w.hdrLen = 40
		out = append(out, w.bytes())
	}
	w := newWriter(binary.LittleEndian)
	intID := w.Int("int", 4, IntSigned, 0, 32)
	w.Ref(KindTypedef, "a_t", intID+2)
	w.Ref(KindTypedef, "b_t", intID+1)
	w.Struct("self", 8, false, wm{"", intID + 3, 0, 0}, wm{"v", intID, 0, 0})
	w.layouts = append(kindLayouts[:], Layout{InfoSize: 4, ElemSize: 8})
	w.raw(w.str("loc"), info(20, false, 1), 0, 1, 2, 3)
	out = append(out, w.bytes())
	if real := realSeed(f); real != nil {
		out = append(out, real)
	}
	return out
}

// realSeed compacts the first 600 types of the Debian fixture's vmlinux
// BTF, or returns nil when the fixtures are absent (a fuzz target must
// not be skipped for that). The blob is read through the kernel engine,
// which imports this package: the external tests provide it (realBTF).
func realSeed(f *testing.F) []byte {
	dir := os.Getenv("DUMPSCOPE_KERNEL_FIXTURES")
	if dir == "" {
		dir = filepath.Join(dumptest.ModuleRoot(f), "..", "shared", "kernel-fixtures")
	}
	if _, err := os.Stat(filepath.Join(dir, "debian-amd64", dumptest.KernelFixtureNames[0]+".zst")); err != nil || RealBTF == nil {
		return nil
	}
	return compactBlob(RealBTF(f), 600)
}

// compactBlob copies the first n type records of s into a new blob with
// only the strings they name.
func compactBlob(s *Spec, n int) []byte {
	w := newWriter(s.ByteOrder.(byteOrder))
	bo := s.ByteOrder
	remap := func(rec []byte, at int) {
		name, _ := s.name(bo.Uint32(rec[at:]))
		bo.PutUint32(rec[at:], w.str(string(name)))
	}
	for i := 0; i < n && i < len(s.offs); i++ {
		end := len(s.types)
		if i+1 < len(s.offs) {
			end = int(s.offs[i+1])
		}
		rec := append([]byte(nil), s.types[s.offs[i]:end]...)
		remap(rec, 0)
		info := bo.Uint32(rec[4:])
		k, vlen := infoKind(info), int(infoVlen(info))
		if k.Known() && kindLayouts[k].ElemSize != 0 && k != KindDatasec {
			elem := int(kindLayouts[k].ElemSize)
			for j := range vlen {
				remap(rec, typeHeaderSize+int(kindLayouts[k].InfoSize)+j*elem)
			}
		}
		w.types = append(w.types, rec...)
		w.n++
	}
	return w.bytes()
}

// patternRead is memory for the fuzzers: every byte is its address's low
// byte, except that the page at 0x3000 is absent.
func patternRead(va uint64, p []byte) error {
	for i := range p {
		if (va+uint64(i))>>12 == 3 {
			return errors.New("page absent")
		}
		p[i] = byte(va + uint64(i))
	}
	return nil
}

// exercise calls every query on the first types of a Spec: none may panic
// or hang, whatever the blob holds.
func exercise(s *Spec) {
	s.PointerSize()
	s.Global("runqueues")
	s.Enumerator("RUNNING")
	for i := range min(s.NumTypes(), 300) {
		ty, err := s.TypeByID(s.FirstID() + TypeID(i))
		if err != nil {
			continue
		}
		s.TypeName(ty)
		s.Declaration(ty, "x")
		s.Size(ty)
		s.Resolve(ty)
		s.Target(ty)
		if ty.Name != "" {
			s.FindType(ty.Kind, ty.Name)
			s.TypesByName(ty.Name)
			s.ParseType(ty.Name)
		}
		switch ty.Kind {
		case KindStruct, KindUnion:
			ms, _ := s.Members(ty)
			for _, m := range ms[:min(len(ms), 8)] {
				s.Field(ty, m.Name)
			}
			s.Format(ty, patternRead, 0x1000, FormatOptions{MaxNodes: 300, MaxObject: 1 << 14})
		case KindEnum, KindEnum64:
			es, _ := s.Enumerators(ty)
			s.EnumName(ty, 0)
			if len(es) > 0 {
				s.Enumerator(es[0].Name)
			}
		case KindFuncProto:
			s.Params(ty)
		case KindDatasec:
			s.Vars(ty)
		case KindArray, KindPtr, KindInt, KindTypedef:
			s.Format(ty, patternRead, 0x1000, FormatOptions{MaxNodes: 300, MaxObject: 1 << 14})
		}
	}
}

func FuzzLoad(f *testing.F) {
	for _, b := range seedBlobs(f) {
		f.Add(b)
	}
	base, _ := loadZoo(f, binary.LittleEndian)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := NewSpec(data, nil)
		if err != nil {
			if !isFormatErr(err) {
				t.Fatalf("untyped error: %v", err)
			}
		} else {
			exercise(s)
		}
		// The same bytes as split BTF on top of a base.
		if split, err := NewSpec(data, base); err == nil {
			exercise(split)
		} else if !isFormatErr(err) {
			t.Fatalf("untyped error (split): %v", err)
		}
	})
}

func FuzzMember(f *testing.F) {
	blobs := seedBlobs(f)
	for i, path := range []string{"tasks.next", "vals[2]", "x", "comm[99]", "list_head.next", "[3]", "a.b.c[1][2]", "struct task *[4]", "unsigned long[]"} {
		f.Add(blobs[i%len(blobs)], path)
	}
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		ParseDecl(path)
		s, err := NewSpec(data, nil)
		if err != nil {
			return
		}
		s.FieldOf(path)
		s.ParseType(path)
		n := 0
		for i := 0; i < s.NumTypes() && n < 50; i++ {
			ty, err := s.TypeByID(s.FirstID() + TypeID(i))
			if err != nil || ty.Kind != KindStruct && ty.Kind != KindUnion && ty.Kind != KindArray {
				continue
			}
			n++
			fl, err := s.Field(ty, path)
			if err == nil && fl.Offset != fl.BitOffset/8 {
				t.Fatalf("Field(%s, %q): offset %d, bit offset %d", s.TypeName(ty), path, fl.Offset, fl.BitOffset)
			}
		}
	})
}
