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

/*
 * The link every message starts with; msg.h has the payloads, one struct
 * per type, each beginning with this.
 */
struct imsg {
	_Atomic(struct imsg *) next;
	uint8_t type;			/* enum imsg_type (msg.h) */
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

/* Appends m (from any thread) and wakes the consumer. */
void inbox_push(struct inbox *ib, struct imsg *m);

/*
 * Takes the oldest message, or returns NULL when there is none (or a push
 * is half done: its wake-up will come).  Consumer thread only.
 */
struct imsg *inbox_pop(struct inbox *ib);

/* Frees every message still queued with free_fn (at teardown, consumer thread only). */
void inbox_discard(struct inbox *ib, void (*free_fn)(struct imsg *m));

#endif
