/*
 * bus-redis-mod.c: what the Redis bus does for moderation besides carrying
 * commands (bus-redis-stream.c stores each command with its change to the
 * state, and loads the state at start):
 *
 * - after Redis lost its data, worker 0 puts back the bans, mutes and slow
 *   modes it holds (modput: only the keys that are missing, so that a newer
 *   value another instance wrote stays);
 * - a worker with watching moderators subscribes to the patterns they
 *   watch (PSUBSCRIBE P ch:PATTERN) and hands the messages to them;
 * - the live instances, by their heartbeats;
 * - a deleted message leaves the history ring of a followed channel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "bus.h"
#include "bus-redis-int.h"
#include "config.h"
#include "deliver.h"
#include "frame.h"
#include "history.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "worker.h"

#define MODPUT_BATCH 100	/* entries per modput call */
#define NODES_MAX 1024		/* instances a question waits for, at most */

/* ---------------------------------------------------------------- state */

void
bus_redis_mod_restore(struct worker *w)
{
	static const char cmd[] = "{\"cmd\":\"restate\"}";

	/* The moderation layer answers with state_save(restore). */
	(void)deliver_control_workers(w, w->idx, cmd, sizeof cmd - 1, 0);
}

/* modput answered: how many keys were missing and are back. */
static void
on_put(struct redis_conn *rc, redisReply *r, void *priv)
{
	(void)rc;
	(void)priv;
	if (r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		log_notice("redis: %lld bans, mutes and slow modes put back",
		    r->integer);
	else if (r == NULL || r->type == REDIS_REPLY_ERROR)
		log_warn("redis: the moderation state could not be put back: "
		    "%s", r != NULL ? r->str : "no answer");
}

void
bus_redis_state_save(struct worker *w, const char *const *cmds,
    const size_t *lens, const struct store_change *chgs, size_t n,
    bool restore)
{
	const char *argv[1 + 3 * MODPUT_BATCH];
	size_t alen[1 + 3 * MODPUT_BATCH];
	char until[MODPUT_BATCH][24];
	size_t i, k;
	int argc;

	/* Each change went to Redis with its command: only a restore writes. */
	if (!restore)
		return;
	for (i = 0; i < n; i += MODPUT_BATCH) {
		argv[0] = KP;
		alen[0] = strlen(KP);
		argc = 1;
		for (k = 0; k < MODPUT_BATCH && i + k < n; k++) {
			if (chgs[i + k].op != STORE_SET)
				continue;
			snprintf(until[k], sizeof until[k], "%lld",
			    (long long)chgs[i + k].until);
			argv[argc] = chgs[i + k].key;
			alen[argc++] = strlen(chgs[i + k].key);
			argv[argc] = cmds[i + k];
			alen[argc++] = lens[i + k];
			argv[argc] = until[k];
			alen[argc++] = strlen(until[k]);
		}
		if (argc > 1 && (w->bus == NULL || redis_conn_eval(
		    ((struct bus_redis *)w->bus)->cmd, &bus_redis_scripts[S_MODPUT],
		    on_put, NULL, 0, argc, argv, alen) != 0))
			log_warn("redis: the moderation state could not be put "
			    "back (Redis is not reachable)");
	}
}

/* -------------------------------------------------------------- watches */

/* The subscription pattern of a watch pattern: P ch:PATTERN. */
static size_t
watch_channel(char *buf, size_t len, const char *pattern)
{
	int n = snprintf(buf, len, KP "ch:%s", pattern);

	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

void
bus_redis_watch(struct worker *w, const char *pattern, bool on)
{
	struct bus_redis *br = w->bus;
	char name[sizeof KP + 3 + PROTO_PATTERN_MAX + 1];
	size_t n = watch_channel(name, sizeof name, pattern);
	int rc;

	if (br == NULL || br->sub == NULL || n == 0)
		return;
	/* Channel names have no glob characters: only the trailing '*' is one. */
	rc = on ? redis_conn_psubscribe(br->sub, name, n) :
	    redis_conn_punsubscribe(br->sub, name, n);
	if (rc != 0)
		log_warn("redis: the watch of %s could not be %s", pattern,
		    on ? "subscribed" : "unsubscribed");
}

void
bus_redis_on_watched(struct redis_conn *rc, const char *pattern,
    size_t plen, const char *channel, size_t chlen, const char *msg,
    size_t msglen, void *arg)
{
	static const char head[] = "{\"op\":\"msg\"";
	struct worker *w = arg;
	char ch[CHAN_NAME_MAX + 1];
	struct frame *f;

	(void)rc;
	(void)pattern;
	(void)plen;
	if (chlen <= sizeof KP "ch:" - 1 || chlen - (sizeof KP "ch:" - 1) >
	    CHAN_NAME_MAX || memcmp(channel, KP "ch:", sizeof KP "ch:" - 1) != 0)
		return;
	/* Only the messages: presence is for members. */
	if (msglen < sizeof head - 1 || memcmp(msg, head, sizeof head - 1) != 0)
		return;
	memcpy(ch, channel + sizeof KP "ch:" - 1, chlen - (sizeof KP "ch:" - 1));
	ch[chlen - (sizeof KP "ch:" - 1)] = '\0';
	if ((f = bus_redis_payload_frame(msg, msglen)) == NULL)
		return;
	deliver_watchers(w, ch, f);
	frame_unref(f);
}

/* ---------------------------------------------------------------- nodes */

/* What a ZRANGEBYSCORE of the live instances answers to. */
struct nodes_ctx {
	struct worker *w;
	bus_nodes_cb cb;
	void *arg;
};

static void
on_nodes(struct redis_conn *rc, redisReply *r, void *priv)
{
	struct nodes_ctx *x = priv;
	const char *v[NODES_MAX];
	size_t i, n = 0;

	(void)rc;
	if (r != NULL && r->type == REDIS_REPLY_ARRAY)
		for (i = 0; i < r->elements && n < NODES_MAX; i++)
			if (r->element[i]->type == REDIS_REPLY_STRING)
				v[n++] = r->element[i]->str;
	x->cb(x->w, x->arg, v, n);
	free(x);
}

void
bus_redis_nodes(struct worker *w, bus_nodes_cb cb, void *arg)
{
	struct bus_redis *br = w->bus;
	struct nodes_ctx *x = malloc(sizeof *x);
	char since[24];
	const char *argv[4] = { "ZRANGEBYSCORE", KP "nodes", since, "+inf" };
	size_t lens[4];
	int i;

	if (x == NULL || br == NULL || br->cmd == NULL || !br->cmd_up) {
		free(x);
		cb(w, arg, NULL, 0);
		return;
	}
	x->w = w;
	x->cb = cb;
	x->arg = arg;
	snprintf(since, sizeof since, "%lld",
	    (long long)(proto_now_ms() - w->cfg->presence_ttl_ms));
	for (i = 0; i < 4; i++)
		lens[i] = strlen(argv[i]);
	if (redis_conn_command(br->cmd, on_nodes, x, 4, argv, lens) != 0) {
		free(x);
		cb(w, arg, NULL, 0);
	}
}

/* -------------------------------------------------------------- delete */

void
bus_redis_forget(struct worker *w, const char *ch, uint64_t seq)
{
	struct rchan *chn = bus_redis_chan_get(w, ch, false);

	if (chn != NULL)
		(void)history_remove(&chn->hist, seq);
}
