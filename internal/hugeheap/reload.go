package hugeheap

import "fmt"

// Reload is what ReloadText did.
type Reload int

const (
	// ReloadNotNeeded: the page cache held the code in 2 MiB pages, or
	// they are off (GODEBUG=disablethp=1, THP "never" mode, a page size
	// other than 4 KiB, a segment not laid out for them), or the code was
	// not counted.
	ReloadNotNeeded Reload = iota
	// ReloadSkipped: tried within retryAfter for this executable, or the
	// executable or the cache folder that remembers the tries could not
	// be used.
	ReloadSkipped
	// ReloadDone: the code came back in 2 MiB pages.
	ReloadDone
	// ReloadPartial: where io_uring was refused, the code came back in 2
	// MiB pages but for the block that holds start.DropCode's code.
	ReloadPartial
	// ReloadFailed: it came back in small pages (a file system or kernel
	// that reads none larger, or pages another process kept mapped).
	ReloadFailed
)

func (r Reload) String() string {
	switch r {
	case ReloadNotNeeded:
		return "not needed"
	case ReloadSkipped:
		return "skipped"
	case ReloadDone:
		return "done"
	case ReloadPartial:
		return "partial"
	case ReloadFailed:
		return "failed"
	}
	return fmt.Sprintf("Reload(%d)", int(r))
}
