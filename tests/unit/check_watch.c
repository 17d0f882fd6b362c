/*
 * check_watch.c: one worker's watches (watch.c): adding, the limit per
 * connection, removing, who is called for a channel's message (each
 * watcher once), the patterns in their order; and the patterns
 * themselves (proto.c's proto_pattern_valid and proto_pattern_match).
 * Linked with failalloc.c (ld --wrap) to run out of memory on demand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "failalloc.h"
#include "proto.h"
#include "watch.h"

static struct watch_table t;
/* Three watching connections: only their addresses matter. */
static int a, b, c;

static void
setup(void)
{
	watch_table_init(&t);
}

static void
teardown(void)
{
	failalloc_reset();
	watch_table_free(&t);
}

/* What watch_each called: how often for each owner, and in which order. */
struct calls {
	int a, b, c, other;
	void *order[8];
	int n;
};

static void
on_owner(void *owner, void *arg)
{
	struct calls *k = arg;

	if (owner == &a)
		k->a++;
	else if (owner == &b)
		k->b++;
	else if (owner == &c)
		k->c++;
	else
		k->other++;
	if (k->n < 8)
		k->order[k->n] = owner;
	k->n++;
}

/* Calls watch_each for ch and returns what it did. */
static struct calls
each(const char *ch)
{
	struct calls k;

	memset(&k, 0, sizeof k);
	watch_each(&t, ch, on_owner, &k);
	return k;
}

/* The patterns of owner, joined with spaces. */
struct joined {
	char s[1024];
};

static void
on_pattern(const char *pattern, void *arg)
{
	struct joined *j = arg;
	size_t n = strlen(j->s);

	snprintf(j->s + n, sizeof j->s - n, "%s%s", n ? " " : "", pattern);
}

static const char *
patterns(const void *owner)
{
	static struct joined j;

	j.s[0] = '\0';
	watch_each_pattern(&t, owner, on_pattern, &j);
	return j.s;
}

START_TEST(test_add_and_duplicates)
{
	ck_assert_int_eq(watch_add(&t, &a, "lobby"), 1);
	ck_assert_int_eq(watch_add(&t, &a, "lobby"), 0);
	ck_assert_int_eq(watch_add(&t, &a, "party:*"), 1);
	ck_assert_int_eq(watch_add(&t, &b, "lobby"), 1);	/* another owner's */
	ck_assert_uint_eq(t.n, 3);
	ck_assert_uint_eq(t.owners, 2);
	ck_assert_int_eq(watch_count(&t, &a), 2);
	ck_assert_int_eq(watch_count(&t, &b), 1);
	ck_assert_int_eq(watch_count(&t, &c), 0);
	ck_assert_str_eq(patterns(&a), "lobby party:*");
	ck_assert_str_eq(patterns(&b), "lobby");
	ck_assert_str_eq(patterns(&c), "");
}
END_TEST

/* WATCH_PER_OWNER_MAX patterns per owner; the next is refused with -2. */
START_TEST(test_limit_per_owner)
{
	char p[32];
	int i;

	ck_assert_int_eq(WATCH_PER_OWNER_MAX, 32);
	for (i = 0; i < WATCH_PER_OWNER_MAX; i++) {
		snprintf(p, sizeof p, "c%d", i);
		ck_assert_int_eq(watch_add(&t, &a, p), 1);
	}
	ck_assert_int_eq(watch_add(&t, &a, "c32"), -2);
	ck_assert_int_eq(watch_add(&t, &a, "*"), -2);
	/* One already watched is still "already", not "too many". */
	ck_assert_int_eq(watch_add(&t, &a, "c0"), 0);
	ck_assert_int_eq(watch_count(&t, &a), WATCH_PER_OWNER_MAX);
	/* The limit is per owner. */
	ck_assert_int_eq(watch_add(&t, &b, "c32"), 1);
	ck_assert_uint_eq(t.owners, 2);
	/* Room again after a remove. */
	ck_assert_int_eq(watch_remove(&t, &a, "c5"), 0);
	ck_assert_int_eq(watch_add(&t, &a, "c32"), 1);
	ck_assert_int_eq(watch_add(&t, &a, "c33"), -2);
}
END_TEST

START_TEST(test_add_refused)
{
	char p[PROTO_PATTERN_MAX + 2];
	int rc;

	/* Longer than a pattern can be. */
	memset(p, 'x', PROTO_PATTERN_MAX + 1);
	p[PROTO_PATTERN_MAX + 1] = '\0';
	ck_assert_int_eq(watch_add(&t, &a, p), -1);
	p[PROTO_PATTERN_MAX] = '\0';
	ck_assert_int_eq(watch_add(&t, &a, p), 1);
	ck_assert_str_eq(patterns(&a), p);
	/* Out of memory: nothing added, nothing counted. */
	ck_assert_int_eq(watch_remove_owner(&t, &a), 1);
	watch_table_free(&t);
	failalloc_realloc_left = 0;
	rc = watch_add(&t, &a, "lobby");
	failalloc_reset();	/* before Check's asserts, which allocate */
	ck_assert_int_eq(rc, -1);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_uint_eq(t.owners, 0);
	ck_assert_int_eq(watch_add(&t, &a, "lobby"), 1);
	ck_assert_uint_eq(t.owners, 1);
}
END_TEST

START_TEST(test_remove)
{
	ck_assert_int_eq(watch_add(&t, &a, "x"), 1);
	ck_assert_int_eq(watch_add(&t, &a, "y"), 1);
	ck_assert_int_eq(watch_add(&t, &b, "x"), 1);
	ck_assert_int_eq(watch_remove(&t, &a, "z"), -1);
	ck_assert_int_eq(watch_remove(&t, &c, "x"), -1);
	ck_assert_int_eq(watch_remove(&t, &a, "x"), 0);
	ck_assert_int_eq(watch_remove(&t, &a, "x"), -1);
	ck_assert_uint_eq(t.owners, 2);		/* a still has y */
	ck_assert_str_eq(patterns(&b), "x");	/* b's x stays */
	ck_assert(watch_has_pattern(&t, "x"));
	ck_assert_int_eq(watch_remove(&t, &a, "y"), 0);
	ck_assert_uint_eq(t.owners, 1);
	ck_assert_int_eq(watch_count(&t, &a), 0);
	ck_assert(!watch_has_pattern(&t, "y"));
	ck_assert_int_eq(watch_remove(&t, &b, "x"), 0);
	ck_assert_uint_eq(t.owners, 0);
	ck_assert_uint_eq(t.n, 0);
	ck_assert(!watch_has_pattern(&t, "x"));
}
END_TEST

START_TEST(test_remove_owner)
{
	ck_assert_int_eq(watch_add(&t, &b, "b1"), 1);
	ck_assert_int_eq(watch_add(&t, &a, "a1"), 1);
	ck_assert_int_eq(watch_add(&t, &b, "b2"), 1);
	ck_assert_int_eq(watch_add(&t, &a, "a2"), 1);
	ck_assert_int_eq(watch_add(&t, &c, "c1"), 1);
	ck_assert_int_eq(watch_add(&t, &a, "a3"), 1);
	ck_assert_int_eq(watch_add(&t, &b, "b3"), 1);
	ck_assert_uint_eq(t.owners, 3);
	ck_assert_int_eq(watch_remove_owner(&t, &a), 3);
	ck_assert_int_eq(watch_remove_owner(&t, &a), 0);
	ck_assert_uint_eq(t.owners, 2);
	ck_assert_uint_eq(t.n, 4);
	ck_assert_str_eq(patterns(&a), "");
	ck_assert_str_eq(patterns(&b), "b1 b2 b3");
	ck_assert_str_eq(patterns(&c), "c1");
	ck_assert(!watch_has_pattern(&t, "a1"));
	ck_assert(watch_has_pattern(&t, "b3"));
	ck_assert_int_eq(watch_remove_owner(&t, &b), 3);
	ck_assert_int_eq(watch_remove_owner(&t, &c), 1);
	ck_assert_uint_eq(t.owners, 0);
	ck_assert_uint_eq(t.n, 0);
}
END_TEST

/* Each owner with a matching pattern is called once, however many match. */
START_TEST(test_each_once_per_owner)
{
	struct calls k;

	ck_assert_int_eq(watch_add(&t, &a, "lobby"), 1);
	ck_assert_int_eq(watch_add(&t, &a, "lob*"), 1);
	ck_assert_int_eq(watch_add(&t, &a, "*"), 1);
	ck_assert_int_eq(watch_add(&t, &b, "party:*"), 1);
	ck_assert_int_eq(watch_add(&t, &c, "party:*"), 1);
	ck_assert_int_eq(watch_add(&t, &c, "lobby"), 1);
	k = each("lobby");
	ck_assert_int_eq(k.a, 1);
	ck_assert_int_eq(k.b, 0);
	ck_assert_int_eq(k.c, 1);
	ck_assert_int_eq(k.other, 0);
	ck_assert_int_eq(k.n, 2);
	k = each("party:7");
	ck_assert_int_eq(k.a, 1);
	ck_assert_int_eq(k.b, 1);
	ck_assert_int_eq(k.c, 1);
	ck_assert_int_eq(k.n, 3);
	k = each("lobby2");		/* lob* and *, not lobby */
	ck_assert_int_eq(k.a, 1);
	ck_assert_int_eq(k.c, 0);
	ck_assert_int_eq(k.n, 1);
	k = each("party");		/* not party:* */
	ck_assert_int_eq(k.a, 1);
	ck_assert_int_eq(k.n, 1);
	/* ch NULL (a moderation event): every owner once. */
	k = each(NULL);
	ck_assert_int_eq(k.a, 1);
	ck_assert_int_eq(k.b, 1);
	ck_assert_int_eq(k.c, 1);
	ck_assert_int_eq(k.n, 3);
	/* The first matching pattern of an owner decides its place. */
	ck_assert_ptr_eq(k.order[0], &a);
	ck_assert_ptr_eq(k.order[1], &b);
	ck_assert_ptr_eq(k.order[2], &c);
	/* Without the catch-all, a sees nothing of other channels. */
	ck_assert_int_eq(watch_remove(&t, &a, "*"), 0);
	k = each("party:7");
	ck_assert_int_eq(k.a, 0);
	ck_assert_int_eq(k.n, 2);
	k = each("elsewhere");
	ck_assert_int_eq(k.n, 0);
	/* An empty table calls nobody. */
	watch_table_free(&t);
	k = each(NULL);
	ck_assert_int_eq(k.n, 0);
}
END_TEST

START_TEST(test_has_pattern)
{
	ck_assert(!watch_has_pattern(&t, "party:*"));
	ck_assert_int_eq(watch_add(&t, &a, "party:*"), 1);
	ck_assert_int_eq(watch_add(&t, &b, "party:*"), 1);
	ck_assert(watch_has_pattern(&t, "party:*"));
	/* Exactly the pattern, not a channel it matches. */
	ck_assert(!watch_has_pattern(&t, "party:1"));
	ck_assert(!watch_has_pattern(&t, "party:"));
	ck_assert(!watch_has_pattern(&t, "*"));
	/* Still there while another owner has it. */
	ck_assert_int_eq(watch_remove(&t, &a, "party:*"), 0);
	ck_assert(watch_has_pattern(&t, "party:*"));
	ck_assert_int_eq(watch_remove_owner(&t, &b), 1);
	ck_assert(!watch_has_pattern(&t, "party:*"));
}
END_TEST

/* In the order added, a removed one leaving the others' order alone. */
START_TEST(test_each_pattern_order)
{
	ck_assert_int_eq(watch_add(&t, &a, "c"), 1);
	ck_assert_int_eq(watch_add(&t, &b, "z"), 1);
	ck_assert_int_eq(watch_add(&t, &a, "a"), 1);
	ck_assert_int_eq(watch_add(&t, &a, "b*"), 1);
	ck_assert_int_eq(watch_add(&t, &a, "*"), 1);
	ck_assert_str_eq(patterns(&a), "c a b* *");
	ck_assert_int_eq(watch_remove(&t, &a, "a"), 0);
	ck_assert_str_eq(patterns(&a), "c b* *");
	ck_assert_int_eq(watch_add(&t, &a, "a"), 1);
	ck_assert_str_eq(patterns(&a), "c b* * a");
	ck_assert_int_eq(watch_remove(&t, &a, "c"), 0);
	ck_assert_str_eq(patterns(&a), "b* * a");
	ck_assert_str_eq(patterns(&b), "z");
}
END_TEST

/* ---------------------------------------------------------- patterns */

START_TEST(test_pattern_valid)
{
	char s[CHAN_NAME_MAX + 3];

	ck_assert(proto_pattern_valid("*"));
	ck_assert(proto_pattern_valid("party:*"));
	ck_assert(proto_pattern_valid("p*"));
	ck_assert(proto_pattern_valid("lobby"));
	ck_assert(proto_pattern_valid("guild:42"));
	ck_assert(proto_pattern_valid("a.b-c_d:E9"));
	ck_assert(!proto_pattern_valid(""));
	ck_assert(!proto_pattern_valid("**"));
	ck_assert(!proto_pattern_valid("a*b"));
	ck_assert(!proto_pattern_valid("*a"));
	ck_assert(!proto_pattern_valid("a**"));
	ck_assert(!proto_pattern_valid("a b*"));
	ck_assert(!proto_pattern_valid("a b"));
	ck_assert(!proto_pattern_valid("caf\xc3\xa9"));
	ck_assert(!proto_pattern_valid("x?"));
	/* A name of CHAN_NAME_MAX, or a prefix of that many and '*'. */
	memset(s, 'n', CHAN_NAME_MAX);
	s[CHAN_NAME_MAX] = '\0';
	ck_assert(proto_pattern_valid(s));
	s[CHAN_NAME_MAX] = '*';
	s[CHAN_NAME_MAX + 1] = '\0';
	ck_assert(proto_pattern_valid(s));
	ck_assert_uint_eq(strlen(s), PROTO_PATTERN_MAX);
	/* One more: a name of 65, or a prefix of 65 and '*'. */
	s[CHAN_NAME_MAX] = 'n';
	ck_assert(!proto_pattern_valid(s));
	s[CHAN_NAME_MAX + 1] = '*';
	s[CHAN_NAME_MAX + 2] = '\0';
	ck_assert(!proto_pattern_valid(s));
}
END_TEST

START_TEST(test_pattern_match)
{
	ck_assert(proto_pattern_match("*", "lobby"));
	ck_assert(proto_pattern_match("*", "party:1"));
	ck_assert(proto_pattern_match("party:*", "party:1"));
	ck_assert(proto_pattern_match("party:*", "party:"));
	ck_assert(proto_pattern_match("party:*", "party:long:name"));
	ck_assert(!proto_pattern_match("party:*", "party"));
	ck_assert(!proto_pattern_match("party:*", "xparty:1"));
	ck_assert(!proto_pattern_match("party:*", "Party:1"));
	ck_assert(proto_pattern_match("lobby", "lobby"));
	ck_assert(!proto_pattern_match("lobby", "lobby2"));
	ck_assert(!proto_pattern_match("lobby", "lobb"));
	ck_assert(!proto_pattern_match("lobby", "Lobby"));
	ck_assert(proto_pattern_match("l*", "l"));
	ck_assert(!proto_pattern_match("l*", "k"));
}
END_TEST

static Suite *
watch_suite(void)
{
	Suite *s = suite_create("watch");
	TCase *tc = tcase_create("table");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_add_and_duplicates);
	tcase_add_test(tc, test_limit_per_owner);
	tcase_add_test(tc, test_add_refused);
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_remove_owner);
	tcase_add_test(tc, test_each_once_per_owner);
	tcase_add_test(tc, test_has_pattern);
	tcase_add_test(tc, test_each_pattern_order);
	suite_add_tcase(s, tc);
	tc = tcase_create("patterns");
	tcase_add_test(tc, test_pattern_valid);
	tcase_add_test(tc, test_pattern_match);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(watch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
