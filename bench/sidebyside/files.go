package main

// The files the benchmark runs on. They are made once into the work
// folder and reused (their names carry the generator version and sizes):
//
//   - kdump files of N pages per codec. Their pages are real kernel memory:
//     the pages of the real fixture x86_64/mdf-zlib-d31.kdump (a Linux 6.1
//     guest dumped with makedumpfile -d 31), repeated in order; without the
//     fixture, synthetic pages (pointer tables, text, half-random pages).
//     zlib and lzo files are written by makedumpfile itself (-c, -l) from
//     an uncompressed file, as users get them; snappy, zstd and
//     uncompressed files by dumpscope's test writer (dumptest.Kdump), since
//     Debian's makedumpfile lacks snappy and zstd. Without makedumpfile,
//     the writer makes all of them (its LZO encoder is a simple one).
//   - a raw ELF vmcore of at least 256 MiB (dumptest.ELFCore): real pages,
//     a quarter of them zero, in two PT_LOADs (below 640 KiB and from 1 MiB).
//   - sparse zlib kdumps whose max_mapnr spans 16 GiB and 1 TiB: RAM
//     everywhere but the legacy holes, 65 536 pages stored in 256 clusters.
//   - a flattened stream written by makedumpfile -F from the uncompressed
//     file, and the same stream rearranged by makedumpfile -R; for other
//     sizes (-flat-pages), or without makedumpfile, a writer-made zlib file
//     and a stream of it in makedumpfile -F's record order (flatgen.go).
//   - the real fixtures: x86_64/mdf-zlib-d31.kdump and any --real files.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"

	"dumpscope/bench/flatstream"
	"dumpscope/reader/dumptest"
)

// genVersion names the generator in file names: change it when what is
// written changes, so that old files are not reused.
const genVersion = "g1"

// benchFile is one dump the benchmark runs on.
type benchFile struct {
	label  string   // the row label: "zlib", "raw ELF", "1 TiB sparse" ...
	origin string   // who wrote it: "makedumpfile -c", "writer", "real"
	paths  []string // the dump's files
}

func (f benchFile) String() string { return f.label + " (" + f.origin + ")" }

// fileSet is every file of a run.
type fileSet struct {
	codecs      []benchFile // per codec: zlib, lzo, snappy, zstd, none
	elf         benchFile
	sparse      []benchFile // 16 GiB, 1 TiB
	real        []benchFile // real kdumps
	flat, flatR benchFile   // flattened stream and its rearranged file
}

// codecsELFReal is the codec files, the ELF file and the real dumps, in
// that order: the files the pages, verify and find sections read page by
// page.
func (fs fileSet) codecsELFReal() []benchFile {
	files := append(append([]benchFile{}, fs.codecs...), fs.elf)
	return append(files, fs.real...)
}

// generator makes the files into dir.
type generator struct {
	dir       string
	pages     int // pages per codec file
	elfPages  int
	flatPages int
	realPaths []string
	log       func(format string, args ...any)

	corpus  [][]byte          // real pages to fill files with
	at      map[uint64][]byte // the real pages by their pfn in the fixture
	span    uint64            // one past the fixture's highest stored pfn
	vmci    []byte            // a real VMCOREINFO, which makedumpfile needs
	fixture string            // the real zlib fixture, "" when absent
	tag     string            // genVersion and where the pages come from, for file names
	mdf     string            // makedumpfile, "" when absent
}

// makeFiles makes (or finds) every file.
func (g *generator) makeFiles() (*fileSet, error) {
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		return nil, err
	}
	g.mdf, _ = exec.LookPath("makedumpfile")
	if err := g.loadCorpus(); err != nil {
		return nil, err
	}
	fs := &fileSet{}
	none, err := g.kdump("none", g.pages)
	if err != nil {
		return nil, err
	}
	for _, c := range []string{"zlib", "lzo", "snappy", "zstd"} {
		f, err := g.codecFile(c, none)
		if err != nil {
			return nil, err
		}
		fs.codecs = append(fs.codecs, f)
	}
	fs.codecs = append(fs.codecs, benchFile{"none", "writer", []string{none}})
	if fs.elf, err = g.elfFile(); err != nil {
		return nil, err
	}
	for _, s := range []struct {
		label string
		bytes uint64
	}{{"16 GiB sparse", 16 << 30}, {"1 TiB sparse", 1 << 40}} {
		f, err := g.sparseFile(s.label, s.bytes/4096)
		if err != nil {
			return nil, err
		}
		fs.sparse = append(fs.sparse, f)
	}
	if g.fixture != "" {
		fs.real = append(fs.real, benchFile{"real zlib " + filepath.Base(g.fixture), "makedumpfile -c -d 31", []string{g.fixture}})
	}
	for _, p := range g.realPaths {
		fs.real = append(fs.real, benchFile{"real zlib " + filepath.Base(p), "real", []string{p}})
	}
	if g.mdf != "" && g.flatPages == g.pages {
		fs.flat, fs.flatR, err = g.flatFiles(none)
		if err != nil {
			g.log("%v; the flattened stream is written in makedumpfile -F order instead", err)
		}
	}
	if g.mdf == "" || g.flatPages != g.pages || err != nil {
		if fs.flat, fs.flatR, err = g.emulatedFlat(); err != nil {
			return nil, err
		}
	}
	return fs, nil
}

// loadCorpus reads the pages and VMCOREINFO of the real fixture, or makes
// synthetic pages without it.
func (g *generator) loadCorpus() error {
	path, err := fixturePath("x86_64/mdf-zlib-d31.kdump")
	if err != nil {
		g.log("real fixture unavailable (%v): synthetic pages", err)
		g.corpus = syntheticPages(4096)
		g.vmci = []byte("OSRELEASE=6.1.0-bench\nPAGESIZE=4096\n")
		g.tag = genVersion + "-synthetic2" // 2: the text pages hold "Linux version"
		return nil
	}
	g.fixture, g.tag = path, genVersion
	d, err := dsOpen(path)
	if err != nil {
		return err
	}
	defer d.Close()
	pfns, err := d.PresentPFNs()
	if err != nil {
		return err
	}
	g.at = map[uint64][]byte{}
	for _, p := range pfns {
		buf := make([]byte, d.PageSize())
		if err := d.ReadPage(p, buf); err != nil {
			return fmt.Errorf("%s: pfn %#x: %v", path, p, err)
		}
		g.corpus = append(g.corpus, buf)
		g.at[p] = buf
		g.span = p + 1
	}
	g.vmci = d.VMCoreInfo()
	if len(g.corpus) == 0 {
		return fmt.Errorf("%s stores no pages", path)
	}
	return nil
}

// syntheticPages makes pages like kernel memory: tables of pointers, text,
// pages half random and half zero.
func syntheticPages(n int) [][]byte {
	rng := rand.New(rand.NewPCG(7, 11))
	out := make([][]byte, n)
	for i := range out {
		p := make([]byte, 4096)
		switch i % 3 {
		case 0:
			for j := 0; j < 4096; j += 8 {
				v := 0xffff888000000000 + uint64(i)<<12 + uint64(rng.IntN(64))<<6
				for k := 0; k < 8; k++ {
					p[j+k] = byte(v >> (8 * k))
				}
			}
		case 1:
			copy(p, bytes.Repeat([]byte(fmt.Sprintf("[%8d.%06d] Linux version 6.1.0-bench: message %d\n", i, rng.IntN(1e6), rng.IntN(1000))), 60))
		case 2:
			for j := 0; j < 2048; j++ {
				p[j] = byte(rng.Uint32())
			}
		}
		out[i] = p
	}
	return out
}

// page returns the page the generated files hold at pfn: the real dump's
// pages at their own pfns, over and over, and where the real dump stores
// no page, one of its other pages. The first copy keeps the kernel's
// structures at their physical addresses, so that makedumpfile, which
// reads utsname through the page tables, accepts the files.
func (g *generator) page(pfn uint64) []byte {
	if p, ok := g.at[pfn%max(g.span, 1)]; ok {
		return p
	}
	return g.corpus[pfn%uint64(len(g.corpus))]
}

// fresh reports whether path exists already; otherwise the caller writes
// it (through a temporary name, renamed when complete).
func fresh(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// writeAtomically writes path through fn on a temporary file.
func writeAtomically(path string, fn func(f *os.File) error) error {
	tmp := path + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// kdump writes a kdump file of n pages (pfns 0..n-1) with the writer.
func (g *generator) kdump(codec string, n int) (string, error) {
	path := filepath.Join(g.dir, fmt.Sprintf("%s-writer-%s-%d.kdump", g.tag, codec, n))
	if fresh(path) {
		return path, nil
	}
	g.log("writing %s", path)
	k := &dumptest.Kdump{Version: 6, Codec: codec, MaxMapnr: uint64(n), NumPages: uint64(n), PageFunc: g.page,
		SharedZeroPage: true, Utsname: [6]string{"Linux", "bench", "6.1.0", "#1 SMP", "x86_64", ""},
		NrCPUs: 2, DumpLevel: 1, VMCoreInfo: g.vmci}
	return path, writeAtomically(path, func(f *os.File) error {
		_, err := k.WriteTo(f)
		return err
	})
}

// codecFile makes the file of one codec: makedumpfile re-compresses the
// uncompressed file for zlib and lzo when it can, the writer does the rest.
func (g *generator) codecFile(codec, none string) (benchFile, error) {
	flag := map[string]string{"zlib": "-c", "lzo": "-l"}[codec]
	if flag != "" && g.mdf != "" {
		path := filepath.Join(g.dir, fmt.Sprintf("%s-mdf-%s-%d.kdump", g.tag, codec, g.pages))
		f := benchFile{codec, "makedumpfile " + flag, []string{path}}
		if fresh(path) {
			return f, nil
		}
		g.log("writing %s with makedumpfile %s", path, flag)
		os.Remove(path + ".partial")
		out, err := exec.Command(g.mdf, flag, "-d", "1", none, path+".partial").CombinedOutput()
		if err == nil {
			return f, os.Rename(path+".partial", path)
		}
		g.log("makedumpfile %s failed (%v): %s; the writer makes the %s file", flag, err, lastLine(out), codec)
	}
	path, err := g.kdump(codec, g.pages)
	return benchFile{codec, "writer", []string{path}}, err
}

// lastLine returns the last non-empty line of a command's output.
func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// elfFile writes the raw ELF vmcore.
func (g *generator) elfFile() (benchFile, error) {
	path := filepath.Join(g.dir, fmt.Sprintf("%s-writer-elf-%d.vmcore", g.tag, g.elfPages))
	f := benchFile{"raw ELF", "writer", []string{path}}
	if fresh(path) {
		return f, nil
	}
	g.log("writing %s", path)
	// 0x1000-0x9f000 (158 pages), then from 1 MiB; a quarter of the pages
	// (runs of 64) are zero, as free memory often is in /proc/vmcore.
	const low = 158
	data := make([]byte, g.elfPages*4096)
	for i := 0; i < g.elfPages; i++ {
		if (i/64)%4 != 3 {
			copy(data[i*4096:], g.page(uint64(i)))
		}
	}
	c := &dumptest.ELFCore{Class: elf.ELFCLASS64, Machine: elf.EM_X86_64,
		Notes: []dumptest.ELFNote{{Name: "VMCOREINFO", Desc: g.vmci}},
		Segments: []dumptest.ELFSegment{
			{Paddr: 0x1000, Vaddr: 0xffff888000001000, Data: data[:low*4096]},
			{Paddr: 0x100000, Vaddr: 0xffff888000100000, Data: data[low*4096:]},
		}}
	b, _ := c.Bytes()
	return f, writeAtomically(path, func(f *os.File) error {
		_, err := f.Write(b)
		return err
	})
}

// sparseFile writes a zlib kdump whose max_mapnr is frames: RAM everywhere
// but pfns 0x9f-0xff and 3-4 GiB, 65 536 pages stored in 256 clusters of
// 256 pages spread evenly from 4 GiB up, the rest excluded.
func (g *generator) sparseFile(label string, frames uint64) (benchFile, error) {
	path := filepath.Join(g.dir, fmt.Sprintf("%s-writer-sparse-%d.kdump", g.tag, frames))
	f := benchFile{label, "writer, zlib", []string{path}}
	if fresh(path) {
		return f, nil
	}
	g.log("writing %s", path)
	const clusters, per, high = 256, 256, 0x100000 // 4 GiB in 4 KiB frames
	pages := make(map[uint64][]byte, clusters*per)
	step := (frames - high) / clusters
	for c := uint64(0); c < clusters; c++ {
		for i := uint64(0); i < per; i++ {
			p := high + c*step + i
			pages[p] = g.page(p)
		}
	}
	k := &dumptest.Kdump{Version: 6, Codec: "zlib", MaxMapnr: frames, Pages: pages,
		RAM:            [][2]uint64{{0, 0x9f}, {0x100, 0xc0000}, {high, frames}},
		SharedZeroPage: true, Utsname: [6]string{"Linux", "bench", "6.1.0", "#1 SMP", "x86_64", ""},
		NrCPUs: 2, DumpLevel: 31, VMCoreInfo: g.vmci}
	return f, writeAtomically(path, func(f *os.File) error {
		_, err := k.WriteTo(f)
		return err
	})
}

// flatFiles writes a flattened stream with makedumpfile -F -c from src, and
// the file makedumpfile -R rebuilds from it.
func (g *generator) flatFiles(src string) (flat, rearranged benchFile, err error) {
	base := strings.TrimSuffix(filepath.Base(src), ".kdump")
	fpath := filepath.Join(g.dir, base+"-mdf-F-zlib.flat")
	rpath := filepath.Join(g.dir, base+"-mdf-F-zlib-R.kdump")
	flat = benchFile{"zlib, flattened", "makedumpfile -F -c", []string{fpath}}
	rearranged = benchFile{"zlib, rearranged", "makedumpfile -R", []string{rpath}}
	if !fresh(fpath) {
		g.log("writing %s with makedumpfile -F -c", fpath)
		err = writeAtomically(fpath, func(f *os.File) error {
			cmd := exec.Command(g.mdf, "-F", "-c", "-d", "1", src)
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = f, &stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("makedumpfile -F: %v: %s", err, lastLine(stderr.Bytes()))
			}
			return nil
		})
		if err != nil {
			return
		}
	}
	if !fresh(rpath) {
		g.log("writing %s with makedumpfile -R", rpath)
		os.Remove(rpath + ".partial")
		err = runWithStdin(fpath, g.mdf, "-R", rpath+".partial")
		if err == nil {
			err = os.Rename(rpath+".partial", rpath)
		}
	}
	return
}

// emulatedFlat writes a writer-made zlib kdump of flatPages pages and a
// flattened stream of it in makedumpfile -F's record order: the kdump file
// is what rearranging the stream gives.
func (g *generator) emulatedFlat() (flat, rearranged benchFile, err error) {
	src, err := g.kdump("zlib", g.flatPages)
	if err != nil {
		return
	}
	fpath := strings.TrimSuffix(src, ".kdump") + "-F-order.flat"
	flat = benchFile{"zlib, flattened", "writer, in makedumpfile -F order", []string{fpath}}
	rearranged = benchFile{"zlib, plain", "writer: the stream's source", []string{src}}
	if !fresh(fpath) {
		g.log("writing %s in makedumpfile -F order", fpath)
		err = writeAtomically(fpath, func(f *os.File) error { return flatstream.Write(f, src) })
	}
	return
}

// runWithStdin runs a command with a file as its standard input.
func runWithStdin(in string, name string, args ...string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(name, args...)
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", name, err, lastLine(out))
	}
	return nil
}

// fixturePath finds a real fixture as the tests do (dumptest.Fixture): in
// $DUMPSCOPE_FIXTURES or ../shared/fixtures beside the module root,
// decompressed once into the same cache, its sha256 checked against
// MANIFEST.tsv.
func fixturePath(name string) (string, error) {
	dir := os.Getenv("DUMPSCOPE_FIXTURES")
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "..", "shared", "fixtures")
	}
	want, err := manifestSHA(filepath.Join(dir, "MANIFEST.tsv"), name)
	if err != nil {
		return "", err
	}
	out := filepath.Join(os.TempDir(), "dumpscope-fixtures", want[:16], filepath.Base(name))
	if fresh(out) {
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	in, err := os.Open(filepath.Join(dir, name+".zst"))
	if err != nil {
		return "", err
	}
	defer in.Close()
	dec, err := zstd.NewReader(in)
	if err != nil {
		return "", err
	}
	defer dec.Close()
	h := sha256.New()
	err = writeAtomically(out, func(f *os.File) error {
		if _, err := io.Copy(io.MultiWriter(f, h), dec); err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			return fmt.Errorf("%s: sha256 %s, MANIFEST.tsv says %s", name, got, want)
		}
		return nil
	})
	return out, err
}

// manifestSHA returns the sha256 MANIFEST.tsv gives a fixture.
func manifestSHA(manifest, name string) (string, error) {
	f, err := os.Open(manifest)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if cols := strings.Split(sc.Text(), "\t"); len(cols) >= 4 && cols[0] == name && len(cols[3]) == 64 {
			return cols[3], nil
		}
	}
	return "", fmt.Errorf("%s is not in %s", name, manifest)
}

// moduleRoot finds the folder holding go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fresh(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
