package kernel

import (
	"context"

	"dumpscope/model"
)

// Summary is the crash analysis (Crash) in the older form of
// model.CrashSummary: the crashing CPU and how it is known, each CPU's
// instruction and stack pointers, the text pointers on the crashing CPU's
// stack and the last lastLog records of the log (10 when 0). It never
// fails: what cannot be read is listed in Problems. New front-end code
// should use Crash, which also says why the kernel crashed.
func (k *Kernel) Summary(ctx context.Context, lastLog int) *model.CrashSummary {
	if lastLog <= 0 {
		lastLog = 10
	}
	s := &model.CrashSummary{CPUs: []model.CPUState{}, Stack: []model.StackWord{}, LastLog: []model.LogRecord{}, Problems: []string{}}
	if v, ok := k.vmci.Get("OSRELEASE"); ok {
		s.OSRelease = v
	}
	if v, ok := k.vmci.Get("BUILD-ID"); ok {
		s.BuildID = v
	}
	if t, ok := k.vmci.CrashTime(); ok {
		s.CrashTime = &t
	}
	a, err := k.Crash(ctx)
	if err != nil {
		s.CrashCPUReason = "unknown: " + model.ErrorText(err)
		s.Problems = append(s.Problems, model.ErrorText(err))
		return s
	}
	s.CrashCPU, s.CrashCPUReason = a.Where.CPU, a.Where.CPUFrom
	s.CPUs = append(s.CPUs, a.Where.CPUs...)
	s.Stack = append(s.Stack, a.Where.StackScan...)
	if a.Where.CPU == nil && len(a.Where.CPUs) > 0 {
		// No CPU crashed: show the first CPU's stack.
		if w, err := k.Stack(ctx, a.Where.CPUs[0].CPU); err == nil {
			s.Stack = append(s.Stack, w...)
		}
	}
	s.Problems = append(s.Problems, a.Problems...)
	if recs, err := k.Log(ctx); err == nil {
		s.LastLog = append(s.LastLog, recs[max(0, len(recs)-lastLog):]...)
	}
	return s
}
