/*
 * hist.c: the log-linear histogram behind chatrelay-bench's latency
 * percentiles (see hist.h for the bucket layout).
 */
#include <stdint.h>
#include <string.h>

#include "hist.h"

#define SUB_COUNT	((uint64_t)1 << HIST_SUB_BITS)

void
hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

size_t
hist_bucket_of(uint64_t v)
{
	unsigned msb, shift;

	if (v > HIST_VALUE_MAX)
		v = HIST_VALUE_MAX;
	if (v < SUB_COUNT)
		return (size_t)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	/* Power of two 2^msb starts at block shift + 1; its 128 buckets follow. */
	return ((size_t)(shift + 1) << HIST_SUB_BITS) +
	    (size_t)((v >> shift) - SUB_COUNT);
}

uint64_t
hist_bucket_low(size_t i)
{
	size_t block = i >> HIST_SUB_BITS;

	if (block == 0)
		return (uint64_t)i;
	return ((uint64_t)(i & (SUB_COUNT - 1)) + SUB_COUNT) << (block - 1);
}

uint64_t
hist_bucket_high(size_t i)
{
	size_t block = i >> HIST_SUB_BITS;

	if (block == 0)
		return (uint64_t)i;
	return hist_bucket_low(i) + ((uint64_t)1 << (block - 1)) - 1;
}

void
hist_record(struct hist *h, uint64_t v)
{
	h->buckets[hist_bucket_of(v)]++;
	h->count++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void
hist_add(struct hist *dst, const struct hist *src)
{
	size_t i;

	if (src->count == 0)
		return;
	for (i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t
hist_percentile(const struct hist *h, double pct)
{
	uint64_t rank, seen = 0, v;
	double want;
	size_t i;

	if (h->count == 0)
		return 0;
	if (pct >= 100.0)
		return h->max;
	if (pct < 0.0)
		pct = 0.0;
	want = pct / 100.0 * (double)h->count;
	rank = (uint64_t)want;
	if ((double)rank < want)
		rank++;
	if (rank == 0)
		rank = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			break;
	}
	if (i == HIST_BUCKETS)
		return h->max;
	v = hist_bucket_high(i);
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return v;
}

double
hist_mean(const struct hist *h)
{
	return h->count ? h->sum / (double)h->count : 0.0;
}
