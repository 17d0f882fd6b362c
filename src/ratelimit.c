/*
 * ratelimit.c: token-bucket arithmetic.
 */
#include <math.h>

#include "ratelimit.h"

void
bucket_init(struct bucket *b, int burst, int64_t now_ms)
{
	b->tokens = burst;
	b->last_ms = now_ms;
}

bool
bucket_take(struct bucket *b, int rate, int burst, int64_t now_ms,
    int64_t *retry_ms)
{
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * rate / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
		b->last_ms = now_ms;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return true;
	}
	*retry_ms = (int64_t)ceil((1.0 - b->tokens) * 1000.0 / rate);
	if (*retry_ms < 1)
		*retry_ms = 1;
	return false;
}
