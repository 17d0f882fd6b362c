/*
 * check_control.c: the control channel's commands (control.c): what
 * control_send sends through the in-process bus (bus-local.c's
 * local_control) and the answer the moderator gets; control_run carrying a
 * command out on a worker; control_parse refusing what another instance
 * may send wrong, for every kind; control_encode and control_parse as each
 * other's inverse; and control_store_change's keys.  Two workers without
 * lws (workers.h), which record every command and answer that reaches
 * them and then run the command through the real dispatch table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "bus.h"
#include "control.h"
#include "dispatch.h"
#include "frame.h"
#include "jsonw.h"
#include "modstate.h"
#include "msg.h"
#include "proto.h"
#include "workers.h"

#define NOW INT64_C(1700000000000)

/* A command that reached a worker. */
struct got_cmd {
	int worker;
	unsigned flags;
	char *body;		/* NUL-terminated copy */
	size_t len;
};

/* An answer to a client. */
struct got_answer {
	int worker;
	uint64_t client;
	cJSON *json;		/* the frame's payload, parsed */
};

#define GOT_MAX 16

static struct test_workers tw;
static struct got_cmd cmds[GOT_MAX];
static int ncmds;
static struct got_answer answers[GOT_MAX];
static int nanswers;

/* Records commands (then runs them) and answers (then drops them). */
static void
test_dispatch(struct worker *w, struct imsg *m)
{
	if (m->type == IM_CONTROL) {
		struct im_control *c = (struct im_control *)m;

		ck_assert_int_lt(ncmds, GOT_MAX);
		cmds[ncmds].worker = w->idx;
		cmds[ncmds].flags = c->flags;
		cmds[ncmds].len = c->len;
		cmds[ncmds].body = strdup(c->body);
		ck_assert_ptr_nonnull(cmds[ncmds].body);
		ncmds++;
	} else if (m->type == IM_TO_CLIENT) {
		struct im_to_client *t = (struct im_to_client *)m;

		ck_assert_int_lt(nanswers, GOT_MAX);
		ck_assert_ptr_nonnull(t->frame);
		answers[nanswers].worker = w->idx;
		answers[nanswers].client = t->client;
		answers[nanswers].json = cJSON_ParseWithLength(
		    frame_payload(t->frame), frame_payload_len(t->frame));
		ck_assert_ptr_nonnull(answers[nanswers].json);
		nanswers++;
		msg_free(m);
		return;
	}
	dispatch_message(w, m);
}

static void
setup(void)
{
	test_workers_init(&tw, test_dispatch);
	ncmds = nanswers = 0;
}

static void
teardown(void)
{
	int i;

	for (i = 0; i < ncmds; i++)
		free(cmds[i].body);
	for (i = 0; i < nanswers; i++)
		cJSON_Delete(answers[i].json);
	test_workers_free(&tw);
}

/* The string member name of o, or NULL. */
static const char *
str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* The number member name of o, or -1. */
static int64_t
num(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(it) ? (int64_t)it->valuedouble : -1;
}

/* The number of commands that reached worker i. */
static int
cmds_at(int i)
{
	int k, n = 0;

	for (k = 0; k < ncmds; k++)
		n += cmds[k].worker == i;
	return n;
}

/* Parses the body of the n-th recorded command, which must be valid. */
static void
parse_got(int n, struct command *cmd, cJSON **root)
{
	ck_assert_int_lt(n, ncmds);
	ck_assert_uint_eq(strlen(cmds[n].body), cmds[n].len);
	ck_assert_int_eq(control_parse(cmds[n].body, cmds[n].len, cmd, root),
	    0);
}

/* A command of kind, by "mod", all else absent. */
static struct command
command(enum cmd_kind kind)
{
	struct command c;

	memset(&c, 0, sizeof c);
	c.kind = kind;
	c.by = "mod";
	return c;
}

/* ------------------------------------------------------------ sending */

/* A moderator on worker 1 (client 5) kicks: every worker gets the command. */
START_TEST(test_kick_reaches_every_worker)
{
	struct command c = command(CMD_KICK), got;
	cJSON *root;
	int i;

	c.user = "b\"o\\b";
	c.reason = "spam";
	control_send(&tw.w[1], 5, "\"k\"", &c, true);
	test_workers_pump(&tw);
	ck_assert_int_eq(ncmds, 2);
	ck_assert_int_eq(cmds_at(0), 1);
	ck_assert_int_eq(cmds_at(1), 1);
	for (i = 0; i < 2; i++) {
		ck_assert_uint_eq(cmds[i].flags, 0);
		parse_got(i, &got, &root);
		ck_assert_int_eq(got.kind, CMD_KICK);
		ck_assert_str_eq(got.by, "mod");
		ck_assert_str_eq(got.user, "b\"o\\b");
		ck_assert_str_eq(got.reason, "spam");
		cJSON_Delete(root);
	}
	/* One ok, to the moderator's client on its worker, with its id. */
	ck_assert_int_eq(nanswers, 1);
	ck_assert_int_eq(answers[0].worker, 1);
	ck_assert_uint_eq(answers[0].client, 5);
	ck_assert_str_eq(str(answers[0].json, "op"), "ok");
	ck_assert_str_eq(str(answers[0].json, "id"), "k");
}
END_TEST

/* Sent with answer false (the sender answers itself): no ok, still sent. */
START_TEST(test_send_without_answer)
{
	struct command c = command(CMD_KICK);

	c.user = "bob";
	control_send(&tw.w[0], 9, "1", &c, false);
	test_workers_pump(&tw);
	ck_assert_int_eq(cmds_at(0), 1);
	ck_assert_int_eq(cmds_at(1), 1);
	ck_assert_int_eq(nanswers, 0);
}
END_TEST

START_TEST(test_announce_with_and_without_channel)
{
	struct command c = command(CMD_ANNOUNCE), got;
	cJSON *root;
	int i, with = 0, without = 0;

	c.text = "hello\nall";
	c.text_len = 9;
	control_send(&tw.w[1], 5, "1", &c, true);
	c.text = "to g";
	c.text_len = 4;
	c.ch = "global";
	control_send(&tw.w[1], 5, "2", &c, true);
	test_workers_pump(&tw);
	ck_assert_int_eq(ncmds, 4);
	ck_assert_int_eq(cmds_at(0), 2);
	ck_assert_int_eq(cmds_at(1), 2);
	for (i = 0; i < ncmds; i++) {
		parse_got(i, &got, &root);
		ck_assert_int_eq(got.kind, CMD_ANNOUNCE);
		if (got.ch == NULL) {
			ck_assert_str_eq(got.text, "hello\nall");
			ck_assert_uint_eq(got.text_len, 9);
			ck_assert_ptr_null(cJSON_GetObjectItem(root, "ch"));
			without++;
		} else {
			ck_assert_str_eq(got.ch, "global");
			ck_assert_str_eq(got.text, "to g");
			with++;
		}
		cJSON_Delete(root);
	}
	ck_assert_int_eq(with, 2);
	ck_assert_int_eq(without, 2);
	ck_assert_int_eq(nanswers, 2);
	ck_assert_str_eq(str(answers[0].json, "op"), "ok");
	ck_assert_int_eq(num(answers[0].json, "id"), 1);
	ck_assert_str_eq(str(answers[1].json, "op"), "ok");
	ck_assert_int_eq(num(answers[1].json, "id"), 2);
}
END_TEST

/* A command too long for the channel is refused to its sender, and sent to nobody. */
START_TEST(test_too_long_is_refused)
{
	struct command c = command(CMD_ANNOUNCE);
	struct jsonw jw;
	char *text = malloc(CONTROL_MAX);

	ck_assert_ptr_nonnull(text);
	memset(text, 'x', CONTROL_MAX);
	c.text = text;
	c.text_len = CONTROL_MAX;
	control_send(&tw.w[1], 5, "3", &c, true);
	test_workers_pump(&tw);
	ck_assert_int_eq(ncmds, 0);
	ck_assert_int_eq(nanswers, 1);
	ck_assert_int_eq(answers[0].worker, 1);
	ck_assert_uint_eq(answers[0].client, 5);
	ck_assert_str_eq(str(answers[0].json, "op"), "err");
	ck_assert_str_eq(str(answers[0].json, "code"), "too_long");
	ck_assert_int_eq(num(answers[0].json, "id"), 3);
	/* control_encode says so itself. */
	jsonw_init(&jw);
	ck_assert_int_eq(control_encode(&jw, &c), -1);
	ck_assert(!jw.failed);
	jsonw_free(&jw);
	/* A text that just fits goes. */
	jsonw_init(&jw);
	c.text_len = CONTROL_MAX - 64;
	ck_assert_int_eq(control_encode(&jw, &c), 0);
	ck_assert_uint_le(jw.len, CONTROL_MAX);
	jsonw_free(&jw);
	free(text);
}
END_TEST

/* A ban sent from worker 1 is held by both workers, with its command. */
START_TEST(test_ban_runs_everywhere)
{
	struct command c = command(CMD_BAN);
	const struct mod_entry *e;
	int i;

	c.user = "troll";
	c.reason = "flood";
	c.secs = 60;
	c.until = proto_now_ms() + 60000;
	control_send(&tw.w[1], 5, "\"b\"", &c, true);
	test_workers_pump(&tw);
	ck_assert_int_eq(ncmds, 2);
	for (i = 0; i < 2; i++) {
		e = modstate_banned(&tw.w[i].mod, "troll", proto_now_ms());
		ck_assert_ptr_nonnull(e);
		ck_assert_int_eq(e->until, c.until);
		ck_assert_str_eq(e->by, "mod");
		ck_assert_str_eq(e->reason, "flood");
		ck_assert_str_eq(e->cmd, cmds[0].body);
		ck_assert_uint_eq(e->cmd_len, cmds[0].len);
		ck_assert_ptr_null(modstate_banned(&tw.w[i].mod, "other",
		    proto_now_ms()));
	}
	ck_assert_int_eq(nanswers, 1);
	ck_assert_str_eq(str(answers[0].json, "op"), "ok");
	/* The unban lifts it on both. */
	c = command(CMD_UNBAN);
	c.user = "troll";
	control_send(&tw.w[0], 6, "\"u\"", &c, true);
	test_workers_pump(&tw);
	for (i = 0; i < 2; i++) {
		ck_assert_ptr_null(modstate_banned(&tw.w[i].mod, "troll",
		    proto_now_ms()));
		ck_assert_uint_eq(modstate_count(&tw.w[i].mod), 0);
	}
	ck_assert_int_eq(nanswers, 2);
	ck_assert_int_eq(answers[1].worker, 0);
	ck_assert_uint_eq(answers[1].client, 6);
	ck_assert_str_eq(str(answers[1].json, "op"), "ok");
	ck_assert_str_eq(str(answers[1].json, "id"), "u");
}
END_TEST

/* control_run: the state of a replayed command, and what it refuses. */
START_TEST(test_run)
{
	static const char mute[] = "{\"cmd\":\"mute\",\"by\":\"m\",\"user\":"
	    "\"u\",\"ch\":\"lobby\",\"until\":0,\"secs\":0}";
	static const char slow[] = "{\"cmd\":\"slowmode\",\"by\":\"m\",\"ch\":"
	    "\"lobby\",\"secs\":30}";
	static const char slow_off[] = "{\"cmd\":\"slowmode\",\"by\":\"m\","
	    "\"ch\":\"lobby\",\"secs\":0}";
	static const char bad_ban[] = "{\"cmd\":\"ban\",\"by\":\"m\","
	    "\"user\":\"u\",\"until\":-1,\"secs\":0}";
	struct worker *w = &tw.w[0];
	const struct mod_entry *e;

	ck_assert_int_eq(control_run(w, mute, strlen(mute), CONTROL_REPLAY), 0);
	e = modstate_muted(&w->mod, "u", "lobby", NOW);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->until, 0);
	ck_assert_str_eq(e->cmd, mute);
	ck_assert_ptr_null(modstate_muted(&w->mod, "u", "other", NOW));
	ck_assert_ptr_null(modstate_muted(&tw.w[1].mod, "u", "lobby", NOW));
	ck_assert_int_eq(control_run(w, slow, strlen(slow), 0), 0);
	ck_assert_int_eq(modstate_slow_secs(&w->mod, "lobby"), 30);
	ck_assert_int_eq(control_run(w, slow_off, strlen(slow_off), 0), 0);
	ck_assert_int_eq(modstate_slow_secs(&w->mod, "lobby"), 0);
	/* Refused: nothing changes. */
	ck_assert_int_eq(control_run(w, bad_ban, strlen(bad_ban), 0), -1);
	ck_assert_ptr_null(modstate_banned(&w->mod, "u", NOW));
	ck_assert_int_eq(control_run(w, "nope", 4, 0), -1);
	ck_assert_uint_eq(modstate_count(&w->mod), 1);
	test_workers_pump(&tw);
	ck_assert_int_eq(nanswers, 0);
}
END_TEST

/* ----------------------------------------------------------- decoding */

/* Checks that json is refused by control_parse (and control_run). */
static void
refused(const char *json, size_t len, int line)
{
	struct command cmd;
	cJSON *root = (cJSON *)&cmd;	/* must come back NULL */

	ck_assert_msg(control_parse(json, len, &cmd, &root) == -1,
	    "line %d: accepted %.*s", line, (int)(len > 200 ? 200 : len),
	    json);
	ck_assert_msg(root == NULL, "line %d: root left", line);
	ck_assert_msg(control_run(&tw.w[0], json, len, 0) == -1,
	    "line %d: run %.*s", line, (int)(len > 200 ? 200 : len), json);
}

#define REFUSED(s) refused((s), strlen(s), __LINE__)

/* Parses json, which must be accepted; the caller frees *root. */
static void
accepted(const char *json, struct command *cmd, cJSON **root, int line)
{
	ck_assert_msg(control_parse(json, strlen(json), cmd, root) == 0,
	    "line %d: refused %s", line, json);
	ck_assert_ptr_nonnull(*root);
}

#define ACCEPTED(s, cmd, root) accepted((s), (cmd), (root), __LINE__)

/* Returns a malloc'd string: pre, then n copies of unit, then post. */
static char *
build(const char *pre, const char *unit, size_t n, const char *post)
{
	size_t ul = strlen(unit), pl = strlen(pre), ql = strlen(post), i;
	char *s = malloc(pl + ul * n + ql + 1), *p;

	ck_assert_ptr_nonnull(s);
	memcpy(s, pre, pl);
	p = s + pl;
	for (i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, post, ql + 1);
	return s;
}

/* What is not a command at all. */
START_TEST(test_parse_not_a_command)
{
	REFUSED("");
	REFUSED("not json");
	REFUSED("[]");
	REFUSED("\"kick\"");
	REFUSED("{\"cmd\":1}");
	REFUSED("{\"cmd\":null}");
	REFUSED("{\"by\":\"m\",\"user\":\"u\"}");
	REFUSED("{\"cmd\":\"explode\",\"by\":\"m\"}");
	REFUSED("{\"cmd\":\"KICK\",\"by\":\"m\",\"user\":\"u\"}");
	REFUSED("{\"cmd\":\"kick\",\"by\":\"m\",\"user\":\"u\"");
	/* Text after the object: not one command. */
	REFUSED("{\"cmd\":\"kick\",\"by\":\"m\",\"user\":\"u\"}{}");
	REFUSED("{\"cmd\":\"kick\",\"by\":\"m\",\"user\":\"u\"} x");
}
END_TEST

/* Every action names who did it: by, a valid user id. */
START_TEST(test_parse_by)
{
	static const char *const bodies[] = {
		"\"cmd\":\"kick\",\"user\":\"u\"",
		"\"cmd\":\"announce\",\"text\":\"t\"",
		"\"cmd\":\"ban\",\"user\":\"u\",\"until\":0,\"secs\":0",
		"\"cmd\":\"unban\",\"user\":\"u\"",
		"\"cmd\":\"mute\",\"user\":\"u\",\"until\":0,\"secs\":0",
		"\"cmd\":\"unmute\",\"user\":\"u\"",
		"\"cmd\":\"slowmode\",\"ch\":\"c\",\"secs\":5",
		"\"cmd\":\"delete\",\"ch\":\"c\",\"seq\":3",
		"\"cmd\":\"report\",\"user\":\"u\",\"ch\":\"c\",\"seq\":3",
	};
	struct command cmd;
	char buf[256];
	cJSON *root;
	size_t i;

	for (i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		snprintf(buf, sizeof buf, "{%s}", bodies[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"by\":null}", bodies[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"by\":7}", bodies[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"by\":\"\"}", bodies[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"by\":\"a b\"}", bodies[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"by\":\"mod\"}", bodies[i]);
		ACCEPTED(buf, &cmd, &root);
		ck_assert_int_eq(cmd.kind, (enum cmd_kind)i);
		ck_assert_str_eq(cmd.by, "mod");
		cJSON_Delete(root);
	}
}
END_TEST

/* What every command may carry: byname, node, nk. */
START_TEST(test_parse_common)
{
	struct command cmd;
	cJSON *root;
	char *s;

	REFUSED("{\"cmd\":\"kick\",\"by\":\"m\",\"user\":\"u\","
	    "\"byname\":\"\xff\"}");
	/* Of the wrong type: refused, not taken for absent. */
	REFUSED("{\"cmd\":\"kick\",\"by\":\"m\",\"user\":\"u\","
	    "\"byname\":5}");
	REFUSED("{\"cmd\":\"kick\",\"by\":\"m\",\"user\":\"u\","
	    "\"node\":[]}");
	REFUSED("{\"cmd\":\"kick\",\"by\":\"m\",\"user\":\"u\","
	    "\"nk\":{}}");
	ACCEPTED("{\"cmd\":\"kick\",\"by\":\"m\",\"user\":\"u\","
	    "\"byname\":null,\"node\":null,\"nk\":null}", &cmd, &root);
	ck_assert_ptr_null(cmd.byname);
	ck_assert_ptr_null(cmd.node);
	ck_assert_ptr_null(cmd.nk);
	cJSON_Delete(root);
	s = build("{\"cmd\":\"kick\",\"by\":\"m\",\"user\":\"u\",\"byname\":\"",
	    "\xc3\xa9", USER_NAME_MAX + 1, "\"}");
	REFUSED(s);
	free(s);
	s = build("{\"cmd\":\"kick\",\"by\":\"m\",\"user\":\"u\",\"node\":\"",
	    "n", 65, "\"}");
	REFUSED(s);
	free(s);
	s = build("{\"cmd\":\"kick\",\"by\":\"m\",\"user\":\"u\",\"nk\":\"",
	    "n", 80, "\"}");
	REFUSED(s);
	free(s);
	s = build("{\"cmd\":\"kick\",\"by\":\"m\",\"user\":\"u\",\"byname\":\"",
	    "\xc3\xa9", USER_NAME_MAX, "\",\"ts\":-5}");
	ACCEPTED(s, &cmd, &root);
	ck_assert_uint_eq(strlen(cmd.byname), 2 * USER_NAME_MAX);
	ck_assert_int_eq(cmd.ts, 0);	/* a bad ts is no ts */
	ck_assert_ptr_null(cmd.node);
	ck_assert_ptr_null(cmd.nk);
	cJSON_Delete(root);
	free(s);
}
END_TEST

/* user: kick, ban, unban, mute, unmute, report. */
START_TEST(test_parse_user)
{
	static const char *const kinds[] = {
		"\"cmd\":\"kick\"",
		"\"cmd\":\"ban\",\"until\":0,\"secs\":0",
		"\"cmd\":\"unban\"",
		"\"cmd\":\"mute\",\"until\":0,\"secs\":0",
		"\"cmd\":\"unmute\"",
		"\"cmd\":\"report\",\"ch\":\"c\",\"seq\":1",
	};
	struct command cmd;
	char buf[256];
	cJSON *root;
	size_t i;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		snprintf(buf, sizeof buf, "{%s,\"by\":\"m\"}", kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"by\":\"m\",\"user\":1}",
		    kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"by\":\"m\",\"user\":\"\"}",
		    kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"by\":\"m\",\"user\":\"a b\"}",
		    kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"by\":\"m\",\"user\":"
		    "\"\\u00e9\"}", kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"by\":\"m\",\"user\":"
		    "\"a\\\"|b\"}", kinds[i]);
		ACCEPTED(buf, &cmd, &root);
		ck_assert_str_eq(cmd.user, "a\"|b");
		cJSON_Delete(root);
	}
}
END_TEST

/* ch: required for slowmode, delete, report; optional for announce, mute, unmute. */
START_TEST(test_parse_ch)
{
	static const char *const need[] = {
		"\"cmd\":\"slowmode\",\"by\":\"m\",\"secs\":1",
		"\"cmd\":\"delete\",\"by\":\"m\",\"seq\":1",
		"\"cmd\":\"report\",\"by\":\"m\",\"user\":\"u\",\"seq\":1",
	};
	static const char *const may[] = {
		"\"cmd\":\"announce\",\"by\":\"m\",\"text\":\"t\"",
		"\"cmd\":\"mute\",\"by\":\"m\",\"user\":\"u\",\"until\":0,"
		    "\"secs\":0",
		"\"cmd\":\"unmute\",\"by\":\"m\",\"user\":\"u\"",
	};
	struct command cmd;
	char buf[256];
	cJSON *root;
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(buf, sizeof buf, "{%s}", need[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"ch\":null}", need[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"ch\":\"bad channel!\"}",
		    need[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"ch\":\"*\"}", need[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"ch\":\"guild:1\"}", need[i]);
		ACCEPTED(buf, &cmd, &root);
		ck_assert_str_eq(cmd.ch, "guild:1");
		cJSON_Delete(root);
	}
	for (i = 0; i < 3; i++) {
		snprintf(buf, sizeof buf, "{%s,\"ch\":\"bad channel!\"}",
		    may[i]);
		REFUSED(buf);
		/* A wrong type is not "everywhere". */
		snprintf(buf, sizeof buf, "{%s,\"ch\":5}", may[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"ch\":[\"lobby\"]}", may[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s}", may[i]);
		ACCEPTED(buf, &cmd, &root);
		ck_assert_ptr_null(cmd.ch);
		cJSON_Delete(root);
		snprintf(buf, sizeof buf, "{%s,\"ch\":null}", may[i]);
		ACCEPTED(buf, &cmd, &root);
		ck_assert_ptr_null(cmd.ch);
		cJSON_Delete(root);
		snprintf(buf, sizeof buf, "{%s,\"ch\":\"guild:1\"}", may[i]);
		ACCEPTED(buf, &cmd, &root);
		ck_assert_str_eq(cmd.ch, "guild:1");
		cJSON_Delete(root);
	}
}
END_TEST

/* until and secs of ban and mute; secs of slowmode. */
START_TEST(test_parse_until_secs)
{
	static const char *const kinds[] = {
		"\"cmd\":\"ban\",\"by\":\"m\",\"user\":\"u\"",
		"\"cmd\":\"mute\",\"by\":\"m\",\"user\":\"u\"",
	};
	struct command cmd;
	char buf[256];
	cJSON *root;
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(buf, sizeof buf, "{%s,\"secs\":0}", kinds[i]);
		REFUSED(buf);		/* no until */
		snprintf(buf, sizeof buf, "{%s,\"until\":0}", kinds[i]);
		REFUSED(buf);		/* no secs */
		snprintf(buf, sizeof buf, "{%s,\"until\":-1,\"secs\":0}",
		    kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"until\":1.5,\"secs\":0}",
		    kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"until\":\"5\",\"secs\":0}",
		    kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"until\":9007199254740994,"
		    "\"secs\":0}", kinds[i]);
		REFUSED(buf);		/* past 2^53 */
		snprintf(buf, sizeof buf, "{%s,\"until\":0,\"secs\":-1}",
		    kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"until\":0,\"secs\":0.5}",
		    kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"until\":0,\"secs\":%d}",
		    kinds[i], PROTO_SECS_MAX + 1);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"until\":1700000000000,"
		    "\"secs\":%d}", kinds[i], PROTO_SECS_MAX);
		ACCEPTED(buf, &cmd, &root);
		ck_assert_int_eq(cmd.until, NOW);
		ck_assert_int_eq(cmd.secs, PROTO_SECS_MAX);
		cJSON_Delete(root);
	}
	REFUSED("{\"cmd\":\"slowmode\",\"by\":\"m\",\"ch\":\"c\"}");
	REFUSED("{\"cmd\":\"slowmode\",\"by\":\"m\",\"ch\":\"c\",\"secs\":-1}");
	REFUSED("{\"cmd\":\"slowmode\",\"by\":\"m\",\"ch\":\"c\",\"secs\":2.5}");
	snprintf(buf, sizeof buf, "{\"cmd\":\"slowmode\",\"by\":\"m\",\"ch\":"
	    "\"c\",\"secs\":%d}", PROTO_SLOW_MAX + 1);
	REFUSED(buf);
	snprintf(buf, sizeof buf, "{\"cmd\":\"slowmode\",\"by\":\"m\",\"ch\":"
	    "\"c\",\"secs\":%d}", PROTO_SLOW_MAX);
	ACCEPTED(buf, &cmd, &root);
	ck_assert_int_eq(cmd.secs, PROTO_SLOW_MAX);
	cJSON_Delete(root);
	ACCEPTED("{\"cmd\":\"slowmode\",\"by\":\"m\",\"ch\":\"c\",\"secs\":0}",
	    &cmd, &root);
	ck_assert_int_eq(cmd.secs, 0);
	cJSON_Delete(root);
}
END_TEST

/* seq of delete and report: a whole number from 1. */
START_TEST(test_parse_seq)
{
	static const char *const kinds[] = {
		"\"cmd\":\"delete\",\"by\":\"m\",\"ch\":\"c\"",
		"\"cmd\":\"report\",\"by\":\"m\",\"user\":\"u\",\"ch\":\"c\"",
	};
	struct command cmd;
	char buf[256];
	cJSON *root;
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(buf, sizeof buf, "{%s}", kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"seq\":0}", kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"seq\":-3}", kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"seq\":1.25}", kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"seq\":\"4\"}", kinds[i]);
		REFUSED(buf);
		snprintf(buf, sizeof buf, "{%s,\"seq\":1}", kinds[i]);
		ACCEPTED(buf, &cmd, &root);
		ck_assert_int_eq(cmd.seq, 1);
		cJSON_Delete(root);
	}
}
END_TEST

/* reason (kick, ban, mute, report): at most PROTO_REASON_MAX characters of UTF-8. */
START_TEST(test_parse_reason)
{
	static const char *const kinds[] = {
		"\"cmd\":\"kick\",\"by\":\"m\",\"user\":\"u\"",
		"\"cmd\":\"ban\",\"by\":\"m\",\"user\":\"u\",\"until\":0,"
		    "\"secs\":0",
		"\"cmd\":\"mute\",\"by\":\"m\",\"user\":\"u\",\"until\":0,"
		    "\"secs\":0",
		"\"cmd\":\"report\",\"by\":\"m\",\"user\":\"u\",\"ch\":\"c\","
		    "\"seq\":1",
	};
	struct command cmd;
	char pre[256], *s;
	cJSON *root;
	size_t i;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		snprintf(pre, sizeof pre, "{%s,\"reason\":\"", kinds[i]);
		s = build(pre, "r", PROTO_REASON_MAX + 1, "\"}");
		REFUSED(s);
		free(s);
		s = build(pre, "\xff", 1, "\"}");
		REFUSED(s);
		free(s);
		s = build(pre, "\xc3", 1, "\"}");	/* cut short */
		REFUSED(s);
		free(s);
		snprintf(pre, sizeof pre, "{%s,\"reason\":5}", kinds[i]);
		REFUSED(pre);
		snprintf(pre, sizeof pre, "{%s,\"reason\":null}", kinds[i]);
		ACCEPTED(pre, &cmd, &root);
		ck_assert_ptr_null(cmd.reason);
		cJSON_Delete(root);
		snprintf(pre, sizeof pre, "{%s,\"reason\":\"", kinds[i]);
		s = build(pre, "\xe6\xbc\xa2", PROTO_REASON_MAX, "\"}");
		ACCEPTED(s, &cmd, &root);
		ck_assert_uint_eq(strlen(cmd.reason), 3 * PROTO_REASON_MAX);
		cJSON_Delete(root);
		free(s);
		snprintf(pre, sizeof pre, "{%s}", kinds[i]);
		ACCEPTED(pre, &cmd, &root);
		ck_assert_ptr_null(cmd.reason);
		cJSON_Delete(root);
	}
}
END_TEST

/* text: required for announce, optional (null) for report; never empty. */
START_TEST(test_parse_text)
{
	struct command cmd;
	cJSON *root;

	REFUSED("{\"cmd\":\"announce\",\"by\":\"m\"}");
	REFUSED("{\"cmd\":\"announce\",\"by\":\"m\",\"text\":null}");
	REFUSED("{\"cmd\":\"announce\",\"by\":\"m\",\"text\":\"\"}");
	REFUSED("{\"cmd\":\"announce\",\"by\":\"m\",\"text\":\"\xff\"}");
	REFUSED("{\"cmd\":\"announce\",\"by\":\"m\",\"text\":3}");
	REFUSED("{\"cmd\":\"report\",\"by\":\"m\",\"user\":\"u\",\"ch\":\"c\","
	    "\"seq\":1,\"text\":\"\"}");
	REFUSED("{\"cmd\":\"report\",\"by\":\"m\",\"user\":\"u\",\"ch\":\"c\","
	    "\"seq\":1,\"text\":\"\xc3(\"}");
	REFUSED("{\"cmd\":\"report\",\"by\":\"m\",\"user\":\"u\",\"ch\":\"c\","
	    "\"seq\":1,\"text\":false}");
	ACCEPTED("{\"cmd\":\"report\",\"by\":\"m\",\"user\":\"u\",\"ch\":\"c\","
	    "\"seq\":1,\"text\":null}", &cmd, &root);
	ck_assert_ptr_null(cmd.text);
	ck_assert_uint_eq(cmd.text_len, 0);
	cJSON_Delete(root);
	ACCEPTED("{\"cmd\":\"report\",\"by\":\"m\",\"user\":\"u\",\"ch\":\"c\","
	    "\"seq\":1,\"text\":\"bad \\u00e9\"}", &cmd, &root);
	ck_assert_str_eq(cmd.text, "bad \xc3\xa9");
	ck_assert_uint_eq(cmd.text_len, 6);
	cJSON_Delete(root);
}
END_TEST

/* query: q, nk, qid, worker required; user for q user; prefix, limit. */
START_TEST(test_parse_query)
{
	static const char base[] = "\"cmd\":\"query\",\"nk\":\"n/1\","
	    "\"qid\":4,\"worker\":1";
	struct command cmd;
	char buf[256];
	cJSON *root;

	REFUSED("{\"cmd\":\"query\",\"q\":\"stats\",\"qid\":4,\"worker\":1}");
	REFUSED("{\"cmd\":\"query\",\"q\":\"stats\",\"nk\":\"\",\"qid\":4,"
	    "\"worker\":1}");
	REFUSED("{\"cmd\":\"query\",\"q\":\"stats\",\"nk\":\"n/1\","
	    "\"worker\":1}");
	REFUSED("{\"cmd\":\"query\",\"q\":\"stats\",\"nk\":\"n/1\",\"qid\":4}");
	REFUSED("{\"cmd\":\"query\",\"nk\":\"n/1\",\"qid\":4,\"worker\":1}");
	snprintf(buf, sizeof buf, "{%s,\"q\":\"nope\"}", base);
	REFUSED(buf);
	snprintf(buf, sizeof buf, "{%s,\"q\":1}", base);
	REFUSED(buf);
	snprintf(buf, sizeof buf, "{%s,\"q\":\"STATS\"}", base);
	REFUSED(buf);
	REFUSED("{\"cmd\":\"query\",\"q\":\"stats\",\"nk\":\"n/1\","
	    "\"qid\":-1,\"worker\":1}");
	REFUSED("{\"cmd\":\"query\",\"q\":\"stats\",\"nk\":\"n/1\","
	    "\"qid\":1.5,\"worker\":1}");
	REFUSED("{\"cmd\":\"query\",\"q\":\"stats\",\"nk\":\"n/1\","
	    "\"qid\":4,\"worker\":65536}");
	REFUSED("{\"cmd\":\"query\",\"q\":\"stats\",\"nk\":\"n/1\","
	    "\"qid\":4,\"worker\":-1}");
	snprintf(buf, sizeof buf, "{%s,\"q\":\"user\"}", base);
	REFUSED(buf);
	snprintf(buf, sizeof buf, "{%s,\"q\":\"user\",\"user\":\"a b\"}", base);
	REFUSED(buf);
	snprintf(buf, sizeof buf, "{%s,\"q\":\"channels\",\"prefix\":\"a b\"}",
	    base);
	REFUSED(buf);
	snprintf(buf, sizeof buf, "{%s,\"q\":\"channels\",\"prefix\":1}",
	    base);
	REFUSED(buf);
	snprintf(buf, sizeof buf, "{%s,\"q\":\"channels\",\"limit\":0}", base);
	REFUSED(buf);
	snprintf(buf, sizeof buf, "{%s,\"q\":\"channels\",\"limit\":%d}", base,
	    PROTO_CHANNELS_MAX + 1);
	REFUSED(buf);
	snprintf(buf, sizeof buf, "{%s,\"q\":\"channels\",\"limit\":null}",
	    base);
	REFUSED(buf);

	/* by is not needed: a question changes nothing. */
	snprintf(buf, sizeof buf, "{%s,\"q\":\"stats\"}", base);
	ACCEPTED(buf, &cmd, &root);
	ck_assert_int_eq(cmd.kind, CMD_QUERY);
	ck_assert_int_eq(cmd.q, Q_STATS);
	ck_assert_str_eq(cmd.nk, "n/1");
	ck_assert_int_eq(cmd.qid, 4);
	ck_assert_int_eq(cmd.worker, 1);
	ck_assert_int_eq(cmd.limit, 20);	/* the default */
	ck_assert_ptr_null(cmd.by);
	cJSON_Delete(root);
	snprintf(buf, sizeof buf, "{%s,\"q\":\"user\",\"user\":\"x|y\"}", base);
	ACCEPTED(buf, &cmd, &root);
	ck_assert_int_eq(cmd.q, Q_USER);
	ck_assert_str_eq(cmd.user, "x|y");
	cJSON_Delete(root);
	snprintf(buf, sizeof buf, "{%s,\"q\":\"channels\",\"prefix\":\"\","
	    "\"limit\":%d}", base, PROTO_CHANNELS_MAX);
	ACCEPTED(buf, &cmd, &root);
	ck_assert_int_eq(cmd.q, Q_CHANNELS);
	ck_assert_str_eq(cmd.prefix, "");
	ck_assert_int_eq(cmd.limit, PROTO_CHANNELS_MAX);
	cJSON_Delete(root);
	ACCEPTED("{\"cmd\":\"restate\"}", &cmd, &root);
	ck_assert_int_eq(cmd.kind, CMD_RESTATE);
	cJSON_Delete(root);
}
END_TEST

/* Longer than CONTROL_MAX: refused whatever it holds. */
START_TEST(test_parse_too_long)
{
	char *big = malloc(CONTROL_MAX + 2);
	struct command cmd;
	cJSON *root;

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', CONTROL_MAX + 1);
	memcpy(big, "{\"cmd\":\"announce\",\"by\":\"m\",\"text\":\"t\"}", 38);
	big[CONTROL_MAX + 1] = '\0';
	refused(big, CONTROL_MAX + 1, __LINE__);
	ck_assert_int_eq(control_parse(big, CONTROL_MAX, &cmd, &root), 0);
	cJSON_Delete(root);
	free(big);
}
END_TEST

/* ---------------------------------------------------------- round trip */

/* Checks that two optional strings are equal (both NULL, or the same text). */
static void
same_str(const char *a, const char *b, const char *what, int kind)
{
	if (a == NULL || b == NULL)
		ck_assert_msg(a == b, "kind %d: %s: %s vs %s", kind, what,
		    a ? a : "NULL", b ? b : "NULL");
	else
		ck_assert_msg(strcmp(a, b) == 0, "kind %d: %s: '%s' vs '%s'",
		    kind, what, a, b);
}

/* Encodes c, parses it back and checks that every field came through. */
static void
round_trip(const struct command *c)
{
	struct command d;
	struct jsonw jw;
	cJSON *root;
	int k = (int)c->kind;

	jsonw_init(&jw);
	ck_assert_int_eq(control_encode(&jw, c), 0);
	ck_assert_msg(control_parse(jw.buf, jw.len, &d, &root) == 0,
	    "kind %d: %.*s refused", k, (int)jw.len, jw.buf);
	ck_assert_int_eq(d.kind, c->kind);
	same_str(d.by, c->by, "by", k);
	same_str(d.byname, c->byname, "byname", k);
	same_str(d.node, c->node, "node", k);
	same_str(d.nk, c->nk, "nk", k);
	ck_assert_int_eq(d.ts, c->ts);
	same_str(d.user, c->user, "user", k);
	same_str(d.ch, c->ch, "ch", k);
	same_str(d.reason, c->reason, "reason", k);
	same_str(d.text, c->text, "text", k);
	ck_assert_uint_eq(d.text_len, c->text_len);
	ck_assert_int_eq(d.until, c->until);
	ck_assert_int_eq(d.secs, c->secs);
	ck_assert_int_eq(d.seq, c->seq);
	ck_assert_int_eq(d.q, c->q);
	ck_assert_int_eq(d.qid, c->qid);
	ck_assert_int_eq(d.worker, c->worker);
	ck_assert_int_eq(d.limit, c->limit);
	same_str(d.prefix, c->prefix, "prefix", k);
	cJSON_Delete(root);
	jsonw_free(&jw);
}

#define NASTY_UID "o\"'\\b|*{}"
#define NASTY_TEXT "say \"hi\" \\ back\\slash\n\t\xc3\xa9\xe6\xbc\xa2" \
    "\xf0\x9f\x8e\x89 </script>"

/* A command of kind with the fields it carries set (the others zero). */
static struct command
full(enum cmd_kind kind)
{
	struct command c;

	memset(&c, 0, sizeof c);
	c.kind = kind;
	c.node = "n\xc3\xb6" "de \"1\"";
	c.nk = "n\xc3\xb6" "de \"1\"/b00t";
	c.ts = NOW + 123;
	if (kind != CMD_QUERY && kind != CMD_RESTATE) {
		c.by = "m\\o\"d";
		c.byname = "Mod \"the\" \\ \xc3\xa9";
	}
	switch (kind) {
	case CMD_KICK:
		c.user = NASTY_UID;
		c.reason = NASTY_TEXT;
		break;
	case CMD_ANNOUNCE:
		c.ch = "guild:42";
		c.text = NASTY_TEXT;
		c.text_len = strlen(NASTY_TEXT);
		break;
	case CMD_BAN:
	case CMD_MUTE:
		c.user = NASTY_UID;
		c.ch = kind == CMD_MUTE ? "a.b-c_d:e" : NULL;
		c.reason = NASTY_TEXT;
		c.until = NOW + 3600000;
		c.secs = 3600;
		break;
	case CMD_UNBAN:
		c.user = NASTY_UID;
		break;
	case CMD_UNMUTE:
		c.user = NASTY_UID;
		c.ch = "lobby";
		break;
	case CMD_SLOWMODE:
		c.ch = "lobby";
		c.secs = PROTO_SLOW_MAX;
		break;
	case CMD_DELETE:
		c.ch = "lobby";
		c.seq = INT64_C(1) << 53;
		break;
	case CMD_REPORT:
		c.user = NASTY_UID;
		c.ch = "lobby";
		c.seq = 77;
		c.reason = NASTY_TEXT;
		c.text = NASTY_TEXT;
		c.text_len = strlen(NASTY_TEXT);
		break;
	case CMD_QUERY:
		c.q = Q_CHANNELS;
		c.qid = 991;
		c.worker = 3;
		c.prefix = "party:";
		c.limit = 7;
		break;
	default:
		break;
	}
	return c;
}

/* control_parse(control_encode(c)) is c, for every kind. */
START_TEST(test_round_trip)
{
	struct command c;
	int k;

	for (k = 0; k < CMD_COUNT; k++) {
		c = full((enum cmd_kind)k);
		round_trip(&c);
	}
	/* The variants: no ch, no end, no reason, no text. */
	c = full(CMD_MUTE);
	c.ch = NULL;
	c.until = 0;
	c.secs = 0;
	c.reason = NULL;
	round_trip(&c);
	c = full(CMD_UNMUTE);
	c.ch = NULL;
	round_trip(&c);
	c = full(CMD_ANNOUNCE);
	c.ch = NULL;
	round_trip(&c);
	c = full(CMD_REPORT);
	c.text = NULL;
	c.text_len = 0;
	c.reason = NULL;
	round_trip(&c);
	c = full(CMD_SLOWMODE);
	c.secs = 0;
	round_trip(&c);
	c = full(CMD_KICK);
	c.byname = NULL;
	c.node = NULL;
	c.nk = NULL;
	c.ts = 0;
	round_trip(&c);
	c = full(CMD_QUERY);
	c.q = Q_USER;
	c.user = NASTY_UID;
	c.prefix = NULL;
	c.limit = 20;
	round_trip(&c);
	c = full(CMD_QUERY);
	c.q = Q_STATS;
	c.prefix = NULL;
	c.qid = 0;
	c.worker = 0;
	c.limit = 20;
	round_trip(&c);
}
END_TEST

/* What the encoding leaves out: an empty reason; the query's limit 0. */
START_TEST(test_encode_defaults)
{
	struct command c = full(CMD_KICK), d;
	struct jsonw jw;
	cJSON *root;

	c.reason = "";
	jsonw_init(&jw);
	ck_assert_int_eq(control_encode(&jw, &c), 0);
	ck_assert_int_eq(control_parse(jw.buf, jw.len, &d, &root), 0);
	ck_assert_ptr_null(d.reason);
	ck_assert_ptr_null(cJSON_GetObjectItem(root, "reason"));
	ck_assert_str_eq(cJSON_GetObjectItem(root, "cmd")->valuestring,
	    "kick");
	cJSON_Delete(root);
	jsonw_free(&jw);
	c = full(CMD_QUERY);
	c.limit = 0;
	jsonw_init(&jw);
	ck_assert_int_eq(control_encode(&jw, &c), 0);
	ck_assert_int_eq(control_parse(jw.buf, jw.len, &d, &root), 0);
	ck_assert_int_eq(d.limit, 20);
	cJSON_Delete(root);
	jsonw_free(&jw);
	ck_assert_str_eq(control_name(CMD_SLOWMODE), "slowmode");
	ck_assert_str_eq(control_name(CMD_COUNT), "?");
}
END_TEST

/* ------------------------------------------------------- store change */

/* Checks control_store_change(c): op, key, until, seq. */
static void
expect_change(const struct command *c, enum store_op op, const char *key,
    int64_t until, int64_t seq, int line)
{
	struct store_change chg;

	memset(&chg, 0x5a, sizeof chg);
	control_store_change(c, &chg);
	ck_assert_msg(chg.op == op, "line %d: op %d, want %d", line, chg.op,
	    op);
	ck_assert_msg(strcmp(chg.key, key) == 0, "line %d: key '%s', want "
	    "'%s'", line, chg.key, key);
	ck_assert_msg(chg.until == until, "line %d: until %lld", line,
	    (long long)chg.until);
	ck_assert_msg(chg.seq == seq, "line %d: seq %lld", line,
	    (long long)chg.seq);
}

#define CHANGE(c, op, key, until, seq) \
	expect_change((c), (op), (key), (until), (seq), __LINE__)

START_TEST(test_store_change)
{
	char ch[CHAN_NAME_MAX + 1], uid[USER_ID_MAX + 1], key[256];
	struct command c;
	int k;

	c = full(CMD_BAN);
	CHANGE(&c, STORE_SET, "ban:" NASTY_UID, NOW + 3600000, 0);
	c.until = 0;
	CHANGE(&c, STORE_SET, "ban:" NASTY_UID, 0, 0);
	c = full(CMD_UNBAN);
	CHANGE(&c, STORE_DEL, "ban:" NASTY_UID, 0, 0);
	c = full(CMD_MUTE);
	CHANGE(&c, STORE_SET, "mute:a.b-c_d:e|" NASTY_UID, NOW + 3600000, 0);
	c.ch = NULL;
	CHANGE(&c, STORE_SET, "mute:*|" NASTY_UID, NOW + 3600000, 0);
	c = full(CMD_UNMUTE);
	CHANGE(&c, STORE_DEL, "mute:lobby|" NASTY_UID, 0, 0);
	c.ch = NULL;
	CHANGE(&c, STORE_DEL_MUTES, NASTY_UID, 0, 0);
	c = full(CMD_SLOWMODE);
	CHANGE(&c, STORE_SET, "slow:lobby", 0, 0);
	c.secs = 0;
	CHANGE(&c, STORE_DEL, "slow:lobby", 0, 0);
	c = full(CMD_DELETE);
	CHANGE(&c, STORE_DEL_MSG, "lobby", 0, INT64_C(1) << 53);
	c.seq = 5;
	CHANGE(&c, STORE_DEL_MSG, "lobby", 0, 5);
	for (k = 0; k < CMD_COUNT; k++) {
		if (k != CMD_KICK && k != CMD_ANNOUNCE && k != CMD_REPORT &&
		    k != CMD_QUERY && k != CMD_RESTATE)
			continue;
		c = full((enum cmd_kind)k);
		CHANGE(&c, STORE_NONE, "", 0, 0);
	}
	/* The longest names fit the key whole. */
	memset(ch, 'c', CHAN_NAME_MAX);
	ch[CHAN_NAME_MAX] = '\0';
	memset(uid, 'u', USER_ID_MAX);
	uid[USER_ID_MAX] = '\0';
	c = full(CMD_MUTE);
	c.ch = ch;
	c.user = uid;
	snprintf(key, sizeof key, "mute:%s|%s", ch, uid);
	ck_assert_uint_eq(strlen(key), STORE_KEY_MAX);
	CHANGE(&c, STORE_SET, key, NOW + 3600000, 0);
	c = full(CMD_SLOWMODE);
	c.ch = ch;
	snprintf(key, sizeof key, "slow:%s", ch);
	CHANGE(&c, STORE_SET, key, 0, 0);
}
END_TEST

static Suite *
control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("send");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_kick_reaches_every_worker);
	tcase_add_test(tc, test_send_without_answer);
	tcase_add_test(tc, test_announce_with_and_without_channel);
	tcase_add_test(tc, test_too_long_is_refused);
	tcase_add_test(tc, test_ban_runs_everywhere);
	tcase_add_test(tc, test_run);
	suite_add_tcase(s, tc);
	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_not_a_command);
	tcase_add_test(tc, test_parse_by);
	tcase_add_test(tc, test_parse_common);
	tcase_add_test(tc, test_parse_user);
	tcase_add_test(tc, test_parse_ch);
	tcase_add_test(tc, test_parse_until_secs);
	tcase_add_test(tc, test_parse_seq);
	tcase_add_test(tc, test_parse_reason);
	tcase_add_test(tc, test_parse_text);
	tcase_add_test(tc, test_parse_query);
	tcase_add_test(tc, test_parse_too_long);
	suite_add_tcase(s, tc);
	tc = tcase_create("encode");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_encode_defaults);
	tcase_add_test(tc, test_store_change);
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
