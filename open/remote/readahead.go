package remote

// Read-ahead for sequential scans, after the kernel's page-cache
// read-ahead (mm/readahead.c, "On-demand readahead"): each reader stream
// that moves forward block after block gets a window of blocks fetched
// before it asks for them, issued when what is left ahead of it falls to
// half a window (the PG_readahead mark), and doubled each time up to a
// maximum. ReadAt carries no stream identity, so streams are recognised
// the way the kernel does for a file read at several places: a read that
// starts where an earlier one stopped continues that stream. A handful of
// streams are followed at once (verify's workers each scan their own
// range), the least recently used one giving way to a new one.

// raStreams is how many streams are followed at once.
const raStreams = 16

// raMinRun is how many new blocks a stream must read in sequence before
// it is taken as sequential. The kernel views read tables of a few
// blocks in order (kallsyms, BTF, descriptors, a task's stack) and then
// jump: with a run of 2 they started windows that were never read,
// 7 MiB of the 11.5 MiB that info fetched from a 1.1 GiB kdump
// (BenchmarkRemoteCost in package main); with 8, info fetches 6.5 MiB in
// 25 requests instead of 22, and sequential scans (verify, find) lose
// nothing measurable: 8 requests before their first window.
const raMinRun = 8

type raStream struct {
	next   int64  // the block after the furthest one the stream read
	ahead  int64  // the block after the furthest one fetched ahead for it
	run    int64  // blocks read in sequence so far
	window int64  // the next window, in blocks; 0 until sequential
	used   uint64 // clock of the last read; 0 for an empty slot
}

// readahead follows the streams of one object. It is guarded by the
// object's mutex.
type readahead struct {
	max     int64 // largest window in blocks; 0 turns read-ahead off
	nblocks int64 // blocks in the object
	clock   uint64
	streams [raStreams]raStream
}

func newReadahead(maxBytes, blockSize, nblocks int64) readahead {
	return readahead{max: maxBytes / blockSize, nblocks: nblocks}
}

// observe records a read of blocks [b0, b1] and returns the blocks to
// fetch ahead of it, if any.
func (ra *readahead) observe(b0, b1 int64) (first, last int64, ok bool) {
	if ra.max == 0 {
		return 0, 0, false
	}
	ra.clock++
	s := ra.find(b0)
	if s == nil {
		s = ra.victim()
		*s = raStream{next: b1 + 1, ahead: b1 + 1, used: ra.clock}
		return 0, 0, false
	}
	s.used = ra.clock
	if b1 < s.next {
		return 0, 0, false // inside the block it read last: nothing new
	}
	s.run += b1 + 1 - s.next
	s.next = b1 + 1
	s.ahead = max(s.ahead, s.next)
	if s.run < raMinRun {
		return 0, 0, false
	}
	if s.window == 0 {
		// Four times the read, as get_init_ra_size() starts small reads.
		s.window = min(ra.max, 4*(b1-b0+1))
	}
	if s.ahead-s.next > s.window/2 {
		return 0, 0, false
	}
	first = s.ahead
	last = min(first+s.window-1, ra.nblocks-1)
	if first > last {
		return 0, 0, false
	}
	s.ahead = last + 1
	s.window = min(2*s.window, ra.max)
	return first, last, true
}

// find returns the stream a read starting in block b0 continues: one
// that stopped in block b0 or in the block before it.
func (ra *readahead) find(b0 int64) *raStream {
	for i := range ra.streams {
		s := &ra.streams[i]
		if s.used != 0 && (b0 == s.next || b0 == s.next-1) {
			return s
		}
	}
	return nil
}

// victim returns an empty slot, or the least recently used stream.
func (ra *readahead) victim() *raStream {
	v := &ra.streams[0]
	for i := range ra.streams {
		if ra.streams[i].used < v.used {
			v = &ra.streams[i]
		}
	}
	return v
}
