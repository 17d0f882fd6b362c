/*
 * inbox.c: the lock-free MPSC queue between workers.
 */
#include <stdlib.h>

#include "inbox.h"

int
inbox_init(struct inbox *ib, uv_loop_t *loop, uv_async_cb cb, void *data)
{
	int rc;

	atomic_store(&ib->stub.next, NULL);
	atomic_store(&ib->head, &ib->stub);
	ib->tail = &ib->stub;
	rc = uv_async_init(loop, &ib->async, cb);
	if (rc == 0)
		ib->async.data = data;
	return rc;
}

/* Links m at the head without waking anybody. */
static void
inbox_link(struct inbox *ib, struct imsg *m)
{
	struct imsg *prev;

	atomic_store_explicit(&m->next, NULL, memory_order_relaxed);
	prev = atomic_exchange_explicit(&ib->head, m, memory_order_acq_rel);
	atomic_store_explicit(&prev->next, m, memory_order_release);
}

void
inbox_push(struct inbox *ib, struct imsg *m)
{
	inbox_link(ib, m);
	uv_async_send(&ib->async);
}

struct imsg *
inbox_pop(struct inbox *ib)
{
	struct imsg *tail = ib->tail;
	struct imsg *next = atomic_load_explicit(&tail->next,
	    memory_order_acquire);

	if (tail == &ib->stub) {
		if (next == NULL)
			return NULL;
		ib->tail = next;
		tail = next;
		next = atomic_load_explicit(&next->next, memory_order_acquire);
	}
	if (next != NULL) {
		ib->tail = next;
		return tail;
	}
	if (tail != atomic_load_explicit(&ib->head, memory_order_acquire))
		return NULL;	/* a producer is between its two steps */
	inbox_link(ib, &ib->stub);
	next = atomic_load_explicit(&tail->next, memory_order_acquire);
	if (next != NULL) {
		ib->tail = next;
		return tail;
	}
	return NULL;
}

void
inbox_discard(struct inbox *ib, void (*free_fn)(struct imsg *m))
{
	struct imsg *m;

	while ((m = inbox_pop(ib)) != NULL)
		free_fn(m);
}
