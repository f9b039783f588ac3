package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/present"
)

// The Memory view's selection: v marks where it starts and the cursor
// where it ends (both bytes included); without a mark it is the page under
// the cursor. y copies it to the terminal's clipboard as hex (OSC 52,
// which terminals may refuse), w asks for a file name on the command line
// and writes its bytes there, raw, in a job. A file that exists is never
// written over, so neither is any of the dump's own files.

// maxCopy bounds what y puts on the clipboard (three characters a byte);
// larger selections go to a file with w.
const maxCopy = 64 << 10

// writeChunk is how much a write job reads at a time.
const writeChunk = 1 << 20

// selection returns the selected range [from, to] and what to call it.
func (m *memoryView) selection() (from, to uint64, what string) {
	if m.marked {
		from, to = min(m.mark, m.cur), max(m.mark, m.cur)
		return from, to, fmt.Sprintf("phys %#x-%#x", from, to)
	}
	from = m.cur / m.ps * m.ps
	return from, min(from+m.ps, m.maxAddr) - 1, "pfn " + m.curPFN().String()
}

// inSelection reports whether a byte is in the marked selection (the page
// is not highlighted when nothing is marked).
func (m *memoryView) inSelection(a uint64) bool {
	if !m.marked {
		return false
	}
	return a >= min(m.mark, m.cur) && a <= max(m.mark, m.cur)
}

// toggleMark starts a selection at the cursor, or drops it.
func (m *memoryView) toggleMark() tea.Cmd {
	m.marked = !m.marked
	m.mark = m.cur
	if m.marked {
		return status("selection started: move the cursor to its end; y copies it, w writes it to a file, esc drops it")
	}
	return status("selection dropped")
}

// copySelection reads the selection and puts it on the clipboard as hex.
func (m *memoryView) copySelection() tea.Cmd {
	from, to, what := m.selection()
	n := to - from + 1
	if n > maxCopy {
		return errorCmd(fmt.Errorf("%s is %s: y copies up to %s; w writes any size to a file", what, present.Bytes(int64(n)), present.Bytes(maxCopy)))
	}
	s := m.c.S
	return func() tea.Msg {
		buf := make([]byte, n)
		absent, err := s.ReadPhys(model.PhysAddr(from), buf, true)
		if err != nil {
			return errMsg{fmt.Errorf("copy %s: %w", what, err)}
		}
		note := ""
		if len(absent) > 0 {
			note = fmt.Sprintf("; %s not in the dump copied as zeros", present.Count(len(absent), "page"))
		}
		return copiedMsg{text: present.SpacedHex(fmt.Sprintf("%x", buf)),
			status: fmt.Sprintf("copied %s (%s) as hex to the clipboard%s", what, present.Count(int(n), "byte"), note)}
	}
}

// copiedMsg carries a copy to the clipboard.
type copiedMsg struct{ text, status string }

// writeSelection writes the selection's bytes to a new file, in a job.
func (m *memoryView) writeSelection(path string) (tea.Cmd, error) {
	path = strings.TrimSpace(path)
	if path == "" {
		return nil, errors.New("write needs a file name: :write FILE")
	}
	if m.write.running() {
		return nil, errors.New("a write is under way (esc cancels it)")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	from, to, what := m.selection()
	s := m.c.S
	var cmd tea.Cmd
	m.write, cmd = startJob(m.c.Ctx, "write", func(ctx context.Context, progress func(done, total uint64)) (any, error) {
		return writeRange(ctx, s, abs, from, to, progress)
	})
	m.writeWhat = fmt.Sprintf("%s (%s) to %s", what, present.Count(int(to-from+1), "byte"), abs)
	return cmd, nil
}

// writeResult is what a write job returns.
type writeResult struct{ absent int }

// writeRange writes physical memory [from, to] to a file it creates, which
// must not exist: an existing file (one of the dump's among them) is never
// written over. Frames that are not in the dump are written as zeros and
// counted. A failed or cancelled write removes the file.
func writeRange(ctx context.Context, s *inspect.Session, path string, from, to uint64, progress func(done, total uint64)) (res writeResult, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return res, fmt.Errorf("%s exists and is not written over; name a new file", path)
	}
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	total := to - from + 1
	buf := make([]byte, min(total, writeChunk))
	for done := uint64(0); done < total; {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		p := buf[:min(total-done, writeChunk)]
		absent, err := s.ReadPhys(model.PhysAddr(from+done), p, true)
		if err != nil {
			return res, err
		}
		res.absent += len(absent)
		if _, err := f.Write(p); err != nil {
			return res, err
		}
		done += uint64(len(p))
		progress(done, total)
	}
	return res, nil
}

// writeDone reports where the bytes went.
func (m *memoryView) writeDone(d jobDoneMsg) tea.Cmd {
	switch {
	case d.cancelled():
		return status("write cancelled; the file is removed")
	case d.err != nil:
		return errorCmd(fmt.Errorf("write: %w", d.err))
	}
	res, _ := d.val.(writeResult)
	msg := "wrote " + m.writeWhat
	if res.absent > 0 {
		msg += fmt.Sprintf("; %s not in the dump written as zeros", present.Count(res.absent, "page"))
	}
	return status(msg)
}
