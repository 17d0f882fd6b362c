/*
 * redis-int.h: what the connection (redis.c), its subscriber side
 * (redis-sub.c), its Sentinel side (redis-sentinel.c), its libuv adapter
 * (redis-link.c) and its addresses (redis-url.c) share: the connection and
 * link structures and the few functions each calls in another.  Private to
 * those files; everything else uses redis.h.
 */
#ifndef CHATRELAY_REDIS_INT_H
#define CHATRELAY_REDIS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/async.h>
#include <uv.h>

#include "redis.h"
#include "strmap.h"

/* Where a channel or pattern stands with Redis; see redis-sub.c. */
enum sub_wire {
	WIRE_NONE, WIRE_SUBSCRIBING, WIRE_SUBSCRIBED, WIRE_UNSUBSCRIBING
};

/* A channel or pattern in the set, or still on the wire after it left the set. */
struct redis_sub {
	struct redis_sub *prev, *next;
	bool pattern;		/* a PSUBSCRIBE pattern, in psubs; else a channel, in subs */
	bool want;		/* in the set the caller asked for */
	enum sub_wire wire;	/* what Redis has, or was last asked */
	size_t len;
	char name[];
};

/* One attempt's hiredis context and the poll handle on its socket. */
struct redis_link {
	uv_poll_t poll;
	struct redis_conn *rc;		/* NULL once dropped */
	redisAsyncContext *ac;		/* NULL once hiredis freed it */
	int events;			/* what hiredis wants watched */
	int polling;			/* what the handle watches */
	bool in_hiredis;		/* inside redisAsyncHandleRead/Write */
	bool free_asked;		/* free ac once hiredis has returned */
	bool broken;
	char why[128];			/* why it ended, for the log */
};

/* A connection: owned by its caller until redis_conn_free, then by its handles. */
struct redis_conn {
	uv_loop_t *loop;
	struct redis_addr addr;
	char where[300];		/* for logs: never the password */
	int64_t timeout_ms, bmin_ms, bmax_ms;
	/* Where the next link goes: addr's host, a sentinel, or the master one named. */
	char target[256];
	int target_port;

	redis_state_cb state_cb;
	void *state_arg;
	redis_message_cb msg_cb;
	void *msg_arg;
	redis_pmessage_cb pmsg_cb;
	void *pmsg_arg;
	redis_subscribed_cb subd_cb;
	void *subd_arg;

	enum redis_state state;
	bool freeing;
	bool ready;			/* AUTH, SELECT, PING answered */
	bool down_logged;		/* the outage has been logged */
	bool ever_up;
	unsigned refs;			/* the timer handle, a lookup */
	uv_timer_t timer;		/* start, connect timeout, backoff */
	struct redis_link *link;
	struct redis_resolve *resolve;
	unsigned failures;		/* since the last UP */
	unsigned addr_idx;		/* which resolved address to try */
	uint64_t rng;

	struct redis_pending *head, *tail;
	size_t npending;

	struct strmap subs;		/* channel -> struct redis_sub */
	struct strmap psubs;		/* pattern -> struct redis_sub */
	struct redis_sub *sub_list;	/* both kinds */
	size_t nsubs;			/* channels and patterns */
	size_t nsubscribing;		/* (P)SUBSCRIBEs not confirmed yet */

	/* Sentinel mode (addr.master set): see redis-sentinel.c. */
	struct redis_conn *owner;	/* a watcher: the connection it serves */
	struct redis_conn *watch;	/* the owner's watcher of +switch-master */
	bool asking;			/* the link asks a sentinel where the master is */
	bool hinted;			/* the next attempt goes to known, unasked */
	unsigned sentinel_idx;		/* the sentinel to ask, or watch, next */
	unsigned asked;			/* sentinels asked in this attempt */
	char told_by[300];		/* the sentinel that named target */
	char known[256];		/* the master last named, "" before */
	int known_port;
};

/* Returns true if rc's link can take a command now. */
bool redis_link_usable(const struct redis_conn *rc);

/* Marks l unusable; the connection's timer drops it on the next iteration. */
void redis_link_broken(struct redis_link *l, const char *why);

/* Goes UP if the attempt is complete: handshake answered, every (P)SUBSCRIBE confirmed. */
void redis_conn_maybe_up(struct redis_conn *rc);

/* Starts the empty channel and pattern set of a new connection. */
void redis_subs_init(struct redis_conn *rc);

/* The handshake is done: subscribes to the whole set, in batches. */
void redis_subs_resync(struct redis_conn *rc);

/* The link is gone: nothing is subscribed on the wire any more. */
void redis_subs_reset(struct redis_conn *rc);

/* Frees the channel and pattern set of a connection that is being freed. */
void redis_subs_free(struct redis_conn *rc);

/* redis-link.c: lets go of rc's link (its context freed now or once hiredis returns). */
void redis_link_drop(struct redis_conn *rc);

/* redis-link.c: makes ac use link l's uv_poll handle for its events. */
void redis_link_hook(redisAsyncContext *ac, struct redis_link *l);

/* redis.c: the connection is lost (why is logged); reconnects with back-off. */
void redis_conn_lost(struct redis_conn *rc, const char *why);

/* redis.c: the connection's timer (connect timeout, back-off, dropping a broken link). */
void redis_conn_on_timer(uv_timer_t *t);

/* redis.c: redis_conn_new, for a watcher too (owner set: it serves owner). */
struct redis_conn *redis_conn_create(uv_loop_t *loop,
    const struct redis_addr *addr, int64_t connect_timeout_ms,
    int64_t backoff_min_ms, int64_t backoff_max_ms, redis_state_cb state_cb,
    void *arg, struct redis_conn *owner);

/* redis.c: opens a link to rc's target (a lookup first if it is a name). */
void redis_conn_connect(struct redis_conn *rc);

/* redis.c: (re)starts rc's timer for one connect timeout, if it has one. */
void redis_conn_arm_timeout(struct redis_conn *rc);

/*
 * redis.c: queues a command of the handshake (C strings, at most 3) whose
 * reply goes to cb, ahead of anything the caller sends.  Returns 0 or -1.
 */
int redis_conn_send_internal(struct redis_conn *rc, redis_reply_cb cb,
    void *priv, int argc, const char **argv);

/* redis-sentinel.c: creates the watcher of a new sentinel-mode connection.  Returns 0 or -1. */
int redis_sentinel_init(struct redis_conn *rc);

/* redis-sentinel.c: frees rc's watcher, if it has one. */
void redis_sentinel_free(struct redis_conn *rc);

/* redis-sentinel.c: an attempt of a sentinel-mode connection or watcher starts: picks where to go, and goes. */
void redis_sentinel_attempt(struct redis_conn *rc);

/* redis-sentinel.c: queues SENTINEL get-master-addr-by-name on the asking link.  Returns 0 or -1. */
int redis_sentinel_query(struct redis_conn *rc);

/*
 * redis-sentinel.c: rc's link failed (why).  Returns true if another
 * sentinel is being asked instead; false if rc is to go DOWN, with the
 * reason to log in why_out (why itself, or that no sentinel answered).
 */
bool redis_sentinel_lost(struct redis_conn *rc, const char *why,
    char *why_out, size_t len);

/* redis-sentinel.c: returns true if ROLE's reply r says master; else writes what it said into buf. */
bool redis_sentinel_role_ok(const struct redisReply *r, char *buf, size_t len);

/* redis-sentinel.c: returns true if error reply r says the server is a read-only replica. */
bool redis_reply_readonly(const struct redisReply *r);

/* redis-url.c: returns true if addr is complete and every string in it is terminated. */
bool redis_addr_valid(const struct redis_addr *addr);

/* redis-url.c: writes host and port as "host:port" or "[v6]:port" into buf. */
void redis_hostport_describe(const char *host, int port, char *buf,
    size_t len);

#endif
