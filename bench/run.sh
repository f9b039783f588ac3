#!/bin/sh
# Side-by-side benchmark of dumpscope and libkdumpfile (see
# bench/sidebyside/main.go): builds dumpscope, lkdf_bench (against
# Debian's libkdumpfile-dev) and the benchmark into a build folder, makes
# the test files once (kept in the work folder), runs the sections and
# prints Markdown tables on stdout; progress goes to stderr.
#
#   bench/run.sh [-r ROUNDS] [-s SECTIONS] [-d DIR] [--real FILE,...] [-- SIDEBYSIDE FLAGS]
#
#   -r ROUNDS    timed rounds per measurement, after one warm-up (default 3)
#   -s SECTIONS  comma-separated: open,pages,verify,find,cmds,start,flat (default all)
#   -d DIR       work folder for generated files (default $TMPDIR/dumpscope-bench)
#   --real FILES comma-separated real kdump files to add to the tables
#   -v           show each measurement as it runs
#   --           everything after goes to sidebyside as is (-pages N,
#                -elf-pages N, -flat-pages N, -random N, -lkdf-workers own|clone)
#
# It needs go, gcc, libkdumpfile-dev; makedumpfile (optional) writes the zlib
# and LZO files and the flattened stream. Default settings take a few
# minutes on 2 cores, plus about a minute the first time to make the files.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
rounds=3
sections=open,pages,verify,find,cmds,start,flat
dir=${TMPDIR:-/tmp}/dumpscope-bench
real=
verbose=
while [ $# -gt 0 ]; do
	case $1 in
	-r) rounds=$2; shift 2 ;;
	-s) sections=$2; shift 2 ;;
	-d) dir=$2; shift 2 ;;
	--real) real=$2; shift 2 ;;
	-v) verbose=-v; shift ;;
	--) shift; break ;;
	-h|--help) sed -n '2,22p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see -h)" >&2; exit 2 ;;
	esac
done

if [ ! -f /usr/include/libkdumpfile/kdumpfile.h ]; then
	echo "run.sh: libkdumpfile-dev is not installed (apt-get install libkdumpfile-dev)" >&2
	exit 2
fi
build=$dir/build
mkdir -p "$build"
cd "$root"
echo "building in $build" >&2
# Static and with its segments at 2 MiB boundaries, as README builds it (no
# dynamic loader at every start; its read-only data mapped in huge pages).
CGO_ENABLED=0 go build -ldflags=-R=0x200000 -o "$build/dumpscope" .
# A copy written 4 KiB at a time: the page cache holds its code in small
# pages, as the linker leaves a fresh build (the start section's row
# before internal/hugeheap.ReloadText moves it).
dd if="$build/dumpscope" of="$build/dumpscope-small" bs=4k status=none
chmod +x "$build/dumpscope-small"
CGO_ENABLED=0 go build -o "$build/sidebyside" ./bench/sidebyside
CGO_ENABLED=0 go build -o "$build/hello" ./bench/hello
CGO_ENABLED=0 go build -ldflags=-R=0x200000 -o "$build/libs" ./bench/libs
gcc -O2 -Wall -o "$build/lkdf_bench" bench/lkdf/lkdf_bench.c -lkdumpfile -lpthread
cceiling=
if gcc -O2 -Wall -o "$build/cceiling" bench/lkdf/cceiling.c -lz -llzo2 -lsnappy -lzstd -lpthread 2>/dev/null; then
	cceiling=$build/cceiling
else
	echo "run.sh: cceiling does not build (zlib, lzo2, snappy, zstd headers and libraries): no C codec ceiling column" >&2
fi

describe=$(git -C "$root" describe --always --dirty 2>/dev/null || echo '(not a git checkout)')
exec "$build/sidebyside" -dir "$dir" -dumpscope "$build/dumpscope" -lkdf "$build/lkdf_bench" -hello "$build/hello" -libs "$build/libs" -dumpscope-small "$build/dumpscope-small" \
	-rounds "$rounds" -sections "$sections" -real "$real" -describe "$describe" -cceiling "$cceiling" $verbose "$@"
