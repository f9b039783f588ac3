package kernel

import (
	"context"

	"dumpscope/model"
	"dumpscope/reader"
)

// Find searches physical memory as reader.Find does and adds to each hit
// the kernel virtual address that maps it in the direct map, when the
// kernel maps it there (see DirectMapAddr). Without a usable address space
// (no VMCOREINFO and no cr3) the hits come without virtual addresses.
func (k *Kernel) Find(ctx context.Context, pattern []byte, opts reader.FindOptions, hit func(model.SearchHit) bool) error {
	// Hits cluster in pages; translate each page once.
	lastPFN, lastVA, lastOK := model.PFN(0), uint64(0), false
	have := false
	return reader.Find(ctx, k.dump, pattern, opts, func(h model.SearchHit) bool {
		if !have || h.PFN != lastPFN {
			base := uint64(h.PFN) * k.pageSize
			lastVA, lastOK = k.DirectMapAddr(base)
			lastPFN, have = h.PFN, true
		}
		if lastOK {
			va := model.VirtAddr(lastVA + uint64(h.PhysAddr)%k.pageSize)
			h.VirtAddr = &va
		}
		return hit(h)
	})
}
