/*
 * check_log.c: unit tests for the log's two formats: plain lines and their
 * fields, JSON lines that stay valid JSON whatever they hold (quotes,
 * control characters, bytes that are not UTF-8, a message too long), and
 * the levels that print nothing.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"

/* stderr, redirected to a file for one test; the text read back. */
static int saved_fd = -1;
static FILE *capture;
static char text[65536];

static void
capture_start(void)
{
	capture = tmpfile();
	ck_assert_ptr_nonnull(capture);
	saved_fd = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_fd, 0);
	ck_assert_int_ge(dup2(fileno(capture), STDERR_FILENO), 0);
}

/* Puts stderr back and returns what was written meanwhile. */
static const char *
capture_end(void)
{
	size_t n;

	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	rewind(capture);
	n = fread(text, 1, sizeof text - 1, capture);
	text[n] = '\0';
	fclose(capture);
	return text;
}

/* Parses the one line in s as JSON (the test fails if it is not). */
static cJSON *
parse_line(const char *s)
{
	const char *nl = strchr(s, '\n');
	cJSON *j;

	ck_assert_ptr_nonnull(nl);
	ck_assert_msg(nl[1] == '\0', "more than one line: %s", s);
	j = cJSON_ParseWithLength(s, (size_t)(nl - s));
	ck_assert_msg(j != NULL, "not JSON: %s", s);
	return j;
}

static const char *
jstr(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	ck_assert_msg(cJSON_IsString(v), "no string %s", key);
	return v->valuestring;
}

START_TEST(test_plain)
{
	struct log_field f[] = {
		LOG_NUM("session", 42),
		LOG_STR("peer", "127.0.0.1:5000"),
		LOG_STR("reason", "a \"quoted\" = \\ reason"),
		LOG_STR("empty", ""),
	};
	const char *out;

	log_set_format(LOG_FORMAT_PLAIN);
	log_set_level(LOG_INFO);
	capture_start();
	log_event(LOG_INFO, "connect", f, 4);
	log_msg(LOG_NOTICE, "two\nlines");
	log_debug("not %s", "shown");
	log_event(LOG_DEBUG, "nor", f, 1);
	out = capture_end();
	ck_assert_ptr_nonnull(strstr(out, "[info] connect session=42 "
	    "peer=127.0.0.1:5000 reason=\"a \\\"quoted\\\" = \\\\ reason\" "
	    "empty=\"\"\n"));
	/* A message cannot forge a second line. */
	ck_assert_ptr_nonnull(strstr(out, "[notice] two?lines\n"));
	ck_assert_ptr_null(strstr(out, "shown"));
	ck_assert_ptr_null(strstr(out, "nor"));
	log_set_level(LOG_NOTICE);
}
END_TEST

START_TEST(test_json)
{
	struct log_field f[] = {
		LOG_NUM("session", 140737490452480LL),
		LOG_STR("reason", "d\xc3\xa9j\xc3\xa0 \"vu\" \\ \n\x01\t"),
		LOG_STR("bad", "a\xff\xc3(b\xed\xa0\x80z"),
		LOG_NUM("code", -7),
	};
	const cJSON *v;
	cJSON *j;

	log_set_format(LOG_FORMAT_JSON);
	capture_start();
	log_event(LOG_NOTICE, "disconnect", f, 4);
	j = parse_line(capture_end());
	ck_assert_str_eq(jstr(j, "level"), "notice");
	ck_assert_str_eq(jstr(j, "msg"), "disconnect");
	ck_assert_int_eq(strlen(jstr(j, "ts")), 24);
	ck_assert_int_eq(jstr(j, "ts")[23], 'Z');
	v = cJSON_GetObjectItemCaseSensitive(j, "session");
	ck_assert(cJSON_IsNumber(v) && v->valuedouble == 140737490452480.0);
	ck_assert_str_eq(jstr(j, "reason"),
	    "d\xc3\xa9j\xc3\xa0 \"vu\" \\ \n\x01\t");
	/* What is not UTF-8 becomes '?', byte by byte. */
	ck_assert_str_eq(jstr(j, "bad"), "a?" "?(b???z");
	v = cJSON_GetObjectItemCaseSensitive(j, "code");
	ck_assert(cJSON_IsNumber(v) && v->valueint == -7);
	cJSON_Delete(j);

	/* A plain message is the msg. */
	capture_start();
	log_msg(LOG_ERR, "audit: {\"op\":\"kick\"} %d%%", 5);
	j = parse_line(capture_end());
	ck_assert_str_eq(jstr(j, "level"), "err");
	ck_assert_str_eq(jstr(j, "msg"), "audit: {\"op\":\"kick\"} 5%");
	cJSON_Delete(j);
	log_set_format(LOG_FORMAT_PLAIN);
}
END_TEST

/* Lines too long are cut, and stay one valid line whatever is cut. */
START_TEST(test_json_long)
{
	static const char *const fill[] = { "x", "\"", "\x01", "\xc3\xa9",
	    "\xe2\x82\xac" };
	char big[6000];
	struct log_field f[2];
	size_t i, k, len;
	const char *out;
	cJSON *j;

	log_set_format(LOG_FORMAT_JSON);
	for (k = 0; k < sizeof fill / sizeof fill[0]; k++) {
		len = strlen(fill[k]);
		for (i = 0; i + len < sizeof big; i += len)
			memcpy(big + i, fill[k], len);
		big[i] = '\0';
		f[0] = (struct log_field)LOG_STR("reason", big);
		f[1] = (struct log_field)LOG_NUM("code", 1);

		capture_start();
		log_msg(LOG_NOTICE, "%s", big);
		out = capture_end();
		ck_assert_uint_le(strlen(out), 2048);
		j = parse_line(out);
		len = strlen(jstr(j, "msg"));
		ck_assert_uint_gt(len, 300);
		ck_assert_str_eq(jstr(j, "msg") + len - 3, "...");
		cJSON_Delete(j);

		/* The message short, a field long: the field is cut. */
		capture_start();
		log_event(LOG_NOTICE, "disconnect", f, 2);
		out = capture_end();
		ck_assert_uint_le(strlen(out), 2048);
		j = parse_line(out);
		ck_assert_str_eq(jstr(j, "msg"), "disconnect");
		len = strlen(jstr(j, "reason"));
		ck_assert_str_eq(jstr(j, "reason") + len - 3, "...");
		ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "code"));
		cJSON_Delete(j);
	}
	log_set_format(LOG_FORMAT_PLAIN);

	/* Plain: cut too, one line. */
	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	capture_start();
	log_msg(LOG_NOTICE, "%s", big);
	out = capture_end();
	ck_assert_uint_eq(strlen(out), 2048);
	ck_assert_str_eq(out + 2044, "...\n");
}
END_TEST

START_TEST(test_formats)
{
	ck_assert_int_eq(log_format_parse("plain"), LOG_FORMAT_PLAIN);
	ck_assert_int_eq(log_format_parse("json"), LOG_FORMAT_JSON);
	ck_assert_int_eq(log_format_parse("JSON"), -1);
	ck_assert_int_eq(log_format_parse(""), -1);
	ck_assert_int_eq(log_format_parse(NULL), -1);
	ck_assert_int_eq(log_get_format(), LOG_FORMAT_PLAIN);
	log_set_format(LOG_FORMAT_JSON);
	ck_assert_int_eq(log_get_format(), LOG_FORMAT_JSON);
	log_set_format(-1);
	ck_assert_int_eq(log_get_format(), LOG_FORMAT_PLAIN);
	ck_assert(!log_on(LOG_INFO));
	ck_assert(log_on(LOG_NOTICE));
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("formats");

	tcase_add_test(tc, test_formats);
	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_json_long);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
