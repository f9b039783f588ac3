#!/bin/sh
# Where dumpscope's time goes, on the files bench/run.sh made: process
# start (GODEBUG=inittrace=1, page faults), read system calls per page
# (strace -c), CPU, allocation and lock profiles of the page paths (pprof),
# and the flattened-stream index. Run bench/run.sh once first (it builds the
# binaries and makes the files); then:
#
#   bench/profile.sh [-d DIR] [-o OUTDIR]
#
# prints the evidence on stdout and leaves the profiles in OUTDIR (default
# DIR/profiles) for `go tool pprof -top BINARY PROFILE`. It needs strace and
# perf (page-fault counts; skipped when perf cannot count).
set -eu

dir=${TMPDIR:-/tmp}/dumpscope-bench
out=
while [ $# -gt 0 ]; do
	case $1 in
	-d) dir=$2; shift 2 ;;
	-o) out=$2; shift 2 ;;
	-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
	*) echo "profile.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
out=${out:-$dir/profiles}
mkdir -p "$out"
b=$dir/build
for f in "$b/dumpscope" "$b/sidebyside" "$b/lkdf_bench"; do
	[ -x "$f" ] || { echo "profile.sh: $f missing: run bench/run.sh first" >&2; exit 2; }
done
cd "$dir"
pick() { ls -1 $1 2>/dev/null | grep -v -e -synthetic -e -F- | head -1 || true; }
zlib=$(pick '*-mdf-zlib-*.kdump'); [ -n "$zlib" ] || zlib=$(pick '*-writer-zlib-*.kdump')
none=$(pick '*-writer-none-*.kdump')
elf=$(pick '*-writer-elf-*.vmcore')
big=$(pick '*-writer-sparse-268435456.kdump')
flat=$(ls -1S *.flat 2>/dev/null | head -1)
echo "files: zlib=$zlib none=$none elf=$elf 1TiB=$big flat=$flat"
echo "load average: $(cat /proc/loadavg)"

section() { printf '\n## %s\n\n' "$1"; }
top() { go tool pprof -top -nodecount="${3:-20}" "$1" "$2" 2>/dev/null | sed -n '/flat%/,$p'; }

section "process start: init functions over 1 ms (GODEBUG=inittrace=1, dumpscope info --no-crash)"
GODEBUG=inittrace=1 "$b/dumpscope" info --no-crash "$zlib" 2>&1 >/dev/null |
	awk '$5+0 >= 1 {print}' | sort -k5 -g -r
if perf stat -e page-faults true >/dev/null 2>&1; then
	section "process start: page faults and CPU (perf stat)"
	for cmd in "$b/dumpscope info --no-crash $zlib" "$b/dumpscope --help" "$b/lkdf_bench info 1 0 $zlib"; do
		printf '%s: ' "$cmd"
		perf stat -e page-faults,task-clock $cmd 2>&1 >/dev/null | awk '/page-faults|task-clock/ {printf "%s %s  ", $1, $2} END {print ""}'
	done
fi

section "read system calls (strace -f -c): pread64 per page"
for args in "read lists/$zlib.all 1 $zlib" "read lists/$zlib.random 1 $zlib" "find Linux $zlib" "verify 1 $zlib" "read lists/$elf.all 1 $elf"; do
	printf '%s: ' "$args"
	strace -f -qq -c -e trace=pread64,read "$b/sidebyside" child $args 2>&1 | awk '/^ns=/ {printf "%s ", $2} /pread64/ {printf "%s pread64", $4} END {print ""}'
done
printf 'libkdumpfile, read all: '
strace -f -qq -c "$b/lkdf_bench" read "lists/$zlib.all" 1 own "$zlib" 2>&1 | awk '/pread64|read$|mmap$/ {printf "%s %s  ", $4, $NF} END {print ""}'

profile() { # name, child args...
	name=$1; shift
	section "CPU profile: $name"
	SIDEBYSIDE_CPUPROFILE=$out/$name.cpu SIDEBYSIDE_MEMPROFILE=$out/$name.alloc "$b/sidebyside" child "$@"
	top "$b/sidebyside" "$out/$name.cpu" 25
	echo
	echo "allocations (alloc_space):"
	go tool pprof -sample_index=alloc_space -top -nodecount=5 "$b/sidebyside" "$out/$name.alloc" 2>/dev/null | sed -n '/flat%/,$p'
	printf 'garbage collections: '
	GODEBUG=gctrace=1 "$b/sidebyside" child "$@" 2>&1 | grep -c '^gc ' || true
}
profile elf-all read "lists/$elf.all" 1 "$elf"
profile zlib-all read "lists/$zlib.all" 1 "$zlib"
profile zlib-random read "lists/$zlib.random" 1 "$zlib"
profile 1tib-random read "lists/$big.random" 1 "$big"
profile 1tib-info info 3 "$big"
profile verify-none-1 verify 1 "$none"
profile verify-zlib-2 verify 2 "$zlib"
profile find-zlib find Linux "$zlib"
[ -n "$flat" ] && profile flat-index index "$flat"

section "lock contention, 2 workers reading every zlib page (mutex profile)"
SIDEBYSIDE_MUTEXPROFILE=$out/zlib-all-2.mutex "$b/sidebyside" child read "lists/$zlib.all" 2 "$zlib"
top "$b/sidebyside" "$out/zlib-all-2.mutex" 12
