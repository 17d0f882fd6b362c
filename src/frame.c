/*
 * frame.c: building server WebSocket frames (RFC 6455 section 5.2).
 *
 * Server frames are never masked, so the header depends only on the opcode
 * and the length and the same bytes serve every recipient.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"

/* Writes the header for a FIN frame of opcode op and length len into h; returns its size. */
static size_t
frame_header(uint8_t *h, uint8_t op, size_t len)
{
	int i;

	h[0] = 0x80 | op;
	if (len < 126) {
		h[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		h[1] = 126;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		return 4;
	}
	h[1] = 127;
	for (i = 0; i < 8; i++)
		h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	return 10;
}

/* Allocates a frame of opcode op around payload; returns it with one reference, or NULL. */
static struct frame *
frame_new(uint8_t op, const void *payload, size_t len)
{
	uint8_t h[10];
	size_t hl = frame_header(h, op, len);
	struct frame *f;

	if (len > UINT32_MAX - 10)
		return NULL;
	f = malloc(sizeof *f + hl + len);
	if (f == NULL)
		return NULL;
	atomic_init(&f->refs, 1);
	f->len = (uint32_t)(hl + len);
	f->hdr = (uint16_t)hl;
	f->seq = 0;
	f->ts = 0;
	memcpy(f->data, h, hl);
	if (len != 0)
		memcpy(f->data + hl, payload, len);
	return f;
}

struct frame *
frame_text(const char *payload, size_t len)
{
	return frame_new(0x1, payload, len);
}

struct frame *
frame_close(uint16_t code, const char *reason)
{
	uint8_t p[125];
	size_t rl = reason != NULL ? strlen(reason) : 0;

	if (rl > sizeof p - 2) {
		/* Cut at a character boundary: the reason must stay UTF-8. */
		rl = sizeof p - 2;
		while (rl > 0 && ((uint8_t)reason[rl] & 0xc0) == 0x80)
			rl--;
	}
	p[0] = (uint8_t)(code >> 8);
	p[1] = (uint8_t)code;
	if (rl != 0)
		memcpy(p + 2, reason, rl);
	return frame_new(0x8, p, rl + 2);
}

struct frame *
frame_ping(void)
{
	/* lws 4.1.6 drops empty PONGs before the user callback sees them. */
	return frame_new(0x9, "cr", 2);
}

void
frame_unref(struct frame *f)
{
	if (f == NULL)
		return;
	if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1)
		free(f);
}
