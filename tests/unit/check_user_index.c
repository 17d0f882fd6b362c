/*
 * check_user_index.c: unit tests for user-index.c, a worker's index of
 * users to their clients here: one client stored as the pointer itself, a
 * list from the second on, and back.  The clients are plain structs: the
 * index only stores pointers.
 */
#include <stdint.h>
#include <stdlib.h>

#include <check.h>

#include "user-index.h"

struct client {
	int id;
};

/* Returns true if v (n pointers) holds c. */
static int
holds(struct client *const *v, uint32_t n, const struct client *c)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (v[i] == c)
			return 1;
	return 0;
}

START_TEST(test_one_then_many_then_none)
{
	struct user_index ui;
	struct client c[10];
	struct client *const *v;
	uint32_t n;
	int i;

	user_index_init(&ui);
	v = user_index_get(&ui, "alice", &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(user_index_add(&ui, "alice", &c[i]), 0);
		v = user_index_get(&ui, "alice", &n);
		ck_assert_uint_eq(n, (uint32_t)i + 1);
		ck_assert(holds(v, n, &c[i]));
		ck_assert(holds(v, n, &c[0]));
	}
	ck_assert_uint_eq(user_index_count(&ui), 1);
	/* Removing in another order keeps the rest; back to one, then none. */
	for (i = 9; i >= 1; i--)	/* c[7], c[4], c[1], ... c[3]: all but c[0] */
		user_index_remove(&ui, "alice", &c[(i * 3) % 10]);
	v = user_index_get(&ui, "alice", &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_eq(v[0], &c[0]);
	user_index_remove(&ui, "alice", v[0]);
	v = user_index_get(&ui, "alice", &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(user_index_count(&ui), 0);
	user_index_free(&ui);
}
END_TEST

START_TEST(test_users_apart)
{
	struct user_index ui;
	struct client a, b, b2;
	struct client *const *v;
	uint32_t n;

	user_index_init(&ui);
	ck_assert_int_eq(user_index_add(&ui, "a", &a), 0);
	ck_assert_int_eq(user_index_add(&ui, "b", &b), 0);
	ck_assert_int_eq(user_index_add(&ui, "b", &b2), 0);
	ck_assert_uint_eq(user_index_count(&ui), 2);
	v = user_index_get(&ui, "a", &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_eq(v[0], &a);
	/* Removing a client the user does not have changes nothing. */
	user_index_remove(&ui, "a", &b);
	user_index_remove(&ui, "nobody", &a);
	v = user_index_get(&ui, "a", &n);
	ck_assert_uint_eq(n, 1);
	user_index_remove(&ui, "b", &b);
	v = user_index_get(&ui, "b", &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_eq(v[0], &b2);
	/* The index is freed with lists still in it (valgrind checks). */
	ck_assert_int_eq(user_index_add(&ui, "b", &b), 0);
	user_index_free(&ui);
}
END_TEST

static Suite *
user_index_suite(void)
{
	Suite *s = suite_create("user_index");
	TCase *tc = tcase_create("index");

	tcase_add_test(tc, test_one_then_many_then_none);
	tcase_add_test(tc, test_users_apart);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(user_index_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
