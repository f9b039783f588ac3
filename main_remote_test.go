package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/rogpeppe/go-internal/testscript"

	"dumpscope/reader/dumptest"
)

// Remote dumps through the real CLI. The scripts testdata/script/remote*.txtar
// start HTTP and S3 servers on loopback inside the test (no network, no
// credentials: dumpServer in main_remote_server_test.go, gofakes3 for S3)
// and read the work folder's dumps through them:
//
//	serve [-env NAME] [-mode MODE] [-from OFF] [-to OFF] [-after N] [-times N] [-delay D] DIR
//	    serve DIR over HTTP; $NAME (default URL) is its base URL,
//	    $NAME_HOST its host:port, and $SIG the presigned query string
//	    every request must carry:
//	    $URL/synth.kdump?$SIG. -mode misbehaves (see serverModes) for
//	    ranges starting in [-from, -to), from request -after on, -times
//	    times (0: always).
//	s3serve DIR BUCKET
//	    serve DIR's files as the objects of BUCKET of an S3-compatible
//	    server; sets $S3 (the endpoint, also AWS_ENDPOINT_URL_S3), $BUCKET
//	    and test credentials (AWS config files pointed at nothing).
//	same [-via LIST] ARGS... FILE...
//	    run dumpscope ARGS FILE... on the local files, then, at once, with
//	    the files as http URLs of the URL server (in 4 KiB blocks: many
//	    requests), as s3:// URLs, and, for split sets, as a mix of local
//	    files and both kinds of URL (LIST: http,s3,mixed, the default):
//	    stdout, stderr (URL names replaced by the local names) and exit
//	    code must be identical, and no output may show $SIG's secret.
//	sameall [-via LIST] [-forms] FILE...
//	    same, for every command line of remoteViews (and of remoteForms
//	    with -forms); LIST defaults to http,mixed (the S3 path differs
//	    only in its requests: `sameall -via s3` on one dump is enough).
//	hostile [-env NAME] CODE ARGS... FILE...
//	    run dumpscope ARGS on the files through the server $NAME (default
//	    BAD, a misbehaving one), with short timeouts and one retry: it
//	    must exit CODE
//	    within 20 s, show no secret, and print nothing on stdout but a
//	    prefix of what the local files give (never a wrong byte); with
//	    CODE 0 exactly the local output, otherwise one line on stderr,
//	    `dumpscope: URL: ...` with the URL's name. Its stdout and stderr
//	    are the command's, for stdout/stderr checks.
//	hostileall [-env NAME] FILE...
//	    hostile, for every command line of remoteViews and remoteForms,
//	    each allowed to exit 0, 1 or 2.
//	hits [-env NAME] N
//	    the server got exactly N requests since the last hits (N *: any).
//	nosecret
//	    the last command's stdout and stderr show no part of $SIG.
//	nofiles DIR...
//	    no file was written under DIR.
//	du DIR MAX
//	    the files under DIR hold at most MAX bytes.
//
// Every dumpscope the scripts run is bounded by DUMPSCOPE_TEST_TIMEOUT
// (startWatchdog), so a hang fails one script quickly.

// remoteViews are the command lines sameall compares, local against
// remote, on every dump it is given (FILE... is appended): one line per
// command, in its fullest form. {sym} stands for the address of kernel
// symbol sym, looked up locally first (or a canonical kernel address when
// the dump has no kallsyms: the command must then fail the same way
// remotely). A new command is one line here (and its other forms in
// remoteForms).
var remoteViews = [][]string{
	{"info"},
	{"layout", "--json"},
	{"notes", "--json"},
	{"vmcoreinfo"},
	{"regs", "--json"},
	{"pages", "--json"},
	{"page", "--pfn", "0", "--count", "8", "--zero-fill"},
	{"read", "--addr", "0x1000", "--len", "0x3000", "--zero-fill", "--raw"},
	{"verify", "--json"},
	{"dmesg"},
	{"sym", "--name", "start_kernel", "--json"},
	{"vtop", "--vaddr", "{linux_banner}", "--json"},
	{"read", "--vaddr", "{linux_banner}", "--len", "200"},
	{"disasm", "--vaddr", "{panic}", "--count", "6"},
	{"find", "--text", "Linux version", "--max", "2", "--json"},
	{"ps", "--json"},
	{"task", "--pid", "1", "--json"},
	{"bt", "--all"},
	{"modules", "--json"},
	{"struct", "--type", "task_struct", "--addr", "init_task", "--depth", "2"},
	{"triage", "--json"},
}

// remoteForms are the other output forms of the same commands (text for
// JSON, JSON for text): they read the same bytes, so `sameall -forms`
// runs them on one dump, to see every form's names and messages.
var remoteForms = [][]string{
	{"triage"},
	{"verify", "--ready"},
	{"info", "--json"},
	{"info", "--no-crash"},
	{"layout"},
	{"notes"},
	{"regs"},
	{"pages"},
	{"page", "--json", "--pfn", "0", "--count", "512"},
	{"verify"},
	{"dmesg", "--json"},
	{"sym", "--addr", "{linux_banner}"},
	{"vtop", "--vaddr", "{linux_banner}"},
	{"find", "--text", "Linux version", "--max", "2"},
	{"ps"},
	{"task", "--pid", "1"},
	{"bt", "--json"},
	{"modules"},
	{"struct", "--json", "--type", "task_struct", "--addr", "init_task", "--depth", "1"},
}

// fallbackVaddr stands for a symbol a dump does not have.
const fallbackVaddr = "0xffffffff81000000"

// remoteScripts is what the remote scripts add to TestScripts: a fixture
// path, the watchdog bound and the commands above.
type remoteScripts struct {
	env map[string]string
}

// rigKey finds a script's servers among its testscript values.
type rigKey struct{}

// scriptRig holds the servers one script started.
type scriptRig struct {
	servers map[string]*dumpServer // by the variable holding the URL
	s3      string                 // the S3 endpoint, or ""
	bucket  string
	awsEnv  []string // the AWS variables s3serve set
}

// newRemoteScripts decompresses the fixture the remote scripts use
// besides TestScripts' own (when the real fixtures are there).
func newRemoteScripts(t *testing.T, fixtures bool) *remoteScripts {
	r := &remoteScripts{env: map[string]string{}}
	if fixtures {
		r.env["MDF_KDUMP"] = dumptest.Fixture(t, "x86_64/mdf-zlib-d31.kdump")
	}
	return r
}

func (r *remoteScripts) setup(env *testscript.Env) error {
	for k, v := range r.env {
		env.Setenv(k, v)
	}
	env.Setenv("DUMPSCOPE_TEST_TIMEOUT", "60s")
	env.Values[rigKey{}] = &scriptRig{servers: map[string]*dumpServer{}}
	return nil
}

// condition answers no condition yet: known is false for every name.
func (r *remoteScripts) condition(cond string) (ok, known bool) {
	return false, false
}

func (r *remoteScripts) commands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"serve":      cmdServe,
		"s3serve":    cmdS3Serve,
		"same":       cmdSame,
		"sameall":    cmdSameAll,
		"hits":       cmdHits,
		"hostile":    cmdHostile,
		"hostileall": cmdHostileAll,
		"nosecret":   cmdNoSecret,
		"nofiles":    cmdNoFiles,
		"du":         cmdDu,
	}
}

// startWatchdog ends a dumpscope run of the test binary that lasts longer
// than DUMPSCOPE_TEST_TIMEOUT, printing its goroutines and exiting 124
// (as timeout(1) does): a hang fails its script at once.
func startWatchdog() {
	d, err := time.ParseDuration(os.Getenv("DUMPSCOPE_TEST_TIMEOUT"))
	if err != nil || d <= 0 {
		return
	}
	time.AfterFunc(d, func() {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		fmt.Fprintf(os.Stderr, "dumpscope: still running after %v (DUMPSCOPE_TEST_TIMEOUT)\n%s", d, buf[:n])
		os.Exit(124)
	})
}

func rigOf(ts *testscript.TestScript) *scriptRig {
	return ts.Value(rigKey{}).(*scriptRig)
}

func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! serve")
	}
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	name := fl.String("env", "URL", "variable to set to the base URL")
	mode := fl.String("mode", "", "hostile behaviour:"+modeHelp())
	from := fl.Int64("from", 0, "the mode applies to requests from this byte on")
	to := fl.Int64("to", 0, "the mode applies to requests from before this byte (0: any)")
	after := fl.Int64("after", 1, "first request the mode applies to")
	times := fl.Int64("times", 0, "requests the mode applies to (0: all)")
	delay := fl.Duration("delay", 0, "wait before each answer")
	if err := fl.Parse(args); err != nil || fl.NArg() != 1 {
		ts.Fatalf("usage: serve [-env NAME] [-mode MODE] [-from OFF] [-to OFF] [-after N] [-times N] [-delay D] DIR")
	}
	if _, ok := serverModes[*mode]; *mode != "" && !ok {
		ts.Fatalf("unknown mode %q; modes:%s", *mode, modeHelp())
	}
	s := &dumpServer{dir: ts.MkAbs(fl.Arg(0)), mode: *mode, from: *from, to: *to, after: *after, times: *times, delay: *delay}
	s.start()
	ts.Defer(s.close)
	rigOf(ts).servers[*name] = s
	ts.Setenv(*name, s.url())
	ts.Setenv(*name+"_HOST", strings.TrimPrefix(s.url(), "http://"))
	ts.Setenv("SIG", presignQuery)
}

func cmdS3Serve(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: s3serve DIR BUCKET")
	}
	dir, bucket := ts.MkAbs(args[0]), args[1]
	be := s3mem.New()
	ts.Check(be.CreateBucket(bucket))
	entries, err := os.ReadDir(dir)
	ts.Check(err)
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		st, err := os.Stat(p) // follows symlinks to fixtures
		if err != nil || !st.Mode().IsRegular() || st.Size() > 64<<20 {
			continue
		}
		data, err := os.ReadFile(p)
		ts.Check(err)
		_, err = be.PutObject(bucket, e.Name(), map[string]string{}, bytes.NewReader(data), int64(len(data)), nil)
		ts.Check(err)
	}
	srv := httptest.NewServer(gofakes3.New(be, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	ts.Defer(srv.Close)
	rig := rigOf(ts)
	rig.s3, rig.bucket = srv.URL, bucket
	rig.awsEnv = []string{
		"AWS_ACCESS_KEY_ID=AKIDTEST",
		"AWS_SECRET_ACCESS_KEY=test-secret-key",
		"AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL_S3=" + rig.s3,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, ".aws-none", "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, ".aws-none", "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	}
	for _, kv := range rig.awsEnv {
		k, v, _ := strings.Cut(kv, "=")
		ts.Setenv(k, v)
	}
	ts.Setenv("S3", rig.s3)
	ts.Setenv("BUCKET", bucket)
}

func cmdHostile(ts *testscript.TestScript, neg bool, args []string) {
	fl := flag.NewFlagSet("hostile", flag.ContinueOnError)
	name := fl.String("env", "BAD", "the server's variable")
	err := fl.Parse(args)
	args = fl.Args()
	n := trailingFiles(ts, args)
	if neg || err != nil || len(args) < 2 || n == 0 {
		ts.Fatalf("usage: hostile [-env NAME] CODE ARGS... FILE...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	r, msg := rigOf(ts).hostile(ts, *name, []int{want}, args[1:len(args)-n], args[len(args)-n:])
	fmt.Fprint(ts.Stdout(), r.stdout)
	fmt.Fprint(ts.Stderr(), r.stderr)
	if msg != "" {
		ts.Fatalf("%s", msg)
	}
}

func cmdHostileAll(ts *testscript.TestScript, neg bool, args []string) {
	fl := flag.NewFlagSet("hostileall", flag.ContinueOnError)
	name := fl.String("env", "BAD", "the server's variable")
	err := fl.Parse(args)
	files := fl.Args()
	if neg || err != nil || len(files) == 0 || trailingFiles(ts, files) != len(files) {
		ts.Fatalf("usage: hostileall [-env NAME] FILE...")
	}
	rig := rigOf(ts)
	addrs := map[string]string{}
	var failed []string
	codes := map[int]int{}
	for _, view := range slices.Concat(remoteViews, remoteForms) {
		cmd := rig.expand(ts, addrs, view, files)
		r, msg := rig.hostile(ts, *name, []int{0, 1, 2}, cmd, files)
		codes[r.code]++
		if msg != "" {
			failed = append(failed, msg)
		}
	}
	ts.Logf("exit codes: %v", codes)
	if len(failed) > 0 {
		ts.Fatalf("%d command lines misbehave:\n%s", len(failed), strings.Join(failed, "\n"))
	}
}

// hostile runs cmd on the files locally, then through the server $name
// with short timeouts, and describes what is wrong with the remote run
// ("" when nothing is). With the URL names replaced by the local ones,
// the remote run must either give the local output and exit code, or
// fail because of the server: exit 1 or 2, one line on stderr naming the
// URL, and a stdout that is a prefix of the local one. Its exit code must
// be in want, it must end within 20 s and show no secret.
func (rig *scriptRig) hostile(ts *testscript.TestScript, name string, want []int, cmd, files []string) (runResult, string) {
	srv := rig.servers[name]
	if srv == nil {
		ts.Fatalf("no server $%s", name)
	}
	local := rig.run(ts, slices.Concat(cmd, files))
	remote := append([]string{"--block-size", "4096", "--timeout", "5s", "--idle-timeout", "1s", "--retries", "1"}, cmd...)
	var names, pairs []string
	for _, f := range files {
		rel, err := filepath.Rel(srv.dir, ts.MkAbs(f))
		if err != nil || strings.HasPrefix(rel, "..") {
			ts.Fatalf("%s is not in the folder $%s serves", f, name)
		}
		u := srv.url() + "/" + filepath.ToSlash(rel)
		names, pairs = append(names, u), append(pairs, u, f)
		remote = append(remote, u+"?"+presignQuery)
	}
	start := time.Now()
	r := rig.run(ts, remote)
	took := time.Since(start)
	line := strings.Join(slices.Concat(cmd, files), " ")
	ts.Logf("%s: exit %d after %v: %s", line, r.code, took.Round(time.Millisecond), r.stderr)
	rep := strings.NewReplacer(pairs...)
	stdout, stderr := rep.Replace(r.stdout), rep.Replace(r.stderr)
	named := false
	for _, u := range names {
		named = named || strings.HasPrefix(r.stderr, "dumpscope: "+u+": ")
	}
	switch {
	case took > 20*time.Second:
		return r, fmt.Sprintf("%s took %v", line, took)
	case !slices.Contains(want, r.code):
		return r, fmt.Sprintf("%s: exit %d, want %v; stderr:\n%s", line, r.code, want, r.stderr)
	case secretIn(r.stdout+r.stderr) != "":
		return r, fmt.Sprintf("%s: the output shows %q of the presigned URL", line, secretIn(r.stdout+r.stderr))
	case r.code == local.code && stdout == local.stdout && stderr == local.stderr:
		return r, "" // the bad range was not needed, or the command failed before it
	case r.code == 0:
		return r, fmt.Sprintf("%s: exit 0 but the output is not the local one; stderr:\n%s", line, r.stderr)
	case !strings.HasPrefix(local.stdout, stdout):
		return r, fmt.Sprintf("%s: stdout is not a prefix of the local output: %s", line, firstDiff(stdout, local.stdout))
	case strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n"):
		return r, fmt.Sprintf("%s: stderr is not one line:\n%s", line, r.stderr)
	case !named:
		return r, fmt.Sprintf("%s: stderr does not start with `dumpscope: URL: `: %s", line, r.stderr)
	}
	return r, ""
}

func cmdHits(ts *testscript.TestScript, neg bool, args []string) {
	fl := flag.NewFlagSet("hits", flag.ContinueOnError)
	name := fl.String("env", "URL", "the server's variable")
	if err := fl.Parse(args); err != nil || fl.NArg() != 1 {
		ts.Fatalf("usage: hits [-env NAME] N")
	}
	s := rigOf(ts).servers[*name]
	if s == nil {
		ts.Fatalf("no server $%s", *name)
	}
	now := s.requests.Load()
	got := now - s.checked.Swap(now)
	if fl.Arg(0) == "*" {
		return
	}
	want, err := strconv.ParseInt(fl.Arg(0), 10, 64)
	ts.Check(err)
	if (got == want) == neg {
		ts.Fatalf("$%s got %d requests, want %s%d", *name, got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// secretIn returns the part of the presigned query found in out, or "".
func secretIn(out string) string {
	for _, s := range []string{presignSecret, presignSecret[:12], "X-Amz-", "AKIDTEST", "test-secret-key"} {
		if strings.Contains(out, s) {
			return s
		}
	}
	return ""
}

func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: nosecret")
	}
	for _, f := range []string{"stdout", "stderr"} {
		if s := secretIn(ts.ReadFile(f)); s != "" {
			ts.Fatalf("%s shows %q of the presigned URL or the credentials", f, s)
		}
	}
}

func cmdNoFiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: nofiles DIR...")
	}
	for _, d := range args {
		filepath.WalkDir(ts.MkAbs(d), func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				ts.Fatalf("%s was written", p)
			}
			return nil
		})
	}
}

func cmdDu(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: du DIR MAX")
	}
	bound, err := strconv.ParseInt(args[1], 0, 64)
	ts.Check(err)
	var total, files int64
	ts.Check(filepath.WalkDir(ts.MkAbs(args[0]), func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		total, files = total+info.Size(), files+1
		return nil
	}))
	ts.Logf("%s: %d files, %d bytes", args[0], files, total)
	if total > bound {
		ts.Fatalf("%s holds %d bytes in %d files, more than %d", args[0], total, files, bound)
	}
}

// runResult is what one dumpscope run printed and its exit code.
type runResult struct {
	stdout, stderr string
	code           int
}

// run runs dumpscope with args in the script's folder, with the script's
// PATH, HOME, TMPDIR, XDG folders, watchdog bound and the variables
// s3serve set.
func (rig *scriptRig) run(ts *testscript.TestScript, args []string) runResult {
	env := slices.Clone(rig.awsEnv)
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "DUMPSCOPE_TEST_TIMEOUT"} {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	// The watchdog ends a hang; the context is a second bound.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dumpscope", args...)
	cmd.Dir, cmd.Env = ts.MkAbs("."), env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		ts.Fatalf("dumpscope %s: %v", strings.Join(args, " "), err)
	}
	return runResult{stdout.String(), stderr.String(), code}
}

// variant is one way of naming the files of a run remotely.
type variant struct {
	name  string
	flags []string
	// url returns file i's argument and the name output shows for it,
	// or ok false for a file read locally.
	url func(i int, rel string) (arg, shown string, ok bool)
}

// variants are the remote forms of a run on n files, of those named in
// via.
func (rig *scriptRig) variants(ts *testscript.TestScript, via []string, n int) []variant {
	srv := rig.servers["URL"]
	if srv == nil {
		ts.Fatalf("same needs `serve DIR` first")
	}
	httpURL := func(i int, rel string) (string, string, bool) {
		return srv.url() + "/" + rel + "?" + presignQuery, srv.url() + "/" + rel, true
	}
	var vs []variant
	if slices.Contains(via, "http") {
		vs = append(vs, variant{name: "http", flags: []string{"--block-size", "4096"}, url: httpURL})
	}
	if rig.s3 == "" {
		return vs
	}
	s3URL := func(i int, rel string) (string, string, bool) {
		u := "s3://" + rig.bucket + "/" + rel
		return u, u, true
	}
	if slices.Contains(via, "s3") {
		vs = append(vs, variant{name: "s3", url: s3URL})
	}
	if n > 1 && slices.Contains(via, "mixed") {
		vs = append(vs, variant{name: "mixed", url: func(i int, rel string) (string, string, bool) {
			switch i % 3 {
			case 1:
				return httpURL(i, rel)
			case 2:
				return s3URL(i, rel)
			}
			return rel, rel, false
		}})
	}
	return vs
}

// trailingFiles returns how many of args, from the end, name files.
func trailingFiles(ts *testscript.TestScript, args []string) int {
	n := 0
	for i := len(args) - 1; i >= 0; i-- {
		st, err := os.Stat(ts.MkAbs(args[i]))
		if err != nil || !st.Mode().IsRegular() || filepath.IsAbs(args[i]) {
			break
		}
		n++
	}
	return n
}

// viaFlag takes a leading "-via LIST" off args.
func viaFlag(args []string, def string) ([]string, []string) {
	if len(args) >= 2 && args[0] == "-via" {
		return strings.Split(args[1], ","), args[2:]
	}
	return strings.Split(def, ","), args
}

func cmdSame(ts *testscript.TestScript, neg bool, args []string) {
	via, args := viaFlag(args, "http,s3,mixed")
	n := trailingFiles(ts, args)
	if neg || n == 0 {
		ts.Fatalf("usage: same [-via LIST] ARGS... FILE... (relative names of files of the served folder)")
	}
	if msg := rigOf(ts).same(ts, via, args[:len(args)-n], args[len(args)-n:]); msg != "" {
		ts.Fatalf("%s", msg)
	}
}

func cmdSameAll(ts *testscript.TestScript, neg bool, args []string) {
	via, args := viaFlag(args, "http,mixed")
	views := remoteViews
	if len(args) > 0 && args[0] == "-forms" {
		views, args = append(slices.Clone(remoteViews), remoteForms...), args[1:]
	}
	if neg || len(args) == 0 || trailingFiles(ts, args) != len(args) {
		ts.Fatalf("usage: sameall [-via LIST] [-forms] FILE... (relative names of files of the served folder)")
	}
	rig := rigOf(ts)
	addrs := map[string]string{}
	var failed []string
	for _, view := range views {
		cmd := rig.expand(ts, addrs, view, args)
		if msg := rig.same(ts, via, cmd, args); msg != "" {
			failed = append(failed, msg)
		}
	}
	if len(failed) > 0 {
		ts.Fatalf("%d of %d command lines differ:\n%s", len(failed), len(views), strings.Join(failed, "\n"))
	}
}

// expand replaces the {sym} arguments of a command line by addresses.
func (rig *scriptRig) expand(ts *testscript.TestScript, addrs map[string]string, view, files []string) []string {
	cmd := make([]string, len(view))
	for i, a := range view {
		if strings.HasPrefix(a, "{") && strings.HasSuffix(a, "}") {
			a = rig.symbol(ts, addrs, a[1:len(a)-1], files)
		}
		cmd[i] = a
	}
	return cmd
}

// symbol returns the address of a kernel symbol in the local dump, or
// fallbackVaddr.
func (rig *scriptRig) symbol(ts *testscript.TestScript, cache map[string]string, name string, files []string) string {
	if a, ok := cache[name]; ok {
		return a
	}
	a := fallbackVaddr
	r := rig.run(ts, append([]string{"sym", "--json", "--name", name}, files...))
	var syms []struct {
		Addr string `json:"addr"`
	}
	if r.code == 0 && json.Unmarshal([]byte(r.stdout), &syms) == nil && len(syms) > 0 {
		a = syms[0].Addr
	}
	cache[name] = a
	return a
}

// same runs cmd on the files locally and in every remote variant, at
// once, and describes the first difference of each variant ("" when all
// agree).
func (rig *scriptRig) same(ts *testscript.TestScript, via, cmd, files []string) string {
	rels := make([]string, len(files))
	for i, f := range files {
		rel, err := filepath.Rel(rig.servers["URL"].dir, ts.MkAbs(f))
		if err != nil || strings.HasPrefix(rel, "..") {
			ts.Fatalf("%s is not in the served folder", f)
		}
		rels[i] = filepath.ToSlash(rel)
	}
	vs := rig.variants(ts, via, len(files))
	if len(vs) == 0 {
		ts.Fatalf("same: no remote variant among %v", via)
	}
	results := make([]runResult, len(vs)+1)
	shown := make([][][2]string, len(vs)) // per variant: {remote name, local name}
	var wg sync.WaitGroup
	wg.Go(func() { results[0] = rig.run(ts, append(slices.Clone(cmd), files...)) })
	for k, v := range vs {
		args := append(slices.Clone(v.flags), cmd...)
		for i, f := range files {
			arg, name, remote := v.url(i, rels[i])
			if !remote {
				args = append(args, f)
				continue
			}
			args = append(args, arg)
			shown[k] = append(shown[k], [2]string{name, f})
		}
		wg.Go(func() { results[k+1] = rig.run(ts, args) })
	}
	wg.Wait()
	local := results[0]
	line := strings.Join(append(slices.Clone(cmd), files...), " ")
	ts.Logf("same %s: exit %d, %d bytes of stdout", line, local.code, len(local.stdout))
	var msgs []string
	for k, v := range vs {
		r := results[k+1]
		if s := secretIn(r.stdout + r.stderr); s != "" {
			msgs = append(msgs, fmt.Sprintf("%s (%s): the output shows %q of the presigned URL", line, v.name, s))
			continue
		}
		// Longer names first: s3://b/x.1 before s3://b/x.
		slices.SortFunc(shown[k], func(a, b [2]string) int { return len(b[0]) - len(a[0]) })
		var pairs []string
		for _, p := range shown[k] {
			pairs = append(pairs, p[0], p[1])
		}
		rep := strings.NewReplacer(pairs...)
		stdout, stderr := rep.Replace(r.stdout), rep.Replace(r.stderr)
		switch {
		case r.code != local.code:
			msgs = append(msgs, fmt.Sprintf("%s (%s): exit %d, locally %d; stderr:\n%s\nlocally:\n%s", line, v.name, r.code, local.code, r.stderr, local.stderr))
		case stdout != local.stdout:
			msgs = append(msgs, fmt.Sprintf("%s (%s): stdout differs: %s", line, v.name, firstDiff(stdout, local.stdout)))
		case stderr != local.stderr:
			msgs = append(msgs, fmt.Sprintf("%s (%s): stderr differs: %s", line, v.name, firstDiff(stderr, local.stderr)))
		}
	}
	return strings.Join(msgs, "\n")
}

// firstDiff describes where two outputs first differ.
func firstDiff(got, want string) string {
	g, w := strings.SplitAfter(got, "\n"), strings.SplitAfter(want, "\n")
	for i := 0; i < min(len(g), len(w)); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d is %q, locally %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, locally %d", len(g), len(w))
}

// merge adds the commands of b to a and returns a.
func merge(a, b map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	maps.Copy(a, b)
	return a
}
