/*
 * users.c: the users a worker owns (connection counts per worker, whisper
 * routing) and the users connected to this worker.
 */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "bus-redis.h"
#include "client.h"
#include "config.h"
#include "frame.h"
#include "inbox.h"
#include "log.h"
#include "proto.h"
#include "server.h"
#include "users.h"
#include "worker.h"

/* An owned user: its connections on each worker. */
struct ureg {
	uint32_t total;
	uint32_t per[];
};

/* Answers an attach: admits the connection or refuses it. */
static void
handle_attach(struct worker *w, struct imsg *m)
{
	struct ureg *r = strmap_get(&w->users, m->user);
	struct imsg *rep;
	int action = ACT_AUTH_OK;

	if (r == NULL) {
		r = strmap_put_inline(&w->users, m->user, sizeof *r +
		    (size_t)w->srv->nworkers * sizeof r->per[0]);
		if (r == NULL)
			action = ACT_AUTH_REFUSE;
	}
	if (r != NULL && r->total >= (uint32_t)w->cfg->user_connections_max)
		action = ACT_AUTH_REFUSE;
	else if (r != NULL) {
		r->total++;
		r->per[m->worker]++;
	}
	stat_set(&w->stats.users, (int64_t)w->users.count);
	rep = imsg_new(IM_TO_CLIENT);
	if (rep == NULL) {
		log_err("out of memory: auth answer lost");
		return;
	}
	rep->action = (uint8_t)action;
	rep->client = m->client;
	strcpy(rep->user, m->user);
	strcpy(rep->id, m->id);
	worker_post(w, m->worker, rep);
}

static void
handle_detach(struct worker *w, struct imsg *m)
{
	struct ureg *r = strmap_get(&w->users, m->user);

	if (r == NULL)
		return;
	if (r->per[m->worker] > 0)
		r->per[m->worker]--;
	if (r->total > 0)
		r->total--;
	if (r->total == 0)
		strmap_del(&w->users, m->user);	/* frees r */
	stat_set(&w->stats.users, (int64_t)w->users.count);
}

static void
handle_whisper(struct worker *w, struct imsg *m)
{
	struct ureg *r = strmap_get(&w->users, m->user);
	struct frame *f;
	struct imsg *d;
	char msg[128];
	int i;

	if (r == NULL) {
		snprintf(msg, sizeof msg, "to: user %s is not online", m->user);
		worker_count_err(w, ERR_BAD_FIELD);
		f = proto_err_frame(m->id, ERR_BAD_FIELD, msg, -1, -1);
		bus_to_client(w, m->worker, m->client, ACT_NONE, NULL, f);
		frame_unref(f);
		return;
	}
	for (i = 0; i < w->srv->nworkers; i++) {
		if (r->per[i] == 0)
			continue;
		if (i == w->idx) {
			worker_deliver_user(w, m->user, m->frame);
			continue;
		}
		d = imsg_new(IM_USER_DELIVER);
		if (d == NULL)
			continue;
		strcpy(d->user, m->user);
		d->frame = frame_ref(m->frame);
		worker_post(w, i, d);
	}
	stat_add(&w->stats.whispers, 1);
	f = proto_ok_frame(m->id);
	bus_to_client(w, m->worker, m->client, ACT_NONE, NULL, f);
	frame_unref(f);
}

void
users_handle(struct worker *w, struct imsg *m)
{
	if (w->redis != NULL) {
		bus_redis_user(w, m);		/* takes m */
		return;
	}
	switch (m->type) {
	case IM_USER_ATTACH:
		handle_attach(w, m);
		break;
	case IM_USER_DETACH:
		handle_detach(w, m);
		break;
	case IM_WHISPER:
		handle_whisper(w, m);
		break;
	}
	imsg_free(m);
}

/*
 * The connections of a user on this worker, when there are two or more.
 * With one, the local_users map holds the client pointer itself, which
 * saves an allocation per connection; a struct luser is stored with its
 * lowest bit set (clients and lusers come from malloc, so that bit is
 * otherwise clear).
 */
struct luser {
	uint32_t n, cap;
	struct client *v[];
};

#define LUSER_TAG ((uintptr_t)1)

/* Returns the luser a local_users value stands for, or NULL for one client. */
static struct luser *
luser_of(void *value)
{
	return ((uintptr_t)value & LUSER_TAG) != 0 ?
	    (struct luser *)((uintptr_t)value & ~LUSER_TAG) : NULL;
}

struct client *const *
users_local(struct worker *w, const char *uid, uint32_t *n)
{
	void **slot = strmap_slot(&w->local_users, uid);
	struct luser *u;

	if (slot == NULL) {
		*n = 0;
		return NULL;
	}
	if ((u = luser_of(*slot)) == NULL) {
		*n = 1;
		return (struct client *const *)slot;
	}
	*n = u->n;
	return u->v;
}

int
users_local_add(struct worker *w, struct client *c)
{
	void **slot = strmap_slot(&w->local_users, c->uid);
	struct luser *u;

	if (slot == NULL) {
		if (strmap_put(&w->local_users, c->uid, c) != 0)
			return -1;
	} else if ((u = luser_of(*slot)) == NULL) {
		/* A second connection: the list begins. */
		u = malloc(sizeof *u + 4 * sizeof u->v[0]);
		if (u == NULL)
			return -1;
		u->v[0] = *slot;
		u->v[1] = c;
		u->n = 2;
		u->cap = 4;
		*slot = (void *)((uintptr_t)u | LUSER_TAG);
	} else {
		if (u->n == u->cap) {
			struct luser *nu = realloc(u, sizeof *u +
			    2 * u->cap * sizeof u->v[0]);

			if (nu == NULL)
				return -1;
			u = nu;
			u->cap *= 2;
			*slot = (void *)((uintptr_t)u | LUSER_TAG);
		}
		u->v[u->n++] = c;
	}
	if (w->redis != NULL)	/* the owned-user counts live in Redis then */
		stat_set(&w->stats.users, (int64_t)w->local_users.count);
	return 0;
}

void
users_local_remove(struct worker *w, struct client *c)
{
	void **slot = strmap_slot(&w->local_users, c->uid);
	struct luser *u;
	uint32_t i;

	if (slot == NULL)
		return;
	if ((u = luser_of(*slot)) == NULL) {
		if (*slot == c)
			strmap_del(&w->local_users, c->uid);
	} else {
		for (i = 0; i < u->n; i++) {
			if (u->v[i] == c) {
				u->v[i] = u->v[--u->n];
				break;
			}
		}
		if (u->n == 1) {
			/* Back to one connection: no list. */
			*slot = u->v[0];
			free(u);
		}
	}
	if (w->redis != NULL)
		stat_set(&w->stats.users, (int64_t)w->local_users.count);
}

/* Frees one local user's list, if it has one (a strmap_each callback). */
static void
luser_free_cb(const char *key, void *value, void *arg)
{
	free(luser_of(value));
}

void
users_free(struct worker *w)
{
	strmap_free(&w->users);		/* the owned users are kept inline */
	strmap_each(&w->local_users, luser_free_cb, NULL);
	strmap_free(&w->local_users);
}
