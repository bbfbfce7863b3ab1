/*
 * bench.h: `roster bench` (bench.c).
 */
#ifndef ROSTER_BENCH_H
#define ROSTER_BENCH_H

#include "roster.h"

/* Run the benchmark with the command's arguments (after "bench"); returns
 * the process exit status. */
int rs_bench_main(int argc, char **argv);

#endif
