package kdump

import (
	"context"
	"fmt"

	"dumpscope/model"
	"dumpscope/reader"
)

// maxSpan is the size of one read of page images in ReadRange: the images
// of consecutive frames, up to maxSpan bytes, or in a local file at least
// maxSpan bytes where the file has them. 64 KiB reads keep the images in
// the CPU's cache until they are decoded, and the kernel's copy does not
// push the decoder's own working set out: decoding every image of a 27 MB
// LZO file after 64 KiB reads cost 71 ms of CPU against 77 ms after 1 MiB
// reads and 65 ms from memory (the reads alone: 3.3 against 6.7 ms; ~400
// system calls are not what costs). Reads of 64 KiB or more pass
// reader.ReadAhead by, straight to the file; reads just under 64 KiB went
// through its windows, which cost ~1 MiB of fresh memory per open file
// (see descWindow) and a copy of every image out of them (with
// descWindow, a one-job verify of that file takes 74 ms of CPU, not 78).
const maxSpan = 64 << 10

// ReadRange reads the frames [start, start+count) in order. The
// descriptors of consecutive frames in bitmap 2 are consecutive, and
// makedumpfile writes their images one after the other, so a run of
// frames costs one rank lookup and one read per 64 KiB of images
// instead of one lookup and one read per page.
func (f *File) ReadRange(ctx context.Context, start model.PFN, count uint64, opt reader.ReadOptions, fn func(model.PageInfo, []byte, error) bool) error {
	// The page and span buffers are reused across calls (verify calls once
	// per chunk of 256 frames): a fresh megabyte per call kept the garbage
	// collector returning and refaulting memory. The span keeps the file
	// bytes it holds for the next call, which often starts where this one
	// ends.
	bufs := f.rangeBuffers()
	defer f.ranges.Put(bufs)
	page := bufs.page
	span, spanOff := bufs.span, bufs.spanOff // file bytes from spanOff
	if !f.local {
		span, spanOff = span[:0], 0
	}
	defer func() { bufs.span, bufs.spanOff = span, spanOff }()
	var zero []byte // the shared zero page's image
	strict := opt.Strict
	dec := f.getDecoder(strict)
	defer f.putDecoder(dec, strict)
	pfn := uint64(start)
	end := pfn + count
	var idx uint64
	haveIdx := false
	// The bitmap blocks in use, kept here so that the cache is not
	// consulted for every frame; the descriptors come through the
	// buffers' window, which the next call often finds holding its own.
	curBlk := int64(-1)
	var b1, b2 *bitmapBlockData
	win := f.window(bufs)
	for ; pfn < end; pfn++ {
		if (pfn-uint64(start))%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		var pi model.PageInfo
		var d PageDesc
		if haveIdx && pfn < f.end {
			// The previous frame was present: this one's descriptor is
			// the next, if this frame is in both bitmaps too.
			if blk := int64(pfn / pfnsPerBlock); blk != curBlk {
				curBlk, b1, b2 = blk, f.bm.block(0, blk), f.bm.block(1, blk)
			}
			i := pfn % pfnsPerBlock
			haveIdx = b1.err == nil && b2.err == nil && int(i/8) < len(b2.b) && int(i/8) < len(b1.b) &&
				b2.b[i/8]>>(i%8)&1 == 1 && b1.b[i/8]>>(i%8)&1 == 1
			if haveIdx {
				idx++
				var err error
				d, err = f.descs.at(win, idx)
				pi = f.describeDesc(pfn, idx, d, err)
			}
		} else {
			haveIdx = false
		}
		if !haveIdx {
			var ok bool
			pi, idx, d, ok = f.lookupIn(pfn, win)
			haveIdx = ok
		}
		if pi.State != model.StatePresent {
			if pi.State == model.StateZeroFill {
				clear(page)
				if !fn(pi, page, nil) {
					return nil
				}
				continue
			}
			e := model.AbsentError(f.src.Name, pi)
			if pi.State == model.StateUnreadable {
				e.Code = model.CodeBadPageDescriptor
			}
			if !fn(pi, nil, e) {
				return nil
			}
			continue
		}
		if pi.ZeroPage {
			// Every zero page shares one image: read it once per file.
			if zero == nil {
				img, err := f.sharedZeroPage(d.Offset)
				if err != nil {
					if !fn(pi, nil, &model.PageError{File: f.src.Name, PFN: model.PFN(pfn), State: model.StateLost, Off: model.FileOff(d.Offset), Msg: err.Error(), Err: err, Code: model.CodeTruncated}) {
						return nil
					}
					continue
				}
				// This call's copy: fn may write to the pages it gets.
				if len(bufs.zero) != len(img) {
					bufs.zero = make([]byte, len(img))
				}
				zero = bufs.zero
				copy(zero, img)
			}
			if !fn(pi, zero, nil) {
				return nil
			}
			continue
		}
		// Make sure the image is in the span buffer; refill it from here
		// with the images of the following descriptors that lie right
		// after it, up to maxSpan bytes.
		dEnd := d.Offset + int64(d.Size)
		if d.Offset < spanOff || dEnd > spanOff+int64(len(span)) {
			spanOff = d.Offset
			n := f.contiguous(win, idx, d, end-pfn)
			if f.local {
				// At least maxSpan bytes, where the file has them: at the
				// end of a range, or of a run of frames, the images that
				// follow are the next present frames', which the next call
				// reads (verify's next chunk, in one job), and smaller
				// reads would fill reader.ReadAhead's windows.
				n = max(n, min(maxSpan, f.src.Len()-spanOff))
			}
			if cap(span) < int(n) {
				span = make([]byte, n, max(n, maxSpan+f.pageSize))
			}
			span = span[:n]
			if m, err := f.src.R.ReadAt(span, spanOff); m < int(d.Size) {
				span = span[:0]
				e := &model.PageError{File: f.src.Name, PFN: model.PFN(pfn), State: model.StateLost, Off: model.FileOff(d.Offset),
					Msg: fmt.Sprintf("%d stored bytes at %#x cannot be read: %v", d.Size, d.Offset, err), Err: err, Code: model.CodeTruncated}
				if !fn(pi, nil, e) {
					return nil
				}
				continue
			} else {
				span = span[:m]
			}
		}
		stored := span[d.Offset-spanOff : dEnd-spanOff]
		if err := dec.Decode(pi.Codec, stored, page); err != nil {
			e := &model.PageError{File: f.src.Name, PFN: model.PFN(pfn), State: model.StateUnreadable, Off: model.FileOff(d.Offset),
				Msg: fmt.Sprintf("%d stored bytes do not decode: %v", d.Size, err), Err: err, Code: model.CodeBadCompressedPage}
			if !fn(pi, nil, e) {
				return nil
			}
			continue
		}
		if !fn(pi, page, nil) {
			return nil
		}
	}
	return nil
}

// sharedZeroPage returns the image of the shared zero page at off (the
// start of the page data), read once per file: verify reads in chunks of
// 256 frames, and every chunk read it again. A failed read is not kept.
func (f *File) sharedZeroPage(off int64) ([]byte, error) {
	if z := f.zeroImage.Load(); z != nil {
		return *z, nil
	}
	z := make([]byte, f.pageSize)
	if err := f.src.ReadAt(z, off, "shared zero page"); err != nil {
		return nil, err
	}
	f.zeroImage.Store(&z)
	return z, nil
}

// rangeBuffers are the buffers of a ReadRange call, pooled between calls
// with what they hold.
type rangeBuffers struct {
	page, span, zero []byte
	spanOff          int64 // the file offset of span[0]
	desc             descWindow
}

// window returns the descriptor window of b for a walk in order, or nil
// (the block cache) when the file is not local.
func (f *File) window(b *rangeBuffers) *descWindow {
	if !f.local {
		return nil
	}
	return &b.desc
}

func (f *File) rangeBuffers() *rangeBuffers {
	if b, ok := f.ranges.Get().(*rangeBuffers); ok {
		return b
	}
	return &rangeBuffers{page: make([]byte, f.pageSize)}
}

// contiguous returns how many bytes from descriptor idx's image on hold the
// images of the next descriptors (at most `frames` in all, read through w)
// without a gap (the shared zero page, stored elsewhere, does not break the
// run): until maxSpan bytes or more in a local file, up to maxSpan in
// others.
func (f *File) contiguous(w *descWindow, idx uint64, d PageDesc, frames uint64) int64 {
	n := int64(d.Size)
	next := d.Offset + n
	for j := idx + 1; j < idx+frames && n < maxSpan; j++ {
		dj, err := f.descs.at(w, j)
		if err != nil {
			break
		}
		if f.dataStart != 0 && dj.Offset == f.dataStart && dj.Size == uint32(f.pageSize) {
			continue
		}
		if dj.Offset != next || (!f.local && n+int64(dj.Size) > maxSpan) {
			break
		}
		n += int64(dj.Size)
		next += int64(dj.Size)
	}
	return n
}

// ReadRange reads frames through the parts that hold them; frames of
// missing parts give the error ReadPage gives.
func (s *Set) ReadRange(ctx context.Context, start model.PFN, count uint64, opt reader.ReadOptions, fn func(model.PageInfo, []byte, error) bool) error {
	pfn, end := uint64(start), uint64(start)+count
	for pfn < end {
		p := s.part(pfn)
		if p == nil {
			pi := s.missing(model.PFN(pfn))
			if !fn(pi, nil, model.AbsentError(s.names(), pi)) {
				return nil
			}
			pfn++
			continue
		}
		n := min(end, p.end) - pfn
		stop := false
		err := p.ReadRange(ctx, model.PFN(pfn), n, opt, func(pi model.PageInfo, page []byte, err error) bool {
			if !fn(s.named(p, pi), page, err) {
				stop = true
				return false
			}
			return true
		})
		if err != nil || stop {
			return err
		}
		pfn += n
	}
	return nil
}
