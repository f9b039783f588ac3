/*
 * lkdf_bench: the libkdumpfile side of dumpscope's side-by-side benchmark
 * (bench/sidebyside). It reads the same files and the same page lists as
 * the dumpscope side, through libkdumpfile's C API (Debian's
 * libkdumpfile-dev), and prints what it measured on one line of
 * key=value pairs. It also runs a command as a child and reports the
 * child's own wall time, CPU time and peak RSS (wait4), which Go's os/exec
 * cannot report cleanly (its child shares the parent's memory until exec,
 * and the kernel counts that memory in the child's ru_maxrss: here the
 * parent is this small program, not the Go benchmark).
 *
 *   lkdf_bench info  N COUNT FILE...
 *       open, read the attributes `dumpscope info` shows (format, arch,
 *       page size, max_pfn, CPUs, release), with COUNT=1 also count the
 *       frames stored in the file (file.pagemap), then free: N times.
 *       Prints ns_per_op.
 *   lkdf_bench read  LIST WORKERS SHARE FILE...
 *       read the pfns of LIST (little-endian uint64s) with WORKERS threads,
 *       each taking chunks of 256 list entries in turn (thread w takes
 *       chunks w, w+WORKERS, ...), as the dumpscope side does. SHARE is
 *       "own" (each thread opens the dump in its own context, on its own
 *       descriptor) or "clone" (one context opened once, and kdump_clone
 *       for each thread: one shared cache). Time counts the open(s).
 *   lkdf_bench find  LIST PATTERN FILE...
 *       read the pfns of LIST in order and search each page for PATTERN,
 *       matches across consecutive pages included (dumpscope find).
 *   lkdf_bench exec  CMD ARG...
 *       run CMD with stdout on /dev/null; report the child's wall time,
 *       user and system CPU time, peak RSS, minor page faults and exit
 *       status. The child is started with posix_spawn, which shares this
 *       process's memory until exec (vfork): a fork would copy this
 *       process's page tables, and the child would spend CPU on copies on
 *       write and, at exec, on tearing the copy down (0.6-0.8 ms of each
 *       child's CPU here), which is not the command's.
 *
 * Output: "ns=<wall> cpu_ns=<process CPU> ops=<n> ok=<n> failed=<n> bytes=<n>
 * hits=<n>" or, for
 * exec, "wall_ns=... user_ns=... sys_ns=... maxrss_kib=... minflt=... status=...".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

extern char **environ;

#define CHUNK 256 /* list entries per work chunk, as on the dumpscope side */
#define MAXFILES 64

static void die(const char *what, const char *why)
{
	fprintf(stderr, "lkdf_bench: %s: %s\n", what, why);
	exit(2);
}

/* A dump opened in its own context. */
struct dump {
	kdump_ctx_t *ctx;
	int nfds;
	int fds[MAXFILES];
};

static void dump_open(struct dump *d, int nfiles, char **files)
{
	if (nfiles > MAXFILES)
		die("open", "too many files");
	d->ctx = kdump_new();
	if (!d->ctx)
		die("kdump_new", "out of memory");
	d->nfds = nfiles;
	for (int i = 0; i < nfiles; i++) {
		d->fds[i] = open(files[i], O_RDONLY);
		if (d->fds[i] < 0) {
			perror(files[i]);
			exit(2);
		}
	}
	if (kdump_open_fdset(d->ctx, nfiles, d->fds) != KDUMP_OK)
		die("kdump_open_fdset", kdump_get_err(d->ctx));
}

static void dump_close(struct dump *d)
{
	kdump_free(d->ctx);
	for (int i = 0; i < d->nfds; i++)
		close(d->fds[i]);
}

static kdump_num_t page_size(kdump_ctx_t *ctx)
{
	kdump_num_t ps = 0;
	if (kdump_get_number_attr(ctx, KDUMP_ATTR_PAGE_SIZE, &ps) != KDUMP_OK || ps == 0 || ps > (1 << 20))
		die("page size", kdump_get_err(ctx));
	return ps;
}

/* The attributes `dumpscope info` shows; a missing one is not an error. */
static unsigned long read_attributes(kdump_ctx_t *ctx)
{
	static const char *strs[] = { KDUMP_ATTR_FILE_FORMAT, KDUMP_ATTR_ARCH_NAME, "linux.uts.release", "linux.uts.machine" };
	static const char *nums[] = { KDUMP_ATTR_PAGE_SIZE, "max_pfn", KDUMP_ATTR_NUM_CPUS };
	unsigned long sum = 0;
	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
		const char *s;
		if (kdump_get_string_attr(ctx, strs[i], &s) == KDUMP_OK)
			sum += strlen(s);
	}
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
		kdump_num_t n;
		if (kdump_get_number_attr(ctx, nums[i], &n) == KDUMP_OK)
			sum += n;
	}
	return sum;
}

/* Frames stored in the file, from file.pagemap, a run at a time. */
static unsigned long long count_stored(kdump_ctx_t *ctx)
{
	kdump_attr_t attr;
	kdump_num_t max_pfn = 0;
	attr.type = KDUMP_BITMAP;
	if (kdump_get_typed_attr(ctx, KDUMP_ATTR_FILE_PAGEMAP, &attr) != KDUMP_OK)
		die("file.pagemap", kdump_get_err(ctx));
	kdump_get_number_attr(ctx, "max_pfn", &max_pfn);
	kdump_bmp_t *bmp = attr.val.bitmap;
	unsigned long long n = 0;
	kdump_addr_t pfn = 0;
	while (pfn < max_pfn) {
		kdump_addr_t set = pfn, clear;
		if (kdump_bmp_find_set(bmp, &set) != KDUMP_OK || set >= max_pfn)
			break;
		clear = set;
		if (kdump_bmp_find_clear(bmp, &clear) != KDUMP_OK || clear > max_pfn)
			clear = max_pfn;
		n += clear - set;
		pfn = clear;
	}
	return n;
}

/* The page list: little-endian uint64 pfns. */
static uint64_t *load_list(const char *path, long *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || st.st_size % 8 != 0)
		die(path, "not a list of 8-byte pfns");
	*n = st.st_size / 8;
	uint64_t *list = malloc(st.st_size + 8);
	if (!list || fread(list, 8, *n, f) != (size_t)*n)
		die(path, "cannot read");
	fclose(f);
	return list; /* x86_64 and the other hosts this runs on are little-endian */
}

struct worker {
	pthread_t tid;
	int id, nworkers;
	const uint64_t *list;
	long nlist;
	/* own: open here; clone: ctx is set by the main thread */
	int own, nfiles;
	char **files;
	kdump_ctx_t *ctx;
	long ok, failed;
	kdump_num_t page_size;
};

static void *read_pages(void *arg)
{
	struct worker *w = arg;
	struct dump d;
	kdump_ctx_t *ctx = w->ctx;
	if (w->own) {
		dump_open(&d, w->nfiles, w->files);
		ctx = d.ctx;
	}
	kdump_num_t ps = page_size(ctx);
	w->page_size = ps;
	char *buf = malloc(ps);
	for (long c = (long)w->id * CHUNK; c < w->nlist; c += (long)w->nworkers * CHUNK) {
		long end = c + CHUNK < w->nlist ? c + CHUNK : w->nlist;
		for (long i = c; i < end; i++) {
			size_t len = ps;
			if (kdump_read(ctx, KDUMP_MACHPHYSADDR, w->list[i] * ps, buf, &len) == KDUMP_OK && len == ps)
				w->ok++;
			else
				w->failed++;
		}
	}
	free(buf);
	if (w->own)
		dump_close(&d);
	return NULL;
}

static int cmd_read(int argc, char **argv)
{
	if (argc < 6)
		die("read", "usage: read LIST WORKERS own|clone FILE...");
	long nlist;
	uint64_t *list = load_list(argv[2], &nlist);
	int nworkers = atoi(argv[3]);
	int own = !strcmp(argv[4], "own");
	if (nworkers < 1 || nworkers > 64 || (!own && strcmp(argv[4], "clone")))
		die("read", "bad WORKERS or SHARE");
	int nfiles = argc - 5;
	char **files = argv + 5;
	struct worker *ws = calloc(nworkers, sizeof *ws);
	struct dump shared;
	double t0 = now_ns(), c0 = cpu_ns();
	if (!own)
		dump_open(&shared, nfiles, files);
	for (int i = 0; i < nworkers; i++) {
		ws[i] = (struct worker){ .id = i, .nworkers = nworkers, .list = list, .nlist = nlist,
					 .own = own, .nfiles = nfiles, .files = files };
		if (!own && !(ws[i].ctx = kdump_clone(shared.ctx, 0)))
			die("kdump_clone", "failed");
	}
	if (nworkers == 1) {
		read_pages(&ws[0]);
	} else {
		for (int i = 0; i < nworkers; i++)
			if (pthread_create(&ws[i].tid, NULL, read_pages, &ws[i]) != 0)
				die("pthread_create", "failed");
		for (int i = 0; i < nworkers; i++)
			pthread_join(ws[i].tid, NULL);
	}
	long ok = 0, failed = 0;
	for (int i = 0; i < nworkers; i++) {
		ok += ws[i].ok;
		failed += ws[i].failed;
		if (!own)
			kdump_free(ws[i].ctx);
	}
	if (!own)
		dump_close(&shared);
	double ns = now_ns() - t0, cpu = cpu_ns() - c0;
	kdump_num_t ps = ws[0].page_size;
	printf("ns=%.0f cpu_ns=%.0f ops=%ld ok=%ld failed=%ld bytes=%llu hits=0\n", ns, cpu, nlist, ok, failed,
	       (unsigned long long)ok * ps);
	return 0;
}

static int cmd_find(int argc, char **argv)
{
	if (argc < 5)
		die("find", "usage: find LIST PATTERN FILE...");
	long nlist;
	uint64_t *list = load_list(argv[2], &nlist);
	const char *pat = argv[3];
	size_t plen = strlen(pat);
	double t0 = now_ns(), c0 = cpu_ns();
	struct dump d;
	dump_open(&d, argc - 4, argv + 4);
	kdump_num_t ps = page_size(d.ctx);
	if (plen == 0 || plen > ps)
		die("find", "pattern empty or longer than a page");
	/*
	 * window: the last plen-1 bytes of the previous page, then the page;
	 * the carried bytes count only when this pfn follows the previous one.
	 */
	size_t keep = plen - 1;
	char *window = malloc(keep + ps);
	long ok = 0, failed = 0, hits = 0;
	int have_prev = 0;
	uint64_t prev = 0;
	for (long i = 0; i < nlist; i++) {
		size_t len = ps;
		if (kdump_read(d.ctx, KDUMP_MACHPHYSADDR, list[i] * ps, window + keep, &len) != KDUMP_OK || len != ps) {
			failed++;
			have_prev = 0;
			continue;
		}
		ok++;
		char *p = have_prev && list[i] == prev + 1 ? window : window + keep;
		for (char *end = window + keep + ps; (p = memmem(p, end - p, pat, plen)); p++)
			hits++;
		memmove(window, window + ps, keep);
		have_prev = 1;
		prev = list[i];
	}
	free(window);
	dump_close(&d);
	double ns = now_ns() - t0, cpu = cpu_ns() - c0;
	printf("ns=%.0f cpu_ns=%.0f ops=%ld ok=%ld failed=%ld bytes=%llu hits=%ld\n", ns, cpu, nlist, ok, failed,
	       (unsigned long long)ok * ps, hits);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	if (argc < 5)
		die("info", "usage: info N COUNT FILE...");
	long n = atol(argv[2]);
	int count = atoi(argv[3]);
	if (n < 1)
		die("info", "N must be at least 1");
	unsigned long long sum = 0;
	double t0 = now_ns(), c0 = cpu_ns();
	for (long i = 0; i < n; i++) {
		struct dump d;
		dump_open(&d, argc - 4, argv + 4);
		sum += read_attributes(d.ctx);
		if (count)
			sum += count_stored(d.ctx);
		dump_close(&d);
	}
	double ns = now_ns() - t0, cpu = cpu_ns() - c0;
	printf("ns=%.0f cpu_ns=%.0f ops=%ld ok=%ld failed=0 bytes=0 hits=%llu\n", ns, cpu, n, n, sum);
	return 0;
}

static double tv_ns(struct timeval tv)
{
	return tv.tv_sec * 1e9 + tv.tv_usec * 1e3;
}

static int cmd_exec(int argc, char **argv)
{
	if (argc < 3)
		die("exec", "usage: exec CMD ARG...");
	posix_spawn_file_actions_t actions;
	if (posix_spawn_file_actions_init(&actions) != 0 ||
	    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) != 0)
		die("exec", "posix_spawn_file_actions failed");
	double t0 = now_ns();
	pid_t pid;
	int err = posix_spawnp(&pid, argv[2], &actions, NULL, argv + 2, environ);
	posix_spawn_file_actions_destroy(&actions);
	if (err != 0) {
		fprintf(stderr, "%s: %s\n", argv[2], strerror(err));
		die("exec", "posix_spawnp failed");
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0)
		die("wait4", "failed");
	double wall = now_ns() - t0;
	printf("wall_ns=%.0f user_ns=%.0f sys_ns=%.0f maxrss_kib=%ld minflt=%ld status=%d\n", wall, tv_ns(ru.ru_utime),
	       tv_ns(ru.ru_stime), ru.ru_maxrss, ru.ru_minflt, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "info"))
		return cmd_info(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "read"))
		return cmd_read(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "find"))
		return cmd_find(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "exec"))
		return cmd_exec(argc, argv);
	fprintf(stderr, "usage: lkdf_bench info N COUNT FILE... | read LIST WORKERS own|clone FILE... | "
			"find LIST PATTERN FILE... | exec CMD ARG...\n");
	return 2;
}
