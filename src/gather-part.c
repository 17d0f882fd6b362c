/*
 * gather-part.c: a worker's part of the answer to a moderators' question
 * (see gather.h): its connections, users, channels and message rates, its
 * busiest rooms, a user's sessions here, sent to the asker through the bus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "bus.h"
#include "client.h"
#include "control.h"
#include "gather.h"
#include "gather-int.h"
#include "jsonw.h"
#include "log.h"
#include "relay.h"
#include "room.h"
#include "worker.h"

struct gathers *
gather_state(struct worker *w)
{
	if (w->gathers == NULL)
		w->gathers = calloc(1, sizeof *w->gathers);
	return w->gathers;
}

/* ---------------------------------------------------------- the rates */

void
gather_sample(struct worker *w, struct gathers *gs, int64_t now)
{
	int i = (gs->head + gs->count) % RATE_SAMPLES;

	if (gs->count > 0 &&
	    now - gs->t[(gs->head + gs->count - 1) % RATE_SAMPLES] <
	    RATE_PERIOD_MS)
		return;
	if (gs->count == RATE_SAMPLES) {
		gs->head = (gs->head + 1) % RATE_SAMPLES;
		i = (gs->head + RATE_SAMPLES - 1) % RATE_SAMPLES;
	} else
		gs->count++;
	gs->t[i] = now;
	gs->in[i] = atomic_load_explicit(&w->stats.published,
	    memory_order_relaxed);
	gs->out[i] = atomic_load_explicit(&w->stats.delivered,
	    memory_order_relaxed);
}

/* This worker's messages in and out per second, over the samples kept. */
static void
rates(const struct gathers *gs, double *in, double *out)
{
	int a = gs->head, b = (gs->head + gs->count - 1) % RATE_SAMPLES;
	double dt;

	*in = *out = 0;
	if (gs->count < 2 || (dt = (double)(gs->t[b] - gs->t[a]) / 1000) <= 0)
		return;
	*in = (double)(gs->in[b] - gs->in[a]) / dt;
	*out = (double)(gs->out[b] - gs->out[a]) / dt;
}

/* ------------------------------------------------------ a worker's part */

/* Starts a part: {"qid":Q,"nk":NK,"node":N,"worker":I,"workers":W. */
static void
part_begin(struct jsonw *jw, struct worker *w, int64_t qid)
{
	jsonw_init(jw);
	jsonw_lit(jw, "{\"qid\":");
	jsonw_int(jw, qid);
	jsonw_lit(jw, ",\"nk\":");
	jsonw_cstr(jw, w->relay->node_key);
	jsonw_lit(jw, ",\"node\":");
	jsonw_cstr(jw, w->relay->node);
	jsonw_lit(jw, ",\"worker\":");
	jsonw_int(jw, w->idx);
	jsonw_lit(jw, ",\"workers\":");
	jsonw_int(jw, w->relay->nworkers);
}

/* Writes a double with 2 decimals. */
static void
put_rate(struct jsonw *jw, double v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%.2f", v);
	jsonw_lit(jw, buf);
}

/* stats: this worker's connections, owned users and channels, rates. */
static void
part_stats(struct worker *w, struct jsonw *jw)
{
	struct gathers *gs = gather_state(w);
	double in = 0, out = 0;

	if (gs != NULL)
		rates(gs, &in, &out);
	jsonw_lit(jw, ",\"conns\":");
	jsonw_uint(jw, w->clients.count);
	jsonw_lit(jw, ",\"users\":");
	jsonw_int(jw, atomic_load(&w->stats.users));
	jsonw_lit(jw, ",\"channels\":");
	jsonw_int(jw, atomic_load(&w->stats.channels));
	jsonw_lit(jw, ",\"in\":");
	put_rate(jw, in);
	jsonw_lit(jw, ",\"out\":");
	put_rate(jw, out);
	jsonw_lit(jw, ",\"bus\":");
	jsonw_cstr(jw, w->relay->hooks->health(w->relay));
}

/* The rooms of a worker with their members, for part_channels. */
struct room_list {
	const char *prefix;
	size_t plen;
	struct room **v;
	size_t n, cap;
};

static void
collect_room(const char *key, void *value, void *arg)
{
	struct room_list *l = arg;
	struct room *r = value;
	void *v;

	if (r->n == 0 || strncmp(key, l->prefix, l->plen) != 0)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((v = realloc(l->v, l->cap * sizeof *l->v)) == NULL) {
			l->cap = l->n;
			return;
		}
		l->v = v;
	}
	l->v[l->n++] = r;
}

/* Busiest first, then by name. */
static int
by_members(const void *a, const void *b)
{
	const struct room *x = *(struct room *const *)a;
	const struct room *y = *(struct room *const *)b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* channels: this worker's busiest channels (local members, last seq seen). */
static void
part_channels(struct worker *w, struct jsonw *jw, const struct command *cmd)
{
	struct room_list l = { cmd->prefix != NULL ? cmd->prefix : "", 0,
	    NULL, 0, 0 };
	size_t i, cap;

	l.plen = strlen(l.prefix);
	strmap_each(&w->rooms.rooms, collect_room, &l);
	if (l.n > 1)
		qsort(l.v, l.n, sizeof *l.v, by_members);
	/*
	 * More than asked, so that a channel spread over several workers
	 * ranks by its sum; bounded so a part stays well under PART_MAX.
	 */
	cap = (size_t)cmd->limit * 4 < PART_CHANNELS_MAX ?
	    (size_t)cmd->limit * 4 : PART_CHANNELS_MAX;
	jsonw_lit(jw, ",\"chs\":[");
	for (i = 0; i < l.n && i < cap; i++) {
		jsonw_lit(jw, i ? ",[" : "[");
		jsonw_cstr(jw, l.v[i]->name);
		jsonw_lit(jw, ",");
		jsonw_uint(jw, l.v[i]->n);
		jsonw_lit(jw, ",");
		jsonw_uint(jw, l.v[i]->last_seq);
		jsonw_lit(jw, "]");
	}
	jsonw_lit(jw, "]");
	free(l.v);
}

/* user: the user's connections on this worker, with their channels. */
static void
part_user(struct worker *w, struct jsonw *jw, const struct command *cmd)
{
	struct client *const *v;
	uint32_t i, j, n, k;

	v = user_index_get(&w->users, cmd->user, &n);
	jsonw_lit(jw, ",\"sessions\":[");
	for (i = 0; i < n; i++) {
		const struct client *c = v[i];

		jsonw_lit(jw, i ? ",{\"session\":" : "{\"session\":");
		jsonw_uint(jw, client_id(c));
		jsonw_lit(jw, ",\"name\":");
		jsonw_cstr(jw, client_name(c));
		jsonw_lit(jw, ",\"role\":");
		jsonw_cstr(jw, auth_role_name(c->role));
		jsonw_lit(jw, c->admin_path ? ",\"admin\":true" :
		    ",\"admin\":false");
		jsonw_lit(jw, ",\"channels\":[");
		for (j = k = 0; j < c->rooms.n; j++) {
			const struct room_link *rl = &c->rooms.links[j];

			if (rl->room == NULL || !rl->active)
				continue;
			if (k++)
				jsonw_lit(jw, ",");
			jsonw_cstr(jw, rl->room->name);
		}
		jsonw_lit(jw, "]}");
	}
	jsonw_lit(jw, "]");
}

void
gather_on_query(struct worker *w, const struct command *cmd)
{
	struct jsonw jw;

	part_begin(&jw, w, cmd->qid);
	switch (cmd->q) {
	case Q_STATS:
		part_stats(w, &jw);
		break;
	case Q_CHANNELS:
		part_channels(w, &jw, cmd);
		break;
	default:
		part_user(w, &jw, cmd);
		break;
	}
	jsonw_lit(&jw, "}");
	if (jw.failed || jw.len > PART_MAX)
		log_warn("a part of an answer to a moderator could not be "
		    "made (%s)", jw.failed ? "out of memory" : "too long");
	else
		bus_answer(w, cmd->nk, (int)cmd->worker, jw.buf, jw.len);
	jsonw_free(&jw);
}
