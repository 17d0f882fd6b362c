/*
 * check_scripts.c: the Redis bus's Lua scripts, run in a real redis-server
 * (redis-server.c: a free loopback port, persistence off) with hiredis's
 * synchronous API, so their logic is checked apart from the relay.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "bus-scripts.h"
#include "redis-server.h"

static struct test_redis server;
static redisContext *rc;

/* Starts redis-server and connects to it (a fresh, empty one per test). */
static void
setup(void)
{
	test_redis_init(&server, NULL);
	test_redis_start(&server);
	rc = redisConnect("127.0.0.1", server.port);
	ck_assert_msg(rc != NULL && rc->err == 0, "cannot connect to "
	    "redis-server on port %d", server.port);
}

/* Disconnects and kills the server. */
static void
teardown(void)
{
	if (rc != NULL)
		redisFree(rc);
	rc = NULL;
	test_redis_kill(&server);
}

/* Runs a script with the given keys and args (NULL-terminated lists). */
static redisReply *
eval(const char *src, const char *const *keys, const char *const *args)
{
	const char *argv[32];
	char nk[16];
	int argc = 0, n = 0;

	argv[argc++] = "EVAL";
	argv[argc++] = src;
	while (keys[n] != NULL)
		n++;
	snprintf(nk, sizeof nk, "%d", n);
	argv[argc++] = nk;
	for (n = 0; keys[n] != NULL; n++)
		argv[argc++] = keys[n];
	for (n = 0; args[n] != NULL; n++)
		argv[argc++] = args[n];
	return redisCommandArgv(rc, argc, argv, NULL);
}

/* Runs a plain command; returns the reply. */
static redisReply *
cmd(const char *a0, const char *a1, const char *a2)
{
	const char *argv[3] = { a0, a1, a2 };
	int argc = a2 != NULL ? 3 : a1 != NULL ? 2 : 1;

	return redisCommandArgv(rc, argc, argv, NULL);
}

/* The keys of channel g: seq, history, epoch. */
#define G_KEYS "chatrelay:seq:g", "chatrelay:hist:g", "chatrelay:epoch:g"

/*
 * Publishes body to channel g as a caller that has seen seq known and been
 * given seq given, with candidate epoch cand; returns the seq (-1:
 * refused), and the epoch in epoch (if not NULL).
 */
static long long
publish_given(const char *ts, const char *body, const char *size,
    const char *known, const char *cand, const char *given, char *epoch)
{
	const char *keys[] = { G_KEYS, NULL };
	const char *args[] = { ts, body, size, "3600000", "chatrelay:ch:g",
	    "86400000", known, cand, given, NULL };
	redisReply *r = eval(bus_script_publish, keys, args);
	long long seq;

	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->type == REDIS_REPLY_ARRAY && r->elements == 2,
	    "publish: %s", r->type == REDIS_REPLY_ERROR ? r->str :
	    "not {seq, epoch}");
	seq = r->element[0]->integer;
	if (epoch != NULL)
		snprintf(epoch, 17, "%s", r->element[1]->str);
	freeReplyObject(r);
	return seq;
}

/* publish_given for a caller that was given nothing. */
static long long
publish_as(const char *ts, const char *body, const char *size,
    const char *known, const char *cand, char *epoch)
{
	return publish_given(ts, body, size, known, cand, "0", epoch);
}

/* Publishes body to channel g (a caller that has seen nothing); returns the seq. */
static long long
publish(const char *ts, const char *body, const char *size)
{
	return publish_as(ts, body, size, "0", "e0", NULL);
}

START_TEST(test_publish_seq_and_history)
{
	const char *keys[] = { G_KEYS, NULL };
	const char *none[] = { NULL };
	redisReply *r;
	int i;

	for (i = 1; i <= 7; i++)
		ck_assert_int_eq(publish("1700000000000",
		    "\"ch\":\"g\",\"text\":\"x\"}", "5"), i);
	r = eval(bus_script_history, keys, none);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_int_eq(r->element[0]->integer, 7);
	/* Capped at history_size 5: seq 3 to 7, oldest first. */
	ck_assert_int_eq((int)r->element[1]->elements, 5);
	ck_assert_str_eq(r->element[1]->element[0]->str,
	    "{\"op\":\"msg\",\"seq\":3,\"ts\":1700000000000,\"epoch\":\"e0\","
	    "\"ch\":\"g\",\"text\":\"x\"}");
	ck_assert_str_eq(r->element[2]->str, "e0");
	ck_assert_ptr_nonnull(strstr(r->element[1]->element[4]->str,
	    "\"seq\":7,"));
	freeReplyObject(r);
	/* history_size 0 keeps nothing but still counts. */
	ck_assert_int_eq(publish("1", "\"ch\":\"g\",\"text\":\"y\"}", "0"), 8);
}
END_TEST

/* Runs join or leave for (uid, name) in channel g on node n1. */
static redisReply *
member(const char *src, const char *uid, const char *name, const char *max)
{
	const char *keys[] = { "chatrelay:memc:g", "chatrelay:memn:g",
	    "chatrelay:nodemem:n1", "chatrelay:seq:g", "chatrelay:nodes", NULL };
	char field[128];
	const char *args[] = { uid, name, field, max, "chatrelay:ch:g", "g",
	    "n1", "5000", NULL };

	snprintf(field, sizeof field, "g\n%s", uid);
	return eval(src, keys, args);
}

START_TEST(test_join_leave_counts_users)
{
	redisReply *r, *who;
	const char *keys[] = { "chatrelay:memn:g", NULL };
	const char *none[] = { NULL };

	r = member(bus_script_join, "u1", "Ann \"A\"", "100");
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_int_eq(r->element[0]->integer, 1);
	freeReplyObject(r);
	/* A second connection of the same user: still one member. */
	r = member(bus_script_join, "u1", "Ann \"A\"", "100");
	ck_assert_int_eq(r->element[0]->integer, 1);
	freeReplyObject(r);
	r = member(bus_script_join, "u2", "Bo", "100");
	ck_assert_int_eq(r->element[0]->integer, 2);
	freeReplyObject(r);
	who = eval(bus_script_who, keys, none);
	ck_assert_int_eq(who->element[0]->integer, 2);
	ck_assert_int_eq((int)who->element[1]->elements, 4);
	freeReplyObject(who);
	/* One of u1's two connections leaves: u1 stays. */
	r = member(bus_script_leave, "u1", "Ann \"A\"", "100");
	ck_assert_int_eq(r->integer, 2);
	freeReplyObject(r);
	r = member(bus_script_leave, "u1", "Ann \"A\"", "100");
	ck_assert_int_eq(r->integer, 1);
	freeReplyObject(r);
	/* A leave this node never counted changes nothing. */
	r = member(bus_script_leave, "u1", "Ann \"A\"", "100");
	ck_assert_int_eq(r->integer, 1);
	freeReplyObject(r);
}
END_TEST

/*
 * Runs remember for (uid, name) in channel g on node n1 with count want;
 * tell: "1" to publish presence for a member it adds or removes.
 */
static long long
remember_tell(const char *uid, const char *name, const char *want,
    const char *tell)
{
	const char *keys[] = { "chatrelay:memc:g", "chatrelay:memn:g",
	    "chatrelay:nodemem:n1", "chatrelay:seq:g", "chatrelay:nodes", NULL };
	char field[128];
	const char *args[] = { uid, name, field, "100", "chatrelay:ch:g", "g",
	    "n1", "5000", want, tell, NULL };
	redisReply *r;
	long long v;

	snprintf(field, sizeof field, "g\n%s", uid);
	r = eval(bus_script_remember, keys, args);
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

static long long
remember(const char *uid, const char *name, const char *want)
{
	return remember_tell(uid, name, want, "0");
}

START_TEST(test_remember_is_idempotent)
{
	redisReply *r;

	freeReplyObject(member(bus_script_join, "u1", "A", "100"));
	freeReplyObject(member(bus_script_join, "u1", "A", "100"));
	/* Nothing lost: no change. */
	ck_assert_int_eq(remember("u1", "A", "2"), 0);
	/* Redis lost it: the node's two connections come back. */
	r = cmd("FLUSHALL", NULL, NULL);
	freeReplyObject(r);
	ck_assert_int_eq(remember("u1", "A", "2"), 2);
	ck_assert_int_eq(remember("u1", "A", "2"), 0);
	r = cmd("HGET", "chatrelay:memc:g", "u1");
	ck_assert_str_eq(r->str, "2");
	freeReplyObject(r);
	r = cmd("HGET", "chatrelay:memn:g", "u1");
	ck_assert_str_eq(r->str, "A");
	freeReplyObject(r);
	/* Down to none: the member goes. */
	ck_assert_int_eq(remember("u1", "A", "0"), -2);
	r = cmd("HLEN", "chatrelay:memc:g", NULL);
	ck_assert_int_eq(r->integer, 0);
	freeReplyObject(r);
}
END_TEST

/* Reads the next presence event on sub and returns its event name. */
static void
expect_event(redisContext *sub, const char *event, const char *uid)
{
	redisReply *r;
	char want[64];

	ck_assert_int_eq(redisGetReply(sub, (void **)&r), REDIS_OK);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	snprintf(want, sizeof want, "\"event\":\"%s\"", event);
	ck_assert_ptr_nonnull(strstr(r->element[2]->str, want));
	snprintf(want, sizeof want, "\"id\":\"%s\"", uid);
	ck_assert_ptr_nonnull(strstr(r->element[2]->str, want));
	freeReplyObject(r);
}

START_TEST(test_remember_tell_publishes_presence)
{
	redisContext *sub = redisConnect("127.0.0.1", server.port);
	redisReply *r;

	ck_assert_ptr_nonnull(sub);
	r = redisCommand(sub, "SUBSCRIBE chatrelay:ch:g");
	freeReplyObject(r);
	freeReplyObject(member(bus_script_join, "u1", "A", "100"));
	expect_event(sub, "join", "u1");
	/* A leave Redis never heard of: told later, others see the leave. */
	ck_assert_int_eq(remember_tell("u1", "A", "0", "1"), -1);
	/* A member Redis had lost (the node was reaped): a join again. */
	ck_assert_int_eq(remember_tell("u2", "B", "1", "1"), 1);
	/* No change, or a count that changes no membership: no event. */
	ck_assert_int_eq(remember_tell("u2", "B", "1", "1"), 0);
	ck_assert_int_eq(remember_tell("u2", "B", "3", "1"), 2);
	freeReplyObject(member(bus_script_join, "u3", "C", "100"));
	expect_event(sub, "leave", "u1");
	expect_event(sub, "join", "u2");
	expect_event(sub, "join", "u3");
	/* Without tell (Redis lost its data): the member comes back quietly. */
	r = cmd("FLUSHALL", NULL, NULL);
	freeReplyObject(r);
	ck_assert_int_eq(remember_tell("u2", "B", "3", "0"), 3);
	freeReplyObject(member(bus_script_join, "u4", "D", "100"));
	expect_event(sub, "join", "u4");
	r = cmd("HGET", "chatrelay:memc:g", "u2");
	ck_assert_str_eq(r->str, "3");
	freeReplyObject(r);
	redisFree(sub);
}
END_TEST

START_TEST(test_presence_is_valid_json)
{
	redisContext *sub = redisConnect("127.0.0.1", server.port);
	redisReply *r;

	ck_assert_ptr_nonnull(sub);
	r = redisCommand(sub, "SUBSCRIBE chatrelay:ch:g");
	freeReplyObject(r);
	r = member(bus_script_join, "u/1", "N\xc3\xa4m\"e\\", "100");
	freeReplyObject(r);
	ck_assert_int_eq(redisGetReply(sub, (void **)&r), REDIS_OK);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_str_eq(r->element[2]->str,
	    "{\"op\":\"presence\",\"ch\":\"g\",\"event\":\"join\",\"user\":"
	    "{\"id\":\"u\\/1\",\"name\":\"N\xc3\xa4m\\\"e\\\\\"}}");
	freeReplyObject(r);
	/* Above presence_events_max: no event. */
	r = member(bus_script_join, "u2", "B", "1");
	freeReplyObject(r);
	r = member(bus_script_leave, "u/1", "x", "100");
	freeReplyObject(r);
	ck_assert_int_eq(redisGetReply(sub, (void **)&r), REDIS_OK);
	ck_assert_ptr_nonnull(strstr(r->element[2]->str, "\"event\":\"leave\""));
	ck_assert_ptr_nonnull(strstr(r->element[2]->str, "\"id\":\"u\\/1\""));
	freeReplyObject(r);
	redisFree(sub);
}
END_TEST

/* Runs attach or detach of uid on node. */
static long long
user(const char *src, const char *node, const char *uid, bool attach)
{
	char k1[64], k2[64];
	const char *keys3[] = { k1, k2, "chatrelay:nodes", NULL };
	const char *keys[] = { k1, k2, NULL };
	const char *aargs[] = { node, "2", uid, "5000", NULL };
	const char *dargs[] = { node, uid, NULL };
	redisReply *r;
	long long v;

	snprintf(k1, sizeof k1, "chatrelay:user:%s", uid);
	snprintf(k2, sizeof k2, "chatrelay:nodeusers:%s", node);
	r = eval(src, attach ? keys3 : keys, attach ? aargs : dargs);
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

START_TEST(test_attach_limit_is_cluster_wide)
{
	ck_assert_int_eq(user(bus_script_attach, "n1", "u1", true), 1);
	ck_assert_int_eq(user(bus_script_attach, "n2", "u1", true), 1);
	/* user_connections_max 2, whichever node asks. */
	ck_assert_int_eq(user(bus_script_attach, "n1", "u1", true), 0);
	ck_assert_int_eq(user(bus_script_attach, "n2", "u1", true), 0);
	user(bus_script_detach, "n2", "u1", false);
	ck_assert_int_eq(user(bus_script_attach, "n1", "u1", true), 1);
}
END_TEST

START_TEST(test_reattach_is_idempotent)
{
	const char *keys[] = { "chatrelay:user:u1", "chatrelay:nodeusers:n1",
	    "chatrelay:nodes", NULL };
	const char *args3[] = { "n1", "u1", "3", "5000", NULL };
	const char *args0[] = { "n1", "u1", "0", "5000", NULL };
	redisReply *r;

	r = eval(bus_script_reattach, keys, args3);
	ck_assert_int_eq(r->integer, 3);
	freeReplyObject(r);
	r = eval(bus_script_reattach, keys, args3);
	ck_assert_int_eq(r->integer, 0);
	freeReplyObject(r);
	/* Counted as the attach script counts: the limit sees them. */
	ck_assert_int_eq(user(bus_script_attach, "n2", "u1", true), 0);
	r = eval(bus_script_reattach, keys, args0);
	ck_assert_int_eq(r->integer, -3);
	freeReplyObject(r);
	r = cmd("HLEN", "chatrelay:user:u1", NULL);
	ck_assert_int_eq(r->integer, 0);
	freeReplyObject(r);
}
END_TEST

/* Runs the whisper script for uid (frame: the payload) with maxlen and age; returns its answer. */
static long long
whisper(const char *uid, const char *frame, const char *maxlen,
    const char *age)
{
	char k[64];
	const char *keys[] = { k, NULL };
	const char *args[] = { "chatrelay:", uid, frame, maxlen, age, NULL };
	redisReply *r;
	long long v;

	snprintf(k, sizeof k, "chatrelay:user:%s", uid);
	r = eval(bus_script_whisper, keys, args);
	ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "whisper: %s",
	    r->type == REDIS_REPLY_ERROR ? r->str : "not an integer");
	v = r->integer;
	freeReplyObject(r);
	return v;
}

/*
 * Runs the control script for cmd with maxlen and age, and the state
 * change op (key a, number b); returns the entry id (malloc'd).
 */
static char *
control_op(const char *cmd, const char *maxlen, const char *age,
    const char *op, const char *a, const char *b)
{
	const char *keys[] = { "chatrelay:ctlstream", NULL };
	const char *args[] = { cmd, maxlen, age, op, "chatrelay:", a, b, NULL };
	redisReply *r = eval(bus_script_control, keys, args);
	char *id;

	ck_assert_msg(r->type == REDIS_REPLY_STRING, "control: %s",
	    r->type == REDIS_REPLY_ERROR ? r->str : "not a string");
	id = strdup(r->str);
	freeReplyObject(r);
	return id;
}

/* control_op without a state change. */
static char *
control(const char *cmd, const char *maxlen, const char *age)
{
	return control_op(cmd, maxlen, age, "", "", "0");
}

/* Returns a stream's length (XLEN key). */
static long long
xlen(const char *key)
{
	redisReply *r = cmd("XLEN", key, NULL);
	long long n;

	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	n = r->integer;
	freeReplyObject(r);
	return n;
}

/* Checks that stream key's only entry has field f = v (and nothing else but f2 = v2, if f2). */
static void
expect_entry(const char *key, const char *f, const char *v, const char *f2,
    const char *v2)
{
	const char *argv[] = { "XRANGE", key, "-", "+" };
	redisReply *r = redisCommandArgv(rc, 4, argv, NULL), *fields;

	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_int_eq((int)r->elements, 1);
	fields = r->element[0]->element[1];
	ck_assert_int_eq((int)fields->elements, f2 != NULL ? 4 : 2);
	ck_assert_str_eq(fields->element[0]->str, f);
	ck_assert_str_eq(fields->element[1]->str, v);
	if (f2 != NULL) {
		ck_assert_str_eq(fields->element[2]->str, f2);
		ck_assert_str_eq(fields->element[3]->str, v2);
	}
	freeReplyObject(r);
}

START_TEST(test_whisper_reaches_the_user_s_nodes)
{
	redisReply *r;

	/* Offline: nothing stored anywhere. */
	ck_assert_int_eq(whisper("u1", "{\"op\":\"whisper\"}", "100",
	    "60000"), 0);
	r = cmd("KEYS", "chatrelay:wstream:*", NULL);
	ck_assert_int_eq((int)r->elements, 0);
	freeReplyObject(r);
	/* One node. */
	user(bus_script_attach, "n1", "u1", true);
	ck_assert_int_eq(whisper("u1", "{\"op\":\"whisper\"}", "100",
	    "60000"), 1);
	expect_entry("chatrelay:wstream:n1", "u", "u1", "f",
	    "{\"op\":\"whisper\"}");
	r = cmd("PTTL", "chatrelay:wstream:n1", NULL);
	ck_assert(r->integer > 0 && r->integer <= 60000);
	freeReplyObject(r);
	/* Two nodes: one entry more in each node's own stream. */
	user(bus_script_attach, "n2", "u1", true);
	ck_assert_int_eq(whisper("u1", "{}", "100", "60000"), 2);
	ck_assert_int_eq(xlen("chatrelay:wstream:n1"), 2);
	ck_assert_int_eq(xlen("chatrelay:wstream:n2"), 1);
	expect_entry("chatrelay:wstream:n2", "u", "u1", "f", "{}");
	/* Another user's whisper goes to its nodes only. */
	user(bus_script_attach, "n2", "u2", true);
	ck_assert_int_eq(whisper("u2", "{}", "100", "60000"), 1);
	ck_assert_int_eq(xlen("chatrelay:wstream:n1"), 2);
	ck_assert_int_eq(xlen("chatrelay:wstream:n2"), 2);
}
END_TEST

START_TEST(test_control_appends_to_the_stream)
{
	const char *argv[] = { "XRANGE", "chatrelay:ctlstream", NULL, NULL };
	char *a, *b;
	redisReply *r;

	a = control("{\"cmd\":\"kick\",\"user\":\"u1\"}", "100", "60000");
	b = control("{\"cmd\":\"announce\"}", "100", "60000");
	/* Ids grow: "MS-SEQ". */
	ck_assert_ptr_nonnull(strchr(a, '-'));
	ck_assert(strtoll(b, NULL, 10) > strtoll(a, NULL, 10) ||
	    (strtoll(b, NULL, 10) == strtoll(a, NULL, 10) &&
	    strtoll(strchr(b, '-') + 1, NULL, 10) >
	    strtoll(strchr(a, '-') + 1, NULL, 10)));
	ck_assert_int_eq(xlen("chatrelay:ctlstream"), 2);
	argv[2] = argv[3] = a;
	r = redisCommandArgv(rc, 4, argv, NULL);
	ck_assert_int_eq((int)r->elements, 1);
	ck_assert_str_eq(r->element[0]->element[1]->element[0]->str, "c");
	ck_assert_str_eq(r->element[0]->element[1]->element[1]->str,
	    "{\"cmd\":\"kick\",\"user\":\"u1\"}");
	freeReplyObject(r);
	r = cmd("PTTL", "chatrelay:ctlstream", NULL);
	ck_assert(r->integer > 0 && r->integer <= 60000);
	freeReplyObject(r);
	free(a);
	free(b);
}
END_TEST

/* The integer answer of a command (-2 for anything else). */
static long long
cmd_int(const char *a, const char *b, const char *c)
{
	redisReply *r = cmd(a, b, c);
	long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -2;

	freeReplyObject(r);
	return v;
}

/*
 * The control script stores what a command changes: a ban with its expiry,
 * a mute without one, the deletion of one user's mutes (not another's whose
 * id ends the same), a message out of history; modload answers what is
 * stored and forgets expired keys; modput puts back only missing keys.
 */
START_TEST(test_control_changes_the_state)
{
	const char *hkeys[] = { "chatrelay:seq:g", "chatrelay:hist:g",
	    "chatrelay:epoch:g", NULL };
	const char *mkeys[] = { "chatrelay:modkeys", NULL };
	char until[32];
	redisReply *r;
	int i;

	snprintf(until, sizeof until, "%lld",
	    (long long)(time(NULL) + 3600) * 1000);
	free(control_op("{\"cmd\":\"ban\",\"user\":\"bob\"}", "100", "60000",
	    "set", "ban:bob", until));
	ck_assert(cmd_int("PTTL", "chatrelay:mod:ban:bob", NULL) > 3590000);
	free(control_op("{\"cmd\":\"mute\",\"user\":\"b\"}", "100", "60000",
	    "set", "mute:*|b", "0"));
	free(control_op("{\"cmd\":\"mute\",\"user\":\"a|b\"}", "100", "60000",
	    "set", "mute:lobby|a|b", "0"));
	ck_assert_int_eq(cmd_int("PTTL", "chatrelay:mod:mute:*|b", NULL), -1);
	ck_assert_int_eq(cmd_int("SCARD", "chatrelay:modkeys", NULL), 3);
	free(control_op("{\"cmd\":\"unmute\",\"user\":\"b\"}", "100",
	    "60000", "mutes", "b", "0"));
	ck_assert_int_eq(cmd_int("EXISTS", "chatrelay:mod:mute:*|b", NULL), 0);
	ck_assert_int_eq(cmd_int("EXISTS", "chatrelay:mod:mute:lobby|a|b",
	    NULL), 1);
	free(control_op("{\"cmd\":\"unban\",\"user\":\"bob\"}", "100",
	    "60000", "del", "ban:bob", "0"));
	ck_assert_int_eq(cmd_int("SCARD", "chatrelay:modkeys", NULL), 1);

	/* A key that expired is dropped from the set by modload. */
	free(control_op("{\"cmd\":\"ban\",\"user\":\"x\"}", "100", "60000",
	    "set", "ban:x", "1"));
	r = eval(bus_script_modload, mkeys, (const char *[]){ NULL });
	ck_assert_int_eq((int)r->elements, 1);
	ck_assert_str_eq(r->element[0]->str, "{\"cmd\":\"mute\",\"user\":\"a|b\"}");
	freeReplyObject(r);
	ck_assert_int_eq(cmd_int("SCARD", "chatrelay:modkeys", NULL), 1);

	/* modput: the missing key is put back, the present one kept as it is. */
	r = eval(bus_script_modput, (const char *[]){ NULL },
	    (const char *[]){ "chatrelay:", "mute:lobby|a|b", "old", "0",
	    "ban:z", "{\"cmd\":\"ban\",\"user\":\"z\"}", until, NULL });
	ck_assert_int_eq(r->integer, 1);
	freeReplyObject(r);
	r = cmd("GET", "chatrelay:mod:mute:lobby|a|b", NULL);
	ck_assert_str_eq(r->str, "{\"cmd\":\"mute\",\"user\":\"a|b\"}");
	freeReplyObject(r);
	ck_assert(cmd_int("PTTL", "chatrelay:mod:ban:z", NULL) > 3590000);
	ck_assert_int_eq(cmd_int("SCARD", "chatrelay:modkeys", NULL), 2);

	/*
	 * msg: one message leaves the history, the others stay in order;
	 * deleting seq 1 leaves 10 and 11.
	 */
	for (i = 0; i < 12; i++)
		(void)publish("1", "\"ch\":\"g\",\"text\":\"t\"}", "20");
	free(control_op("{\"cmd\":\"delete\"}", "100", "60000", "msg", "g",
	    "1"));
	free(control_op("{\"cmd\":\"delete\"}", "100", "60000", "msg", "g",
	    "3"));
	r = eval(bus_script_history, hkeys, (const char *[]){ NULL });
	ck_assert_int_eq((int)r->element[1]->elements, 10);
	ck_assert(strncmp(r->element[1]->element[0]->str,
	    "{\"op\":\"msg\",\"seq\":2,", 20) == 0);
	ck_assert(strncmp(r->element[1]->element[1]->str,
	    "{\"op\":\"msg\",\"seq\":4,", 20) == 0);
	ck_assert(strncmp(r->element[1]->element[8]->str,
	    "{\"op\":\"msg\",\"seq\":11,", 21) == 0);
	freeReplyObject(r);
}
END_TEST

/* answer: a part lands in the asker's stream with the worker it is for. */
START_TEST(test_answer_goes_to_the_asker_s_stream)
{
	const char *keys[] = { "chatrelay:wstream:n1/ab", NULL };
	const char *args[] = { "100", "60000", "{\"qid\":1}", "3", NULL };
	redisReply *r = eval(bus_script_answer, keys, args);

	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	freeReplyObject(r);
	r = redisCommand(rc, "XRANGE chatrelay:wstream:n1/ab - +");
	ck_assert_int_eq((int)r->elements, 1);
	ck_assert_str_eq(r->element[0]->element[1]->element[0]->str, "a");
	ck_assert_str_eq(r->element[0]->element[1]->element[1]->str,
	    "{\"qid\":1}");
	ck_assert_str_eq(r->element[0]->element[1]->element[3]->str, "3");
	freeReplyObject(r);
}
END_TEST

START_TEST(test_control_stream_is_trimmed)
{
	redisReply *r;
	int i;

	/* One entry per node of the stream, so that "~" trims exactly. */
	r = redisCommand(rc, "CONFIG SET stream-node-max-entries 1");
	freeReplyObject(r);
	/* By length. */
	for (i = 0; i < 30; i++)
		free(control("{}", "10", "60000"));
	ck_assert_int_eq(xlen("chatrelay:ctlstream"), 10);
	/* By age: what is older than 200 ms goes with the next entry. */
	usleep(300 * 1000);
	free(control("{}", "10", "200"));
	ck_assert_int_eq(xlen("chatrelay:ctlstream"), 1);
	/* And a stream nobody adds to expires. */
	usleep(300 * 1000);
	r = cmd("EXISTS", "chatrelay:ctlstream", NULL);
	ck_assert_int_eq(r->integer, 0);
	freeReplyObject(r);
}
END_TEST

START_TEST(test_whisper_stream_is_trimmed)
{
	redisReply *r;
	int i;

	/* One entry per node of the stream, so that "~" trims exactly. */
	r = redisCommand(rc, "CONFIG SET stream-node-max-entries 1");
	freeReplyObject(r);
	user(bus_script_attach, "n1", "u1", true);
	/* By length. */
	for (i = 0; i < 30; i++)
		ck_assert_int_eq(whisper("u1", "{}", "10", "60000"), 1);
	ck_assert_int_eq(xlen("chatrelay:wstream:n1"), 10);
	/* By age: what is older than 200 ms goes with the next entry. */
	usleep(300 * 1000);
	ck_assert_int_eq(whisper("u1", "{}", "10", "200"), 1);
	ck_assert_int_eq(xlen("chatrelay:wstream:n1"), 1);
	/* And a stream nobody adds to expires. */
	usleep(300 * 1000);
	r = cmd("EXISTS", "chatrelay:wstream:n1", NULL);
	ck_assert_int_eq(r->integer, 0);
	freeReplyObject(r);
}
END_TEST

START_TEST(test_reap_removes_a_node)
{
	const char *nkeys[] = { "chatrelay:nodes", NULL };
	const char *bkeys[] = { "chatrelay:nodes", "chatrelay:reaped:n1", NULL };
	const char *beat[] = { "n1", "1000", NULL };
	const char *reap[] = { "chatrelay:", "n1", "100", NULL };
	redisReply *r;

	r = eval(bus_script_heartbeat, bkeys, beat);
	ck_assert_int_eq(r->integer, 0);	/* not reaped */
	freeReplyObject(r);
	freeReplyObject(member(bus_script_join, "u1", "A", "100"));
	freeReplyObject(member(bus_script_join, "u1", "A", "100"));
	user(bus_script_attach, "n1", "u1", true);
	user(bus_script_attach, "n2", "u1", true);
	ck_assert_int_eq(whisper("u1", "{}", "100", "60000"), 2);
	r = cmd("ZSCORE", "chatrelay:nodes", "n1");
	ck_assert_str_eq(r->str, "1000");	/* NX: the heartbeat stands */
	freeReplyObject(r);
	r = eval(bus_script_reap, nkeys, reap);
	ck_assert_int_eq(r->integer, 1);
	freeReplyObject(r);
	r = cmd("HLEN", "chatrelay:memc:g", NULL);
	ck_assert_int_eq(r->integer, 0);
	freeReplyObject(r);
	r = cmd("HLEN", "chatrelay:user:u1", NULL);
	ck_assert_int_eq(r->integer, 1);		/* n2's connection */
	freeReplyObject(r);
	r = cmd("ZSCORE", "chatrelay:nodes", "n1");
	ck_assert_int_eq(r->type, REDIS_REPLY_NIL);
	freeReplyObject(r);
	/*
	 * Its whisper stream stays (it expires by itself): a node that was
	 * only stalled reads on from it when it resumes.
	 */
	r = cmd("EXISTS", "chatrelay:wstream:n1", NULL);
	ck_assert_int_eq(r->integer, 1);
	freeReplyObject(r);
	ck_assert_int_eq(xlen("chatrelay:wstream:n2"), 1);
	/* Idempotent. */
	r = eval(bus_script_reap, nkeys, reap);
	ck_assert_int_eq(r->integer, 0);
	freeReplyObject(r);
	/* The node's next heartbeat learns it was reaped, once. */
	r = eval(bus_script_heartbeat, bkeys, beat);
	ck_assert_int_eq(r->integer, 1);
	freeReplyObject(r);
	r = eval(bus_script_heartbeat, bkeys, beat);
	ck_assert_int_eq(r->integer, 0);
	freeReplyObject(r);
}
END_TEST

START_TEST(test_restore_only_raises)
{
	const char *keys[] = { G_KEYS, NULL };
	const char *fifty[] = { "50", "86400000", "3600000", "5", "ep",
	    "{\"op\":\"msg\",\"seq\":49}", "{\"op\":\"msg\",\"seq\":50}", NULL };
	const char *ten[] = { "10", "86400000", "3600000", "5", "ep",
	    "{\"op\":\"msg\",\"seq\":10}", NULL };
	char epoch[17];
	redisReply *r;

	r = eval(bus_script_restore, keys, fifty);
	ck_assert_int_eq(r->element[0]->integer, 0);	/* Redis had lost it all */
	ck_assert_str_eq(r->element[1]->str, "ep");
	freeReplyObject(r);
	r = eval(bus_script_restore, keys, ten);
	ck_assert_int_eq(r->element[0]->integer, 50);	/* nothing lowered */
	freeReplyObject(r);
	r = cmd("GET", "chatrelay:seq:g", NULL);
	ck_assert_str_eq(r->str, "50");
	freeReplyObject(r);
	/* The history is the union by seq, oldest first, within size 5. */
	r = eval(bus_script_history, keys, (const char *const[]){ NULL });
	ck_assert_int_eq((int)r->element[1]->elements, 3);
	ck_assert_str_eq(r->element[1]->element[0]->str, "{\"op\":\"msg\",\"seq\":10}");
	ck_assert_str_eq(r->element[1]->element[2]->str, "{\"op\":\"msg\",\"seq\":50}");
	freeReplyObject(r);
	/* The numbering goes on in the restored epoch. */
	ck_assert_int_eq(publish_as("1", "\"ch\":\"g\",\"text\":\"z\"}", "5", "50",
	    "new", epoch), 51);
	ck_assert_str_eq(epoch, "ep");
}
END_TEST

/*
 * Regression: after Redis lost its data, a publish through a worker that
 * had seen seq 40 was numbered 1 again.  The script refuses while Redis is
 * behind what the caller has seen; once restored, it goes on.
 */
START_TEST(test_publish_refuses_behind)
{
	const char *keys[] = { G_KEYS, NULL };
	const char *restore[] = { "40", "86400000", "3600000", "100", "old",
	    NULL };
	char epoch[17];
	redisReply *r;

	ck_assert_int_eq(publish_as("1", "\"ch\":\"g\"}", "5", "40", "new",
	    epoch), -1);
	r = cmd("EXISTS", "chatrelay:seq:g", NULL);
	ck_assert_int_eq(r->integer, 0);	/* nothing numbered */
	freeReplyObject(r);
	r = eval(bus_script_restore, keys, restore);
	freeReplyObject(r);
	ck_assert_int_eq(publish_as("1", "\"ch\":\"g\"}", "5", "40", "new",
	    epoch), 41);
	ck_assert_str_eq(epoch, "old");
	/* A caller behind Redis is fine. */
	ck_assert_int_eq(publish_as("1", "\"ch\":\"g\"}", "5", "3", "new",
	    epoch), 42);
}
END_TEST

/*
 * Regression: Redis died after answering a publish (seq 921 given) but
 * before its PUBLISH reached any instance, so no restore knew 921 and the
 * next publish was given 921 again.  The caller says what it was given;
 * the script numbers above it.
 */
START_TEST(test_publish_numbers_above_given)
{
	const char *keys[] = { G_KEYS, NULL };
	const char *restore[] = { "920", "86400000", "3600000", "100", "ep",
	    NULL };
	redisReply *r = eval(bus_script_restore, keys, restore);

	freeReplyObject(r);
	/* Seen delivered: 920 (restored); given: 921. */
	ck_assert_int_eq(publish_given("1", "\"ch\":\"g\"}", "5", "920", "new",
	    "921", NULL), 922);
	/* Given less than Redis has: the usual next seq. */
	ck_assert_int_eq(publish_given("1", "\"ch\":\"g\"}", "5", "0", "new",
	    "5", NULL), 923);
}
END_TEST

/* raise: only up, never down; the key gets the channel ttl. */
START_TEST(test_raise_only_raises)
{
	const char *keys[] = { "chatrelay:seq:g", NULL };
	redisReply *r;

	r = eval(bus_script_raise, keys, (const char *[]){ "459", "86400000",
	    NULL });
	ck_assert_int_eq(r->integer, 459);
	freeReplyObject(r);
	r = eval(bus_script_raise, keys, (const char *[]){ "400", "86400000",
	    NULL });
	ck_assert_int_eq(r->integer, 459);
	freeReplyObject(r);
	ck_assert(cmd_int("PTTL", "chatrelay:seq:g", NULL) > 86000000);
	/* The next publish numbers above it. */
	ck_assert_int_eq(publish("1", "\"ch\":\"g\"}", "5"), 460);
}
END_TEST

/*
 * A numbering that starts gets the caller's epoch and forgets the history
 * of an older one; a restore from another epoch leaves the new numbering
 * alone and says which epoch is Redis's.
 */
START_TEST(test_epochs)
{
	const char *keys[] = { G_KEYS, NULL };
	const char *stale[] = { "90", "86400000", "3600000", "100", "gone",
	    "{\"op\":\"msg\",\"seq\":90}", NULL };
	char epoch[17];
	redisReply *r;

	ck_assert_int_eq(publish_as("1", "\"t\":1}", "5", "0", "aa", epoch), 1);
	ck_assert_str_eq(epoch, "aa");
	ck_assert_int_eq(publish_as("1", "\"t\":2}", "5", "0", "bb", epoch), 2);
	ck_assert_str_eq(epoch, "aa");		/* kept while the seq lives */
	r = cmd("DEL", "chatrelay:seq:g", NULL);	/* the seq expired */
	freeReplyObject(r);
	ck_assert_int_eq(publish_as("1", "\"t\":3}", "5", "0", "cc", epoch), 1);
	ck_assert_str_eq(epoch, "cc");
	r = cmd("LLEN", "chatrelay:hist:g", NULL);
	ck_assert_int_eq(r->integer, 1);	/* only the new numbering's */
	freeReplyObject(r);
	r = eval(bus_script_restore, keys, stale);
	ck_assert_int_eq(r->element[0]->integer, 1);
	ck_assert_str_eq(r->element[1]->str, "cc");
	freeReplyObject(r);
	r = cmd("GET", "chatrelay:seq:g", NULL);
	ck_assert_str_eq(r->str, "1");
	freeReplyObject(r);
}
END_TEST

static Suite *
scripts_suite(void)
{
	Suite *s = suite_create("scripts");
	TCase *tc = tcase_create("redis");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_publish_seq_and_history);
	tcase_add_test(tc, test_join_leave_counts_users);
	tcase_add_test(tc, test_presence_is_valid_json);
	tcase_add_test(tc, test_remember_is_idempotent);
	tcase_add_test(tc, test_remember_tell_publishes_presence);
	tcase_add_test(tc, test_attach_limit_is_cluster_wide);
	tcase_add_test(tc, test_whisper_reaches_the_user_s_nodes);
	tcase_add_test(tc, test_control_appends_to_the_stream);
	tcase_add_test(tc, test_control_stream_is_trimmed);
	tcase_add_test(tc, test_control_changes_the_state);
	tcase_add_test(tc, test_answer_goes_to_the_asker_s_stream);
	tcase_add_test(tc, test_whisper_stream_is_trimmed);
	tcase_add_test(tc, test_reattach_is_idempotent);
	tcase_add_test(tc, test_reap_removes_a_node);
	tcase_add_test(tc, test_restore_only_raises);
	tcase_add_test(tc, test_publish_refuses_behind);
	tcase_add_test(tc, test_publish_numbers_above_given);
	tcase_add_test(tc, test_raise_only_raises);
	tcase_add_test(tc, test_epochs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(scripts_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
