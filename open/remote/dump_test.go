package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"dumpscope/inspect"
	"dumpscope/inspect/kernel"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/elfcore"
	"dumpscope/reader/flat"
	"dumpscope/reader/kdump"
)

// Real dumps read over HTTP through the real readers: the answers are
// those of the local file, and the cost (requests, bytes fetched) is
// logged for each step, the way `--stats` would show it.

// serveFile serves a local file with an ETag, as object storage would.
func serveFile(t *testing.T, path string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		w.Header().Set("ETag", `"fixture"`)
		http.ServeContent(w, r, "", time.Time{}, f)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/" + filepath.Base(path) + "?" + secret
}

// chain is the part of the probe chain these dumps need (package open
// holds the whole chain, and open imports this package).
var chain = []reader.Format{flat.Format(kdump.Format, elfcore.Format), kdump.Format, elfcore.Format}

func openSource(src reader.Source) (reader.Dump, error) {
	return reader.OpenWith(src, chain, reader.ProbeSize)
}

func openPath(path string) (reader.Dump, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	d, err := openSource(reader.Source{Name: path, R: f, Size: st.Size()})
	if err != nil {
		f.Close()
	}
	return d, err
}

// remoteDump opens the file over HTTP through the real readers.
func remoteDump(t *testing.T, path string, opt Options) (reader.Dump, *Object) {
	t.Helper()
	o, err := Open(context.Background(), serveFile(t, path), opt)
	if err != nil {
		t.Fatal(err)
	}
	d, err := openSource(reader.Source{Name: o.Name(), R: o, Size: o.Size()})
	if err != nil {
		o.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, o
}

// step logs what one step cost and returns the stats after it.
func step(t *testing.T, o *Object, what string, before Stats) Stats {
	s := o.Stats()
	t.Logf("%-22s %4d requests, %8.1f KiB fetched (so far %.1f%% of %.1f MiB), %.2fs waiting",
		what+":", s.Requests-before.Requests, float64(s.BytesFetched-before.BytesFetched)/1024,
		100*float64(s.BytesFetched)/float64(s.Size), float64(s.Size)/(1<<20), (s.Wait - before.Wait).Seconds())
	return s
}

func TestRemoteDumps(t *testing.T) {
	for _, name := range []string{"x86_64/mdf-zlib-d31.kdump", "x86_64/qemu-elf-paging.vmcore", "x86_64/qemu-kdump-zlib.flat",
		"debian/panic-sysrq-mdf-zlib-d31.kdump", "debian/stopped-mdf-zlib-d31.kdump"} {
		t.Run(name, func(t *testing.T) {
			var path string
			if base, ok := strings.CutPrefix(name, "debian/"); ok {
				if testing.Short() {
					t.Skip("the kernel fixtures are decompressed and decoded twice: not under -short")
				}
				path = dumptest.KernelFixture(t, base)
			} else {
				path = dumptest.Fixture(t, name)
			}
			local, err := openPath(path)
			if err != nil {
				t.Fatal(err)
			}
			defer local.Close()

			d, o := remoteDump(t, path, Options{})
			s := step(t, o, "open", Stats{})
			lj, _ := json.Marshal(local.Info())
			rj, _ := json.Marshal(d.Info())
			if l := strings.ReplaceAll(string(lj), path, o.Name()); l != string(rj) {
				t.Fatalf("info differs:\nlocal  %s\nremote %s", l, rj)
			}
			s = step(t, o, "info", s)

			lk, lerr := kernel.New(local)
			rk, rerr := kernel.New(d)
			if (lerr == nil) != (rerr == nil) {
				t.Fatalf("kernel: local %v, remote %v", lerr, rerr)
			}
			if lerr == nil {
				ll, lerr := lk.Log(context.Background())
				rl, rerr := rk.Log(context.Background())
				if fmt.Sprint(lerr) != fmt.Sprint(rerr) || !reflect.DeepEqual(ll, rl) {
					t.Fatalf("dmesg differs: %d records (%v) vs %d (%v)", len(ll), lerr, len(rl), rerr)
				}
				s = step(t, o, fmt.Sprintf("dmesg (%d lines)", len(rl)), s)
				lsyms, lerr := lk.Symbols(context.Background())
				rsyms, rerr := rk.Symbols(context.Background())
				if (lerr == nil) != (rerr == nil) || lerr == nil && lsyms.Len() != rsyms.Len() {
					t.Fatalf("symbols differ: %v, %v", lerr, rerr)
				}
				if rerr == nil {
					s = step(t, o, fmt.Sprintf("kallsyms (%d)", rsyms.Len()), s)
				}
			}

			if strings.HasPrefix(name, "debian/") {
				t.Log(s) // verify reads it all: the small fixtures show that
				return
			}
			lr, lerr := inspect.Verify(context.Background(), local, inspect.VerifyOptions{Jobs: 4})
			rr, rerr := inspect.Verify(context.Background(), d, inspect.VerifyOptions{Jobs: 4})
			if lerr != nil || rerr != nil || lr.OK != rr.OK || lr.PagesChecked != rr.PagesChecked || len(lr.Problems) != len(rr.Problems) {
				t.Fatalf("verify differs: %+v %v / %+v %v", lr, lerr, rr, rerr)
			}
			s = step(t, o, "verify (4 jobs)", s)
			t.Log(s)
		})
	}
}

// BenchmarkRemoteTriage opens a real dump behind the benchmark's WAN
// (bench_test.go) and reads what triage reads first: the headers, the
// kernel log and kallsyms. It reports the time, requests and bytes each
// block size costs.
func BenchmarkRemoteTriage(b *testing.B) {
	for _, name := range []string{"panic-sysrq-mdf-zlib-d31.kdump", "qemu-elf-paging.vmcore"} {
		var path string
		if name == "qemu-elf-paging.vmcore" {
			path = dumptest.Fixture(b, "x86_64/"+name)
		} else {
			path = dumptest.KernelFixture(b, name)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		ts := httptest.NewServer(&wanServer{data: data, etag: `"dump"`})
		defer ts.Close()
		for _, bs := range []int64{64 << 10, 256 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("%s/block-%dKiB", name, bs>>10), func(b *testing.B) {
				var st Stats
				for range b.N {
					o, err := Open(context.Background(), ts.URL+"/"+name, Options{BlockSize: bs})
					if err != nil {
						b.Fatal(err)
					}
					d, err := openSource(reader.Source{Name: o.Name(), R: o, Size: o.Size()})
					if err != nil {
						b.Fatal(err)
					}
					k, err := kernel.New(d)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := k.Log(context.Background()); err != nil {
						b.Fatal(err)
					}
					if _, err := k.Symbols(context.Background()); err != nil {
						b.Fatal(err)
					}
					d.Close()
					s := o.Stats()
					st.Requests += s.Requests
					st.BytesFetched += s.BytesFetched
				}
				b.ReportMetric(float64(st.Requests)/float64(b.N), "requests/op")
				b.ReportMetric(float64(st.BytesFetched)/float64(b.N)/(1<<20), "MiB-fetched/op")
			})
		}
	}
}
