/*
 * check_chan.c: unit tests for chan.c, the rules for channel names, user ids
 * and channel patterns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "chan.h"

#define NAME(s) chan_name_valid((s), strlen(s))
#define UID(s) user_id_valid((s), strlen(s))
#define PAT(s) chan_pattern_valid((s), strlen(s))

/* Fills buf with n copies of c and a NUL. */
static char *
fill(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

START_TEST(test_name_valid)
{
	char	buf[128];

	ck_assert(NAME("a"));
	ck_assert(NAME("global"));
	ck_assert(NAME("guild:42"));
	ck_assert(NAME("party:ab12"));
	ck_assert(NAME("A-Z_a.z:0-9"));
	ck_assert(NAME(":"));
	ck_assert(NAME("a:b:c"));
	ck_assert(NAME("-._:"));
	ck_assert(NAME(fill(buf, 'x', 1)));
	ck_assert(NAME(fill(buf, 'x', 63)));
	ck_assert(NAME(fill(buf, 'x', 64)));
	/* The length, not a NUL, decides: a prefix of a longer buffer. */
	ck_assert(chan_name_valid("global!!!", 6));
}
END_TEST

START_TEST(test_name_invalid)
{
	char		 buf[128];
	const char	*bad = " !\"#$%&'()*+,/;<=>?@[\\]^`{|}~\t\n\r\x7f";
	char		 one[4];
	int		 c;

	ck_assert(!NAME(""));
	ck_assert(!chan_name_valid("abc", 0));
	ck_assert(!chan_name_valid(NULL, 0));
	ck_assert(!NAME(fill(buf, 'x', 65)));
	ck_assert(!NAME(fill(buf, 'x', 100)));

	/* Every byte outside [A-Za-z0-9_.:-] is refused, alone and inside. */
	for (c = 1; c < 256; c++) {
		int	ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == ':' || c == '-';

		one[0] = 'a';
		one[1] = (char)c;
		one[2] = 'b';
		ck_assert_msg(chan_name_valid(one, 3) == ok, "byte 0x%02x", c);
		ck_assert_msg(chan_name_valid(one + 1, 1) == ok, "byte 0x%02x", c);
	}
	for (; *bad != '\0'; bad++) {
		snprintf(buf, sizeof buf, "chan%cnel", *bad);
		ck_assert_msg(!NAME(buf), "'%s'", buf);
	}
	ck_assert(!NAME("guild:*"));
	ck_assert(!NAME("caf\xc3\xa9"));
	ck_assert(!NAME("space here"));

	/* An embedded NUL counts against the name, it does not end it. */
	ck_assert(!chan_name_valid("ab\0cd", 5));
	ck_assert(!chan_name_valid("ab\0", 3));
	ck_assert(!chan_name_valid("\0", 1));
}
END_TEST

START_TEST(test_user_id)
{
	char	buf[128];
	char	one[3];
	int	c;

	ck_assert(UID("alice"));
	ck_assert(UID("u"));
	ck_assert(UID("guest:bob"));
	ck_assert(UID("!\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`{|}~"));
	ck_assert(UID("user@example.com"));
	ck_assert(UID(fill(buf, 'u', 64)));
	ck_assert(!UID(fill(buf, 'u', 65)));
	ck_assert(!UID(""));
	ck_assert(!user_id_valid(NULL, 0));
	ck_assert(!UID("al ice"));
	ck_assert(!UID(" alice"));
	ck_assert(!UID("alice "));
	ck_assert(!UID("al\tice"));
	ck_assert(!UID("al\nice"));
	ck_assert(!UID("al\x7f" "ice"));		/* DEL */
	ck_assert(!UID("caf\xc3\xa9"));		/* non-ASCII */
	ck_assert(!UID("\x80"));
	ck_assert(!UID("\xff"));
	ck_assert(!user_id_valid("al\0ice", 6));
	ck_assert(user_id_valid("alice  ", 5));

	for (c = 0; c < 256; c++) {
		one[0] = (char)c;
		ck_assert_msg(user_id_valid(one, 1) == (c >= 0x21 && c <= 0x7e),
		    "byte 0x%02x", c);
	}
}
END_TEST

START_TEST(test_pattern_valid)
{
	char	buf[128];

	ck_assert(PAT("*"));
	ck_assert(PAT("global"));
	ck_assert(PAT("guild:42"));
	ck_assert(PAT("party:*"));
	ck_assert(PAT("guild:4*"));
	ck_assert(PAT("g*"));
	ck_assert(PAT(fill(buf, 'p', 64)));
	fill(buf, 'p', 65);
	buf[64] = '*';
	ck_assert(PAT(buf));		/* 64-byte name and a '*' */
}
END_TEST

START_TEST(test_pattern_invalid)
{
	char	buf[128];

	ck_assert(!PAT(""));
	ck_assert(!chan_pattern_valid(NULL, 0));
	ck_assert(!PAT("**"));
	ck_assert(!PAT("*a"));
	ck_assert(!PAT("party:*x"));
	ck_assert(!PAT("pa*rty"));
	ck_assert(!PAT("pa*rty*"));
	ck_assert(!PAT("party *"));
	ck_assert(!PAT("party:?"));
	ck_assert(!PAT("caf\xc3\xa9*"));
	ck_assert(!PAT(fill(buf, 'p', 65)));
	fill(buf, 'p', 66);
	buf[65] = '*';
	ck_assert(!PAT(buf));		/* 65-byte name and a '*' */
	ck_assert(!chan_pattern_valid("a\0*", 3));
}
END_TEST

START_TEST(test_pattern_match)
{
	/* Exact. */
	ck_assert(chan_pattern_match("global", "global"));
	ck_assert(!chan_pattern_match("global", "globa"));
	ck_assert(!chan_pattern_match("global", "global2"));
	ck_assert(!chan_pattern_match("global", "Global"));
	ck_assert(!chan_pattern_match("guild:42", "guild:420"));
	ck_assert(chan_pattern_match("guild:42", "guild:42"));

	/* Prefix. */
	ck_assert(chan_pattern_match("party:*", "party:ab12"));
	ck_assert(chan_pattern_match("party:*", "party:"));
	ck_assert(!chan_pattern_match("party:*", "party"));
	ck_assert(!chan_pattern_match("party:*", "partyx"));
	ck_assert(!chan_pattern_match("party:*", "guild:1"));
	ck_assert(chan_pattern_match("guild:4*", "guild:4"));
	ck_assert(chan_pattern_match("guild:4*", "guild:42"));
	ck_assert(chan_pattern_match("guild:4*", "guild:4xyz"));
	ck_assert(!chan_pattern_match("guild:4*", "guild:5"));
	ck_assert(!chan_pattern_match("guild:4*", "guild:"));

	/* Everything. */
	ck_assert(chan_pattern_match("*", "global"));
	ck_assert(chan_pattern_match("*", "party:x"));
	ck_assert(chan_pattern_match("*", "a"));

	/* A '*' in the channel is not a wildcard. */
	ck_assert(!chan_pattern_match("party:x", "party:*"));
	ck_assert(!chan_pattern_match(NULL, "a"));
	ck_assert(!chan_pattern_match("a", NULL));
}
END_TEST

/* Builds the suite of chan tests. */
static Suite *
chan_suite(void)
{
	Suite	*s = suite_create("chan");
	TCase	*tc;

	tc = tcase_create("names");
	tcase_add_test(tc, test_name_valid);
	tcase_add_test(tc, test_name_invalid);
	tcase_add_test(tc, test_user_id);
	suite_add_tcase(s, tc);

	tc = tcase_create("patterns");
	tcase_add_test(tc, test_pattern_valid);
	tcase_add_test(tc, test_pattern_invalid);
	tcase_add_test(tc, test_pattern_match);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(chan_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
