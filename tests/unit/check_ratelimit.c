/*
 * check_ratelimit.c: unit tests for ratelimit.c, the token bucket.  Time is
 * always passed in explicitly.
 */
#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#include "ratelimit.h"

#define T0 INT64_C(1700000000000)	/* an arbitrary start time, in ms */

/* Returns ceil(1000 / rate), at least 1: the wait for one whole token. */
static int64_t
one_token_ms(int rate)
{
	int64_t	ms = (1000 + rate - 1) / rate;

	return ms < 1 ? 1 : ms;
}

/* Takes tokens at now_ms until refused; returns how many were taken. */
static int
drain(struct bucket *b, int rate, int burst, int64_t now_ms,
    int64_t *retry_ms)
{
	int	n = 0;

	while (bucket_take(b, rate, burst, now_ms, retry_ms))
		n++;
	return n;
}

START_TEST(test_full_bucket)
{
	struct bucket	b;
	int64_t		retry = -1;
	int		i;

	bucket_init(&b, 20, T0);
	for (i = 0; i < 20; i++)
		ck_assert_msg(bucket_take(&b, 10, 20, T0, &retry), "take %d", i);
	ck_assert(!bucket_take(&b, 10, 20, T0, &retry));
	ck_assert_int_eq(retry, 100);
	/* Being refused costs nothing and changes nothing. */
	for (i = 0; i < 5; i++) {
		retry = -1;
		ck_assert(!bucket_take(&b, 10, 20, T0, &retry));
		ck_assert_int_eq(retry, 100);
	}

	/* A bucket of one. */
	bucket_init(&b, 1, T0);
	ck_assert(bucket_take(&b, 10, 1, T0, &retry));
	ck_assert(!bucket_take(&b, 10, 1, T0, &retry));
	ck_assert_int_eq(retry, 100);
}
END_TEST

START_TEST(test_retry_ms)
{
	static const int rates[] = {
		1, 2, 3, 7, 10, 11, 33, 100, 333, 999, 1000, 1001, 1500, 4000,
		100000
	};
	struct bucket	b;
	int64_t		retry, want;
	size_t		i;

	for (i = 0; i < sizeof rates / sizeof rates[0]; i++) {
		int	rate = rates[i];

		want = one_token_ms(rate);
		bucket_init(&b, 3, T0);
		ck_assert_int_eq(drain(&b, rate, 3, T0, &retry), 3);
		ck_assert_msg(retry == want, "rate %d: retry %lld, want %lld",
		    rate, (long long)retry, (long long)want);
		ck_assert_int_ge(retry, 1);

		/* The retry is right: one ms earlier is still too early. */
		if (retry > 1)
			ck_assert_msg(!bucket_take(&b, rate, 3, T0 + retry - 1,
			    &retry), "rate %d: token before retry_ms", rate);
		ck_assert_msg(bucket_take(&b, rate, 3, T0 + want, &retry),
		    "rate %d: no token after retry_ms", rate);
	}
}
END_TEST

/* With part of a token there, retry_ms is the wait for the rest. */
START_TEST(test_retry_partial)
{
	struct bucket	b;
	int64_t		retry, t;
	int		rate;

	bucket_init(&b, 1, T0);
	ck_assert(bucket_take(&b, 10, 1, T0, &retry));
	ck_assert(!bucket_take(&b, 10, 1, T0 + 50, &retry));
	ck_assert_int_eq(retry, 50);
	/*
	 * 0.5 + 0.49 tokens: 1 ms to go, though floating point may make it
	 * look like a hair more (never less).
	 */
	ck_assert(!bucket_take(&b, 10, 1, T0 + 99, &retry));
	ck_assert_int_ge(retry, 1);
	ck_assert_int_le(retry, 2);
	ck_assert(bucket_take(&b, 10, 1, T0 + 100, &retry));

	/*
	 * At every instant, the retry_ms given is when the next token is
	 * there: not before, and (give or take the millisecond that rounding
	 * costs) not after.
	 */
	for (rate = 1; rate <= 40; rate += 3) {
		int64_t	step = one_token_ms(rate);

		for (t = 1; t < step; t += (step > 50 ? step / 37 : 1)) {
			int64_t	r2;

			bucket_init(&b, 1, T0);
			ck_assert(bucket_take(&b, rate, 1, T0, &retry));
			ck_assert(!bucket_take(&b, rate, 1, T0 + t, &retry));
			ck_assert_int_ge(retry, 1);
			ck_assert_msg(t + retry >= step && t + retry <= step + 1,
			    "rate %d, t %lld: retry %lld, token due at %lld",
			    rate, (long long)t, (long long)retry,
			    (long long)step);
			if (t + retry == step && retry > 1)
				ck_assert(!bucket_take(&b, rate, 1,
				    T0 + t + retry - 1, &r2));
			ck_assert_msg(bucket_take(&b, rate, 1, T0 + t + retry,
			    &r2), "rate %d, burst 1: taken at +0, refused at "
			    "+%lld with retry_ms %lld, %srefused again at +%lld "
			    "(retry_ms %lld)", rate, (long long)t,
			    (long long)retry, t + retry == step && retry > 1 ?
			    "polled 1 ms early, " : "", (long long)(t + retry),
			    (long long)r2);
		}
	}
}
END_TEST

START_TEST(test_refill)
{
	struct bucket	b;
	int64_t		retry;

	bucket_init(&b, 20, T0);
	ck_assert_int_eq(drain(&b, 10, 20, T0, &retry), 20);

	/* rate 10: one token per 100 ms. */
	ck_assert(!bucket_take(&b, 10, 20, T0 + 99, &retry));
	ck_assert(bucket_take(&b, 10, 20, T0 + 100, &retry));
	ck_assert(!bucket_take(&b, 10, 20, T0 + 100, &retry));
	ck_assert_int_eq(retry, 100);

	/* 550 ms later: 5.5 tokens; five taken, the half left shortens the wait. */
	ck_assert_int_eq(drain(&b, 10, 20, T0 + 650, &retry), 5);
	ck_assert_int_eq(retry, 50);
	ck_assert(bucket_take(&b, 10, 20, T0 + 700, &retry));

	/*
	 * Small steps add up: 0.1 token every 10 ms is 10 tokens in a
	 * second (the last may be a millisecond late: ten times 0.1 is a hair
	 * under 1 in floating point).
	 */
	ck_assert_int_eq(drain(&b, 10, 20, T0 + 700, &retry), 0);
	{
		int64_t	t;
		int	got = 0;

		for (t = T0 + 710; t <= T0 + 1700; t += 10)
			got += drain(&b, 10, 20, t, &retry);
		ck_assert_int_ge(got, 9);
		ck_assert_int_le(got, 10);
		got += drain(&b, 10, 20, T0 + 1701, &retry);
		ck_assert_int_eq(got, 10);
		for (t = T0 + 1710; t <= T0 + 11700; t += 10)
			got += drain(&b, 10, 20, t, &retry);
		ck_assert_int_ge(got, 109);
		ck_assert_int_le(got, 110);
	}
}
END_TEST

/*
 * Whatever the rate and whenever the client polls, a client told to retry
 * in retry_ms gets a token when it does: retry_ms is never too short.
 */
START_TEST(test_retry_never_too_short)
{
	struct bucket	b;
	int64_t		retry, r2, t;
	unsigned	seed = 12345;
	int		rate, trial, k, refusals = 0;

	for (rate = 1; rate <= 4096; rate = rate < 40 ? rate + 1 : rate * 2) {
		for (trial = 0; trial < 20; trial++) {
			t = T0;
			bucket_init(&b, 1, t);
			ck_assert(bucket_take(&b, rate, 1, t, &retry));
			for (k = 0; k < 40; k++) {
				seed = seed * 1103515245u + 12345u;
				t += (seed >> 16) % 200 + 1;
				if (bucket_take(&b, rate, 1, t, &retry))
					continue;
				refusals++;
				ck_assert_int_ge(retry, 1);
				ck_assert_int_le(retry, one_token_ms(rate));
				t += retry;
				ck_assert_msg(bucket_take(&b, rate, 1, t, &r2),
				    "rate %d: refused again after retry_ms %lld",
				    rate, (long long)retry);
			}
		}
	}
	ck_assert_int_gt(refusals, 1000);
}
END_TEST

START_TEST(test_never_above_burst)
{
	struct bucket	b;
	int64_t		retry;

	/* A full bucket stays full however long it waits. */
	bucket_init(&b, 20, T0);
	ck_assert_int_eq(drain(&b, 10, 20, T0 + 3600000, &retry), 20);

	/* A drained one refills to burst, no more. */
	ck_assert_int_eq(drain(&b, 10, 20, T0 + 2 * 3600000, &retry), 20);
	ck_assert_int_eq(drain(&b, 10, 20, T0 + 2 * 3600000 + 5000, &retry),
	    20);
	/* Half drained, then a long wait. */
	ck_assert(bucket_take(&b, 10, 20, T0 + 2 * 3600000 + 100000, &retry));
	ck_assert_int_eq(drain(&b, 10, 20, T0 + 2 * 3600000 + 100000 + 900000,
	    &retry), 20);

	/* Even after years (no overflow). */
	ck_assert_int_eq(drain(&b, 100000, 20, INT64_C(1) << 62, &retry), 20);

	/* burst 1: one at a time, however long the pause. */
	bucket_init(&b, 1, T0);
	ck_assert_int_eq(drain(&b, 1000, 1, T0 + 1000000, &retry), 1);
	ck_assert_int_eq(retry, 1);
}
END_TEST

START_TEST(test_time_backwards)
{
	struct bucket	b;
	int64_t		retry;

	bucket_init(&b, 20, T0);
	ck_assert_int_eq(drain(&b, 10, 20, T0, &retry), 20);

	/* The clock steps back: nothing is added. */
	ck_assert(!bucket_take(&b, 10, 20, T0 - 5000, &retry));
	ck_assert_int_ge(retry, 1);
	ck_assert(!bucket_take(&b, 10, 20, 0, &retry));
	ck_assert(!bucket_take(&b, 10, 20, T0 - 1, &retry));

	/*
	 * And refill resumes from the latest time seen, not from the
	 * earlier one: 100 ms after T0 brings exactly one token.
	 */
	ck_assert(!bucket_take(&b, 10, 20, T0 + 99, &retry));
	ck_assert_int_eq(drain(&b, 10, 20, T0 + 100, &retry), 1);
	ck_assert(!bucket_take(&b, 10, 20, T0 + 50, &retry));
	ck_assert_int_eq(drain(&b, 10, 20, T0 + 200, &retry), 1);

	/* A full bucket that sees time go back stays as it was. */
	bucket_init(&b, 5, T0);
	ck_assert_int_eq(drain(&b, 10, 5, T0 - 100000, &retry), 5);
	ck_assert_int_eq(drain(&b, 10, 5, T0, &retry), 0);
	ck_assert_int_eq(drain(&b, 10, 5, T0 + 100, &retry), 1);
}
END_TEST

START_TEST(test_high_rates)
{
	struct bucket	b;
	int64_t		retry;
	int		i;

	/* The largest configurable rate and burst. */
	bucket_init(&b, 1000000, T0);
	ck_assert_int_eq(drain(&b, 100000, 1000000, T0, &retry), 1000000);
	ck_assert_int_eq(retry, 1);
	/* 100 tokens a millisecond. */
	ck_assert_int_eq(drain(&b, 100000, 1000000, T0 + 1, &retry), 100);
	ck_assert_int_eq(retry, 1);
	ck_assert_int_eq(drain(&b, 100000, 1000000, T0 + 11, &retry), 1000);
	ck_assert_int_eq(drain(&b, 100000, 1000000, T0 + 100000, &retry),
	    1000000);

	/* Faster than a token a millisecond: retry_ms is never 0. */
	for (i = 1001; i <= 100000; i = i * 3 + 1) {
		bucket_init(&b, 1, T0);
		ck_assert_int_eq(drain(&b, i, 1, T0, &retry), 1);
		ck_assert_int_eq(retry, 1);
	}
}
END_TEST

/* A client that sends exactly at the rate is never refused. */
START_TEST(test_steady_rate)
{
	static const struct {
		int rate, period_ms;
	} cases[] = {
		{ 10, 100 }, { 3, 334 }, { 7, 143 }, { 1, 1000 }, { 1000, 1 },
		{ 30, 34 }, { 100000, 1 },
	};
	struct bucket	b;
	int64_t		retry, t;
	size_t		i;
	int		n;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bucket_init(&b, 2, T0);
		ck_assert_int_eq(drain(&b, cases[i].rate, 2, T0, &retry), 2);
		for (n = 1, t = T0; n <= 10000; n++) {
			t += cases[i].period_ms;
			ck_assert_msg(bucket_take(&b, cases[i].rate, 2, t, &retry),
			    "rate %d every %d ms: refused at message %d",
			    cases[i].rate, cases[i].period_ms, n);
		}
	}

	/* Just faster than the rate: refused sooner or later. */
	bucket_init(&b, 2, T0);
	ck_assert_int_eq(drain(&b, 3, 2, T0, &retry), 2);
	for (n = 1, t = T0; n <= 10000; n++) {
		t += 333;
		if (!bucket_take(&b, 3, 2, t, &retry))
			break;
	}
	ck_assert_int_le(n, 10000);
}
END_TEST

/* Builds the suite of ratelimit tests. */
static Suite *
ratelimit_suite(void)
{
	Suite	*s = suite_create("ratelimit");
	TCase	*tc;

	tc = tcase_create("bucket");
	tcase_add_test(tc, test_full_bucket);
	tcase_add_test(tc, test_retry_ms);
	tcase_add_test(tc, test_retry_partial);
	tcase_add_test(tc, test_refill);
	tcase_add_test(tc, test_retry_never_too_short);
	tcase_add_test(tc, test_never_above_burst);
	tcase_add_test(tc, test_time_backwards);
	tcase_add_test(tc, test_high_rates);
	tcase_add_test(tc, test_steady_rate);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(ratelimit_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
