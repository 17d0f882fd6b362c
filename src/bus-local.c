/*
 * bus-local.c: the in-process bus (one instance, no Redis).
 *
 * Each channel is owned by one worker (by hash of its name), which gives
 * every message its seq, keeps the history ring and the member list, and
 * fans each message out, already serialized, to the workers that have
 * members.  Because one thread sequences a channel and inboxes are FIFO,
 * every member on every worker sees one order.  Each user id is owned the
 * same way: its owner counts the user's connections on every worker, to
 * enforce user_connections_max and to route whispers.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "bus.h"
#include "bus-int.h"
#include "config.h"
#include "deliver.h"
#include "frame.h"
#include "history.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "reply.h"
#include "statefile.h"
#include "strmap.h"
#include "worker.h"

#define SWEEP_MS 10000		/* how often idle channels are looked for */

/* A channel this worker owns. */
struct lchannel {
	char name[CHAN_NAME_MAX + 1];
	uint64_t seq;			/* last seq given */
	char epoch[PROTO_EPOCH_MAX + 1];	/* this numbering's, made with the channel */
	int64_t active_ms;		/* last join, leave or message */
	struct history hist;
	struct strmap members;		/* uid -> struct cmember (inline) */
	uint32_t wcount[];		/* memberships per worker */
};

/* An owned user: its connections on each worker. */
struct luser {
	uint32_t total;
	uint32_t per[];
};

/* A worker's side of the in-process bus (w->bus). */
struct local_bus {
	struct strmap channels;		/* owned channels: name -> struct lchannel * */
	struct strmap users;		/* owned users: id -> struct luser (inline) */
	int64_t last_sweep_ms;
};

/* The worker's side of the bus. */
static struct local_bus *
lb(struct worker *w)
{
	return w->bus;
}

/* Sets the channel and user gauges of /metrics from what w owns. */
static void
update_gauges(struct worker *w)
{
	metrics_set(&w->stats.channels, (int64_t)lb(w)->channels.count);
	metrics_set(&w->stats.users, (int64_t)lb(w)->users.count);
}

/* Returns the channel named ch, creating it if create; NULL if absent or out of memory. */
static struct lchannel *
channel_get(struct worker *w, const char *ch, bool create)
{
	struct lchannel *chn = strmap_get(&lb(w)->channels, ch);

	if (chn != NULL || !create)
		return chn;
	chn = calloc(1, sizeof *chn +
	    (size_t)w->relay->nworkers * sizeof chn->wcount[0]);
	if (chn == NULL)
		return NULL;
	strcpy(chn->name, ch);
	bus_new_epoch(w, chn->epoch);
	history_init(&chn->hist, w->cfg->history_size);
	strmap_init(&chn->members);
	if (strmap_put(&lb(w)->channels, chn->name, chn) != 0) {
		history_free(&chn->hist);
		free(chn);
		return NULL;
	}
	chn->active_ms = proto_now_ms();
	update_gauges(w);
	return chn;
}

/* Frees a channel that is already out of the map. */
static void
channel_free(struct lchannel *chn)
{
	history_free(&chn->hist);
	strmap_free(&chn->members);	/* the members are kept inline */
	free(chn);
}

/*
 * Returns true once nobody is in chn and it has nothing left to remember.
 * The seq must not start again at 1 while clients may still hold a `since`
 * from the old numbering: it is kept channel_ttl after the channel was
 * last used.
 */
static bool
channel_forgettable(const struct worker *w, const struct lchannel *chn,
    int64_t now_ms)
{
	return chn->members.count == 0 && chn->hist.count == 0 &&
	    now_ms - chn->active_ms >= w->cfg->channel_ttl_ms;
}

/* Drops chn if it is forgettable. */
static void
channel_maybe_drop(struct worker *w, struct lchannel *chn)
{
	if (!channel_forgettable(w, chn, proto_now_ms()))
		return;
	strmap_del(&lb(w)->channels, chn->name);
	channel_free(chn);
	update_gauges(w);
}

/* Tells the members of chn, except uid's connections, that uid joined or left. */
static void
presence(struct worker *w, struct lchannel *chn, const char *event,
    const char *uid, const char *name)
{
	struct frame *f = reply_presence(chn->name, event, uid, name);

	if (f == NULL)
		return;
	deliver_channel_workers(w, chn->wcount, chn->name, f, uid);
	frame_unref(f);
}

/* ------------------------------------------------------------ channel ops */

/*
 * Counts m's membership (unless a rejoin), tells the others, and answers
 * with the channel's state.
 */
static void
local_join(struct worker *w, struct im_join *m)
{
	struct lchannel *chn = channel_get(w, m->ch, true);
	int rc;

	if (chn == NULL) {
		deliver_reply_err(w, &m->from, m->rejoin ? ACT_NONE :
		    ACT_JOIN_FAIL, m->ch, ERR_INTERNAL, "out of memory");
		goto done;
	}
	if (!m->rejoin) {
		rc = bus_member_add(&chn->members, m->user, m->name);
		if (rc < 0) {
			channel_maybe_drop(w, chn);
			deliver_reply_err(w, &m->from, ACT_JOIN_FAIL, m->ch,
			    ERR_INTERNAL, "out of memory");
			goto done;
		}
		if (rc == 1 && chn->members.count <=
		    (size_t)w->cfg->presence_events_max)
			presence(w, chn, "join", m->user, m->name);
		chn->wcount[m->from.worker]++;
		chn->active_ms = proto_now_ms();
	}
	bus_answer_joined(w, m, &chn->hist, chn->seq, chn->epoch,
	    chn->members.count,
	    m->rejoin ? ACT_NONE : ACT_ACTIVATE);
done:
	msg_free(&m->hdr);
}

/*
 * Counts one membership of m's user less; the last one is a presence
 * leave.
 */
static void
local_leave(struct worker *w, struct im_leave *m)
{
	struct lchannel *chn = channel_get(w, m->ch, false);
	char name[USER_NAME_MAX + 1];
	size_t before;

	if (chn == NULL)
		goto done;
	if (chn->wcount[m->worker] > 0)
		chn->wcount[m->worker]--;
	chn->active_ms = proto_now_ms();
	before = chn->members.count;
	if (bus_member_remove(&chn->members, m->user, name, sizeof name) == 1 &&
	    before <= (size_t)w->cfg->presence_events_max)
		presence(w, chn, "leave", m->user, name);
	channel_maybe_drop(w, chn);
done:
	msg_free(&m->hdr);
}

/*
 * Gives the message the next seq, keeps it, fans it out and acknowledges
 * it.
 */
static void
local_publish(struct worker *w, struct im_publish *m)
{
	struct lchannel *chn = channel_get(w, m->ch, false);
	struct frame *f;
	int64_t ts;

	if (chn == NULL) {
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_NOT_MEMBER,
		    "not in this channel");
		goto done;
	}
	ts = proto_now_ms();
	f = reply_msg(chn->seq + 1, ts, chn->epoch, m->body, m->len);
	if (f == NULL) {
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_INTERNAL,
		    "out of memory");
		goto done;
	}
	chn->seq++;
	chn->active_ms = ts;
	metrics_add(&w->stats.published, 1);
	if (m->t0 != 0)
		metrics_latency(&w->stats, uv_hrtime() - m->t0);
	history_expire(&chn->hist, ts, w->cfg->history_ttl_ms);
	history_push(&chn->hist, f);
	deliver_channel_workers(w, chn->wcount, chn->name, f, NULL);
	deliver_watch_workers(w, chn->name, f);
	frame_unref(f);
	deliver_reply(w, &m->from, ACT_NONE, NULL,
	    reply_ok_seq(m->from.id, m->ch, chn->seq, ts, chn->epoch));
done:
	msg_free(&m->hdr);
}

/* Answers a history request from the channel's ring. */
static void
local_history(struct worker *w, struct im_query *m)
{
	struct lchannel *chn = channel_get(w, m->ch, false);

	if (chn == NULL)
		deliver_reply_err(w, &m->from, ACT_NONE, NULL,
		    ERR_NO_SUCH_CHANNEL, "no such channel");
	else {
		bus_answer_history(w, m, &chn->hist, chn->seq, chn->epoch);
		channel_maybe_drop(w, chn);
	}
	msg_free(&m->hdr);
}

/* Answers a who request with the channel's members. */
static void
local_who(struct worker *w, struct im_query *m)
{
	struct lchannel *chn = channel_get(w, m->ch, false);

	if (chn == NULL)
		deliver_reply_err(w, &m->from, ACT_NONE, NULL,
		    ERR_NO_SUCH_CHANNEL, "no such channel");
	else
		bus_answer_who_map(w, m, &chn->members);
	msg_free(&m->hdr);
}

/* ------------------------------------------------------------ user ops */

/* Admits or refuses a connection of m's user. */
static void
local_attach(struct worker *w, struct im_attach *m)
{
	struct luser *u = strmap_get(&lb(w)->users, m->user);
	bool ok = false;

	if (u == NULL)
		u = strmap_put_inline(&lb(w)->users, m->user, sizeof *u +
		    (size_t)w->relay->nworkers * sizeof u->per[0]);
	if (u != NULL && u->total < (uint32_t)w->cfg->user_connections_max) {
		u->total++;
		u->per[m->from.worker]++;
		ok = true;
	}
	if (deliver_attach_answer(w, &m->from, ok, m->user) != 0 && ok) {
		/* Nobody will hear of this connection: do not count it. */
		u->total--;
		u->per[m->from.worker]--;
	}
	if (u != NULL && u->total == 0)
		strmap_del(&lb(w)->users, m->user);
	update_gauges(w);
	msg_free(&m->hdr);
}

/* Counts one connection of m's user less. */
static void
local_detach(struct worker *w, struct im_detach *m)
{
	struct luser *u = strmap_get(&lb(w)->users, m->user);

	if (u != NULL) {
		if (u->per[m->worker] > 0)
			u->per[m->worker]--;
		if (u->total > 0)
			u->total--;
		if (u->total == 0)
			strmap_del(&lb(w)->users, m->user);	/* frees u */
		update_gauges(w);
	}
	msg_free(&m->hdr);
}

/* Delivers a whisper to every connection of its user, on every worker. */
static void
local_whisper(struct worker *w, struct im_whisper *m)
{
	struct luser *u = strmap_get(&lb(w)->users, m->to);
	char text[128];

	if (u == NULL) {
		snprintf(text, sizeof text, "to: user %s is not online", m->to);
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_BAD_FIELD,
		    text);
	} else {
		deliver_user_workers(w, u->per, m->to, m->frame);
		metrics_add(&w->stats.whispers, 1);
		deliver_reply(w, &m->from, ACT_NONE, NULL,
		    reply_ok(m->from.id));
	}
	msg_free(&m->hdr);
}

/* ------------------------------------------------------------ control */

/*
 * Without Redis the cluster is this instance: every worker runs it now, and
 * worker 0 writes the state file once it has (local_state_save).
 */
static void
local_control(struct worker *w, uint64_t client, const char *id,
    const char *cmd, size_t len, const struct store_change *chg,
    bool answer)
{
	struct origin to;

	(void)chg;
	msg_origin(&to, (uint16_t)w->idx, client, id);
	if (deliver_control_workers(w, -1, cmd, len, 0) != 0)
		deliver_reply_err(w, &to, ACT_NONE, NULL, ERR_TOO_LONG,
		    "the command is too long");
	else if (answer)
		deliver_reply(w, &to, ACT_NONE, NULL, reply_ok(id));
}

/* Writes the moderation state to the state_file, if one is configured. */
static void
local_state_save(struct worker *w, const char *const *cmds,
    const size_t *lens, const struct store_change *chgs, size_t n,
    bool restore)
{
	char err[256];

	(void)chgs;
	(void)restore;
	if (w->cfg->state_file[0] == '\0')
		return;
	if (statefile_save(w->cfg->state_file, cmds, lens, n, err,
	    sizeof err) != 0)
		log_err("state_file %s not written (the moderation state is "
		    "kept in memory only until it can be): %s",
		    w->cfg->state_file, err);
}

/* Hands one line of the state file to this worker, to run (a statefile_load callback). */
static int
load_line(const char *line, size_t len, unsigned lineno, void *arg)
{
	struct worker *w = arg;

	if (deliver_control_workers(w, w->idx, line, len, CONTROL_REPLAY) != 0)
		log_warn("state_file %s, line %u: too long: ignored",
		    w->cfg->state_file, lineno);
	return 0;
}

/*
 * Reads the state file into w's own inbox, so that its bans and mutes are
 * in force before w's first connection.  Returns 0, or -1 if the file
 * cannot be read (the relay must not start without its bans).
 */
static int
load_state(struct worker *w)
{
	char err[256];

	if (w->cfg->state_file[0] == '\0')
		return 0;
	if (statefile_load(w->cfg->state_file, load_line, w, err,
	    sizeof err) != 0) {
		log_err("state_file %s: %s", w->cfg->state_file, err);
		return -1;
	}
	return 0;
}

/* This bus has no subscriptions: the sequencer hands watchers their copy. */
static void
local_watch(struct worker *w, const char *pattern, bool on)
{
	(void)w;
	(void)pattern;
	(void)on;
}

/* The cluster is this instance: the answer goes through the inbox. */
static void
local_answer(struct worker *w, const char *nk, int to, const char *text,
    size_t len)
{
	if (strcmp(nk, w->relay->node_key) != 0) {
		log_warn("an answer for instance %.80s, not this one: ignored",
		    nk);
		return;
	}
	deliver_answer_worker(w, to, text, len);
}

/* The only live instance is this one. */
static void
local_nodes(struct worker *w, bus_nodes_cb cb, void *arg)
{
	const char *self = w->relay->node_key;

	cb(w, arg, &self, 1);
}

/* Drops a deleted message from the ring of the channel, if w owns it. */
static void
local_forget(struct worker *w, const char *ch, uint64_t seq)
{
	struct lchannel *chn = channel_get(w, ch, false);

	if (chn != NULL)
		(void)history_remove(&chn->hist, seq);
}

/* Nothing passes between the workers' sides of this bus but the requests. */
static void
local_message(struct worker *w, struct im_bus *m)
{
	msg_free(&m->hdr);
}

/* ------------------------------------------------------------ lifecycle */

/* Nothing is shared between the workers' sides of this bus. */
static int
local_global_init(struct relay *r)
{
	return 0;
}

/* Sets up w's side of the bus (empty maps). */
static int
local_init(struct worker *w)
{
	struct local_bus *b = calloc(1, sizeof *b);

	if (b == NULL)
		return -1;
	strmap_init(&b->channels);
	strmap_set_load(&b->channels, 1);	/* looked up for every message */
	strmap_init(&b->users);
	w->bus = b;
	atomic_store(&w->bus_up, true);
	return load_state(w);
}

/* Nothing to close: this bus has no handles. */
static void
local_stop(struct worker *w)
{
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
	struct lchannel *c = chn;

	history_expire(&c->hist, sn->wall, sn->w->cfg->history_ttl_ms);
	return channel_forgettable(sn->w, c, sn->wall);
}

/* Takes chn out of the map and frees it (a bus_sweep callback). */
static void
sweep_drop(void *chn, void *arg)
{
	struct sweep_now *sn = arg;
	struct lchannel *c = chn;

	strmap_del(&lb(sn->w)->channels, c->name);
	channel_free(c);
}

/* Drops expired history, and channels with no members and no history left. */
static void
sweep(struct worker *w, int64_t wall)
{
	struct sweep_now sn = { w, wall };

	bus_sweep(&lb(w)->channels, sweep_expired, sweep_drop, &sn);
	update_gauges(w);
}

/* Sweeps the channels every SWEEP_MS. */
static void
local_tick(struct worker *w, int64_t now, int64_t wall)
{
	if (now - lb(w)->last_sweep_ms < SWEEP_MS)
		return;
	lb(w)->last_sweep_ms = now;
	sweep(w, wall);
}

/* Frees one channel (a strmap_each callback). */
static void
channel_free_cb(const char *key, void *value, void *arg)
{
	channel_free(value);
}

/* Frees every channel and user w owns. */
static void
local_free(struct worker *w)
{
	struct local_bus *b = w->bus;

	if (b == NULL)
		return;
	strmap_each(&b->channels, channel_free_cb, NULL);
	strmap_free(&b->channels);
	strmap_free(&b->users);		/* the users are kept inline */
	free(b);
	w->bus = NULL;
}

/* Every worker's bus is up while it runs. */
static const char *
local_health(struct relay *r)
{
	return "local";
}

/* The in-process bus is in the process. */
static void
local_describe(const struct relay *r, char *buf, size_t len)
{
	(void)r;
	snprintf(buf, len, "local (in-process, one instance)");
}

const struct bus_ops bus_local_ops = {
	.name = "local",
	.publish_here = false,
	.global_init = local_global_init,
	.init = local_init,
	.stop = local_stop,
	.free = local_free,
	.tick = local_tick,
	.health = local_health,
	.describe = local_describe,
	.join = local_join,
	.leave = local_leave,
	.history = local_history,
	.who = local_who,
	.publish = local_publish,
	.attach = local_attach,
	.detach = local_detach,
	.whisper = local_whisper,
	.control = local_control,
	.state_save = local_state_save,
	.watch = local_watch,
	.answer = local_answer,
	.nodes = local_nodes,
	.forget = local_forget,
	.message = local_message,
};
