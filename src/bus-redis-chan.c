/*
 * bus-redis-chan.c: the channels an owner worker follows in Redis (history
 * and who are answered in bus-redis-query.c).
 *
 * A channel's owner subscribes to it while this instance has members in
 * it.  Its local state (the seq delivered so far, the recent messages) is
 * synchronised from Redis once the SUBSCRIBE is confirmed: joins wait for
 * that, messages that arrive meanwhile are held, duplicates (seq already
 * delivered) are dropped, and a gap makes the owner read the missing ones
 * from history.  Joins, leaves, who and history go through the scripts of
 * bus-scripts.c.  The bus keeps these channels itself (struct bus_redis's
 * channels), apart from the worker's room table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "bus-int.h"
#include "bus-redis-int.h"
#include "config.h"
#include "deliver.h"
#include "frame.h"
#include "history.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "worker.h"

#define EARLY_MAX 4096		/* messages held per channel until its sync */

/* ------------------------------------------------------------- channels */

/* Drops the joins waiting for chn's sync and the messages held for it. */
static void
forget_waiting(struct rchan *chn)
{
	uint32_t i;

	while (chn->pending != NULL) {
		struct im_join *m = chn->pending;

		chn->pending = m->next_pending;
		msg_free(&m->hdr);
	}
	for (i = 0; i < chn->nearly; i++)
		frame_unref(chn->early[i]);
	chn->nearly = 0;
}

/* Frees a channel that is already out of the map, with what it holds. */
static void
chan_free(struct rchan *chn)
{
	forget_waiting(chn);
	free(chn->early);
	history_free(&chn->hist);
	strmap_free(&chn->members);	/* the members are kept inline */
	free(chn);
}

/* Sets the channel gauge to the number of channels w owns. */
static void
chan_gauge(struct worker *w)
{
	struct bus_redis *br = w->bus;

	metrics_set(&w->stats.channels, (int64_t)br->channels.count);
}

struct rchan *
bus_redis_chan_get(struct worker *w, const char *ch, bool create)
{
	struct bus_redis *br = w->bus;
	struct rchan *chn = strmap_get(&br->channels, ch);

	if (chn != NULL || !create)
		return chn;
	chn = calloc(1, sizeof *chn +
	    (size_t)w->relay->nworkers * sizeof chn->wcount[0]);
	if (chn == NULL)
		return NULL;
	snprintf(chn->name, sizeof chn->name, "%s", ch);
	history_init(&chn->hist, w->cfg->history_size);
	strmap_init(&chn->members);
	if (strmap_put(&br->channels, chn->name, chn) != 0) {
		chan_free(chn);
		return NULL;
	}
	chan_gauge(w);
	return chn;
}

/*
 * Returns true once chn has nothing left to remember: with Redis the seq
 * lives there, so only local state is dropped.
 */
static bool
chan_forgettable(const struct rchan *chn)
{
	return chn->nlocal == 0 && !chn->subscribed && chn->pending == NULL;
}

void
bus_redis_chan_maybe_drop(struct worker *w, struct rchan *chn)
{
	struct bus_redis *br = w->bus;

	if (!chan_forgettable(chn))
		return;
	strmap_del(&br->channels, chn->name);
	chan_free(chn);
	chan_gauge(w);
}

/* A sweep's question to a channel, with the wall time (arg). */
struct sweep_now {
	struct worker *w;
	int64_t wall;
};

/* Expires chn's history; returns true if chn can go (a bus_sweep callback). */
static bool
sweep_expired(void *chn, void *arg)
{
	struct sweep_now *sn = arg;
	struct rchan *c = chn;

	history_expire(&c->hist, sn->wall, sn->w->cfg->history_ttl_ms);
	return chan_forgettable(c);
}

/* Takes chn out of the map and frees it (a bus_sweep callback). */
static void
sweep_drop(void *chn, void *arg)
{
	struct sweep_now *sn = arg;
	struct bus_redis *br = sn->w->bus;
	struct rchan *c = chn;

	strmap_del(&br->channels, c->name);
	chan_free(c);
}

void
bus_redis_sweep(struct worker *w, int64_t wall)
{
	struct sweep_now sn = { w, wall };
	struct bus_redis *br = w->bus;

	bus_sweep(&br->channels, sweep_expired, sweep_drop, &sn);
	chan_gauge(w);
}

/* Frees one channel (a strmap_each callback). */
static void
chan_free_cb(const char *name, void *value, void *arg)
{
	chan_free(value);
}

void
bus_redis_chans_free(struct bus_redis *br)
{
	strmap_each(&br->channels, chan_free_cb, NULL);
	strmap_free(&br->channels);
}

/* ------------------------------------------------------ channel delivery */

struct chan_tag *
bus_redis_chan_tag(struct worker *w, const char *ch)
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

bool
bus_redis_payload_epoch(const char *p, size_t len, char *epoch)
{
	static const char tag[] = ",\"epoch\":\"";
	const char *s, *end = p + (len > 160 ? 160 : len);	/* in the head */
	size_t n = 0;

	epoch[0] = '\0';
	s = memmem(p, (size_t)(end - p), tag, sizeof tag - 1);
	if (s == NULL)
		return false;
	for (s += sizeof tag - 1; s < end && *s != '"' && n < PROTO_EPOCH_MAX;
	    s++)
		epoch[n++] = *s;
	epoch[n] = '\0';
	return n > 0;
}

/* Makes the frame for a payload from Redis, with its seq and ts set. */
struct frame *
bus_redis_payload_frame(const char *p, size_t len)
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
deliver(struct worker *w, struct rchan *chn, struct frame *f)
{
	char uid[USER_ID_MAX + 1];

	if (f->seq != 0) {
		chn->seq = f->seq;
		history_push(&chn->hist, f);
		deliver_channel_workers(w, chn->wcount, chn->name, f, NULL);
		return;
	}
	/* Presence is not for the user it is about. */
	deliver_channel_workers(w, chn->wcount, chn->name, f,
	    presence_uid(f, uid, sizeof uid) ? uid : NULL);
}

/* Holds f until the channel is synchronised. */
static void
hold(struct rchan *chn, struct frame *f)
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

static void start_sync(struct worker *w, struct rchan *chn);

void
bus_redis_chan_renumber(struct worker *w, struct rchan *chn,
    const char *epoch)
{
	log_notice("redis: channel %s is numbered anew (epoch %s, was %s)",
	    chn->name, epoch, chn->epoch[0] ? chn->epoch : "-");
	snprintf(chn->epoch, sizeof chn->epoch, "%s", epoch);
	history_free(&chn->hist);
	history_init(&chn->hist, w->cfg->history_size);
	chn->seq = 0;
	chn->synced = false;
	chn->renumbered = true;	/* the sync delivers the new numbering's messages */
	deliver_bus_workers(w, -1, RBUS_RENUMBERED, chn->name);
	if (chn->subscribed)
		start_sync(w, chn);
}

/* What the subscription brought for channel chn (owner worker). */
static void
on_channel_payload(struct worker *w, struct rchan *chn, const char *p,
    size_t len)
{
	struct frame *f = bus_redis_payload_frame(p, len);
	char epoch[PROTO_EPOCH_MAX + 1];

	if (f == NULL)
		return;
	if (f->seq != 0 && bus_redis_payload_epoch(p, len, epoch)) {
		if (chn->epoch[0] == '\0')
			strcpy(chn->epoch, epoch);
		else if (strcmp(chn->epoch, epoch) != 0)
			bus_redis_chan_renumber(w, chn, epoch);
	}
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


static void answer_join(struct worker *w, struct rchan *chn,
    struct im_join *m);

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
	struct rchan *chn;
	redisReply *ep;
	bool first;
	size_t i;

	chn = bus_redis_chan_get(w, tag->ch, false);
	free(tag);
	if (chn == NULL || !chn->subscribed)
		return;
	chn->syncing = false;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
	    r->element[1]->type != REDIS_REPLY_ARRAY)
		return;		/* retried when the connection is back */
	ep = r->element[2];
	if (ep->type == REDIS_REPLY_STRING && ep->len > 0 &&
	    ep->len <= PROTO_EPOCH_MAX) {
		/* Another numbering than the one kept here: start from Redis's. */
		if (chn->epoch[0] != '\0' && strcmp(chn->epoch, ep->str) != 0) {
			log_notice("redis: channel %s is numbered anew (epoch "
			    "%s, was %s)", chn->name, ep->str, chn->epoch);
			history_free(&chn->hist);
			history_init(&chn->hist, w->cfg->history_size);
			chn->seq = 0;
			chn->renumbered = true;
			deliver_bus_workers(w, -1, RBUS_RENUMBERED, chn->name);
		}
		snprintf(chn->epoch, sizeof chn->epoch, "%s", ep->str);
	}
	/*
	 * A first sync only fills the ring (the members joined after those
	 * messages); after a renumbering, the members have seen none of the
	 * new numbering's, so they get them all.
	 */
	first = chn->seq == 0 && chn->hist.count == 0 && !chn->renumbered;
	chn->renumbered = false;
	for (i = 0; i < r->element[1]->elements; i++) {
		redisReply *e = r->element[1]->element[i];
		struct frame *f;

		if (e->type != REDIS_REPLY_STRING)
			continue;
		f = bus_redis_payload_frame(e->str, e->len);
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
		struct im_join *m = chn->pending;

		chn->pending = m->next_pending;
		answer_join(w, chn, m);
	}
}

/* Reads chn's seq and history from Redis (once its SUBSCRIBE is confirmed). */
static void
start_sync(struct worker *w, struct rchan *chn)
{
	struct bus_redis *br = w->bus;
	char kseq[128], khist[128], kep[128];
	const char *argv[3];
	struct chan_tag *tag;

	if (chn->syncing || !br->sub_up)
		return;
	tag = bus_redis_chan_tag(w, chn->name);
	if (tag == NULL)
		return;
	argv[0] = key(kseq, sizeof kseq, "seq", chn->name);
	argv[1] = key(khist, sizeof khist, "hist", chn->name);
	argv[2] = key(kep, sizeof kep, "epoch", chn->name);
	if (bus_redis_run(w, S_HISTORY, on_synced, tag, 3, 3, argv) != 0) {
		free(tag);
		return;
	}
	chn->syncing = true;
}

/* Redis confirmed a SUBSCRIBE: from now on nothing published is missed. */
void
bus_redis_on_subscribed(struct redis_conn *rc, const char *channel,
    size_t chlen, void *arg)
{
	struct worker *w = arg;
	char name[CHAN_NAME_MAX + 1];
	struct rchan *chn;

	if (chlen <= sizeof KP "ch:" - 1 ||
	    memcmp(channel, KP "ch:", sizeof KP "ch:" - 1) != 0)
		return;
	chlen -= sizeof KP "ch:" - 1;
	if (chlen > CHAN_NAME_MAX)
		return;
	memcpy(name, channel + sizeof KP "ch:" - 1, chlen);
	name[chlen] = '\0';
	chn = bus_redis_chan_get(w, name, false);
	if (chn != NULL && chn->subscribed) {
		chn->synced = false;
		start_sync(w, chn);
	}
}

/* ------------------------------------------------- channel ops (owner) */

/* Counts one more local membership of m's user in chn; subscribes on the first. */
static int
local_join(struct worker *w, struct rchan *chn, const struct im_join *m)
{
	struct bus_redis *br = w->bus;
	char kch[128];

	if (bus_member_add(&chn->members, m->user, m->name) < 0)
		return -1;
	chn->wcount[m->from.worker]++;
	if (chn->nlocal++ == 0 && !chn->subscribed) {
		chn->subscribed = true;
		chn->synced = false;
		key(kch, sizeof kch, "ch", chn->name);
		if (br->sub != NULL)
			redis_conn_subscribe(br->sub, kch, strlen(kch));
	}
	return 0;
}

/* Counts one local membership less; unsubscribes and forgets on the last. */
static void
local_leave(struct worker *w, struct rchan *chn, const char *uid, int worker)
{
	struct bus_redis *br = w->bus;
	char kch[128];

	(void)bus_member_remove(&chn->members, uid, NULL, 0);
	if (chn->wcount[worker] > 0)
		chn->wcount[worker]--;
	if (chn->nlocal > 0)
		chn->nlocal--;
	if (chn->nlocal > 0 || !chn->subscribed)
		return;
	key(kch, sizeof kch, "ch", chn->name);
	if (br->sub != NULL)
		redis_conn_unsubscribe(br->sub, kch, strlen(kch));
	chn->subscribed = chn->synced = chn->syncing = false;
	/* Joins still waiting were from connections that have left too. */
	forget_waiting(chn);
	history_free(&chn->hist);
	history_init(&chn->hist, w->cfg->history_size);
	chn->seq = 0;
}

/* Sends the joined reply (members counted by Redis, in m->members) and frees m. */
static void
answer_join(struct worker *w, struct rchan *chn, struct im_join *m)
{
	bus_answer_joined(w, m, &chn->hist, chn->seq, chn->epoch, m->members,
	    m->rejoin ? ACT_NONE : ACT_ACTIVATE);
	msg_free(&m->hdr);
}

/* Fails a join with unavailable: the client's pending membership goes. */
static void
fail_join(struct worker *w, struct im_join *m)
{
	struct rchan *chn = bus_redis_chan_get(w, m->ch, false);

	if (!m->rejoin && chn != NULL) {
		local_leave(w, chn, m->user, m->from.worker);
		bus_redis_chan_maybe_drop(w, chn);
	}
	deliver_reply_err(w, &m->from, m->rejoin ? ACT_NONE : ACT_JOIN_FAIL,
	    m->rejoin ? NULL : m->ch, ERR_UNAVAILABLE,
	    "the cluster bus is down");
	msg_free(&m->hdr);
}

/* The join script answered (or a rejoin's member count came). */
static void
on_joined(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct op_ctx *x = priv;
	struct worker *w = x->w;
	struct im_join *m = x->m;
	struct rchan *chn;
	struct im_join **tail;

	free(x);
	if (r == NULL && !m->rejoin)	/* it may have run: check it later */
		bus_redis_stale_member(w, m->ch, m->user, m->name);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
		fail_join(w, m);
		return;
	}
	m->members = (uint64_t)reply_int(r->element[0], 0);
	chn = bus_redis_chan_get(w, m->ch, false);
	if (chn == NULL) {
		msg_free(&m->hdr);
		return;
	}
	if (chn->synced) {
		answer_join(w, chn, m);
		return;
	}
	m->next_pending = NULL;
	for (tail = &chn->pending; *tail != NULL; tail = &(*tail)->next_pending)
		;
	*tail = m;
	start_sync(w, chn);
}

int
bus_redis_run_member(struct worker *w, enum script_id id, const char *ch,
    const char *uid, const char *name, const char *extra, bool tell,
    redis_reply_cb cb, void *priv)
{
	char k[5][128], field[CHAN_NAME_MAX + USER_ID_MAX + 2], max[16],
	    now[24];
	const char *argv[15];

	snprintf(field, sizeof field, "%s\n%s", ch, uid);
	snprintf(max, sizeof max, "%d", w->cfg->presence_events_max);
	snprintf(now, sizeof now, "%lld", (long long)proto_now_ms());
	argv[0] = key(k[0], sizeof k[0], "memc", ch);
	argv[1] = key(k[1], sizeof k[1], "memn", ch);
	argv[2] = key(k[2], sizeof k[2], "nodemem", w->relay->node_key);
	argv[3] = key(k[3], sizeof k[3], "seq", ch);
	argv[4] = KP "nodes";
	argv[5] = uid;
	argv[6] = name;
	argv[7] = field;
	argv[8] = max;
	argv[9] = key(k[4], sizeof k[4], "ch", ch);
	argv[10] = ch;
	argv[11] = w->relay->node_key;
	argv[12] = now;
	argv[13] = extra;
	argv[14] = tell ? "1" : "0";
	return bus_redis_run(w, id, cb, priv, 5, extra != NULL ? 15 : 13,
	    argv);
}

/*
 * Joins m's user to m's channel (the channel's owner): counted here and in
 * Redis, answered once the channel is in sync.  A rejoin only asks Redis
 * for the member count.
 */
void
bus_redis_join(struct worker *w, struct im_join *m)
{
	char kn[128];
	const char *argv[1];
	struct rchan *chn = bus_redis_chan_get(w, m->ch, true);
	struct op_ctx *x;

	if (chn == NULL || (x = malloc(sizeof *x)) == NULL) {
		deliver_reply_err(w, &m->from, m->rejoin ? ACT_NONE :
		    ACT_JOIN_FAIL, m->ch, ERR_INTERNAL, "out of memory");
		if (chn != NULL)
			bus_redis_chan_maybe_drop(w, chn);
		msg_free(&m->hdr);
		return;
	}
	x->w = w;
	x->m = m;
	if (m->rejoin) {
		/* A rejoin changes no count: only the member count is asked. */
		argv[0] = key(kn, sizeof kn, "memn", m->ch);
		if (bus_redis_run(w, S_WHO, on_joined, x, 1, 1, argv) != 0) {
			free(x);
			fail_join(w, m);
		}
		return;
	}
	if (local_join(w, chn, m) != 0) {
		free(x);
		deliver_reply_err(w, &m->from, ACT_JOIN_FAIL, m->ch,
		    ERR_INTERNAL, "out of memory");
		bus_redis_chan_maybe_drop(w, chn);
		msg_free(&m->hdr);
		return;
	}
	if (bus_redis_run_member(w, S_JOIN, m->ch, m->user, m->name, NULL,
	    false, on_joined, x) != 0) {
		free(x);
		fail_join(w, m);
	}
}

/* Takes m's user out of m's channel (the channel's owner); takes m. */
void
bus_redis_leave(struct worker *w, struct im_leave *m)
{
	struct rchan *chn = bus_redis_chan_get(w, m->ch, false);
	struct member_ctx *x;

	if (chn == NULL) {
		msg_free(&m->hdr);
		return;
	}
	local_leave(w, chn, m->user, m->worker);
	x = malloc(sizeof *x);
	if (x != NULL) {
		x->w = w;
		strcpy(x->ch, m->ch);
		strcpy(x->uid, m->user);
		strcpy(x->name, m->name);
	}
	if (x == NULL || bus_redis_run_member(w, S_LEAVE, m->ch, m->user,
	    m->name, NULL, false, bus_redis_member_done, x) != 0) {
		/* Redis is away: the leave is told when it is back. */
		free(x);
		bus_redis_stale_member(w, m->ch, m->user, m->name);
	}
	bus_redis_chan_maybe_drop(w, chn);
	msg_free(&m->hdr);
}

void
bus_redis_channel_message(struct worker *w, const char *name,
    const char *msg, size_t len)
{
	struct rchan *chn = bus_redis_chan_get(w, name, false);

	if (chn != NULL && chn->subscribed)
		on_channel_payload(w, chn, msg, len);
}

/* Re-syncs every followed channel that is not in sync (a strmap_each callback). */
static void
resync_cb(const char *name, void *value, void *arg)
{
	struct rchan *chn = value;

	if (chn->subscribed && !chn->synced)
		start_sync(arg, chn);
}

/*
 * Keeps a followed channel's seq from expiring (a strmap_each callback):
 * the publish script gives it channel_ttl, but a channel whose members are
 * quiet for that long must not start again at 1.
 */
static void
refresh_cb(const char *name, void *value, void *arg)
{
	struct worker *w = arg;
	struct bus_redis *br = w->bus;
	struct rchan *chn = value;
	char k[128], ttl[24];
	const char *argv[3];
	size_t lens[3];
	int i;

	if (!chn->subscribed || br->cmd == NULL)
		return;
	snprintf(ttl, sizeof ttl, "%lld", (long long)w->cfg->channel_ttl_ms);
	/* The epoch lives exactly as long as the seq it numbers. */
	for (i = 0; i < 2; i++) {
		argv[0] = "PEXPIRE";
		argv[1] = key(k, sizeof k, i == 0 ? "seq" : "epoch", chn->name);
		argv[2] = ttl;
		lens[0] = strlen(argv[0]);
		lens[1] = strlen(argv[1]);
		lens[2] = strlen(argv[2]);
		(void)redis_conn_command(br->cmd, bus_redis_ignore, NULL, 3,
		    argv, lens);
	}
}

void
bus_redis_refresh_channels(struct worker *w)
{
	strmap_each(&((struct bus_redis *)w->bus)->channels, refresh_cb, w);
}

void
bus_redis_resync_channels(struct worker *w)
{
	strmap_each(&((struct bus_redis *)w->bus)->channels, resync_cb, w);
}
