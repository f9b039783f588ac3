package xencore

import (
	"fmt"

	"dumpscope/model"
	"dumpscope/reader/arch"
)

// Registers returns one set per vCPU from its vcpu_guest_context
// (source xen-vcpu-context) and, for ia64 PV domains, one from its
// mapped_regs (source ia64-mapped-regs), in vCPU order.
func (f *File) Registers() ([]model.RegisterSet, error) {
	f.regsOnce.Do(f.loadRegisters)
	return f.regs, nil
}

// readRecord reads record i of rs, at most max bytes of it.
func (f *File) readRecord(rs records, i int, limit int64) ([]byte, int64, error) {
	off := rs.off + int64(i)*rs.rec
	b, err := f.src.Bytes(off, min(rs.rec, limit), limit, fmt.Sprintf("%s record %d", rs.name, i))
	return b, off, err
}

// maxRecord bounds a record read: the largest context (ia64) padded to a
// 64 KiB page, far above anything libxc writes.
const maxRecord = 1 << 17

func (f *File) loadRegisters() {
	bad := func(off int64, format string, args ...any) {
		f.regProbs = append(f.regProbs, model.NewProblem(model.SeverityError, model.CodeBadVCPUContext, f.src.Name, off, format, args...))
	}
	n := min(max(f.ctx.n, f.mapped.n), MaxVCPUs)
	for cpu := 0; cpu < n; cpu++ {
		if cpu < f.ctx.n && f.ctx.rec > 0 {
			if set, err := f.decodeContext(cpu); err != nil {
				bad(f.ctx.off+int64(cpu)*f.ctx.rec, "vCPU %d: %v", cpu, err)
			} else {
				f.regs = append(f.regs, set)
			}
		}
		if cpu < f.mapped.n {
			b, off, err := f.readRecord(f.mapped, cpu, maxRecord)
			if err == nil {
				var set model.RegisterSet
				if set, err = arch.DecodeIA64MappedRegs(f.order, b, off); err == nil {
					set.CPU, set.File = cpu, f.src.Name
					f.regs = append(f.regs, set)
					continue
				}
			}
			bad(off, "vCPU %d mapped regs: %v", cpu, err)
		}
	}
}

// decodeContext decodes the vcpu_guest_context of one vCPU, by e_machine
// (formats.md §4.2: the record may be longer than the context). libxc sets
// e_machine from the guest's width for PV guests and from the tools' word
// size for auto-translated (HVM) ones (xg_core.c), which is also the
// layout the hypervisor returns their contexts in.
func (f *File) decodeContext(cpu int) (model.RegisterSet, error) {
	b, off, err := f.readRecord(f.ctx, cpu, maxRecord)
	if err != nil {
		return model.RegisterSet{}, err
	}
	var set model.RegisterSet
	switch f.archName {
	case arch.X8664, arch.I386:
		set, err = arch.DecodeXenContext(f.archName, f.hvm, f.order, b, off)
	case arch.IA64:
		set, err = arch.DecodeIA64Context(f.order, b, off)
	default:
		err = fmt.Errorf("no vcpu_guest_context layout for %s", f.archName)
	}
	set.CPU, set.File = cpu, f.src.Name
	return set, err
}

// contextLayout labels one context record.
func (f *File) contextLayout(cpu int) *model.Field {
	b, off, err := f.readRecord(f.ctx, cpu, maxRecord)
	node := &model.Field{Name: fmt.Sprintf("vcpu_guest_context[%d]", cpu), Offset: model.FileOff(f.ctx.off + int64(cpu)*f.ctx.rec), Size: f.ctx.rec,
		Meaning: fmt.Sprintf("saved state of vCPU %d (XEN_DOMCTL_getvcpucontext)", cpu)}
	if err != nil {
		node.Value = err.Error()
		return node
	}
	switch f.archName {
	case arch.X8664, arch.I386:
		s, _ := arch.XenContextFor(f.archName, f.hvm)
		node.Value = fmt.Sprintf("%s %s context", f.archName, domainKind(f.hvm))
		node.Children = arch.XenContextLayout(s, f.order, b, off)
		if int64(s.Size) < f.ctx.rec {
			node.Meaning += fmt.Sprintf("; the record is vcpu_guest_context_any_t (%d bytes), the context its first %d", f.ctx.rec, s.Size)
		}
	case arch.IA64:
		node.Value = "ia64 context"
		node.Children = arch.IA64Context().Layout(f.order, b, off)
	default:
		node.Value = "not decoded (unknown architecture)"
	}
	return node
}

func domainKind(hvm bool) string {
	if hvm {
		return "HVM"
	}
	return "PV"
}
