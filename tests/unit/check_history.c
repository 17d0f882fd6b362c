/*
 * check_history.c: unit tests for history.c, a channel's ring of recent
 * messages (pushed, expired, deleted by a moderator), and the references
 * it holds on their frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "frame.h"
#include "history.h"

#define NOW INT64_C(1700000000000)
#define NONE (-1)			/* since: none */

/* Returns a msg frame for seq with timestamp ts, with one reference. */
static struct frame *
msg(uint64_t seq, int64_t ts)
{
	char		 buf[64];
	int		 n;
	struct frame	*f;

	n = snprintf(buf, sizeof buf, "{\"op\":\"msg\",\"seq\":%llu}",
	    (unsigned long long)seq);
	f = frame_text(buf, (size_t)n);
	ck_assert_ptr_nonnull(f);
	f->seq = seq;
	f->ts = ts;
	return f;
}

static int
refs(const struct frame *f)
{
	return atomic_load(&f->refs);
}

/* Checks that h holds exactly the seqs in want (n of them), oldest first. */
static void
expect_seqs(const struct history *h, const uint64_t *want, int n, int line)
{
	int	i;

	ck_assert_msg(h->count == n, "line %d: count %d, want %d", line,
	    h->count, n);
	for (i = 0; i < n; i++)
		ck_assert_msg(history_at(h, i)->seq == want[i],
		    "line %d: entry %d is seq %llu, want %llu", line, i,
		    (unsigned long long)history_at(h, i)->seq,
		    (unsigned long long)want[i]);
}

#define EXPECT(h, ...) do {						\
	const uint64_t	w_[] = { __VA_ARGS__ };				\
	expect_seqs((h), w_, (int)(sizeof w_ / sizeof w_[0]), __LINE__);\
} while (0)

/* Checks that h holds the seqs lo..hi, oldest first. */
static void
expect_range(const struct history *h, uint64_t lo, uint64_t hi, int line)
{
	uint64_t	s;
	int		i = 0;

	ck_assert_msg(h->count == (int)(hi - lo + 1), "line %d: count %d, "
	    "want %d", line, h->count, (int)(hi - lo + 1));
	for (s = lo; s <= hi; s++, i++)
		ck_assert_msg(history_at(h, i)->seq == s, "line %d: entry %d "
		    "is seq %llu, want %llu", line, i,
		    (unsigned long long)history_at(h, i)->seq,
		    (unsigned long long)s);
}

/* Pushes msg(lo..hi) into h, keeping our reference to each in fs[seq]. */
static void
push_range(struct history *h, struct frame **fs, uint64_t lo, uint64_t hi)
{
	uint64_t	s;

	for (s = lo; s <= hi; s++) {
		fs[s] = msg(s, NOW + (int64_t)s * 1000);
		ck_assert_int_eq(history_push(h, fs[s]), 0);
	}
}

/* Pushes msg(lo..hi) into h, which then holds the only reference. */
static void
push_owned(struct history *h, uint64_t lo, uint64_t hi)
{
	uint64_t	 s;
	struct frame	*f;

	for (s = lo; s <= hi; s++) {
		f = msg(s, NOW + (int64_t)s * 1000);
		ck_assert_int_eq(history_push(h, f), 0);
		frame_unref(f);
	}
}

START_TEST(test_push_below_cap)
{
	struct history	 h;
	struct frame	*fs[8];
	int		 i;

	history_init(&h, 5);
	ck_assert_int_eq(h.count, 0);
	push_range(&h, fs, 1, 3);
	expect_range(&h, 1, 3, __LINE__);
	for (i = 1; i <= 3; i++) {
		ck_assert_int_eq(refs(fs[i]), 2);
		ck_assert_ptr_eq(history_at(&h, i - 1), fs[i]);
	}
	/* The payload is the frame's, untouched. */
	ck_assert(memcmp(frame_payload(history_at(&h, 0)),
	    "{\"op\":\"msg\",\"seq\":1}", frame_payload_len(fs[1])) == 0);

	/* Exactly full. */
	push_range(&h, fs, 4, 5);
	expect_range(&h, 1, 5, __LINE__);

	history_free(&h);
	ck_assert_int_eq(h.count, 0);
	for (i = 1; i <= 5; i++) {
		ck_assert_int_eq(refs(fs[i]), 1);
		frame_unref(fs[i]);
	}
}
END_TEST

START_TEST(test_push_over_cap)
{
	struct history	 h;
	struct frame	*fs[40];
	uint64_t	 s;

	history_init(&h, 5);
	push_range(&h, fs, 1, 12);
	expect_range(&h, 8, 12, __LINE__);
	/* The evicted frames lost exactly the history's reference. */
	for (s = 1; s <= 7; s++)
		ck_assert_msg(refs(fs[s]) == 1, "seq %llu: refs %d",
		    (unsigned long long)s, refs(fs[s]));
	for (s = 8; s <= 12; s++)
		ck_assert_int_eq(refs(fs[s]), 2);

	/* Round and round the ring. */
	push_range(&h, fs, 13, 33);
	expect_range(&h, 29, 33, __LINE__);
	for (s = 1; s <= 28; s++)
		ck_assert_int_eq(refs(fs[s]), 1);

	history_free(&h);
	for (s = 1; s <= 33; s++) {
		ck_assert_int_eq(refs(fs[s]), 1);
		frame_unref(fs[s]);
	}
}
END_TEST

/*
 * Frames whose only reference is the history's are freed exactly once:
 * when evicted, expired or at history_free (valgrind checks).
 */
START_TEST(test_owned_frames)
{
	struct history	h;

	history_init(&h, 4);
	push_owned(&h, 1, 100);
	expect_range(&h, 97, 100, __LINE__);
	history_expire(&h, NOW + 98 * 1000, 0);
	EXPECT(&h, 99, 100);
	history_free(&h);

	/* A history can be used again after history_free. */
	push_owned(&h, 101, 110);
	expect_range(&h, 107, 110, __LINE__);
	history_free(&h);
	history_free(&h);
}
END_TEST

START_TEST(test_cap_zero)
{
	struct history	 h;
	struct frame	*f = msg(1, NOW);
	int		 first = -1;
	bool		 complete = false;

	history_init(&h, 0);
	ck_assert_int_eq(history_push(&h, f), 0);
	ck_assert_int_eq(h.count, 0);
	ck_assert_int_eq(refs(f), 1);	/* no reference kept */
	ck_assert_int_eq(history_select(&h, NONE, 50, 50, 1, &first,
	    &complete), 0);
	ck_assert_int_eq(history_select(&h, 0, 50, 50, 1, &first, &complete),
	    0);
	ck_assert(!complete);
	ck_assert_int_eq(history_select(&h, 1, 50, 50, 1, &first, &complete),
	    0);
	ck_assert(complete);
	history_expire(&h, NOW, 1000);
	history_free(&h);
	ck_assert_int_eq(refs(f), 1);
	frame_unref(f);

	/* A negative capacity is zero. */
	history_init(&h, -3);
	ck_assert_int_eq(h.cap, 0);
	push_owned(&h, 1, 3);
	ck_assert_int_eq(h.count, 0);
	history_free(&h);
}
END_TEST

START_TEST(test_expire)
{
	struct history	 h;
	struct frame	*fs[16];
	uint64_t	 s;

	/* msg(s) has ts NOW + s * 1000. */
	history_init(&h, 10);
	push_range(&h, fs, 1, 5);

	history_expire(&h, NOW + 10000, 20000);		/* nothing is old */
	expect_range(&h, 1, 5, __LINE__);
	history_expire(&h, NOW + 4000, 1500);		/* ts <= 2500 */
	expect_range(&h, 3, 5, __LINE__);
	ck_assert_int_eq(refs(fs[1]), 1);
	ck_assert_int_eq(refs(fs[2]), 1);
	ck_assert_int_eq(refs(fs[3]), 2);
	/* ts exactly now - ttl is dropped too. */
	history_expire(&h, NOW + 4500, 1500);		/* ts <= 3000 */
	expect_range(&h, 4, 5, __LINE__);
	ck_assert_int_eq(refs(fs[3]), 1);
	/* Everything. */
	history_expire(&h, NOW + 100000, 1);
	ck_assert_int_eq(h.count, 0);
	ck_assert_int_eq(refs(fs[4]), 1);
	ck_assert_int_eq(refs(fs[5]), 1);
	/* And on an empty history. */
	history_expire(&h, NOW + 100000, 1);
	ck_assert_int_eq(h.count, 0);

	/* Pushing works again afterwards, also across the ring's end. */
	push_range(&h, fs, 6, 15);
	expect_range(&h, 6, 15, __LINE__);
	history_expire(&h, NOW + 8000, 0);		/* ts <= 8000 */
	expect_range(&h, 9, 15, __LINE__);
	push_owned(&h, 16, 18);
	expect_range(&h, 9, 18, __LINE__);
	history_expire(&h, NOW + 12000, 0);
	expect_range(&h, 13, 18, __LINE__);

	history_free(&h);
	for (s = 1; s <= 15; s++) {
		ck_assert_int_eq(refs(fs[s]), 1);
		frame_unref(fs[s]);
	}
}
END_TEST

/* ---- history_select. ---- */

/* A history of cap 10 that has seen seqs 1..15: it keeps 6..15. */
static void
fill_6_15(struct history *h)
{
	history_init(h, 10);
	push_owned(h, 1, 15);
	expect_range(h, 6, 15, __LINE__);
}

/* Checks that select(since, last, max) gives seqs lo..hi and complete. */
static void
expect_select(const struct history *h, int64_t since, int last, int max,
    uint64_t last_seq, uint64_t lo, uint64_t hi, int want_complete, int line)
{
	int	 first = -1, n, i, want_n = hi >= lo ? (int)(hi - lo + 1) : 0;
	bool	 complete = !want_complete;

	n = history_select(h, since, last, max, last_seq, &first, &complete);
	ck_assert_msg(n == want_n, "line %d: %d entries, want %d", line, n,
	    want_n);
	if (want_complete >= 0)
		ck_assert_msg(complete == (want_complete != 0),
		    "line %d: complete %d, want %d", line, complete,
		    want_complete);
	if (n > 0)
		ck_assert_msg(first >= 0 && first + n <= h->count,
		    "line %d: first %d", line, first);
	for (i = 0; i < n; i++)
		ck_assert_msg(history_at(h, first + i)->seq == lo + (uint64_t)i,
		    "line %d: entry %d is seq %llu, want %llu", line, i,
		    (unsigned long long)history_at(h, first + i)->seq,
		    (unsigned long long)(lo + (uint64_t)i));
	/* complete may be NULL, and the answer is the same. */
	ck_assert_int_eq(history_select(h, since, last, max, last_seq, &first,
	    NULL), n);
}

/* SELECT(h, since, last, max, last_seq, lo, hi, complete); -1: any complete. */
#define SELECT(...) expect_select(__VA_ARGS__, __LINE__)
#define EMPTY 1, 0			/* lo > hi: no entries */

START_TEST(test_select_since)
{
	struct history	h;

	fill_6_15(&h);
	/* Every message after since is kept. */
	SELECT(&h, 10, 0, 100, 15, 11, 15, 1);
	SELECT(&h, 14, 0, 100, 15, 15, 15, 1);
	SELECT(&h, 5, 0, 100, 15, 6, 15, 1);	/* oldest kept is since + 1 */
	/* Up to date: nothing to send, and nothing missed. */
	SELECT(&h, 15, 0, 100, 15, EMPTY, 1);
	/* Some are gone: what is kept, and complete false. */
	SELECT(&h, 4, 0, 100, 15, 6, 15, 0);
	SELECT(&h, 0, 0, 100, 15, 6, 15, 0);
	/* since beyond the channel's last seq: nothing, and not complete. */
	SELECT(&h, 16, 0, 100, 15, EMPTY, 0);
	SELECT(&h, 1000000, 0, 100, 15, EMPTY, 0);
	/* last is ignored with since. */
	SELECT(&h, 10, 2, 100, 15, 11, 15, 1);
	/*
	 * The channel has moved on beyond what this history holds (seqs 16
	 * and 17 are not here): not complete.
	 */
	SELECT(&h, 10, 0, 100, 17, 11, 15, -1);
	SELECT(&h, 15, 0, 100, 17, EMPTY, 0);
	history_free(&h);
}
END_TEST

START_TEST(test_select_since_max)
{
	struct history	h;

	fill_6_15(&h);
	/* More than max after since: the oldest max, and not complete. */
	SELECT(&h, 5, 0, 3, 15, 6, 8, 0);
	SELECT(&h, 10, 0, 2, 15, 11, 12, 0);
	SELECT(&h, 0, 0, 4, 15, 6, 9, 0);
	SELECT(&h, 14, 0, 1, 15, 15, 15, 1);
	/* Exactly max: all of them, still complete. */
	SELECT(&h, 12, 0, 3, 15, 13, 15, 1);
	SELECT(&h, 5, 0, 10, 15, 6, 15, 1);
	/* One short. */
	SELECT(&h, 5, 0, 9, 15, 6, 14, 0);
	history_free(&h);
}
END_TEST

START_TEST(test_select_last)
{
	struct history	h;

	fill_6_15(&h);
	SELECT(&h, NONE, 3, 100, 15, 13, 15, 1);
	SELECT(&h, NONE, 1, 100, 15, 15, 15, 1);
	SELECT(&h, NONE, 10, 100, 15, 6, 15, 1);
	SELECT(&h, NONE, 50, 100, 15, 6, 15, 1);
	SELECT(&h, NONE, 0, 100, 15, EMPTY, 1);
	/* max caps last, keeping the newest. */
	SELECT(&h, NONE, 8, 4, 15, 12, 15, 1);
	SELECT(&h, NONE, 100, 2, 15, 14, 15, 1);
	SELECT(&h, NONE, 5, 0, 15, EMPTY, 1);
	history_free(&h);

	/* An empty history. */
	history_init(&h, 10);
	SELECT(&h, NONE, 50, 100, 0, EMPTY, 1);
	SELECT(&h, 0, 50, 100, 0, EMPTY, 1);
	SELECT(&h, 3, 50, 100, 10, EMPTY, 0);
	SELECT(&h, 10, 50, 100, 10, EMPTY, 1);
	history_free(&h);
}
END_TEST

/* Random pushes and expiries, checked against a plain array. */
START_TEST(test_random_model)
{
	enum { CAP = 7, N = 3000 };
	static struct frame *fs[N + 1];
	uint64_t	model[N], next = 1;
	int		mn = 0, i, j, op, cap;
	unsigned	seed = 777;
	int64_t		now;

	for (cap = 1; cap <= CAP; cap += 3) {
		struct history	h;

		history_init(&h, cap);
		mn = 0;
		next = 1;
		for (i = 0; i < N; i++) {
			seed = seed * 1103515245u + 12345u;
			op = (int)((seed >> 16) % 10);
			if (op < 8 && next <= N) {
				fs[next] = msg(next, (int64_t)next * 10);
				ck_assert_int_eq(history_push(&h, fs[next]), 0);
				frame_unref(fs[next]);
				if (mn == cap) {
					memmove(model, model + 1,
					    (size_t)(mn - 1) * sizeof *model);
					mn--;
				}
				model[mn++] = next++;
			} else if (op >= 8 && mn > 0) {
				/* Expire the oldest one or two. */
				now = (int64_t)model[mn > 1 ? 1 : 0] * 10;
				history_expire(&h, now, 0);
				while (mn > 0 && (int64_t)model[0] * 10 <= now) {
					memmove(model, model + 1,
					    (size_t)(mn - 1) * sizeof *model);
					mn--;
				}
			}
			expect_seqs(&h, model, mn, __LINE__);
			for (j = 0; j < mn; j++)
				ck_assert_int_eq(refs(history_at(&h, j)), 1);
		}
		history_free(&h);
	}
}
END_TEST

/* A deleted message leaves the ring; the others keep their order. */
START_TEST(test_remove)
{
	struct history	 h;
	struct frame	*fs[16];
	uint64_t	 s;

	history_init(&h, 6);
	ck_assert_int_eq(history_remove(&h, 1), -1);	/* empty, no ring */
	push_range(&h, fs, 1, 5);
	/* The middle. */
	ck_assert_int_eq(history_remove(&h, 3), 0);
	EXPECT(&h, 1, 2, 4, 5);
	ck_assert_int_eq(refs(fs[3]), 1);	/* the ring's reference went */
	/* Absent: gone already, never there, or past the last. */
	ck_assert_int_eq(history_remove(&h, 3), -1);
	ck_assert_int_eq(history_remove(&h, 0), -1);
	ck_assert_int_eq(history_remove(&h, 9), -1);
	EXPECT(&h, 1, 2, 4, 5);
	/* The first, then the last. */
	ck_assert_int_eq(history_remove(&h, 1), 0);
	EXPECT(&h, 2, 4, 5);
	ck_assert_int_eq(history_remove(&h, 5), 0);
	EXPECT(&h, 2, 4);
	/* What comes next goes after them, and the ring fills up to cap. */
	push_range(&h, fs, 6, 9);
	EXPECT(&h, 2, 4, 6, 7, 8, 9);
	push_range(&h, fs, 10, 10);
	EXPECT(&h, 4, 6, 7, 8, 9, 10);
	ck_assert_int_eq(refs(fs[2]), 1);
	/* Down to nothing, and used again. */
	for (s = 4; s <= 10; s++)
		if (s != 5)
			ck_assert_int_eq(history_remove(&h, s), 0);
	ck_assert_int_eq(h.count, 0);
	push_range(&h, fs, 11, 12);
	EXPECT(&h, 11, 12);
	history_free(&h);
	for (s = 1; s <= 12; s++) {
		ck_assert_int_eq(refs(fs[s]), 1);
		frame_unref(fs[s]);
	}
}
END_TEST

/* In a ring that has wrapped around (head past 0), from either side of the seam. */
START_TEST(test_remove_wrapped)
{
	struct history	 h;
	struct frame	*fs[16];
	uint64_t	 s;

	history_init(&h, 5);
	push_range(&h, fs, 1, 8);	/* 4..8, head at 3 */
	EXPECT(&h, 4, 5, 6, 7, 8);
	ck_assert_int_gt(h.head, 0);
	/* 5 is before the seam, 7 after it. */
	ck_assert_int_eq(history_remove(&h, 7), 0);
	EXPECT(&h, 4, 5, 6, 8);
	ck_assert_int_eq(history_remove(&h, 5), 0);
	EXPECT(&h, 4, 6, 8);
	push_range(&h, fs, 9, 10);
	EXPECT(&h, 4, 6, 8, 9, 10);
	/* Full and wrapped: the oldest is dropped by the next push, as ever. */
	push_range(&h, fs, 11, 11);
	EXPECT(&h, 6, 8, 9, 10, 11);
	ck_assert_int_eq(history_remove(&h, 11), 0);	/* the newest */
	ck_assert_int_eq(history_remove(&h, 6), 0);	/* the oldest */
	EXPECT(&h, 8, 9, 10);
	/* history_select still sees seq order. */
	{
		int	first = -1;
		bool	complete;

		ck_assert_int_eq(history_select(&h, 8, 0, 10, 10, &first,
		    &complete), 2);
		ck_assert_int_eq(first, 1);
		ck_assert(complete);
	}
	history_free(&h);
	for (s = 1; s <= 11; s++) {
		ck_assert_int_eq(refs(fs[s]), 1);
		frame_unref(fs[s]);
	}
}
END_TEST

/* Random pushes, expiries and deletes, checked against a plain array. */
START_TEST(test_remove_random_model)
{
	enum { N = 4000 };
	uint64_t	model[8], next = 1, seq;
	int		mn, i, j, k, op, cap;
	unsigned	seed = 4242;
	struct frame	*f;

	for (cap = 1; cap <= 8; cap++) {
		struct history	h;

		history_init(&h, cap);
		mn = 0;
		next = 1;
		for (i = 0; i < N; i++) {
			seed = seed * 1103515245u + 12345u;
			op = (int)((seed >> 16) % 10);
			if (op < 6) {
				f = msg(next, (int64_t)next * 10);
				ck_assert_int_eq(history_push(&h, f), 0);
				frame_unref(f);
				if (mn == cap) {
					memmove(model, model + 1,
					    (size_t)(mn - 1) * sizeof *model);
					mn--;
				}
				model[mn++] = next++;
			} else if (op < 9) {
				/* Any seq up to next: kept, or not. */
				seq = (seed >> 8) % (next + 1);
				for (k = 0; k < mn && model[k] != seq; k++)
					;
				ck_assert_int_eq(history_remove(&h, seq),
				    k < mn ? 0 : -1);
				if (k < mn) {
					memmove(model + k, model + k + 1,
					    (size_t)(mn - k - 1) *
					    sizeof *model);
					mn--;
				}
			} else if (mn > 0) {
				history_expire(&h, (int64_t)model[0] * 10, 0);
				memmove(model, model + 1,
				    (size_t)(mn - 1) * sizeof *model);
				mn--;
			}
			expect_seqs(&h, model, mn, __LINE__);
			for (j = 0; j < mn; j++)
				ck_assert_int_eq(refs(history_at(&h, j)), 1);
		}
		history_free(&h);
	}
}
END_TEST

/* Builds the suite of history tests. */
static Suite *
history_suite(void)
{
	Suite	*s = suite_create("history");
	TCase	*tc;

	tc = tcase_create("ring");
	tcase_add_test(tc, test_push_below_cap);
	tcase_add_test(tc, test_push_over_cap);
	tcase_add_test(tc, test_owned_frames);
	tcase_add_test(tc, test_cap_zero);
	tcase_add_test(tc, test_expire);
	tcase_add_test(tc, test_random_model);
	suite_add_tcase(s, tc);

	tc = tcase_create("remove");
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_remove_wrapped);
	tcase_add_test(tc, test_remove_random_model);
	suite_add_tcase(s, tc);

	tc = tcase_create("select");
	tcase_add_test(tc, test_select_since);
	tcase_add_test(tc, test_select_since_max);
	tcase_add_test(tc, test_select_last);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(history_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
