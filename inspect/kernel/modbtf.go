package kernel

import (
	"context"
	"fmt"

	"dumpscope/inspect/btf"
	"dumpscope/model"
)

// Module BTF (CONFIG_DEBUG_INFO_BTF_MODULES): kernel/bpf/btf.c keeps each
// module's split BTF on the static list btf_modules, struct btf_module
// {list, module, btf}; struct btf holds a copy of the blob (data,
// data_size; module.btf_data is freed after load). Split BTF continues
// vmlinux's type IDs and strings, so it is read on top of the vmlinux
// Spec.

// moduleBTF is one module's entry on btf_modules.
type moduleBTF struct {
	module     uint64 // struct module
	name       string
	data, size uint64
	spec       lazy[*btf.Spec]
}

// moduleBTFList walks btf_modules once; a kernel without the list (no
// CONFIG_DEBUG_INFO_BTF_MODULES) or with an unreadable one has none.
func (k *Kernel) moduleBTFList(ctx context.Context, spec *btf.Spec, syms *Symbols) []*moduleBTF {
	list, _ := k.objs.modBTF.get(ctx, func(ctx context.Context) ([]*moduleBTF, error) {
		head, ok := syms.addrOf("btf_modules")
		if !ok {
			return nil, nil
		}
		l := &layout{spec: spec}
		lst, mod, bt := l.field("btf_module.list"), l.field("btf_module.module"), l.field("btf_module.btf")
		data, size, name := l.field("btf.data"), l.field("btf.data_size"), l.optional("btf.name")
		l.scalars(0, mod, bt, data, size)
		if l.check(k, "btf_modules") != nil || max(mod.off, bt.off, data.off, size.off, name.off) > 1<<12 || name.size > 256 {
			return nil, nil
		}
		var out []*moduleBTF
		err := k.walkList(ctx, head, "the module BTF list (btf_modules)", func(node uint64) error {
			if len(out) >= maxModules {
				return fmt.Errorf("btf_modules: more than %d entries: %w", maxModules, model.ErrCorrupt)
			}
			e := node - lst.off
			b, err := k.readStruct(ctx, e, max(mod.off+mod.size, bt.off+bt.size))
			if err != nil {
				return nil
			}
			m := &moduleBTF{module: uintAt(b, mod)}
			if p := uintAt(b, bt); p != 0 {
				if bb, err := k.readStruct(ctx, p, max(data.off+data.size, size.off+size.size, name.off+name.size)); err == nil {
					m.data, m.size, m.name = uintAt(bb, data), uintAt(bb, size), cStringAt(bb, name)
				}
			}
			out = append(out, m)
			return ctx.Err()
		})
		return out, err
	})
	return list
}

// namedSpec is one module's loaded split BTF.
type namedSpec struct {
	name string
	spec *btf.Spec
}

// moduleSpecs returns the split BTF of every module that has one, loaded
// on top of vmlinux's; modules whose blob cannot be read are left out.
func (k *Kernel) moduleSpecs(ctx context.Context) ([]namedSpec, error) {
	spec, syms, err := k.btfSymbols(ctx)
	if err != nil {
		return nil, err
	}
	var out []namedSpec
	for _, m := range k.moduleBTFList(ctx, spec, syms) {
		if m.data == 0 || m.size == 0 || m.size > btf.MaxBlobSize {
			continue
		}
		s, err := m.spec.get(ctx, func(ctx context.Context) (*btf.Spec, error) {
			return btf.Load(btf.MemoryReader(btf.ReadFunc(k.reader(ctx)), m.data), int64(m.size), spec)
		})
		if err == nil && s != nil {
			out = append(out, namedSpec{m.name, s})
		}
	}
	return out, ctx.Err()
}
