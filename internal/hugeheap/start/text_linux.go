//go:build linux && (amd64 || arm64)

package start

import "unsafe"

// The ELF and kernel constants this file uses, from <elf.h> and
// <asm-generic/mman-common.h>.
const (
	atPhdr   = 3 // AT_PHDR: where the program headers are mapped
	atPhent  = 4 // AT_PHENT: the size of one
	atPhnum  = 5 // AT_PHNUM: how many there are
	atPagesz = 6 // AT_PAGESZ: the page size

	ptLoad = 1 // PT_LOAD: a segment mapped from the file
	ptPhdr = 6 // PT_PHDR: the program headers themselves
	pfX    = 1 // PF_X: an executable segment

	// maxPhnum bounds the headers read: Go's linker writes six.
	maxPhnum = 64

	// madvPopulateRead is MADV_POPULATE_READ (Linux 5.14), which package
	// syscall lacks.
	madvPopulateRead = 22
)

// elf64Phdr is Elf64_Phdr, one program header of a 64-bit ELF file.
type elf64Phdr struct {
	Type, Flags          uint32
	Off, Vaddr, Paddr    uint64
	Filesz, Memsz, Align uint64
}

// runtimeAuxv is the auxiliary vector the kernel gave the process. The
// runtime keeps it and offers it to golang.org/x/sys under this name.
//
//go:linkname runtimeAuxv runtime.getAuxv
func runtimeAuxv() []uintptr

// mapText maps the whole code segment in one call. Every package
// initialised from here on runs code from a few pages of its own somewhere
// in the segment, and the first touch of each such page would be a page
// fault: 52 of them after this point in `dumpscope version`, about 30 µs
// each on a virtual machine with shadow page tables, where the one call
// takes about half a millisecond (it saved 1.1-1.2 ms of `version` and of
// `info --no-crash`). Where the code is not yet in the page cache, the
// call reads the segment in one sweep; start-up, touching pages all over
// it with 128 KiB of read-ahead each, would read most of it.
func mapText() {
	if First.Text = textSegment(runtimeAuxv()); First.Text.End != 0 {
		First.TextErr = madvise(First.Text, madvPopulateRead)
	}
}

// textSegment is the address range of the executable's code segment, found
// from the program headers the kernel mapped and the auxiliary vector that
// says where they are; zero where these cannot be read.
func textSegment(auxv []uintptr) Range {
	var phdr, phent, phnum uintptr
	for i := 0; i+1 < len(auxv); i += 2 {
		switch auxv[i] {
		case atPhdr:
			phdr = auxv[i+1]
		case atPhent:
			phent = auxv[i+1]
		case atPhnum:
			phnum = auxv[i+1]
		}
	}
	if phdr == 0 || phent != unsafe.Sizeof(elf64Phdr{}) || phnum == 0 || phnum > maxPhnum {
		return Range{}
	}
	// The headers lie in the executable's first segment, mapped from the
	// file, outside the Go heap. The kernel's address is read through
	// memory as a pointer: go vet rejects converting the integer itself.
	headers := unsafe.Slice(*(**elf64Phdr)(unsafe.Pointer(&phdr)), phnum)
	bias, ok := loadBias(phdr, headers)
	if !ok {
		return Range{}
	}
	page := pageSize(auxv)
	if page == 0 || page&(page-1) != 0 {
		return Range{}
	}
	for _, h := range headers {
		if h.Type == ptLoad && h.Flags&pfX != 0 && h.Memsz != 0 {
			start := (bias + uintptr(h.Vaddr)) &^ (page - 1)
			end := (bias + uintptr(h.Vaddr+h.Memsz) + page - 1) &^ (page - 1)
			if end <= start {
				return Range{}
			}
			return Range{start, end}
		}
	}
	return Range{}
}

// loadBias is where the program headers are (at) against where their
// PT_PHDR entry says they are: zero unless the executable is
// position-independent. Without a PT_PHDR entry it is unknown.
func loadBias(at uintptr, headers []elf64Phdr) (uintptr, bool) {
	for _, h := range headers {
		if h.Type == ptPhdr {
			return at - uintptr(h.Vaddr), true
		}
	}
	return 0, false
}

// pageSize is the page size the auxiliary vector gives (package syscall's
// Getpagesize reads it there too); zero without one.
func pageSize(auxv []uintptr) uintptr {
	for i := 0; i+1 < len(auxv); i += 2 {
		if auxv[i] == atPagesz {
			return auxv[i+1]
		}
	}
	return 0
}
