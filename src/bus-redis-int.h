/*
 * bus-redis-int.h: what the two halves of the Redis bus share: bus-redis.c
 * (connections, publishing, users, node liveness) and bus-redis-chan.c
 * (following channels: subscription, sync, delivery, channel ops).
 * Private to those two files.
 */
#ifndef CHATRELAY_BUS_REDIS_INT_H
#define CHATRELAY_BUS_REDIS_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <hiredis/hiredis.h>

#include "chan.h"
#include "redis.h"
#include "strmap.h"

struct frame;
struct imsg;
struct worker;

#define KP "chatrelay:"

enum script_id {
	S_PUBLISH, S_JOIN, S_LEAVE, S_HISTORY, S_WHO, S_ATTACH, S_DETACH,
	S_WHISPER, S_HEARTBEAT, S_REAP, S_RESTORE, S_REMEMBER, S_REATTACH,
	S_COUNT
};

/* A worker's Redis side. */
struct bus_redis {
	struct worker *w;
	struct redis_conn *cmd;
	struct redis_conn *sub;
	atomic_bool up;			/* both up: read by /healthz anywhere */
	bool cmd_up, sub_up;
	bool cmd_was_up;		/* the command connection has been up before */
	int64_t next_beat_ms;
	int64_t next_refresh_ms;	/* renewing followed channels' seq keys */
	struct strmap counted;		/* owned users: uid -> connections counted in Redis */
	/*
	 * What Redis may count wrongly, because a script could not run or its
	 * answer was lost: "CH\nUID" -> display name (malloc'd) of memberships
	 * of owned channels, and uid -> 1 of owned users.  Told again, with
	 * the counts of the moment, when Redis is back (bus-redis-repair.c).
	 */
	struct strmap stale_members;
	struct strmap stale_users;
	int64_t stale_due_ms;		/* when to tell the stale memberships, or 0 */
};

/* A membership a script is about (leave, remember). */
struct member_ctx {
	struct worker *w;
	char ch[CHAN_NAME_MAX + 1];
	char uid[USER_ID_MAX + 1];
	char name[USER_NAME_MAX + 1];
};

/* The scripts, with their SHA-1s (read-only once bus_redis_global_init ran). */
extern struct redis_script bus_redis_scripts[S_COUNT];

/* What a reply about one request (join, who, attach, ...) needs. */
struct op_ctx {
	struct worker *w;
	struct imsg *m;
};

/* A key or channel name: KP + kind + ":" + name, in buf (which it returns). */
static inline const char *
key(char *buf, size_t len, const char *kind, const char *name)
{
	snprintf(buf, len, KP "%s:%s", kind, name);
	return buf;
}

/* Returns an integer reply's value, or def. */
static inline long long
reply_int(const redisReply *r, long long def)
{
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	return def;
}

/*
 * Runs script id with nkeys keys then args (argc C strings in all) on w's
 * command connection.  cb gets the reply (NULL if the connection went
 * away); returns -1, without calling cb, if Redis is not reachable.
 */
int bus_redis_run(struct worker *w, enum script_id id, redis_reply_cb cb,
    void *priv, int nkeys, int argc, const char **argv);

/* A reply callback for commands whose answer nobody waits for. */
void bus_redis_ignore(struct redis_conn *rc, redisReply *r, void *priv);

/*
 * bus-redis-chan.c: runs the join, leave or remember script (same keys and
 * arguments; extra, if not NULL, is remember's count, and tell whether it
 * publishes presence for a member it adds or removes) for user uid
 * (display name name) in channel ch; cb as for bus_redis_run.
 */
int bus_redis_run_member(struct worker *w, enum script_id id, const char *ch,
    const char *uid, const char *name, const char *extra, bool tell,
    redis_reply_cb cb, void *priv);

/* bus-redis-chan.c: a frame for a payload from Redis, its seq and ts set (msgs). */
struct frame *bus_redis_payload_frame(const char *p, size_t len);

/* bus-redis-query.c: answers a history request (takes m). */
void bus_redis_history(struct worker *w, struct imsg *m);

/* bus-redis-query.c: answers a who request with the cluster's members (takes m). */
void bus_redis_who(struct worker *w, struct imsg *m);

/* bus-redis-chan.c: a payload published on channel `name` (owner worker). */
void bus_redis_channel_message(struct worker *w, const char *name,
    const char *msg, size_t len);

/* bus-redis-chan.c: Redis confirmed a SUBSCRIBE (a subscribed_cb). */
void bus_redis_on_subscribed(struct redis_conn *rc, const char *channel,
    size_t chlen, void *arg);

/*
 * bus-redis-repair.c: puts back in Redis what this worker knows: the
 * followed channels' seq and history (if Redis lost them), their local
 * members, and the owned users' connection counts (stale ones included).
 * tell: presence is published for members Redis did not have (after this
 * node was taken for dead; not after Redis lost its data, when nobody saw
 * them leave).
 */
void bus_redis_repair(struct worker *w, bool tell);

/*
 * bus-redis-repair.c: tells Redis the present counts of the stale
 * memberships, publishing presence for those who left or came meanwhile.
 */
void bus_redis_tell_stale(struct worker *w);

/* bus-redis-repair.c: notes that Redis may count uid in ch wrongly. */
void bus_redis_stale_member(struct worker *w, const char *ch,
    const char *uid, const char *name);

/*
 * bus-redis-repair.c: the reply callback of a leave or remember script run
 * for a struct member_ctx (priv, freed here): without an answer, the
 * membership is noted stale, to be told again.
 */
void bus_redis_member_done(struct redis_conn *rc, redisReply *r, void *priv);

/* bus-redis-repair.c: notes that Redis may count uid's connections wrongly. */
void bus_redis_stale_user(struct worker *w, const char *uid);

/* bus-redis-repair.c: frees the stale lists. */
void bus_redis_repair_free(struct bus_redis *br);

/* bus-redis-chan.c: renews the seq keys' expiry of the followed channels. */
void bus_redis_refresh_channels(struct worker *w);

/* bus-redis-chan.c: re-reads every followed channel that is out of sync. */
void bus_redis_resync_channels(struct worker *w);

#endif
