/*
 * check_utf8.c: unit tests for utf8.c, strict UTF-8 validation and counting.
 *
 * Byte strings are written as escapes with explicit lengths, so embedded NULs
 * and truncated sequences say exactly what they test.  Each invalid sequence
 * is also tried after a run of ASCII long enough to go through the
 * eight-bytes-at-a-time path, and at every alignment.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "utf8.h"

#define V(s) utf8_valid((s), sizeof(s) - 1)

/* Returns utf8_valid of s placed after pad ASCII bytes and before tail ones. */
static bool
valid_padded(const char *s, size_t len, size_t pad, size_t tail)
{
	char	*buf;
	bool	 ok;

	buf = malloc(pad + len + tail);
	ck_assert_ptr_nonnull(buf);
	memset(buf, 'a', pad);
	memcpy(buf + pad, s, len);
	memset(buf + pad + len, 'z', tail);
	ok = utf8_valid(buf, pad + len + tail);
	free(buf);
	return ok;
}

/* Checks that s gives the same verdict wherever it sits in a longer string. */
static void
check_everywhere(const char *s, size_t len, bool want)
{
	size_t	pad;

	for (pad = 0; pad < 20; pad++) {
		ck_assert_int_eq(valid_padded(s, len, pad, 0), want);
		/* A truncated sequence stays invalid with ASCII after it. */
		ck_assert_int_eq(valid_padded(s, len, pad, 9), want);
	}
}

START_TEST(test_ascii)
{
	const char	*s = "The quick brown fox jumps over the lazy dog 0123456789";

	ck_assert(utf8_valid("", 0));
	ck_assert(utf8_valid(NULL, 0));
	ck_assert(V("a"));
	ck_assert(utf8_valid(s, strlen(s)));
	ck_assert(V("\x01\x1f\x7f"));
	/* NUL is U+0000: valid. */
	ck_assert(V("a\0b"));
	ck_assert(utf8_valid("\0\0\0\0\0\0\0\0\0", 9));
}
END_TEST

START_TEST(test_multibyte_valid)
{
	ck_assert(V("\xc2\x80"));		/* U+0080 */
	ck_assert(V("\xc3\xa9"));		/* é */
	ck_assert(V("\xdf\xbf"));		/* U+07FF */
	ck_assert(V("\xe0\xa0\x80"));		/* U+0800 */
	ck_assert(V("\xe2\x82\xac"));		/* € */
	ck_assert(V("\xed\x9f\xbf"));		/* U+D7FF, before surrogates */
	ck_assert(V("\xee\x80\x80"));		/* U+E000, after surrogates */
	ck_assert(V("\xef\xbf\xbf"));		/* U+FFFF */
	ck_assert(V("\xf0\x90\x80\x80"));	/* U+10000 */
	ck_assert(V("\xf0\x9f\x98\x80"));	/* 😀 */
	ck_assert(V("\xf4\x8f\xbf\xbf"));	/* U+10FFFF */
	ck_assert(V("na\xc3\xafve caf\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80!"));
	check_everywhere("\xc3\xa9", 2, true);
	check_everywhere("\xe2\x82\xac", 3, true);
	check_everywhere("\xf0\x9f\x98\x80", 4, true);
}
END_TEST

START_TEST(test_overlong)
{
	ck_assert(!V("\xc0\x80"));		/* NUL, 2 bytes */
	ck_assert(!V("\xc1\xbf"));		/* U+007F, 2 bytes */
	ck_assert(!V("\xe0\x80\x80"));		/* NUL, 3 bytes */
	ck_assert(!V("\xe0\x9f\xbf"));		/* U+07FF, 3 bytes */
	ck_assert(!V("\xf0\x80\x80\x80"));	/* NUL, 4 bytes */
	ck_assert(!V("\xf0\x8f\xbf\xbf"));	/* U+FFFF, 4 bytes */
	check_everywhere("\xc0\x80", 2, false);
	check_everywhere("\xe0\x80\x80", 3, false);
}
END_TEST

START_TEST(test_surrogates)
{
	ck_assert(!V("\xed\xa0\x80"));		/* U+D800 */
	ck_assert(!V("\xed\xaf\xbf"));		/* U+DBFF */
	ck_assert(!V("\xed\xb0\x80"));		/* U+DC00 */
	ck_assert(!V("\xed\xbf\xbf"));		/* U+DFFF */
	ck_assert(!V("\xed\xa0\xbd\xed\xb8\x80"));	/* CESU-8 pair */
	check_everywhere("\xed\xa0\x80", 3, false);
}
END_TEST

START_TEST(test_too_large)
{
	ck_assert(!V("\xf4\x90\x80\x80"));	/* U+110000 */
	ck_assert(!V("\xf5\x80\x80\x80"));
	ck_assert(!V("\xf7\xbf\xbf\xbf"));
	ck_assert(!V("\xf8\x88\x80\x80\x80"));	/* old 5-byte form */
	ck_assert(!V("\xfc\x84\x80\x80\x80\x80"));	/* old 6-byte form */
	ck_assert(!V("\xfe"));
	ck_assert(!V("\xff"));
	check_everywhere("\xf4\x90\x80\x80", 4, false);
}
END_TEST

START_TEST(test_truncated)
{
	ck_assert(!V("\xc3"));
	ck_assert(!V("\xe2\x82"));
	ck_assert(!V("\xe2"));
	ck_assert(!V("\xf0\x9f\x98"));
	ck_assert(!V("\xf0\x9f"));
	ck_assert(!V("\xf0"));
	ck_assert(!V("abc\xc3"));
	/* A sequence cut short by the next character. */
	ck_assert(!V("\xc3" "a"));
	ck_assert(!V("\xe2\x82" "a"));
	ck_assert(!V("\xf0\x9f\x98" "a"));
	ck_assert(!V("\xe2\xc3\xa9"));
	/* The length, not a NUL, ends the input. */
	ck_assert(!utf8_valid("\xc3\xa9", 1));
	check_everywhere("\xc3", 1, false);
	check_everywhere("\xe2\x82", 2, false);
	check_everywhere("\xf0\x9f\x98", 3, false);
}
END_TEST

START_TEST(test_continuation)
{
	ck_assert(!V("\x80"));
	ck_assert(!V("\xbf"));
	ck_assert(!V("a\x80" "b"));
	ck_assert(!V("\xc3\xa9\xa9"));		/* one too many */
	ck_assert(!V("\xf0\x9f\x98\x80\x80"));
	check_everywhere("\x80", 1, false);
	check_everywhere("\xc3\xa9\xa9", 3, false);
}
END_TEST

START_TEST(test_count)
{
	const char	*s = "na\xc3\xafve caf\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80!";
	char		 buf[100];
	size_t		 i;

	ck_assert_uint_eq(utf8_count("", 0), 0);
	ck_assert_uint_eq(utf8_count("a", 1), 1);
	ck_assert_uint_eq(utf8_count("hello, world", 12), 12);
	ck_assert_uint_eq(utf8_count("a\0b", 3), 3);
	ck_assert_uint_eq(utf8_count("\xc3\xa9", 2), 1);
	ck_assert_uint_eq(utf8_count("\xe2\x82\xac", 3), 1);
	ck_assert_uint_eq(utf8_count("\xf0\x9f\x98\x80", 4), 1);
	/* n,a,ï,v,e,space,c,a,f,é,space,€,😀,! */
	ck_assert_uint_eq(utf8_count(s, strlen(s)), 14);

	/* 33 × "é" is 66 bytes and 33 code points, crossing 8-byte blocks. */
	for (i = 0; i < 33; i++)
		memcpy(buf + 2 * i, "\xc3\xa9", 2);
	ck_assert(utf8_valid(buf, 66));
	ck_assert_uint_eq(utf8_count(buf, 66), 33);
	ck_assert_uint_eq(utf8_count(buf + 1, 64), 32);
	/* 70 ASCII bytes then a 4-byte one. */
	memset(buf, 'x', 70);
	memcpy(buf + 70, "\xf0\x9f\x98\x80", 4);
	ck_assert(utf8_valid(buf, 74));
	ck_assert_uint_eq(utf8_count(buf, 74), 71);
}
END_TEST

/* Builds the suite of utf8 tests. */
static Suite *
utf8_suite(void)
{
	Suite	*s = suite_create("utf8");
	TCase	*tc = tcase_create("utf8");

	tcase_add_test(tc, test_ascii);
	tcase_add_test(tc, test_multibyte_valid);
	tcase_add_test(tc, test_overlong);
	tcase_add_test(tc, test_surrogates);
	tcase_add_test(tc, test_too_large);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_continuation);
	tcase_add_test(tc, test_count);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(utf8_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
