package reader

import (
	"errors"
	"fmt"
	"math"
	"os"

	"dumpscope/model"
	"dumpscope/reader/aix"
	"dumpscope/reader/elfcore"
	"dumpscope/reader/flat"
	"dumpscope/reader/kdump"
	"dumpscope/reader/rio"
	"dumpscope/reader/xencore"
)

// Open opens the files of one dump read-only: one file, or every part of a
// split set in any order.
func Open(paths ...string) (Dump, error) {
	if len(paths) == 0 {
		return nil, errors.New("no dump file given")
	}
	srcs := make([]rio.Source, 0, len(paths))
	closeAll := func() {
		for _, s := range srcs {
			rio.Close(s.R)
		}
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: %w", p, unwrapPathError(err))
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			closeAll()
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if st.IsDir() {
			f.Close()
			closeAll()
			return nil, fmt.Errorf("%s: is a directory", p)
		}
		srcs = append(srcs, rio.Source{Name: p, R: f, Size: st.Size()})
	}
	d, err := OpenSources(srcs...)
	if err != nil {
		closeAll()
		return nil, err
	}
	return d, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// OpenSources opens a dump from already opened sources (files, or an
// embedded demo dump in memory). On success the dump owns the sources and
// closes them; on failure the caller does.
func OpenSources(srcs ...rio.Source) (Dump, error) {
	if len(srcs) == 0 {
		return nil, errors.New("no dump file given")
	}
	if len(srcs) > 1 {
		return openSet(srcs)
	}
	return openOne(srcs[0])
}

// openOne detects the format of one file and opens it.
func openOne(src rio.Source) (Dump, error) {
	det, err := Detect(src)
	if err != nil {
		return nil, err
	}
	switch det.Kind {
	case KindELF:
		if det.XenCore {
			f, err := xencore.NewFile(src)
			if errors.Is(err, model.ErrUnrecognized) {
				// ELF64 with sections but no .note.Xen: not a Xen core.
				return elfcore.NewFile(src)
			}
			if err != nil {
				return nil, err
			}
			return f, nil
		}
		return elfcore.NewFile(src)
	case KindFlattened:
		return openFlattened(src)
	case KindKdump, KindDiskdump:
		f, err := kdump.NewFile(src)
		if err != nil {
			return nil, err
		}
		if f.IsSplit() {
			// A lone split part is a set with parts missing.
			return kdump.NewSet([]*kdump.File{f})
		}
		return f, nil
	case KindXenLegacy:
		f, err := xencore.NewLegacyFile(src)
		if err != nil {
			return nil, err
		}
		return f, nil
	case KindAIX:
		return aix.NewFile(src, det.Offset)
	}
	return nil, model.Errorf(src.Name, "", -1, model.ErrUnrecognized, "unknown format")
}

// openSet opens the parts of a split set.
func openSet(srcs []rio.Source) (Dump, error) {
	var parts []*kdump.File
	for _, s := range srcs {
		det, err := Detect(s)
		if err != nil {
			return nil, err
		}
		if det.Kind != KindKdump && det.Kind != KindDiskdump {
			return nil, model.Errorf(s.Name, "", -1, model.ErrUnsupported,
				"is a %s; only kdump-compressed files can form a split set (the files of one command are one dump)", det.Kind)
		}
		f, err := kdump.NewFile(s)
		if err != nil {
			return nil, err
		}
		parts = append(parts, f)
	}
	return kdump.NewSet(parts)
}

// openFlattened opens a flattened stream and the dump inside it, which may
// be kdump-compressed or ELF (formats.md §2.4).
func openFlattened(src rio.Source) (Dump, error) {
	stream, err := flat.NewFile(src)
	if err != nil {
		return nil, err
	}
	logical := rio.Source{Name: src.Name, R: stream, Size: math.MaxInt64, Stream: stream}
	// Only kdump and ELF can be inside, and their magics are in the first
	// 64 bytes; reading more could touch a range no record covers, which
	// is known to be a hole only after the whole stream is scanned.
	det, err := detectN(logical, 64)
	if err != nil {
		return nil, fmt.Errorf("inside the flattened stream: %w", err)
	}
	switch det.Kind {
	case KindKdump, KindDiskdump:
		f, err := kdump.NewFile(logical)
		if err != nil {
			return nil, err
		}
		if f.IsSplit() {
			return kdump.NewSet([]*kdump.File{f})
		}
		return f, nil
	case KindELF:
		if !det.XenCore {
			return elfcore.NewFile(logical)
		}
	}
	return nil, model.Errorf(src.Name, "", -1, model.ErrUnsupported, "a flattened stream holding a %s is not supported", det.Kind)
}
