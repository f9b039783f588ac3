package flat_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/flat"
)

func streamOf(t testing.TB, b []byte) *flat.File {
	t.Helper()
	f, err := flat.NewFile(reader.Source{Name: "stream", R: bytes.NewReader(b), Size: int64(len(b))})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sampleFile is a writer-made kdump file to flatten.
func sampleFile() ([]byte, dumptest.KdumpLayout) {
	pages := map[uint64][]byte{}
	for i := uint64(0); i < 300; i++ {
		pages[i*2] = dumptest.Pattern(i, 4096)
	}
	k := &dumptest.Kdump{Version: 6, Codec: "zlib", MaxMapnr: 700, Pages: pages, SharedZeroPage: true,
		Utsname: [6]string{"Linux", "", "6.1", "", "x86_64", ""}, VMCoreInfo: []byte("OSRELEASE=6.1\n"),
		EraseInfo: []byte("erase foo size 8\n")}
	return k.Bytes()
}

// TestReadAtMatchesFile reads the logical file back in odd-sized pieces,
// before and after a full index, with rewritten ranges (later wins).
func TestReadAtMatchesFile(t *testing.T) {
	file, lay := sampleFile()
	early := append([]byte(nil), file...)
	for i := lay.SubHeaderOff; i < lay.SubHeaderOff+104; i++ {
		early[i] ^= 0xff // what the stream first writes, then rewrites
	}
	stream := dumptest.Flatten(early, 1000, [2]int64{lay.SubHeaderOff, lay.SubHeaderOff + 104})
	copy(stream[len(stream)-16-104:], file[lay.SubHeaderOff:lay.SubHeaderOff+104])
	f := streamOf(t, stream)
	if f.Size() != 1<<63-1 {
		t.Fatal("size known before indexing")
	}
	if err := f.Index(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if f.Size() != int64(len(file)) {
		t.Fatalf("logical size %d, want %d", f.Size(), len(file))
	}
	for _, step := range []int{1, 7, 4096, 65536} {
		got := make([]byte, len(file))
		for off := 0; off < len(file); off += step {
			n, err := f.ReadAt(got[off:min(off+step, len(file))], int64(off))
			if err != nil || n != min(step, len(file)-off) {
				t.Fatalf("ReadAt(%d, %d): %d, %v", off, step, n, err)
			}
		}
		if !bytes.Equal(got, file) {
			t.Fatalf("step %d: logical file differs", step)
		}
	}
	var out bytes.Buffer
	if _, err := f.Rearrange(context.Background(), &out, nil); err != nil || !bytes.Equal(out.Bytes(), file) {
		t.Fatalf("Rearrange differs: %v", err)
	}
}

// TestAgainstMakedumpfileR rebuilds writer-made streams with makedumpfile -R
// itself and with Rearrange, and compares.
func TestAgainstMakedumpfileR(t *testing.T) {
	mdf, err := exec.LookPath("makedumpfile")
	if err != nil {
		t.Skip("makedumpfile is not installed (.ci/run installs it): skipping the live -R comparison")
	}
	file, lay := sampleFile()
	for _, stream := range [][]byte{
		dumptest.Flatten(file, 4096),
		dumptest.Flatten(file, 777, [2]int64{lay.SubHeaderOff, lay.SubHeaderOff + 104}, [2]int64{0, 464}),
	} {
		dir := t.TempDir()
		in := filepath.Join(dir, "in.flat")
		out := filepath.Join(dir, "out.kdump")
		if err := os.WriteFile(in, stream, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(mdf, "-R", out)
		cmd.Stdin = bytes.NewReader(stream)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("makedumpfile -R: %v\n%s", err, msg)
		}
		want, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if _, err := streamOf(t, stream).Rearrange(context.Background(), &got, nil); err != nil {
			t.Fatal(err)
		}
		if sha256.Sum256(got.Bytes()) != sha256.Sum256(want) {
			t.Fatalf("Rearrange (%d bytes) differs from makedumpfile -R (%d bytes)", got.Len(), len(want))
		}
	}
}

// TestDamagedStreams: no end marker, a record cut short, a bad record.
func TestDamagedStreams(t *testing.T) {
	file, _ := sampleFile()
	good := dumptest.Flatten(file, 4096)
	noEnd := good[:len(good)-16]
	cutRecord := good[:len(good)-16-100]
	bad := append([]byte(nil), good...)
	binary.BigEndian.PutUint64(bad[4096+8:], 0) // record 0: size 0
	for name, c := range map[string]struct {
		b    []byte
		code string
	}{"no end marker": {noEnd, "missing-end-marker"}, "record cut short": {cutRecord, "truncated"}, "bad record": {bad, "bad-flat-record"}} {
		f := streamOf(t, c.b)
		if err := f.Index(context.Background(), nil); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		found := false
		for _, p := range f.Problems() {
			found = found || (p.Code.String() == c.code && p.Severity == model.SeverityError && p.Offset != nil)
		}
		if !found {
			t.Fatalf("%s: problems %v", name, f.Problems())
		}
		// What the stream holds stays readable.
		head := make([]byte, 64)
		if _, err := f.ReadAt(head, 0); name != "bad record" && (err != nil || !bytes.Equal(head, file[:64])) {
			t.Fatalf("%s: header unreadable: %v", name, err)
		}
	}
}

// FuzzIndex scans arbitrary streams and reads from them: no panic, no
// hang, reads never return more than asked.
func FuzzIndex(f *testing.F) {
	file, lay := sampleFile()
	f.Add(dumptest.Flatten(file[:8192], 1000))
	f.Add(dumptest.Flatten(file[:20000], 3000, [2]int64{lay.SubHeaderOff, lay.SubHeaderOff + 104}))
	f.Fuzz(func(t *testing.T, b []byte) {
		fl, err := flat.NewFile(reader.Source{Name: "fuzz", R: bytes.NewReader(b), Size: int64(len(b))})
		if err != nil {
			return
		}
		buf := make([]byte, 513)
		for _, off := range []int64{0, 100, 4000, 9000} {
			if n, _ := fl.ReadAt(buf, off); n > len(buf) {
				t.Fatal("read too much")
			}
		}
		if err := fl.Index(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		fl.Layout()
		// To an output that cannot seek, holes are zeros, bounded by what
		// the records carry (at most the stream's own length).
		var out countingWriter
		n, _ := fl.Rearrange(context.Background(), &out, nil)
		if limit := int64(len(b)) + 64<<20 + 16*int64(len(b)); out.n > limit || n != out.n {
			t.Fatalf("Rearrange wrote %d bytes (returned %d) from a %d-byte stream", out.n, n, len(b))
		}
	})
}

// countingWriter counts what is written to it and keeps nothing.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// streamOfRecords is a flattened stream of the given records, then the
// end marker.
func streamOfRecords(recs ...record) []byte {
	out := make([]byte, 4096)
	copy(out, "makedumpfile")
	binary.BigEndian.PutUint64(out[16:], 1)
	binary.BigEndian.PutUint64(out[24:], 1)
	for _, r := range recs {
		out = binary.BigEndian.AppendUint64(out, uint64(r.off))
		out = binary.BigEndian.AppendUint64(out, uint64(len(r.data)))
		out = append(out, r.data...)
	}
	return append(out, bytes.Repeat([]byte{0xff}, 16)...)
}

type record struct {
	off  int64
	data []byte
}

// TestRearrangeHoleToPipe: to an output that cannot seek, a hole is
// written as zeros when it is small, and a hole a corrupt record offset
// opens terabytes away stops Rearrange at once with an error naming it,
// instead of writing the zeros.
func TestRearrangeHoleToPipe(t *testing.T) {
	head, tail := dumptest.Pattern(1, 4096), dumptest.Pattern(2, 100)
	small := streamOfRecords(record{0, head}, record{3 << 20, tail})
	var out bytes.Buffer
	n, err := streamOf(t, small).Rearrange(context.Background(), &out, nil)
	want := append(append(append([]byte(nil), head...), make([]byte, 3<<20-4096)...), tail...)
	if err != nil || n != int64(len(want)) || !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("small hole: %d bytes, %v", n, err)
	}

	far := streamOfRecords(record{0, head}, record{1 << 48, tail})
	out.Reset()
	n, err = streamOf(t, far).Rearrange(context.Background(), &out, nil)
	var fe *model.FormatError
	if !errors.Is(err, model.ErrCorrupt) || !errors.As(err, &fe) || fe.Off != model.FileOff(4096+16+4096+16) ||
		!strings.Contains(err.Error(), "logical offset 0x1000000000000") {
		t.Fatalf("far record: %v", err)
	}
	if n != 4096 || out.Len() != 4096 {
		t.Fatalf("far record: %d bytes written (returned %d), want only the first record's 4096", out.Len(), n)
	}
}

// TestLayoutRootSize: the layout's root is as large as the logical file,
// not "unknown" (math.MaxInt64, the logical file's size before the stream
// is indexed), for both formats a stream can hold (issue 12, item 4).
func TestLayoutRootSize(t *testing.T) {
	kdumpFile, _ := sampleFile()
	core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Machine: elf.EM_X86_64,
		Segments: []dumptest.ELFSegment{{Paddr: 0x1000, Data: dumptest.Pattern(5, 3*4096)}}}
	elfFile, _ := core.Bytes()
	for name, file := range map[string][]byte{"kdump": kdumpFile, "ELF": elfFile} {
		stream := dumptest.Flatten(file, 3000)
		d, err := open.Sources(reader.Source{Name: "stream", R: bytes.NewReader(stream), Size: int64(len(stream))})
		if err != nil {
			t.Fatal(err)
		}
		root, err := d.Layout()
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		if root.Size != int64(len(file)) || root.Children[0].Size != int64(len(stream)) {
			t.Fatalf("%s: root size %d (logical file %d), stream node %d (stream %d)", name, root.Size, len(file), root.Children[0].Size, len(stream))
		}
	}
}

// TestInnerErrorNamesTheFile: a stream that holds no dump is reported as
// every error is, the file first, then where inside it.
func TestInnerErrorNamesTheFile(t *testing.T) {
	b := streamOfRecords(record{0, bytes.Repeat([]byte("garbage!"), 512)})
	_, err := open.Sources(reader.Source{Name: "g.flat", R: bytes.NewReader(b), Size: int64(len(b))})
	if err == nil || !strings.HasPrefix(err.Error(), "g.flat: inside the flattened stream (offsets of the file it rearranges to): not a crash dump") ||
		!errors.Is(err, model.ErrUnrecognized) {
		t.Fatalf("%v", err)
	}
}
