package present

import (
	"slices"
	"testing"

	"dumpscope/model"
)

func TestWhereNamesFilesRelativeToTheDump(t *testing.T) {
	off := model.FileOff(0x40)
	pfn := model.PFN(0x12)
	for _, tc := range []struct{ file, dir, want string }{
		{"/var/crash/127.0.0.1-2026/vmcore", "/var/crash/127.0.0.1-2026", "vmcore @0x40 pfn 0x12"},
		{"/var/crash/a/split/vmcore.2", "/var/crash/a", "split/vmcore.2 @0x40 pfn 0x12"},
		{"/elsewhere/vmcore", "/var/crash/a", "/elsewhere/vmcore @0x40 pfn 0x12"},
		{"/var/crash/ab/vmcore", "/var/crash/a", "/var/crash/ab/vmcore @0x40 pfn 0x12"},
		{"vmcore", "/var/crash/a", "vmcore @0x40 pfn 0x12"},
		{"demo:qemu.vmcore", "", "demo:qemu.vmcore @0x40 pfn 0x12"},
		{"", "/var/crash", "@0x40 pfn 0x12"},
	} {
		p := model.Problem{File: tc.file, Offset: &off, PFN: &pfn}
		if got := Where(p, tc.dir); got != tc.want {
			t.Errorf("Where(%q, %q) = %q, want %q", tc.file, tc.dir, got, tc.want)
		}
	}
}

// TestNotAvailableMergesSharedReasons: what fails for one reason is
// listed once with that reason.
func TestNotAvailableMergesSharedReasons(t *testing.T) {
	const why = "the dump has no VMCOREINFO (hint)"
	got := NotAvailable([]string{
		"/d/x.xen: OSRELEASE and the kernel log: " + why,
		"/d/x.xen: kallsyms: " + why,
		"/d/x.xen: stack of CPU 0: code at 0x10: pfn 0x1 is not_in_dump",
		"a message without a reason",
	}, "/d/x.xen")
	want := []string{"OSRELEASE and the kernel log; kallsyms: " + why,
		"stack of CPU 0: code at 0x10: pfn 0x1 is not_in_dump", "a message without a reason"}
	if !slices.Equal(got, want) {
		t.Errorf("NotAvailable =\n%q\nwant\n%q", got, want)
	}
}

// TestReasonsShortenRepeats: rows that fail for one reason give it once.
func TestReasonsShortenRepeats(t *testing.T) {
	why := "the dump has no VMCOREINFO: not found (the kernel writes it into kdump's /proc/vmcore)"
	var r Reasons
	rows := []Row{
		{"kernel-log", "NO: the kernel log: " + why},
		{"symbols", "NO: kallsyms: " + why},
		{"tasks", "no: walking the task list: the kernel's BTF: kallsyms: " + why},
		{"memory", "yes: the last stored frame reads"},
		{"kernel-log", "NO: the kernel log: " + why},
	}
	want := []string{
		"NO: the kernel log: " + why,
		"NO: kallsyms: the same reason as kernel-log",
		"no: walking the task list: the kernel's BTF: the same reason as symbols", // symbols gave "kallsyms: " + why
		"yes: the last stored frame reads",
		"NO: the kernel log: " + why, // a row does not refer to itself
	}
	for i, row := range rows {
		if got := r.Shorten(row.Key, row.Value); got != want[i] {
			t.Errorf("row %d: %q, want %q", i, got, want[i])
		}
	}
}
