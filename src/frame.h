/*
 * frame.h: immutable, reference-counted, ready-to-send WebSocket frames.
 *
 * A message is serialized once into a frame (unmasked server header plus
 * payload); every recipient on every worker queues a reference to the same
 * bytes.  The count is atomic because a frame crosses workers; the bytes are
 * never written after frame_new returns, so readers need no lock.
 */
#ifndef CHATRELAY_FRAME_H
#define CHATRELAY_FRAME_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct frame {
	atomic_int refs;
	uint32_t len;		/* header + payload bytes in data */
	uint16_t hdr;		/* header bytes at the start of data */
	uint64_t seq;		/* channel seq for msg frames (and the first
				   frame of a joined answer), else 0 */
	int64_t ts;		/* ms since epoch for msg frames, else 0 */
	uint8_t data[];
};

/*
 * Returns a new text frame holding a copy of payload (len bytes), with one
 * reference owned by the caller, or NULL if memory ran out.
 */
struct frame *frame_text(const char *payload, size_t len);

/* Returns a new CLOSE frame with the given status code and reason (<= 123 bytes). */
struct frame *frame_close(uint16_t code, const char *reason);

/* Returns a new PING frame (with a 2-byte payload, so the PONG has one too). */
struct frame *frame_ping(void);

/* Adds a reference and returns f. */
static inline struct frame *
frame_ref(struct frame *f)
{
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
	return f;
}

/* Drops a reference; the last one frees the frame.  NULL is ignored. */
void frame_unref(struct frame *f);

/* The payload (the JSON text for text frames) and its length. */
static inline const char *
frame_payload(const struct frame *f)
{
	return (const char *)f->data + f->hdr;
}

static inline size_t
frame_payload_len(const struct frame *f)
{
	return f->len - f->hdr;
}

#endif
