/*
 * bus.h: the in-process bus.  Each channel is owned by one worker (by hash
 * of its name), which gives every message its seq, keeps the history ring
 * and the member list, and fans each message out, already serialized, to
 * the workers that have members.  Because one thread sequences a channel and
 * inboxes are FIFO, every member on every worker sees one order.
 */
#ifndef CHATRELAY_BUS_H
#define CHATRELAY_BUS_H

#include <stdint.h>

struct worker;
struct imsg;
struct frame;

/* Handles IM_JOIN, IM_LEAVE, IM_PUBLISH, IM_HISTORY and IM_WHO on the channel's owner; frees m. */
void bus_handle(struct worker *w, struct imsg *m);

/* Drops expired history, and channels with no members and no history left. */
void bus_sweep(struct worker *w, int64_t now_ms);

/* Frees every channel the worker owns. */
void bus_free(struct worker *w);

/*
 * Sends frame f (the caller keeps its reference) to client `client` on
 * worker `to`, with an action; ch names the channel for ACT_ACTIVATE.
 */
void bus_to_client(struct worker *w, int to, uint64_t client, int action,
    const char *ch, struct frame *f);

#endif
