package main

import (
	"errors"
	"fmt"
	"os"

	"dumpscope/open"
)

// Outputs: the files a command writes (verify --manifest OUT, rearrange
// OUT). An output is created only once the command's inputs are open, and
// never over one of them, however it is named: another path, a symbolic
// link or a hard link to the dump all name the same file, which
// os.SameFile recognises from what the open files say of themselves.

// output is a file a command writes.
type output struct {
	*os.File
	// created is true when the command created the file, so that it may
	// remove it again when it fails; a file that existed is never removed
	// (it may be a device: /dev/null, /dev/full).
	created bool
}

// discard closes the output and removes it if the command created it.
func (o *output) discard() {
	o.Close()
	if o.created {
		os.Remove(o.Name())
	}
}

// createOutput opens path for writing, creating it if needed, after the
// inputs are open. It opens without truncating, checks that the file is
// not one of the inputs, and only then empties it (a regular file). Errors
// name the path and say what is wrong, as usage errors.
func (rc *runContext) createOutput(path string) (*output, error) {
	if err := rc.notAnInput(path); err != nil {
		return nil, err
	}
	created := true
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		created = false
		f, err = os.OpenFile(path, os.O_WRONLY, 0)
	}
	if err != nil {
		return nil, usageError{fmt.Sprintf("%s: %v", open.DisplayName(path), pathErr(err))}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", open.DisplayName(path), pathErr(err))
	}
	for _, in := range rc.inputs {
		if os.SameFile(st, in.st) {
			f.Close()
			return nil, sameFileError(path, in.name)
		}
	}
	if st.Mode().IsRegular() && !created {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", open.DisplayName(path), pathErr(err))
		}
	}
	return &output{f, created}, nil
}

// notAnInput checks, before anything is opened for writing, that an
// existing path is not one of the inputs, so that not even opening it can
// disturb the dump.
func (rc *runContext) notAnInput(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return nil // it does not exist yet, or createOutput says why not
	}
	for _, in := range rc.inputs {
		if os.SameFile(st, in.st) {
			return sameFileError(path, in.name)
		}
	}
	return nil
}

func sameFileError(out, in string) error {
	out = open.DisplayName(out)
	if out == in {
		return usageError{fmt.Sprintf("%s: is the dump being read: refusing to write over it", out)}
	}
	return usageError{fmt.Sprintf("%s: is the same file as the input %s: refusing to write over it", out, in)}
}

// pathErr drops the operation and path os errors repeat ("open FILE: ...").
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
