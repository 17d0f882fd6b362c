/*
 * bus-redis.c: channels and users over Redis, for several instances.
 *
 * A message: the sender's worker runs the publish script (seq, history,
 * PUBLISH) and answers `ok` when Redis has accepted it.  Every instance
 * with members subscribes to the channel on the owner worker's subscriber
 * connection and fans out what arrives, in Redis's order.  A channel's
 * local state (seq delivered so far, recent messages) is synchronised from
 * Redis after its SUBSCRIBE is confirmed: joins wait for that, messages
 * that arrive meanwhile are held, duplicates (seq already delivered) are
 * dropped, and a gap makes the owner read the missing ones from history.
 */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <uv.h>

#include "bus-int.h"
#include "bus-redis.h"
#include "bus-scripts.h"
#include "bus.h"
#include "config.h"
#include "frame.h"
#include "inbox.h"
#include "jsonw.h"
#include "log.h"
#include "proto.h"
#include "redis.h"
#include "server.h"
#include "worker.h"

#define KP "chatrelay:"
#define EARLY_MAX 4096		/* messages held per channel until its sync */

enum script_id {
	S_PUBLISH, S_JOIN, S_LEAVE, S_HISTORY, S_WHO, S_ATTACH, S_DETACH,
	S_WHISPER, S_HEARTBEAT, S_REAP, S_RESTORE, S_COUNT
};

/* Read-only once bus_redis_global_init has run. */
static struct redis_script scripts[S_COUNT];

struct bus_redis {
	struct worker *w;
	struct redis_conn *cmd;
	struct redis_conn *sub;
	atomic_bool up;			/* both up: read by /healthz anywhere */
	bool cmd_up, sub_up;
	bool cmd_was_up;		/* the command connection has been up before */
	int64_t next_beat_ms;
};

void
bus_redis_global_init(void)
{
	static const char *const src[S_COUNT] = {
		[S_PUBLISH] = bus_script_publish, [S_JOIN] = bus_script_join,
		[S_LEAVE] = bus_script_leave, [S_HISTORY] = bus_script_history,
		[S_WHO] = bus_script_who, [S_ATTACH] = bus_script_attach,
		[S_DETACH] = bus_script_detach,
		[S_WHISPER] = bus_script_whisper,
		[S_HEARTBEAT] = bus_script_heartbeat,
		[S_REAP] = bus_script_reap, [S_RESTORE] = bus_script_restore,
	};
	int i;

	for (i = 0; i < S_COUNT; i++)
		redis_script_init(&scripts[i], src[i]);
}

/* A key or channel name: KP + kind + ":" + name, in buf (which it returns). */
static const char *
key(char *buf, size_t len, const char *kind, const char *name)
{
	snprintf(buf, len, KP "%s:%s", kind, name);
	return buf;
}

/*
 * Runs script id with nkeys keys then args (argc strings in all, as C
 * strings).  cb gets the reply (NULL if the connection went away), and is
 * not called when this returns -1 (Redis is not reachable).
 */
static int
run(struct worker *w, enum script_id id, redis_reply_cb cb, void *priv,
    int nkeys, int argc, const char **argv)
{
	size_t lens[16];
	int i;

	if (w->redis == NULL || !w->redis->cmd_up || argc > 16)
		return -1;
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return redis_conn_eval(w->redis->cmd, &scripts[id], cb, priv, nkeys,
	    argc, argv, lens);
}

/* Returns an integer reply's value, or def. */
static long long
reply_int(const redisReply *r, long long def)
{
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	return def;
}

/* ------------------------------------------------------------ publishing */

/* What a publish waits for. */
struct pub_ctx {
	struct worker *w;
	uint64_t client;
	int64_t ts;
	uint64_t t0;
	char ch[CHAN_NAME_MAX + 1];
	char id[PROTO_ID_JSON_MAX + 1];
};

/* Answers the sender: ok with the seq Redis gave, or unavailable. */
static void
on_published(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct pub_ctx *p = priv;
	struct worker *w = p->w;
	struct frame *f = NULL;
	struct jsonw jw;

	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		worker_count_err(w, ERR_UNAVAILABLE);
		f = proto_err_frame(p->id, ERR_UNAVAILABLE,
		    r == NULL ? "the cluster bus is down" :
		    "the cluster bus refused the message", -1, -1);
	} else {
		stat_add(&w->stats.published, 1);
		stats_latency(&w->stats, uv_hrtime() - p->t0);
		jw_init(&jw);
		jw_lit(&jw, "{\"op\":\"ok\"");
		if (p->id[0] != '\0') {
			jw_lit(&jw, ",\"id\":");
			jw_lit(&jw, p->id);
		}
		jw_lit(&jw, ",\"ch\":");
		jw_cstr(&jw, p->ch);
		jw_lit(&jw, ",\"seq\":");
		jw_int(&jw, r->integer);
		jw_lit(&jw, ",\"ts\":");
		jw_int(&jw, p->ts);
		jw_lit(&jw, "}");
		if (!jw.failed)
			f = frame_text(jw.buf, jw.len);
		jw_free(&jw);
	}
	bus_to_client(w, w->idx, p->client, ACT_NONE, NULL, f);
	frame_unref(f);
	free(p);
}

void
bus_redis_publish(struct worker *w, uint64_t client, const char *ch,
    const char *body, size_t len, const char *id)
{
	char kseq[128], khist[128], kch[128], ts[24], size[16], ttl[24],
	    cttl[24];
	const char *argv[8];
	struct pub_ctx *p = calloc(1, sizeof *p);
	struct frame *f;
	char *b = malloc(len + 1);

	if (p == NULL || b == NULL)
		goto fail;
	memcpy(b, body, len);
	b[len] = '\0';
	p->w = w;
	p->client = client;
	p->ts = proto_now_ms();
	p->t0 = uv_hrtime();
	snprintf(p->ch, sizeof p->ch, "%s", ch);
	snprintf(p->id, sizeof p->id, "%s", id);
	snprintf(ts, sizeof ts, "%lld", (long long)p->ts);
	snprintf(size, sizeof size, "%d", w->cfg->history_size);
	snprintf(ttl, sizeof ttl, "%lld", (long long)w->cfg->history_ttl_ms);
	snprintf(cttl, sizeof cttl, "%lld", (long long)w->cfg->channel_ttl_ms);
	argv[0] = key(kseq, sizeof kseq, "seq", ch);
	argv[1] = key(khist, sizeof khist, "hist", ch);
	argv[2] = ts;
	argv[3] = b;
	argv[4] = size;
	argv[5] = ttl;
	argv[6] = key(kch, sizeof kch, "ch", ch);
	argv[7] = cttl;
	if (run(w, S_PUBLISH, on_published, p, 2, 8, argv) == 0) {
		free(b);
		return;
	}
fail:
	free(b);
	free(p);
	worker_count_err(w, ERR_UNAVAILABLE);
	f = proto_err_frame(id, ERR_UNAVAILABLE, "the cluster bus is down",
	    -1, -1);
	bus_to_client(w, w->idx, client, ACT_NONE, NULL, f);
	frame_unref(f);
}

/* ------------------------------------------------------ channel delivery */

/*
 * Names a channel for a reply that comes later: the channel itself may be
 * gone by then, so callbacks look it up again.
 */
struct chan_tag {
	struct worker *w;
	char ch[CHAN_NAME_MAX + 1];
};

/* Returns a new tag for channel ch of w, or NULL. */
static struct chan_tag *
chan_tag_new(struct worker *w, const char *ch)
{
	struct chan_tag *t = malloc(sizeof *t);

	if (t != NULL) {
		t->w = w;
		snprintf(t->ch, sizeof t->ch, "%s", ch);
	}
	return t;
}

/*
 * Reads the seq and ts at the head of a msg payload; returns true if it is
 * one ({"op":"msg","seq":N,"ts":T,...), false for other frames (presence).
 */
static bool
parse_msg_head(const char *p, size_t len, uint64_t *seq, int64_t *ts)
{
	static const char head[] = "{\"op\":\"msg\",\"seq\":";
	size_t i = sizeof head - 1;

	if (len < i || memcmp(p, head, i) != 0)
		return false;
	*seq = 0;
	while (i < len && p[i] >= '0' && p[i] <= '9')
		*seq = *seq * 10 + (uint64_t)(p[i++] - '0');
	*ts = 0;
	if (i + 6 < len && memcmp(p + i, ",\"ts\":", 6) == 0) {
		i += 6;
		while (i < len && p[i] >= '0' && p[i] <= '9')
			*ts = *ts * 10 + (p[i++] - '0');
	}
	return true;
}

/* Makes the frame for a payload from Redis, with its seq and ts set. */
static struct frame *
payload_frame(const char *p, size_t len)
{
	struct frame *f = frame_text(p, len);
	uint64_t seq;
	int64_t ts;

	if (f != NULL && parse_msg_head(p, len, &seq, &ts)) {
		f->seq = seq;
		f->ts = ts;
	}
	return f;
}

/*
 * Copies the user id of a presence payload ("user":{"id":"...") into uid,
 * undoing JSON escapes; returns false if there is none.
 */
static bool
presence_uid(const struct frame *f, char *uid, size_t len)
{
	static const char tag[] = "\"user\":{\"id\":\"";
	const char *p = frame_payload(f), *end = p + frame_payload_len(f);
	const char *s = memmem(p, (size_t)(end - p), tag, sizeof tag - 1);
	size_t n = 0;

	if (s == NULL)
		return false;
	for (s += sizeof tag - 1; s < end && *s != '"' && n + 1 < len; s++) {
		if (*s == '\\' && s + 1 < end)
			s++;
		uid[n++] = *s;
	}
	uid[n] = '\0';
	return n > 0;
}

/* Delivers f (a msg with the next seq, or a presence) to the local members. */
static void
deliver(struct worker *w, struct channel *chn, struct frame *f)
{
	char uid[USER_ID_MAX + 1];

	if (f->seq != 0) {
		chn->seq = f->seq;
		history_push(&chn->hist, f);
		bus_fanout(w, chn, f);
		return;
	}
	/* Presence is not for the user it is about. */
	bus_fanout_except(w, chn, f,
	    presence_uid(f, uid, sizeof uid) ? uid : NULL);
}

/* Holds f until the channel is synchronised. */
static void
hold(struct channel *chn, struct frame *f)
{
	struct frame **e;
	uint32_t cap;

	if (chn->nearly == EARLY_MAX)
		return;		/* the sync will read these from history */
	if (chn->nearly == chn->capearly) {
		cap = chn->capearly ? chn->capearly * 2 : 16;
		e = realloc(chn->early, cap * sizeof *e);
		if (e == NULL)
			return;
		chn->early = e;
		chn->capearly = cap;
	}
	chn->early[chn->nearly++] = frame_ref(f);
}

static void start_sync(struct worker *w, struct channel *chn);

/* What the subscription brought for channel chn (owner worker). */
static void
on_channel_payload(struct worker *w, struct channel *chn, const char *p,
    size_t len)
{
	struct frame *f = payload_frame(p, len);

	if (f == NULL)
		return;
	if (!chn->synced)
		hold(chn, f);
	else if (f->seq == 0 || f->seq == chn->seq + 1)
		deliver(w, chn, f);
	else if (f->seq > chn->seq + 1) {
		/* A gap (missed while resubscribing): read it from history. */
		hold(chn, f);
		chn->synced = false;
		start_sync(w, chn);
	}
	frame_unref(f);
}

/* A message on one of the subscriber connection's channels. */
static void
on_message(struct redis_conn *rc, const char *channel, size_t chlen,
    const char *msg, size_t msglen, void *arg)
{
	struct worker *w = arg;
	char name[CHAN_NAME_MAX + 1], uid[USER_ID_MAX + 1];
	struct channel *chn;
	const char *nl;
	struct imsg *m;
	struct frame *f;
	int i;

	if (chlen > sizeof KP "ch:" - 1 &&
	    memcmp(channel, KP "ch:", sizeof KP "ch:" - 1) == 0) {
		chlen -= sizeof KP "ch:" - 1;
		if (chlen > CHAN_NAME_MAX)
			return;
		memcpy(name, channel + sizeof KP "ch:" - 1, chlen);
		name[chlen] = '\0';
		chn = bus_channel_get(w, name, false);
		if (chn != NULL && chn->subscribed)
			on_channel_payload(w, chn, msg, msglen);
		return;
	}
	/* The node channel: "UID\n" + a whisper frame, for every worker. */
	nl = memchr(msg, '\n', msglen);
	if (nl == NULL || (size_t)(nl - msg) > USER_ID_MAX)
		return;
	memcpy(uid, msg, (size_t)(nl - msg));
	uid[nl - msg] = '\0';
	f = frame_text(nl + 1, msglen - (size_t)(nl - msg) - 1);
	if (f == NULL)
		return;
	for (i = 0; i < w->srv->nworkers; i++) {
		if (i == w->idx) {
			worker_deliver_user(w, uid, f);
			continue;
		}
		m = imsg_new(IM_USER_DELIVER);
		if (m == NULL)
			continue;
		strcpy(m->user, uid);
		m->frame = frame_ref(f);
		worker_post(w, i, m);
	}
	frame_unref(f);
}

static void answer_join(struct worker *w, struct channel *chn, struct imsg *m);

/*
 * The history read of a sync: fills the ring on a first sync, delivers what
 * was missed on a later one, then what was held, then answers the waiting
 * joins.
 */
static void
on_synced(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct chan_tag *tag = priv;
	struct worker *w = tag->w;
	struct channel *chn;
	bool first;
	size_t i;

	chn = bus_channel_get(w, tag->ch, false);
	free(tag);
	if (chn == NULL || !chn->subscribed)
		return;
	chn->syncing = false;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[1]->type != REDIS_REPLY_ARRAY)
		return;		/* retried when the connection is back */
	first = chn->seq == 0 && chn->hist.count == 0;
	for (i = 0; i < r->element[1]->elements; i++) {
		redisReply *e = r->element[1]->element[i];
		struct frame *f;

		if (e->type != REDIS_REPLY_STRING)
			continue;
		f = payload_frame(e->str, e->len);
		if (f == NULL || f->seq <= chn->seq) {
			frame_unref(f);
			continue;
		}
		if (first) {
			history_push(&chn->hist, f);
			chn->seq = f->seq;
		} else
			deliver(w, chn, f);
		frame_unref(f);
	}
	if ((uint64_t)reply_int(r->element[0], 0) > chn->seq)
		chn->seq = (uint64_t)reply_int(r->element[0], 0);
	chn->synced = true;
	for (i = 0; i < chn->nearly; i++) {
		struct frame *f = chn->early[i];

		if (f->seq == 0 || f->seq > chn->seq)
			deliver(w, chn, f);
		frame_unref(f);
	}
	chn->nearly = 0;
	while (chn->pending != NULL) {
		struct imsg *m = chn->pending;

		chn->pending = atomic_load_explicit(&m->next,
		    memory_order_relaxed);
		answer_join(w, chn, m);
	}
}

/* Reads chn's seq and history from Redis (once its SUBSCRIBE is confirmed). */
static void
start_sync(struct worker *w, struct channel *chn)
{
	char kseq[128], khist[128];
	const char *argv[2];
	struct chan_tag *tag;

	if (chn->syncing || !w->redis->sub_up)
		return;
	tag = chan_tag_new(w, chn->name);
	if (tag == NULL)
		return;
	argv[0] = key(kseq, sizeof kseq, "seq", chn->name);
	argv[1] = key(khist, sizeof khist, "hist", chn->name);
	if (run(w, S_HISTORY, on_synced, tag, 2, 2, argv) != 0) {
		free(tag);
		return;
	}
	chn->syncing = true;
}

/* Redis confirmed a SUBSCRIBE: from now on nothing published is missed. */
static void
on_subscribed(struct redis_conn *rc, const char *channel, size_t chlen,
    void *arg)
{
	struct worker *w = arg;
	char name[CHAN_NAME_MAX + 1];
	struct channel *chn;

	if (chlen <= sizeof KP "ch:" - 1 ||
	    memcmp(channel, KP "ch:", sizeof KP "ch:" - 1) != 0)
		return;
	chlen -= sizeof KP "ch:" - 1;
	if (chlen > CHAN_NAME_MAX)
		return;
	memcpy(name, channel + sizeof KP "ch:" - 1, chlen);
	name[chlen] = '\0';
	chn = bus_channel_get(w, name, false);
	if (chn != NULL && chn->subscribed) {
		chn->synced = false;
		start_sync(w, chn);
	}
}

/* ------------------------------------------------- channel ops (owner) */

/* Counts one more local membership of m's user in chn; subscribes on the first. */
static int
local_join(struct worker *w, struct channel *chn, const struct imsg *m)
{
	struct cmember *cm = strmap_get(&chn->members, m->user);
	char kch[128];

	if (cm == NULL) {
		cm = calloc(1, sizeof *cm + strlen(m->name) + 1);
		if (cm == NULL || strmap_put(&chn->members, m->user, cm) != 0) {
			free(cm);
			return -1;
		}
		strcpy(cm->name, m->name);
	}
	cm->conns++;
	chn->wcount[m->worker]++;
	if (chn->nlocal++ == 0 && !chn->subscribed) {
		chn->subscribed = true;
		chn->synced = false;
		key(kch, sizeof kch, "ch", chn->name);
		redis_conn_subscribe(w->redis->sub, kch, strlen(kch));
	}
	return 0;
}

/* Counts one local membership less; unsubscribes and forgets on the last. */
static void
local_leave(struct worker *w, struct channel *chn, const char *uid, int worker)
{
	struct cmember *cm = strmap_get(&chn->members, uid);
	char kch[128];
	uint32_t i;

	if (cm != NULL && --cm->conns == 0)
		free(strmap_del(&chn->members, uid));
	if (chn->wcount[worker] > 0)
		chn->wcount[worker]--;
	if (chn->nlocal > 0)
		chn->nlocal--;
	if (chn->nlocal > 0 || !chn->subscribed)
		return;
	key(kch, sizeof kch, "ch", chn->name);
	redis_conn_unsubscribe(w->redis->sub, kch, strlen(kch));
	chn->subscribed = chn->synced = chn->syncing = false;
	/* Joins still waiting were from connections that have left too. */
	while (chn->pending != NULL) {
		struct imsg *m = chn->pending;

		chn->pending = atomic_load_explicit(&m->next,
		    memory_order_relaxed);
		imsg_free(m);
	}
	for (i = 0; i < chn->nearly; i++)
		frame_unref(chn->early[i]);
	chn->nearly = 0;
	history_free(&chn->hist);
	history_init(&chn->hist, w->cfg->history_size);
	chn->seq = 0;
}

/* Sends the joined reply (members counted by Redis, in m->t0) and frees m. */
static void
answer_join(struct worker *w, struct channel *chn, struct imsg *m)
{
	bus_joined_reply(w, m, chn, m->t0, m->flag ? ACT_NONE : ACT_ACTIVATE);
	imsg_free(m);
}

/* Fails a join with unavailable: the client's pending membership goes. */
static void
fail_join(struct worker *w, struct imsg *m)
{
	struct channel *chn = bus_channel_get(w, m->ch, false);

	if (!m->flag && chn != NULL) {
		local_leave(w, chn, m->user, m->worker);
		bus_channel_maybe_drop(w, chn);
	}
	worker_count_err(w, ERR_UNAVAILABLE);
	bus_reply(w, m, m->flag ? ACT_NONE : ACT_JOIN_FAIL,
	    proto_err_frame(m->id, ERR_UNAVAILABLE, "the cluster bus is down",
	    -1, -1));
	imsg_free(m);
}

/* What a join or a who waits for. */
struct op_ctx {
	struct worker *w;
	struct imsg *m;
};

/* The join script answered (or a rejoin's member count came). */
static void
on_joined(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct op_ctx *x = priv;
	struct worker *w = x->w;
	struct imsg *m = x->m;
	struct channel *chn;
	struct imsg **tail;

	free(x);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
		fail_join(w, m);
		return;
	}
	m->t0 = (uint64_t)reply_int(r->element[0], 0);
	chn = bus_channel_get(w, m->ch, false);
	if (chn == NULL) {
		imsg_free(m);
		return;
	}
	if (chn->synced) {
		answer_join(w, chn, m);
		return;
	}
	atomic_store_explicit(&m->next, NULL, memory_order_relaxed);
	for (tail = &chn->pending; *tail != NULL;
	    tail = (struct imsg **)&(*tail)->next)
		;
	*tail = m;
	start_sync(w, chn);
}

static void
redis_join(struct worker *w, struct imsg *m)
{
	char k[4][128], field[CHAN_NAME_MAX + USER_ID_MAX + 2], max[16];
	const char *argv[10];
	struct channel *chn = bus_channel_get(w, m->ch, true);
	struct op_ctx *x;

	if (chn == NULL || (x = malloc(sizeof *x)) == NULL) {
		bus_reply_err(w, m, ERR_INTERNAL, "out of memory");
		imsg_free(m);
		return;
	}
	x->w = w;
	x->m = m;
	if (m->flag) {
		/* A rejoin changes no count: only the member count is asked. */
		argv[0] = key(k[0], sizeof k[0], "memn", m->ch);
		if (run(w, S_WHO, on_joined, x, 1, 1, argv) != 0) {
			free(x);
			fail_join(w, m);
		}
		return;
	}
	if (local_join(w, chn, m) != 0) {
		free(x);
		bus_reply_err(w, m, ERR_INTERNAL, "out of memory");
		imsg_free(m);
		return;
	}
	snprintf(field, sizeof field, "%s\n%s", m->ch, m->user);
	snprintf(max, sizeof max, "%d", w->cfg->presence_events_max);
	argv[0] = key(k[0], sizeof k[0], "memc", m->ch);
	argv[1] = key(k[1], sizeof k[1], "memn", m->ch);
	argv[2] = key(k[2], sizeof k[2], "nodemem", w->srv->node_key);
	argv[3] = key(k[3], sizeof k[3], "seq", m->ch);
	argv[4] = m->user;
	argv[5] = m->name;
	argv[6] = field;
	argv[7] = max;
	{
		char kch[128], now[24];
		const char *a[13] = { argv[0], argv[1], argv[2], argv[3],
		    KP "nodes", argv[4], argv[5], argv[6], argv[7], NULL,
		    m->ch, w->srv->node_key, now };

		snprintf(now, sizeof now, "%lld", (long long)proto_now_ms());
		a[9] = key(kch, sizeof kch, "ch", m->ch);
		if (run(w, S_JOIN, on_joined, x, 5, 13, a) != 0) {
			free(x);
			fail_join(w, m);
		}
	}
}

/* Ignores a reply nobody waits for. */
static void
on_ignored(struct redis_conn *rc, redisReply *r, void *priv)
{
}

static void
redis_leave(struct worker *w, struct imsg *m)
{
	char k[4][128], field[CHAN_NAME_MAX + USER_ID_MAX + 2], max[16];
	const char *argv[10];
	struct channel *chn = bus_channel_get(w, m->ch, false);

	if (chn == NULL)
		return;
	local_leave(w, chn, m->user, m->worker);
	snprintf(field, sizeof field, "%s\n%s", m->ch, m->user);
	snprintf(max, sizeof max, "%d", w->cfg->presence_events_max);
	argv[0] = key(k[0], sizeof k[0], "memc", m->ch);
	argv[1] = key(k[1], sizeof k[1], "memn", m->ch);
	argv[2] = key(k[2], sizeof k[2], "nodemem", w->srv->node_key);
	argv[3] = key(k[3], sizeof k[3], "seq", m->ch);
	argv[4] = m->user;
	argv[5] = m->name;
	argv[6] = field;
	argv[7] = max;
	{
		char kch[128];

		argv[8] = key(kch, sizeof kch, "ch", m->ch);
		argv[9] = m->ch;
		/* Down: the count is fixed when this node is reaped or re-registers. */
		(void)run(w, S_LEAVE, on_ignored, NULL, 4, 10, argv);
	}
	bus_channel_maybe_drop(w, chn);
}

/* A history read for a channel this instance does not follow. */
static void
on_history(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct op_ctx *x = priv;
	struct worker *w = x->w;
	struct imsg *m = x->m;
	struct channel *tmp;
	size_t i;

	free(x);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		bus_reply_err(w, m, ERR_UNAVAILABLE, "the cluster bus is down");
		imsg_free(m);
		return;
	}
	if (reply_int(r->element[0], 0) == 0 && r->element[1]->elements == 0) {
		bus_reply_err(w, m, ERR_NO_SUCH_CHANNEL, "no such channel");
		imsg_free(m);
		return;
	}
	/* A throwaway channel holding what Redis keeps, for the usual reply. */
	tmp = calloc(1, sizeof *tmp +
	    (size_t)w->srv->nworkers * sizeof tmp->wcount[0]);
	if (tmp == NULL) {
		bus_reply_err(w, m, ERR_INTERNAL, "out of memory");
		imsg_free(m);
		return;
	}
	snprintf(tmp->name, sizeof tmp->name, "%s", m->ch);
	history_init(&tmp->hist, (int)r->element[1]->elements);
	strmap_init(&tmp->members);
	for (i = 0; i < r->element[1]->elements; i++) {
		redisReply *e = r->element[1]->element[i];
		struct frame *f;

		if (e->type != REDIS_REPLY_STRING)
			continue;
		f = payload_frame(e->str, e->len);
		if (f != NULL)
			history_push(&tmp->hist, f);
		frame_unref(f);
	}
	tmp->seq = (uint64_t)reply_int(r->element[0], 0);
	bus_history_reply(w, m, tmp);
	bus_channel_free(tmp);
	imsg_free(m);
}

static void
redis_history(struct worker *w, struct imsg *m)
{
	struct channel *chn = bus_channel_get(w, m->ch, false);
	char kseq[128], khist[128];
	const char *argv[2];
	struct op_ctx *x;

	if (chn != NULL && chn->synced) {
		bus_history_reply(w, m, chn);
		imsg_free(m);
		return;
	}
	x = malloc(sizeof *x);
	argv[0] = key(kseq, sizeof kseq, "seq", m->ch);
	argv[1] = key(khist, sizeof khist, "hist", m->ch);
	if (x == NULL) {
		bus_reply_err(w, m, ERR_INTERNAL, "out of memory");
		imsg_free(m);
		return;
	}
	x->w = w;
	x->m = m;
	if (run(w, S_HISTORY, on_history, x, 2, 2, argv) != 0) {
		free(x);
		bus_reply_err(w, m, ERR_UNAVAILABLE, "the cluster bus is down");
		imsg_free(m);
	}
}

/* The cluster's members of a channel: {count, {uid, name, ...}}. */
static void
on_who(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct op_ctx *x = priv;
	struct worker *w = x->w;
	struct imsg *m = x->m;
	size_t i, listed = 0, limit = (size_t)w->cfg->frame_max - 48;
	redisReply *list;
	struct jsonw jw;

	free(x);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		bus_reply_err(w, m, ERR_UNAVAILABLE, "the cluster bus is down");
		imsg_free(m);
		return;
	}
	list = r->element[1];
	if (reply_int(r->element[0], 0) == 0 &&
	    bus_channel_get(w, m->ch, false) == NULL) {
		bus_reply_err(w, m, ERR_NO_SUCH_CHANNEL, "no such channel");
		imsg_free(m);
		return;
	}
	jw_init(&jw);
	bus_reply_head(&jw, "who", m);
	jw_lit(&jw, ",\"members\":[");
	for (i = 0; i + 1 < list->elements; i += 2) {
		redisReply *u = list->element[i], *n = list->element[i + 1];
		size_t mark = jw.len;

		if (u->type != REDIS_REPLY_STRING ||
		    n->type != REDIS_REPLY_STRING)
			continue;
		if (listed > 0)
			jw_lit(&jw, ",");
		jw_lit(&jw, "{\"id\":");
		jw_str(&jw, u->str, u->len);
		jw_lit(&jw, ",\"name\":");
		jw_str(&jw, n->str, n->len);
		jw_lit(&jw, "}");
		if (jw.len > limit) {
			jw.len = mark;
			break;
		}
		listed++;
	}
	jw_lit(&jw, "],\"count\":");
	jw_int(&jw, reply_int(r->element[0], 0));
	jw_lit(&jw, "}");
	if (!jw.failed)
		bus_reply(w, m, ACT_NONE, frame_text(jw.buf, jw.len));
	jw_free(&jw);
	imsg_free(m);
}

static void
redis_who(struct worker *w, struct imsg *m)
{
	struct op_ctx *x = malloc(sizeof *x);
	char kn[128];
	const char *argv[1];

	if (x == NULL) {
		bus_reply_err(w, m, ERR_INTERNAL, "out of memory");
		imsg_free(m);
		return;
	}
	x->w = w;
	x->m = m;
	argv[0] = key(kn, sizeof kn, "memn", m->ch);
	if (run(w, S_WHO, on_who, x, 1, 1, argv) != 0) {
		free(x);
		bus_reply_err(w, m, ERR_UNAVAILABLE, "the cluster bus is down");
		imsg_free(m);
	}
}

void
bus_redis_channel(struct worker *w, struct imsg *m)
{
	switch (m->type) {
	case IM_JOIN:
		redis_join(w, m);
		return;
	case IM_LEAVE:
		redis_leave(w, m);
		break;
	case IM_HISTORY:
		redis_history(w, m);
		return;
	case IM_WHO:
		redis_who(w, m);
		return;
	default:
		break;
	}
	imsg_free(m);
}

/* ------------------------------------------------------------- users */

/* The attach script answered: admit or refuse (or admit uncounted if Redis is away). */
static void
on_attached(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct op_ctx *x = priv;
	struct worker *w = x->w;
	struct imsg *m = x->m, *rep;

	free(x);
	rep = imsg_new(IM_TO_CLIENT);
	if (rep != NULL) {
		long long v = reply_int(r, -1);

		rep->action = v == 0 ? ACT_AUTH_REFUSE : ACT_AUTH_OK;
		rep->flag = v == 1;
		rep->client = m->client;
		strcpy(rep->user, m->user);
		strcpy(rep->id, m->id);
		worker_post(w, m->worker, rep);
	}
	imsg_free(m);
}

/* The whisper script answered with how many nodes have the user. */
static void
on_whispered(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct op_ctx *x = priv;
	struct worker *w = x->w;
	struct imsg *m = x->m;
	struct frame *f;
	char msg[128];
	long long n = reply_int(r, -1);

	free(x);
	if (n < 0) {
		worker_count_err(w, ERR_UNAVAILABLE);
		f = proto_err_frame(m->id, ERR_UNAVAILABLE,
		    "the cluster bus is down", -1, -1);
	} else if (n == 0) {
		snprintf(msg, sizeof msg, "to: user %s is not online", m->user);
		worker_count_err(w, ERR_BAD_FIELD);
		f = proto_err_frame(m->id, ERR_BAD_FIELD, msg, -1, -1);
	} else {
		stat_add(&w->stats.whispers, 1);
		f = proto_ok_frame(m->id);
	}
	bus_to_client(w, m->worker, m->client, ACT_NONE, NULL, f);
	frame_unref(f);
	imsg_free(m);
}

void
bus_redis_user(struct worker *w, struct imsg *m)
{
	char k[2][128], max[16], *payload = NULL;
	const char *argv[4];
	struct op_ctx *x = malloc(sizeof *x);
	size_t ul, fl;
	int rc = -1;

	if (x == NULL)
		goto failed;
	x->w = w;
	x->m = m;
	argv[0] = key(k[0], sizeof k[0], "user", m->user);
	argv[1] = key(k[1], sizeof k[1], "nodeusers", w->srv->node_key);
	switch (m->type) {
	case IM_USER_ATTACH:
		snprintf(max, sizeof max, "%d", w->cfg->user_connections_max);
		argv[2] = w->srv->node_key;
		argv[3] = max;
		{
			char now[24];
			const char *a[7] = { argv[0], argv[1], KP "nodes",
			    argv[2], argv[3], m->user, now };

			snprintf(now, sizeof now, "%lld",
			    (long long)proto_now_ms());
			rc = run(w, S_ATTACH, on_attached, x, 3, 7, a);
		}
		if (rc != 0)
			on_attached(NULL, NULL, x);	/* admits it uncounted */
		return;
	case IM_USER_DETACH:
		argv[2] = w->srv->node_key;
		argv[3] = m->user;
		(void)run(w, S_DETACH, on_ignored, NULL, 2, 4, argv);
		break;
	case IM_WHISPER:
		/* "UID\n" + the frame's payload, for the node channels. */
		ul = strlen(m->user);
		fl = frame_payload_len(m->frame);
		payload = malloc(ul + 1 + fl + 1);
		if (payload != NULL) {
			memcpy(payload, m->user, ul);
			payload[ul] = '\n';
			memcpy(payload + ul + 1, frame_payload(m->frame), fl);
			payload[ul + 1 + fl] = '\0';
			argv[1] = KP;
			argv[2] = payload;
			rc = run(w, S_WHISPER, on_whispered, x, 1, 3, argv);
		}
		free(payload);
		if (rc != 0)
			on_whispered(NULL, NULL, x);
		return;
	default:
		break;
	}
	free(x);
failed:
	imsg_free(m);
}

/* ------------------------------------------------ connections, liveness */

/*
 * After an outage, tells Redis what this owner knows of a followed channel
 * (a strmap_each callback): if Redis came back empty, the seq goes on from
 * where it was and the history it held is put back.
 */
static void
restore_cb(const char *name, void *value, void *arg)
{
	struct worker *w = arg;
	struct channel *chn = value;
	char kseq[128], khist[128], n[24], cttl[24], httl[24];
	const char **argv;
	size_t *lens;
	int i, argc;

	if (!chn->subscribed || chn->seq == 0)
		return;
	argc = 5 + chn->hist.count;
	argv = calloc((size_t)argc, sizeof *argv);
	lens = calloc((size_t)argc, sizeof *lens);
	if (argv == NULL || lens == NULL)
		goto done;
	snprintf(n, sizeof n, "%llu", (unsigned long long)chn->seq);
	snprintf(cttl, sizeof cttl, "%lld", (long long)w->cfg->channel_ttl_ms);
	snprintf(httl, sizeof httl, "%lld", (long long)w->cfg->history_ttl_ms);
	argv[0] = key(kseq, sizeof kseq, "seq", chn->name);
	argv[1] = key(khist, sizeof khist, "hist", chn->name);
	argv[2] = n;
	argv[3] = cttl;
	argv[4] = httl;
	for (i = 0; i < 5; i++)
		lens[i] = strlen(argv[i]);
	for (i = 0; i < chn->hist.count; i++) {
		struct frame *f = history_at(&chn->hist, i);

		argv[5 + i] = frame_payload(f);
		lens[5 + i] = frame_payload_len(f);
	}
	(void)redis_conn_eval(w->redis->cmd, &scripts[S_RESTORE], on_ignored,
	    NULL, 2, argc, argv, lens);
done:
	free(argv);
	free(lens);
}

/* Records the connections' state; on the way up, catches up what needs it. */
static void
on_state(struct redis_conn *rc, enum redis_state st, void *arg)
{
	struct bus_redis *br = arg;
	bool up = st == REDIS_UP;

	if (rc == br->cmd) {
		br->cmd_up = up;
		if (up && br->cmd_was_up)
			/* Back after an outage: Redis may have lost its data. */
			strmap_each(&br->w->channels, restore_cb, br->w);
		if (up)
			br->cmd_was_up = true;
	} else
		br->sub_up = up;
	atomic_store(&br->up, br->cmd_up && br->sub_up);
	if (up && br->w->idx == 0 && rc == br->cmd)
		br->next_beat_ms = 0;	/* beat (and reap) at the next tick */
}

/* Re-syncs every followed channel that is not in sync (a strmap_each callback). */
static void
resync_cb(const char *name, void *value, void *arg)
{
	struct channel *chn = value;

	if (chn->subscribed && !chn->synced)
		start_sync(arg, chn);
}

/* The list of nodes whose heartbeat is too old: reap each. */
static void
on_dead_nodes(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct worker *w = priv;
	char knodes[64], max[16];
	const char *argv[4];
	size_t i;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;
	snprintf(max, sizeof max, "%d", w->cfg->presence_events_max);
	snprintf(knodes, sizeof knodes, KP "nodes");
	for (i = 0; i < r->elements; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    strcmp(r->element[i]->str, w->srv->node_key) == 0)
			continue;
		log_notice("redis: node %s stopped beating: removing its "
		    "members", r->element[i]->str);
		argv[0] = knodes;
		argv[1] = KP;
		argv[2] = r->element[i]->str;
		argv[3] = max;
		(void)run(w, S_REAP, on_ignored, NULL, 1, 4, argv);
	}
}

void
bus_redis_tick(struct worker *w, int64_t now_ms)
{
	struct bus_redis *br = w->redis;
	char knodes[64], now[24], cutoff[24];
	const char *argv[6];
	size_t lens[4];
	int64_t ttl = w->cfg->presence_ttl_ms;

	if (br == NULL)
		return;
	if (br->cmd_up && br->sub_up)
		strmap_each(&w->channels, resync_cb, w);
	if (w->idx != 0 || !br->cmd_up || now_ms < br->next_beat_ms)
		return;
	br->next_beat_ms = now_ms + (ttl / 3 > 100 ? ttl / 3 : 100);
	snprintf(knodes, sizeof knodes, KP "nodes");
	snprintf(now, sizeof now, "%lld", (long long)now_ms);
	argv[0] = knodes;
	argv[1] = w->srv->node_key;
	argv[2] = now;
	(void)run(w, S_HEARTBEAT, on_ignored, NULL, 1, 3, argv);
	snprintf(cutoff, sizeof cutoff, "(%lld", (long long)(now_ms - ttl));
	argv[0] = "ZRANGEBYSCORE";
	argv[1] = knodes;
	argv[2] = "-inf";
	argv[3] = cutoff;
	lens[0] = strlen(argv[0]);
	lens[1] = strlen(argv[1]);
	lens[2] = strlen(argv[2]);
	lens[3] = strlen(argv[3]);
	(void)redis_conn_command(br->cmd, on_dead_nodes, w, 4, argv, lens);
}

int
bus_redis_init(struct worker *w)
{
	const struct config *cfg = w->cfg;
	struct redis_addr addr;
	struct bus_redis *br;
	char err[128], knode[128];

	if (redis_url_parse(cfg->redis, &addr, err, sizeof err) != 0) {
		log_err("redis: %s", err);
		return -1;
	}
	br = calloc(1, sizeof *br);
	if (br == NULL)
		return -1;
	br->w = w;
	atomic_init(&br->up, false);
	w->redis = br;
	br->cmd = redis_conn_new(&w->loop, &addr, cfg->redis_connect_timeout_ms,
	    100, 5000, on_state, br);
	br->sub = redis_conn_new(&w->loop, &addr, cfg->redis_connect_timeout_ms,
	    100, 5000, on_state, br);
	if (br->cmd == NULL || br->sub == NULL) {
		log_err("redis: cannot create connections");
		return -1;
	}
	redis_conn_set_message_cb(br->sub, on_message, w);
	redis_conn_set_subscribed_cb(br->sub, on_subscribed, w);
	if (w->idx == 0) {
		key(knode, sizeof knode, "node", w->srv->node_key);
		redis_conn_subscribe(br->sub, knode, strlen(knode));
	}
	return 0;
}

void
bus_redis_free(struct worker *w)
{
	struct bus_redis *br = w->redis;

	if (br == NULL)
		return;
	if (br->cmd != NULL)
		redis_conn_free(br->cmd);
	if (br->sub != NULL)
		redis_conn_free(br->sub);
	free(br);
	w->redis = NULL;
}

bool
bus_redis_up(struct worker *w)
{
	return w->redis != NULL && atomic_load(&w->redis->up);
}

const char *
bus_redis_health(struct server *srv)
{
	int i;

	for (i = 0; i < srv->nworkers; i++)
		if (!bus_redis_up(&srv->workers[i]))
			return "down";
	return "redis";
}
