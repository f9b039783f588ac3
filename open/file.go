package open

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"unicode"
	"unicode/utf8"

	"dumpscope/model"
	"dumpscope/reader"
)

// Local files.
//
// A dump is a regular file or a block device (a dump partition, a disk
// image attached as a loop device). Anything else is refused by what it
// is, before it is opened for reading: opening a FIFO that no process
// writes blocks for ever, and character devices (/dev/zero, /dev/urandom)
// and sockets have no size and no fixed contents. Regular files of pseudo
// file systems (sysfs, debugfs; procfs files of size 0) have sizes that
// do not say what they hold, and are refused with that explanation;
// /proc/vmcore and /proc/kcore report their size and are read like any
// other file.

// DisplayName is how a path is named in messages: as given when it is
// printable UTF-8, else quoted with Go's escapes ("a\xffb.vmcore"), so
// that no byte of a strange or hostile name reaches a terminal (escape
// sequences) or a tabwriter (0xff is its escape byte) raw. The path itself
// is opened byte for byte.
func DisplayName(p string) string {
	for _, r := range p {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return strconv.Quote(p)
		}
	}
	return p
}

// openFile opens one local file read-only, with the checks above. The file
// is opened with O_NONBLOCK, so that a path swapped for a FIFO between the
// check and the open cannot block; the opened file is checked again.
func openFile(path string) (reader.Source, error) {
	p := DisplayName(path)
	st, err := os.Stat(path)
	if err != nil {
		return reader.Source{}, fmt.Errorf("%s: %w", p, unwrapPathError(err))
	}
	if err := readableKind(path, p, st); err != nil {
		return reader.Source{}, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return reader.Source{}, fmt.Errorf("%s: %w", p, unwrapPathError(err))
	}
	st, err = f.Stat()
	if err == nil {
		err = readableKind(path, p, st)
	}
	if err != nil {
		f.Close()
		return reader.Source{}, err
	}
	size := st.Size()
	if st.Mode()&fs.ModeDevice != 0 {
		// A block device reports size 0: its size is where its end is.
		if size, err = f.Seek(0, io.SeekEnd); err != nil {
			f.Close()
			return reader.Source{}, fmt.Errorf("%s: a block device whose size cannot be found: %w", p, err)
		}
	}
	return reader.Source{Name: p, R: f, Size: size}, nil
}

// readableKind returns an error naming what the file is, unless it is a
// regular file with contents or a block device; p is the path as messages
// show it.
func readableKind(path, p string, st fs.FileInfo) error {
	m := st.Mode()
	switch {
	case m.IsRegular():
		// procfs files with a size (/proc/vmcore, /proc/kcore) are real;
		// other pseudo files report 0 or a page, whatever they hold.
		if fsName := pseudoFS(path); fsName != "" && (fsName != "procfs" || st.Size() == 0) {
			return model.Errorf(p, "", -1, model.ErrUnsupported,
				"is a file of %s, whose size (%d) does not say what it holds: copy it to a regular file first (cat %s > FILE)", fsName, st.Size(), p)
		}
		if st.Size() == 0 {
			return model.Errorf(p, "", -1, model.ErrUnrecognized, "is empty (0 bytes): not a crash dump")
		}
		return nil
	case m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0:
		return nil // a block device
	}
	what, why := kindName(m)
	return model.Errorf(p, "", -1, model.ErrUnsupported, "is %s, not a dump file: %s (dumpscope reads regular files and block devices)", what, why)
}

// kindName says what a file that is not a regular file is, and why it
// cannot be read as a dump.
func kindName(m fs.FileMode) (what, why string) {
	switch {
	case m.IsDir():
		return "a directory", "give the dump file inside it"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)", "it cannot be read at random offsets; write the dump to a file first"
	case m&fs.ModeCharDevice != 0:
		return "a character device", "it has no size and no fixed contents"
	case m&fs.ModeSocket != 0:
		return "a socket", "it has no size and no fixed contents"
	}
	return "a special file", "it is neither a regular file nor a block device"
}
