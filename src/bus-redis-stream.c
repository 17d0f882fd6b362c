/*
 * bus-redis-stream.c: whispers and control commands through Redis Streams,
 * so that the sender's `ok` means stored.
 *
 * Sending (on the sender's or the user's owner worker, on its command
 * connection): the whisper script appends the whisper to the stream of
 * every instance where its target is connected (P wstream:NODE) and answers
 * how many; the control script appends a command to the cluster's one
 * control stream (P ctlstream) and answers its entry id.  Both trim what
 * they append to (at most about STREAM_MAXLEN entries, none older than the
 * age bound) in the same script, so the answer is what was stored.
 *
 * Reading (worker 0 of each instance): a third connection to Redis, used
 * for nothing else, keeps one XREAD BLOCK outstanding on this instance's
 * whisper stream and the control stream, from the last id handled of each
 * (kept in memory), at most `count` entries of each per read.  A blocked
 * read would hold up every script pipelined behind it on the command
 * connection, hence a connection of its own.  An entry takes the same path
 * whether it is read the moment it is added or after that connection came
 * back, so nothing needs deduplicating: the ids only grow, and each entry
 * is handed on once, whispers to deliver_user_workers, commands to
 * deliver_control_workers.  Pub/sub carries neither.
 *
 * Where reading starts: the whisper stream belongs to this process (the
 * node key carries a boot id), so from its beginning; the control stream
 * from the moment this process started, on Redis's clock (its TIME less the
 * time since), so that commands sent before the instance started are not
 * run, and those sent after it started, even before it first reached
 * Redis, are.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "bus-redis-int.h"
#include "config.h"
#include "deliver.h"
#include "frame.h"
#include "log.h"
#include "msg.h"
#include "relay.h"
#include "reply.h"
#include "worker.h"

#define STREAM_MAXLEN 10000		/* entries kept per stream, about */
#define STREAM_AGE_MIN_MS 300000	/* entries kept at least this long */
#define STREAM_BLOCK_MS "5000"		/* how long one XREAD waits */
#define STREAM_RETRY_MS 1000		/* after Redis refused a read */
#define STREAM_READ_BYTES (1 << 20)	/* what one read may bring, per stream */
#define STREAM_COUNT_MAX 100		/* entries per stream per read */
#define STREAM_ID_MAX 41		/* "MS-SEQ", two 64-bit numbers */
#define CTL_STREAM KP "ctlstream"

/* Worker 0's reader of its streams (struct bus_redis's stream). */
struct bus_stream {
	struct worker *w;
	struct redis_conn *conn;	/* NULL once stopped */
	bool up;			/* conn is up */
	bool busy;			/* a TIME or an XREAD is in flight */
	bool based;			/* cid holds where the control stream starts */
	bool loaded;			/* the moderation state was read */
	bool warned;			/* a refused read has been logged */
	int64_t start_ms;		/* loop ms when the bus started */
	int64_t retry_ms;		/* loop ms of the next attempt after a refusal, or 0 */
	char count[16];			/* entries per stream per read */
	char wkey[128];			/* P wstream:NODE */
	char wid[STREAM_ID_MAX + 1];	/* last whisper entry handled */
	char cid[STREAM_ID_MAX + 1];	/* last control entry handled */
};

/* Returns how long (ms) the streams keep an entry: well past presence_ttl. */
static int64_t
stream_age_ms(const struct config *cfg)
{
	int64_t a = 2 * cfg->presence_ttl_ms;

	return a > STREAM_AGE_MIN_MS ? a : STREAM_AGE_MIN_MS;
}

/*
 * Runs script id (nkeys keys, then arguments: argc in all, lens[i] bytes
 * of argv[i]) on w's command connection.  Returns 0, or -1 without calling
 * cb if Redis is not reachable.
 */
static int
stream_eval(struct worker *w, enum script_id id, redis_reply_cb cb,
    void *priv, int nkeys, int argc, const char **argv, const size_t *lens)
{
	struct bus_redis *br = w->bus;

	if (br == NULL || br->cmd == NULL || !br->cmd_up)
		return -1;
	return redis_conn_eval(br->cmd, &bus_redis_scripts[id], cb, priv,
	    nkeys, argc, argv, lens);
}

/* ------------------------------------------------------------- sending */

/*
 * Answers whisper m by how many instances' streams took it (n; -1: no
 * answer) and frees m.
 */
static void
whisper_answer(struct worker *w, struct im_whisper *m, long long n)
{
	char msg[128];

	if (n < 0)
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_UNAVAILABLE,
		    "the cluster bus is down");
	else if (n == 0) {
		snprintf(msg, sizeof msg, "to: user %s is not online", m->to);
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_BAD_FIELD,
		    msg);
	} else {
		metrics_add(&w->stats.whispers, 1);
		deliver_reply(w, &m->from, ACT_NONE, NULL, reply_ok(m->from.id));
	}
	msg_free(&m->hdr);
}

/* The whisper script answered with how many instances' streams took it. */
static void
on_whispered(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct op_ctx *x = priv;
	struct worker *w = x->w;
	struct im_whisper *m = x->m;

	free(x);
	whisper_answer(w, m, reply_int(r, -1));
}

void
bus_redis_whisper(struct worker *w, struct im_whisper *m)
{
	char k[128], maxlen[16], age[24];
	const char *argv[6];
	size_t lens[6];
	struct op_ctx *x = malloc(sizeof *x);
	int i;

	if (x == NULL) {
		whisper_answer(w, m, -1);
		return;
	}
	x->w = w;
	x->m = m;
	snprintf(maxlen, sizeof maxlen, "%d", STREAM_MAXLEN);
	snprintf(age, sizeof age, "%lld", (long long)stream_age_ms(w->cfg));
	argv[0] = key(k, sizeof k, "user", m->to);
	argv[1] = KP;
	argv[2] = m->to;
	argv[3] = frame_payload(m->frame);
	argv[4] = maxlen;
	argv[5] = age;
	for (i = 0; i < 6; i++)
		lens[i] = i == 3 ? frame_payload_len(m->frame) : strlen(argv[i]);
	if (stream_eval(w, S_WHISPER, on_whispered, x, 1, 6, argv, lens) != 0)
		on_whispered(NULL, NULL, x);
}

/* What the answer to a control command needs. */
struct ctl_ctx {
	struct worker *w;
	struct origin from;
	bool answer;
};

/* The control script stored the command (its answer is the entry id), or not. */
static void
on_control_stored(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct ctl_ctx *x = priv;

	if (!x->answer)
		;	/* the asker answers by itself */
	else if (r == NULL || r->type != REDIS_REPLY_STRING)
		deliver_reply_err(x->w, &x->from, ACT_NONE, NULL,
		    ERR_UNAVAILABLE, "the cluster bus is down");
	else
		deliver_reply(x->w, &x->from, ACT_NONE, NULL,
		    reply_ok(x->from.id));
	free(x);
}

void
bus_redis_control(struct worker *w, uint64_t client, const char *id,
    const char *cmd, size_t len, const struct store_change *chg,
    bool answer)
{
	static const char *const ops[] = {
		[STORE_NONE] = "", [STORE_SET] = "set", [STORE_DEL] = "del",
		[STORE_DEL_MUTES] = "mutes", [STORE_DEL_MSG] = "msg",
	};
	char maxlen[16], age[24], num[24];
	const char *argv[8];
	size_t lens[8];
	struct ctl_ctx *x = malloc(sizeof *x);
	struct origin from;
	int i;

	msg_origin(&from, (uint16_t)w->idx, client, id);
	if (x == NULL) {
		if (answer)
			deliver_reply_err(w, &from, ACT_NONE, NULL,
			    ERR_UNAVAILABLE, "the cluster bus is down");
		return;
	}
	x->w = w;
	x->from = from;
	x->answer = answer;
	snprintf(maxlen, sizeof maxlen, "%d", STREAM_MAXLEN);
	snprintf(age, sizeof age, "%lld", (long long)stream_age_ms(w->cfg));
	snprintf(num, sizeof num, "%lld", (long long)(chg->op == STORE_DEL_MSG ?
	    chg->seq : chg->until));
	argv[0] = CTL_STREAM;
	argv[1] = cmd;
	argv[2] = maxlen;
	argv[3] = age;
	argv[4] = ops[chg->op];
	argv[5] = KP;
	argv[6] = chg->key;
	argv[7] = num;
	for (i = 0; i < 8; i++)
		lens[i] = i == 1 ? len : strlen(argv[i]);
	if (stream_eval(w, S_CONTROL, on_control_stored, x, 1, 8, argv,
	    lens) != 0)
		on_control_stored(NULL, NULL, x);
}

void
bus_redis_answer(struct worker *w, const char *nk, int to, const char *text,
    size_t len)
{
	char k[128], maxlen[16], age[24], worker[16];
	const char *argv[5];
	size_t lens[5];
	int i;

	if (strcmp(nk, w->relay->node_key) == 0) {
		deliver_answer_worker(w, to, text, len);
		return;
	}
	snprintf(maxlen, sizeof maxlen, "%d", STREAM_MAXLEN);
	snprintf(age, sizeof age, "%lld", (long long)stream_age_ms(w->cfg));
	snprintf(worker, sizeof worker, "%d", to);
	argv[0] = key(k, sizeof k, "wstream", nk);
	argv[1] = maxlen;
	argv[2] = age;
	argv[3] = text;
	argv[4] = worker;
	for (i = 0; i < 5; i++)
		lens[i] = i == 3 ? len : strlen(argv[i]);
	/* Lost if Redis cannot take it: the asker waits a bounded time. */
	(void)stream_eval(w, S_ANSWER, bus_redis_ignore, NULL, 1, 5, argv,
	    lens);
}

/* ------------------------------------------------------------- reading */

static void stream_read(struct bus_stream *s);

/* Redis refused a read (what): logs it once, and tries again a little later. */
static void
stream_refused(struct bus_stream *s, const char *what, const redisReply *r)
{
	if (!s->warned)
		log_warn("redis: reading the streams: %s answered %.100s", what,
		    r->type == REDIS_REPLY_ERROR ? r->str : "something else");
	s->warned = true;
	s->retry_ms = worker_now(s->w) + STREAM_RETRY_MS;
}

/*
 * Returns the string value of field name among the n field-value pairs of
 * fields (an entry's array), its length in *len; NULL if it has none.
 */
static const char *
entry_field(const redisReply *fields, const char *name, size_t *len)
{
	size_t i;

	if (fields == NULL || fields->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (i = 0; i + 1 < fields->elements; i += 2) {
		if (fields->element[i]->type != REDIS_REPLY_STRING ||
		    fields->element[i + 1]->type != REDIS_REPLY_STRING ||
		    strcmp(fields->element[i]->str, name) != 0)
			continue;
		*len = fields->element[i + 1]->len;
		return fields->element[i + 1]->str;
	}
	return NULL;
}

/* A whisper entry (fields u: the user id, f: the frame's payload): to the user's connections here. */
static void
stream_whisper(struct bus_stream *s, const redisReply *fields)
{
	char uid[USER_ID_MAX + 1];
	const char *u, *p;
	size_t ul, pl;
	struct frame *f;

	if ((p = entry_field(fields, "a", &pl)) != NULL) {
		/* A part of an answer to a question of worker w. */
		u = entry_field(fields, "w", &ul);
		if (u != NULL && ul > 0 && ul < 6)
			deliver_answer_worker(s->w, atoi(u), p, pl);
		return;
	}
	u = entry_field(fields, "u", &ul);
	p = entry_field(fields, "f", &pl);
	if (u == NULL || p == NULL || ul == 0 || ul > USER_ID_MAX)
		return;
	memcpy(uid, u, ul);
	uid[ul] = '\0';
	if ((f = frame_text(p, pl)) == NULL) {
		log_err("out of memory: a whisper to %s lost", uid);
		return;
	}
	deliver_user_workers(s->w, NULL, uid, f);
	frame_unref(f);
}

/* A control entry (field c: the command): to every worker here. */
static void
stream_command(struct bus_stream *s, const redisReply *fields)
{
	const char *c;
	size_t len;

	if ((c = entry_field(fields, "c", &len)) != NULL)
		(void)deliver_control_workers(s->w, -1, c, len, 0);
}

/* One stream's part of an XREAD answer: [key, [[id, [field, value...]]...]]. */
static void
stream_entries(struct bus_stream *s, const redisReply *st)
{
	const redisReply *e, *list;
	bool whispers;
	char *last;
	size_t i;

	if (st->type != REDIS_REPLY_ARRAY || st->elements != 2 ||
	    st->element[0]->type != REDIS_REPLY_STRING ||
	    st->element[1]->type != REDIS_REPLY_ARRAY)
		return;
	whispers = strcmp(st->element[0]->str, s->wkey) == 0;
	if (!whispers && strcmp(st->element[0]->str, CTL_STREAM) != 0)
		return;
	last = whispers ? s->wid : s->cid;
	list = st->element[1];
	for (i = 0; i < list->elements; i++) {
		e = list->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    e->element[0]->len > STREAM_ID_MAX)
			continue;
		memcpy(last, e->element[0]->str, e->element[0]->len + 1);
		if (whispers)
			stream_whisper(s, e->element[1]);
		else
			stream_command(s, e->element[1]);
	}
}

/* An XREAD answered: hands on what it brought, then reads again. */
static void
on_read(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct bus_stream *s = priv;
	size_t i;

	s->busy = false;
	if (r == NULL)
		return;		/* the connection went: read again once it is up */
	if (r->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < r->elements; i++)
			stream_entries(s, r->element[i]);
	} else if (r->type != REDIS_REPLY_NIL) {	/* NIL: nothing within the block */
		stream_refused(s, "XREAD", r);
		return;
	}
	s->warned = false;
	stream_read(s);
}

/*
 * TIME answered: the control stream is read from this process's start, on
 * Redis's clock (its time less the time since the bus started here).
 */
static void
on_time(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct bus_stream *s = priv;
	long long ms;

	s->busy = false;
	if (r == NULL)
		return;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		stream_refused(s, "TIME", r);
		return;
	}
	ms = strtoll(r->element[0]->str, NULL, 10) * 1000 +
	    strtoll(r->element[1]->str, NULL, 10) / 1000 -
	    (worker_now(s->w) - s->start_ms);
	snprintf(s->cid, sizeof s->cid, "%lld-0", ms > 0 ? ms : 0);
	s->based = true;
	log_info("redis: control commands from %s on", s->cid);
	stream_read(s);
}

/*
 * The stored moderation state answered (once, before the control stream
 * is read from this process's start on): every worker here runs it.
 */
static void
on_modload(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct bus_stream *s = priv;
	size_t i, n = 0;

	s->busy = false;
	if (r == NULL)
		return;
	if (r->type != REDIS_REPLY_ARRAY) {
		stream_refused(s, "the moderation state's load", r);
		return;
	}
	for (i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    deliver_control_workers(s->w, -1, r->element[i]->str,
		    r->element[i]->len, CONTROL_REPLAY) == 0)
			n++;
	log_info("redis: %zu bans, mutes and slow modes loaded", n);
	s->loaded = true;
	stream_read(s);
}

/*
 * Sends the next request, if the connection is up and nothing is in
 * flight: TIME until the control stream's start is known, then XREAD.
 */
static void
stream_read(struct bus_stream *s)
{
	const char *argv[10];
	size_t lens[10];
	int argc = 0, i, rc;

	if (s->conn == NULL || !s->up || s->busy || s->retry_ms != 0)
		return;
	if (!s->loaded) {
		/* The state first: the commands read after it come later. */
		argv[0] = KP "modkeys";
		lens[0] = strlen(argv[0]);
		rc = redis_conn_eval(s->conn, &bus_redis_scripts[S_MODLOAD],
		    on_modload, s, 1, 1, argv, lens);
		if (rc == 0)
			s->busy = true;
		else
			s->retry_ms = worker_now(s->w) + STREAM_RETRY_MS;
		return;
	}
	if (!s->based) {
		argv[argc++] = "TIME";
	} else {
		argv[argc++] = "XREAD";
		argv[argc++] = "COUNT";
		argv[argc++] = s->count;
		argv[argc++] = "BLOCK";
		argv[argc++] = STREAM_BLOCK_MS;
		argv[argc++] = "STREAMS";
		argv[argc++] = s->wkey;
		argv[argc++] = CTL_STREAM;
		argv[argc++] = s->wid;
		argv[argc++] = s->cid;
	}
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	rc = redis_conn_command(s->conn, s->based ? on_read : on_time, s,
	    argc, argv, lens);
	if (rc == 0)
		s->busy = true;
	else	/* out of memory: the tick tries again */
		s->retry_ms = worker_now(s->w) + STREAM_RETRY_MS;
}

/* The reading connection changed state: reads as soon as it is up. */
static void
on_stream_state(struct redis_conn *rc, enum redis_state st, void *arg)
{
	struct bus_stream *s = arg;

	s->up = st == REDIS_UP;
	bus_redis_update_up(s->w->bus);
	if (s->up) {
		s->retry_ms = 0;
		stream_read(s);
	}
}

int
bus_redis_stream_start(struct worker *w, const struct redis_addr *addr)
{
	struct bus_redis *br = w->bus;
	struct bus_stream *s;
	long long n;

	s = calloc(1, sizeof *s);
	if (s == NULL)
		return -1;
	br->stream = s;
	s->w = w;
	s->start_ms = worker_now(w);
	/* A read brings at most about STREAM_READ_BYTES per stream. */
	n = STREAM_READ_BYTES / (w->cfg->frame_max + 2 * USER_ID_MAX + 64);
	n = n < 1 ? 1 : n > STREAM_COUNT_MAX ? STREAM_COUNT_MAX : n;
	snprintf(s->count, sizeof s->count, "%lld", n);
	key(s->wkey, sizeof s->wkey, "wstream", w->relay->node_key);
	snprintf(s->wid, sizeof s->wid, "0-0");
	s->conn = redis_conn_new(&w->loop, addr,
	    w->cfg->redis_connect_timeout_ms, BUS_REDIS_BACKOFF_MIN_MS,
	    BUS_REDIS_BACKOFF_MAX_MS, on_stream_state, s);
	return s->conn != NULL ? 0 : -1;
}

bool
bus_redis_stream_up(const struct bus_redis *br)
{
	return br->stream == NULL || br->stream->up;
}

void
bus_redis_stream_tick(struct worker *w, int64_t now)
{
	struct bus_redis *br = w->bus;
	struct bus_stream *s = br != NULL ? br->stream : NULL;

	if (s != NULL && s->retry_ms != 0 && now >= s->retry_ms) {
		s->retry_ms = 0;
		stream_read(s);
	}
}

void
bus_redis_stream_stop(struct bus_redis *br)
{
	struct bus_stream *s = br->stream;
	struct redis_conn *rc;

	if (s == NULL || (rc = s->conn) == NULL)
		return;
	s->conn = NULL;		/* what redis_conn_free calls back sends nothing */
	s->up = false;
	redis_conn_free(rc);
}

void
bus_redis_stream_free(struct bus_redis *br)
{
	bus_redis_stream_stop(br);
	free(br->stream);
	br->stream = NULL;
}
