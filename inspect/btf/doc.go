// Package btf reads the BPF Type Format (BTF) that a Linux kernel built
// with CONFIG_DEBUG_INFO_BTF keeps in its own memory, and gives typed
// access to kernel structures from a dump alone: sizes, member offsets by
// path ("thread.sp", "mem[1].base"), enumerator names, a small C
// declaration parser for the globals BTF does not type, and a value
// formatter for a crash-like `struct TYPE ADDR`.
//
// The format is include/uapi/linux/btf.h (Linux) and
// Documentation/bpf/btf.rst; the kernel's own checks are in
// kernel/bpf/btf.c (btf_parse_hdr, btf_check_sec_info, btf_check_meta),
// libbpf's in src/btf.c (btf_parse_hdr, btf_parse_type_sec,
// btf_type_size). A blob is a header, a type section of variable-length
// records (struct btf_type and a kind-specific tail) and a string section
// of NUL-terminated names; since 2026 an optional layout section describes
// each kind's record sizes (libbpf 462733ec) and the info word's vlen and
// kind fields are wider (libbpf 9801e029).
//
// vmlinux BTF lies at kallsyms __start_BTF..__stop_BTF; a module's BTF is
// split BTF on top of it (kernel/bpf/btf.c btf_parse_module): its type
// IDs continue after the base's last ID and its string offsets after the
// base's string section.
//
// The API, top down:
//
//   - Load(r, size, base) / NewSpec(raw, base): a Spec (spec.go, format.go);
//     MemoryReader(readVirt, addr) turns kernel memory into Load's reader.
//   - TypeByID, FindType(kind, name), TypesByName, Enumerator(name),
//     EnumName(t, v): lookups (types.go, index.go).
//   - Members, Enumerators, Params, Vars: a type's vlen records (types.go).
//   - Resolve, Target, Size, Field(t, "thread.sp"), FieldOf("rq.curr"):
//     layout (member.go).
//   - TypeName, Declaration, ParseDecl, ParseType("unsigned long []"): C
//     names and declarations (cdecl.go).
//   - KernelGlobals, Global(name): the globals BTF does not type
//     (globals.go).
//   - Format(t, read, addr, opts) → Value (model.StructValue), Value.Text, WriteText: crash's
//     `struct TYPE ADDR` (value.go, text.go).
//
// A Spec is lazy: Load copies the blob (bounded by MaxBlobSize), checks the
// header and walks the type section (twice: to count the records, then to
// record where each starts, a []uint32 of 4 bytes a type). Names are indexed on the first
// lookup by name; types are decoded when asked for, one record at a time,
// never as a graph. A Spec is safe for concurrent use.
package btf
