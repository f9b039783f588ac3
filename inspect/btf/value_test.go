package btf

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// fakeMem is memory for Format: byte ranges, and pages that fail.
type fakeMem struct {
	data map[uint64]byte
	bad  map[uint64]bool // page numbers (va / 4096) that fail
}

func newMem() *fakeMem { return &fakeMem{data: map[uint64]byte{}, bad: map[uint64]bool{}} }

func (m *fakeMem) put(va uint64, b []byte) {
	for i, c := range b {
		m.data[va+uint64(i)] = c
	}
}

func (m *fakeMem) read(va uint64, p []byte) error {
	for i := range p {
		a := va + uint64(i)
		if m.bad[a/4096] {
			return fmt.Errorf("page %#x absent", a/4096*4096)
		}
		p[i] = m.data[a]
	}
	return nil
}

// taskBytes lays out the zoo's struct task as a C compiler would on that
// byte order (see writeZoo), with fixed values.
func taskBytes(bo byteOrder, addr uint64) []byte {
	b := make([]byte, 88)
	bo.PutUint32(b[0:], 1) // SLEEPING
	// a = 5 (bits 32..34), b = 17 (35..39), c = -1 (40..41): LE fills each
	// byte from its least significant bit, BE from its most significant.
	if bo == binary.LittleEndian {
		b[4], b[5] = 5|17<<3, 3
	} else {
		b[4], b[5] = 5<<5|17, 3<<6
	}
	copy(b[8:], "swapper/0")
	bo.PutUint64(b[24:], addr+24)
	bo.PutUint64(b[32:], addr+24)
	bo.PutUint64(b[40:], 0xffffffff82000000)
	bo.PutUint32(b[48:], 7)
	bo.PutUint32(b[52:], 9)
	bo.PutUint64(b[56:], 0xffffffff81000010)
	bo.PutUint64(b[64:], ^uint64(0))
	b[72] = 1
	bo.PutUint32(b[76:], 1)
	bo.PutUint32(b[80:], uint32(0xfffffffe))
	bo.PutUint32(b[84:], 3)
	return b
}

func symbolize(va uint64) (string, bool) {
	switch {
	case va == 0xffffffff82000000:
		return "init_task", true
	case va >= 0xffffffff81000000 && va < 0xffffffff81000100:
		return fmt.Sprintf("do_thing+%#x", va-0xffffffff81000000), true
	}
	return "", false
}

// formatTask formats the zoo's struct task at addr in mem, and flattens
// the value to path=value lines (flat).
func formatTask(t *testing.T, s *Spec, z zoo, mem *fakeMem, addr uint64, opt FormatOptions) (Value, []string) {
	t.Helper()
	task, _ := s.TypeByID(z.Task)
	v, err := s.Format(task, mem.read, addr, opt)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	flat(v, "", &lines)
	return v, lines
}

// flat lists a tree as "name=value" lines, nested names joined by dots.
func flat(v Value, prefix string, out *[]string) {
	name := prefix + v.Name
	switch {
	case v.Error != "":
		*out = append(*out, name+"=<error>")
	case len(v.Children) == 0:
		*out = append(*out, name+"="+v.Value)
	}
	for _, c := range v.Children {
		flat(c, name+".", out)
	}
	if v.More > 0 {
		*out = append(*out, fmt.Sprintf("%s.more=%d", name, v.More))
	}
}

func TestFormat(t *testing.T) {
	const addr = 0xffff888000001000
	want := []string{
		".state=SLEEPING", ".a=5", ".b=17", ".c=-1", `.comm="swapper/0"`,
		".tasks.next=0xffff888000001018", ".tasks.prev=0xffff888000001018",
		".parent=0xffffffff82000000 <init_task>",
		"...x=7", "...y=9", // the anonymous union and struct have no names
		"", // z: byte-order dependent, filled below
		".fn=0xffffffff81000010 <do_thing+0x10>", ".big=NEG", ".ok=true",
		".vals.[0]=1", ".vals.[1]=-2", ".vals.[2]=3",
	}
	for _, bo := range byteOrders {
		t.Run(bo.String(), func(t *testing.T) {
			s, z := loadZoo(t, bo)
			mem := newMem()
			mem.put(addr, taskBytes(bo, addr))
			v, got := formatTask(t, s, z, mem, addr, FormatOptions{Symbolize: symbolize})
			w := append([]string(nil), want...)
			w[10] = "..z=" + map[bool]string{true: "38654705671", false: "30064771081"}[bo == binary.LittleEndian]
			if strings.Join(got, "\n") != strings.Join(w, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
			}
			b := v.Children[2]
			if b.Name != "b" || b.BitOffset != 35 || b.BitSize != 5 || b.Offset != 4 || b.Type != "unsigned int" {
				t.Errorf("bitfield node %+v", b)
			}
			if v.Children[4].Offset != 8 || v.Children[4].Size != 16 || v.Type != "struct task" || v.Size != 88 {
				t.Errorf("offsets and sizes: %+v / %+v", v.Children[4], v)
			}
			text := v.Text()
			for _, line := range []string{"struct task {\n", "  state = SLEEPING,\n", "  comm = \"swapper/0\",\n", "  tasks = {\n    next = 0xffff888000001018,\n", "  vals = {1, -2, 3}\n}\n", "  {\n    {\n      x = 7,\n"} {
				if !strings.Contains(text, line) {
					t.Errorf("text lacks %q:\n%s", line, text)
				}
			}
			js, err := json.Marshal(v)
			if err != nil || !strings.Contains(string(js), `{"name":"comm","type":"char [16]","offset":8,"size":16,"value":"\"swapper/0\""}`) {
				t.Errorf("JSON: %s %v", js, err)
			}
		})
	}
}

func TestFormatOptions(t *testing.T) {
	const addr = 0x1000
	s, z := loadZoo(t, binary.LittleEndian)
	mem := newMem()
	mem.put(addr, taskBytes(binary.LittleEndian, addr))
	get := func(opt FormatOptions) []string {
		_, lines := formatTask(t, s, z, mem, addr, opt)
		return lines
	}
	task, _ := s.TypeByID(z.Task)
	has := func(lines []string, want ...string) {
		t.Helper()
		all := "\n" + strings.Join(lines, "\n") + "\n"
		for _, w := range want {
			if !strings.Contains(all, "\n"+w+"\n") {
				t.Errorf("no %q in\n%s", w, strings.Join(lines, "\n"))
			}
		}
	}
	has(get(FormatOptions{Hex: true}), ".b=0x11", ".c=0xffffffffffffffff", ".vals.[1]=0xfffffffffffffffe", ".parent=0xffffffff82000000")
	has(get(FormatOptions{MaxElems: 2}), ".vals.[1]=-2", ".vals.more=1")
	has(get(FormatOptions{MaxDepth: 1}), ".tasks={...}", ".vals={...}", ".state=SLEEPING")
	lines := get(FormatOptions{MaxNodes: 5})
	has(lines, ".more=8")
	if len(lines) != 5 {
		t.Errorf("MaxNodes 5 gave %d values", len(lines))
	}
	if _, err := s.Format(task, mem.read, addr, FormatOptions{MaxObject: 64}); err == nil {
		t.Error("an object above MaxObject was read")
	}
	void, _ := s.TypeByID(0)
	if _, err := s.Format(void, mem.read, addr, FormatOptions{}); err == nil {
		t.Error("void formatted")
	}
}

// TestFormatUnreadable: an object across two pages, the second absent:
// the values on the first still show.
func TestFormatUnreadable(t *testing.T) {
	const addr = 0x1fd0 // 48 bytes before the page boundary
	s, z := loadZoo(t, binary.LittleEndian)
	mem := newMem()
	mem.put(addr, taskBytes(binary.LittleEndian, addr))
	mem.bad[2] = true
	v, got := formatTask(t, s, z, mem, addr, FormatOptions{Symbolize: symbolize})
	all := strings.Join(got, "\n")
	for _, w := range []string{".state=SLEEPING", `.comm="swapper/0"`, ".parent=0xffffffff82000000 <init_task>", ".=<error>", ".fn=<error>", ".vals=<error>"} {
		if !strings.Contains(all, w) {
			t.Errorf("no %q in\n%s", w, all)
		}
	}
	if !strings.Contains(v.Text(), "fn = <page 0x2000 absent>") {
		t.Errorf("text:\n%s", v.Text())
	}
}

func TestFormatScalars(t *testing.T) {
	s, z := loadZoo(t, binary.BigEndian)
	mem := newMem()
	mem.put(0x100, []byte{0, 0, 0, 0, 0, 0, 0x20, 0}) // char * → 0x2000
	mem.put(0x2000, []byte("hi \"you\"\n\x01\x00junk"))
	mem.put(0x200, []byte{0xc0, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18}) // pi
	mem.put(0x300, []byte{'A'})
	mem.put(0x400, []byte{0, 0, 0, 0x42})
	cases := []struct {
		decl string
		addr uint64
		want string
	}{
		{"char *", 0x100, `0x2000 "hi \"you\"\n\001"`},
		{"double", 0x200, "-3.141592653589793"},
		{"char", 0x300, "65 'A'"},
		{"enum state", 0x400, "66"},
		{"u32", 0x400, "66"},
		{"struct task *", 0x100, "0x2000"},
	}
	for _, c := range cases {
		ty, err := s.ParseType(c.decl)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.Format(ty, mem.read, c.addr, FormatOptions{})
		if err != nil || v.Value != c.want || v.Type != s.TypeName(ty) {
			t.Errorf("%s: %q %v, want %q", c.decl, v.Value, err, c.want)
		}
	}
	// A string longer than MaxString is cut; a pointer to an absent page
	// shows the pointer alone.
	ty, _ := s.ParseType("char *")
	if v, _ := s.Format(ty, mem.read, 0x100, FormatOptions{MaxString: 2}); v.Value != `0x2000 "hi"...` {
		t.Errorf("MaxString 2: %q", v.Value)
	}
	mem.bad[2] = true
	if v, _ := s.Format(ty, mem.read, 0x100, FormatOptions{}); v.Value != "0x2000" {
		t.Errorf("pointer to an absent page: %q", v.Value)
	}
	// Legacy bitfields: lo = 0xa, hi = 0x123 in a big-endian word.
	legacy, _ := s.TypeByID(z.Legacy)
	mem.put(0x500, []byte{0xa1, 0x23, 0, 0})
	v, err := s.Format(legacy, mem.read, 0x500, FormatOptions{Hex: true})
	if err != nil || v.Children[0].Value != "0xa" || v.Children[1].Value != "0x123" {
		t.Errorf("legacy bitfields: %+v %v", v, err)
	}
}
