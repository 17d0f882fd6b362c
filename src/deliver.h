/*
 * deliver.h: delivery, in one place: a frame to the local members of a
 * channel, to the local connections of a user, to one client, and the same
 * across the workers of this instance (run here for this worker, posted to
 * the others' inboxes).
 */
#ifndef CHATRELAY_DELIVER_H
#define CHATRELAY_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "proto.h"

struct frame;
struct origin;
struct worker;
struct im_deliver;
struct im_user_deliver;

/*
 * Delivers f to every active local member of channel ch, except the
 * connections of user `except` (NULL: everyone; presence is never sent to
 * the user it is about).  The caller keeps its reference.
 */
void deliver_channel(struct worker *w, const char *ch, struct frame *f,
    const char *except);

/* Delivers f to every local connection of user uid (the caller keeps f). */
void deliver_user(struct worker *w, const char *uid, struct frame *f);

/* Delivers f to every authenticated local connection (the caller keeps f). */
void deliver_all(struct worker *w, struct frame *f);

/*
 * deliver_channel on every worker i with counts[i] > 0 (counts NULL: every
 * worker): here at once, elsewhere through the inbox.  The caller keeps f.
 */
void deliver_channel_workers(struct worker *w, const uint32_t *counts,
    const char *ch, struct frame *f, const char *except);

/* deliver_user on every worker i with counts[i] > 0 (counts NULL: every worker). */
void deliver_user_workers(struct worker *w, const uint32_t *counts,
    const char *uid, struct frame *f);

/*
 * Delivers f (a message of channel ch) to the local connections that watch
 * ch without being members, or (ch NULL: a moderation event) to every
 * local watching connection.  The caller keeps f.
 */
void deliver_watchers(struct worker *w, const char *ch, struct frame *f);

/*
 * deliver_watchers(ch, f) on every worker of this instance that has
 * watchers (the in-process bus: the sequencer calls it).  The caller keeps f.
 */
void deliver_watch_workers(struct worker *w, const char *ch, struct frame *f);

/*
 * Hands control command cmd (len bytes) to every worker of this instance
 * (to -1) or to worker `to`, to run there (control.h) with flags
 * CONTROL_*.  Returns 0, or -1 if it is longer than CONTROL_MAX (logged,
 * handed to nobody).
 */
int deliver_control_workers(struct worker *w, int to, const char *cmd,
    size_t len, unsigned flags);

/* Hands a part of a cluster answer (len bytes) to worker `to` here (IM_ANSWER). */
void deliver_answer_worker(struct worker *w, int to, const char *text,
    size_t len);

/*
 * Posts an im_bus of the bus's own kind, with text (cut to fit), to worker
 * `to`, or to every worker of this instance (this one included) when to is
 * -1: what one worker's side of the bus tells the others.
 */
void deliver_bus_workers(struct worker *w, int to, uint8_t kind,
    const char *text);

/*
 * Sends f to the client a request came from, with an action for its worker
 * (ch: the channel of ACT_ACTIVATE and ACT_JOIN_FAIL, else NULL).  Takes
 * the caller's reference of f; a NULL f (out of memory) sends nothing.
 */
void deliver_reply(struct worker *w, const struct origin *to, int action,
    const char *ch, struct frame *f);

/* Sends err code with msg to the client a request came from, and counts it. */
void deliver_reply_err(struct worker *w, const struct origin *to, int action,
    const char *ch, enum errcode code, const char *msg);

/*
 * Answers an attach of user uid: its owner admitted the connection (ok) or
 * refused it (too many connections).  If the connection has gone by then,
 * its worker gives the count back (a detach).  Returns 0, or -1 if the
 * answer could not be sent (out of memory): the caller takes the count
 * back itself, or it would never be.
 */
int deliver_attach_answer(struct worker *w, const struct origin *to, bool ok,
    const char *uid);

/* IM_DELIVER and IM_USER_DELIVER on the receiving worker. */
void deliver_on_channel(struct worker *w, struct im_deliver *m);
void deliver_on_user(struct worker *w, struct im_user_deliver *m);

#endif
