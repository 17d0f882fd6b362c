/*
 * check_gather.c: the moderators' cluster-wide questions (gather.c) on
 * the in-process bus: the question goes to both workers as a control
 * command, each answers its part, and the asker merges the parts into one
 * frame for its client: stats summed, channels added up busiest first and
 * cut at the limit, a user's ban and mutes; an answer still incomplete at
 * the deadline goes out from gather_tick with the instance named missing.
 * Two workers without lws (workers.h); the channels' members are fake
 * (any pointer does for the room table).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "dispatch.h"
#include "frame.h"
#include "gather.h"
#include "modstate.h"
#include "msg.h"
#include "proto.h"
#include "room.h"
#include "worker.h"
#include "workers.h"

#define ANSWERS_MAX 80
#define MEMBERS_MAX 32

static struct test_workers tw;
static cJSON *answers[ANSWERS_MAX];	/* frames to clients, parsed */
static uint64_t answer_client[ANSWERS_MAX];
static int answer_worker[ANSWERS_MAX];
static int nanswers;
static bool drop_parts_of_1;	/* worker 1's parts are lost */
static int parts_dropped;

/* A member of a room: its set (the room table's other side). */
static struct room_set sets[2][MEMBERS_MAX];
static int nsets[2];

/* Records answers to clients; drops worker 1's parts if asked; runs the rest. */
static void
test_dispatch(struct worker *w, struct imsg *m)
{
	if (m->type == IM_TO_CLIENT) {
		struct im_to_client *t = (struct im_to_client *)m;

		ck_assert_int_lt(nanswers, ANSWERS_MAX);
		ck_assert_ptr_nonnull(t->frame);
		answer_worker[nanswers] = w->idx;
		answer_client[nanswers] = t->client;
		answers[nanswers] = cJSON_ParseWithLength(
		    frame_payload(t->frame), frame_payload_len(t->frame));
		ck_assert_ptr_nonnull(answers[nanswers]);
		nanswers++;
		msg_free(m);
		return;
	}
	if (m->type == IM_ANSWER && drop_parts_of_1) {
		struct im_control *c = (struct im_control *)m;
		cJSON *part = cJSON_ParseWithLength(c->body, c->len);
		const cJSON *from = cJSON_GetObjectItem(part, "worker");
		bool drop = cJSON_IsNumber(from) && from->valuedouble == 1;

		cJSON_Delete(part);
		if (drop) {
			parts_dropped++;
			msg_free(m);
			return;
		}
	}
	dispatch_message(w, m);
}

static void
setup(void)
{
	test_workers_init(&tw, test_dispatch);
	snprintf(tw.relay.node_key, sizeof tw.relay.node_key, "%s/b00t",
	    tw.relay.node);
	nanswers = 0;
	drop_parts_of_1 = false;
	parts_dropped = 0;
	memset(sets, 0, sizeof sets);
	nsets[0] = nsets[1] = 0;
}

static void
teardown(void)
{
	int i, j;

	for (i = 0; i < nanswers; i++)
		cJSON_Delete(answers[i]);
	for (j = 0; j < 2; j++)
		for (i = 0; i < nsets[j]; i++)
			room_leave_all(&tw.w[j].rooms, &sets[j][i], NULL, NULL);
	test_workers_free(&tw);
}

/* Puts n fake members in channel ch on worker wi (pending ones too, if !active). */
static void
members(int wi, const char *ch, int n, bool active)
{
	struct room_set *s;
	int i;

	for (i = 0; i < n; i++) {
		ck_assert_int_lt(nsets[wi], MEMBERS_MAX);
		s = &sets[wi][nsets[wi]++];
		ck_assert_int_eq(room_join(&tw.w[wi].rooms, s, s, ch, 32,
		    active), 0);
	}
}

/* The member name of o, failing if absent. */
static const cJSON *
get(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	ck_assert_msg(it != NULL, "no %s", name);
	return it;
}

static const char *
str(const cJSON *o, const char *name)
{
	const cJSON *it = get(o, name);

	ck_assert_msg(cJSON_IsString(it), "%s is not a string", name);
	return it->valuestring;
}

static double
num(const cJSON *o, const char *name)
{
	const cJSON *it = get(o, name);

	ck_assert_msg(cJSON_IsNumber(it), "%s is not a number", name);
	return it->valuedouble;
}

/* Checks that o's "missing" lists exactly the names given (NULL-terminated). */
static void
expect_missing(const cJSON *o, const char *const *names)
{
	const cJSON *m = get(o, "missing");
	int i;

	ck_assert(cJSON_IsArray(m));
	for (i = 0; names[i] != NULL; i++) {
		ck_assert(cJSON_IsString(cJSON_GetArrayItem(m, i)));
		ck_assert_str_eq(cJSON_GetArrayItem(m, i)->valuestring,
		    names[i]);
	}
	ck_assert_int_eq(cJSON_GetArraySize(m), i);
}

static const char *const none[] = { NULL };

/* ------------------------------------------------------------- stats */

START_TEST(test_stats_from_both_workers)
{
	const cJSON *a, *nodes, *n0, *tot;

	atomic_store(&tw.w[0].stats.users, 3);
	atomic_store(&tw.w[1].stats.users, 4);
	atomic_store(&tw.w[0].stats.channels, 1);
	atomic_store(&tw.w[1].stats.channels, 2);
	gather_start(&tw.w[0], 7, "\"s\"", Q_STATS, NULL, NULL, 0);
	/* Worker 1's part is still in an inbox: no answer yet. */
	ck_assert_int_eq(nanswers, 0);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 1);
	ck_assert_int_eq(answer_worker[0], 0);
	ck_assert_uint_eq(answer_client[0], 7);
	a = answers[0];
	ck_assert_str_eq(str(a, "op"), "stats");
	ck_assert_str_eq(str(a, "id"), "s");
	nodes = get(a, "nodes");
	ck_assert_int_eq(cJSON_GetArraySize(nodes), 1);
	n0 = cJSON_GetArrayItem(nodes, 0);
	ck_assert_str_eq(str(n0, "node"), "test");	/* the boot id cut */
	ck_assert_int_eq(num(n0, "workers"), 2);
	/* Each worker's part counted once (each got the question twice). */
	ck_assert_int_eq(num(n0, "users"), 7);
	ck_assert_int_eq(num(n0, "channels"), 3);
	ck_assert_int_eq(num(n0, "connections"), 0);
	ck_assert_str_eq(str(n0, "bus"), "local");
	tot = get(a, "total");
	ck_assert_int_eq(num(tot, "nodes"), 1);
	ck_assert_int_eq(num(tot, "users"), 7);
	ck_assert_int_eq(num(tot, "channels"), 3);
	expect_missing(a, none);
	/* Nothing left waiting: the deadline answers nothing more. */
	gather_tick(&tw.w[0], worker_now(&tw.w[0]) + 10 * GATHER_WAIT_MS);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 1);
}
END_TEST

/* Asked on worker 1, answered on worker 1; an id-less request has no id. */
START_TEST(test_stats_from_worker_1)
{
	gather_start(&tw.w[1], 3, "", Q_STATS, NULL, NULL, 0);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 1);
	ck_assert_int_eq(answer_worker[0], 1);
	ck_assert_uint_eq(answer_client[0], 3);
	ck_assert_ptr_null(cJSON_GetObjectItem(answers[0], "id"));
	ck_assert_int_eq(num(cJSON_GetArrayItem(get(answers[0], "nodes"), 0),
	    "workers"), 2);
	expect_missing(answers[0], none);
}
END_TEST

/* ---------------------------------------------------------- channels */

/* Checks that channels holds exactly names[i] with members[i] and seqs[i]. */
static void
expect_channels(const cJSON *a, const char *const *names, const int *m,
    const int *seqs, int n)
{
	const cJSON *chs = get(a, "channels"), *c;
	int i;

	ck_assert_str_eq(str(a, "op"), "channels");
	ck_assert_int_eq(cJSON_GetArraySize(chs), n);
	for (i = 0; i < n; i++) {
		c = cJSON_GetArrayItem(chs, i);
		ck_assert_str_eq(str(c, "ch"), names[i]);
		ck_assert_int_eq(num(c, "members"), m[i]);
		ck_assert_int_eq(num(c, "seq"), seqs[i]);
	}
}

/* Both workers' rooms: members added up, the highest seq, busiest first. */
static void
rooms(void)
{
	members(0, "lobby", 3, true);
	members(0, "party:1", 1, true);
	members(0, "a-room", 1, true);
	members(0, "pending", 2, false);	/* joins not confirmed yet */
	members(1, "lobby", 2, true);
	members(1, "party:2", 4, true);
	members(1, "party:1", 1, true);
	members(1, "b-room", 1, true);
	room_seen(&tw.w[0].rooms, "lobby", 10);
	room_seen(&tw.w[1].rooms, "lobby", 12);
	room_seen(&tw.w[0].rooms, "party:1", 7);
	room_seen(&tw.w[1].rooms, "party:1", 5);
}

START_TEST(test_channels_merged)
{
	static const char *const names[] = {
		"lobby", "party:2", "party:1", "a-room", "b-room",
	};
	static const int m[] = { 5, 4, 2, 1, 1 };
	static const int seqs[] = { 12, 0, 7, 0, 0 };

	rooms();
	gather_start(&tw.w[0], 7, "1", Q_CHANNELS, NULL, "", 20);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 1);
	ck_assert_int_eq(num(answers[0], "id"), 1);
	expect_channels(answers[0], names, m, seqs, 5);
	expect_missing(answers[0], none);
}
END_TEST

START_TEST(test_channels_limit_and_prefix)
{
	static const char *const top[] = { "lobby", "party:2" };
	static const int top_m[] = { 5, 4 }, top_seq[] = { 12, 0 };
	static const char *const party[] = { "party:2", "party:1" };
	static const int party_m[] = { 4, 2 }, party_seq[] = { 0, 7 };

	rooms();
	gather_start(&tw.w[0], 7, "2", Q_CHANNELS, NULL, "", 2);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 1);
	expect_channels(answers[0], top, top_m, top_seq, 2);
	gather_start(&tw.w[1], 8, "3", Q_CHANNELS, NULL, "party:", 0);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 2);
	ck_assert_int_eq(answer_worker[1], 1);
	expect_channels(answers[1], party, party_m, party_seq, 2);
	/* No room matches on either worker (UBSan once saw qsort(NULL, 0)). */
	gather_start(&tw.w[0], 7, "4", Q_CHANNELS, NULL, "nothing", 5);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 3);
	expect_channels(answers[2], NULL, NULL, NULL, 0);
}
END_TEST

/*
 * A channel second on each of two workers is first in the cluster: each
 * worker reports more than limit channels, so the sum ranks it (with only
 * limit of each, y(4+4) lost to x(5)).
 */
START_TEST(test_channels_rank_by_sum)
{
	static const char *const top[] = { "y" };
	static const int top_m[] = { 8 }, top_seq[] = { 0 };

	members(0, "x", 5, true);
	members(0, "y", 4, true);
	members(1, "y", 4, true);
	members(1, "z", 3, true);
	gather_start(&tw.w[0], 7, "5", Q_CHANNELS, NULL, "", 1);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 1);
	expect_channels(answers[0], top, top_m, top_seq, 1);
}
END_TEST

/* -------------------------------------------------------------- user */

START_TEST(test_user_state)
{
	const cJSON *a, *ban, *mutes, *m;
	int64_t later = proto_now_ms() + 3600000;

	ck_assert_int_eq(modstate_set(&tw.w[0].mod, MOD_BAN, "bob", NULL, 0, 0,
	    "mod", "spam", "c", 1), 0);
	ck_assert_int_eq(modstate_set(&tw.w[0].mod, MOD_MUTE, "bob", "lobby",
	    later, 0, "m2", NULL, "c", 1), 0);
	ck_assert_int_eq(modstate_set(&tw.w[0].mod, MOD_MUTE, "bob", NULL, 0,
	    0, "m3", "loud", "c", 1), 0);
	ck_assert_int_eq(modstate_set(&tw.w[0].mod, MOD_MUTE, "a|bob", NULL, 0,
	    0, "m3", "other", "c", 1), 0);
	gather_start(&tw.w[0], 7, "\"u\"", Q_USER, "bob", NULL, 0);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 1);
	a = answers[0];
	ck_assert_str_eq(str(a, "op"), "user");
	ck_assert_str_eq(str(a, "user"), "bob");
	ck_assert(cJSON_IsFalse(get(a, "online")));
	ck_assert_int_eq(cJSON_GetArraySize(get(a, "sessions")), 0);
	ban = get(a, "ban");
	ck_assert_int_eq(num(ban, "until"), 0);
	ck_assert_str_eq(str(ban, "reason"), "spam");
	ck_assert_str_eq(str(ban, "by"), "mod");
	mutes = get(a, "mutes");
	ck_assert_int_eq(cJSON_GetArraySize(mutes), 2);
	m = cJSON_GetArrayItem(mutes, 0);
	if (cJSON_IsNull(get(m, "ch")))
		m = cJSON_GetArrayItem(mutes, 1);
	ck_assert_str_eq(str(m, "ch"), "lobby");
	ck_assert_int_eq(num(m, "until"), later);
	ck_assert(cJSON_IsNull(get(m, "reason")));
	ck_assert_str_eq(str(m, "by"), "m2");
	m = cJSON_GetArrayItem(mutes, 0) == m ? cJSON_GetArrayItem(mutes, 1) :
	    cJSON_GetArrayItem(mutes, 0);
	ck_assert(cJSON_IsNull(get(m, "ch")));
	ck_assert_str_eq(str(m, "reason"), "loud");
	ck_assert_str_eq(str(m, "by"), "m3");
	expect_missing(a, none);
}
END_TEST

/* ---------------------------------------------------------- deadline */

/* Worker 1's parts are lost: the answer goes at the deadline, with what there is. */
START_TEST(test_deadline)
{
	static const char *const me[] = { "test", NULL };
	const cJSON *a, *n0;
	int64_t t0 = worker_now(&tw.w[0]);

	atomic_store(&tw.w[0].stats.users, 3);
	atomic_store(&tw.w[1].stats.users, 4);
	drop_parts_of_1 = true;
	gather_start(&tw.w[0], 7, "\"d\"", Q_STATS, NULL, NULL, 0);
	test_workers_pump(&tw);
	ck_assert_int_eq(parts_dropped, 2);	/* it answered twice */
	ck_assert_int_eq(nanswers, 0);
	gather_tick(&tw.w[0], t0 + GATHER_WAIT_MS - 1);
	ck_assert_int_eq(nanswers, 0);
	gather_tick(&tw.w[0], t0 + GATHER_WAIT_MS);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 1);
	a = answers[0];
	ck_assert_str_eq(str(a, "op"), "stats");
	ck_assert_str_eq(str(a, "id"), "d");
	n0 = cJSON_GetArrayItem(get(a, "nodes"), 0);
	ck_assert_ptr_nonnull(n0);
	ck_assert_int_eq(num(n0, "users"), 3);	/* worker 0's alone */
	ck_assert_int_eq(num(n0, "workers"), 2);
	expect_missing(a, me);
	/* A part that comes late is dropped: answered once. */
	drop_parts_of_1 = false;
	gather_tick(&tw.w[0], t0 + 5 * GATHER_WAIT_MS);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 1);
}
END_TEST

/* At most GATHER_MAX questions wait at once; the next is told to try again. */
START_TEST(test_too_many_in_flight)
{
	int64_t t0 = worker_now(&tw.w[0]);
	int i;

	drop_parts_of_1 = true;
	for (i = 0; i < GATHER_MAX; i++)
		gather_start(&tw.w[0], 7, "1", Q_STATS, NULL, NULL, 0);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 0);
	gather_start(&tw.w[0], 9, "\"x\"", Q_STATS, NULL, NULL, 0);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 1);
	ck_assert_uint_eq(answer_client[0], 9);
	ck_assert_str_eq(str(answers[0], "op"), "err");
	ck_assert_str_eq(str(answers[0], "code"), "unavailable");
	ck_assert_str_eq(str(answers[0], "id"), "x");
	/* The deadline answers every one of them, and there is room again. */
	gather_tick(&tw.w[0], t0 + GATHER_WAIT_MS);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 1 + GATHER_MAX);
	for (i = 1; i <= GATHER_MAX; i++)
		ck_assert_str_eq(str(answers[i], "op"), "stats");
	drop_parts_of_1 = false;
	gather_start(&tw.w[0], 9, "2", Q_STATS, NULL, NULL, 0);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 2 + GATHER_MAX);
	ck_assert_str_eq(str(answers[1 + GATHER_MAX], "op"), "stats");
	expect_missing(answers[1 + GATHER_MAX], none);
}
END_TEST

/* Parts that are not for a question waiting here are dropped. */
START_TEST(test_stray_parts)
{
	static const char *const bad[] = {
		"not json",
		"{\"qid\":999,\"nk\":\"test/b00t\",\"worker\":1,\"workers\":2}",
		"{\"qid\":1,\"worker\":1,\"workers\":2}",
		"{\"qid\":1,\"nk\":\"test/b00t\",\"worker\":64,\"workers\":2}",
		"{\"qid\":1,\"nk\":\"test/b00t\",\"worker\":1,\"workers\":0}",
		"{\"qid\":1,\"nk\":\"test/b00t\",\"worker\":-1,\"workers\":2}",
	};
	static const char last[] = "{\"qid\":1,\"nk\":\"test/b00t\","
	    "\"worker\":1,\"workers\":2,\"users\":5}";
	size_t i;

	drop_parts_of_1 = true;
	gather_start(&tw.w[0], 7, "1", Q_STATS, NULL, NULL, 0);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		gather_on_answer(&tw.w[0], bad[i], strlen(bad[i]));
	ck_assert_int_eq(nanswers, 0);
	/* The part that was missing completes it. */
	gather_on_answer(&tw.w[0], last, strlen(last));
	ck_assert_int_eq(nanswers, 1);
	ck_assert_int_eq(num(cJSON_GetArrayItem(get(answers[0], "nodes"), 0),
	    "users"), 5);
	expect_missing(answers[0], none);
}
END_TEST

static Suite *
gather_suite(void)
{
	Suite *s = suite_create("gather");
	TCase *tc = tcase_create("questions");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stats_from_both_workers);
	tcase_add_test(tc, test_stats_from_worker_1);
	tcase_add_test(tc, test_channels_merged);
	tcase_add_test(tc, test_channels_limit_and_prefix);
	tcase_add_test(tc, test_channels_rank_by_sum);
	tcase_add_test(tc, test_user_state);
	tcase_add_test(tc, test_deadline);
	tcase_add_test(tc, test_too_many_in_flight);
	tcase_add_test(tc, test_stray_parts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(gather_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
