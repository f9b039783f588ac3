// Package elfnote reads what several dump formats share with ELF: note
// records (NT_PRSTATUS, VMCOREINFO, QEMU's CPU state, Xen's dump-core
// notes, eraseinfo) wherever a format keeps them — ELF PT_NOTE segments,
// the kdump sub-header's note area, Xen's .note.Xen section — and the ELF
// file header that ELF vmcores and Xen dump-cores both start with.
//
// Notes are padded to 4 bytes in names and descriptors, as Linux, kexec,
// QEMU and makedumpfile write them even in ELF64 files (formats.md §3.3).
package elfnote
