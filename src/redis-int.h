/*
 * redis-int.h: what the connection (redis.c), its subscriber side
 * (redis-sub.c), its libuv adapter (redis-link.c) and its addresses
 * (redis-url.c) share: the connection and link structures and the few
 * functions each calls in another.  Private to those files; everything
 * else uses redis.h.
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

/* Where a channel stands with Redis; see redis-sub.c. */
enum sub_wire {
	WIRE_NONE, WIRE_SUBSCRIBING, WIRE_SUBSCRIBED, WIRE_UNSUBSCRIBING
};

/* A channel in the set, or still on the wire after it left the set. */
struct redis_sub {
	struct redis_sub *prev, *next;
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
	bool numeric;			/* host needs no lookup */
	int64_t timeout_ms, bmin_ms, bmax_ms;

	redis_state_cb state_cb;
	void *state_arg;
	redis_message_cb msg_cb;
	void *msg_arg;
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

	struct strmap subs;		/* name -> struct redis_sub */
	struct redis_sub *sub_list;
	size_t nsubs;
	size_t nsubscribing;
};

/* Returns true if rc's link can take a command now. */
bool redis_link_usable(const struct redis_conn *rc);

/* Marks l unusable; the connection's timer drops it on the next iteration. */
void redis_link_broken(struct redis_link *l, const char *why);

/* Goes UP if the attempt is complete: handshake answered, every SUBSCRIBE confirmed. */
void redis_conn_maybe_up(struct redis_conn *rc);

/* The handshake is done: subscribes to the whole set, in batches. */
void redis_subs_resync(struct redis_conn *rc);

/* The link is gone: nothing is subscribed on the wire any more. */
void redis_subs_reset(struct redis_conn *rc);

/* Frees the channel set of a connection that is being freed. */
void redis_subs_free(struct redis_conn *rc);

/* redis-link.c: lets go of rc's link (its context freed now or once hiredis returns). */
void redis_link_drop(struct redis_conn *rc);

/* redis-link.c: makes ac use link l's uv_poll handle for its events. */
void redis_link_hook(redisAsyncContext *ac, struct redis_link *l);

/* redis.c: the connection is lost (why is logged); reconnects with back-off. */
void redis_conn_lost(struct redis_conn *rc, const char *why);

/* redis.c: the connection's timer (connect timeout, back-off, dropping a broken link). */
void redis_conn_on_timer(uv_timer_t *t);

/* redis-url.c: writes host and port as "host:port" or "[v6]:port" into buf. */
void redis_hostport_describe(const char *host, int port, char *buf,
    size_t len);

#endif
