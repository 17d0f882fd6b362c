/*
 * bus-int.h: what the in-process bus (bus.c) and the Redis bus
 * (bus-redis.c) share: a worker's state for the channels it owns, and the
 * replies and fan-out built from it.  Private to those two files.
 */
#ifndef CHATRELAY_BUS_INT_H
#define CHATRELAY_BUS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "history.h"
#include "proto.h"
#include "strmap.h"

struct frame;
struct imsg;
struct jsonw;
struct worker;

/* A user in a channel, with how many of its connections are in it. */
struct cmember {
	uint32_t conns;
	char name[];		/* sized to the name: one per member per channel */
};

struct channel {
	char name[CHAN_NAME_MAX + 1];
	uint64_t seq;			/* last seq given */
	int64_t active_ms;		/* last join, leave or message */
	struct history hist;
	struct strmap members;		/* uid -> struct cmember (inline); Redis: local */
	/* With Redis: */
	uint32_t nlocal;		/* this instance's memberships */
	bool subscribed;		/* SUBSCRIBE sent (and kept while nlocal > 0) */
	bool synced;			/* hist and seq caught up with Redis */
	bool syncing;			/* a history read is under way */
	struct imsg *pending;		/* joins waiting for the sync, oldest first */
	struct frame **early;		/* what the subscription brought before the sync */
	uint32_t nearly, capearly;
	uint32_t wcount[];		/* memberships per worker */
};

/* Returns the channel named ch, creating it if create; NULL if absent or out of memory. */
struct channel *bus_channel_get(struct worker *w, const char *ch, bool create);

/* Frees a channel that is already out of the worker's map. */
void bus_channel_free(struct channel *chn);

/* Drops chn if nobody is in it and it has nothing left to remember. */
void bus_channel_maybe_drop(struct worker *w, struct channel *chn);

/* Sends a freshly built frame (dropping the caller's reference) to m's sender. */
void bus_reply(struct worker *w, const struct imsg *m, int action,
    struct frame *f);

/* Sends err to m's sender. */
void bus_reply_err(struct worker *w, const struct imsg *m, enum errcode code,
    const char *msg);

/* Sends f to every worker with members in chn (the caller keeps its reference). */
void bus_fanout(struct worker *w, struct channel *chn, struct frame *f);

/* The same, leaving out the connections of user `except` (NULL: nobody). */
void bus_fanout_except(struct worker *w, struct channel *chn, struct frame *f,
    const char *except);

/* Starts a reply frame: {"op":OP,"id":ID,"ch":CH */
void bus_reply_head(struct jsonw *jw, const char *op, const struct imsg *m);

/*
 * Sends history entries [first, first+n) of chn to m's sender, split over
 * frames within frame_max (see bus.c).
 */
void bus_send_msgs(struct worker *w, const struct imsg *m, struct channel *chn,
    struct jsonw *jw, const char *tail, int first, int n, int action);

/* Answers a history request of m from chn's history ring. */
void bus_history_reply(struct worker *w, const struct imsg *m,
    struct channel *chn);

/*
 * Answers a join of m from chn's history ring: {"op":"joined",...} with
 * seq = chn->seq, members as given, and the messages asked for.
 */
void bus_joined_reply(struct worker *w, const struct imsg *m,
    struct channel *chn, uint64_t members, int action);

#endif
