/*
 * run.h: one chatrelay-bench run, from the first connection to the result.
 */
#ifndef BENCH_RUN_H
#define BENCH_RUN_H

#include "options.h"
#include "report.h"

/*
 * Runs the benchmark o describes and fills *r.  Returns 0 after a completed
 * run (whatever it measured), 1 if connecting or setting up failed, 2 for a
 * usage error found late (a malformed URL); the reason is on stderr.
 */
int	run_bench(const struct bench_opts *o, struct bench_result *r);

#endif
