/*
 * history.c: the per-channel message ring.
 */
#include <stdlib.h>

#include "frame.h"
#include "history.h"

void
history_init(struct history *h, int cap)
{
	h->ring = NULL;
	h->cap = cap > 0 ? cap : 0;
	h->head = 0;
	h->count = 0;
}

void
history_free(struct history *h)
{
	int i;

	for (i = 0; i < h->count; i++)
		frame_unref(history_at(h, i));
	free(h->ring);
	h->ring = NULL;
	h->head = 0;
	h->count = 0;
}

struct frame *
history_at(const struct history *h, int i)
{
	return h->ring[(h->head + i) % h->cap];
}

int
history_push(struct history *h, struct frame *f)
{
	if (h->cap == 0)
		return 0;
	if (h->ring == NULL) {
		h->ring = calloc((size_t)h->cap, sizeof *h->ring);
		if (h->ring == NULL)
			return -1;
	}
	if (h->count == h->cap) {
		frame_unref(h->ring[h->head]);
		h->ring[h->head] = frame_ref(f);
		h->head = (h->head + 1) % h->cap;
		return 0;
	}
	h->ring[(h->head + h->count) % h->cap] = frame_ref(f);
	h->count++;
	return 0;
}

int
history_remove(struct history *h, uint64_t seq)
{
	int i, j;

	for (i = 0; i < h->count; i++)
		if (history_at(h, i)->seq == seq)
			break;
	if (i == h->count)
		return -1;
	frame_unref(history_at(h, i));
	/* The later entries move back one place, keeping their order. */
	for (j = i; j + 1 < h->count; j++)
		h->ring[(h->head + j) % h->cap] =
		    h->ring[(h->head + j + 1) % h->cap];
	h->ring[(h->head + h->count - 1) % h->cap] = NULL;
	h->count--;
	return 0;
}

void
history_expire(struct history *h, int64_t now_ms, int64_t ttl_ms)
{
	while (h->count > 0 && h->ring[h->head]->ts <= now_ms - ttl_ms) {
		frame_unref(h->ring[h->head]);
		h->ring[h->head] = NULL;
		h->head = (h->head + 1) % h->cap;
		h->count--;
	}
	if (h->count == 0 && h->ring != NULL) {
		free(h->ring);
		h->ring = NULL;
		h->head = 0;
	}
}

int
history_select(const struct history *h, int64_t since, int last, int max,
    uint64_t last_seq, int *first, bool *complete)
{
	int lo, n;

	if (since < 0) {
		n = last < h->count ? last : h->count;
		if (n > max)
			n = max;
		if (n < 0)
			n = 0;
		*first = h->count - n;
		if (complete != NULL)
			*complete = true;
		return n;
	}
	/* Entries are in increasing seq order, not always consecutive. */
	for (lo = 0; lo < h->count; lo++)
		if (history_at(h, lo)->seq > (uint64_t)since)
			break;
	n = h->count - lo;
	if (complete != NULL) {
		if ((uint64_t)since >= last_seq)
			*complete = (uint64_t)since == last_seq;
		else
			*complete = n > 0 &&
			    history_at(h, lo)->seq == (uint64_t)since + 1;
	}
	/* Keep the oldest ones, so the client can page forward from there. */
	if (n > max) {
		n = max;
		if (complete != NULL)
			*complete = false;
	}
	*first = lo;
	return n;
}
