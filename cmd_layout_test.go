package main

import (
	"bufio"
	"bytes"
	"path/filepath"
	"testing"

	"dumpscope/model"
	"dumpscope/open"
)

// TestLayoutJSONStreamed: the layout tree written node by node is the
// same text as the whole tree encoded at once, for every writer-made dump
// the scripts use.
func TestLayoutJSONStreamed(t *testing.T) {
	dir := t.TempDir()
	for _, write := range []func(string) error{writeSyntheticDumps, writeKdumpDumps, writeAIXDumps, writeXenDumps} {
		if err := write(dir); err != nil {
			t.Fatal(err)
		}
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	checked := 0
	for _, name := range names {
		d, err := open.Open(name)
		if err != nil {
			continue
		}
		root, err := d.Layout()
		d.Close()
		if err != nil {
			continue
		}
		root.Children = append(root.Children, &model.Field{Name: "<&> \"quoted\" \x01 é", StreamOffset: new(model.FileOff)})
		var whole, streamed bytes.Buffer
		if err := writeJSON(&whole, root); err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(&streamed)
		writeFieldJSON(w, root, "")
		w.WriteByte('\n')
		w.Flush()
		if !bytes.Equal(whole.Bytes(), streamed.Bytes()) {
			t.Fatalf("%s: the streamed JSON differs (%d and %d bytes)", filepath.Base(name), whole.Len(), streamed.Len())
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d dumps checked", checked)
	}
}
