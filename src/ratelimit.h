/*
 * ratelimit.h: a token bucket per connection.
 *
 * The bucket holds up to burst tokens and refills at rate tokens a second;
 * each message takes one.  Tokens are counted in thousandths, in integers,
 * so refills and retry times are exact.  Time is passed in, so tests need
 * no clock.
 */
#ifndef CHATRELAY_RATELIMIT_H
#define CHATRELAY_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct bucket {
	int64_t milli;		/* thousandths of a token */
	int64_t last_ms;
};

/* Starts a full bucket at time now_ms. */
void bucket_init(struct bucket *b, int burst, int64_t now_ms);

/*
 * Takes one token at time now_ms.  Returns true if there was one; otherwise
 * false, with *retry_ms set to how long until one will be there (>= 1).
 */
bool bucket_take(struct bucket *b, int rate, int burst, int64_t now_ms,
    int64_t *retry_ms);

#endif
