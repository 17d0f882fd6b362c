/*
 * worker.h: the bottom layer: one thread with its own libuv loop and lws
 * context, its listening socket, its client table and room table, the
 * flush after each loop iteration, its tick and its inbox.
 *
 * The worker knows nothing of the protocol or the bus: it calls the layers
 * above only through the hooks they register (struct worker_hooks, wired in
 * dispatch.c).  Everything in struct worker belongs to the worker's thread;
 * other threads reach a worker only through inbox_push on its inbox, and
 * read only the atomics marked so.
 */
#ifndef CHATRELAY_WORKER_H
#define CHATRELAY_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "client-table.h"
#include "config.h"
#include "http.h"
#include "inbox.h"
#include "metrics.h"
#include "modstate.h"
#include "room.h"
#include "user-index.h"
#include "watch.h"

struct lws;
struct lws_context;
struct lws_protocols;
struct lws_vhost;
struct relay;
struct client;
struct gathers;
struct filter;

#define WORKER_SCRATCH 4096	/* bytes coalesced into one write */
#define WORKER_TICK_MS 200	/* the period of the tick hook */

/*
 * What the layers above the worker do for it.  Every hook runs on the
 * worker's own thread.
 */
struct worker_hooks {
	/* Sets up the upper layers' state of w (the bus); returns 0 or -1. */
	int (*start)(struct worker *w);
	/* Handles one inbox message (or one posted to itself), and frees it. */
	void (*dispatch)(struct worker *w, struct imsg *m);
	/* Frees a message that will not be handled (posting has stopped). */
	void (*discard)(struct imsg *m);
	/* Runs every WORKER_TICK_MS; now is loop time in ms. */
	void (*tick)(struct worker *w, int64_t now);
	/* Frees the upper layers' state of w, once its loop has ended. */
	void (*free)(struct worker *w);
	/* "bus" of /healthz: what the relay's bus says of its health. */
	const char *(*health)(struct relay *r);

	/*
	 * A WebSocket connection was upgraded (admin: on /admin; token: the
	 * ?token= of the URL, or NULL).  Returns its client, or NULL to
	 * refuse it.
	 */
	struct client *(*client_open)(struct worker *w, struct lws *wsi,
	    bool admin, const char *token);
	/* One complete message of the client (len bytes of valid UTF-8). */
	void (*client_message)(struct client *c, const char *buf, size_t len);
	/* The client is closing: take it out of its channels and its user. */
	void (*client_detach)(struct client *c);
	/* lws closed the connection: free the client. */
	void (*client_free)(struct client *c);
};

struct worker {
	int idx;
	struct relay *relay;
	/*
	 * What the worker's code reads: conf, its own copy of the relay's
	 * configuration, which only this thread writes (at its tick, when a
	 * reload published a new one: relay.h), so it never changes under a
	 * callback.
	 */
	const struct config *cfg;
	struct config conf;
	uint32_t cfg_gen;		/* the relay's cfg_gen conf is from */
	const struct worker_hooks *hooks;
	uv_loop_t loop;
	uv_thread_t thread;
	uv_check_t flush_check;
	uv_idle_t spin;			/* makes the next poll not block (see on_check) */
	uint32_t input_seen;		/* messages taken in since the last check */
	uint64_t defer_since;		/* uv_hrtime() of the first deferred flush, or 0 */
	uv_timer_t tick;
	uv_poll_t listen_poll;
	int listen_fd;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct lws_protocols *protocols;	/* 2 entries, for the lws context */
	struct inbox inbox;		/* the only way in from other threads */

	struct client_table clients;
	struct room_table rooms;	/* channel -> local members */
	struct user_index users;	/* user id -> its clients here */
	struct modstate mod;		/* bans, mutes, slow modes (as every worker) */
	struct watch_table watches;	/* moderators' watches of channels */
	struct gathers *gathers;	/* cluster questions awaiting answers */
	struct filter *filter;		/* the word filter (a reference), or NULL */
	uint32_t filter_gen;		/* the relay's filter_gen it is from */
	bool filter_mask;		/* filter_policy mask (else refuse) */
	int64_t next_expire_ms;		/* loop ms of the next modstate_expire */
	void *bus;			/* the bus's own state, opaque here */

	struct qnode *qfree;		/* spare queue links, reused before malloc */
	uint32_t nqfree;
	struct client **flush;		/* clients with queued frames */
	uint32_t nflush, flush_cap;

	uint64_t rng;			/* this thread's xorshift state */
	uint8_t scratch[WORKER_SCRATCH];
	struct stats stats;		/* written by this worker only, read by /metrics */
	bool draining;
	bool tls;			/* connections are TLS: writes go through lws */
	struct http_refusals refused;	/* upgrades refused for their Origin */
	atomic_bool drained;		/* read by the main thread */
	/*
	 * Set by the bus while its connections are up; read by /healthz on
	 * any worker.  It lives as long as the worker array, so reading it is
	 * safe while the workers are torn down one by one.
	 */
	atomic_bool bus_up;
	/* How many connections watch channels here; read by the in-process bus. */
	atomic_uint nwatch;
};

/*
 * Sets up worker idx (loop, lws context, listening socket, and the upper
 * layers through hooks->start) on the calling thread.  Returns 0, or -1
 * with the reason logged.
 */
int worker_init(struct worker *w, struct relay *r, int idx);

/* Starts the worker's thread; returns 0 or -1. */
int worker_start(struct worker *w);

/* Waits for the thread to end and frees what is left. */
void worker_join(struct worker *w);

/* Milliseconds of the worker's loop clock. */
int64_t worker_now(struct worker *w);

/* A pseudo-random number of this worker's own generator (not for secrets). */
uint32_t worker_random(struct worker *w);

/* Returns the client with session id, or NULL if it is gone. */
struct client *worker_client(struct worker *w, uint64_t id);

/* The session id of c, a client of its worker's table. */
uint64_t client_id(const struct client *c);

/* Notes that this loop iteration took in a message (see on_check). */
static inline void
worker_input(struct worker *w)
{
	w->input_seen++;
}

/* Puts c on the list flushed after this loop iteration. */
void worker_want_flush(struct worker *w, struct client *c);

/* Registers a new client (assigns id and slot); returns 0 or -1. */
int worker_add_client(struct worker *w, struct client *c);
/* Forgets a client (its slot is reused with a new generation). */
void worker_remove_client(struct worker *w, struct client *c);

/*
 * Sends m to worker `to`; when to is this worker, it is handled at once.
 * Takes ownership of m in every case (once posting has stopped for the
 * shutdown, m is freed unhandled).
 */
void worker_post(struct worker *w, int to, struct imsg *m);

/* The worker that owns channel or user `name` (by hash). */
int worker_owner(const struct worker *w, const char *name);

/* Counts an err frame of the given code sent by this worker. */
static inline void
worker_count_err(struct worker *w, enum errcode code)
{
	metrics_add(&w->stats.errors[code], 1);
}

/*
 * IM_DRAIN: starts a graceful stop: bye 1001 to every client, each of
 * which then has drain_timeout to answer the CLOSE.
 */
void worker_drain(struct worker *w);

/* IM_QUIESCE: acknowledges that posting has stopped. */
void worker_quiesce(struct worker *w);

/*
 * IM_DESTROY: closes the worker's own handles and its lws context; the
 * loop then ends.  The upper layers must have closed theirs first.
 */
void worker_destroy(struct worker *w);

#endif
