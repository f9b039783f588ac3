package open

import (
	"context"
	"fmt"
	"io"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/flat"
)

// Rearrange writes the standard file a flattened stream holds, as
// makedumpfile -R does: every record's bytes at its offset, later records
// winning, holes as zeros. in is a local path or a URL; it is read once,
// from start to end. create is called for the output only once the input
// is known to be a flattened stream, so a bad input creates nothing. It
// returns the bytes written and the stream's own problems (a missing end
// marker, a cut record). An input that is not a flattened stream is an
// error wrapping model.ErrUnsupported.
func Rearrange(ctx context.Context, opts Options, in string, create func() (io.Writer, error), progress func(done, total int64)) (int64, []model.Problem, error) {
	var src reader.Source
	var err error
	if isURL(in) {
		src, err = openRemote(ctx, in, opts)
	} else {
		src, err = openFile(in)
	}
	if err != nil {
		return 0, nil, err
	}
	defer reader.Close(src.R)
	formats, _, err := reader.Detect(src, Chain, reader.ProbeSize)
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
	n, err := stream.Rearrange(ctx, w, progress)
	if err != nil {
		return n, stream.Problems(), fmt.Errorf("%s: %w", src.Name, err)
	}
	return n, stream.Problems(), nil
}

// article puts "a" or "an" before a format's name.
func article(name string) string {
	switch name[0] {
	case 'A', 'E', 'a', 'e', 'i', 'o', 'u':
		return "an " + name
	}
	return "a " + name
}
