/*
 * check_bus_local.c: the in-process bus (src/bus-local.c) through its
 * interface (bus.h, bus_local_ops), on
 * two workers that have inboxes but no lws: requests go through bus.c's
 * routing and the dispatch table, and what the bus sends back (answers to
 * clients, deliveries to the other worker) is read from the inboxes.
 *
 * The channels used are owned by worker 1 and asked about from worker 0,
 * so every delivery the bus makes crosses an inbox, where the test sees it.
 * Linked with failalloc.c (ld --wrap) to run out of memory on demand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "bus.h"
#include "config.h"
#include "dispatch.h"
#include "failalloc.h"
#include "frame.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "worker.h"
#include "workers.h"

/* What reached worker 0 from the bus, in order. */
struct seen {
	int type;		/* IM_TO_CLIENT or IM_DELIVER */
	uint64_t client;
	int action;
	char ch[CHAN_NAME_MAX + 1];
	char except[USER_ID_MAX + 1];
	cJSON *json;		/* the frame's payload, parsed (NULL: none) */
};

#define SEEN_MAX 256

static struct test_workers tw;
static struct seen seen[SEEN_MAX];
static int nseen;

#define relay tw.relay
#define workers tw.w

/* Worker 0 records what it is sent instead of handing it to clients. */
static void
test_dispatch(struct worker *w, struct imsg *m)
{
	struct seen *s;
	struct frame *f = NULL;

	if (w->idx == 0 && (m->type == IM_TO_CLIENT || m->type == IM_DELIVER)) {
		ck_assert_int_lt(nseen, SEEN_MAX);
		s = &seen[nseen++];
		memset(s, 0, sizeof *s);
		s->type = m->type;
		if (m->type == IM_TO_CLIENT) {
			struct im_to_client *t = (struct im_to_client *)m;

			s->client = t->client;
			s->action = t->action;
			snprintf(s->ch, sizeof s->ch, "%s", t->ch);
			f = t->frame;
		} else {
			struct im_deliver *d = (struct im_deliver *)m;

			snprintf(s->ch, sizeof s->ch, "%s", d->ch);
			snprintf(s->except, sizeof s->except, "%s", d->except);
			f = d->frame;
		}
		if (f != NULL)
			s->json = cJSON_ParseWithLength(frame_payload(f),
			    frame_payload_len(f));
		msg_free(m);
		return;
	}
	dispatch_message(w, m);
}

/* Forgets what was seen so far. */
static void
forget(void)
{
	int i;

	for (i = 0; i < nseen; i++)
		cJSON_Delete(seen[i].json);
	nseen = 0;
}

/* Hands every queued message to its worker until both inboxes are empty. */
static void
pump(void)
{
	test_workers_pump(&tw);
}

static void
setup(void)
{
	test_workers_init(&tw, test_dispatch);
	nseen = 0;
}

static void
teardown(void)
{
	failalloc_reset();
	forget();
	test_workers_free(&tw);
}

/* A channel name owned by worker 1, different for each n. */
static const char *
chan1(int n)
{
	return test_owned_name(&tw, 1, "c", n);
}

/* A user id owned by worker 0, different for each n. */
static const char *
user0(int n)
{
	return test_owned_name(&tw, 0, "u", n);
}

/*
 * Attaches a connection (client `client` of worker 0) of user uid; then
 * the next fail_callocs callocs succeed and later ones fail (-1: none).
 */
static void
attach(const char *uid, uint64_t client, int fail_callocs)
{
	struct im_attach *m = msg_new(IM_ATTACH);

	ck_assert_ptr_nonnull(m);
	msg_origin(&m->from, 0, client, "");
	snprintf(m->user, sizeof m->user, "%s", uid);
	failalloc_calloc_left = fail_callocs;
	bus_attach(&workers[0], m);
	failalloc_reset();
}

/* Joins user uid (client `client` of worker 0) to ch, asking for history. */
static void
join(const char *ch, const char *uid, uint64_t client, int history)
{
	struct im_join *m = msg_new(IM_JOIN);

	ck_assert_ptr_nonnull(m);
	msg_origin(&m->from, 0, client, "1");
	snprintf(m->ch, sizeof m->ch, "%s", ch);
	snprintf(m->user, sizeof m->user, "%s", uid);
	snprintf(m->name, sizeof m->name, "%s-name", uid);
	m->history = history;
	m->since = -1;
	bus_join(&workers[0], m);
	pump();
}

/* Takes user uid's membership of ch on worker 0 away. */
static void
leave(const char *ch, const char *uid, struct im_leave *m)
{
	ck_assert_ptr_nonnull(m);
	m->worker = 0;
	snprintf(m->ch, sizeof m->ch, "%s", ch);
	snprintf(m->user, sizeof m->user, "%s", uid);
	snprintf(m->name, sizeof m->name, "%s-name", uid);
	bus_leave(&workers[0], m);
	pump();
}

/* Publishes text to ch from client `client` of worker 0. */
static void
publish(const char *ch, uint64_t client, const char *text)
{
	struct im_publish *m = msg_new(IM_PUBLISH);
	char body[128];

	ck_assert_ptr_nonnull(m);
	msg_origin(&m->from, 0, client, "7");
	snprintf(m->ch, sizeof m->ch, "%s", ch);
	snprintf(body, sizeof body, "\"ch\":\"%s\",\"text\":\"%s\"}", ch, text);
	m->body = strdup(body);
	m->len = strlen(body);
	bus_publish(&workers[0], m);
	pump();
}

/* Asks ch's history or who (type) for client `client` of worker 0. */
static void
ask(int type, const char *ch, uint64_t client, int limit)
{
	struct im_query *m = msg_new((enum imsg_type)type);

	ck_assert_ptr_nonnull(m);
	msg_origin(&m->from, 0, client, "\"q\"");
	snprintf(m->ch, sizeof m->ch, "%s", ch);
	m->limit = limit;
	m->since = -1;
	if (type == IM_HISTORY)
		bus_history(&workers[0], m);
	else
		bus_who(&workers[0], m);
	pump();
}

/* The string member name of the last thing seen, or "". */
static const char *
str(const struct seen *s, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(s->json, name);

	return cJSON_IsString(it) ? it->valuestring : "";
}

/* The number member name of a seen frame, or -1. */
static double
num(const struct seen *s, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(s->json, name);

	return cJSON_IsNumber(it) ? it->valuedouble : -1;
}

/* The last frame seen, which must be an answer to client. */
static const struct seen *
last_answer(uint64_t client)
{
	ck_assert_int_gt(nseen, 0);
	ck_assert_int_eq(seen[nseen - 1].type, IM_TO_CLIENT);
	ck_assert_uint_eq(seen[nseen - 1].client, client);
	ck_assert_ptr_nonnull(seen[nseen - 1].json);
	return &seen[nseen - 1];
}

/* The count of who on ch, asked now. */
static int
who_count(const char *ch)
{
	const struct seen *s;

	ask(IM_WHO, ch, 99, 0);
	s = last_answer(99);
	if (strcmp(str(s, "op"), "err") == 0)
		return strcmp(str(s, "code"), "no_such_channel") == 0 ? 0 : -1;
	ck_assert_str_eq(str(s, "op"), "who");
	return (int)num(s, "count");
}

START_TEST(test_join_answers_and_activates)
{
	const char *ch = chan1(1);
	const struct seen *s;

	join(ch, "alice", 11, -1);
	s = last_answer(11);
	ck_assert_int_eq(s->action, ACT_ACTIVATE);
	ck_assert_str_eq(s->ch, ch);
	ck_assert_str_eq(str(s, "op"), "joined");
	ck_assert_str_eq(str(s, "ch"), ch);
	ck_assert(num(s, "seq") == 0);
	ck_assert(num(s, "members") == 1);
	ck_assert(num(s, "id") == 1);
	ck_assert_ptr_null(cJSON_GetObjectItem(s->json, "msgs"));
}
END_TEST

START_TEST(test_presence_skips_the_user)
{
	const char *ch = chan1(2);
	const struct seen *s;
	char name[32];

	snprintf(name, sizeof name, "%s", ch);
	join(name, "alice", 11, -1);
	forget();
	join(name, "bob", 12, -1);
	/* Worker 0 has members: the presence comes to it, without bob. */
	ck_assert_int_eq(nseen, 2);
	s = &seen[0];
	ck_assert_int_eq(s->type, IM_DELIVER);
	ck_assert_str_eq(s->except, "bob");
	ck_assert_str_eq(str(s, "op"), "presence");
	ck_assert_str_eq(str(s, "event"), "join");
	s = last_answer(12);
	ck_assert(num(s, "members") == 2);
	forget();
	/* A second connection of bob is no new member: no presence. */
	join(name, "bob", 13, -1);
	ck_assert_int_eq(nseen, 1);
	ck_assert(num(last_answer(13), "members") == 2);
}
END_TEST

START_TEST(test_publish_sequences_and_fans_out)
{
	const char *ch = chan1(3);
	char name[32];
	const struct seen *s;
	int i;

	snprintf(name, sizeof name, "%s", ch);
	join(name, "alice", 11, -1);
	for (i = 1; i <= 3; i++) {
		int first = nseen;

		publish(name, 11, "hi");
		ck_assert_int_eq(nseen, first + 2);
		s = &seen[first];
		ck_assert_int_eq(s->type, IM_DELIVER);
		ck_assert_str_eq(str(s, "op"), "msg");
		ck_assert(num(s, "seq") == i);
		ck_assert_str_eq(str(s, "text"), "hi");
		s = last_answer(11);
		ck_assert_str_eq(str(s, "op"), "ok");
		ck_assert(num(s, "seq") == i);
		ck_assert(num(s, "id") == 7);
	}
	ask(IM_HISTORY, name, 11, 2);
	s = last_answer(11);
	ck_assert_str_eq(str(s, "op"), "history");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(s->json,
	    "msgs")), 2);
	ck_assert(cJSON_GetArrayItem(cJSON_GetObjectItem(s->json, "msgs"),
	    1) != NULL);
	join(name, "bob", 12, 10);
	s = last_answer(12);
	ck_assert(num(s, "seq") == 3);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(s->json,
	    "msgs")), 3);
}
END_TEST

START_TEST(test_publish_to_unknown_channel)
{
	const struct seen *s;

	publish(chan1(4), 11, "nobody");
	s = last_answer(11);
	ck_assert_str_eq(str(s, "op"), "err");
	ck_assert_str_eq(str(s, "code"), "not_member");
	ck_assert_int_eq(who_count(chan1(4)), 0);
}
END_TEST

START_TEST(test_leave_and_who)
{
	const char *ch = chan1(5);
	char name[32];

	snprintf(name, sizeof name, "%s", ch);
	join(name, "alice", 11, -1);
	join(name, "bob", 12, -1);
	ck_assert_int_eq(who_count(name), 2);
	forget();
	leave(name, "bob", msg_new(IM_LEAVE));
	ck_assert_int_eq(nseen, 1);
	ck_assert_str_eq(str(&seen[0], "event"), "leave");
	ck_assert_int_eq(who_count(name), 1);
}
END_TEST

/*
 * Regression: a leave posted while memory is short was lost, and the
 * owner kept the member for ever (who listed it, presence never said it
 * left).  An urgent message comes from the worker's reserve.
 */
START_TEST(test_leave_survives_out_of_memory)
{
	const char *ch = chan1(6);
	char name[32];
	struct im_leave *m;

	snprintf(name, sizeof name, "%s", ch);
	ck_assert_int_eq(msg_reserve_fill(), 0);
	join(name, "alice", 11, -1);
	join(name, "bob", 12, -1);
	failalloc_calloc_left = 0;
	failalloc_malloc_left = 0;
	m = msg_new_urgent(IM_LEAVE);
	failalloc_reset();
	ck_assert_ptr_nonnull(m);
	leave(name, "bob", m);
	ck_assert_int_eq(who_count(name), 1);
}
END_TEST

START_TEST(test_attach_counts_and_refuses)
{
	struct im_attach *m;
	int i;

	relay.cfg.user_connections_max = 2;
	for (i = 0; i < 3; i++) {
		m = msg_new(IM_ATTACH);
		msg_origin(&m->from, 0, (uint64_t)(20 + i), "");
		snprintf(m->user, sizeof m->user, "carol");
		bus_attach(&workers[0], m);
		pump();
		ck_assert_int_eq(seen[nseen - 1].type, IM_TO_CLIENT);
		ck_assert_int_eq(seen[nseen - 1].action,
		    i < 2 ? ACT_AUTH_OK : ACT_AUTH_REFUSE);
	}
}
END_TEST

/*
 * Regression: when the owner could not send its answer to an attach (out
 * of memory), the connection was counted anyway and never given back:
 * the user was refused for ever once user_connections_max such losses
 * had happened.
 */
START_TEST(test_lost_attach_answer_is_not_counted)
{
	char uid[32];

	relay.cfg.user_connections_max = 1;
	/* Another user first, so the owner's map has its buckets already. */
	attach(user0(1), 29, -1);
	pump();
	snprintf(uid, sizeof uid, "%s", user0(2));
	/* The answer to this attach is lost: its calloc fails. */
	attach(uid, 30, 0);
	pump();
	forget();
	attach(uid, 31, -1);
	pump();
	ck_assert_int_eq(nseen, 1);
	ck_assert_uint_eq(seen[0].client, 31);
	ck_assert_int_eq(seen[0].action, ACT_AUTH_OK);
}
END_TEST

/* Makes n channels with one old message and no member (they wait for the sweep). */
static void
idle_channels(int n)
{
	char name[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "%s", chan1(100 + i));
		join(name, "eve", 40, -1);
		publish(name, 40, "old");
		leave(name, "eve", msg_new(IM_LEAVE));
	}
}

/* Runs worker 1's tick as if a sweep were due and history had expired. */
static void
sweep_now(int64_t loop_ms)
{
	relay.bus->tick(&workers[1], loop_ms, proto_now_ms() +
	    relay.cfg.history_ttl_ms + 1000);
}

/*
 * Regression: the sweep doubled its list's capacity before realloc had
 * succeeded, so after a failed realloc it wrote past the list (ASan: a
 * heap overflow).  Now the channels it could not note are dropped at the
 * next sweep.
 */
START_TEST(test_sweep_survives_failed_realloc)
{
	relay.cfg.channel_ttl_ms = 0;
	idle_channels(40);
	ck_assert_int_eq((int)workers[1].stats.channels, 40);
	/* The list's first allocation (16) succeeds, its growth fails. */
	failalloc_realloc_left = 1;
	sweep_now(100000);
	failalloc_reset();
	ck_assert_int_eq((int)workers[1].stats.channels, 40 - 16);
	sweep_now(200000);
	ck_assert_int_eq((int)workers[1].stats.channels, 0);
}
END_TEST

static Suite *
bus_local_suite(void)
{
	Suite *s = suite_create("bus_local");
	TCase *tc = tcase_create("bus");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_join_answers_and_activates);
	tcase_add_test(tc, test_presence_skips_the_user);
	tcase_add_test(tc, test_publish_sequences_and_fans_out);
	tcase_add_test(tc, test_publish_to_unknown_channel);
	tcase_add_test(tc, test_leave_and_who);
	tcase_add_test(tc, test_leave_survives_out_of_memory);
	tcase_add_test(tc, test_attach_counts_and_refuses);
	tcase_add_test(tc, test_lost_attach_answer_is_not_counted);
	tcase_add_test(tc, test_sweep_survives_failed_realloc);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(bus_local_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
