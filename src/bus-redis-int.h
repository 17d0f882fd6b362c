/*
 * bus-redis-int.h: what the parts of the Redis bus share: bus-redis.c
 * (connections, publishing, users, node liveness, the ops table),
 * bus-redis-chan.c (following channels: subscription, sync, delivery,
 * channel ops), bus-redis-query.c (history and who), bus-redis-repair.c
 * (what Redis missed) and bus-redis-stream.c (whispers and control
 * commands through streams).  Private to those files.
 */
#ifndef CHATRELAY_BUS_REDIS_INT_H
#define CHATRELAY_BUS_REDIS_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <hiredis/hiredis.h>

#include "bus.h"
#include "chan.h"
#include "proto.h"
#include "history.h"
#include "redis.h"
#include "strmap.h"

struct bus_stream;
struct frame;
struct worker;
struct im_join;
struct im_leave;
struct im_query;
struct im_whisper;
struct im_publish;
struct store_change;

#define KP "chatrelay:"

/* How often (loop ms) the followed channels' history is expired and idle channels dropped. */
#define BUS_REDIS_SWEEP_MS 10000

/* The reconnect back-off: from this, doubling (with jitter) up to that. */
#define BUS_REDIS_BACKOFF_MIN_MS 100
#define BUS_REDIS_BACKOFF_MAX_MS 5000

enum script_id {
	S_PUBLISH, S_JOIN, S_LEAVE, S_HISTORY, S_WHO, S_ATTACH, S_DETACH,
	S_WHISPER, S_HEARTBEAT, S_REAP, S_RESTORE, S_REMEMBER, S_REATTACH,
	S_CONTROL, S_MODLOAD, S_MODPUT, S_ANSWER, S_RAISE,
	S_COUNT
};

/* A channel this worker owns, as the Redis bus follows it. */
struct rchan {
	char name[CHAN_NAME_MAX + 1];
	uint64_t seq;			/* last seq delivered */
	char epoch[PROTO_EPOCH_MAX + 1];	/* the numbering's, "" until known */
	struct history hist;		/* the recent messages (once synced) */
	struct strmap members;		/* local members: uid -> struct cmember (inline) */
	uint32_t nlocal;		/* this instance's memberships */
	bool subscribed;		/* SUBSCRIBE sent (and kept while nlocal > 0) */
	bool synced;			/* hist and seq caught up with Redis */
	bool syncing;			/* a history read is under way */
	bool renumbered;		/* the epoch changed: the sync delivers all */
	struct im_join *pending;	/* joins waiting for the sync, oldest first (next_pending) */
	struct frame **early;		/* what the subscription brought before the sync */
	uint32_t nearly, capearly;
	uint32_t wcount[];		/* memberships per worker */
};

/* A worker's Redis side (w->bus). */
struct bus_redis {
	struct worker *w;
	struct redis_conn *cmd;		/* NULL once stopped */
	struct redis_conn *sub;		/* NULL once stopped */
	bool cmd_up, sub_up;		/* w->bus_up is both, for /healthz */
	bool cmd_was_up;		/* the command connection has been up before */
	int64_t next_beat_ms;
	int64_t next_refresh_ms;	/* renewing followed channels' seq keys */
	int64_t next_sweep_ms;		/* loop ms of the next bus_redis_sweep */
	struct strmap channels;		/* owned channels: name -> struct rchan * */
	struct strmap counted;		/* owned users: uid -> connections counted in Redis */
	/*
	 * What Redis may count wrongly, because a script could not run or its
	 * answer was lost: "CH\nUID" -> display name (malloc'd) of memberships
	 * of owned channels, and uid -> 1 of owned users.  Told again, with
	 * the counts of the moment, when Redis is back (bus-redis-repair.c).
	 */
	struct strmap stale_members;
	struct strmap stale_users;
	int64_t stale_due_ms;		/* when (wall ms) to tell the stale memberships, or 0 */
	/*
	 * Fencing after Redis lost its data.  run_id is the Redis server's
	 * (INFO), learnt at each connect; a change means a restart or another
	 * server, which may have lost or rolled back seqs and history.  From
	 * then on (fencing), a publish to a channel waits for that channel's
	 * owner worker to have put back what it knows for this run id:
	 * restored[i] is the run id worker i last said it restored for.
	 */
	char run_id[48];
	bool fencing;
	int64_t fence_until_ms;		/* wall ms: publishes wait until then too */
	char (*restored)[48];		/* one per worker */
	uint32_t restoring;		/* restore scripts awaiting an answer */
	struct bus_stream *stream;	/* worker 0: reads its streams (bus-redis-stream.c) */
};

/* What one worker's side of the Redis bus tells the others (im_bus.kind). */
enum {
	RBUS_RESTORED,			/* text: the run id restored for */
	RBUS_RENUMBERED,		/* text: a channel numbered anew */
	RBUS_BEHIND,			/* text: a channel Redis numbers behind us */
	RBUS_REPAIR,			/* this node was taken for dead: register again */
};

/* A membership a script is about (leave, remember). */
struct member_ctx {
	struct worker *w;
	char ch[CHAN_NAME_MAX + 1];
	char uid[USER_ID_MAX + 1];
	char name[USER_NAME_MAX + 1];
};

/* The scripts, with their SHA-1s (read-only once global_init ran). */
extern struct redis_script bus_redis_scripts[S_COUNT];

/*
 * Names a channel for a reply that comes later: the channel itself may be
 * gone by then, so callbacks look it up again.
 */
struct chan_tag {
	struct worker *w;
	char ch[CHAN_NAME_MAX + 1];
};

/* bus-redis-chan.c: returns a new tag (malloc'd) for channel ch of w, or NULL. */
struct chan_tag *bus_redis_chan_tag(struct worker *w, const char *ch);

/* What a reply about one request (join, who, attach, ...) needs. */
struct op_ctx {
	struct worker *w;
	void *m;			/* the request: a struct im_* (msg.h), owned */
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

/* Sets w->bus_up for br: true while every connection of br is up. */
void bus_redis_update_up(struct bus_redis *br);

/*
 * bus-redis-publish.c: the publish op (on the sender's worker; takes m),
 * and, once Redis lost its data, every seq this worker was given in its
 * channels put back (RESTART_FENCE_MS is well longer).
 */
void bus_redis_publish(struct worker *w, struct im_publish *m);
void bus_redis_raise_given(struct worker *w);

/*
 * bus-redis-stream.c: the whisper op (on the user's owner; takes m):
 * stores m in the stream of every instance where user m->to is, and
 * answers ok, "not online" or unavailable.
 */
void bus_redis_whisper(struct worker *w, struct im_whisper *m);

/*
 * bus-redis-stream.c: the control op: stores command cmd (len bytes) in
 * the control stream, and answers client `client` of w (its request's id)
 * ok once it is stored, or unavailable.
 */
void bus_redis_control(struct worker *w, uint64_t client, const char *id,
    const char *cmd, size_t len, const struct store_change *chg,
    bool answer);

/*
 * bus-redis-stream.c: the answer op: a part for worker `to` of instance
 * nk, through nk's whisper stream (here: the inbox).
 */
void bus_redis_answer(struct worker *w, const char *nk, int to,
    const char *text, size_t len);

/*
 * bus-redis-mod.c: the moderation ops of the Redis bus: the state put back
 * after Redis lost its data (state_save with restore; bus_redis_mod_restore
 * asks worker 0's moderation layer for it), watches as pattern
 * subscriptions (bus_redis_on_watched gets their messages), the live
 * instances, and a deleted message dropped from a followed channel.
 */
void bus_redis_state_save(struct worker *w, const char *const *cmds,
    const size_t *lens, const struct store_change *chgs, size_t n,
    bool restore);
void bus_redis_mod_restore(struct worker *w);
void bus_redis_watch(struct worker *w, const char *pattern, bool on);
void bus_redis_on_watched(struct redis_conn *rc, const char *pattern,
    size_t plen, const char *channel, size_t chlen, const char *msg,
    size_t msglen, void *arg);
void bus_redis_nodes(struct worker *w, bus_nodes_cb cb, void *arg);
void bus_redis_forget(struct worker *w, const char *ch, uint64_t seq);

/*
 * bus-redis-stream.c: starts worker 0's reader of its whisper stream and
 * the control stream, on a connection of its own to addr (it connects in
 * the background).  Returns 0, or -1 (what was made goes with
 * bus_redis_stream_free).
 */
int bus_redis_stream_start(struct worker *w, const struct redis_addr *addr);

/* bus-redis-stream.c: returns true unless br has a reader whose connection is not up. */
bool bus_redis_stream_up(const struct bus_redis *br);

/* bus-redis-stream.c: periodic work (now: loop ms): a read Redis refused is tried again. */
void bus_redis_stream_tick(struct worker *w, int64_t now);

/* bus-redis-stream.c: closes the reader's connection (nothing is called back after). */
void bus_redis_stream_stop(struct bus_redis *br);

/* bus-redis-stream.c: closes and frees br's reader, if any. */
void bus_redis_stream_free(struct bus_redis *br);

/*
 * bus-redis-chan.c: returns w's channel named ch, creating it if create;
 * NULL if absent or out of memory.
 */
struct rchan *bus_redis_chan_get(struct worker *w, const char *ch,
    bool create);

/* bus-redis-chan.c: drops chn if it is forgettable (nobody here, not followed, no join waiting). */
void bus_redis_chan_maybe_drop(struct worker *w, struct rchan *chn);

/* bus-redis-chan.c: frees every channel of br (its loop has ended). */
void bus_redis_chans_free(struct bus_redis *br);

/*
 * bus-redis-chan.c: expires the followed channels' history (wall: epoch
 * ms) and drops the forgettable channels.
 */
void bus_redis_sweep(struct worker *w, int64_t wall);

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

/*
 * bus-redis-chan.c: copies the epoch of a msg payload into epoch
 * (PROTO_EPOCH_MAX + 1 bytes); returns false (epoch "") if it has none.
 */
bool bus_redis_payload_epoch(const char *p, size_t len, char *epoch);

/*
 * bus-redis-chan.c: Redis numbers chn under another epoch than the one
 * this owner knew (a numbering began there anew): the local ring and seq
 * are dropped and read again from Redis.
 */
void bus_redis_chan_renumber(struct worker *w, struct rchan *chn,
    const char *epoch);

/* bus-redis-chan.c: the join op (on the channel's owner; takes m). */
void bus_redis_join(struct worker *w, struct im_join *m);

/* bus-redis-chan.c: the leave op (on the channel's owner; takes m). */
void bus_redis_leave(struct worker *w, struct im_leave *m);

/* bus-redis-query.c: answers a history request (takes m). */
void bus_redis_history(struct worker *w, struct im_query *m);

/* bus-redis-query.c: answers a who request with the cluster's members (takes m). */
void bus_redis_who(struct worker *w, struct im_query *m);

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
 * bus-redis-repair.c: tells Redis what this owner knows of channel chn
 * (seq, epoch, kept messages), as after an outage: Redis was found behind
 * (RBUS_BEHIND), e.g. after a FLUSHALL that no reconnect revealed.
 */
void bus_redis_restore_channel(struct worker *w, struct rchan *chn);

/*
 * bus-redis-repair.c: tells Redis the present counts of the stale
 * memberships, publishing presence for those who left or came meanwhile.
 */
void bus_redis_tell_stale(struct worker *w);

/* bus-redis-repair.c: notes that Redis may count uid in ch wrongly. */
void bus_redis_stale_member(struct worker *w, const char *ch,
    const char *uid, const char *name);

/* A user a script is about (detach, reattach). */
struct user_ctx {
	struct worker *w;
	char uid[USER_ID_MAX + 1];
};

/*
 * bus-redis-repair.c: the reply callback of a detach or reattach script
 * run for a struct user_ctx (priv, freed here): without an answer, the
 * user's count is noted stale, to be told again.
 */
void bus_redis_user_done(struct redis_conn *rc, redisReply *r, void *priv);

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
