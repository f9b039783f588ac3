package kernel

import (
	"dumpscope/inspect/btf"
)

// kernelObjects holds what the engine reads about the kernel's own
// objects, each computed on first use and kept (a computation cancelled
// by its context is not kept): the types (BTF), the per-CPU areas, the
// layouts of the structures it reads, the modules and the unwind tables.
type kernelObjects struct {
	btf     lazy[*btf.Spec]
	percpu  lazy[*perCPU]
	tasks   lazy[*taskReader]
	states  lazy[*taskStates]
	modules lazy[*moduleSet]
	unwind  lazy[*unwindSetup]
	modBTF  lazy[[]*moduleBTF]
}
