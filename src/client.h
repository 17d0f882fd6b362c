/*
 * client.h: one WebSocket connection, owned by the worker that accepted it.
 *
 * lws's per-session data holds only a pointer to this struct.  Outbound data
 * is a queue of references to shared frames, capped in bytes; the worker
 * flushes every client with pending frames once per loop iteration,
 * coalescing them into as few writes as possible.  A client that fills its
 * queue is closed (4029) and never slows anybody else down.
 */
#ifndef CHATRELAY_CLIENT_H
#define CHATRELAY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth.h"
#include "chan.h"
#include "proto.h"
#include "ratelimit.h"
#include "room.h"

struct lws;
struct frame;
struct worker;

enum client_state {
	CS_NEW,			/* not authenticated yet */
	CS_AUTH_PENDING,	/* identity checked, the user's owner is asked */
	CS_READY,		/* authenticated */
};

struct qnode {
	struct frame *f;
	struct qnode *next;
};

struct client {
	/* Ordered by size: every idle connection pays for this struct. */
	struct worker *w;
	struct lws *wsi;		/* NULL once lws has closed it */
	/*
	 * The user's id, then its display name (client_name): "" and "" until
	 * authenticated, then both in one allocation sized to them.
	 */
	const char *uid;
	struct identity *chs;		/* the token's chs patterns, or NULL */
	struct room_set rooms;
	struct qnode *qhead, *qtail;
	char *rx;			/* reassembly of a fragmented message */
	struct bucket msg_bucket;	/* send, whisper */
	struct bucket op_bucket;	/* everything else */

	uint32_t slot;			/* index in the worker's client table */
	uint32_t flush_idx;
	uint32_t qbytes;		/* bytes queued (<= client_queue_max) */
	uint32_t rx_len, rx_cap;
	uint32_t frame_rx;		/* bytes of the current frame so far */
	uint32_t connected_ms;		/* loop time (ms, wraps; compare by difference) */
	uint32_t last_rx_ms;
	int32_t strikes;		/* rate_limited errors in a row */

	uint8_t state;			/* enum client_state */
	uint8_t role;			/* enum role */
	uint8_t close_reason;		/* enum close_reason, for /metrics */
	bool closing;			/* a close is under way: only it goes out */
	bool admin_path;		/* connected to /admin */
	bool attached;			/* counted by the user's owner */
	bool ping_out;			/* a ping is outstanding */
	bool in_flush;			/* in the worker's flush list */
	bool doomed;			/* queue overflowed: close at the flush */
	bool paused;			/* reading paused while the auth is pending */
};

/* The user's display name, kept right after the user id. */
static inline const char *
client_name(const struct client *c)
{
	return c->uid + strlen(c->uid) + 1;
}

/*
 * Queues a reference to f for the client.  Returns 0, or -1 if the client is
 * closing (nothing queued) or its queue would pass client_queue_max, in
 * which case its queue is dropped and it is closed with 4029 at the next
 * flush (never here: the caller may be walking a room).
 */
int client_send(struct client *c, struct frame *f);

/* Queues f and drops the caller's reference (for freshly built frames). */
int client_send_new(struct client *c, struct frame *f);

/* Sends err code with msg for the request whose id is id, and counts it. */
void client_send_err(struct client *c, const char *id, enum errcode code,
    const char *msg);

/*
 * Starts closing the client: it leaves its channels and its user (the
 * worker's client_detach hook), `bye`
 * {code, reason} and a CLOSE frame go out after what is queued (or instead
 * of it, with drop_queue), and lws is given a few seconds to finish.
 * reconnect_ms >= 0 adds that hint to the bye.  Idempotent.
 */
void client_close(struct client *c, int code, const char *reason,
    bool drop_queue, int64_t reconnect_ms);

/*
 * The peer sent a CLOSE first (with code and reason; lws answers it): the
 * client leaves its channels and its user, and nothing more of ours goes
 * out.
 */
void client_peer_closed(struct client *c, int code, const char *reason);

/*
 * Logs (at info, and only then does any work) the end of c's connection:
 * the close code and reason, who ended it (by: "relay", "client" or
 * "network"), and how long it lasted.  client_close and
 * client_peer_closed call it; a connection that ends without either is
 * the caller's to log.
 */
void client_log_end(const struct client *c, int code, const char *reason,
    const char *by);

/* Writes wsi's peer as "ADDR:PORT" ("[ADDR]:PORT" for IPv6, "-" if unknown). */
void client_peer(struct lws *wsi, char *buf, size_t len);

/*
 * Writes as much of the queue as the socket takes now, in writes of up to
 * a few KB.  Returns 0, or -1 if the connection failed.
 */
int client_flush(struct client *c);

/* Drops every queued frame. */
void client_queue_clear(struct client *c);

/* Frees the worker's spare queue links (at teardown). */
void client_qnodes_free(struct worker *w);

#endif
