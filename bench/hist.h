/*
 * hist.h: a log-linear histogram of non-negative integers (nanoseconds, in
 * chatrelay-bench), in the manner of HdrHistogram.
 *
 * Values below 128 are counted exactly; above, each power of two is split
 * into 128 equal buckets, so a bucket is never wider than 1/128 (0.8%) of
 * the values it holds.  Values up to 2^36 ns (about 68.7 s) are bucketed;
 * larger ones are counted in the last bucket, and the exact maximum is kept
 * apart.  A histogram is a plain struct of about 30 KiB with no pointers: it
 * may be copied, zeroed or added to another.
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS	7
#define HIST_TOP_BITS	36
#define HIST_BUCKETS	((HIST_TOP_BITS - HIST_SUB_BITS + 1) << HIST_SUB_BITS)
#define HIST_VALUE_MAX	(((uint64_t)1 << HIST_TOP_BITS) - 1)

struct hist {
	uint64_t	count;		/* values recorded */
	uint64_t	min, max;	/* exact; min is UINT64_MAX when empty */
	double		sum;		/* for the mean */
	uint64_t	buckets[HIST_BUCKETS];
};

/* Empties h. */
void		hist_init(struct hist *h);

/* Counts one value (values above HIST_VALUE_MAX go to the last bucket). */
void		hist_record(struct hist *h, uint64_t v);

/* Adds every value counted in src to dst. */
void		hist_add(struct hist *dst, const struct hist *src);

/*
 * Returns the value at percentile pct (0..100): the highest value of the
 * bucket that holds the ceil(pct% of count)-th smallest value, but never
 * more than the exact maximum nor less than the exact minimum.  Returns 0
 * for an empty histogram.
 */
uint64_t	hist_percentile(const struct hist *h, double pct);

/* Returns the mean of the values counted, or 0 for an empty histogram. */
double		hist_mean(const struct hist *h);

/* Returns the index of the bucket that counts v. */
size_t		hist_bucket_of(uint64_t v);

/* Returns the lowest and the highest value counted in bucket i. */
uint64_t	hist_bucket_low(size_t i);
uint64_t	hist_bucket_high(size_t i);

#endif
