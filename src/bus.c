/*
 * bus.c: what every bus shares: routing a request to the worker that
 * handles it, the dispatch table's entries into the bus chosen at start,
 * channel members, and answers built from a history ring (bus-int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "bus-int.h"
#include "config.h"
#include "deliver.h"
#include "frame.h"
#include "history.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "reply.h"
#include "strmap.h"
#include "worker.h"

const struct bus_ops *
bus_choose(const struct relay *r)
{
	return r->cfg.redis[0] != '\0' || r->cfg.redis_sentinel[0] != '\0' ?
	    &bus_redis_ops : &bus_local_ops;
}

/* The ops of the bus w runs. */
static const struct bus_ops *
ops(const struct worker *w)
{
	return w->relay->bus;
}

/* ------------------------------------------------------------ routing */

void
bus_join(struct worker *w, struct im_join *m)
{
	worker_post(w, worker_owner(w, m->ch), &m->hdr);
}

void
bus_leave(struct worker *w, struct im_leave *m)
{
	worker_post(w, worker_owner(w, m->ch), &m->hdr);
}

void
bus_publish(struct worker *w, struct im_publish *m)
{
	if (ops(w)->publish_here)
		ops(w)->publish(w, m);
	else
		worker_post(w, worker_owner(w, m->ch), &m->hdr);
}

void
bus_history(struct worker *w, struct im_query *m)
{
	worker_post(w, worker_owner(w, m->ch), &m->hdr);
}

void
bus_who(struct worker *w, struct im_query *m)
{
	worker_post(w, worker_owner(w, m->ch), &m->hdr);
}

void
bus_attach(struct worker *w, struct im_attach *m)
{
	worker_post(w, worker_owner(w, m->user), &m->hdr);
}

void
bus_detach(struct worker *w, struct im_detach *m)
{
	worker_post(w, worker_owner(w, m->user), &m->hdr);
}

void
bus_whisper(struct worker *w, struct im_whisper *m)
{
	worker_post(w, worker_owner(w, m->to), &m->hdr);
}

void
bus_control(struct worker *w, uint64_t client, const char *id,
    const char *cmd, size_t len, const struct store_change *chg,
    bool answer)
{
	static const struct store_change none = { STORE_NONE, "", 0, 0 };

	ops(w)->control(w, client, id, cmd, len, chg != NULL ? chg : &none,
	    answer);
}

void
bus_state_save(struct worker *w, const char *const *cmds,
    const size_t *lens, const struct store_change *chgs, size_t n,
    bool restore)
{
	ops(w)->state_save(w, cmds, lens, chgs, n, restore);
}

void
bus_watch(struct worker *w, const char *pattern, bool on)
{
	ops(w)->watch(w, pattern, on);
}

void
bus_answer(struct worker *w, const char *nk, int to, const char *text,
    size_t len)
{
	ops(w)->answer(w, nk, to, text, len);
}

void
bus_nodes(struct worker *w, bus_nodes_cb cb, void *arg)
{
	ops(w)->nodes(w, cb, arg);
}

void
bus_forget(struct worker *w, const char *ch, uint64_t seq)
{
	ops(w)->forget(w, ch, seq);
}

/* ---------------------------------------------- the dispatch table's entries */

void
bus_on_join(struct worker *w, struct imsg *m)
{
	ops(w)->join(w, (struct im_join *)m);
}

void
bus_on_leave(struct worker *w, struct imsg *m)
{
	ops(w)->leave(w, (struct im_leave *)m);
}

void
bus_on_publish(struct worker *w, struct imsg *m)
{
	ops(w)->publish(w, (struct im_publish *)m);
}

void
bus_on_history(struct worker *w, struct imsg *m)
{
	ops(w)->history(w, (struct im_query *)m);
}

void
bus_on_who(struct worker *w, struct imsg *m)
{
	ops(w)->who(w, (struct im_query *)m);
}

void
bus_on_attach(struct worker *w, struct imsg *m)
{
	ops(w)->attach(w, (struct im_attach *)m);
}

void
bus_on_detach(struct worker *w, struct imsg *m)
{
	ops(w)->detach(w, (struct im_detach *)m);
}

void
bus_on_whisper(struct worker *w, struct imsg *m)
{
	ops(w)->whisper(w, (struct im_whisper *)m);
}

void
bus_on_message(struct worker *w, struct imsg *m)
{
	ops(w)->message(w, (struct im_bus *)m);
}

/* ------------------------------------------------------------ members */

int
bus_member_add(struct strmap *members, const char *uid, const char *name)
{
	struct cmember *cm = strmap_get(members, uid);

	if (cm != NULL) {
		cm->conns++;
		return 0;
	}
	cm = strmap_put_inline(members, uid, sizeof *cm + strlen(name) + 1);
	if (cm == NULL)
		return -1;
	strcpy(cm->name, name);
	cm->conns = 1;
	return 1;
}

int
bus_member_remove(struct strmap *members, const char *uid, char *name,
    size_t name_len)
{
	struct cmember *cm = strmap_get(members, uid);

	if (cm == NULL)
		return -1;
	if (--cm->conns > 0)
		return 0;
	if (name != NULL)
		snprintf(name, name_len, "%s", cm->name);
	strmap_del(members, uid);	/* frees cm */
	return 1;
}

/* ------------------------------------------------------------ epochs */

void
bus_new_epoch(struct worker *w, char *epoch)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t r = ((uint64_t)worker_random(w) << 32) ^ worker_random(w) ^
	    (uint64_t)proto_now_ms();
	int i;

	/* 12 hex digits: 48 random bits, far from PROTO_EPOCH_MAX. */
	for (i = 0; i < 12; i++, r >>= 4)
		epoch[i] = hex[r & 15];
	epoch[12] = '\0';
}

/* ------------------------------------------------------------ sweeping */

#define SWEEP_FIRST 16		/* room for channels to drop in one sweep */

/* One sweep over a map of channels (see bus_sweep). */
struct sweep {
	bool (*expired)(void *chn, void *arg);
	void *arg;
	void **drop;
	size_t ndrop, cap;
};

/* Notes a channel that can go (a strmap_each callback). */
static void
sweep_one(const char *key, void *value, void *arg)
{
	struct sweep *sw = arg;
	size_t cap;
	void **d;

	if (!sw->expired(value, sw->arg))
		return;
	if (sw->ndrop == sw->cap) {
		/* The capacity grows only once the realloc succeeded. */
		cap = sw->cap ? sw->cap * 2 : SWEEP_FIRST;
		d = realloc(sw->drop, cap * sizeof *d);
		if (d == NULL)
			return;		/* dropped at a later sweep */
		sw->drop = d;
		sw->cap = cap;
	}
	sw->drop[sw->ndrop++] = value;
}

void
bus_sweep(struct strmap *channels, bool (*expired)(void *chn, void *arg),
    void (*drop)(void *chn, void *arg), void *arg)
{
	struct sweep sw = { expired, arg, NULL, 0, 0 };
	size_t i;

	/* Dropping changes the map: note first, drop after the walk. */
	strmap_each(channels, sweep_one, &sw);
	for (i = 0; i < sw.ndrop; i++)
		drop(sw.drop[i], arg);
	free(sw.drop);
}

/* ------------------------------------------------------------ answers */

/*
 * Where a multi-frame answer goes: the asker, the first frame with an
 * action and, for a joined answer, the channel's seq.
 */
struct answer {
	struct worker *w;
	const struct origin *to;
	const char *ch;
	int action;
	uint64_t seq;
};

/* A reply_emit: sends one frame of the answer. */
static void
answer_emit(void *arg, struct frame *f, bool first)
{
	struct answer *a = arg;

	if (first)
		f->seq = a->seq;	/* the asker's worker notes it (room_seen) */
	deliver_reply(a->w, a->to, first ? a->action : ACT_NONE, a->ch, f);
}

/* Returns true if a request's since is from another numbering than epoch. */
static bool
other_epoch(const char *asked, const char *epoch)
{
	return asked[0] != '\0' && epoch != NULL && strcmp(asked, epoch) != 0;
}

void
bus_answer_joined(struct worker *w, const struct im_join *m,
    struct history *h, uint64_t seq, const char *epoch, uint64_t members,
    int action)
{
	struct answer a = { w, &m->from, m->ch, action, seq };
	bool with_msgs = m->since >= 0 || m->history > 0;
	bool complete = true, other = other_epoch(m->epoch, epoch);
	int first = 0, n = 0;

	history_expire(h, proto_now_ms(), w->cfg->history_ttl_ms);
	/*
	 * A since from another numbering says nothing about this one: the
	 * client gets all that is kept, and is told it may have lost some.
	 */
	if (with_msgs)
		n = history_select(h, other ? 0 : m->since, m->history, h->cap,
		    seq, &first, &complete);
	if (other)
		complete = false;
	if (reply_joined(answer_emit, &a, m->from.id, m->ch, seq, epoch, members,
	    with_msgs, h, first, n, m->since < 0 ? RECOVERED_NONE :
	    complete ? RECOVERED_YES : RECOVERED_NO,
	    (size_t)w->cfg->frame_max) != 0)
		deliver_reply_err(w, &m->from, action == ACT_ACTIVATE ?
		    ACT_JOIN_FAIL : ACT_NONE, m->ch, ERR_INTERNAL,
		    "out of memory");
}

void
bus_answer_history(struct worker *w, const struct im_query *m,
    struct history *h, uint64_t seq, const char *epoch)
{
	struct answer a = { w, &m->from, m->ch, ACT_NONE, 0 };
	struct frame *f;
	int first, n, i;

	history_expire(h, proto_now_ms(), w->cfg->history_ttl_ms);
	if (m->lookup) {
		/* A report: the one message, or word that it is not kept. */
		for (i = 0; i < h->count; i++)
			if (history_at(h, i)->seq == (uint64_t)m->since)
				break;
		if (i < h->count)
			f = frame_ref(history_at(h, i));
		else if ((f = reply_err(m->from.id, ERR_BAD_FIELD,
		    "seq: that message is no longer kept", -1, -1)) != NULL)
			f->seq = (uint64_t)m->since;
		deliver_reply(w, &m->from, i < h->count ? ACT_REPORT_FOUND :
		    ACT_REPORT_GONE, m->ch, f);
		return;
	}
	/* A since from another numbering: the last messages, as without since. */
	n = history_select(h, other_epoch(m->epoch, epoch) ? -1 : m->since,
	    m->limit, m->limit, seq, &first, NULL);
	if (reply_history(answer_emit, &a, m->from.id, m->ch, h, first, n,
	    (size_t)w->cfg->frame_max) != 0)
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_INTERNAL,
		    "out of memory");
}

/* Collects members into a reply_member array (a strmap_each callback). */
struct who_list {
	struct reply_member *v;
	size_t n;
};

/* Adds one member to the list (a strmap_each callback). */
static void
who_collect(const char *uid, void *value, void *arg)
{
	struct who_list *l = arg;
	const struct cmember *cm = value;

	l->v[l->n].id = uid;
	l->v[l->n].id_len = strlen(uid);
	l->v[l->n].name = cm->name;
	l->v[l->n].name_len = strlen(cm->name);
	l->n++;
}

void
bus_answer_who_map(struct worker *w, const struct im_query *m,
    const struct strmap *members)
{
	struct who_list l = { NULL, 0 };
	struct frame *f;

	if (members->count > 0 &&
	    (l.v = malloc(members->count * sizeof *l.v)) == NULL) {
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_INTERNAL,
		    "out of memory");
		return;
	}
	strmap_each(members, who_collect, &l);
	f = reply_who(m->from.id, m->ch, l.v, l.n, members->count,
	    (size_t)w->cfg->frame_max);
	free(l.v);
	if (f == NULL)
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_INTERNAL,
		    "out of memory");
	else
		deliver_reply(w, &m->from, ACT_NONE, NULL, f);
}
