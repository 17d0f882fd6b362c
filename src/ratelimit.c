/*
 * ratelimit.c: token-bucket arithmetic in thousandths of a token.
 */
#include "ratelimit.h"

void
bucket_init(struct bucket *b, int burst, int64_t now_ms)
{
	b->milli = (int64_t)burst * 1000;
	b->last_ms = now_ms;
}

bool
bucket_take(struct bucket *b, int rate, int burst, int64_t now_ms,
    int64_t *retry_ms)
{
	int64_t cap = (int64_t)burst * 1000, delta;

	if (now_ms > b->last_ms) {
		delta = now_ms - b->last_ms;
		/* A long pause fills the bucket; no overflow either way. */
		if (delta >= cap / rate + 1)
			b->milli = cap;
		else {
			b->milli += delta * rate;
			if (b->milli > cap)
				b->milli = cap;
		}
		b->last_ms = now_ms;
	}
	if (b->milli >= 1000) {
		b->milli -= 1000;
		return true;
	}
	*retry_ms = (1000 - b->milli + rate - 1) / rate;
	if (*retry_ms < 1)
		*retry_ms = 1;
	return false;
}
