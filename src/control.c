/*
 * control.c: the control channel's commands (see control.h): one table,
 * each entry with the fields the command carries, how it is checked, what
 * it changes in the stored state and what runs it here.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bus.h"
#include "chan.h"
#include "control.h"
#include "deliver.h"
#include "enforce.h"
#include "gather.h"
#include "jsonw.h"
#include "log.h"
#include "moderation.h"
#include "proto.h"
#include "utf8.h"
#include "worker.h"

/* The fields a command may carry (struct field_spec.flags). */
#define F_USER		0x001	/* user: a user id */
#define F_CH		0x002	/* ch: a channel name */
#define F_CH_OPT	0x004	/* ch: a channel name or absent */
#define F_REASON	0x008	/* reason: optional text */
#define F_TEXT		0x010	/* text: required text */
#define F_TEXT_OPT	0x020	/* text: optional text (or null) */
#define F_UNTIL		0x040	/* until: ms, 0 = no end */
#define F_SECS		0x080	/* secs */
#define F_SEQ		0x100	/* seq: >= 1 */
#define F_QUERY		0x200	/* q, qid, worker, nk; user, prefix, limit */
#define F_BY		0x400	/* by: a user id (who did it) */

static const struct {
	const char *name;
	unsigned fields;
} commands[CMD_COUNT] = {
	[CMD_KICK] = { "kick", F_BY | F_USER | F_REASON },
	[CMD_ANNOUNCE] = { "announce", F_BY | F_TEXT | F_CH_OPT },
	[CMD_BAN] = { "ban", F_BY | F_USER | F_UNTIL | F_SECS | F_REASON },
	[CMD_UNBAN] = { "unban", F_BY | F_USER },
	[CMD_MUTE] = { "mute", F_BY | F_USER | F_CH_OPT | F_UNTIL | F_SECS |
	    F_REASON },
	[CMD_UNMUTE] = { "unmute", F_BY | F_USER | F_CH_OPT },
	[CMD_SLOWMODE] = { "slowmode", F_BY | F_CH | F_SECS },
	[CMD_DELETE] = { "delete", F_BY | F_CH | F_SEQ },
	[CMD_REPORT] = { "report", F_BY | F_USER | F_CH | F_SEQ | F_REASON |
	    F_TEXT_OPT },
	[CMD_QUERY] = { "query", F_QUERY },
	[CMD_RESTATE] = { "restate", 0 },
};

static const char *const query_names[Q_COUNT] = {
	[Q_STATS] = "stats", [Q_CHANNELS] = "channels", [Q_USER] = "user",
};

const char *
control_name(enum cmd_kind kind)
{
	return kind < CMD_COUNT ? commands[kind].name : "?";
}

/* ----------------------------------------------------------- encoding */

/* Adds ,"name":"s" (or null). */
static void
put_str(struct jsonw *jw, const char *name, const char *s)
{
	jsonw_lit(jw, ",\"");
	jsonw_lit(jw, name);
	jsonw_lit(jw, "\":");
	if (s == NULL)
		jsonw_lit(jw, "null");
	else
		jsonw_cstr(jw, s);
}

/* Adds ,"name":v. */
static void
put_int(struct jsonw *jw, const char *name, int64_t v)
{
	jsonw_lit(jw, ",\"");
	jsonw_lit(jw, name);
	jsonw_lit(jw, "\":");
	jsonw_int(jw, v);
}

int
control_encode(struct jsonw *jw, const struct command *cmd)
{
	unsigned f = commands[cmd->kind].fields;

	jsonw_lit(jw, "{\"cmd\":\"");
	jsonw_lit(jw, commands[cmd->kind].name);
	jsonw_lit(jw, "\"");
	if (f & F_BY) {
		put_str(jw, "by", cmd->by);
		put_str(jw, "byname", cmd->byname);
	}
	if (cmd->node != NULL)
		put_str(jw, "node", cmd->node);
	if (cmd->nk != NULL)
		put_str(jw, "nk", cmd->nk);
	if (cmd->ts > 0)
		put_int(jw, "ts", cmd->ts);
	if ((f & F_USER) || ((f & F_QUERY) && cmd->user != NULL))
		put_str(jw, "user", cmd->user);
	if ((f & F_CH) || ((f & F_CH_OPT) && cmd->ch != NULL))
		put_str(jw, "ch", cmd->ch);
	if ((f & F_REASON) && cmd->reason != NULL && cmd->reason[0] != '\0')
		put_str(jw, "reason", cmd->reason);
	if ((f & (F_TEXT | F_TEXT_OPT))) {
		jsonw_lit(jw, ",\"text\":");
		if (cmd->text == NULL)
			jsonw_lit(jw, "null");
		else
			jsonw_str(jw, cmd->text, cmd->text_len);
	}
	if (f & F_UNTIL)
		put_int(jw, "until", cmd->until);
	if (f & F_SECS)
		put_int(jw, "secs", cmd->secs);
	if (f & F_SEQ)
		put_int(jw, "seq", cmd->seq);
	if (f & F_QUERY) {
		put_str(jw, "q", query_names[cmd->q]);
		put_int(jw, "qid", cmd->qid);
		put_int(jw, "worker", cmd->worker);
		if (cmd->prefix != NULL)
			put_str(jw, "prefix", cmd->prefix);
		if (cmd->limit > 0)
			put_int(jw, "limit", cmd->limit);
	}
	jsonw_lit(jw, "}");
	return jw->failed || jw->len > CONTROL_MAX ? -1 : 0;
}

/* ----------------------------------------------------------- decoding */

/* Returns the string member name of o (NULL if absent, null or not a string). */
static const char *
get_str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/*
 * Returns true if member name of o is there but neither a string nor null:
 * an optional string of the wrong type is refused, not taken for absent
 * (a mute with "ch":5 must not become a mute everywhere).
 */
static bool
not_str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return it != NULL && !cJSON_IsString(it) && !cJSON_IsNull(it);
}

/* Reads whole number member name of o into *v; false if absent or not one in [lo, hi]. */
static bool
get_num(const cJSON *o, const char *name, int64_t lo, int64_t hi,
    int64_t *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	double d;

	if (!cJSON_IsNumber(it))
		return false;
	d = it->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < (double)lo || d > (double)hi)
		return false;
	*v = (int64_t)d;
	return true;
}

/* Returns true if s is text a command may carry: valid UTF-8, at most max characters. */
static bool
text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return utf8_valid(s, n) && utf8_count(s, n) <= max;
}

/* Decodes what every command may carry: who, where from, when. */
static const char *
parse_common(const cJSON *o, struct command *cmd, unsigned f)
{
	const char *s;

	cmd->by = get_str(o, "by");
	cmd->byname = get_str(o, "byname");
	if ((f & F_BY) &&
	    (cmd->by == NULL || !user_id_valid(cmd->by, strlen(cmd->by))))
		return "by";
	if (not_str(o, "byname") ||
	    (cmd->byname != NULL && !text_ok(cmd->byname, USER_NAME_MAX)))
		return "byname";
	if (not_str(o, "node") || ((s = cmd->node = get_str(o, "node")) !=
	    NULL && (strlen(s) > 64 || !text_ok(s, 64))))
		return "node";
	if (not_str(o, "nk") || ((s = cmd->nk = get_str(o, "nk")) != NULL &&
	    (strlen(s) > 79 || !text_ok(s, 79))))
		return "nk";
	if (!get_num(o, "ts", 0, INT64_C(1) << 53, &cmd->ts))
		cmd->ts = 0;
	return NULL;
}

/* Decodes the fields of f; returns NULL, or the name of the bad one. */
static const char *
parse_fields(const cJSON *o, struct command *cmd, unsigned f)
{
	const char *s;
	int64_t v;
	int i;

	if ((f & F_USER) && ((s = cmd->user = get_str(o, "user")) == NULL ||
	    !user_id_valid(s, strlen(s))))
		return "user";
	if (f & (F_CH | F_CH_OPT)) {
		s = cmd->ch = get_str(o, "ch");
		if (s == NULL ? (f & F_CH) != 0 || not_str(o, "ch") :
		    !chan_name_valid(s, strlen(s)))
			return "ch";
	}
	if ((f & F_REASON) && (not_str(o, "reason") ||
	    ((s = cmd->reason = get_str(o, "reason")) != NULL &&
	    !text_ok(s, PROTO_REASON_MAX))))
		return "reason";
	if (f & (F_TEXT | F_TEXT_OPT)) {
		s = cmd->text = get_str(o, "text");
		if (s == NULL ? (f & F_TEXT) != 0 || not_str(o, "text") :
		    (s[0] == '\0' || !utf8_valid(s, strlen(s))))
			return "text";
		cmd->text_len = s != NULL ? strlen(s) : 0;
	}
	if ((f & F_UNTIL) && !get_num(o, "until", 0, INT64_C(1) << 53,
	    &cmd->until))
		return "until";
	if ((f & F_SECS) && !get_num(o, "secs", 0, PROTO_SECS_MAX, &cmd->secs))
		return "secs";
	if (cmd->kind == CMD_SLOWMODE && cmd->secs > PROTO_SLOW_MAX)
		return "secs";
	if ((f & F_SEQ) && !get_num(o, "seq", 1, INT64_C(1) << 53, &cmd->seq))
		return "seq";
	if (!(f & F_QUERY))
		return NULL;
	if ((s = get_str(o, "q")) == NULL)
		return "q";
	for (i = 0; i < Q_COUNT; i++)
		if (strcmp(s, query_names[i]) == 0)
			break;
	if (i == Q_COUNT)
		return "q";
	cmd->q = (enum query_kind)i;
	if (cmd->nk == NULL || cmd->nk[0] == '\0')
		return "nk";
	if (!get_num(o, "qid", 0, INT64_C(1) << 53, &cmd->qid))
		return "qid";
	if (!get_num(o, "worker", 0, 65535, &cmd->worker))
		return "worker";
	if (cmd->q == Q_USER && ((s = cmd->user = get_str(o, "user")) == NULL ||
	    !user_id_valid(s, strlen(s))))
		return "user";
	if (not_str(o, "prefix") || ((s = cmd->prefix = get_str(o, "prefix")) !=
	    NULL && s[0] != '\0' && !chan_name_valid(s, strlen(s))))
		return "prefix";
	v = 20;
	if (cJSON_GetObjectItemCaseSensitive(o, "limit") != NULL &&
	    !get_num(o, "limit", 1, PROTO_CHANNELS_MAX, &v))
		return "limit";
	cmd->limit = v;
	return NULL;
}

int
control_parse(const char *json, size_t len, struct command *cmd,
    cJSON **root)
{
	const char *name, *bad, *end = NULL;
	cJSON *o;
	int i;

	*root = NULL;
	memset(cmd, 0, sizeof *cmd);
	if (len > CONTROL_MAX) {
		log_warn("control: a command of %zu bytes (more than %d): "
		    "ignored", len, CONTROL_MAX);
		return -1;
	}
	/* Another instance sent it: as careful with it as with a client's. */
	o = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	while (o != NULL && end < json + len && (*end == ' ' || *end == '\t' ||
	    *end == '\r' || *end == '\n'))
		end++;
	if (o == NULL || end != json + len || !cJSON_IsObject(o) ||
	    (name = get_str(o, "cmd")) == NULL) {
		log_warn("control: a command that is not JSON with a cmd: ignored");
		cJSON_Delete(o);
		return -1;
	}
	for (i = 0; i < CMD_COUNT; i++)
		if (strcmp(name, commands[i].name) == 0)
			break;
	if (i == CMD_COUNT) {
		log_warn("control: unknown command \"%.32s\": ignored", name);
		cJSON_Delete(o);
		return -1;
	}
	cmd->kind = (enum cmd_kind)i;
	if ((bad = parse_common(o, cmd, commands[i].fields)) != NULL ||
	    (bad = parse_fields(o, cmd, commands[i].fields)) != NULL) {
		log_warn("control: %s without a valid %s: ignored", name, bad);
		cJSON_Delete(o);
		return -1;
	}
	*root = o;
	return 0;
}

/* ------------------------------------------------------------ sending */

void
control_store_change(const struct command *cmd, struct store_change *chg)
{
	memset(chg, 0, sizeof *chg);
	switch (cmd->kind) {
	case CMD_BAN:
		chg->op = STORE_SET;
		snprintf(chg->key, sizeof chg->key, "ban:%s", cmd->user);
		chg->until = cmd->until;
		break;
	case CMD_UNBAN:
		chg->op = STORE_DEL;
		snprintf(chg->key, sizeof chg->key, "ban:%s", cmd->user);
		break;
	case CMD_MUTE:
	case CMD_UNMUTE:
		if (cmd->kind == CMD_UNMUTE && cmd->ch == NULL) {
			chg->op = STORE_DEL_MUTES;
			snprintf(chg->key, sizeof chg->key, "%s", cmd->user);
			break;
		}
		chg->op = cmd->kind == CMD_MUTE ? STORE_SET : STORE_DEL;
		snprintf(chg->key, sizeof chg->key, "mute:%s|%s",
		    cmd->ch != NULL ? cmd->ch : "*", cmd->user);
		chg->until = cmd->until;
		break;
	case CMD_SLOWMODE:
		chg->op = cmd->secs > 0 ? STORE_SET : STORE_DEL;
		snprintf(chg->key, sizeof chg->key, "slow:%s", cmd->ch);
		break;
	case CMD_DELETE:
		chg->op = STORE_DEL_MSG;
		snprintf(chg->key, sizeof chg->key, "%s", cmd->ch);
		chg->seq = cmd->seq;
		break;
	default:
		chg->op = STORE_NONE;
		break;
	}
}

void
control_send(struct worker *w, uint64_t client, const char *id,
    const struct command *cmd, bool answer)
{
	struct store_change chg;
	struct origin from;
	struct jsonw jw;

	jsonw_init(&jw);
	if (control_encode(&jw, cmd) != 0) {
		msg_origin(&from, (uint16_t)w->idx, client, id);
		deliver_reply_err(w, &from, ACT_NONE, NULL, jw.failed ?
		    ERR_INTERNAL : ERR_TOO_LONG, jw.failed ? "out of memory" :
		    "the command is too long");
	} else {
		control_store_change(cmd, &chg);
		bus_control(w, client, id, jw.buf, jw.len, &chg, answer);
	}
	jsonw_free(&jw);
}

/* ------------------------------------------------------------ running */

int
control_run(struct worker *w, const char *json, size_t len, unsigned flags)
{
	struct command cmd;
	cJSON *root;

	if (control_parse(json, len, &cmd, &root) != 0)
		return -1;
	switch (cmd.kind) {
	case CMD_QUERY:
		gather_on_query(w, &cmd);
		break;
	case CMD_RESTATE:
		moderation_save(w, true);
		break;
	default:
		enforce_command(w, &cmd, json, len, flags);
		break;
	}
	cJSON_Delete(root);
	return 0;
}
