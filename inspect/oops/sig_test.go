package oops

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The signature's stability across boots, its recipe, and the line
// parsers it rests on.

// boot describes what changes between two boots of the same kernel.
type boot struct {
	kaslr   uint64 // added to kernel text addresses
	modBase uint64 // the module's load address
	startNS uint64 // the oops's time
	seq     uint64
	pid     int
	cpu     int
	comm    string
	dieNo   int    // the [#N] counter
	ret     string // the module function whose return leads to the bug
	newForm bool   // print the 6.12 forms
}

// oopsInBoot writes the same NULL pointer write in module "plugh" as a
// boot would print it (the formats of nullDerefModule61 and
// pageFault612Kdump), with the boot's addresses, pids, CPUs and times.
func oopsInBoot(b boot) string {
	text := func(off uint64) string { return fmt.Sprintf("%016x", 0xffffffff81000000+b.kaslr+off) }
	mod := func(off uint64) string { return fmt.Sprintf("%016x", b.modBase+off) }
	oops, task := "Oops: 0002 [#%d] PREEMPT SMP NOPTI", "CPU: %d PID: %d Comm: %s Tainted: G           O       6.1.0-57-amd64 #1  Debian 6.1.192-3"
	if b.newForm {
		oops, task = "Oops: Oops: 0002 [#%d] PREEMPT SMP NOPTI", "CPU: %d UID: 0 PID: %d Comm: %s Tainted: G           O       6.12.0-1-amd64 #1 Debian 6.12.9-1\nTainted: [O]=OOT_MODULE"
	}
	return fmt.Sprintf(`BUG: kernel NULL pointer dereference, address: 0000000000000010
#PF: supervisor write access in kernel mode
#PF: error_code(0x0002) - not-present page
PGD 0 P4D 0
`+oops+`
`+task+`
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
RIP: 0010:plugh_store.isra.0+0x%x/0x60 [plugh]
Code: 00 00 00 0f 1f 44 00 00 48 8b 47 08 48 85 c0 74 0a <48> c7 40 10 00 00 00 00
RSP: 0018:%s EFLAGS: 00010246
RAX: 0000000000000000 RBX: %s RCX: 0000000000000000
Call Trace:
 <TASK>
 ? __die+0x20/0x70
 ? page_fault_oops+0x%x/0x4e0
 %s+0x1d/0x40 [plugh]
 kernfs_fop_write_iter+0x%x/0x1f0
 vfs_write+0x2a9/0x3f0
 ksys_write+0x6b/0xf0
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
RIP: 0033:0x7f%010x
RSP: 002b:00007ffd%08x EFLAGS: 00000246 ORIG_RAX: 0000000000000001
 </TASK>
Modules linked in: plugh(O)
CR2: 0000000000000010
`, b.dieNo, b.cpu, b.pid, b.comm, 0x20+b.cpu%3, text(0x1a2b3c), mod(0x400), 0x171+b.pid%7, b.ret, 0x13c+b.dieNo, b.kaslr>>12, b.pid)
}

// TestSameBugTwoBoots: KASLR, module addresses, times, pids, CPUs, comms,
// die counters, the ".isra" clone name and the 6.1 or 6.12 format change
// between boots; the hash does not. Another bug (another caller in the
// module, another class) hashes differently.
func TestSameBugTwoBoots(t *testing.T) {
	boots := []boot{
		{kaslr: 0x1e000000, modBase: 0xffffffffc0a10000, startNS: 5e9, seq: 100, pid: 211, cpu: 1, comm: "plughctl", dieNo: 1, ret: "plugh_attr_store"},
		{kaslr: 0x0b400000, modBase: 0xffffffffc1b20000, startNS: 93e9, seq: 7000, pid: 4242, cpu: 3, comm: "plugh-cli", dieNo: 2, ret: "plugh_attr_store"},
		{kaslr: 0x30200000, modBase: 0xffffffffc0300000, startNS: 1e12, seq: 9, pid: 77, cpu: 0, comm: "bash", dieNo: 1, ret: "plugh_attr_store", newForm: true},
	}
	var hashes []string
	for i, b := range boots {
		a := Analyze(klog(b.seq, b.startNS, oopsInBoot(b)), Facts{})
		c := check(t, a, want{verdict: "oops", class: ClassNullDeref, guilty: "plugh_store [plugh]",
			title: "BUG: unable to handle kernel NULL pointer dereference in plugh_store", complete: boolp(true),
			frames: []string{"plugh_store [plugh]", "plugh_attr_store [plugh]", "kernfs_fop_write_iter", "vfs_write", "ksys_write", "do_syscall_64"}})
		if c.Task.CPU != b.cpu || c.Task.PID != int64(b.pid) {
			t.Errorf("boot %d: task %+v", i, c.Task)
		}
		hashes = append(hashes, a.Signature.Hash)
	}
	for i := 1; i < len(hashes); i++ {
		if hashes[i] != hashes[0] {
			t.Errorf("boot %d hash %s, boot 0 %s", i, hashes[i], hashes[0])
		}
	}
	other := boots[1]
	other.ret = "plugh_debugfs_write"
	a := Analyze(klog(other.seq, other.startNS, oopsInBoot(other)), Facts{})
	if a.Signature == nil || a.Signature.Hash == hashes[0] {
		t.Errorf("another path into the same function hashes the same: %+v", a.Signature)
	}
	// The same frames reported as a GPF are another bug.
	gpf := strings.Replace(oopsInBoot(boots[0]), "BUG: kernel NULL pointer dereference, address: 0000000000000010\n#PF: supervisor write access in kernel mode\n#PF: error_code(0x0002) - not-present page\nPGD 0 P4D 0\nOops: 0002",
		"general protection fault, probably for non-canonical address 0xdead000000000122: 0000", 1)
	a = Analyze(klog(1, 1, gpf), Facts{})
	if a.Signature == nil || a.Signature.Class != ClassGPF || a.Signature.Hash == hashes[0] {
		t.Errorf("a GPF in the same place: %+v", a.Signature)
	}
}

// TestCanonicalRecipe: the hash is SHA-256 of exactly the canonical text,
// which others can rebuild from the title and the frames.
func TestCanonicalRecipe(t *testing.T) {
	a := analyze(t, nullDerefModule61)
	s := a.Signature
	want := "dumpscope-signature/1\ntitle: " + s.Title + "\n"
	for _, f := range s.Frames {
		want += "frame: " + f + "\n"
	}
	if s.Canonical != want || Canonical(s.Title, s.Frames) != want {
		t.Fatalf("canonical %q, want %q", s.Canonical, want)
	}
	sum := sha256.Sum256([]byte(want))
	if s.Hash != hex.EncodeToString(sum[:]) || s.Version != SignatureVersion {
		t.Errorf("hash %s version %d", s.Hash, s.Version)
	}
	// The JSON carries the canonical text and the 0x strings.
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`"canonical":"dumpscope-signature/1\ntitle: BUG: unable`, `"address":"0x8"`, `"kernel_offset":"0x1e000000"`,
		`"cr2":"0x8"`, `"error_code":"0x2"`, `"die_count":1`, `"cause":0`} {
		if !strings.Contains(string(b), frag) {
			t.Errorf("JSON lacks %s", frag)
		}
	}
}

// TestNormalizeFunction: compiler suffixes go, the name stays.
func TestNormalizeFunction(t *testing.T) {
	for in, want := range map[string]string{
		"__handle_sysrq.cold": "__handle_sysrq", "foo.isra.0": "foo", "bar.constprop.0.isra.0": "bar",
		"baz.part.3": "baz", "qux.llvm.1234567890": "qux", "plain": "plain", "": "",
	} {
		if got := NormalizeFunction(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	if got := normFrame(Frame{Function: "f.cold", Module: "m", ModuleBuildID: "ab"}); got != "f [m]" {
		t.Errorf("module frame %q", got)
	}
	if got := normFrame(Frame{}); got != "<unknown>" {
		t.Errorf("bare address frame %q", got)
	}
}

// TestSanitizeTitle: syzkaller's replacements (pkg/report/report.go
// dynamicTitleReplacement).
func TestSanitizeTitle(t *testing.T) {
	for in, want := range map[string]string{
		"kernel panic: Attempted to kill the idle task!":               "kernel panic: Attempted to kill the idle task!",
		"kernel panic: bad thing at ffffffff81234567 in foo+0x1/0x20":  "kernel panic: bad thing at ADDR in foo",
		"kernel panic: cpu 3 error 0x1f at drivers/x/y.c:123 on CPU#2": "kernel panic: cpu NUM error ADDR at drivers/x/y.c:LINE on CPU",
		"kernel panic: list 0,1,2\tdone\x01":                           "kernel panic: list NUM,NUM,NUM done",
		"kernel panic: cfg80211 and nl802154 keep their digits, 12345": "kernel panic: cfg80211 and nl802154 keep their digits, NUM",
		"kernel panic: a long number 12345678 looks like an address":   "kernel panic: a long number ADDR looks like an address",
	} {
		if got := sanitizeTitle(in); got != want {
			t.Errorf("%q:\n got %q\nwant %q", in, got, want)
		}
	}
	if n := len(sanitizeTitle(strings.Repeat("x ", 200))); n > 120 {
		t.Errorf("title of %d bytes", n)
	}
}

// TestTaint: kernel/panic.c print_tainted() and print_tainted_verbose().
func TestTaint(t *testing.T) {
	cases := []struct {
		in    string
		names string
		bits  string
	}{
		{"Not tainted", "", ""},
		{"Tainted: G", "", ""},
		{"Tainted: P        W  OE     ", "PROPRIETARY_MODULE,WARN,OOT_MODULE,UNSIGNED_MODULE", "0,9,12,13"},
		{"Tainted: G    B D     L    N J", "BAD_PAGE,DIE,SOFTLOCKUP,TEST,FWCTL", "5,7,14,18,19"},
		{"Tainted: [W]=WARN, [O]=OOT_MODULE", "WARN,OOT_MODULE", "9,12"},
		{"Tainted: G                   V", "", "-1"},
		{"Tainted: [V]=UNSAFE_BPF", "UNSAFE_BPF", "-1"},
	}
	for _, tc := range cases {
		tt := parseTaint(tc.in)
		var names, bits []string
		for _, f := range tt.Flags {
			if f.Name != "" {
				names = append(names, f.Name)
			}
			bits = append(bits, fmt.Sprint(f.Bit))
		}
		if strings.Join(names, ",") != tc.names || strings.Join(bits, ",") != tc.bits || tt.Text != strings.TrimRight(tc.in, " ") {
			t.Errorf("%q: names %v bits %v text %q", tc.in, names, bits, tt.Text)
		}
	}
}

// TestParseFrame: the trace line forms.
func TestParseFrame(t *testing.T) {
	cases := []struct {
		in   string
		want string // function/offset/size/module/buildid/address/reliable
	}{
		{" vfs_write+0xc7/0x3f0", "vfs_write/c7/3f0///<nil>/true"},
		{" ? _printk+0x68/0x83", "_printk/68/83///<nil>/false"},
		{" foo_write.cold+0x16/0x30 [foo]", "foo_write.cold/16/30/foo//<nil>/true"},
		{" foo+0x1/0x2 [foo 0123456789abcdef0123456789abcdef01234567]", "foo/1/2/foo/0123456789abcdef0123456789abcdef01234567/<nil>/true"},
		{" [<ffffffff8123abcd>] ? bar+0x5/0x10", "bar/5/10///0xffffffff8123abcd/false"},
		{"[c00000000a1b3b20] [c000000000573c14] seq_read_iter+0x1f4/0x690 (unreliable)", "seq_read_iter/1f4/690///0xc000000000573c14/false"},
		{"([<000003ff80123440>] snark_work+0x10/0x60 [snark])", "snark_work/10/60/snark//0x3ff80123440/false"},
		{" 0xffffffffc0a01234", "/0/0///0xffffffffc0a01234/true"},
	}
	for _, tc := range cases {
		f, ok := parseFrame(tc.in)
		got := fmt.Sprintf("%s/%x/%x/%s/%s/%v/%v", f.Function, f.Offset, f.Size, f.Module, f.ModuleBuildID, f.Address, f.Reliable)
		if !ok || got != tc.want {
			t.Errorf("%q: %v %s, want %s", tc.in, ok, got, tc.want)
		}
	}
	for _, bad := range []string{"vfs_write+0xc7/0x3f0", " vfs_write+0xc7", " Call Trace:", " <TASK>", " x+0xzz/0x1", ""} {
		if _, ok := parseFrame(bad); ok {
			t.Errorf("%q parsed as a frame", bad)
		}
	}
}

// TestCompare: the log's trace against an unwound stack (crash's view of
// the fixture's panic, written out here).
func TestCompare(t *testing.T) {
	a := analyze(t, "Kernel panic - not syncing: sysrq triggered crash\n"+strings.SplitN(warningThenPanicStack, "\n", 2)[1])
	c := mustCause(t, a)
	unwound := func(names ...string) []UnwoundFrame {
		var u []UnwoundFrame
		for _, n := range names {
			u = append(u, UnwoundFrame{Function: n, Reliable: true})
		}
		return u
	}
	crash := unwound("machine_kexec", "__crash_kexec", "panic", "sysrq_handle_crash", "__handle_sysrq.cold", "write_sysrq_trigger",
		"proc_reg_write", "vfs_write", "ksys_write", "do_syscall_64", "do_user_addr_fault", "exit_to_user_mode_prepare", "entry_SYSCALL_64_after_hwframe")
	g := Compare(c, crash)
	if !g.Agree || g.LogOnlyTop != 1 || g.Matched != 9 || g.LogFrames != 10 || g.Divergence != nil {
		t.Errorf("agreement %+v", g)
	}
	if want := "; the log's innermost frame (dump_stack_lvl) had returned when the dump was taken"; !strings.HasSuffix(g.Summary, want) {
		t.Errorf("summary %q, want it to end in %q", g.Summary, want)
	}
	// An unwinder that lost the syscall frames parts from the log.
	g = Compare(c, unwound("panic", "sysrq_handle_crash", "__handle_sysrq", "write_sysrq_trigger", "proc_reg_write", "vfs_write"))
	if g.Agree || g.Divergence == nil || g.Divergence.LogFrame != "ksys_write" || g.Divergence.UnwoundIndex != 5 {
		t.Errorf("divergence %+v", g)
	}
	// Frames out of order.
	g = Compare(c, unwound("panic", "write_sysrq_trigger", "sysrq_handle_crash", "__handle_sysrq"))
	if g.Agree || g.Divergence == nil || g.Divergence.LogFrame != "write_sysrq_trigger" {
		t.Errorf("out of order %+v", g)
	}
	// Nothing in common; nothing to compare.
	if g = Compare(c, unwound("native_safe_halt", "default_idle")); g.Agree || g.Divergence == nil || g.Divergence.UnwoundIndex != -1 {
		t.Errorf("disjoint %+v", g)
	}
	if g = Compare(c, nil); g.Agree || g.Divergence != nil {
		t.Errorf("empty %+v", g)
	}
	// Modules must match when both name one.
	mod := &Report{Trace: []Frame{{Function: "f", Module: "a", Reliable: true}}}
	if g = Compare(mod, []UnwoundFrame{{Function: "f", Module: "b"}}); g.Agree {
		t.Errorf("module mismatch agrees: %+v", g)
	}
}

// warningThenPanicStack is the panic part of TestWarningThenPanic.
const warningThenPanicStack = `Kernel panic - not syncing: sysrq triggered crash
CPU: 1 PID: 1 Comm: init Tainted: G        W  O       6.1.0-57-amd64 #1  Debian 6.1.192-3
Call Trace:
 <TASK>
 dump_stack_lvl+0x44/0x5c
 panic+0x118/0x2f4
 ? _printk+0x68/0x83
 sysrq_handle_crash+0x16/0x20
 __handle_sysrq.cold+0x44/0x11c
 write_sysrq_trigger+0x24/0x40
 proc_reg_write+0x56/0xa0
 vfs_write+0xc7/0x3f0
 ksys_write+0x6b/0xf0
 do_syscall_64+0x5d/0xb0
 entry_SYSCALL_64_after_hwframe+0x6e/0xd8
 </TASK>
`

// TestFactsCrossCheck: what memory says is compared with the log.
func TestFactsCrossCheck(t *testing.T) {
	cpu, pid := 0, int64(5)
	a := Analyze(klog(1, 1, warningThenPanicStack), Facts{CrashCPU: &cpu, CrashPID: &pid, CrashComm: "sh", Release: "6.1.0-58-amd64", BuildID: "aa"})
	joined := strings.Join(a.Notes, "\n")
	for _, frag := range []string{"CPU 1, memory says CPU 0", "PID 1, memory says PID 5", `"init", memory says "sh"`, `release "6.1.0-57-amd64" differs`} {
		if !strings.Contains(joined, frag) {
			t.Errorf("notes lack %q: %s", frag, joined)
		}
	}
	if a.Signature.Release != "6.1.0-58-amd64" || a.Signature.BuildID != "aa" {
		t.Errorf("the facts' release and build id are the signature's: %+v", a.Signature)
	}
}

// TestTaskLines: lib/dump_stack.c dump_stack_print_info() through the
// versions and distributions.
func TestTaskLines(t *testing.T) {
	for line, want := range map[string]string{
		"CPU: 1 PID: 1 Comm: init Kdump: loaded Not tainted 6.1.0-57-amd64 #1  Debian 6.1.192-3":                                                       "1/1/init/true/Not tainted/6.1.0-57-amd64/#1/Debian 6.1.192-3/",
		"CPU: 3 PID: 1234 Comm: foo bar Kdump: loaded Tainted: G           OE  ------------   3.10.0-1160.el7.x86_64 #1":                               "3/1234/foo bar/true/Tainted: G           OE/3.10.0-1160.el7.x86_64/#1//",
		"CPU: 0 UID: 1000 PID: 7 Comm: kworker/0:1 Tainted: G        W          6.12.0 #4 PREEMPT(voluntary) 00112233445566778899aabbccddeeff00112233": "0/7/kworker/0:1/false/Tainted: G        W/6.12.0/#4/PREEMPT(voluntary)/00112233445566778899aabbccddeeff00112233",
		"CPU: 2 PID: 0 Comm: swapper/2 Not tainted 3.10.0 #1":                                                                                          "2/0/swapper/2/false/Not tainted/3.10.0/#1//",
	} {
		ti, ok := parseTaskLine(line)
		if !ok {
			t.Errorf("%q not read", line)
			continue
		}
		got := fmt.Sprintf("%d/%d/%s/%v/%s/%s/%s/%s/%s", ti.CPU, ti.PID, ti.Comm, ti.KdumpLoaded, ti.Taint.Text, ti.Release, ti.Version, ti.Extra, ti.BuildID)
		if got != want {
			t.Errorf("%q:\n got %s\nwant %s", line, got, want)
		}
	}
	for _, bad := range []string{"CPU: 1 PID: 1 Comm: init", "CPU: x PID: 1 Comm: a Not tainted 6.1 #1", "CPU features: detected: 32-bit EL0 Support"} {
		if _, ok := parseTaskLine(bad); ok {
			t.Errorf("%q read as a task line", bad)
		}
	}
}
