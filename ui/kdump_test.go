package ui

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"dumpscope/model"
	"dumpscope/open/opentest"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// kdumpDump writes a zlib kdump file: pfns 1, 2 and 6 stored, 3 and 4
// excluded by the dump level, the rest of the 16 frames not in the dump.
func kdumpDump(t testing.TB) (reader.Dump, map[uint64][]byte) {
	t.Helper()
	pages := map[uint64][]byte{1: dumptest.Pattern(1, 4096), 2: dumptest.Pattern(2, 4096), 6: bytes.Repeat([]byte("kdump page six "), 274)[:4096]}
	k := &dumptest.Kdump{Version: 6, Codec: "zlib", MaxMapnr: 16, Pages: pages, Excluded: []uint64{3, 4},
		Utsname: [6]string{"Linux", "host", "6.1.0", "#1 SMP", "x86_64", "(none)"}, NrCPUs: 1, DumpLevel: 31,
		VMCoreInfo: []byte("OSRELEASE=6.1.0\nPAGESIZE=4096\n"),
		Notes:      []dumptest.ELFNote{{Name: "CORE", Type: 1, Desc: dumptest.PrstatusX8664(binary.LittleEndian, 1, []uint64{1, 2, 3})}}}
	b, _ := k.Bytes()
	return opentest.Bytes(t, "test.kdump", b), pages
}

func TestExplainKdumpPage(t *testing.T) {
	d, pages := kdumpDump(t)
	if _, ok := d.(reader.PageExplainer); !ok {
		t.Skip("the kdump reader does not explain pages in this build")
	}
	m := newTestModel(t, d, 120, 40, "dark")
	typeLine(t, m, ":explain 6")
	if m.Active() != "layout" {
		t.Fatalf(":explain shows %s", m.Active())
	}
	lv := m.views[m.active].(*layoutView)
	if lv.explain == nil {
		t.Fatalf("no explanation:\n%s", ansi.Strip(screen(m)))
	}
	var names []string
	for _, r := range lv.explain.rows {
		names = append(names, r.node.Name)
	}
	text := strings.Join(names, "\n")
	for _, want := range []string{"bitmap 1 byte", "bitmap 2 byte", "page_desc", "stored page"} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
	// The first structure is selected and its byte highlighted.
	if n := lv.explain.selected().node; n.Name != "bitmap 1 byte" || lv.hex.hiOff != int64(n.Offset) || lv.hex.hiSize != 1 {
		t.Fatalf("selected %s, highlight [%#x,+%d)", n.Name, lv.hex.hiOff, lv.hex.hiSize)
	}
	// d shows the decoded page.
	press(t, m, "d")
	rows := hexRowsOnScreen(screen(m))
	if len(rows) == 0 {
		t.Fatalf("no decoded rows:\n%s", ansi.Strip(screen(m)))
	}
	for addr, b := range rows {
		off := addr - 6*4096
		if !bytes.Equal(b, pages[6][off:off+uint64(len(b))]) {
			t.Fatalf("decoded row %#x shows % x, want % x", addr, b, pages[6][off:off+uint64(len(b))])
		}
	}
	press(t, m, "esc")
	if lv.explain != nil {
		t.Fatal("esc did not return to the header tree")
	}
}

func TestKdumpStatesInMemory(t *testing.T) {
	d, _ := kdumpDump(t)
	m := newTestModel(t, d, 80, 24, "dark")
	typeLine(t, m, ":pfn 3")
	s := ansi.Strip(screen(m))
	if !strings.Contains(s, "x excluded") {
		t.Fatalf("pfn 3 is not shown as excluded:\n%s", s)
	}
	mv := memory(m)
	if mv.mm.sum == nil {
		t.Fatal("no minimap summary")
	}
	if got := mv.mm.cells[3]; got != model.StateExcluded {
		t.Fatalf("minimap cell of pfn 3 is %s", got)
	}
	press(t, m, "}")
	if mv.curPFN() != 5 {
		t.Fatalf("} from the excluded run goes to %s, want 0x5", mv.curPFN())
	}
}
