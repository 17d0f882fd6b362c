/*
 * check_dispatch.c: the dispatch table (dispatch.c): each inbox message
 * type reaches its handler, which frees it (LeakSanitizer and valgrind
 * see a message that is not), and a type the table does not know is
 * dropped, not followed.  Two workers without lws (workers.h): worker 0
 * runs the real table, worker 1 only records what reaches it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "dispatch.h"
#include "frame.h"
#include "msg.h"
#include "workers.h"

static struct test_workers tw;
static int got[IM_TYPES];	/* messages of each type worker 1 received */
static char got_user[USER_ID_MAX + 1];	/* the last IM_DETACH's user */

/* Worker 0 runs the table; worker 1 records and frees. */
static void
test_dispatch(struct worker *w, struct imsg *m)
{
	if (w->idx == 0) {
		dispatch_message(w, m);
		return;
	}
	if (m->type < IM_TYPES)
		got[m->type]++;
	if (m->type == IM_DETACH)
		snprintf(got_user, sizeof got_user, "%s",
		    ((struct im_detach *)m)->user);
	msg_free(m);
}

static void
setup(void)
{
	test_workers_init(&tw, test_dispatch);
	memset(got, 0, sizeof got);
	got_user[0] = '\0';
}

static void
teardown(void)
{
	test_workers_free(&tw);
}

START_TEST(test_quiesce_and_drain)
{
	dispatch_message(&tw.w[0], msg_new(IM_QUIESCE));
	ck_assert_int_eq(atomic_load(&tw.relay.quiesced), 1);
	ck_assert(!tw.w[0].draining);
	dispatch_message(&tw.w[0], msg_new(IM_DRAIN));
	ck_assert(tw.w[0].draining);
	/* No client to wait for: drained at once. */
	ck_assert(atomic_load(&tw.w[0].drained));
}
END_TEST

/*
 * An admission that comes back for a connection that has gone gives the
 * count back: the user's owner gets a detach.
 */
START_TEST(test_answer_to_a_gone_client)
{
	struct im_to_client *m = msg_new(IM_TO_CLIENT);
	char uid[USER_ID_MAX + 1];

	snprintf(uid, sizeof uid, "%s", test_owned_name(&tw, 1, "u", 1));
	m->client = 12345;	/* no such client */
	m->action = ACT_AUTH_OK;
	snprintf(m->user, sizeof m->user, "%s", uid);
	m->frame = frame_text("{}", 2);
	dispatch_message(&tw.w[0], &m->hdr);
	test_workers_pump(&tw);
	ck_assert_int_eq(got[IM_DETACH], 1);
	ck_assert_str_eq(got_user, uid);
	/* Any other answer to a gone client is dropped. */
	m = msg_new(IM_TO_CLIENT);
	m->client = 12345;
	m->action = ACT_NONE;
	m->frame = frame_text("{}", 2);
	dispatch_message(&tw.w[0], &m->hdr);
	test_workers_pump(&tw);
	ck_assert_int_eq(got[IM_DETACH], 1);
}
END_TEST

/* A request for the bus goes to its op: the join is answered to its asker. */
START_TEST(test_bus_requests_reach_the_bus)
{
	struct im_join *j = msg_new(IM_JOIN);
	struct im_query *q = msg_new(IM_WHO);

	msg_origin(&j->from, 1, 77, "");
	snprintf(j->ch, sizeof j->ch, "%s", test_owned_name(&tw, 0, "c", 1));
	snprintf(j->user, sizeof j->user, "zoe");
	snprintf(j->name, sizeof j->name, "Zoe");
	j->history = -1;
	j->since = -1;
	dispatch_message(&tw.w[0], &j->hdr);
	test_workers_pump(&tw);
	ck_assert_int_eq(got[IM_TO_CLIENT], 1);
	msg_origin(&q->from, 1, 77, "");
	snprintf(q->ch, sizeof q->ch, "%s", test_owned_name(&tw, 0, "c", 1));
	dispatch_message(&tw.w[0], &q->hdr);
	test_workers_pump(&tw);
	ck_assert_int_eq(got[IM_TO_CLIENT], 2);
}
END_TEST

/* Deliveries, commands and repairs with nobody to reach are freed, and nothing else happens. */
START_TEST(test_messages_with_no_one_to_reach)
{
	struct im_deliver *d = msg_new(IM_DELIVER);
	struct im_user_deliver *u = msg_new(IM_USER_DELIVER);
	struct im_control *c = msg_new(IM_CONTROL);
	struct im_control *bad = msg_new(IM_CONTROL);
	int i, total = 0;

	snprintf(d->ch, sizeof d->ch, "nobody-here");
	d->frame = frame_text("{}", 2);
	snprintf(u->user, sizeof u->user, "nobody");
	u->frame = frame_text("{}", 2);
	c->body = strdup("{\"cmd\":\"announce\",\"by\":\"m\",\"text\":\"hi\"}");
	c->len = strlen(c->body);
	bad->body = strdup("{\"cmd\":\"explode\"}");
	bad->len = strlen(bad->body);
	dispatch_message(&tw.w[0], &d->hdr);
	dispatch_message(&tw.w[0], &u->hdr);
	dispatch_message(&tw.w[0], &c->hdr);
	dispatch_message(&tw.w[0], &bad->hdr);
	dispatch_message(&tw.w[0], msg_new(IM_BUS));	/* the local bus has none */
	test_workers_pump(&tw);
	for (i = 0; i < IM_TYPES; i++)
		total += got[i];
	ck_assert_int_eq(total, 0);
}
END_TEST

/* A type the table does not know is dropped (and freed), never followed. */
START_TEST(test_unknown_type)
{
	struct imsg *m = calloc(1, sizeof *m);

	ck_assert_ptr_nonnull(m);
	m->type = IM_TYPES + 3;
	dispatch_message(&tw.w[0], m);
	test_workers_pump(&tw);
	ck_assert_int_eq(got[IM_TO_CLIENT], 0);
}
END_TEST

/* The hooks the worker calls are all there. */
START_TEST(test_hooks_complete)
{
	const struct worker_hooks *h = &dispatch_hooks;

	ck_assert_ptr_nonnull(h->start);
	ck_assert_ptr_nonnull(h->dispatch);
	ck_assert_ptr_nonnull(h->discard);
	ck_assert_ptr_nonnull(h->tick);
	ck_assert_ptr_nonnull(h->free);
	ck_assert_ptr_nonnull(h->health);
	ck_assert_ptr_nonnull(h->client_open);
	ck_assert_ptr_nonnull(h->client_message);
	ck_assert_ptr_nonnull(h->client_detach);
	ck_assert_ptr_nonnull(h->client_free);
	ck_assert_str_eq(h->health(&tw.relay), "local");
}
END_TEST

static Suite *
dispatch_suite(void)
{
	Suite *s = suite_create("dispatch");
	TCase *tc = tcase_create("table");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_quiesce_and_drain);
	tcase_add_test(tc, test_answer_to_a_gone_client);
	tcase_add_test(tc, test_bus_requests_reach_the_bus);
	tcase_add_test(tc, test_messages_with_no_one_to_reach);
	tcase_add_test(tc, test_unknown_type);
	tcase_add_test(tc, test_hooks_complete);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dispatch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
