/*
 * lkdf_bench: read the same pages as dumpscope's benchmarks, through
 * libkdumpfile (Debian's libkdumpfile-dev), so the two can be compared in
 * one run. Built and run by reader/bench_test.go; not part of dumpscope.
 *
 *   lkdf_bench open  N         FILE...   open and close N times
 *   lkdf_bench read  PFNLIST R FILE...   read the pfns listed in PFNLIST
 *                                        (one decimal pfn per line), R rounds
 *   lkdf_bench seq             FILE...   read every pfn below max_pfn
 *
 * Prints "ns_per_op=<float> ops=<n> ok=<n> failed=<n>".
 */
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static kdump_ctx_t *open_dump(int nfiles, char **files, int *fds)
{
	kdump_ctx_t *ctx = kdump_new();
	if (!ctx) {
		fprintf(stderr, "kdump_new failed\n");
		exit(2);
	}
	for (int i = 0; i < nfiles; i++) {
		fds[i] = open(files[i], O_RDONLY);
		if (fds[i] < 0) {
			perror(files[i]);
			exit(2);
		}
	}
	if (kdump_open_fdset(ctx, nfiles, fds) != KDUMP_OK) {
		fprintf(stderr, "kdump_open_fdset: %s\n", kdump_get_err(ctx));
		exit(2);
	}
	return ctx;
}

static void close_dump(kdump_ctx_t *ctx, int nfiles, int *fds)
{
	kdump_free(ctx);
	for (int i = 0; i < nfiles; i++)
		close(fds[i]);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: lkdf_bench open N FILE... | read PFNLIST ROUNDS FILE... | seq FILE...\n");
		return 2;
	}
	int fds[64];
	kdump_num_t page_size = 4096, max_pfn = 0;
	if (!strcmp(argv[1], "open")) {
		long n = atol(argv[2]);
		int nfiles = argc - 3;
		double t0 = now();
		for (long i = 0; i < n; i++) {
			kdump_ctx_t *ctx = open_dump(nfiles, argv + 3, fds);
			close_dump(ctx, nfiles, fds);
		}
		printf("ns_per_op=%.1f ops=%ld ok=%ld failed=0\n", (now() - t0) / n, n, n);
		return 0;
	}
	char *list = NULL;
	long rounds = 1;
	int first = 2;
	if (!strcmp(argv[1], "read")) {
		list = argv[2];
		rounds = atol(argv[3]);
		first = 4;
	} else if (strcmp(argv[1], "seq")) {
		fprintf(stderr, "unknown mode %s\n", argv[1]);
		return 2;
	}
	int nfiles = argc - first;
	kdump_ctx_t *ctx = open_dump(nfiles, argv + first, fds);
	kdump_get_number_attr(ctx, KDUMP_ATTR_PAGE_SIZE, &page_size);
	kdump_get_number_attr(ctx, "max_pfn", &max_pfn);
	unsigned long long *pfns = NULL;
	long npfns = 0;
	if (list) {
		FILE *f = fopen(list, "r");
		if (!f) {
			perror(list);
			return 2;
		}
		long cap = 1024;
		pfns = malloc(cap * sizeof *pfns);
		unsigned long long p;
		while (fscanf(f, "%llu", &p) == 1) {
			if (npfns == cap)
				pfns = realloc(pfns, (cap *= 2) * sizeof *pfns);
			pfns[npfns++] = p;
		}
		fclose(f);
	} else {
		npfns = max_pfn;
	}
	char *buf = malloc(page_size);
	long ok = 0, failed = 0;
	double t0 = now();
	for (long r = 0; r < rounds; r++) {
		for (long i = 0; i < npfns; i++) {
			unsigned long long pfn = list ? pfns[i] : (unsigned long long)i;
			size_t len = page_size;
			if (kdump_read(ctx, KDUMP_MACHPHYSADDR, pfn * page_size, buf, &len) == KDUMP_OK && len == page_size)
				ok++;
			else
				failed++;
		}
	}
	double ops = (double)rounds * npfns;
	printf("ns_per_op=%.1f ops=%.0f ok=%ld failed=%ld\n", (now() - t0) / ops, ops, ok, failed);
	close_dump(ctx, nfiles, fds);
	return 0;
}
