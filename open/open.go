// Package open turns file names, URLs (package open/remote) and
// in-memory images into a reader.Dump: it holds the probe chain, the list
// of formats tried in order, and opens the parts of a split set together.
//
// The chain is the order of formats.md §0 that avoids false positives:
// makedumpfile's flattened stream first (a container that wraps the
// others), then kdump-compressed and diskdump, the Xen dump-core (an ELF
// file of a particular shape, so before plain ELF), ELF vmcores, the
// legacy Xen core, and AIX dumps at offset 0 or 512. A new format is one
// package and one line here.
package open

import (
	"context"
	"errors"
	"io/fs"
	"os"

	"dumpscope/model"
	"dumpscope/open/remote"
	"dumpscope/reader"
	"dumpscope/reader/aix"
	"dumpscope/reader/elfcore"
	"dumpscope/reader/flat"
	"dumpscope/reader/kdump"
	"dumpscope/reader/xencore"
)

// Chain is the probe chain, in the order formats are tried. It is made
// when a file is opened, not at process start.
func Chain() []reader.Format {
	return []reader.Format{
		flat.Format(kdump.Format, elfcore.Format),
		kdump.Format,
		xencore.Format,
		elfcore.Format,
		xencore.LegacyFormat,
		aix.Format,
	}
}

// Options say how inputs are opened.
type Options struct {
	// Remote tunes the objects of http(s):// and s3:// inputs.
	Remote remote.Options
	// OnRemote, if not nil, is told of every remote object opened, so that
	// a caller can report what reading it cost (Object.Stats).
	OnRemote func(*remote.Object)
	// OnLocal, if not nil, is told of every local file opened, with what
	// the open file says of itself (os.File.Stat), so that a caller can
	// refuse to write over an input however it is named (os.SameFile).
	OnLocal func(name string, st fs.FileInfo)
}

// Open opens the files of one dump read-only: one file, or every part of a
// split set in any order. A path may be an http://, https:// or s3://
// URL, read with default options (see With).
func Open(paths ...string) (reader.Dump, error) {
	return With(context.Background(), Options{}, paths...)
}

// With opens the inputs of one dump read-only, local files and URLs alike
// (a split set may mix them). ctx bounds the opening; remote objects read
// later end when the dump is closed.
func With(ctx context.Context, opts Options, paths ...string) (reader.Dump, error) {
	if len(paths) == 0 {
		return nil, errors.New("no dump file given")
	}
	srcs := make([]reader.Source, 0, len(paths))
	closeAll := func() {
		for _, s := range srcs {
			reader.Close(s.R)
		}
	}
	for _, p := range paths {
		var src reader.Source
		var err error
		if src, err = opts.openInput(ctx, p); err != nil {
			closeAll()
			return nil, err
		}
		srcs = append(srcs, src)
	}
	d, err := Sources(srcs...)
	if err != nil {
		closeAll()
		return nil, err
	}
	return d, nil
}

// openInput opens one input, a URL or a local file.
func (opts Options) openInput(ctx context.Context, p string) (reader.Source, error) {
	if isURL(p) {
		return openRemote(ctx, p, opts)
	}
	src, err := openFile(p)
	if err == nil && opts.OnLocal != nil {
		if f, ok := src.R.(*os.File); ok {
			if st, err := f.Stat(); err == nil {
				opts.OnLocal(src.Name, st)
			}
		}
	}
	if err == nil {
		// Pages read in file order come from windows of read-ahead: one
		// read system call per 256 KiB instead of one per page.
		src.R = reader.NewReadAhead(src.R, reader.DefaultReadAhead)
	}
	return src, err
}

// isURL reports whether an input names a remote object rather than a
// local file.
func isURL(p string) bool { return remote.IsURL(p) }

// openRemote opens one URL. Its errors name the URL redacted (no query
// string, no user information).
func openRemote(ctx context.Context, url string, opts Options) (reader.Source, error) {
	o, err := remote.Open(ctx, url, opts.Remote)
	if err != nil {
		return reader.Source{}, err
	}
	if opts.OnRemote != nil {
		opts.OnRemote(o)
	}
	return reader.Source{Name: o.Name(), R: o, Size: o.Size()}, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Sources opens a dump from already opened sources (files, or an embedded
// demo dump in memory). On success the dump owns the sources and closes
// them; on failure the caller does.
func Sources(srcs ...reader.Source) (reader.Dump, error) {
	switch len(srcs) {
	case 0:
		return nil, errors.New("no dump file given")
	case 1:
		return reader.OpenWith(srcs[0], Chain(), reader.ProbeSize)
	}
	return openSet(srcs)
}

// openSet opens the parts of a split set: kdump-compressed files only.
func openSet(srcs []reader.Source) (reader.Dump, error) {
	var parts []*kdump.File
	for _, s := range srcs {
		formats, _, err := reader.Detect(s, Chain(), reader.ProbeSize)
		if err != nil {
			return nil, err
		}
		if formats[0].Name != kdump.Format.Name {
			return nil, model.Errorf(s.Name, "", -1, model.ErrUnsupported,
				"is %s; only kdump-compressed files can form a split set (the files of one command are one dump)", article(formats[0].Name))
		}
		f, err := kdump.NewFile(s)
		if err != nil {
			return nil, err
		}
		parts = append(parts, f)
	}
	return kdump.NewSet(parts)
}
