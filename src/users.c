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
		r = calloc(1, sizeof *r +
		    (size_t)w->srv->nworkers * sizeof r->per[0]);
		if (r == NULL || strmap_put(&w->users, m->user, r) != 0) {
			free(r);
			r = NULL;
			action = ACT_AUTH_REFUSE;
		}
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
		free(strmap_del(&w->users, m->user));
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

int
users_local_add(struct worker *w, struct client *c)
{
	struct luser *u = strmap_get(&w->local_users, c->uid);
	struct client **v;

	if (u == NULL) {
		u = calloc(1, sizeof *u);
		if (u == NULL || strmap_put(&w->local_users, c->uid, u) != 0) {
			free(u);
			return -1;
		}
		u->v = &u->one;
		u->cap = 1;
	}
	if (u->n == u->cap) {
		uint32_t cap = u->cap * 2;

		if (u->v == &u->one) {
			v = malloc(cap * sizeof *v);
			if (v != NULL)
				v[0] = u->one;
		} else
			v = realloc(u->v, cap * sizeof *v);
		if (v == NULL) {
			if (u->n == 0)
				free(strmap_del(&w->local_users, c->uid));
			return -1;
		}
		u->v = v;
		u->cap = cap;
	}
	u->v[u->n++] = c;
	if (w->redis != NULL)	/* the owned-user counts live in Redis then */
		stat_set(&w->stats.users, (int64_t)w->local_users.count);
	return 0;
}

void
users_local_remove(struct worker *w, struct client *c)
{
	struct luser *u = strmap_get(&w->local_users, c->uid);
	uint32_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n; i++) {
		if (u->v[i] == c) {
			u->v[i] = u->v[--u->n];
			break;
		}
	}
	if (u->n == 0) {
		strmap_del(&w->local_users, c->uid);
		if (u->v != &u->one)
			free(u->v);
		free(u);
	}
	if (w->redis != NULL)
		stat_set(&w->stats.users, (int64_t)w->local_users.count);
}

/* Frees one owned user (a strmap_each callback). */
static void
ureg_free_cb(const char *key, void *value, void *arg)
{
	free(value);
}

/* Frees one local user (a strmap_each callback). */
static void
luser_free_cb(const char *key, void *value, void *arg)
{
	struct luser *u = value;

	if (u->v != &u->one)
		free(u->v);
	free(u);
}

void
users_free(struct worker *w)
{
	strmap_each(&w->users, ureg_free_cb, NULL);
	strmap_free(&w->users);
	strmap_each(&w->local_users, luser_free_cb, NULL);
	strmap_free(&w->local_users);
}
