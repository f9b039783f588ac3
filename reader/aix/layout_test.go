package aix_test

import (
	"fmt"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/reader/dumptest"
)

// TestLayoutShowsTheDumpImage checks that the layout shows every point the
// dmp_add documentation makes about the dump image: each component's table
// (with the component name and the table's length), then per data area a
// bitmap (least significant bit first) and then the data, in file order.
func TestLayoutShowsTheDumpImage(t *testing.T) {
	d := sample(512, dumptest.AIXEndMarker)
	b, lay := d.Bytes()
	f, _ := open(t, b, 512)
	root, err := f.Layout()
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		root.Walk(func(n *model.Field, depth int) bool {
			fmt.Printf("%#8x %6d %s%s = %s -- %s\n", n.Offset, n.Size, strings.Repeat("  ", depth), n.Name, n.Value, n.Meaning)
			return true
		})
	}
	checkNesting(t, root)
	names := childNames(root)
	want := []string{"LVM sector"}
	for i, c := range d.Components {
		want = append(want, fmt.Sprintf("component %d %q", i, c.Name))
	}
	want = append(want, "DMP_MAGIC_END", "after the end")
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("top level %q, want %q", names, want)
	}
	for ci, c := range d.Components {
		cn := root.Children[1+ci]
		head := cn.Children[0]
		if int64(cn.Offset) != lay.Tables[ci] || !strings.HasPrefix(head.Name, "cdt_head") {
			t.Fatalf("component %d starts with %s at %#x", ci, head.Name, cn.Offset)
		}
		nameField := find(head, "cdt_name")
		if nameField == nil || nameField.Value != fmt.Sprintf("%q", c.Name) || !strings.Contains(nameField.Meaning, "component name") {
			t.Fatalf("component %d: cdt_name %+v", ci, nameField)
		}
		unlimited := c.Magic == dumptest.AIXMagicU32 || c.Magic == dumptest.AIXMagicU64
		if !unlimited && find(head, "cdt_len") == nil {
			t.Fatalf("component %d: no cdt_len", ci)
		}
		// The sequence after the header: entries, then bitmap and data per
		// area with data (unlimited tables: entry, bitmap, data per area).
		var seq []string
		if !unlimited {
			seq = append(seq, "array")
		}
		for ai, a := range c.Areas {
			if unlimited {
				seq = append(seq, fmt.Sprintf("[%d]", ai))
			}
			if lay.Areas[ci][ai].NPages > 0 {
				seq = append(seq, fmt.Sprintf("bitmap of entry %d %q", ai, a.Name), fmt.Sprintf("data of entry %d %q", ai, a.Name))
			}
		}
		got := childNames(cn)[1:]
		if len(got) != len(seq) {
			t.Fatalf("component %d: children %q, want %q", ci, got, seq)
		}
		for i := range seq {
			if !strings.HasSuffix(got[i], seq[i]) && got[i] != seq[i] {
				t.Fatalf("component %d: child %d is %q, want %q", ci, i, got[i], seq[i])
			}
		}
		for ai, a := range c.Areas {
			al := lay.Areas[ci][ai]
			if al.NPages == 0 {
				continue
			}
			bm := find(cn, fmt.Sprintf("bitmap of entry %d %q", ai, a.Name))
			dn := find(cn, fmt.Sprintf("data of entry %d %q", ai, a.Name))
			if int64(bm.Offset) != al.BitmapOff || bm.Size != al.BitmapLen || !strings.Contains(bm.Meaning, "least significant bit first") {
				t.Errorf("area %d.%d bitmap %+v", ci, ai, bm)
			}
			if int64(dn.Offset) != al.DataOff || dn.Size != al.DataLen {
				t.Errorf("area %d.%d data %+v, want %#x+%d", ci, ai, dn, al.DataOff, al.DataLen)
			}
			byte0 := bm.Children[0]
			if !strings.Contains(byte0.Meaning, "least significant bit first") || !strings.Contains(byte0.Meaning, "present") {
				t.Errorf("area %d.%d bitmap byte: %+v", ci, ai, byte0)
			}
		}
	}
	// An absent page is named in its bitmap byte ("absent 1").
	bm := find(root.Children[1], `bitmap of entry 0 "kernel"`)
	if !strings.Contains(bm.Children[0].Meaning, "present 0, 2-3; absent 1") {
		t.Errorf("kernel bitmap byte: %q", bm.Children[0].Meaning)
	}
}

// checkNesting: every node lies inside its parent, and siblings with
// bytes are in file order without overlapping.
func checkNesting(t *testing.T, n *model.Field) {
	t.Helper()
	end := n.Offset
	for _, c := range n.Children {
		if c.Size > 0 && (c.Offset < n.Offset || int64(c.Offset)+c.Size > int64(n.Offset)+n.Size) {
			t.Errorf("%s [%#x+%d] is outside %s [%#x+%d]", c.Name, c.Offset, c.Size, n.Name, n.Offset, n.Size)
		}
		if c.Size > 0 {
			if c.Offset < end {
				t.Errorf("%s at %#x overlaps its previous sibling in %s (ends %#x)", c.Name, c.Offset, n.Name, end)
			}
			end = model.FileOff(int64(c.Offset) + c.Size)
		}
		checkNesting(t, c)
	}
}

func childNames(n *model.Field) []string {
	var out []string
	for _, c := range n.Children {
		out = append(out, c.Name)
	}
	return out
}

func find(n *model.Field, name string) *model.Field {
	var hit *model.Field
	n.Walk(func(c *model.Field, _ int) bool {
		if c.Name == name {
			hit = c
			return false
		}
		return true
	})
	return hit
}
