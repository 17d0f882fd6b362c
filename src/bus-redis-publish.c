/*
 * bus-redis-publish.c: publishing through Redis, on the sender's worker:
 * the publish script gives the seq (above what this worker has seen
 * delivered and been given), WAIT for redis_replicas_ack, the sender's ok;
 * the fence after Redis lost its data, and the seqs this worker was given
 * put back into Redis when it sees that.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "bus.h"
#include "bus-int.h"
#include "bus-redis-int.h"
#include "config.h"
#include "deliver.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "reply.h"
#include "room.h"
#include "worker.h"

/* What a publish waits for. */
struct pub_ctx {
	struct worker *w;
	struct im_publish *m;		/* owned */
	int64_t ts;
	uint64_t seq;			/* what Redis gave (redis_replicas_ack) */
	char epoch[PROTO_EPOCH_MAX + 1];
};

/* How long a send waits for redis_replicas_ack replicas before it fails. */
#define REPLICAS_ACK_TIMEOUT_MS 2000

static bool fenced(struct worker *w, const char *ch);

/* Acknowledges p's message to its sender, and frees p. */
static void
publish_ok(struct pub_ctx *p)
{
	struct worker *w = p->w;
	struct im_publish *m = p->m;
	struct room *r = room_find(&w->rooms, m->ch);

	/*
	 * Kept for the next publish from here: if Redis dies before its
	 * PUBLISH of this one reaches anybody, no instance's restore knows
	 * the seq, and the script must not give it again.
	 */
	if (r != NULL && p->seq > r->given)
		r->given = p->seq;
	metrics_add(&w->stats.published, 1);
	if (m->t0 != 0)
		metrics_latency(&w->stats, uv_hrtime() - m->t0);
	deliver_reply(w, &m->from, ACT_NONE, NULL,
	    reply_ok_seq(m->from.id, m->ch, p->seq, p->ts, p->epoch));
	msg_free(&m->hdr);
	free(p);
}

/*
 * WAIT answered how many replicas have every write so far: the send is
 * acknowledged only if that is redis_replicas_ack or more (a failover then
 * cannot lose it); else the sender is told it may be lost.
 */
static void
on_replicated(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct pub_ctx *p = priv;
	struct worker *w = p->w;

	(void)rc;
	if (r != NULL && r->type == REDIS_REPLY_INTEGER &&
	    r->integer >= w->cfg->redis_replicas_ack) {
		publish_ok(p);
		return;
	}
	deliver_reply_err(w, &p->m->from, ACT_NONE, NULL, ERR_UNAVAILABLE,
	    "not confirmed by enough Redis replicas: it may be lost "
	    "in a failover");
	msg_free(&p->m->hdr);
	free(p);
}

/* Answers the sender: ok with the seq and epoch Redis gave, or unavailable. */
static void
on_published(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct pub_ctx *p = priv;
	struct worker *w = p->w;
	struct im_publish *m = p->m;
	long long seq = -2;
	char n[16], t[24];
	const char *argv[3];
	size_t lens[3];

	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->type == REDIS_REPLY_STRING)
		seq = r->element[0]->integer;
	if (seq == -1) {
		/*
		 * Redis numbers the channel behind what this worker has seen
		 * (it lost data without a restart we saw: FLUSHALL): the
		 * channel's owner puts back what it knows.
		 */
		deliver_bus_workers(w, worker_owner(w, m->ch), RBUS_BEHIND,
		    m->ch);
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_UNAVAILABLE,
		    "the channel's history is being restored: try again");
	}
	else if (seq < 0)
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_UNAVAILABLE,
		    r == NULL ? "the cluster bus is down" :
		    "the cluster bus refused the message");
	else {
		p->seq = (uint64_t)seq;
		snprintf(p->epoch, sizeof p->epoch, "%s", r->element[1]->str);
		if (w->cfg->redis_replicas_ack <= 0) {
			publish_ok(p);
			return;
		}
		snprintf(n, sizeof n, "%d", w->cfg->redis_replicas_ack);
		snprintf(t, sizeof t, "%d", REPLICAS_ACK_TIMEOUT_MS);
		argv[0] = "WAIT";
		argv[1] = n;
		argv[2] = t;
		lens[0] = 4;
		lens[1] = strlen(n);
		lens[2] = strlen(t);
		if (rc != NULL && redis_conn_command(rc, on_replicated, p, 3,
		    argv, lens) == 0)
			return;
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_UNAVAILABLE,
		    "the cluster bus is down");
	}
	msg_free(&m->hdr);
	free(p);
}

/*
 * Publishes channel message m (on the sender's worker; m->body: the msg
 * object after its head).  The sender gets `ok` once Redis has accepted
 * it, or err unavailable: while Redis is down, and while it may number
 * the message with a seq it gave before (after it lost its data, until
 * the channel is restored: see fenced() and the publish script).
 * Takes m.
 */
void
bus_redis_publish(struct worker *w, struct im_publish *m)
{
	char kseq[128], khist[128], kep[128], kch[128], ts[24], size[16],
	    ttl[24], cttl[24], known[24], given[24],
	    epoch[PROTO_EPOCH_MAX + 1];
	const char *argv[12];
	struct pub_ctx *p;
	struct room *r;
	char *b;

	if (fenced(w, m->ch)) {
		deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_UNAVAILABLE,
		    "the channel's history is being restored: try again");
		msg_free(&m->hdr);
		return;
	}
	p = calloc(1, sizeof *p);
	b = malloc(m->len + 1);
	if (p == NULL || b == NULL)
		goto fail;
	memcpy(b, m->body, m->len);
	b[m->len] = '\0';
	p->w = w;
	p->m = m;
	p->ts = proto_now_ms();
	snprintf(ts, sizeof ts, "%lld", (long long)p->ts);
	snprintf(size, sizeof size, "%d", w->cfg->history_size);
	snprintf(ttl, sizeof ttl, "%lld", (long long)w->cfg->history_ttl_ms);
	snprintf(cttl, sizeof cttl, "%lld", (long long)w->cfg->channel_ttl_ms);
	/* The publish runs on the sender's worker: what it has delivered in ch. */
	r = room_find(&w->rooms, m->ch);
	snprintf(known, sizeof known, "%llu",
	    (unsigned long long)(r != NULL ? r->last_seq : 0));
	snprintf(given, sizeof given, "%llu",
	    (unsigned long long)(r != NULL ? r->given : 0));
	bus_new_epoch(w, epoch);	/* used only if a numbering starts */
	argv[0] = key(kseq, sizeof kseq, "seq", m->ch);
	argv[1] = key(khist, sizeof khist, "hist", m->ch);
	argv[2] = key(kep, sizeof kep, "epoch", m->ch);
	argv[3] = ts;
	argv[4] = b;
	argv[5] = size;
	argv[6] = ttl;
	argv[7] = key(kch, sizeof kch, "ch", m->ch);
	argv[8] = cttl;
	argv[9] = known;
	argv[10] = epoch;
	argv[11] = given;
	if (bus_redis_run(w, S_PUBLISH, on_published, p, 3, 12, argv) == 0) {
		free(b);
		return;
	}
fail:
	free(b);
	free(p);
	deliver_reply_err(w, &m->from, ACT_NONE, NULL, ERR_UNAVAILABLE,
	    "the cluster bus is down");
	msg_free(&m->hdr);
}

/*
 * Returns true while a publish to ch must wait: Redis lost its data and
 * ch's owner on this instance has not yet put back what it knows.
 */
static bool
fenced(struct worker *w, const char *ch)
{
	struct bus_redis *br = w->bus;

	if (!br->fencing)
		return false;
	return strcmp(br->restored[worker_owner(w, ch)], br->run_id) != 0 ||
	    proto_now_ms() < br->fence_until_ms;
}

/* Raises one room's channel seq to what was given here (a strmap_each callback). */
static void
raise_one(const char *ch, void *value, void *arg)
{
	struct worker *w = arg;
	struct room *r = value;
	char kseq[128], given[24], ttl[24];
	const char *argv[3];

	if (r->given == 0)
		return;
	snprintf(given, sizeof given, "%llu", (unsigned long long)r->given);
	snprintf(ttl, sizeof ttl, "%lld", (long long)w->cfg->channel_ttl_ms);
	argv[0] = key(kseq, sizeof kseq, "seq", ch);
	argv[1] = given;
	argv[2] = ttl;
	(void)bus_redis_run(w, S_RAISE, bus_redis_ignore, NULL, 1, 3, argv);
}

/*
 * Redis lost its data: this worker tells it the highest seq it was given
 * in each of its channels.  A seq whose message reached no subscriber
 * before Redis died is known to nobody else, and must not be given again;
 * this lands well within the fence (RESTART_FENCE_MS) of every instance.
 */
void
bus_redis_raise_given(struct worker *w)
{
	strmap_each(&w->rooms.rooms, raise_one, w);
}
