/*
 * inbox.h: how workers hand work to each other.
 *
 * A multi-producer, single-consumer queue of messages (Vyukov's intrusive
 * MPSC queue: a push is one atomic exchange, no lock) plus a uv_async_t that
 * wakes the owning worker, which drains the queue in a batch.  A message
 * belongs to the sender until inbox_push returns, then to the receiver.
 */
#ifndef CHATRELAY_INBOX_H
#define CHATRELAY_INBOX_H

#include <stdatomic.h>
#include <stdint.h>

#include <uv.h>

#include "chan.h"
#include "proto.h"

struct frame;

enum imsg_type {
	/* To a channel's owner. */
	IM_JOIN, IM_LEAVE, IM_PUBLISH, IM_HISTORY, IM_WHO,
	/* To a user's owner. */
	IM_USER_ATTACH, IM_USER_DETACH, IM_WHISPER,
	/* To the worker that holds the members or the client. */
	IM_DELIVER,		/* frame to every active member of ch */
	IM_USER_DELIVER,	/* frame to every connection of user */
	IM_TO_CLIENT,		/* frame (and action) to one client */
	IM_CONTROL,		/* a control command (body) for every worker */
	IM_BUS_REPAIR,		/* tell Redis about this worker's members again */
	/* Lifecycle, from the main thread. */
	IM_DRAIN, IM_QUIESCE, IM_DESTROY,
};

enum imsg_action {
	ACT_NONE,		/* just deliver the frame */
	ACT_ACTIVATE,		/* activate the pending membership of ch, then deliver */
	ACT_AUTH_OK,		/* the user's owner admitted the connection */
	ACT_AUTH_REFUSE,	/* too many connections for the user */
	ACT_JOIN_FAIL,		/* drop the pending membership of ch, then deliver */
};

struct imsg {
	_Atomic(struct imsg *) next;
	uint8_t type;
	uint8_t action;
	uint8_t flag;			/* type-specific: rejoin, notify */
	uint16_t worker;		/* the worker that sent it (for replies) */
	uint64_t client;		/* the client it is from or for */
	struct frame *frame;		/* a reference owned by the message */
	char *body;			/* malloc'd, owned by the message */
	size_t body_len;
	int64_t since;
	uint64_t t0;			/* uv_hrtime() when a publish started */
	int32_t count;			/* history / limit */
	char ch[CHAN_NAME_MAX + 1];
	char user[USER_ID_MAX + 1];
	char name[USER_NAME_MAX + 1];
	char id[PROTO_ID_JSON_MAX + 1];	/* the request's id, "" if none */
};

struct inbox {
	_Atomic(struct imsg *) head;	/* producers push here */
	struct imsg *tail;		/* the consumer pops here */
	struct imsg stub;
	uv_async_t async;
};

/*
 * Sets the inbox up on loop; cb drains it (with inbox_pop) when woken.
 * Returns 0 or a libuv error.
 */
int inbox_init(struct inbox *ib, uv_loop_t *loop, uv_async_cb cb, void *data);

/* Allocates a zeroed message of the given type; returns NULL if memory ran out. */
struct imsg *imsg_new(enum imsg_type type);

/* Frees a message and what it owns. */
void imsg_free(struct imsg *m);

/* Appends m (from any thread) and wakes the consumer. */
void inbox_push(struct inbox *ib, struct imsg *m);

/*
 * Takes the oldest message, or returns NULL when there is none (or a push
 * is half done: its wake-up will come).  Consumer thread only.
 */
struct imsg *inbox_pop(struct inbox *ib);

/* Frees every message still queued (at teardown, consumer thread only). */
void inbox_discard(struct inbox *ib);

#endif
