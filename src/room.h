/*
 * room.h: a worker's room table: channel -> local members, and for each
 * member the channels it is in, kept in sync both ways (as Redis keeps its
 * pub/sub indexes), so fan-out walks a flat array and a disconnect costs
 * one step per channel the client was in.
 *
 * A membership is first pending (the channel's owner has not confirmed the
 * join yet: messages sequenced before the join must not reach the client)
 * and then active.  Only active members are in room->members.
 */
#ifndef CHATRELAY_ROOM_H
#define CHATRELAY_ROOM_H

#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "strmap.h"

struct room_member {
	void *owner;		/* the member (a struct client *) */
	struct room_set *set;	/* the member's side of the index */
	uint16_t slot;		/* index of the link in the owner's room_set */
};

struct room {
	char name[CHAN_NAME_MAX + 1];
	struct room_member *members;	/* active members */
	uint32_t n, cap;
	uint32_t links;		/* active + pending memberships */
	uint64_t last_seq;	/* the highest seq delivered here (see room_seen) */
	uint64_t given;		/* the highest seq given to a send from here */
};

struct room_link {
	struct room *room;	/* NULL = free slot */
	uint32_t idx;		/* index in room->members when active */
	bool active;
};

/* One member's side: the channels it is in. */
struct room_set {
	struct room_link *links;
	uint16_t n;		/* used slots (some may be free) */
	uint16_t cap;
	uint16_t count;		/* memberships */
};

struct room_table {
	struct strmap rooms;	/* name -> struct room * */
};

void room_table_init(struct room_table *t);
/* Frees every room; every set must have left first. */
void room_table_free(struct room_table *t);

/*
 * Notes that seq was delivered in ch here (a msg, or the seq of a joined
 * answer): the worker then knows the channel's numbering has reached it,
 * which the Redis bus checks before it lets Redis number a message.
 */
static inline void
room_seen_in(struct room *r, uint64_t seq)
{
	if (r != NULL && seq > r->last_seq)
		r->last_seq = seq;
}

/* Returns the room named ch, or NULL if no local member is in it. */
struct room *room_find(struct room_table *t, const char *ch);

/* The channel ch is numbered anew: what was seen of it no longer counts. */
void room_renumbered(struct room_table *t, const char *ch);

/* room_seen_in for the room named ch, if it exists. */
void room_seen(struct room_table *t, const char *ch, uint64_t seq);

/* Returns the set's link for channel ch, or NULL if not a member. */
struct room_link *room_set_find(struct room_set *s, const char *ch);

/*
 * Adds owner to channel ch as a pending member (active = false) or an active
 * one.  Returns 0, -1 if already a member, -2 if the set holds max channels,
 * -3 if memory ran out.
 */
int room_join(struct room_table *t, struct room_set *s, void *owner,
    const char *ch, int max, bool active);

/* Makes a pending membership active.  Returns 0, or -1 if there is none. */
int room_activate(struct room_table *t, struct room_set *s, void *owner,
    const char *ch);

/*
 * Removes owner from ch.  Returns 1 if it was an active member, 0 if a
 * pending one, -1 if not a member.  The room is freed when its last link
 * goes.
 */
int room_leave(struct room_table *t, struct room_set *s, const char *ch);

/*
 * Removes owner from every channel, calling fn(ch, was_active, arg) for each
 * before it goes (fn may be NULL), and frees the set's memory.
 */
void room_leave_all(struct room_table *t, struct room_set *s,
    void (*fn)(const char *ch, bool active, void *arg), void *arg);

#endif
