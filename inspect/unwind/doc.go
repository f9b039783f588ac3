// Package unwind unwinds x86 kernel stacks from a dump's memory alone, as
// the kernel's own unwinders do (arch/x86/kernel/unwind_orc.c,
// unwind_frame.c), with no vmlinux and no debug information.
//
// What the caller provides:
//
//   - Memory: kernel virtual memory (the engine's ReadVirt).
//   - Text: where functions start (kallsyms and module symbols); frames
//     are reliable only in known code.
//   - For x86_64 ORC kernels, the unwind tables: ReadVmlinux with the
//     kallsyms addresses of __start/__stop_orc_unwind_ip,
//     __start/__stop_orc_unwind, and if present orc_fp_entry and
//     __start_orc_header (the flags layout is read from the data; see
//     DetectLayout); ReadModule for each module's mod->arch tables.
//     Without tables the unwinder follows frame pointers (i386, x86_64
//     CONFIG_UNWINDER_FRAME_POINTER).
//   - Per unwind, Stacks: which stack holds an address (see Stacks for the
//     kernel variables that bound each stack). Stack switches are checked
//     against it; without it the unwinder stays within 32 KiB above the
//     start and marks no frame reliable.
//
// Start points: Unwinder.CPU from saved registers (NT_PRSTATUS), which
// also recovers an NMI handler's frames on a kdump's NMI-stopped CPUs and,
// for registers the code saved itself (SavedByCode), the calls made after
// (machine_kexec on the panicking CPU); Unwinder.Task from a sleeping
// task's thread.sp and its struct inactive_task_frame (layout from BTF).
//
// Each Frame says how it was found (How) and whether it is reliable; a
// Trace says why it ended. Every loop is bounded: frames (MaxFrames), the
// stacks' bounds, table sizes, code analysed and stack words scanned.
package unwind
