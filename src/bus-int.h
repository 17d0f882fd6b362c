/*
 * bus-int.h: what the two buses (bus-local.c and bus-redis*.c) share, from
 * bus.c: a channel's members, and answering joins and history requests
 * from a history ring.  Private to the buses.
 */
#ifndef CHATRELAY_BUS_INT_H
#define CHATRELAY_BUS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"
#include "strmap.h"

struct history;
struct worker;
struct im_join;
struct im_query;

/* A user in a channel (a value kept inline in a strmap keyed by user id). */
struct cmember {
	uint32_t conns;		/* its memberships (connections) in the channel */
	char name[];		/* sized to the name: one per member per channel */
};

/*
 * Counts one more membership of user uid (display name name) in members.
 * Returns 1 if the user is new there, 0 if it was in already, -1 if memory
 * ran out (nothing changed).
 */
int bus_member_add(struct strmap *members, const char *uid, const char *name);

/*
 * Counts one membership less of uid.  Returns 1 if that was its last (it
 * is gone: name, if not NULL, gets its display name first), 0 if it is
 * still in, -1 if it was not a member.
 */
int bus_member_remove(struct strmap *members, const char *uid, char *name,
    size_t name_len);

/*
 * Sweeps a map of channels: expired(chn, arg) runs on each (it may expire
 * history too) and says whether it can go; those that can are then handed
 * to drop(chn, arg), which takes them out of the map and frees them.  A
 * channel that cannot be noted (memory ran out) waits for the next sweep.
 */
void bus_sweep(struct strmap *channels, bool (*expired)(void *chn, void *arg),
    void (*drop)(void *chn, void *arg), void *arg);

/*
 * Answers join m from history ring h (its last seq: seq, of the numbering
 * epoch; members: the member count to report), with the messages m asked
 * for (history, since).  A since from another epoch gets what is kept,
 * with recovered false.  action goes with the first frame (ACT_ACTIVATE
 * or ACT_NONE).
 */
void bus_answer_joined(struct worker *w, const struct im_join *m,
    struct history *h, uint64_t seq, const char *epoch, uint64_t members,
    int action);

/*
 * Answers history request m from history ring h (its last seq: seq, of
 * the numbering epoch; a since from another epoch is ignored).
 */
void bus_answer_history(struct worker *w, const struct im_query *m,
    struct history *h, uint64_t seq, const char *epoch);

/* Fills epoch (PROTO_EPOCH_MAX + 1 bytes) with a new random epoch of w's. */
void bus_new_epoch(struct worker *w, char *epoch);

/* Answers who request m with the members of a strmap of struct cmember. */
void bus_answer_who_map(struct worker *w, const struct im_query *m,
    const struct strmap *members);

#endif
