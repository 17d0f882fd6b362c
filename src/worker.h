/*
 * worker.h: one thread with its own libuv loop and lws context, owning its
 * connections, its room table, and the channel and user state that hashes
 * to it.  Other threads reach a worker only through its inbox.
 */
#ifndef CHATRELAY_WORKER_H
#define CHATRELAY_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "inbox.h"
#include "metrics.h"
#include "room.h"
#include "strmap.h"

struct lws_context;
struct lws_vhost;
struct config;
struct server;
struct client;
struct imsg;

#define WORKER_SCRATCH 4096	/* bytes coalesced into one write */
#define CLIENT_SLOT_BITS 21
#define CLIENT_GEN_BITS 26

struct worker {
	int idx;
	struct server *srv;
	const struct config *cfg;
	uv_loop_t loop;
	uv_thread_t thread;
	uv_check_t flush_check;
	uv_idle_t spin;			/* makes the next poll not block (see on_check) */
	uint32_t input_seen;		/* messages taken in since the last check */
	uint64_t defer_since;		/* uv_hrtime() of the first deferred flush, or 0 */
	uv_timer_t tick;
	uv_poll_t listen_poll;
	int listen_fd;
	bool listening;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct inbox inbox;
	struct lws_protocols *protocols;	/* 2 entries, for the lws context */
	struct bus_redis *redis;	/* the Redis bus, or NULL for in-process */

	struct room_table rooms;	/* channel -> local members */
	struct strmap local_users;	/* user id -> its clients here (users.c) */
	struct strmap channels;		/* owned channels: name -> struct channel * */
	struct strmap users;		/* owned users: id -> struct ureg * */

	struct client **slots;		/* client table, by slot */
	uint32_t *gens;			/* generation per slot */
	uint32_t nslots, slot_cap;
	uint32_t *free_slots;
	uint32_t nfree;
	uint32_t nclients;

	struct qnode *qfree;		/* spare queue links, reused before malloc */
	uint32_t nqfree;
	struct client **flush;		/* clients with queued frames */
	uint32_t nflush, flush_cap;

	uint8_t scratch[WORKER_SCRATCH];
	struct stats stats;		/* written by this worker only */
	bool draining;
	bool tls;			/* connections are TLS: writes go through lws */
	atomic_bool drained;		/* read by the main thread */
	int64_t last_sweep_ms;
};

/*
 * Sets up worker idx (loop, lws context, listening socket) on the calling
 * thread.  Returns 0, or -1 with the reason logged.
 */
int worker_init(struct worker *w, struct server *srv, int idx);

/* Starts the worker's thread. */
int worker_start(struct worker *w);

/* Waits for the thread to end and frees what is left. */
void worker_join(struct worker *w);

/* Milliseconds of the worker's loop clock. */
int64_t worker_now(struct worker *w);

/* Returns the client with session id, or NULL if it is gone. */
struct client *worker_client(struct worker *w, uint64_t id);

/*
 * The session id of c, a client in w's table: its worker, its slot and the
 * slot's generation, so an id is never reused within an instance's life
 * (as long as the generations do not wrap).
 */
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
 * Sends m to worker `to` (or handles it at once when to is this worker).
 * Takes ownership of m in every case.
 */
void worker_post(struct worker *w, int to, struct imsg *m);

/* Handles one inbox message on its receiving worker; frees it. */
void worker_dispatch(struct worker *w, struct imsg *m);

/* The worker that owns channel or user `name`. */
int worker_owner(const struct worker *w, const char *name);

/* Counts an err frame of the given code sent by this worker. */
static inline void
worker_count_err(struct worker *w, enum errcode code)
{
	stat_add(&w->stats.errors[code], 1);
}

/*
 * Delivers f to every active local member of channel ch, except the
 * connections of user `except` (NULL: everyone; presence is never sent to
 * the user it is about).
 */
void worker_deliver_channel(struct worker *w, const char *ch, struct frame *f,
    const char *except);

/* Delivers f to every local connection of user uid. */
void worker_deliver_user(struct worker *w, const char *uid, struct frame *f);

#endif
