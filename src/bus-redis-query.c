/*
 * bus-redis-query.c: the questions about a channel that Redis answers:
 * history (from the owner's ring when it follows the channel, else read
 * from Redis into a temporary ring) and who (the cluster's members).
 */
#include <stdlib.h>
#include <string.h>

#include "bus-int.h"
#include "bus-redis-int.h"
#include "config.h"
#include "deliver.h"
#include "frame.h"
#include "history.h"
#include "msg.h"
#include "proto.h"
#include "reply.h"
#include "worker.h"

/* A history read for a channel this instance does not follow. */
static void
on_history(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct op_ctx *x = priv;
	struct worker *w = x->w;
	struct im_query *m = x->m;
	struct history h;
	size_t i;

	free(x);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_UNAVAILABLE,
		    "the cluster bus is down");
		msg_free(&m->hdr);
		return;
	}
	if (reply_int(r->element[0], 0) == 0 && r->element[1]->elements == 0) {
		deliver_reply_err(w, &m->from, ACT_NONE, NULL,
		    ERR_NO_SUCH_CHANNEL, "no such channel");
		msg_free(&m->hdr);
		return;
	}
	/* A temporary ring holding what Redis keeps, for the usual reply. */
	history_init(&h, (int)r->element[1]->elements);
	for (i = 0; i < r->element[1]->elements; i++) {
		redisReply *e = r->element[1]->element[i];
		struct frame *f;

		if (e->type != REDIS_REPLY_STRING)
			continue;
		f = bus_redis_payload_frame(e->str, e->len);
		if (f != NULL)
			history_push(&h, f);
		frame_unref(f);
	}
	bus_answer_history(w, m, &h, (uint64_t)reply_int(r->element[0], 0),
	    r->element[2]->type == REDIS_REPLY_STRING ? r->element[2]->str :
	    NULL);
	history_free(&h);
	msg_free(&m->hdr);
}

void
bus_redis_history(struct worker *w, struct im_query *m)
{
	struct rchan *chn = bus_redis_chan_get(w, m->ch, false);
	char kseq[128], khist[128], kep[128];
	const char *argv[3];
	struct op_ctx *x;

	if (chn != NULL && chn->synced) {
		bus_answer_history(w, m, &chn->hist, chn->seq, chn->epoch);
		msg_free(&m->hdr);
		return;
	}
	x = malloc(sizeof *x);
	argv[0] = key(kseq, sizeof kseq, "seq", m->ch);
	argv[1] = key(khist, sizeof khist, "hist", m->ch);
	argv[2] = key(kep, sizeof kep, "epoch", m->ch);
	if (x == NULL) {
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_INTERNAL,
		    "out of memory");
		msg_free(&m->hdr);
		return;
	}
	x->w = w;
	x->m = m;
	if (bus_redis_run(w, S_HISTORY, on_history, x, 3, 3, argv) != 0) {
		free(x);
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_UNAVAILABLE,
		    "the cluster bus is down");
		msg_free(&m->hdr);
	}
}

/* The cluster's members of a channel: {count, {uid, name, ...}}. */
static void
on_who(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct op_ctx *x = priv;
	struct worker *w = x->w;
	struct im_query *m = x->m;
	struct reply_member *v;
	size_t i, n = 0;
	redisReply *list;
	uint64_t count;

	free(x);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_UNAVAILABLE,
		    "the cluster bus is down");
		msg_free(&m->hdr);
		return;
	}
	list = r->element[1];
	count = (uint64_t)reply_int(r->element[0], 0);
	if (count == 0 && bus_redis_chan_get(w, m->ch, false) == NULL) {
		deliver_reply_err(w, &m->from, ACT_NONE, NULL,
		    ERR_NO_SUCH_CHANNEL, "no such channel");
		msg_free(&m->hdr);
		return;
	}
	v = calloc(list->elements / 2 + 1, sizeof *v);
	if (v == NULL) {
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_INTERNAL,
		    "out of memory");
		msg_free(&m->hdr);
		return;
	}
	for (i = 0; i + 1 < list->elements; i += 2) {
		redisReply *u = list->element[i], *nm = list->element[i + 1];

		if (u->type != REDIS_REPLY_STRING ||
		    nm->type != REDIS_REPLY_STRING)
			continue;
		v[n].id = u->str;
		v[n].id_len = u->len;
		v[n].name = nm->str;
		v[n].name_len = nm->len;
		n++;
	}
	deliver_reply(w, &m->from, ACT_NONE, NULL, reply_who(m->from.id, m->ch,
	    v, n, count, (size_t)w->cfg->frame_max));
	free(v);
	msg_free(&m->hdr);
}

void
bus_redis_who(struct worker *w, struct im_query *m)
{
	struct op_ctx *x = malloc(sizeof *x);
	char kn[128];
	const char *argv[1];

	if (x == NULL) {
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_INTERNAL,
		    "out of memory");
		msg_free(&m->hdr);
		return;
	}
	x->w = w;
	x->m = m;
	argv[0] = key(kn, sizeof kn, "memn", m->ch);
	if (bus_redis_run(w, S_WHO, on_who, x, 1, 1, argv) != 0) {
		free(x);
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_UNAVAILABLE,
		    "the cluster bus is down");
		msg_free(&m->hdr);
	}
}
