/*
 * check_sentinel.c: unit tests for Sentinel addresses (redis-url.c): the
 * list of sentinels, the master's name and credentials, and what the
 * relay's directives turn into.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "redis.h"

#define NAME "mymaster"

/* ---- Parsing. ---- */

START_TEST(test_parse)
{
	struct redis_addr	 a;
	char			 err[128], d[300];

	ck_assert_int_eq(redis_sentinel_parse("127.0.0.1:26380", "mymaster",
	    NULL, &a, err, sizeof err), 0);
	ck_assert_int_eq(a.nsentinels, 1);
	ck_assert_str_eq(a.sentinels[0].host, "127.0.0.1");
	ck_assert_int_eq(a.sentinels[0].port, 26380);
	ck_assert_str_eq(a.master, "mymaster");
	ck_assert_str_eq(a.host, "");
	ck_assert_str_eq(a.password, "");
	ck_assert_int_eq(a.db, 0);
	redis_addr_describe(&a, d, sizeof d);
	ck_assert_str_eq(d, "master mymaster via sentinel 127.0.0.1:26380");

	/* Spaces around entries, the default port, IPv6, credentials. */
	ck_assert_int_eq(redis_sentinel_parse(" 10.0.0.1:26380 , sentinel-b,"
	    "[::1]:5000 ", "chat.1", "password=s%40TOPSECRET&db=3&user=app",
	    &a, err, sizeof err), 0);
	ck_assert_int_eq(a.nsentinels, 3);
	ck_assert_str_eq(a.sentinels[1].host, "sentinel-b");
	ck_assert_int_eq(a.sentinels[1].port, REDIS_SENTINEL_PORT);
	ck_assert_str_eq(a.sentinels[2].host, "::1");
	ck_assert_int_eq(a.sentinels[2].port, 5000);
	ck_assert_str_eq(a.password, "s@TOPSECRET");
	ck_assert_str_eq(a.username, "app");
	ck_assert_int_eq(a.db, 3);
	redis_addr_describe(&a, d, sizeof d);
	ck_assert_str_eq(d, "master chat.1 via sentinels 10.0.0.1:26380,"
	    "sentinel-b:26379,[::1]:5000/3");
	/* Cut to fit, never overrun. */
	redis_addr_describe(&a, d, 20);
	ck_assert_str_eq(d, "master chat.1 via s");

	/* The relay's four directives, as the bus turns them into an address. */
	ck_assert_int_eq(redis_addr_parse("", "h:1", NAME, "db=4", &a, err,
	    sizeof err), 0);
	ck_assert_str_eq(a.master, NAME);
	ck_assert_int_eq(a.db, 4);
	ck_assert_int_eq(redis_addr_parse("redis://h:7/1", "", NAME, "", &a,
	    err, sizeof err), 0);
	ck_assert_str_eq(a.host, "h");
	ck_assert_str_eq(a.master, "");
	ck_assert_int_eq(redis_addr_parse("redis://h", "h:1", NAME, NULL, &a,
	    err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "mutually exclusive"));
	ck_assert_int_eq(redis_addr_parse("redis://h", NULL, NAME,
	    "password=TOPSECRET", &a, err, sizeof err), -1);
	ck_assert_ptr_null(strstr(err, "TOP"));
	ck_assert_str_eq(a.password, "");
	ck_assert_int_eq(redis_addr_parse("", "", NAME, "", &a, err,
	    sizeof err), -1);

	/* user= is accepted in a redis:// URL's query too. */
	ck_assert_int_eq(redis_url_parse("redis://h?user=app&password=x", &a,
	    err, sizeof err), 0);
	ck_assert_str_eq(a.username, "app");
	ck_assert_str_eq(a.password, "x");
	ck_assert_str_eq(a.master, "");
}
END_TEST

START_TEST(test_parse_invalid)
{
	static const struct {
		const char	*list, *master, *auth;
	} bad[] = {
		{ "", NAME, NULL }, { ",", NAME, NULL }, { "h:0", NAME, NULL },
		{ "h:65536", NAME, NULL }, { "h:x", NAME, NULL },
		{ "a b:1", NAME, NULL }, { "h1:1,,h2:2", NAME, NULL },
		{ "h1:1,", NAME, NULL }, { "[::1", NAME, NULL },
		{ "redis://h:1", NAME, NULL }, { "h:1", "", NULL },
		{ "h:1", "my master", NULL }, { "h:1", "a\tb", NULL },
		{ "h:1", NAME, "password" },
		{ "h:1", NAME, "foo=TOPSECRET" },
		{ "h:1", NAME, "password=TOPSECRET&db=x" },
		{ "h:1", NAME, "password=TOP%00SECRET" },
		{ "h:1", NAME, "password=TOPSECRET&db=-1" },
	};
	struct redis_addr	 a;
	char			 err[128], list[1200];
	size_t			 i;
	int			 n;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		memset(&a, 0x5a, sizeof a);
		ck_assert_msg(redis_sentinel_parse(bad[i].list, bad[i].master,
		    bad[i].auth, &a, err, sizeof err) == -1, "accepted %s %s",
		    bad[i].list, bad[i].master);
		ck_assert_msg(err[0] != '\0', "no reason for %zu", i);
		ck_assert_msg(strstr(err, "TOP") == NULL, "leaks: %s", err);
		ck_assert_str_eq(a.password, "");
		ck_assert_int_eq(a.nsentinels, 0);
	}
	ck_assert_int_eq(redis_sentinel_parse(NULL, NAME, NULL, &a, err,
	    sizeof err), -1);
	ck_assert_int_eq(redis_sentinel_parse("h:1", NULL, NULL, &a, NULL, 0),
	    -1);
	/* At most REDIS_SENTINELS_MAX. */
	for (n = 0, list[0] = '\0'; n <= REDIS_SENTINELS_MAX; n++)
		snprintf(list + strlen(list), sizeof list - strlen(list),
		    "%sh%d:1", n > 0 ? "," : "", n);
	ck_assert_int_eq(redis_sentinel_parse(list, NAME, NULL, &a, err,
	    sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "more than 16"));
	*strrchr(list, ',') = '\0';
	ck_assert_int_eq(redis_sentinel_parse(list, NAME, NULL, &a, err,
	    sizeof err), 0);
	ck_assert_int_eq(a.nsentinels, REDIS_SENTINELS_MAX);
}
END_TEST

/* Builds the suite. */
static Suite *
sentinel_suite(void)
{
	Suite	*s = suite_create("sentinel");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_invalid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(sentinel_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
