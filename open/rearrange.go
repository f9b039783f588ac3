package open

import (
	"context"
	"errors"
	"fmt"
	"io"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/flat"
)

// Rearrange writes the standard file a flattened stream holds, as
// makedumpfile -R does: every record's bytes at its offset, later records
// winning, holes as zeros (holes of a sparse file where the writer create
// returns can seek, as a file can; see flat.File.Rearrange). in is a local
// path or a URL; it is read once, from start to end. create is called for
// the output only once the input is known to be a flattened stream, so a
// bad input creates nothing. It returns the bytes written and the stream's
// own problems (a missing end marker, a cut record). An input that is not
// a flattened stream is an error wrapping model.ErrUnsupported. A stream
// that ends before its end marker is written as far as it goes, and then
// is an *IncompleteError (wrapping model.ErrTruncated): the output lacks
// what the stream lost.
func Rearrange(ctx context.Context, opts Options, in string, create func() (io.Writer, error), progress func(done, total int64)) (int64, []model.Problem, error) {
	src, err := opts.openInput(ctx, in)
	if err != nil {
		return 0, nil, err
	}
	defer reader.Close(src.R)
	formats, _, err := reader.Detect(src, Chain(), reader.ProbeSize)
	if err != nil {
		return 0, nil, err
	}
	if formats[0].Name != flat.Format().Name {
		return 0, nil, model.Errorf(src.Name, "", -1, model.ErrUnsupported,
			"is %s, not a flattened stream: there is nothing to rearrange", article(formats[0].Name))
	}
	stream, err := flat.NewFile(src)
	if err != nil {
		return 0, nil, err
	}
	w, err := create()
	if err != nil {
		return 0, nil, err
	}
	out := &outputWriter{w: w}
	n, err := stream.Rearrange(ctx, out, progress)
	switch {
	case out.err != nil:
		return n, stream.Problems(), out.err // the caller's writer's own error
	case err != nil:
		var fe *model.FormatError
		if !errors.As(err, &fe) { // a FormatError names the file already
			err = fmt.Errorf("%s: %w", src.Name, err)
		}
		return n, stream.Problems(), err
	}
	if end, lacking := stream.Ending(); !end {
		recs, _ := stream.Records()
		return n, stream.Problems(), &IncompleteError{Stream: src.Name, Written: n, Records: recs, Lacking: lacking}
	}
	return n, stream.Problems(), nil
}

// IncompleteError says that a stream ended before its end marker, so the
// file rearranged from it lacks what the stream lost.
type IncompleteError struct {
	Stream  string
	Written int64 // bytes of the logical file written
	Records int64 // records read
	// Lacking is how many payload bytes the record the stream was cut in
	// lacks; 0 when the cut fell between records or the stream broke at a
	// record that makes no sense: then how much is missing is unknown.
	Lacking int64
}

func (e *IncompleteError) Error() string {
	if e.Lacking > 0 {
		return fmt.Sprintf("%s: the stream is cut inside record %d, whose last %d payload bytes are missing, and has no end marker: the output is incomplete (whatever followed the cut is missing too)",
			e.Stream, e.Records-1, e.Lacking)
	}
	return fmt.Sprintf("%s: the stream ends after %d records without its end marker: the output is incomplete (how many bytes are missing is unknown)", e.Stream, e.Records)
}

func (e *IncompleteError) Unwrap() error { return model.ErrTruncated }

// article puts "a" or "an" before a format's name.
func article(name string) string {
	switch name[0] {
	case 'A', 'E', 'a', 'e', 'i', 'o', 'u':
		return "an " + name
	}
	return "a " + name
}

// outputWriter keeps the error of the caller's writer, so that it is told
// apart from an error reading the stream.
type outputWriter struct {
	w   io.Writer
	err error
}

func (o *outputWriter) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	if err != nil && o.err == nil {
		o.err = err
	}
	return n, err
}

// Seek passes a seek on to the caller's writer where it has one, so that
// holes of the stream stay holes of the output (flat.File.Rearrange).
func (o *outputWriter) Seek(off int64, whence int) (int64, error) {
	s, ok := o.w.(io.Seeker)
	if !ok {
		return 0, errors.ErrUnsupported
	}
	return s.Seek(off, whence)
}
