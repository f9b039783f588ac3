/*
 * clock.h: the two clocks lkdf_bench and cceiling report, read the same
 * way as the dumpscope side's children read them (bench/sidebyside
 * startClock): wall time on CLOCK_MONOTONIC and the process's CPU time.
 */
#ifndef LKDF_CLOCK_H
#define LKDF_CLOCK_H

#include <sys/resource.h>
#include <time.h>

/* wall time on CLOCK_MONOTONIC, in ns */
static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* CPU time of the process (all threads), user plus system, in ns */
static double cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

#endif
