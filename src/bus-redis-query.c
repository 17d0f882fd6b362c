/*
 * bus-redis-query.c: the questions about a channel that Redis answers:
 * history (from the owner's ring when it follows the channel, else read
 * from Redis) and who (the cluster's members).
 */
#include <stdlib.h>
#include <string.h>

#include "bus-int.h"
#include "bus-redis-int.h"
#include "bus.h"
#include "config.h"
#include "frame.h"
#include "history.h"
#include "inbox.h"
#include "jsonw.h"
#include "proto.h"
#include "server.h"
#include "worker.h"

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
		f = bus_redis_payload_frame(e->str, e->len);
		if (f != NULL)
			history_push(&tmp->hist, f);
		frame_unref(f);
	}
	tmp->seq = (uint64_t)reply_int(r->element[0], 0);
	bus_history_reply(w, m, tmp);
	bus_channel_free(tmp);
	imsg_free(m);
}

void
bus_redis_history(struct worker *w, struct imsg *m)
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
	if (bus_redis_run(w, S_HISTORY, on_history, x, 2, 2, argv) != 0) {
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
	jsonw_init(&jw);
	bus_reply_head(&jw, "who", m);
	jsonw_lit(&jw, ",\"members\":[");
	for (i = 0; i + 1 < list->elements; i += 2) {
		redisReply *u = list->element[i], *n = list->element[i + 1];
		size_t mark = jw.len;

		if (u->type != REDIS_REPLY_STRING ||
		    n->type != REDIS_REPLY_STRING)
			continue;
		if (listed > 0)
			jsonw_lit(&jw, ",");
		jsonw_lit(&jw, "{\"id\":");
		jsonw_str(&jw, u->str, u->len);
		jsonw_lit(&jw, ",\"name\":");
		jsonw_str(&jw, n->str, n->len);
		jsonw_lit(&jw, "}");
		if (jw.len > limit) {
			jw.len = mark;
			break;
		}
		listed++;
	}
	jsonw_lit(&jw, "],\"count\":");
	jsonw_int(&jw, reply_int(r->element[0], 0));
	jsonw_lit(&jw, "}");
	if (!jw.failed)
		bus_reply(w, m, ACT_NONE, frame_text(jw.buf, jw.len));
	jsonw_free(&jw);
	imsg_free(m);
}

void
bus_redis_who(struct worker *w, struct imsg *m)
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
	if (bus_redis_run(w, S_WHO, on_who, x, 1, 1, argv) != 0) {
		free(x);
		bus_reply_err(w, m, ERR_UNAVAILABLE, "the cluster bus is down");
		imsg_free(m);
	}
}
