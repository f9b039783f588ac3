// GOMAXPROCS stays what the runtime set at start (the CPUs and the
// cgroup's CPU limit then), instead of following a limit changed while
// dumpscope runs: starting the runtime's goroutine that would watch for
// that (Go 1.25's updatemaxprocs) wakes one more thread in most processes
// (4 threads created instead of 3), and cost 0.4-0.7 ms of the 13-15 ms
// `dumpscope version` took (bench/results/README.md, "Fourteenth pass").
//
//go:debug updatemaxprocs=0

// Command dumpscope opens kernel crash dumps and shows what is inside them,
// byte by byte, without vmlinux or debuginfo: ELF vmcores, makedumpfile's
// kdump-compressed and flattened files, Xen dump-core files and AIX
// component dumps.
//
// With no subcommand it opens the terminal UI; every view is also a
// subcommand with --json. The CLI contract (names, value encoding, exit
// codes) is in README.md.
package main

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"time"

	"github.com/alecthomas/kong"

	"dumpscope/inspect/kernel"
	"dumpscope/internal/hugeheap"
	"dumpscope/model"
	"dumpscope/open/remote"
)

// Exit codes (README "Exit codes").
const (
	exitOK      = 0
	exitAbsent  = 1 // requested data absent, verify found errors, runtime failure
	exitUsage   = 2 // usage error, or the file is not a readable dump
	programName = "dumpscope"
)

// CLI is the command line. Each command is a struct with a Run method.
type CLI struct {
	Globals

	TUI        tuiCmd        `cmd:"" default:"withargs" help:"Open the terminal UI: the default command (dumpscope FILE... opens it too)."`
	Info       infoCmd       `cmd:"" help:"Describe a dump: format, architecture, kernel, frames by state."`
	Layout     layoutCmd     `cmd:"" help:"Show every header structure, field by field, with offsets and meanings."`
	Notes      notesCmd      `cmd:"" help:"List the ELF notes."`
	VMCoreInfo vmcoreinfoCmd `cmd:"" name:"vmcoreinfo" help:"Print VMCOREINFO exactly as stored."`
	Regs       regsCmd       `cmd:"" help:"Show CPU registers."`
	Pages      pagesCmd      `cmd:"" help:"Show the page map: runs of frames by state."`
	Page       pageCmd       `cmd:"" help:"Hex-dump pages by frame number."`
	Read       readCmd       `cmd:"" help:"Read a physical address range."`
	Areas      areasCmd      `cmd:"" help:"List the components of an AIX dump and their data areas."`
	Verify     verifyCmd     `cmd:"" help:"Decode everything and report every problem, with its location."`
	Rearrange  rearrangeCmd  `cmd:"" help:"Rewrite a flattened stream as the standard file (what makedumpfile -R does)."`
	Dmesg      dmesgCmd      `cmd:"" help:"Print the kernel log from memory, as vmcore-dmesg does."`
	Vtop       vtopCmd       `cmd:"" help:"Translate a kernel virtual address, showing every page-table level."`
	Sym        symCmd        `cmd:"" help:"Resolve kernel symbols by address or name (kallsyms from memory)."`
	Disasm     disasmCmd     `cmd:"" help:"Disassemble around a CPU's instruction pointer or an address, with the stack's text pointers."`
	Find       findCmd       `cmd:"" help:"Search physical memory for text or bytes; hits name their kernel virtual address."`
	PS         psCmd         `cmd:"" name:"ps" help:"List every task and thread (BTF and kallsyms from memory)."`
	Task       taskCmd       `cmd:"" help:"Show one task's key fields."`
	BT         btCmd         `cmd:"" name:"bt" help:"Unwind kernel stacks: the panicking CPU's, a CPU's, a task's or every task's (ORC, frame pointers)."`
	Modules    modulesCmd    `cmd:"" help:"List the loaded modules: memory, state, taints, symbols, ORC, BTF."`
	Struct     structCmd     `cmd:"" help:"Show a kernel structure at an address, typed from the dump's BTF (like crash's struct)."`
	Triage     triageCmd     `cmd:"" help:"The first minute: what the dump is, why and where the kernel crashed (signature), what the dump supports."`
	Help       helpCmd       `cmd:"" help:"Show help for dumpscope or a command (dumpscope help info)."`
	Version    versionCmd    `cmd:"" help:"Print dumpscope's version and the revision it was built from."`
}

// Globals are flags every command accepts. --json belongs to the commands
// that have a JSON form (jsonFlag), --color and --theme to the terminal UI.
type Globals struct {
	VersionFlag kong.VersionFlag `name:"version" help:"Print dumpscope's version and exit."`
	// VMCoreInfo replaces the dump's VMCOREINFO (and the search of memory
	// for one) in every command.
	VMCoreInfo string `name:"vmcoreinfo" placeholder:"FILE" help:"Read the kernel through the VMCOREINFO text in FILE (KEY=VALUE lines, as the vmcoreinfo command or makedumpfile -g write) instead of the dump's own, or of one recovered from memory."`
	Remote
}

// Remote are the flags for dumps read over the network (FILE as an
// http://, https:// or s3:// URL).
type Remote struct {
	Stats       bool          `name:"stats" help:"After the command, print on stderr what reading remote dumps cost: requests, bytes fetched, cache hits (with --json: one JSON object per line)."`
	Cache       string        `name:"cache" placeholder:"DIR" help:"Keep blocks of remote dumps in DIR between runs (bounded by --cache-size; nothing is written without it)."`
	CacheSize   int64         `name:"cache-size" default:"4294967296" help:"Bound of the --cache folder in bytes."`
	BlockSize   int64         `name:"block-size" placeholder:"BYTES" help:"Unit of the range requests to remote dumps: a power of two from 4096 to 16777216 (default 262144)."`
	BlockCache  int64         `name:"block-cache" placeholder:"BYTES" help:"Bound of the blocks of remote dumps kept in memory (default 67108864)."`
	S3Endpoint  string        `name:"s3-endpoint" placeholder:"URL" help:"S3-compatible endpoint for s3:// URLs (path-style); AWS_ENDPOINT_URL_S3 works too."`
	Retries     int           `name:"retries" default:"3" help:"Requests repeated after a transient failure of a remote dump (5xx, reset, timeout), with backoff; at most 9."`
	Timeout     time.Duration `name:"timeout" default:"60s" help:"Bound of one request to a remote dump."`
	IdleTimeout time.Duration `name:"idle-timeout" default:"15s" help:"Bound of the wait for each response or further byte of a remote dump."`
}

func main() {
	code := run(os.Args[1:])
	// Once per build, the code moves to huge pages of the page cache for
	// the commands after this one (README, "The code in huge pages").
	hugeheap.ReloadText()
	os.Exit(code)
}

// run parses args, runs the command and maps its error to an exit code.
func run(args []string) int {
	code := exitOK
	func() {
		defer func() {
			if r := recover(); r != nil {
				if c, ok := r.(exitPanic); ok {
					code = int(c)
					return
				}
				panic(r)
			}
		}()
		p, err := parseArgs(args)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %s\n", programName, remote.RedactText(err.Error()))
			code = exitUsage
			return
		}
		if err := suggestCommand(p.parser, p.ctx, p.tuiFiles); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", programName, err)
			code = exitUsage
			return
		}
		rc := newRunContext(p.globals)
		if jc, ok := p.command.(jsonCommand); ok {
			rc.JSON = jc.wantsJSON()
		}
		err = rc.finish(p.run(rc))
		if p.globals.Stats {
			rc.writeStats(os.Stderr)
		}
		code = exitCode(err)
		if err != nil && !errors.Is(err, errSilent) {
			fmt.Fprintf(os.Stderr, "%s: %s\n", programName, remote.RedactText(model.ErrorText(err)))
		}
	}()
	return code
}

// newParser builds kong's parser of the grammar of cli, a *CLI.
func newParser(cli any) (*kong.Kong, error) {
	return kong.New(cli,
		kong.Name(programName),
		kong.Description(description),
		kong.Vars{"version": versionString()},
		kong.TypeMapper(reflect.TypeFor[string](), kong.MapperFunc(rawString)),
		kong.Exit(func(code int) { panic(exitPanic(code)) }),
	)
}

// exitPanic carries kong's exit request (after --help) out of Parse.
type exitPanic int

// errSilent marks errors whose message was already printed.
var errSilent = errors.New("already reported")

// usageError is a command-line mistake kong cannot see (a conflict between
// flags, an unknown CPU index format).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// openError wraps a failure to open the files as a dump.
type openError struct{ err error }

func (e openError) Error() string { return e.err.Error() }
func (e openError) Unwrap() error { return e.err }

// exitCode maps an error to the exit codes of the contract.
func exitCode(err error) int {
	var ue usageError
	var oe openError
	var me *kernel.MissingError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.As(err, &oe):
		return exitUsage
	case errors.As(err, &me):
		// Kernel data the engine cannot read (BTF of an unknown kind, a
		// version it does not know) is absent data in a dump that opened.
		return exitAbsent
	case errors.Is(err, model.ErrUnrecognized), errors.Is(err, model.ErrUnsupported):
		return exitUsage
	}
	return exitAbsent
}
