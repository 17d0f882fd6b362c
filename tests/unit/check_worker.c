/*
 * check_worker.c: what of worker.c runs without a thread or lws: the
 * owner of a name (by hash) and each worker's own random numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "workers.h"

static struct test_workers tw;

/* The dispatch hook: nothing is posted in these tests. */
static void
no_dispatch(struct worker *w, struct imsg *m)
{
	ck_abort_msg("unexpected message of type %u", (unsigned)m->type);
}

static void
setup(void)
{
	test_workers_init(&tw, no_dispatch);
}

static void
teardown(void)
{
	test_workers_free(&tw);
}

/* A name always has the same owner, and names spread over both workers. */
START_TEST(test_owner_stable_and_spread)
{
	char name[32];
	int i, count[2] = { 0, 0 }, o;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "guild:%d", i);
		o = worker_owner(&tw.w[0], name);
		ck_assert(o == 0 || o == 1);
		ck_assert_int_eq(worker_owner(&tw.w[1], name), o);
		count[o]++;
	}
	ck_assert_int_gt(count[0], 400);
	ck_assert_int_gt(count[1], 400);
	tw.relay.nworkers = 1;
	ck_assert_int_eq(worker_owner(&tw.w[0], "guild:1"), 0);
	tw.relay.nworkers = 2;
}
END_TEST

/*
 * Regression for rand() on worker threads: each worker draws from its own
 * state, so one worker's draws do not change another's sequence.
 */
START_TEST(test_random_per_worker)
{
	uint32_t a[64], b[64];
	uint64_t saved = tw.w[0].rng;
	int i, differ = 0;

	for (i = 0; i < 64; i++)
		a[i] = worker_random(&tw.w[0]);
	tw.w[0].rng = saved;
	for (i = 0; i < 64; i++) {
		(void)worker_random(&tw.w[1]);	/* the other worker draws too */
		b[i] = worker_random(&tw.w[0]);
	}
	for (i = 0; i < 64; i++) {
		ck_assert_uint_eq(a[i], b[i]);
		if (i > 0 && a[i] != a[i - 1])
			differ++;
	}
	ck_assert_int_gt(differ, 60);
}
END_TEST

static Suite *
worker_suite(void)
{
	Suite *s = suite_create("worker");
	TCase *tc = tcase_create("worker");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_owner_stable_and_spread);
	tcase_add_test(tc, test_random_per_worker);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(worker_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
