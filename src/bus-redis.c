/*
 * bus-redis.c: the Redis bus, which joins several relay instances: its
 * connections, publishing, users, node liveness and its ops table (the
 * channels it follows are in bus-redis-chan.c, history and who in
 * bus-redis-query.c, what Redis missed in bus-redis-repair.c, whispers and
 * control commands in bus-redis-stream.c).
 *
 * Each worker has a command connection (scripts, pipelined) and a
 * subscriber connection.  Sequencing, history, cluster-wide membership and
 * connection counts live in Redis (bus-scripts.c).  A message: the
 * sender's worker runs the publish script (seq, history, PUBLISH) and
 * answers `ok` once Redis has accepted it; the channel's owner worker on
 * every instance with members fans it out from its subscription, in
 * Redis's order.  Users' connections are counted in Redis
 * (user_connections_max cluster-wide).  Whispers and control commands are
 * stored in Redis Streams and read by worker 0 of each instance on a third
 * connection (bus-redis-stream.c).  Worker 0 beats for the node and reaps
 * nodes whose heartbeat stopped.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "bus-int.h"
#include "bus-redis-int.h"
#include "bus-scripts.h"
#include "bus.h"
#include "config.h"
#include "deliver.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "reply.h"
#include "worker.h"

struct redis_script bus_redis_scripts[S_COUNT];

/* Prepares what every worker shares (the scripts' SHA-1s), once, before the workers. */
static int
rbus_global_init(struct relay *r)
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
		[S_CONTROL] = bus_script_control,
		[S_MODLOAD] = bus_script_modload,
		[S_MODPUT] = bus_script_modput,
		[S_ANSWER] = bus_script_answer,
		[S_RAISE] = bus_script_raise,
	};
	int i;

	for (i = 0; i < S_COUNT; i++)
		redis_script_init(&bus_redis_scripts[i], src[i]);
	return 0;
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
	struct bus_redis *br = w->bus;
	size_t lens[16];
	int i;

	if (br == NULL || br->cmd == NULL || !br->cmd_up || argc > 16)
		return -1;
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return redis_conn_eval(br->cmd, &bus_redis_scripts[id], cb, priv, nkeys,
	    argc, argv, lens);
}

void
bus_redis_ignore(struct redis_conn *rc, redisReply *r, void *priv)
{
}

/*
 * How long publishes wait after Redis restarted, besides the owner's own
 * restore: the other instances reconnect on their own jittered back-off
 * (at most BUS_REDIS_BACKOFF_MAX_MS + 20% after Redis is back: redis.c's
 * conn_backoff), and one that remembers more of a channel, or was given a
 * seq nobody saw, must have put it back before anybody numbers a new
 * message, or the numbers would meet.
 */
#define RESTART_FENCE_MS (BUS_REDIS_BACKOFF_MAX_MS * 6 / 5 + 500)

static void rbus_repair(struct worker *w);

/* ------------------------------------------------------ subscriptions */

/* A message on one of the subscriber connection's channels (a followed channel's). */
static void
on_message(struct redis_conn *rc, const char *channel, size_t chlen,
    const char *msg, size_t msglen, void *arg)
{
	struct worker *w = arg;
	char name[CHAN_NAME_MAX + 1];

	if (chlen <= sizeof KP "ch:" - 1 ||
	    memcmp(channel, KP "ch:", sizeof KP "ch:" - 1) != 0)
		return;
	chlen -= sizeof KP "ch:" - 1;
	if (chlen > CHAN_NAME_MAX)
		return;
	memcpy(name, channel + sizeof KP "ch:" - 1, chlen);
	name[chlen] = '\0';
	bus_redis_channel_message(w, name, msg, msglen);
}

/* ------------------------------------------------------------- users */

/*
 * Adds delta to the connections of uid this (owner) worker has had counted
 * in Redis, so they can be counted again if Redis loses its data.
 */
static void
counted_add(struct worker *w, const char *uid, int delta)
{
	struct strmap *m = &((struct bus_redis *)w->bus)->counted;
	intptr_t n = (intptr_t)strmap_get(m, uid) + delta;

	if (n <= 0)
		strmap_del(m, uid);
	else
		strmap_put(m, uid, (void *)n);
}

/* Counts a connection of user uid less, here and in Redis (on the user's owner). */
static void
uncount(struct worker *w, const char *uid)
{
	char k[2][128];
	const char *argv[4];
	struct user_ctx *x = malloc(sizeof *x);

	counted_add(w, uid, -1);
	if (x == NULL) {
		bus_redis_stale_user(w, uid);
		return;
	}
	x->w = w;
	snprintf(x->uid, sizeof x->uid, "%s", uid);
	argv[0] = key(k[0], sizeof k[0], "user", uid);
	argv[1] = key(k[1], sizeof k[1], "nodeusers", w->relay->node_key);
	argv[2] = w->relay->node_key;
	argv[3] = uid;
	if (bus_redis_run(w, S_DETACH, bus_redis_user_done, x, 2, 4, argv) != 0)
		bus_redis_user_done(NULL, NULL, x);
}

/*
 * Admits or refuses attach m by the attach script's answer v (-1: none)
 * and frees m.  Without an answer (Redis is away, or the answer was lost)
 * the connection is admitted and counted here; Redis is told the count
 * when it is back (bus-redis-repair.c).
 */
static void
attach_answer(struct worker *w, struct im_attach *m, long long v)
{
	if (v != 0)
		counted_add(w, m->user, 1);
	if (v != 0 && v != 1)
		bus_redis_stale_user(w, m->user);
	if (deliver_attach_answer(w, &m->from, v != 0, m->user) != 0 &&
	    v != 0)
		uncount(w, m->user);	/* nobody will hear of it */
	msg_free(&m->hdr);
}

/* The attach script answered (or not: r NULL). */
static void
on_attached(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct op_ctx *x = priv;
	struct worker *w = x->w;
	struct im_attach *m = x->m;

	free(x);
	attach_answer(w, m, reply_int(r, -1));
}

/*
 * Counts a connection of user m->user in Redis (on the user's owner), and
 * admits it, or refuses it past user_connections_max.  Takes m.
 */
static void
rbus_attach(struct worker *w, struct im_attach *m)
{
	char k[2][128], max[16], now[24];
	const char *argv[7];
	struct op_ctx *x = malloc(sizeof *x);

	if (x == NULL) {
		attach_answer(w, m, -1);	/* admits it */
		return;
	}
	x->w = w;
	x->m = m;
	snprintf(max, sizeof max, "%d", w->cfg->user_connections_max);
	snprintf(now, sizeof now, "%lld", (long long)proto_now_ms());
	argv[0] = key(k[0], sizeof k[0], "user", m->user);
	argv[1] = key(k[1], sizeof k[1], "nodeusers", w->relay->node_key);
	argv[2] = KP "nodes";
	argv[3] = w->relay->node_key;
	argv[4] = max;
	argv[5] = m->user;
	argv[6] = now;
	if (bus_redis_run(w, S_ATTACH, on_attached, x, 3, 7, argv) != 0)
		on_attached(NULL, NULL, x);	/* admits it */
}

/* A connection of user m->user went (on the user's owner).  Takes m. */
static void
rbus_detach(struct worker *w, struct im_detach *m)
{
	uncount(w, m->user);
	msg_free(&m->hdr);
}

/* ------------------------------------------------ connections, liveness */

/* How long after Redis is back the memberships it missed are told. */
#define STALE_DELAY_MS 2000

void
bus_redis_update_up(struct bus_redis *br)
{
	atomic_store(&br->w->bus_up, br->cmd_up && br->sub_up &&
	    bus_redis_stream_up(br));
}

/*
 * INFO server answered, on a (re)connect of the command connection: a new
 * run id means Redis restarted or is another server (a failover), which
 * may have lost or rolled back seqs and history, so publishes are fenced
 * until the owners have put back what they know.  Then, after an outage,
 * the owners tell Redis again what it may have missed.
 */
static void
on_info(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct bus_redis *br = priv;
	struct worker *w = br->w;
	const char *p;
	char id[48];
	size_t n = 0;

	(void)rc;
	if (r == NULL)
		return;		/* gone again: asked again at the next connect */
	id[0] = '\0';
	if (r->type == REDIS_REPLY_STRING &&
	    (p = strstr(r->str, "run_id:")) != NULL)
		for (p += 7; n + 1 < sizeof id && *p != '\r' && *p != '\n' &&
		    *p != '\0'; p++)
			id[n++] = *p;
	id[n] = '\0';
	if (br->run_id[0] != '\0' && strcmp(br->run_id, id) != 0) {
		if (w->idx == 0)	/* once per instance: every worker sees it */
			log_warn("redis: the server restarted or changed (run "
			    "id %.8s, was %.8s): publishes wait for the "
			    "channels to be restored", id, br->run_id);
		br->fencing = true;
		br->fence_until_ms = proto_now_ms() + RESTART_FENCE_MS;
		/* Worker 0 puts back the moderation state it holds. */
		if (w->idx == 0)
			bus_redis_mod_restore(w);
		bus_redis_raise_given(w);
	}
	snprintf(br->run_id, sizeof br->run_id, "%s", id);
	if (!br->cmd_was_up) {
		br->cmd_was_up = true;
		deliver_bus_workers(w, -1, RBUS_RESTORED, br->run_id);
		return;		/* the first connect: nothing to put back */
	}
	/*
	 * Back after an outage: Redis may have lost its data, and what
	 * happened meanwhile is still to be told.  Leaves and joins Redis
	 * missed are told a moment later, so that the other instances have
	 * subscribed again and see the presence events.
	 */
	bus_redis_repair(w, false);
	br->stale_due_ms = proto_now_ms() + STALE_DELAY_MS;
}

/* Records the connections' state; on the way up, catches up what needs it. */
static void
on_state(struct redis_conn *rc, enum redis_state st, void *arg)
{
	static const char *info[2] = { "INFO", "server" };
	static const size_t info_len[2] = { 4, 6 };
	struct bus_redis *br = arg;
	bool up = st == REDIS_UP;

	if (rc == br->cmd) {
		br->cmd_up = up;
		if (up && redis_conn_command(br->cmd, on_info, br, 2, info,
		    info_len) != 0)
			log_warn("redis: cannot ask the server its run id");
	} else
		br->sub_up = up;
	bus_redis_update_up(br);
	if (up && br->w->idx == 0 && rc == br->cmd)
		br->next_beat_ms = 0;	/* beat (and reap) at the next tick */
}

/*
 * What another worker's side of the bus said: which run id it restored
 * for, or that a channel is numbered anew.
 */
static void
rbus_message(struct worker *w, struct im_bus *m)
{
	struct bus_redis *br = w->bus;
	struct rchan *chn;

	if (br != NULL && m->kind == RBUS_RESTORED &&
	    m->worker < w->relay->nworkers)
		snprintf(br->restored[m->worker], sizeof br->restored[0],
		    "%.47s", m->text);	/* a run id: 40 hex digits */
	else if (br != NULL && m->kind == RBUS_REPAIR)
		rbus_repair(w);
	else if (m->kind == RBUS_RENUMBERED)
		room_renumbered(&w->rooms, m->text);	/* the old seqs mean nothing */
	else if (br != NULL && m->kind == RBUS_BEHIND &&
	    (chn = bus_redis_chan_get(w, m->text, false)) != NULL &&
	    br->cmd_up && br->restoring == 0) {
		log_notice("redis: channel %s is numbered behind what this "
		    "instance has seen: putting its seq back", m->text);
		bus_redis_restore_channel(w, chn);
	}
	msg_free(&m->hdr);
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

	(void)rc;
	if (r == NULL || r->type != REDIS_REPLY_INTEGER)
		return;
	if (r->integer == 1) {
		log_warn("redis: this node (%s) was taken for dead and its "
		    "members removed: registering them again",
		    w->relay->node_key);
		deliver_bus_workers(w, -1, RBUS_REPAIR, "");
	}
}

/*
 * Tells Redis again about this worker's members and users (RBUS_REPAIR:
 * another instance took this one for dead and removed them).
 */
static void
rbus_repair(struct worker *w)
{
	struct bus_redis *br = w->bus;

	if (br != NULL && br->cmd != NULL && br->cmd_up) {
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
		    strcmp(r->element[i]->str, w->relay->node_key) == 0)
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

/*
 * Periodic work (now: loop ms; wall: epoch ms): the users gauge, resyncs,
 * stale memberships, seq key renewal, the sweep of the channels, and on
 * worker 0 heartbeats and reaping dead nodes.
 */
static void
rbus_tick(struct worker *w, int64_t now, int64_t wall)
{
	struct bus_redis *br = w->bus;
	char knodes[64], kreaped[128], nowbuf[24], cutoff[24];
	const char *argv[6];
	size_t lens[4];
	int64_t ttl = w->cfg->presence_ttl_ms;

	metrics_set(&w->stats.users, (int64_t)user_index_count(&w->users));
	if (br == NULL || br->cmd == NULL)
		return;
	bus_redis_stream_tick(w, now);
	if (br->cmd_up && br->sub_up)
		bus_redis_resync_channels(w);
	if (br->cmd_up && br->stale_due_ms != 0 && wall >= br->stale_due_ms) {
		br->stale_due_ms = 0;
		bus_redis_tell_stale(w);
	}
	if (br->cmd_up && wall >= br->next_refresh_ms) {
		/* Well within channel_ttl (at least 1 s). */
		br->next_refresh_ms = wall + (w->cfg->channel_ttl_ms / 4 >
		    60000 ? 60000 : w->cfg->channel_ttl_ms / 4);
		bus_redis_refresh_channels(w);
	}
	if (now >= br->next_sweep_ms) {
		br->next_sweep_ms = now + BUS_REDIS_SWEEP_MS;
		bus_redis_sweep(w, wall);
	}
	if (w->idx != 0 || !br->cmd_up || wall < br->next_beat_ms)
		return;
	br->next_beat_ms = wall + (ttl / 3 > 100 ? ttl / 3 : 100);
	snprintf(knodes, sizeof knodes, KP "nodes");
	snprintf(nowbuf, sizeof nowbuf, "%lld", (long long)wall);
	argv[0] = knodes;
	argv[1] = key(kreaped, sizeof kreaped, "reaped", w->relay->node_key);
	argv[2] = w->relay->node_key;
	argv[3] = nowbuf;
	(void)bus_redis_run(w, S_HEARTBEAT, on_beat, w, 2, 4, argv);
	snprintf(cutoff, sizeof cutoff, "(%lld", (long long)(wall - ttl));
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

/*
 * Creates w's Redis state and connections (they connect in the background,
 * and keep reconnecting).  Returns 0, or -1 with the reason logged (what
 * was made is freed by rbus_free).
 */
static int
rbus_init(struct worker *w)
{
	const struct config *cfg = w->cfg;
	struct redis_addr addr;
	struct bus_redis *br;
	char err[128];

	atomic_store(&w->bus_up, false);
	if (redis_addr_parse(cfg->redis, cfg->redis_sentinel, cfg->redis_master,
	    cfg->redis_auth, &addr, err, sizeof err) != 0) {
		log_err("redis: %s", err);
		return -1;
	}
	br = calloc(1, sizeof *br);
	if (br == NULL)
		return -1;
	br->w = w;
	br->restored = calloc((size_t)w->relay->nworkers, sizeof *br->restored);
	if (br->restored == NULL) {
		free(br);
		return -1;
	}
	strmap_init(&br->channels);
	strmap_init(&br->counted);
	strmap_init(&br->stale_members);
	strmap_init(&br->stale_users);
	w->bus = br;
	br->cmd = redis_conn_new(&w->loop, &addr, cfg->redis_connect_timeout_ms,
	    BUS_REDIS_BACKOFF_MIN_MS, BUS_REDIS_BACKOFF_MAX_MS, on_state, br);
	br->sub = redis_conn_new(&w->loop, &addr, cfg->redis_connect_timeout_ms,
	    BUS_REDIS_BACKOFF_MIN_MS, BUS_REDIS_BACKOFF_MAX_MS, on_state, br);
	if (br->cmd == NULL || br->sub == NULL) {
		log_err("redis: cannot create connections");
		return -1;
	}
	redis_conn_set_message_cb(br->sub, on_message, w);
	redis_conn_set_subscribed_cb(br->sub, bus_redis_on_subscribed, w);
	redis_conn_set_pmessage_cb(br->sub, bus_redis_on_watched, w);
	/* Worker 0 reads this instance's whispers and the control commands. */
	if (w->idx == 0 && bus_redis_stream_start(w, &addr) != 0) {
		log_err("redis: cannot create connections");
		return -1;
	}
	return 0;
}

/*
 * Closes w's Redis connections (at IM_DESTROY, before lws goes); what is
 * pending is failed now, and nothing is called back after.
 */
static void
rbus_stop(struct worker *w)
{
	struct bus_redis *br = w->bus;
	struct redis_conn *rc;

	atomic_store(&w->bus_up, false);
	if (br == NULL)
		return;
	/*
	 * The command connection first: its pending callbacks may still
	 * unsubscribe (a failed join), which needs the subscriber.
	 */
	if ((rc = br->cmd) != NULL) {
		br->cmd_up = false;
		redis_conn_free(rc);
		br->cmd = NULL;
	}
	if ((rc = br->sub) != NULL) {
		br->sub_up = false;
		redis_conn_free(rc);
		br->sub = NULL;
	}
	bus_redis_stream_stop(br);
}

/* Frees w's Redis state once its loop has ended (closing the connections if stop did not). */
static void
rbus_free(struct worker *w)
{
	struct bus_redis *br = w->bus;

	if (br == NULL)
		return;
	rbus_stop(w);
	bus_redis_stream_free(br);
	bus_redis_chans_free(br);
	strmap_free(&br->counted);
	bus_redis_repair_free(br);
	free(br->restored);
	free(br);
	w->bus = NULL;
}

/* Returns "redis" while every worker's connections are up, else "down" (reads only the atomics). */
static const char *
rbus_health(struct relay *r)
{
	int i;

	for (i = 0; i < r->nworkers; i++)
		if (!atomic_load(&r->workers[i].bus_up))
			return "down";
	return "redis";
}

/* "redis HOST:PORT", or the sentinels and master: no credentials. */
static void
rbus_describe(const struct relay *r, char *buf, size_t len)
{
	const struct config *cfg = &r->cfg;
	struct redis_addr addr;
	char where[600], err[128];

	if (redis_addr_parse(cfg->redis, cfg->redis_sentinel, cfg->redis_master,
	    cfg->redis_auth, &addr, err, sizeof err) != 0) {
		snprintf(buf, len, "redis (%s)", err);
		return;
	}
	redis_addr_describe(&addr, where, sizeof where);
	snprintf(buf, len, "redis %s", where);
}

const struct bus_ops bus_redis_ops = {
	.name = "redis",
	.publish_here = true,
	.global_init = rbus_global_init,
	.init = rbus_init,
	.stop = rbus_stop,
	.free = rbus_free,
	.tick = rbus_tick,
	.health = rbus_health,
	.describe = rbus_describe,
	.join = bus_redis_join,
	.leave = bus_redis_leave,
	.history = bus_redis_history,
	.who = bus_redis_who,
	.publish = bus_redis_publish,
	.attach = rbus_attach,
	.detach = rbus_detach,
	.whisper = bus_redis_whisper,
	.control = bus_redis_control,
	.state_save = bus_redis_state_save,
	.watch = bus_redis_watch,
	.answer = bus_redis_answer,
	.nodes = bus_redis_nodes,
	.forget = bus_redis_forget,
	.message = rbus_message,
};
