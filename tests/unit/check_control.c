/*
 * check_control.c: the control channel's commands (control.c): what
 * control_kick and control_announce send through the in-process bus, the
 * answer the moderator gets, and what control_run refuses from another
 * instance.  Two workers without lws (workers.h); worker 1 records what
 * reaches it instead of running it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "control.h"
#include "dispatch.h"
#include "frame.h"
#include "msg.h"
#include "workers.h"

static struct test_workers tw;
static cJSON *cmds[8];		/* commands that reached worker 1, parsed */
static int ncmds;
static cJSON *answer;		/* the last answer to a client, parsed */
static int nanswers;

/* Worker 0 runs the table; worker 1 records commands and answers. */
static void
test_dispatch(struct worker *w, struct imsg *m)
{
	if (w->idx == 0) {
		dispatch_message(w, m);
		return;
	}
	if (m->type == IM_CONTROL && ncmds < 8) {
		struct im_control *c = (struct im_control *)m;

		cmds[ncmds++] = cJSON_ParseWithLength(c->body, c->len);
	} else if (m->type == IM_TO_CLIENT) {
		struct im_to_client *t = (struct im_to_client *)m;

		cJSON_Delete(answer);
		answer = cJSON_ParseWithLength(frame_payload(t->frame),
		    frame_payload_len(t->frame));
		nanswers++;
	}
	msg_free(m);
}

static void
setup(void)
{
	test_workers_init(&tw, test_dispatch);
	ncmds = nanswers = 0;
	answer = NULL;
}

static void
teardown(void)
{
	int i;

	for (i = 0; i < ncmds; i++)
		cJSON_Delete(cmds[i]);
	cJSON_Delete(answer);
	test_workers_free(&tw);
}

/* The string member name of o, or "". */
static const char *
str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : "";
}

/* A moderator on worker 1 (client 5) kicks: every worker gets the command. */
START_TEST(test_kick_reaches_every_worker)
{
	control_kick(&tw.w[1], 5, "\"k\"", "mod", "b\"o\\b",
	    "spam");
	test_workers_pump(&tw);
	ck_assert_int_eq(ncmds, 1);	/* worker 1's copy (worker 0 ran its own) */
	ck_assert_ptr_nonnull(cmds[0]);
	ck_assert_str_eq(str(cmds[0], "cmd"), "kick");
	ck_assert_str_eq(str(cmds[0], "by"), "mod");
	ck_assert_str_eq(str(cmds[0], "user"), "b\"o\\b");
	ck_assert_str_eq(str(cmds[0], "reason"), "spam");
	ck_assert_int_eq(nanswers, 1);
	ck_assert_str_eq(str(answer, "op"), "ok");
	ck_assert_str_eq(str(answer, "id"), "k");
}
END_TEST

START_TEST(test_announce_with_and_without_channel)
{
	control_announce(&tw.w[1], 5, "1", "mod", "hello\nall", 9, NULL);
	control_announce(&tw.w[1], 5, "2", "mod", "to g", 4, "global");
	test_workers_pump(&tw);
	ck_assert_int_eq(ncmds, 2);
	ck_assert_str_eq(str(cmds[0], "cmd"), "announce");
	ck_assert_str_eq(str(cmds[0], "text"), "hello\nall");
	ck_assert_ptr_null(cJSON_GetObjectItem(cmds[0], "ch"));
	ck_assert_str_eq(str(cmds[1], "ch"), "global");
	ck_assert_int_eq(nanswers, 2);
}
END_TEST

/* A command too long for the channel is refused to its sender, and sent to nobody. */
START_TEST(test_too_long_is_refused)
{
	size_t n = CONTROL_MAX;
	char *text = malloc(n);

	ck_assert_ptr_nonnull(text);
	memset(text, 'x', n);
	control_announce(&tw.w[1], 5, "3", "mod", text, n, NULL);
	free(text);
	test_workers_pump(&tw);
	ck_assert_int_eq(ncmds, 0);
	ck_assert_int_eq(nanswers, 1);
	ck_assert_str_eq(str(answer, "op"), "err");
	ck_assert_str_eq(str(answer, "code"), "too_long");
}
END_TEST

/* What another instance may send: only well-formed, known commands run. */
START_TEST(test_run_checks_its_input)
{
	static const char *const bad[] = {
		"", "not json", "[]", "{\"cmd\":1}", "{\"cmd\":\"explode\"}",
		"{\"cmd\":\"kick\"}", "{\"cmd\":\"kick\",\"user\":\"\"}",
		"{\"cmd\":\"kick\",\"user\":\"a b\\u0000\"}",
		"{\"cmd\":\"announce\"}",
		"{\"cmd\":\"announce\",\"text\":\"t\",\"ch\":\"bad channel!\"}",
	};
	size_t i;
	char *big;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(control_run(&tw.w[0], bad[i], strlen(bad[i])) ==
		    -1, "accepted %s", bad[i]);
	ck_assert_int_eq(control_run(&tw.w[0],
	    "{\"cmd\":\"kick\",\"user\":\"bob\"}", 27), 0);
	ck_assert_int_eq(control_run(&tw.w[0],
	    "{\"cmd\":\"announce\",\"text\":\"t\",\"ch\":\"guild:1\"}", 45), 0);
	big = malloc(CONTROL_MAX + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', CONTROL_MAX + 1);
	memcpy(big, "{\"cmd\":\"announce\",\"text\":\"t\"}", 29);
	ck_assert_int_eq(control_run(&tw.w[0], big, CONTROL_MAX + 1), -1);
	free(big);
}
END_TEST

static Suite *
control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("commands");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_kick_reaches_every_worker);
	tcase_add_test(tc, test_announce_with_and_without_channel);
	tcase_add_test(tc, test_too_long_is_refused);
	tcase_add_test(tc, test_run_checks_its_input);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(control_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
