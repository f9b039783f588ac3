package inspect

import (
	"context"

	"dumpscope/model"
)

// Crash returns the kernel engine's crash analysis: why and where the
// kernel crashed. It fails when the engine cannot read the dump's
// architecture or ctx ends.
func (s *Session) Crash(ctx context.Context) (*model.CrashAnalysis, error) {
	k, err := s.KernelContext(ctx)
	if err != nil {
		return nil, err
	}
	return k.Crash(ctx)
}

// Triage gathers the first minute's report: what the dump is (format,
// kernel, build), why the kernel crashed (class, panic message,
// signature), where (CPU, task, guilty frame, stack) and what the dump
// supports (the verdict). It fails only when ctx ends: what cannot be
// read is in Problems.
func (s *Session) Triage(ctx context.Context) (*model.Triage, error) {
	t := &model.Triage{Reports: []model.CrashReportRef{}, Notes: []string{}, Problems: []string{}}
	t.Why.Modules = []string{}
	t.Where.Trace, t.Where.Unwound, t.Where.CPUs, t.Where.StackScan = []model.CrashFrame{}, []model.UnwoundFrame{}, []model.CPUState{}, []model.StackWord{}
	t.Memory.CrashPathCPUs, t.Memory.SignalledCPUs, t.Memory.Tasks, t.Memory.Read = []int{}, []int{}, []model.CPUTask{}, []string{}
	k, kerr := s.KernelContext(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if kerr != nil {
		t.Why.Verdict, t.Why.CauseReason = model.CrashUnknown, kerr.Error()
		t.Where.CPUFrom, t.Where.TaskFrom = "unknown: "+kerr.Error(), "unknown"
		t.Problems = append(t.Problems, kerr.Error())
	} else {
		a, err := k.Crash(ctx)
		if err != nil {
			return nil, err
		}
		t.Why, t.Where, t.Memory = a.Why, a.Where, a.Memory
		t.Reports, t.Notes, t.Problems = a.Reports, a.Notes, a.Problems
	}
	info := s.Info()
	t.What = model.TriageWhat{Files: info.Files, Format: info.Format, Container: info.Container, Arch: info.Arch, CPUs: info.CPUs,
		Release: info.OSRelease, BuildID: info.BuildID, CrashTime: info.CrashTime}
	if k != nil {
		if v := k.VMCoreInfo(); v != nil {
			if off, ok := v.KernelOffset(); ok {
				h := model.Hex(off)
				t.What.KernelOffset = &h
			}
			if r, ok := v.Get("OSRELEASE"); ok {
				t.What.Release = r
			}
			if b, ok := v.Get("BUILD-ID"); ok {
				t.What.BuildID = b
			}
		}
	}
	v, err := s.Verdict(ctx)
	if err != nil {
		return nil, err
	}
	t.Usable = *v
	t.VMCoreInfo, _ = s.VMCoreInfoOrigin()
	return t, nil
}
