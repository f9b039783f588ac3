package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/reader"
)

// This file builds the session's kernel engine with the right VMCOREINFO:
// the one Options gives (--vmcoreinfo FILE), else the dump's own note,
// else one recovered from memory (vmcoreinfo.go). Every command that reads
// the kernel goes through it, so each works on a dump without a note.

// Options configure a session.
type Options struct {
	// VMCoreInfo, when not nil, is used instead of the dump's own
	// VMCOREINFO (and instead of a search of memory); VMCoreInfoFile names
	// where it came from. It is checked against the memory like a
	// recovered text, and used even when the checks fail (Origin says so).
	VMCoreInfo     *model.VMCoreInfo
	VMCoreInfoFile string
	// Recover searches memory for VMCOREINFO when the dump has no note
	// (vmcoreinfo.go): one pass over every stored frame, the first time
	// the kernel engine is asked for. Without it (New), such a dump is
	// read without VMCOREINFO, as far as that goes.
	Recover bool
	// RecoverProgress, if not nil, is called during the search with
	// frames searched and frames to search.
	RecoverProgress func(done, total uint64)
}

// NewWithOptions starts a session with options.
func NewWithOptions(d reader.Dump, o Options) *Session {
	s := New(d)
	s.eng.opts = o
	return s
}

// engineState is the kernel engine, built on first use, and where its
// VMCOREINFO came from.
type engineState struct {
	opts Options

	// build is held while the engine is built (a search of memory may
	// take long); mu guards the fields below and is held only briefly, so
	// Info and VMCoreInfoOrigin never wait for a search.
	build  sync.Mutex
	mu     sync.Mutex
	done   bool
	kern   *kernel.Kernel
	err    error
	origin model.VMCoreInfoOrigin
}

// KernelContext returns the kernel engine, built on first use; ctx bounds
// the search of memory for VMCOREINFO that a dump without one needs (a
// search that ctx ended is not kept: the next call searches again).
func (s *Session) KernelContext(ctx context.Context) (*kernel.Kernel, error) {
	e := &s.eng
	e.build.Lock()
	defer e.build.Unlock()
	e.mu.Lock()
	done, k, err := e.done, e.kern, e.err
	e.mu.Unlock()
	if done {
		return k, err
	}
	k, origin, err := s.buildKernel(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	e.mu.Lock()
	e.kern, e.origin, e.err, e.done = k, origin, err, true
	e.mu.Unlock()
	return k, err
}

// VMCoreInfo returns the VMCOREINFO the kernel engine reads the kernel
// with (nil when there is none) and where it came from, building the
// engine (and searching memory) when that was not done yet.
func (s *Session) VMCoreInfo(ctx context.Context) (*model.VMCoreInfo, model.VMCoreInfoOrigin, error) {
	k, err := s.KernelContext(ctx)
	origin, _ := s.VMCoreInfoOrigin()
	if err != nil {
		// Architectures the engine does not read: the dump's own note
		// still answers.
		if v, verr := s.dump.VMCoreInfo(); verr == nil {
			return v, model.VMCoreInfoOrigin{Source: model.VMCoreInfoFromNote}, nil
		} else if s.eng.opts.VMCoreInfo != nil {
			return s.eng.opts.VMCoreInfo, model.VMCoreInfoOrigin{Source: model.VMCoreInfoFromFile, File: s.eng.opts.VMCoreInfoFile}, nil
		}
		return nil, origin, err
	}
	return k.VMCoreInfo(), origin, nil
}

// VMCoreInfoOrigin returns where the engine's VMCOREINFO came from, and
// false when the engine has not been built yet (nothing is read).
func (s *Session) VMCoreInfoOrigin() (model.VMCoreInfoOrigin, bool) {
	e := &s.eng
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.origin, e.done
}

// buildKernel builds the engine and says where its VMCOREINFO came from.
func (s *Session) buildKernel(ctx context.Context) (*kernel.Kernel, model.VMCoreInfoOrigin, error) {
	o := s.eng.opts
	if o.VMCoreInfo != nil {
		origin := model.VMCoreInfoOrigin{Source: model.VMCoreInfoFromFile, File: o.VMCoreInfoFile}
		k, valid, checks, reason, _ := validateVMCoreInfo(ctx, s.dump, o.VMCoreInfo)
		if k == nil {
			_, err := kernel.NewWithOptions(s.dump, kernel.Options{VMCoreInfo: o.VMCoreInfo})
			if err == nil { // the engine would read, but not this dump
				err = fmt.Errorf("--vmcoreinfo %s does not describe this dump: %s", o.VMCoreInfoFile, reason)
			}
			return nil, origin, err
		}
		if valid {
			origin.Reason = "given with --vmcoreinfo; " + strings.Join(checks, "; ")
		} else {
			origin.Reason = "given with --vmcoreinfo, used although it does not describe this memory: " + reason
		}
		return k, origin, nil
	}
	_, noteErr := s.dump.VMCoreInfo()
	k, err := kernel.New(s.dump)
	switch {
	case err != nil:
		return nil, model.VMCoreInfoOrigin{Source: model.VMCoreInfoFromNone}, err
	case noteErr == nil:
		return k, model.VMCoreInfoOrigin{Source: model.VMCoreInfoFromNote, Reason: "the dump's VMCOREINFO note"}, nil
	case !errors.Is(noteErr, model.ErrNotFound):
		return k, model.VMCoreInfoOrigin{Source: model.VMCoreInfoFromNone, Reason: noteErr.Error()}, nil
	case !o.Recover:
		return k, model.VMCoreInfoOrigin{Source: model.VMCoreInfoFromNone, Reason: "the dump has no VMCOREINFO note (memory was not searched for one)"}, nil
	}
	search, v, rk, err := recoverVMCoreInfo(ctx, s.dump, RecoverOptions{Progress: o.RecoverProgress})
	if err != nil {
		return k, model.VMCoreInfoOrigin{Source: model.VMCoreInfoFromNone, Reason: "the dump has no VMCOREINFO note, and memory could not be searched: " + err.Error()}, nil
	}
	origin := model.VMCoreInfoOrigin{Source: model.VMCoreInfoFromNone, Search: search,
		Reason: "the dump has no VMCOREINFO note; " + chosenReason(search)}
	if v == nil {
		return k, origin, nil
	}
	if rk == nil {
		if rk, err = kernel.NewWithOptions(s.dump, kernel.Options{VMCoreInfo: v}); err != nil {
			return k, origin, nil
		}
	}
	c := search.Candidates[*search.Chosen]
	origin.Source, origin.PhysAddr = model.VMCoreInfoFromMemory, &c.PhysAddr
	return rk, origin, nil
}

// withVMCoreInfo fills the release, build id and crash time of in from a
// VMCOREINFO that did not come from the dump's note, once it is known: a
// --vmcoreinfo file at once, a recovered text after the engine was built.
func (s *Session) withVMCoreInfo(in model.Info) model.Info {
	v, from := s.eng.opts.VMCoreInfo, ""
	if v != nil {
		from = "file " + s.eng.opts.VMCoreInfoFile
	} else {
		s.eng.mu.Lock()
		if s.eng.done && s.eng.origin.Source == model.VMCoreInfoFromMemory && s.eng.kern != nil {
			v, from = s.eng.kern.VMCoreInfo(), "memory at "+s.eng.origin.PhysAddr.String()
		}
		s.eng.mu.Unlock()
	}
	if v == nil {
		return in
	}
	in.VMCoreInfoFrom = from
	in.SetVMCoreInfo(v)
	return in
}
