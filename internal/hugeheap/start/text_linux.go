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
	pfW    = 2 // PF_W: a writable segment

	// maxPhnum bounds the headers read: Go's linker writes six.
	maxPhnum = 64

	// madvPopulateRead is MADV_POPULATE_READ (Linux 5.14), which package
	// syscall lacks.
	madvPopulateRead = 22

	// einval is EINVAL.
	einval = 22

	// rusageThread is RUSAGE_THREAD: getrusage's counts for the calling
	// thread alone.
	rusageThread = 1
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

// Image is where the executable's two read-only segments are mapped.
type Image struct {
	// Text is the code segment, and Rodata the read-only data segment
	// that Go's linker writes after it (zero when there is none).
	Text, Rodata Range
	// TextOffset is the file offset Text.Start maps.
	TextOffset uintptr
	// Hugeable: each address in Text lies at the same offset from a
	// 2 MiB boundary as the file offset it maps, so a 2 MiB page of the
	// page cache can be mapped at an aligned 2 MiB block of the segment
	// in one page table entry. Go's linker lays its executables out so;
	// a position-independent executable loaded at a random page is not.
	Hugeable bool
}

// mapText maps the whole code segment in one call. Every package
// initialised from here on runs code from a few pages of its own somewhere
// in the segment, and the first touch of each such page would be a page
// fault: 52 of them after this point in `dumpscope version`, about 30 µs
// each on a virtual machine with shadow page tables, where the one call
// takes about half a millisecond (it saved 1.1-1.2 ms of `version` and of
// `info --no-crash`). Where the code is not yet in the page cache, the
// call reads the segment in one sweep; start-up, touching pages all over
// it with 128 KiB of read-ahead each, would read most of it.
//
// With huge set, it first advises both read-only segments for huge pages
// (MADV_HUGEPAGE on a file mapping): what the page cache then reads of
// them comes in 2 MiB pages, and the kernel maps a 2 MiB page of the page
// cache at an aligned block in one fault, whichever process reads it. It
// then counts the page faults of mapping the code's aligned blocks: one
// per block where the page cache holds them in 2 MiB pages, one per 64
// KiB (the kernel's fault-around) where it holds small ones, as after the
// linker wrote the file or a copy. Package hugeheap reads that count when
// a command is done (TextInSmallPages).
func mapText(huge bool) {
	img := image(runtimeAuxv())
	First.Text, First.Rodata, First.TextOffset = img.Text, img.Rodata, img.TextOffset
	if img.Text.End == 0 {
		return
	}
	blocks := Range{alignUp(img.Text.Start, block), img.Text.End &^ (block - 1)}
	if !huge || !img.Hugeable || blocks.End <= blocks.Start {
		First.TextErr = madvise(img.Text, madvPopulateRead)
		return
	}
	if First.TextErr = madvise(img.Text, madvHugepage); First.TextErr != 0 {
		First.TextErr = madvise(img.Text, madvPopulateRead)
		return
	}
	if img.Rodata.End != 0 {
		madvise(img.Rodata, madvHugepage)
	}
	First.TextHuge = true
	First.Blocks = blocks
	First.TextBlocks = (blocks.End - blocks.Start) / block
	if blocks.Start > img.Text.Start {
		First.TextErr = madvise(Range{img.Text.Start, blocks.Start}, madvPopulateRead)
	}
	// Block by block, last first (a block read from the disk reads the
	// next one too), counting each block's faults.
	stub := DropCodeBlock()
	for i := int(First.TextBlocks) - 1; i >= 0; i-- {
		b := blocks.Start + uintptr(i)*block
		before, _, ok1 := ThreadFaults()
		errno := madvise(Range{b, b + block}, madvPopulateRead)
		after, _, ok2 := ThreadFaults()
		if errno != 0 && First.TextErr == 0 {
			First.TextErr = errno
		}
		if ok1 && ok2 {
			First.TextFaults += after - before
			if after-before > 4 && b != stub {
				First.TextSmall++
			}
		}
	}
	if img.Text.End > blocks.End {
		if errno := madvise(Range{blocks.End, img.Text.End}, madvPopulateRead); errno != 0 && First.TextErr == 0 {
			First.TextErr = errno
		}
	}
}

// TextInSmallPages reports whether the page cache held aligned blocks of
// the executable's code in small pages when mapText mapped them: more
// than 4 page faults for a block, where a 2 MiB page takes one (two when
// the fault waited for the disk). The block that holds DropCode's code
// does not count: where io_uring is refused, DropCode cannot move it, and
// counting it would have every later run try again. False when nothing
// was counted.
func TextInSmallPages() bool {
	return First.TextHuge && First.TextErr == 0 && First.TextSmall > 0
}

// DropCode drops the executable's code and read-only data from this
// process's page tables (MADV_DONTNEED: nothing writes to them but a
// debugger setting breakpoints, whose copies would be lost; package
// hugeheap does not call it in a traced process) and then from the page
// cache (POSIX_FADV_DONTNEED
// on fd, the executable), so that they are read again, in 2 MiB pages
// where the segments are advised for them (TextHuge) and the file system
// reads large pages. The page cache keeps the pages some process still
// maps, and this one maps again, between the two calls, the code it runs
// there: so the calls are made back to back from one function of a few
// instructions (dropPages), and only the 2 MiB block that holds it
// (DropCodeBlock) keeps a small page, besides the pages another thread
// runs meanwhile. Package hugeheap uses it where io_uring, which makes
// both calls in one, is not to be had. Where the segments were not
// advised, it does nothing and returns EINVAL.
func DropCode(fd uintptr) Errno {
	if !First.TextHuge {
		return einval
	}
	t, r := First.Text, First.Rodata
	return dropPages(t.Start, t.End-t.Start, r.Start, r.End-r.Start, fd)
}

// DropCodeBlock is the address of the 2 MiB block that holds DropCode's
// system calls.
func DropCodeBlock() uintptr { return dropPagesPC() &^ (block - 1) }

// ThreadFaults is how many page faults the calling thread has taken
// (getrusage(RUSAGE_THREAD)), and how many of them waited for the disk;
// ok is false where the call fails. The kernel counts there the faults a
// madvise call takes for its caller.
func ThreadFaults() (faults, major uintptr, ok bool) {
	var ru rusage
	if _, errno := rawSyscall6(sysGetrusage, rusageThread, uintptr(unsafe.Pointer(&ru)), 0, 0, 0, 0); errno != 0 {
		return 0, 0, false
	}
	return ru.Minflt + ru.Majflt, ru.Majflt, true
}

// rusage is struct rusage on 64-bit Linux, from <linux/resource.h>.
type rusage struct {
	Utime, Stime                [2]int64
	Maxrss, Ixrss, Idrss, Isrss uintptr
	Minflt, Majflt              uintptr
	Nswap, Inblock, Oublock     uintptr
	Msgsnd, Msgrcv, Nsignals    uintptr
	Nvcsw, Nivcsw               uintptr
}

// alignUp rounds p up to a multiple of a, a power of two.
func alignUp(p, a uintptr) uintptr { return (p + a - 1) &^ (a - 1) }

// image finds the executable's read-only segments from the program headers
// the kernel mapped and the auxiliary vector that says where they are;
// zero where these cannot be read.
func image(auxv []uintptr) Image {
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
		return Image{}
	}
	// The headers lie in the executable's first segment, mapped from the
	// file, outside the Go heap. The kernel's address is read through
	// memory as a pointer: go vet rejects converting the integer itself.
	headers := unsafe.Slice(*(**elf64Phdr)(unsafe.Pointer(&phdr)), phnum)
	bias, ok := loadBias(phdr, headers)
	if !ok {
		return Image{}
	}
	page := pageSize(auxv)
	if page == 0 || page&(page-1) != 0 {
		return Image{}
	}
	span := func(h elf64Phdr) (Range, bool) {
		start := (bias + uintptr(h.Vaddr)) &^ (page - 1)
		end := (bias + uintptr(h.Vaddr+h.Memsz) + page - 1) &^ (page - 1)
		return Range{start, end}, end > start
	}
	var img Image
	text := -1
	for i, h := range headers {
		if h.Type == ptLoad && h.Flags&pfX != 0 && h.Memsz != 0 {
			r, ok := span(h)
			if !ok {
				return Image{}
			}
			img.Text, text = r, i
			img.TextOffset = r.Start - (bias + uintptr(h.Vaddr) - uintptr(h.Off))
			img.Hugeable = (bias+uintptr(h.Vaddr)-uintptr(h.Off))%block == 0
			break
		}
	}
	if text < 0 {
		return Image{}
	}
	for _, h := range headers[text+1:] {
		if h.Type == ptLoad && h.Flags&(pfX|pfW) == 0 && h.Memsz != 0 {
			if r, ok := span(h); ok && r.Start >= img.Text.End {
				img.Rodata = r
			}
			break
		}
	}
	return img
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
