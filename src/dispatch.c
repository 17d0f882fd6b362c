/*
 * dispatch.c: the one table from inbox message type to handler, and the
 * rest of the worker's hooks (see dispatch.h).  Each handler owns the
 * message it is given: it frees it, or keeps it for a later answer.
 */
#include <stddef.h>
#include <string.h>

#include "bus.h"
#include "control.h"
#include "filter.h"
#include "gather.h"
#include "deliver.h"
#include "dispatch.h"
#include "log.h"
#include "modstate.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "session.h"
#include "worker.h"

typedef void (*handler)(struct worker *w, struct imsg *m);

/* IM_DELIVER: a frame for the local members of a channel. */
static void
on_deliver(struct worker *w, struct imsg *m)
{
	deliver_on_channel(w, (struct im_deliver *)m);
	msg_free(m);
}

/* IM_USER_DELIVER: a frame for the local connections of a user. */
static void
on_user_deliver(struct worker *w, struct imsg *m)
{
	deliver_on_user(w, (struct im_user_deliver *)m);
	msg_free(m);
}

/* IM_TO_CLIENT: an answer for one client of this worker. */
static void
on_to_client(struct worker *w, struct imsg *m)
{
	session_reply(w, (struct im_to_client *)m);
	msg_free(m);
}

/* IM_WATCH: a channel's message for this worker's watchers. */
static void
on_watch(struct worker *w, struct imsg *m)
{
	struct im_deliver *d = (struct im_deliver *)m;

	deliver_watchers(w, d->ch, d->frame);
	msg_free(m);
}

/* IM_CONTROL: a control command to run on this worker. */
static void
on_control(struct worker *w, struct imsg *m)
{
	struct im_control *c = (struct im_control *)m;

	control_run(w, c->body, c->len, c->flags);
	msg_free(m);
}

/* IM_ANSWER: a part of the answer to one of this worker's questions. */
static void
on_answer(struct worker *w, struct imsg *m)
{
	struct im_control *c = (struct im_control *)m;

	gather_on_answer(w, c->body, c->len);
	msg_free(m);
}

static void sync_config(struct worker *w);

/* IM_DRAIN: the graceful stop begins (with the drain_timeout in force). */
static void
on_drain(struct worker *w, struct imsg *m)
{
	msg_free(m);
	sync_config(w);
	worker_drain(w);
}

/* IM_QUIESCE: posting has stopped; acknowledged. */
static void
on_quiesce(struct worker *w, struct imsg *m)
{
	msg_free(m);
	worker_quiesce(w);
}

/* The upper layers close their handles first, then the worker its own. */
static void
on_destroy(struct worker *w, struct imsg *m)
{
	msg_free(m);
	w->relay->bus->stop(w);
	msg_reserve_free();
	worker_destroy(w);
}

static const handler table[IM_TYPES] = {
	[IM_JOIN] = bus_on_join,
	[IM_LEAVE] = bus_on_leave,
	[IM_PUBLISH] = bus_on_publish,
	[IM_HISTORY] = bus_on_history,
	[IM_WHO] = bus_on_who,
	[IM_ATTACH] = bus_on_attach,
	[IM_DETACH] = bus_on_detach,
	[IM_WHISPER] = bus_on_whisper,
	[IM_DELIVER] = on_deliver,
	[IM_USER_DELIVER] = on_user_deliver,
	[IM_TO_CLIENT] = on_to_client,
	[IM_WATCH] = on_watch,
	[IM_CONTROL] = on_control,
	[IM_ANSWER] = on_answer,
	[IM_BUS] = bus_on_message,
	[IM_DRAIN] = on_drain,
	[IM_QUIESCE] = on_quiesce,
	[IM_DESTROY] = on_destroy,
};

void
dispatch_message(struct worker *w, struct imsg *m)
{
	if (m->type >= IM_TYPES || table[m->type] == NULL) {
		log_err("worker %d: a message of unknown type %u", w->idx,
		    (unsigned)m->type);
		msg_free(m);
		return;
	}
	table[m->type](w, m);
}

#define EXPIRE_MS 10000		/* how often ended bans and mutes are dropped */

/* Takes a reference of the relay's word filter if it changed (SIGHUP). */
static void
sync_filter(struct worker *w)
{
	struct relay *r = w->relay;
	unsigned gen = atomic_load(&r->filter_gen);
	struct filter *old = w->filter;

	if (gen == w->filter_gen)
		return;
	pthread_mutex_lock(&r->filter_lock);
	w->filter = r->filter != NULL ? filter_ref(r->filter) : NULL;
	w->filter_gen = atomic_load(&r->filter_gen);
	pthread_mutex_unlock(&r->filter_lock);
	filter_unref(old);
}

/*
 * Takes the relay's configuration in force if a reload changed it
 * (SIGHUP): a copy of its own, so that nothing changes under a callback.
 */
static void
sync_config(struct worker *w)
{
	struct relay *r = w->relay;

	if (atomic_load(&r->cfg_gen) == w->cfg_gen)
		return;
	pthread_mutex_lock(&r->cfg_lock);
	w->conf = r->live;
	w->cfg_gen = atomic_load(&r->cfg_gen);
	pthread_mutex_unlock(&r->cfg_lock);
	w->cfg = &w->conf;
	w->filter_mask = strcmp(w->cfg->filter_policy, "mask") == 0;
}

/* Sets up the bus's side of w and its word filter. */
static int
hook_start(struct worker *w)
{
	w->filter_mask = strcmp(w->cfg->filter_policy, "mask") == 0;
	sync_filter(w);
	return w->relay->bus->init(w);
}

/* The periodic work of the layers above the worker. */
static void
hook_tick(struct worker *w, int64_t now)
{
	(void)msg_reserve_fill();	/* what a shortage of memory took */
	session_sweep(w, now);
	gather_tick(w, now);
	sync_config(w);
	sync_filter(w);
	if (now >= w->next_expire_ms) {
		modstate_expire(&w->mod, proto_now_ms());
		w->next_expire_ms = now + EXPIRE_MS;
	}
	w->relay->bus->tick(w, now, proto_now_ms());
}

/* Frees the bus's side of w and the rest, once its loop has ended. */
static void
hook_free(struct worker *w)
{
	w->relay->bus->free(w);
	gather_free(w);
	filter_unref(w->filter);
	w->filter = NULL;
}

/* What the bus says of its health, for /healthz. */
static const char *
hook_health(struct relay *r)
{
	return r->bus->health(r);
}

const struct worker_hooks dispatch_hooks = {
	.start = hook_start,
	.dispatch = dispatch_message,
	.discard = msg_free,
	.tick = hook_tick,
	.free = hook_free,
	.health = hook_health,
	.client_open = session_open,
	.client_message = session_message,
	.client_detach = session_detach,
	.client_free = session_free,
};
