/*
 * bus.c: the channels a worker owns: seq, history, members, fan-out.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "bus.h"
#include "bus-int.h"
#include "bus-redis.h"
#include "config.h"
#include "frame.h"
#include "history.h"
#include "inbox.h"
#include "jsonw.h"
#include "log.h"
#include "proto.h"
#include "server.h"
#include "strmap.h"
#include "worker.h"

/* Returns the channel named ch, creating it if create; NULL if absent or out of memory. */
struct channel *
bus_channel_get(struct worker *w, const char *ch, bool create)
{
	struct channel *chn = strmap_get(&w->channels, ch);

	if (chn != NULL || !create)
		return chn;
	chn = calloc(1, sizeof *chn +
	    (size_t)w->srv->nworkers * sizeof chn->wcount[0]);
	if (chn == NULL)
		return NULL;
	strcpy(chn->name, ch);
	history_init(&chn->hist, w->cfg->history_size);
	strmap_init(&chn->members);
	if (strmap_put(&w->channels, chn->name, chn) != 0) {
		free(chn);
		return NULL;
	}
	chn->active_ms = proto_now_ms();
	stat_set(&w->stats.channels, (int64_t)w->channels.count);
	return chn;
}

void
bus_channel_free(struct channel *chn)
{
	uint32_t i;

	while (chn->pending != NULL) {
		struct imsg *m = chn->pending;

		chn->pending = atomic_load_explicit(&m->next,
		    memory_order_relaxed);
		imsg_free(m);
	}
	for (i = 0; i < chn->nearly; i++)
		frame_unref(chn->early[i]);
	free(chn->early);
	history_free(&chn->hist);
	strmap_free(&chn->members);	/* the members are kept inline */
	free(chn);
}

/* Returns true once nobody is in chn and it has nothing left to remember. */
static bool
channel_forgettable(const struct worker *w, const struct channel *chn,
    int64_t now_ms)
{
	/* With Redis the seq lives there: only local state is dropped. */
	if (w->redis != NULL)
		return chn->nlocal == 0 && !chn->subscribed &&
		    chn->pending == NULL;
	/*
	 * The seq must not start again at 1 while clients may still hold a
	 * `since` from the old numbering: it is kept channel_ttl after the
	 * channel was last used.
	 */
	return chn->members.count == 0 && chn->hist.count == 0 &&
	    now_ms - chn->active_ms >= w->cfg->channel_ttl_ms;
}

/* Drops chn if it is forgettable. */
void
bus_channel_maybe_drop(struct worker *w, struct channel *chn)
{
	if (!channel_forgettable(w, chn, proto_now_ms()))
		return;
	strmap_del(&w->channels, chn->name);
	bus_channel_free(chn);
	stat_set(&w->stats.channels, (int64_t)w->channels.count);
}

void
bus_to_client(struct worker *w, int to, uint64_t client, int action,
    const char *ch, struct frame *f)
{
	struct imsg *m;

	if (f == NULL)
		return;
	m = imsg_new(IM_TO_CLIENT);
	if (m == NULL)
		return;
	m->action = (uint8_t)action;
	m->client = client;
	m->frame = frame_ref(f);
	if (ch != NULL)
		strcpy(m->ch, ch);
	worker_post(w, to, m);
}

/* Sends a freshly built frame (dropping the caller's reference) to m's sender. */
void
bus_reply(struct worker *w, const struct imsg *m, int action, struct frame *f)
{
	bus_to_client(w, m->worker, m->client, action, m->ch, f);
	frame_unref(f);
}

/* Sends err to m's sender. */
void
bus_reply_err(struct worker *w, const struct imsg *m, enum errcode code,
    const char *msg)
{
	worker_count_err(w, code);
	bus_reply(w, m, ACT_NONE, proto_err_frame(m->id, code, msg, -1, -1));
}

/* Sends f to every worker with members in chn (the caller keeps its reference). */
void
bus_fanout(struct worker *w, struct channel *chn, struct frame *f)
{
	bus_fanout_except(w, chn, f, NULL);
}

void
bus_fanout_except(struct worker *w, struct channel *chn, struct frame *f,
    const char *except)
{
	struct imsg *m;
	int i;

	for (i = 0; i < w->srv->nworkers; i++) {
		if (chn->wcount[i] == 0)
			continue;
		if (i == w->idx) {
			worker_deliver_channel(w, chn->name, f, except);
			continue;
		}
		m = imsg_new(IM_DELIVER);
		if (m == NULL) {
			log_err("out of memory: delivery to worker %d lost", i);
			continue;
		}
		strcpy(m->ch, chn->name);
		if (except != NULL)
			snprintf(m->user, sizeof m->user, "%s", except);
		m->frame = frame_ref(f);
		worker_post(w, i, m);
	}
}

/* Tells the members of chn that user (uid, name) joined or left. */
static void
presence(struct worker *w, struct channel *chn, const char *event,
    const char *uid, const char *name)
{
	struct frame *f;
	struct jsonw jw;

	jsonw_init(&jw);
	jsonw_lit(&jw, "{\"op\":\"presence\",\"ch\":");
	jsonw_cstr(&jw, chn->name);
	jsonw_lit(&jw, ",\"event\":\"");
	jsonw_lit(&jw, event);
	jsonw_lit(&jw, "\",\"user\":{\"id\":");
	jsonw_cstr(&jw, uid);
	jsonw_lit(&jw, ",\"name\":");
	jsonw_cstr(&jw, name);
	jsonw_lit(&jw, "}}");
	f = jw.failed ? NULL : frame_text(jw.buf, jw.len);
	jsonw_free(&jw);
	if (f != NULL)
		bus_fanout_except(w, chn, f, uid);
	frame_unref(f);
}

/* Starts a reply frame: {"op":OP,"id":ID,"ch":CH */
void
bus_reply_head(struct jsonw *jw, const char *op, const struct imsg *m)
{
	jsonw_lit(jw, "{\"op\":\"");
	jsonw_lit(jw, op);
	jsonw_lit(jw, "\"");
	if (m->id[0] != '\0') {
		jsonw_lit(jw, ",\"id\":");
		jsonw_lit(jw, m->id);
	}
	jsonw_lit(jw, ",\"ch\":");
	jsonw_cstr(jw, m->ch);
}

/*
 * Sends history entries [first, first+n) of chn to m's sender.  jw already
 * holds the first frame up to and including "msgs":[ ; tail is appended to
 * the first frame after the array.  Entries go in as many frames as
 * frame_max needs; every frame but the last says "more":true, and the
 * frames after the first are history frames.  The first frame carries
 * action.
 */
void
bus_send_msgs(struct worker *w, const struct imsg *m, struct channel *chn,
    struct jsonw *jw, const char *tail, int first, int n, int action)
{
	size_t limit = (size_t)w->cfg->frame_max;
	int i, in_frame = 0;
	bool first_frame = true;

	for (i = first; i < first + n; i++) {
		struct frame *e = history_at(&chn->hist, i);
		size_t need = frame_payload_len(e) + 1 + 64 +
		    (first_frame ? strlen(tail) : 0);

		if (in_frame > 0 && jw->len + need > limit) {
			jsonw_lit(jw, "]");
			if (first_frame)
				jsonw_lit(jw, tail);
			jsonw_lit(jw, ",\"more\":true}");
			if (!jw->failed)
				bus_reply(w, m, first_frame ? action : ACT_NONE,
				    frame_text(jw->buf, jw->len));
			first_frame = false;
			jsonw_reset(jw);
			bus_reply_head(jw, "history", m);
			jsonw_lit(jw, ",\"msgs\":[");
			in_frame = 0;
		}
		if (in_frame++ > 0)
			jsonw_lit(jw, ",");
		jsonw_raw(jw, frame_payload(e), frame_payload_len(e));
	}
	jsonw_lit(jw, "]");
	if (first_frame)
		jsonw_lit(jw, tail);
	jsonw_lit(jw, ",\"more\":false}");
	if (!jw->failed)
		bus_reply(w, m, first_frame ? action : ACT_NONE,
		    frame_text(jw->buf, jw->len));
	else
		bus_reply_err(w, m, ERR_INTERNAL, "out of memory");
}

static void
handle_join(struct worker *w, struct imsg *m)
{
	struct channel *chn = bus_channel_get(w, m->ch, true);
	int action = m->flag ? ACT_NONE : ACT_ACTIVATE;
	struct cmember *cm;

	if (chn == NULL) {
		bus_reply_err(w, m, ERR_INTERNAL, "out of memory");
		return;
	}
	if (!m->flag) {
		cm = strmap_get(&chn->members, m->user);
		if (cm == NULL) {
			cm = strmap_put_inline(&chn->members, m->user,
			    sizeof *cm + strlen(m->name) + 1);
			if (cm == NULL) {
				bus_channel_maybe_drop(w, chn);
				bus_reply_err(w, m, ERR_INTERNAL, "out of memory");
				return;
			}
			strcpy(cm->name, m->name);
			if (chn->members.count <=
			    (size_t)w->cfg->presence_events_max)
				presence(w, chn, "join", m->user, m->name);
		}
		cm->conns++;
		chn->wcount[m->worker]++;
		chn->active_ms = proto_now_ms();
	}

	bus_joined_reply(w, m, chn, chn->members.count, action);
}

void
bus_joined_reply(struct worker *w, const struct imsg *m, struct channel *chn,
    uint64_t members, int action)
{
	struct jsonw jw;
	int first = 0, n = 0;
	bool complete = true;

	history_expire(&chn->hist, proto_now_ms(), w->cfg->history_ttl_ms);
	if (m->since >= 0 || m->count > 0)
		n = history_select(&chn->hist, m->since, m->count,
		    chn->hist.cap, chn->seq, &first, &complete);

	jsonw_init(&jw);
	bus_reply_head(&jw, "joined", m);
	jsonw_lit(&jw, ",\"seq\":");
	jsonw_uint(&jw, chn->seq);
	jsonw_lit(&jw, ",\"members\":");
	jsonw_uint(&jw, members);
	if (m->since < 0 && m->count <= 0) {
		jsonw_lit(&jw, "}");
		if (!jw.failed)
			bus_reply(w, m, action, frame_text(jw.buf, jw.len));
		jsonw_free(&jw);
		return;
	}
	jsonw_lit(&jw, ",\"msgs\":[");
	bus_send_msgs(w, m, chn, &jw, m->since >= 0 ? (complete ?
	    ",\"recovered\":true" : ",\"recovered\":false") : "", first, n,
	    action);
	jsonw_free(&jw);
}

static void
handle_leave(struct worker *w, struct imsg *m)
{
	struct channel *chn = bus_channel_get(w, m->ch, false);
	struct cmember *cm;

	if (chn == NULL)
		return;
	if (chn->wcount[m->worker] > 0)
		chn->wcount[m->worker]--;
	chn->active_ms = proto_now_ms();
	cm = strmap_get(&chn->members, m->user);
	if (cm != NULL && --cm->conns == 0) {
		if (chn->members.count <= (size_t)w->cfg->presence_events_max)
			presence(w, chn, "leave", m->user, cm->name);
		strmap_del(&chn->members, m->user);	/* frees cm */
	}
	bus_channel_maybe_drop(w, chn);
}

static void
handle_publish(struct worker *w, struct imsg *m)
{
	struct channel *chn = bus_channel_get(w, m->ch, false);
	struct frame *f;
	struct jsonw jw;
	int64_t ts;

	if (chn == NULL) {
		bus_reply_err(w, m, ERR_NOT_MEMBER, "not in this channel");
		return;
	}
	ts = proto_now_ms();
	jsonw_init(&jw);
	jsonw_lit(&jw, "{\"op\":\"msg\",\"seq\":");
	jsonw_uint(&jw, chn->seq + 1);
	jsonw_lit(&jw, ",\"ts\":");
	jsonw_int(&jw, ts);
	jsonw_lit(&jw, ",");
	jsonw_raw(&jw, m->body, m->body_len);
	f = jw.failed ? NULL : frame_text(jw.buf, jw.len);
	jsonw_free(&jw);
	if (f == NULL) {
		bus_reply_err(w, m, ERR_INTERNAL, "out of memory");
		return;
	}
	f->seq = ++chn->seq;
	f->ts = ts;
	chn->active_ms = ts;
	stat_add(&w->stats.published, 1);
	if (m->t0 != 0)
		stats_latency(&w->stats, uv_hrtime() - m->t0);
	history_expire(&chn->hist, ts, w->cfg->history_ttl_ms);
	history_push(&chn->hist, f);
	bus_fanout(w, chn, f);
	frame_unref(f);

	jsonw_init(&jw);
	bus_reply_head(&jw, "ok", m);
	jsonw_lit(&jw, ",\"seq\":");
	jsonw_uint(&jw, chn->seq);
	jsonw_lit(&jw, ",\"ts\":");
	jsonw_int(&jw, ts);
	jsonw_lit(&jw, "}");
	if (!jw.failed)
		bus_reply(w, m, ACT_NONE, frame_text(jw.buf, jw.len));
	jsonw_free(&jw);
}

static void
handle_history(struct worker *w, struct imsg *m)
{
	struct channel *chn = bus_channel_get(w, m->ch, false);

	if (chn == NULL) {
		bus_reply_err(w, m, ERR_NO_SUCH_CHANNEL, "no such channel");
		return;
	}
	bus_history_reply(w, m, chn);
	bus_channel_maybe_drop(w, chn);
}

void
bus_history_reply(struct worker *w, const struct imsg *m,
    struct channel *chn)
{
	struct jsonw jw;
	int first, n;

	history_expire(&chn->hist, proto_now_ms(), w->cfg->history_ttl_ms);
	n = history_select(&chn->hist, m->since, m->count, m->count, chn->seq,
	    &first, NULL);
	jsonw_init(&jw);
	bus_reply_head(&jw, "history", m);
	jsonw_lit(&jw, ",\"msgs\":[");
	bus_send_msgs(w, m, chn, &jw, "", first, n, ACT_NONE);
	jsonw_free(&jw);
}

/* State for listing members into a who reply. */
struct who_ctx {
	struct jsonw *jw;
	size_t limit;
	size_t listed;
};

/* Appends one member while it fits (a strmap_each callback). */
static void
who_add(const char *uid, void *value, void *arg)
{
	struct who_ctx *wc = arg;
	struct cmember *cm = value;
	size_t mark = wc->jw->len;

	if (wc->jw->len + 6 * (strlen(uid) + strlen(cm->name)) + 40 >
	    wc->limit)
		return;
	if (wc->listed > 0)
		jsonw_lit(wc->jw, ",");
	jsonw_lit(wc->jw, "{\"id\":");
	jsonw_cstr(wc->jw, uid);
	jsonw_lit(wc->jw, ",\"name\":");
	jsonw_cstr(wc->jw, cm->name);
	jsonw_lit(wc->jw, "}");
	if (wc->jw->len > wc->limit)
		wc->jw->len = mark;
	else
		wc->listed++;
}

static void
handle_who(struct worker *w, struct imsg *m)
{
	struct channel *chn = bus_channel_get(w, m->ch, false);
	struct who_ctx wc;
	struct jsonw jw;

	if (chn == NULL) {
		bus_reply_err(w, m, ERR_NO_SUCH_CHANNEL, "no such channel");
		return;
	}
	jsonw_init(&jw);
	bus_reply_head(&jw, "who", m);
	jsonw_lit(&jw, ",\"members\":[");
	wc.jw = &jw;
	wc.limit = (size_t)w->cfg->frame_max - 48;
	wc.listed = 0;
	strmap_each(&chn->members, who_add, &wc);
	jsonw_lit(&jw, "],\"count\":");
	jsonw_uint(&jw, chn->members.count);
	jsonw_lit(&jw, "}");
	if (!jw.failed)
		bus_reply(w, m, ACT_NONE, frame_text(jw.buf, jw.len));
	jsonw_free(&jw);
}

void
bus_handle(struct worker *w, struct imsg *m)
{
	if (w->redis != NULL && m->type != IM_PUBLISH) {
		bus_redis_channel(w, m);	/* takes m */
		return;
	}
	switch (m->type) {
	case IM_JOIN:
		handle_join(w, m);
		break;
	case IM_LEAVE:
		handle_leave(w, m);
		break;
	case IM_PUBLISH:
		handle_publish(w, m);
		break;
	case IM_HISTORY:
		handle_history(w, m);
		break;
	case IM_WHO:
		handle_who(w, m);
		break;
	}
	imsg_free(m);
}

/* State for one sweep over the owned channels. */
struct sweep_ctx {
	struct worker *w;
	int64_t now;
	struct channel **drop;
	size_t ndrop, cap;
};

/* Expires one channel's history and notes it for dropping (a strmap_each callback). */
static void
sweep_one(const char *key, void *value, void *arg)
{
	struct sweep_ctx *sc = arg;
	struct channel *chn = value;
	struct channel **d;

	history_expire(&chn->hist, sc->now, sc->w->cfg->history_ttl_ms);
	if (!channel_forgettable(sc->w, chn, sc->now))
		return;
	if (sc->ndrop == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 16;
		d = realloc(sc->drop, sc->cap * sizeof *d);
		if (d == NULL)
			return;
		sc->drop = d;
	}
	sc->drop[sc->ndrop++] = chn;
}

void
bus_sweep(struct worker *w, int64_t now_ms)
{
	struct sweep_ctx sc = { w, now_ms, NULL, 0, 0 };
	size_t i;

	strmap_each(&w->channels, sweep_one, &sc);
	for (i = 0; i < sc.ndrop; i++) {
		strmap_del(&w->channels, sc.drop[i]->name);
		bus_channel_free(sc.drop[i]);
	}
	stat_set(&w->stats.channels, (int64_t)w->channels.count);
	free(sc.drop);
}

/* Frees one channel (a strmap_each callback). */
static void
channel_free_cb(const char *key, void *value, void *arg)
{
	bus_channel_free(value);
}

void
bus_free(struct worker *w)
{
	strmap_each(&w->channels, channel_free_cb, NULL);
	strmap_free(&w->channels);
}
