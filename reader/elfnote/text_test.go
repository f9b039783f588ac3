package elfnote

import (
	"strings"
	"testing"

	"dumpscope/model"
)

// TestTextLinesShowTheParsedEntries: the layout of a VMCOREINFO text lists
// the entries model.ParseVMCoreInfo gives, in order, each at the bytes of
// its line, whatever the text's line ends, blank lines and padding.
func TestTextLinesShowTheParsedEntries(t *testing.T) {
	for _, text := range []string{
		"OSRELEASE=6.1.0\nPAGESIZE=4096\nCRASHTIME=1700000000\n",
		"OSRELEASE=6.1.0\r\n\r\nSYMBOL(x)=ffff=1 \r\n\n",
		"A=1\nA=2\n\x00\x00\x00\x00",
		"KEY=no newline at the end",
	} {
		const base = 0x100
		fields := TextLines([]byte(text), base)
		entries := model.ParseVMCoreInfo([]byte(text)).Entries
		if len(fields) != len(entries) {
			t.Fatalf("%q: %d fields, %d entries", text, len(fields), len(entries))
		}
		end := int64(base)
		for i, f := range fields {
			if f.Name != entries[i].Key || f.Value != entries[i].Value {
				t.Errorf("%q: field %d is %s=%q, the entry %s=%q", text, i, f.Name, f.Value, entries[i].Key, entries[i].Value)
			}
			line := text[int64(f.Offset)-base : int64(f.Offset)-base+f.Size]
			if int64(f.Offset) < end || !strings.HasPrefix(line, f.Name+"=") {
				t.Errorf("%q: field %d at %d+%d holds %q", text, i, f.Offset, f.Size, line)
			}
			end = int64(f.Offset) + f.Size
		}
	}
	// eraseinfo lines have no "=": the first word is the name.
	fields := TextLines([]byte("erase jiffies size 8\nerase modules\n"), 0)
	if len(fields) != 2 || fields[0].Name != "erase" || fields[0].Value != "jiffies size 8" || fields[0].Meaning != "an erased symbol" ||
		fields[1].Offset != 21 || fields[1].Size != 14 {
		t.Errorf("eraseinfo fields %+v %+v", fields[0], fields[1])
	}
}
