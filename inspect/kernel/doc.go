// Package kernel reads a crashed Linux kernel's own data structures out of a
// dump, with no vmlinux and no debuginfo: everything it needs comes from
// VMCOREINFO (symbol addresses, structure sizes and member offsets the
// kernel exports for dump tools, kernel/crash_core.c) and from the CPU
// registers the dump saved.
//
// What it offers, in the order a support engineer asks for it:
//
//   - Virtual addresses (space.go, mmu.go): x86_64 4- and 5-level and i386
//     2-level and PAE page-table walks, every level reported, rooted at the
//     kernel's page directory (init_top_pgt, swapper_pg_dir) or at a CPU's
//     cr3; the direct map and the kernel text map as arithmetic shortcuts
//     checked against the walk.
//   - The kernel log (printk.go): the lockless ring buffer of Linux 5.10 and
//     later (kernel/printk/printk_ringbuffer.c) and the older structured
//     log_buf (Linux 3.5 to 5.9), formatted exactly as kexec-tools'
//     vmcore-dmesg prints it.
//   - Symbols (kallsyms.go): the kernel's compressed kallsyms tables
//     (kernel/kallsyms.c, scripts/kallsyms.c), which Linux 6.0 and later
//     list in VMCOREINFO.
//   - Disassembly around an instruction pointer and the text pointers on a
//     stack (disasm.go), with golang.org/x/arch/x86/x86asm.
//   - A crash summary (summary.go) and a physical-memory search that names
//     the kernel virtual address of each hit (find.go).
//
// Everything reads memory through bounded, page-cached accessors; lengths,
// counts and pointers found in memory are checked before they are used, so
// damaged or hostile memory gives an error rather than a hang or a large
// allocation. Errors say what is missing and what would have kept it
// (MissingError) and wrap model.ErrNotFound or model.ErrPageAbsent.
//
// Package reader must not import this package; the dependency runs from
// here to reader.
package kernel
