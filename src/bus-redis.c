/*
 * bus-redis.c: the Redis bus: its connections, publishing, users and node
 * liveness (the channels it follows are in bus-redis-chan.c).
 *
 * Each worker has a command connection (scripts, pipelined) and a
 * subscriber connection.  A message: the sender's worker runs the publish
 * script (seq, history, PUBLISH) and answers `ok` once Redis has accepted
 * it; the channel's owner worker on every instance with members fans it
 * out from its subscription, in Redis's order.  Users' connections are
 * counted in Redis (user_connections_max cluster-wide) and whispers go to
 * the node channel of every instance where the user is.  Worker 0 beats
 * for the node and reaps nodes whose heartbeat stopped.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "bus-int.h"
#include "bus-redis-int.h"
#include "bus-redis.h"
#include "bus-scripts.h"
#include "bus.h"
#include "config.h"
#include "control.h"
#include "frame.h"
#include "inbox.h"
#include "jsonw.h"
#include "log.h"
#include "proto.h"
#include "server.h"
#include "worker.h"

struct redis_script bus_redis_scripts[S_COUNT];

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
		[S_REMEMBER] = bus_script_remember,
		[S_REATTACH] = bus_script_reattach,
	};
	int i;

	for (i = 0; i < S_COUNT; i++)
		redis_script_init(&bus_redis_scripts[i], src[i]);
}

/*
 * Runs script id with nkeys keys then args (argc strings in all, as C
 * strings).  cb gets the reply (NULL if the connection went away), and is
 * not called when this returns -1 (Redis is not reachable).
 */
int
bus_redis_run(struct worker *w, enum script_id id, redis_reply_cb cb, void *priv,
    int nkeys, int argc, const char **argv)
{
	size_t lens[16];
	int i;

	if (w->redis == NULL || !w->redis->cmd_up || argc > 16)
		return -1;
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return redis_conn_eval(w->redis->cmd, &bus_redis_scripts[id], cb, priv, nkeys,
	    argc, argv, lens);
}

void
bus_redis_ignore(struct redis_conn *rc, redisReply *r, void *priv)
{
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
		jsonw_init(&jw);
		jsonw_lit(&jw, "{\"op\":\"ok\"");
		if (p->id[0] != '\0') {
			jsonw_lit(&jw, ",\"id\":");
			jsonw_lit(&jw, p->id);
		}
		jsonw_lit(&jw, ",\"ch\":");
		jsonw_cstr(&jw, p->ch);
		jsonw_lit(&jw, ",\"seq\":");
		jsonw_int(&jw, r->integer);
		jsonw_lit(&jw, ",\"ts\":");
		jsonw_int(&jw, p->ts);
		jsonw_lit(&jw, "}");
		if (!jw.failed)
			f = frame_text(jw.buf, jw.len);
		jsonw_free(&jw);
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
	if (bus_redis_run(w, S_PUBLISH, on_published, p, 2, 8, argv) == 0) {
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

/* ----------------------------------------------------------- control */

/* What the answer to a control command's PUBLISH needs. */
struct ctl_ctx {
	struct worker *w;
	uint64_t client;
	char id[PROTO_ID_JSON_MAX + 1];
};

/* Redis took the command (or the connection went): answers the sender. */
static void
on_control_published(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct ctl_ctx *x = priv;
	struct worker *w = x->w;
	struct frame *f;

	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		worker_count_err(w, ERR_UNAVAILABLE);
		f = proto_err_frame(x->id, ERR_UNAVAILABLE,
		    "the cluster bus is down", -1, -1);
	} else
		f = proto_ok_frame(x->id);
	bus_to_client(w, w->idx, x->client, ACT_NONE, NULL, f);
	frame_unref(f);
	free(x);
}

int
bus_redis_control(struct worker *w, uint64_t client, const char *id,
    const char *cmd, size_t len)
{
	const char *argv[3] = { "PUBLISH", KP "ctl", cmd };
	size_t lens[3] = { 7, sizeof KP "ctl" - 1, len };
	struct ctl_ctx *x;

	if (!bus_redis_up(w) || (x = malloc(sizeof *x)) == NULL)
		return -1;
	x->w = w;
	x->client = client;
	snprintf(x->id, sizeof x->id, "%s", id);
	if (redis_conn_command(w->redis->cmd, on_control_published, x, 3,
	    argv, lens) != 0) {
		free(x);
		return -1;
	}
	return 0;
}

/* A message on one of the subscriber connection's channels. */
static void
on_message(struct redis_conn *rc, const char *channel, size_t chlen,
    const char *msg, size_t msglen, void *arg)
{
	struct worker *w = arg;
	char name[CHAN_NAME_MAX + 1], uid[USER_ID_MAX + 1];
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
		bus_redis_channel_message(w, name, msg, msglen);
		return;
	}
	if (chlen == sizeof KP "ctl" - 1 && memcmp(channel, KP "ctl", chlen) == 0) {
		control_fanout(w, msg, msglen);
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

/* ------------------------------------------------------------- users */

/*
 * Adds delta to the connections of uid this (owner) worker has had counted
 * in Redis, so they can be counted again if Redis loses its data.
 */
static void
counted_add(struct worker *w, const char *uid, int delta)
{
	struct strmap *m = &w->redis->counted;
	intptr_t n = (intptr_t)strmap_get(m, uid) + delta;

	if (n <= 0)
		strmap_del(m, uid);
	else
		strmap_put(m, uid, (void *)n);
}

/*
 * The attach script answered: admit or refuse.  Without an answer (Redis
 * is away, or the answer was lost) the connection is admitted and counted
 * here; Redis is told the count when it is back (bus-redis-repair.c).
 */
static void
on_attached(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct op_ctx *x = priv;
	struct worker *w = x->w;
	struct imsg *m = x->m, *rep;
	long long v = reply_int(r, -1);

	free(x);
	rep = imsg_new(IM_TO_CLIENT);
	if (rep != NULL) {
		rep->action = v == 0 ? ACT_AUTH_REFUSE : ACT_AUTH_OK;
		if (v != 0)
			counted_add(w, m->user, 1);
		if (v != 0 && v != 1)
			bus_redis_stale_user(w, m->user);
		rep->client = m->client;
		strcpy(rep->user, m->user);
		strcpy(rep->id, m->id);
		worker_post(w, m->worker, rep);
	}
	imsg_free(m);
}

/* The detach script ran, or its answer was lost: then it is told later. */
static void
on_detached(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct op_ctx *x = priv;

	(void)rc;
	if (r == NULL)
		bus_redis_stale_user(x->w, x->m->user);
	imsg_free(x->m);
	free(x);
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
			rc = bus_redis_run(w, S_ATTACH, on_attached, x, 3, 7, a);
		}
		if (rc != 0)
			on_attached(NULL, NULL, x);	/* admits it */
		return;
	case IM_USER_DETACH:
		counted_add(w, m->user, -1);
		argv[2] = w->srv->node_key;
		argv[3] = m->user;
		if (bus_redis_run(w, S_DETACH, on_detached, x, 2, 4, argv) != 0)
			on_detached(NULL, NULL, x);
		return;
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
			rc = bus_redis_run(w, S_WHISPER, on_whispered, x, 1, 3, argv);
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
	if (x == NULL && m->type == IM_USER_DETACH) {
		counted_add(w, m->user, -1);
		bus_redis_stale_user(w, m->user);
	}
	imsg_free(m);
}

/* ------------------------------------------------ connections, liveness */

/* How long after Redis is back the memberships it missed are told. */
#define STALE_DELAY_MS 2000

/* Records the connections' state; on the way up, catches up what needs it. */
static void
on_state(struct redis_conn *rc, enum redis_state st, void *arg)
{
	struct bus_redis *br = arg;
	bool up = st == REDIS_UP;

	if (rc == br->cmd) {
		br->cmd_up = up;
		if (up && br->cmd_was_up) {
			/*
			 * Back after an outage: Redis may have lost its data,
			 * and what happened meanwhile is still to be told.
			 */
			bus_redis_repair(br->w, false);
			/*
			 * Leaves and joins Redis missed are told a moment
			 * later, so that the other instances have subscribed
			 * again and see the presence events.
			 */
			br->stale_due_ms = proto_now_ms() + STALE_DELAY_MS;
		}
		if (up)
			br->cmd_was_up = true;
	} else
		br->sub_up = up;
	atomic_store(&br->up, br->cmd_up && br->sub_up);
	if (up && br->w->idx == 0 && rc == br->cmd)
		br->next_beat_ms = 0;	/* beat (and reap) at the next tick */
}

/*
 * A heartbeat landed (worker 0).  The script answers 1 if another instance
 * took this node for dead and reaped its members and users since the last
 * heartbeat: every worker then tells Redis about them again.
 */
static void
on_beat(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct worker *w = priv;
	struct imsg *m;
	int i;

	(void)rc;
	if (r == NULL || r->type != REDIS_REPLY_INTEGER)
		return;
	if (r->integer == 1) {
		log_warn("redis: this node (%s) was taken for dead and its "
		    "members removed: registering them again",
		    w->srv->node_key);
		for (i = 0; i < w->srv->nworkers; i++) {
			if ((m = imsg_new(IM_BUS_REPAIR)) != NULL)
				worker_post(w, i, m);
		}
	}
}

void
bus_redis_reassert(struct worker *w)
{
	if (w->redis != NULL && w->redis->cmd_up) {
		bus_redis_repair(w, true);
		bus_redis_tell_stale(w);
	}
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
		(void)bus_redis_run(w, S_REAP, bus_redis_ignore, NULL, 1, 4, argv);
	}
}

void
bus_redis_tick(struct worker *w, int64_t now_ms)
{
	struct bus_redis *br = w->redis;
	char knodes[64], kreaped[128], now[24], cutoff[24];
	const char *argv[6];
	size_t lens[4];
	int64_t ttl = w->cfg->presence_ttl_ms;

	if (br == NULL)
		return;
	if (br->cmd_up && br->sub_up)
		bus_redis_resync_channels(w);
	if (br->cmd_up && br->stale_due_ms != 0 && now_ms >= br->stale_due_ms) {
		br->stale_due_ms = 0;
		bus_redis_tell_stale(w);
	}
	if (br->cmd_up && now_ms >= br->next_refresh_ms) {
		/* Well within channel_ttl (at least 1 s). */
		br->next_refresh_ms = now_ms + (w->cfg->channel_ttl_ms / 4 >
		    60000 ? 60000 : w->cfg->channel_ttl_ms / 4);
		bus_redis_refresh_channels(w);
	}
	if (w->idx != 0 || !br->cmd_up || now_ms < br->next_beat_ms)
		return;
	br->next_beat_ms = now_ms + (ttl / 3 > 100 ? ttl / 3 : 100);
	snprintf(knodes, sizeof knodes, KP "nodes");
	snprintf(now, sizeof now, "%lld", (long long)now_ms);
	argv[0] = knodes;
	argv[1] = key(kreaped, sizeof kreaped, "reaped", w->srv->node_key);
	argv[2] = w->srv->node_key;
	argv[3] = now;
	(void)bus_redis_run(w, S_HEARTBEAT, on_beat, w, 2, 4, argv);
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
	strmap_init(&br->counted);
	strmap_init(&br->stale_members);
	strmap_init(&br->stale_users);
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
	redis_conn_set_subscribed_cb(br->sub, bus_redis_on_subscribed, w);
	if (w->idx == 0) {
		key(knode, sizeof knode, "node", w->srv->node_key);
		redis_conn_subscribe(br->sub, knode, strlen(knode));
		redis_conn_subscribe(br->sub, KP "ctl", sizeof KP "ctl" - 1);
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
	strmap_free(&br->counted);
	bus_redis_repair_free(br);
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
