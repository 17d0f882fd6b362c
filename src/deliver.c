/*
 * deliver.c: every way a frame reaches connections: the local members of a
 * channel, the local connections of a user, every local connection, one
 * client's answer, and the same across this instance's workers ("run it
 * here, post it to the others" exists only here).
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "deliver.h"
#include "frame.h"
#include "log.h"
#include "msg.h"
#include "relay.h"
#include "reply.h"
#include "room.h"
#include "worker.h"

void
deliver_channel(struct worker *w, const char *ch, struct frame *f,
    const char *except)
{
	struct room *r = room_find(&w->rooms, ch);
	struct client *c;
	uint32_t i;

	if (r == NULL)
		return;
	room_seen_in(r, f->seq);
	/* client_send never changes the room: overflowing clients close later. */
	if (except == NULL) {
		for (i = 0; i < r->n; i++)
			client_send(r->members[i].owner, f);
		metrics_add(&w->stats.delivered, r->n);
		return;
	}
	for (i = 0; i < r->n; i++) {
		c = r->members[i].owner;
		if (strcmp(c->uid, except) != 0)
			client_send(c, f);
	}
}

void
deliver_user(struct worker *w, const char *uid, struct frame *f)
{
	uint32_t i, n;
	struct client *const *v = user_index_get(&w->users, uid, &n);

	for (i = 0; i < n; i++)
		client_send(v[i], f);
}

void
deliver_all(struct worker *w, struct frame *f)
{
	uint32_t i;

	for (i = 0; i < w->clients.nslots; i++) {
		struct client *c = w->clients.slots[i];

		if (c != NULL && c->state == CS_READY && !c->closing)
			client_send(c, f);
	}
}

/* What deliver_watchers hands each watcher. */
struct watch_fan {
	const char *ch;
	struct frame *f;
	uint32_t n;
};

/* Sends the frame to one watcher, unless it gets it as a member. */
static void
watch_send(void *owner, void *arg)
{
	struct watch_fan *wf = arg;
	struct client *c = owner;

	if (c->closing || (wf->ch != NULL &&
	    room_set_find(&c->rooms, wf->ch) != NULL))
		return;
	client_send(c, wf->f);
	wf->n++;
}

void
deliver_watchers(struct worker *w, const char *ch, struct frame *f)
{
	struct watch_fan wf = { ch, f, 0 };

	if (w->watches.n == 0)
		return;
	watch_each(&w->watches, ch, watch_send, &wf);
	metrics_add(&w->stats.delivered, wf.n);
}

/* What goes to each worker: a frame for a channel or a user, or a command. */
struct fan {
	enum imsg_type type;	/* IM_DELIVER, IM_USER_DELIVER, IM_WATCH,
				   IM_CONTROL or IM_ANSWER */
	const char *name;	/* the channel or the user */
	const char *except;	/* IM_DELIVER: the user left out, or NULL */
	struct frame *f;
	const char *body;	/* IM_CONTROL, IM_ANSWER */
	size_t len;
	unsigned flags;		/* IM_CONTROL */
};

/* Runs what fan carries on this worker. */
static void
fan_here(struct worker *w, const struct fan *fn)
{
	if (fn->type == IM_DELIVER)
		deliver_channel(w, fn->name, fn->f, fn->except);
	else if (fn->type == IM_WATCH)
		deliver_watchers(w, fn->name, fn->f);
	else
		deliver_user(w, fn->name, fn->f);
}

/* Makes the message that carries fan to another worker, or NULL. */
static struct imsg *
fan_msg(const struct fan *fn)
{
	struct im_deliver *d;
	struct im_user_deliver *u;
	struct im_control *c;

	switch (fn->type) {
	case IM_DELIVER:
	case IM_WATCH:
		if ((d = msg_new(fn->type)) == NULL)
			return NULL;
		msg_copy(d->ch, sizeof d->ch, fn->name);
		if (fn->except != NULL)
			msg_copy(d->except, sizeof d->except, fn->except);
		d->frame = frame_ref(fn->f);
		return &d->hdr;
	case IM_USER_DELIVER:
		if ((u = msg_new(IM_USER_DELIVER)) == NULL)
			return NULL;
		msg_copy(u->user, sizeof u->user, fn->name);
		u->frame = frame_ref(fn->f);
		return &u->hdr;
	default:
		if ((c = msg_new(fn->type)) == NULL)
			return NULL;
		c->flags = fn->flags;
		if ((c->body = malloc(fn->len + 1)) == NULL) {
			msg_free(&c->hdr);
			return NULL;
		}
		memcpy(c->body, fn->body, fn->len);
		c->body[fn->len] = '\0';
		c->len = fn->len;
		return &c->hdr;
	}
}

/*
 * Sends fan to every worker i with counts[i] > 0 (counts NULL: all; only:
 * that one worker, -1 for any).  Frames are run at once on this worker; a
 * command or an answer goes through the dispatch table everywhere, this
 * worker included.
 */
static void
fan_out(struct worker *w, const uint32_t *counts, int only,
    const struct fan *fn)
{
	struct imsg *m;
	int i;

	for (i = 0; i < w->relay->nworkers; i++) {
		if ((counts != NULL && counts[i] == 0) ||
		    (only >= 0 && i != only))
			continue;
		if (fn->type == IM_WATCH && i != w->idx &&
		    atomic_load_explicit(&w->relay->workers[i].nwatch,
		    memory_order_relaxed) == 0)
			continue;
		if (i == w->idx && fn->type != IM_CONTROL &&
		    fn->type != IM_ANSWER) {
			fan_here(w, fn);
			continue;
		}
		if ((m = fan_msg(fn)) == NULL) {
			log_err("out of memory: a delivery to worker %d lost", i);
			continue;
		}
		worker_post(w, i, m);
	}
}

void
deliver_channel_workers(struct worker *w, const uint32_t *counts,
    const char *ch, struct frame *f, const char *except)
{
	struct fan fn = { IM_DELIVER, ch, except, f, NULL, 0, 0 };

	fan_out(w, counts, -1, &fn);
}

void
deliver_user_workers(struct worker *w, const uint32_t *counts,
    const char *uid, struct frame *f)
{
	struct fan fn = { IM_USER_DELIVER, uid, NULL, f, NULL, 0, 0 };

	fan_out(w, counts, -1, &fn);
}

void
deliver_watch_workers(struct worker *w, const char *ch, struct frame *f)
{
	struct fan fn = { IM_WATCH, ch, NULL, f, NULL, 0, 0 };

	fan_out(w, NULL, -1, &fn);
}

int
deliver_control_workers(struct worker *w, int to, const char *cmd,
    size_t len, unsigned flags)
{
	struct fan fn = { IM_CONTROL, NULL, NULL, NULL, cmd, len, flags };

	if (len > CONTROL_MAX) {
		log_warn("control: a command of %zu bytes (more than %d): "
		    "ignored", len, CONTROL_MAX);
		return -1;
	}
	fan_out(w, NULL, to, &fn);
	return 0;
}

void
deliver_answer_worker(struct worker *w, int to, const char *text,
    size_t len)
{
	struct fan fn = { IM_ANSWER, NULL, NULL, NULL, text, len, 0 };

	if (to < 0 || to >= w->relay->nworkers) {
		log_warn("an answer for worker %d, which does not exist: "
		    "ignored", to);
		return;
	}
	fan_out(w, NULL, to, &fn);
}

void
deliver_bus_workers(struct worker *w, int to, uint8_t kind, const char *text)
{
	struct im_bus *m;
	int i;

	for (i = 0; i < w->relay->nworkers; i++) {
		if (to >= 0 && i != to)
			continue;
		if ((m = msg_new(IM_BUS)) == NULL) {
			log_err("out of memory: a bus message to worker %d lost",
			    i);
			continue;
		}
		m->worker = (uint16_t)w->idx;
		m->kind = kind;
		msg_copy(m->text, sizeof m->text, text);
		worker_post(w, i, &m->hdr);
	}
}

/* Posts an answer to a client of worker `to`; takes f's reference.  Returns 0 or -1. */
static int
to_client(struct worker *w, int to, uint64_t client, int action,
    const char *ch, const char *uid, const char *id, struct frame *f)
{
	struct im_to_client *m = msg_new(IM_TO_CLIENT);

	if (m == NULL) {
		log_err("out of memory: an answer to client %llu lost",
		    (unsigned long long)client);
		frame_unref(f);
		return -1;
	}
	m->client = client;
	m->action = (uint8_t)action;
	m->frame = f;
	if (ch != NULL)
		msg_copy(m->ch, sizeof m->ch, ch);
	if (uid != NULL)
		msg_copy(m->user, sizeof m->user, uid);
	if (id != NULL)
		msg_copy(m->id, sizeof m->id, id);
	worker_post(w, to, &m->hdr);
	return 0;
}

void
deliver_reply(struct worker *w, const struct origin *to, int action,
    const char *ch, struct frame *f)
{
	if (f == NULL)
		return;
	/* A report's answer carries the request's id on (the ok comes later). */
	(void)to_client(w, to->worker, to->client, action, ch, NULL,
	    action == ACT_REPORT_FOUND || action == ACT_REPORT_GONE ? to->id :
	    NULL, f);
}

void
deliver_reply_err(struct worker *w, const struct origin *to, int action,
    const char *ch, enum errcode code, const char *msg)
{
	worker_count_err(w, code);
	deliver_reply(w, to, action, ch, reply_err(to->id, code, msg, -1, -1));
}

int
deliver_attach_answer(struct worker *w, const struct origin *to, bool ok,
    const char *uid)
{
	/*
	 * Posted even without a frame: an admitted connection that has gone
	 * meanwhile must give its count back (session.c).
	 */
	return to_client(w, to->worker, to->client,
	    ok ? ACT_AUTH_OK : ACT_AUTH_REFUSE, NULL, uid, to->id, NULL);
}

void
deliver_on_channel(struct worker *w, struct im_deliver *m)
{
	worker_input(w);
	deliver_channel(w, m->ch, m->frame,
	    m->except[0] != '\0' ? m->except : NULL);
}

void
deliver_on_user(struct worker *w, struct im_user_deliver *m)
{
	deliver_user(w, m->user, m->frame);
}
