/*
 * cceiling: the codec ceiling in C, beside dumpscope's (sidebyside child
 * ceiling): decode the same stored page images, already in memory, with
 * the C libraries libkdumpfile decodes with (zlib's uncompress, LZO's
 * lzo1x_decompress_safe, snappy_uncompress, ZSTD_decompressDCtx), with
 * JOBS threads. It tells whether a gap is the decoder's own (Go against C)
 * or the reading around it. Built by bench/run.sh when the libraries link.
 *
 *   cceiling STORED JOBS
 *
 * STORED holds the images: for each page a little-endian uint32 codec
 * (0 none, 1 zlib, 2 lzo, 3 snappy, 4 zstd), a uint32 size, then the bytes.
 * One untimed pass comes first. Prints "ns=... ops=... ok=... failed=...
 * bytes=... hits=0" like lkdf_bench.
 */
#include <lzo/lzo1x.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include "clock.h"

#define PAGE 4096

struct image {
	uint32_t codec, size;
	const unsigned char *data;
};

static struct image *images;
static long nimages;
static int njobs;

static void die(const char *what)
{
	fprintf(stderr, "cceiling: %s\n", what);
	exit(2);
}

/* decode one image into out; returns 0 when it gives exactly one page */
static int decode(const struct image *im, unsigned char *out, ZSTD_DCtx *zctx)
{
	switch (im->codec) {
	case 0:
		if (im->size != PAGE)
			return -1;
		memcpy(out, im->data, PAGE);
		return 0;
	case 1: {
		uLongf n = PAGE;
		return uncompress(out, &n, im->data, im->size) == Z_OK && n == PAGE ? 0 : -1;
	}
	case 2: {
		lzo_uint n = PAGE;
		return lzo1x_decompress_safe(im->data, im->size, out, &n, NULL) == LZO_E_OK && n == PAGE ? 0 : -1;
	}
	case 3: {
		size_t n = PAGE;
		return snappy_uncompress((const char *)im->data, im->size, (char *)out, &n) == SNAPPY_OK && n == PAGE ? 0 : -1;
	}
	case 4:
		return ZSTD_decompressDCtx(zctx, out, PAGE, im->data, im->size) == PAGE ? 0 : -1;
	}
	return -1;
}

struct job {
	pthread_t tid;
	int id;
	long ok, failed;
};

static void *run(void *arg)
{
	struct job *j = arg;
	unsigned char out[PAGE];
	ZSTD_DCtx *zctx = ZSTD_createDCtx();
	for (long i = j->id; i < nimages; i += njobs) {
		if (decode(&images[i], out, zctx) == 0)
			j->ok++;
		else
			j->failed++;
	}
	ZSTD_freeDCtx(zctx);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		die("usage: cceiling STORED JOBS");
	njobs = atoi(argv[2]);
	if (njobs < 1 || njobs > 64)
		die("JOBS must be 1 to 64");
	if (lzo_init() != LZO_E_OK)
		die("lzo_init failed");
	FILE *f = fopen(argv[1], "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) != 0)
		die("cannot open STORED");
	unsigned char *buf = malloc(st.st_size + 1);
	if (!buf || fread(buf, 1, st.st_size, f) != (size_t)st.st_size)
		die("cannot read STORED");
	fclose(f);
	long cap = 1024;
	images = malloc(cap * sizeof *images);
	for (off_t pos = 0; pos + 8 <= st.st_size;) {
		struct image im;
		memcpy(&im.codec, buf + pos, 4);
		memcpy(&im.size, buf + pos + 4, 4);
		pos += 8;
		if (im.size > PAGE || pos + im.size > st.st_size)
			die("STORED is damaged");
		im.data = buf + pos;
		pos += im.size;
		if (nimages == cap)
			images = realloc(images, (cap *= 2) * sizeof *images);
		images[nimages++] = im;
	}
	struct job warm = { .id = 0 };
	int saved = njobs;
	njobs = 1;
	run(&warm); /* untimed: first touches, caches */
	njobs = saved;
	struct job *jobs = calloc(njobs, sizeof *jobs);
	double t0 = now_ns(), c0 = cpu_ns();
	for (int i = 0; i < njobs; i++) {
		jobs[i].id = i;
		if (pthread_create(&jobs[i].tid, NULL, run, &jobs[i]) != 0)
			die("pthread_create failed");
	}
	long ok = 0, failed = 0;
	for (int i = 0; i < njobs; i++) {
		pthread_join(jobs[i].tid, NULL);
		ok += jobs[i].ok;
		failed += jobs[i].failed;
	}
	double ns = now_ns() - t0, cpu = cpu_ns() - c0;
	printf("ns=%.0f cpu_ns=%.0f ops=%ld ok=%ld failed=%ld bytes=%ld hits=0\n", ns, cpu, nimages, ok, failed, ok * (long)PAGE);
	return 0;
}
