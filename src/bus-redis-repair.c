/*
 * bus-redis-repair.c: putting Redis right about this instance.
 *
 * Redis may come to hold a wrong picture of this instance in three ways:
 * it lost its data (a restart without persistence); a leave, join, attach
 * or detach could not be told to it, or its answer was lost, while it was
 * away; or the other instances took this one for dead (it missed its
 * heartbeats) and reaped its members.  In each case the owners tell Redis
 * again what they know, as absolute counts, so telling twice does no harm:
 * the followed channels' seq and history (kept if Redis has newer), their
 * local members, and the owned users' connection counts.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "bus-int.h"
#include "bus-redis-int.h"
#include "config.h"
#include "deliver.h"
#include "frame.h"
#include "history.h"
#include "log.h"
#include "proto.h"
#include "relay.h"
#include "worker.h"

/* ------------------------------------------------------------ channels */

/* Says to every worker of this instance that w has restored its channels for run_id. */
static void
restored(struct worker *w)
{
	struct bus_redis *br = w->bus;

	deliver_bus_workers(w, -1, RBUS_RESTORED, br->run_id);
}

/*
 * A restore script answered {the seq Redis had, its epoch}: if Redis
 * numbers the channel under another epoch now, the owner follows it.  The
 * last answer tells the other workers that publishes may go on.
 */
static void
on_restored(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct chan_tag *tag = priv;
	struct worker *w = tag->w;
	struct bus_redis *br = w->bus;
	struct rchan *chn;
	redisReply *e;

	(void)rc;
	chn = bus_redis_chan_get(w, tag->ch, false);
	free(tag);
	if (br->restoring > 0)
		br->restoring--;
	if (r == NULL)
		return;		/* the connection went: restored at the next */
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    (e = r->element[1])->type == REDIS_REPLY_STRING && chn != NULL &&
	    e->len > 0 && e->len <= PROTO_EPOCH_MAX &&
	    strcmp(e->str, chn->epoch) != 0)
		bus_redis_chan_renumber(w, chn, e->str);
	if (br->restoring == 0)
		restored(w);
}

/*
 * After an outage, tells Redis what this owner knows of a followed channel
 * (a strmap_each callback): if Redis came back empty, or rolled back, the
 * seq goes on from where it was, in the same epoch, and the history it
 * held is merged back with what Redis has now.
 */
static void
restore_cb(const char *name, void *value, void *arg)
{
	struct worker *w = arg;
	struct bus_redis *br = w->bus;
	struct rchan *chn = value;
	char kseq[128], khist[128], kep[128], n[24], cttl[24], httl[24],
	    size[16];
	struct chan_tag *tag;
	const char **argv;
	size_t *lens;
	int i, argc;

	if (!chn->subscribed || chn->seq == 0 || br->cmd == NULL)
		return;
	if (chn->epoch[0] == '\0')
		bus_new_epoch(w, chn->epoch);	/* a numbering from before epochs */
	argc = 8 + chn->hist.count;
	argv = calloc((size_t)argc, sizeof *argv);
	lens = calloc((size_t)argc, sizeof *lens);
	tag = bus_redis_chan_tag(w, chn->name);
	if (argv == NULL || lens == NULL || tag == NULL)
		goto done;
	snprintf(n, sizeof n, "%llu", (unsigned long long)chn->seq);
	snprintf(cttl, sizeof cttl, "%lld", (long long)w->cfg->channel_ttl_ms);
	snprintf(httl, sizeof httl, "%lld", (long long)w->cfg->history_ttl_ms);
	snprintf(size, sizeof size, "%d", w->cfg->history_size);
	argv[0] = key(kseq, sizeof kseq, "seq", chn->name);
	argv[1] = key(khist, sizeof khist, "hist", chn->name);
	argv[2] = key(kep, sizeof kep, "epoch", chn->name);
	argv[3] = n;
	argv[4] = cttl;
	argv[5] = httl;
	argv[6] = size;
	argv[7] = chn->epoch;
	for (i = 0; i < 8; i++)
		lens[i] = strlen(argv[i]);
	for (i = 0; i < chn->hist.count; i++) {
		struct frame *f = history_at(&chn->hist, i);

		argv[8 + i] = frame_payload(f);
		lens[8 + i] = frame_payload_len(f);
	}
	if (redis_conn_eval(br->cmd, &bus_redis_scripts[S_RESTORE],
	    on_restored, tag, 3, argc, argv, lens) == 0) {
		tag = NULL;
		br->restoring++;
	}
done:
	free(tag);
	free(argv);
	free(lens);
}

void
bus_redis_restore_channel(struct worker *w, struct rchan *chn)
{
	restore_cb(chn->name, chn, w);
}

/* What remember_cb needs: the worker, the channel, and tell. */
struct remember_ctx {
	struct worker *w;
	const char *ch;
	bool tell;
};

/* Tells Redis how many connections of one local member are in a channel (a strmap_each callback). */
static void
remember_cb(const char *uid, void *value, void *arg)
{
	struct remember_ctx *rc = arg;
	struct cmember *cm = value;
	char n[16];

	snprintf(n, sizeof n, "%u", cm->conns);
	(void)bus_redis_run_member(rc->w, S_REMEMBER, rc->ch, uid, cm->name, n,
	    rc->tell, bus_redis_ignore, NULL);
}

/* Re-registers a followed channel's local members (a strmap_each callback). */
static void
reregister_cb(const char *name, void *value, void *arg)
{
	struct rchan *chn = value;
	const struct remember_ctx *t = arg;
	struct remember_ctx rc = { t->w, chn->name, t->tell };

	if (chn->subscribed)
		strmap_each(&chn->members, remember_cb, &rc);
}


void
bus_redis_stale_member(struct worker *w, const char *ch, const char *uid,
    const char *name)
{
	struct strmap *m = &((struct bus_redis *)w->bus)->stale_members;
	char k[CHAN_NAME_MAX + USER_ID_MAX + 2], *v;

	snprintf(k, sizeof k, "%s\n%s", ch, uid);
	if (strmap_get(m, k) != NULL)
		return;
	v = strdup(name);
	if (v == NULL || strmap_put(m, k, v) != 0) {
		free(v);
		log_err("out of memory: %s in %s may stay counted in Redis",
		    uid, ch);
	}
}

void
bus_redis_member_done(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct member_ctx *x = priv;

	if (r == NULL)
		bus_redis_stale_member(x->w, x->ch, x->uid, x->name);
	free(x);
}

/*
 * Tells Redis the present count of one stale membership, "CH\nUID" ->
 * name (a strmap_each callback over a list taken out of the worker; frees
 * the name).  Presence is published if the member comes or goes by it.
 */
static void
tell_member_cb(const char *k, void *value, void *arg)
{
	struct worker *w = arg;
	const char *nl = strchr(k, '\n');
	struct member_ctx *x = malloc(sizeof *x);
	struct rchan *chn;
	struct cmember *cm = NULL;
	char n[16];

	if (x == NULL || nl == NULL || (size_t)(nl - k) > CHAN_NAME_MAX) {
		free(x);
		free(value);
		return;
	}
	x->w = w;
	memcpy(x->ch, k, (size_t)(nl - k));
	x->ch[nl - k] = '\0';
	snprintf(x->uid, sizeof x->uid, "%s", nl + 1);
	snprintf(x->name, sizeof x->name, "%s", (const char *)value);
	free(value);
	chn = bus_redis_chan_get(w, x->ch, false);
	if (chn != NULL && chn->subscribed)
		cm = strmap_get(&chn->members, x->uid);
	snprintf(n, sizeof n, "%u", cm != NULL ? cm->conns : 0);
	if (bus_redis_run_member(w, S_REMEMBER, x->ch, x->uid, x->name, n,
	    true, bus_redis_member_done, x) != 0)
		bus_redis_member_done(NULL, NULL, x);
}

/* ---------------------------------------------------------------- users */

void
bus_redis_stale_user(struct worker *w, const char *uid)
{
	struct bus_redis *br = w->bus;

	if (strmap_get(&br->stale_users, uid) == NULL &&
	    strmap_put(&br->stale_users, uid, (void *)1) != 0)
		log_err("out of memory: the connections of %s may stay "
		    "counted in Redis", uid);
}

void
bus_redis_user_done(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct user_ctx *x = priv;

	(void)rc;
	if (r == NULL)
		bus_redis_stale_user(x->w, x->uid);
	free(x);
}

/*
 * Tells Redis how many connections this node has of user uid: its owner's
 * count (a strmap_each callback over the counted users, and over the stale
 * ones).
 */
static void
reattach_cb(const char *uid, void *value, void *arg)
{
	struct worker *w = arg;
	struct bus_redis *br = w->bus;
	struct user_ctx *x = malloc(sizeof *x);
	char k[2][128], n[24], now[24];
	const char *argv[7];

	(void)value;
	if (x == NULL) {
		log_err("out of memory: the connections of %s not told to "
		    "Redis", uid);
		return;
	}
	x->w = w;
	snprintf(x->uid, sizeof x->uid, "%s", uid);
	snprintf(n, sizeof n, "%ld",
	    (long)(intptr_t)strmap_get(&br->counted, uid));
	snprintf(now, sizeof now, "%lld", (long long)proto_now_ms());
	argv[0] = key(k[0], sizeof k[0], "user", uid);
	argv[1] = key(k[1], sizeof k[1], "nodeusers", w->relay->node_key);
	argv[2] = KP "nodes";
	argv[3] = w->relay->node_key;
	argv[4] = uid;
	argv[5] = n;
	argv[6] = now;
	if (bus_redis_run(w, S_REATTACH, bus_redis_user_done, x, 3, 7, argv) != 0)
		bus_redis_user_done(NULL, NULL, x);
}

/* ---------------------------------------------------------------- all */

void
bus_redis_repair(struct worker *w, bool tell)
{
	struct bus_redis *br = w->bus;
	struct remember_ctx rc = { w, NULL, tell };
	struct strmap stale;

	strmap_each(&br->channels, restore_cb, w);
	if (br->restoring == 0)
		restored(w);	/* nothing to wait for */
	strmap_each(&br->channels, reregister_cb, &rc);
	strmap_each(&br->counted, reattach_cb, w);
	/* What fails again is noted again, in the fresh list. */
	stale = br->stale_users;
	strmap_init(&br->stale_users);
	strmap_each(&stale, reattach_cb, w);
	strmap_free(&stale);
}

void
bus_redis_tell_stale(struct worker *w)
{
	struct bus_redis *br = w->bus;
	struct strmap stale = br->stale_members;

	strmap_init(&br->stale_members);
	strmap_each(&stale, tell_member_cb, w);
	strmap_free(&stale);
}

/* Frees a stale membership's name (a strmap_each callback). */
static void
free_value_cb(const char *k, void *value, void *arg)
{
	(void)k;
	(void)arg;
	free(value);
}

void
bus_redis_repair_free(struct bus_redis *br)
{
	strmap_each(&br->stale_members, free_value_cb, NULL);
	strmap_free(&br->stale_members);
	strmap_free(&br->stale_users);
}
