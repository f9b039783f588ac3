package model

// SearchHit is one match of a byte pattern in physical memory.
type SearchHit struct {
	PFN      PFN      `json:"pfn"`
	PhysAddr PhysAddr `json:"phys_addr"`
	// VirtAddr is a kernel virtual address that maps the match, when the
	// dump's page tables or direct map give one.
	VirtAddr *VirtAddr `json:"virt_addr,omitempty"`
}
