package main

// The dumpscope side of the benchmark: everything the benchmark asks of
// dumpscope goes through this file, and only this file imports dumpscope's
// reader packages. When the reader API moves or is renamed, port this file
// alone; the rest of the benchmark speaks in plain values (uint64 pfns,
// []byte pages, codec names as strings).
//
// The API used here:
//
//	open.Open(paths...) (reader.Dump, error)        open the files of one dump
//	inspect.New(d).InfoWithCounts(ctx)              what `info` prints (header facts, frame counts)
//	Dump.Close
//	Dump.Runs(ctx, from, detail, yield)              runs of frames by state
//	Dump.PageInfo(pfn)                               state, codec, stored size, file offset
//	Dump.ReadPage(pfn, dst, reader.ReadOptions{})    one decoded page
//	Dump.ReadFile(file, p, off)                      raw bytes of the (logical) file
//	Dump.VMCoreInfo()                                the raw VMCOREINFO text
//	reader.Indexer                                   flattened streams: build the index
//	inspect.Verify(ctx, d, inspect.VerifyOptions{Jobs})
//	inspect.Find(ctx, d, pattern, inspect.FindOptions{}, hit)
//	codec.NewDecoder(pageSize), Decoder.Strict, Decoder.Decode(codec, src, dst), Decoder.Close

import (
	"context"
	"fmt"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/codec"
)

// dsDump is one open dump.
type dsDump struct {
	d reader.Dump
}

// dsOpen opens the files of one dump (one file, or the parts of a split set).
func dsOpen(paths ...string) (*dsDump, error) {
	d, err := open.Open(paths...)
	if err != nil {
		return nil, err
	}
	return &dsDump{d}, nil
}

// Close releases the files.
func (d *dsDump) Close() error { return d.d.Close() }

// PageSize is the dump's page size in bytes.
func (d *dsDump) PageSize() int { return int(d.d.Info().PageSize) }

// Info does what `info` does after opening: the header facts and the
// frame counts it prints. It returns the number of present frames, so
// that the work cannot be optimised away. (The session is not closed: it
// would close the dump, which the caller does.)
func (d *dsDump) Info() uint64 {
	in, err := inspect.New(d.d).InfoWithCounts(context.Background())
	if err != nil {
		return 0
	}
	return in.Pages[model.StatePresent]
}

// Index builds the whole index of a flattened stream (a no-op for other
// dumps), as commands that read many pages do before they start.
func (d *dsDump) Index() error {
	if ix, ok := d.d.(reader.Indexer); ok {
		return ix.Index(context.Background(), nil)
	}
	return nil
}

// PresentPFNs lists the frames whose data the dump stores, in order.
func (d *dsDump) PresentPFNs() ([]uint64, error) {
	var out []uint64
	err := d.d.Runs(context.Background(), 0, false, func(r model.PageRun) bool {
		if r.State == model.StatePresent {
			for p := r.Start; p < r.End(); p++ {
				out = append(out, uint64(p))
			}
		}
		return true
	})
	return out, err
}

// ReadPage reads one decoded page into buf (one page long).
func (d *dsDump) ReadPage(pfn uint64, buf []byte) error {
	_, err := d.d.ReadPage(model.PFN(pfn), buf, reader.ReadOptions{})
	return err
}

// VMCoreInfo returns the raw VMCOREINFO text, or nil.
func (d *dsDump) VMCoreInfo() []byte {
	v, err := d.d.VMCoreInfo()
	if err != nil {
		return nil
	}
	return v.Raw
}

// Verify runs verify's checks with jobs page workers and returns the page
// bytes it checked.
func (d *dsDump) Verify(jobs int) (uint64, error) {
	r, err := inspect.Verify(context.Background(), d.d, inspect.VerifyOptions{Jobs: jobs})
	if err != nil {
		return 0, err
	}
	if !r.OK {
		return r.BytesChecked, fmt.Errorf("verify found %d errors; first: %v", r.Count(model.SeverityError), r.Problems[0])
	}
	return r.BytesChecked, nil
}

// Find searches every readable page for pattern and returns the number of
// matches.
func (d *dsDump) Find(pattern []byte, jobs int) (int, error) {
	hits := 0
	err := inspect.Find(context.Background(), d.d, pattern, inspect.FindOptions{Jobs: jobs}, func(model.SearchHit) bool {
		hits++
		return true
	})
	return hits, err
}

// storedPage is one page as the file stores it: its codec and its bytes.
type storedPage struct {
	codec string
	data  []byte
}

// StoredPages reads the stored image of every frame of pfns.
func (d *dsDump) StoredPages(pfns []uint64) ([]storedPage, error) {
	files := d.d.Info().Files
	out := make([]storedPage, 0, len(pfns))
	for _, p := range pfns {
		pi := d.d.PageInfo(model.PFN(p))
		if pi.State != model.StatePresent || pi.FileOffset < 0 || pi.StoredSize <= 0 || pi.StoredSize > int64(d.PageSize()) {
			return nil, fmt.Errorf("pfn %#x: %s, stored size %d: not a stored page", p, pi.State, pi.StoredSize)
		}
		file := pi.File
		if file == "" {
			file = files[0]
		}
		b := make([]byte, pi.StoredSize)
		if n, err := d.d.ReadFile(file, b, int64(pi.FileOffset)); n != len(b) {
			return nil, fmt.Errorf("pfn %#x: reading %d stored bytes at %#x: %v", p, len(b), pi.FileOffset, err)
		}
		out = append(out, storedPage{string(pi.Codec), b})
	}
	return out, nil
}

// dsDecoder is dumpscope's page decoder, strict as verify uses it: the
// codec alone, the ceiling of what verify can reach.
type dsDecoder struct{ dec *codec.Decoder }

func newDSDecoder(pageSize int) *dsDecoder {
	dec := codec.NewDecoder(pageSize)
	dec.Strict = true
	return &dsDecoder{dec}
}

// Decode decodes one stored page into dst.
func (d *dsDecoder) Decode(c string, src, dst []byte) error {
	return d.dec.Decode(model.Codec(c), src, dst)
}

// Close releases the decoder.
func (d *dsDecoder) Close() { d.dec.Close() }
