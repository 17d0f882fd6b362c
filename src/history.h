/*
 * history.h: the last messages of one channel, in a ring.
 *
 * Each entry keeps a reference to the message's frame, whose payload is the
 * serialized msg object: history replies are those payloads joined with
 * commas, with no JSON work.  Entries older than the ttl are dropped.
 */
#ifndef CHATRELAY_HISTORY_H
#define CHATRELAY_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

struct frame;

struct history {
	struct frame **ring;	/* cap entries; frame->seq and ->ts are set */
	int cap;
	int head;		/* index of the oldest entry */
	int count;
};

/* Starts an empty history of cap entries (cap 0 keeps nothing). */
void history_init(struct history *h, int cap);
/* Drops every entry and frees the ring. */
void history_free(struct history *h);

/*
 * Appends f (taking a reference of its own), dropping the oldest entry when
 * full.  Returns 0, or -1 if memory ran out (nothing is kept then).
 */
int history_push(struct history *h, struct frame *f);

/*
 * Drops the entry with seq (a moderator deleted it).  Returns 0, or -1 if
 * it is not kept.
 */
int history_remove(struct history *h, uint64_t seq);

/* Drops entries whose ts is at or before now_ms - ttl_ms. */
void history_expire(struct history *h, int64_t now_ms, int64_t ttl_ms);

/* Returns the i-th entry, oldest first (0 <= i < count). */
struct frame *history_at(const struct history *h, int i);

/*
 * Finds the entries a client asked for: with since >= 0, those with seq >
 * since; otherwise the last `last` entries.  At most max entries
 * (with since, the oldest of them; else the newest).  Sets *first to the index (for history_at) of the first entry and
 * returns how many.  *complete (may be NULL) is set to whether every
 * message after since is among them (only meaningful with since), given the
 * channel's last seq.
 */
int history_select(const struct history *h, int64_t since, int last,
    int max, uint64_t last_seq, int *first, bool *complete);

#endif
