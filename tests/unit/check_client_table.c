/*
 * check_client_table.c: unit tests for client-table.c, the worker's table
 * of clients by slot, and the session ids made of worker, slot and
 * generation.  Items are plain ints: the table only stores pointers.
 */
#include <stdint.h>
#include <stdlib.h>

#include <check.h>

#include "client-table.h"

START_TEST(test_add_get_remove)
{
	struct client_table t;
	int a = 1, b = 2;
	uint32_t sa, sb;
	uint64_t ia, ib;

	client_table_init(&t, 3);
	ck_assert_int_eq(client_table_add(&t, &a, &sa), 0);
	ck_assert_int_eq(client_table_add(&t, &b, &sb), 0);
	ck_assert_uint_ne(sa, sb);
	ck_assert_uint_eq(t.count, 2);
	ia = client_table_id(&t, sa);
	ib = client_table_id(&t, sb);
	ck_assert_uint_ne(ia, ib);
	ck_assert_uint_eq(client_id_worker(ia), 3);
	ck_assert_ptr_eq(client_table_get(&t, ia), &a);
	ck_assert_ptr_eq(client_table_get(&t, ib), &b);
	client_table_remove(&t, sa);
	ck_assert_uint_eq(t.count, 1);
	ck_assert_ptr_null(client_table_get(&t, ia));
	ck_assert_ptr_eq(client_table_get(&t, ib), &b);
	/* Removing twice changes nothing. */
	client_table_remove(&t, sa);
	ck_assert_uint_eq(t.count, 1);
	client_table_free(&t);
}
END_TEST

/* A slot is reused, but never with an id that was given before. */
START_TEST(test_ids_not_reused)
{
	struct client_table t;
	int item = 0;
	uint32_t slot, first;
	uint64_t ids[100];
	int i, j;

	client_table_init(&t, 0);
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(client_table_add(&t, &item, &slot), 0);
		if (i == 0)
			first = slot;
		ck_assert_uint_eq(slot, first);
		ids[i] = client_table_id(&t, slot);
		for (j = 0; j < i; j++)
			ck_assert_uint_ne(ids[i], ids[j]);
		ck_assert_ptr_eq(client_table_get(&t, ids[i]), &item);
		if (i > 0)
			ck_assert_ptr_null(client_table_get(&t, ids[i - 1]));
		client_table_remove(&t, slot);
	}
	client_table_free(&t);
}
END_TEST

/* Ids of another worker, or of slots never used, find nothing. */
START_TEST(test_foreign_and_bogus_ids)
{
	struct client_table t0, t1;
	int item = 0;
	uint32_t slot;
	uint64_t id;

	client_table_init(&t0, 0);
	client_table_init(&t1, 1);
	ck_assert_int_eq(client_table_add(&t0, &item, &slot), 0);
	ck_assert_int_eq(client_table_add(&t1, &item, &slot), 0);
	id = client_table_id(&t0, slot);
	ck_assert_ptr_null(client_table_get(&t1, id));
	ck_assert_ptr_null(client_table_get(&t0, id + 5));
	ck_assert_ptr_null(client_table_get(&t0, ~(uint64_t)0));
	ck_assert_ptr_null(client_table_get(&t0, 0));
	client_table_free(&t0);
	client_table_free(&t1);
}
END_TEST

/* The table grows past its first allocation and keeps every item. */
START_TEST(test_growth)
{
	struct client_table t;
	enum { N = CLIENT_TABLE_FIRST * 3 };
	static int items[N];
	static uint64_t ids[N];
	uint32_t slot;
	int i;

	client_table_init(&t, 1);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(client_table_add(&t, &items[i], &slot), 0);
		ids[i] = client_table_id(&t, slot);
	}
	ck_assert_uint_eq(t.count, N);
	ck_assert_uint_ge(t.cap, N);
	for (i = 0; i < N; i++)
		ck_assert_ptr_eq(client_table_get(&t, ids[i]), &items[i]);
	for (i = 0; i < N; i += 2)
		client_table_remove(&t, (uint32_t)(ids[i] &
		    ((1u << CLIENT_SLOT_BITS) - 1)));
	ck_assert_uint_eq(t.count, N / 2);
	for (i = 1; i < N; i += 2)
		ck_assert_ptr_eq(client_table_get(&t, ids[i]), &items[i]);
	client_table_free(&t);
}
END_TEST

static Suite *
client_table_suite(void)
{
	Suite *s = suite_create("client_table");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_add_get_remove);
	tcase_add_test(tc, test_ids_not_reused);
	tcase_add_test(tc, test_foreign_and_bogus_ids);
	tcase_add_test(tc, test_growth);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(client_table_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
