/*
 * bus.h: the bus interface.  The bus sequences channel messages, keeps
 * their history, knows who is in each channel and which users are
 * connected (and where), and carries control commands.  Two
 * implementations, chosen once at start (bus_choose): the in-process bus
 * (bus-local.c), and the Redis bus (bus-redis*.c), which joins several
 * instances.  No module outside the bus asks which one runs.
 *
 * Routing is the same for both: a request about a channel is handled on
 * the channel's owner worker, one about a user on the user's owner (both
 * by hash, worker_owner); bus.c posts it there and the dispatch table calls
 * the op.  Only publishing differs: the in-process bus sequences on the
 * channel's owner, the Redis bus on the sender's worker (Redis gives the
 * seq).  Every op takes ownership of its message: it frees it, or keeps
 * it for a later answer.
 */
#ifndef CHATRELAY_BUS_H
#define CHATRELAY_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct worker;
struct relay;
struct im_join;
struct im_leave;
struct im_publish;
struct im_query;
struct im_attach;
struct im_detach;
struct im_whisper;
struct imsg;
struct im_bus;

struct bus_ops {
	const char *name;		/* "local" or "redis" */
	/* Where a publish runs: true on the sender's worker, false on the owner. */
	bool publish_here;

	/* Once, on the main thread, before the workers start; returns 0 or -1. */
	int (*global_init)(struct relay *r);
	/* Sets up w's state (w->bus), on w's thread; returns 0 or -1. */
	int (*init)(struct worker *w);
	/* Closes w's handles (at IM_DESTROY, before the lws context goes). */
	void (*stop)(struct worker *w);
	/* Frees w's state, once w's loop has ended. */
	void (*free)(struct worker *w);
	/* Periodic work on every worker (now: loop ms; wall: epoch ms). */
	void (*tick)(struct worker *w, int64_t now, int64_t wall);
	/* For /healthz, from any worker: "local", "redis" or "down". */
	const char *(*health)(struct relay *r);

	/* On the channel's owner. */
	void (*join)(struct worker *w, struct im_join *m);
	void (*leave)(struct worker *w, struct im_leave *m);
	void (*history)(struct worker *w, struct im_query *m);
	void (*who)(struct worker *w, struct im_query *m);
	/* On the owner or the sender's worker (publish_here). */
	void (*publish)(struct worker *w, struct im_publish *m);
	/* On the user's owner. */
	void (*attach)(struct worker *w, struct im_attach *m);
	void (*detach)(struct worker *w, struct im_detach *m);
	void (*whisper)(struct worker *w, struct im_whisper *m);
	/*
	 * On the sender's worker: runs a command on every worker of every
	 * instance; the sender is answered ok once it is on its way (with
	 * Redis: stored where every instance reads it), or err unavailable
	 * (then nobody runs it).
	 */
	void (*control)(struct worker *w, uint64_t client, const char *id,
	    const char *cmd, size_t len);
	/* IM_BUS: what another worker's side of this bus said (takes m). */
	void (*message)(struct worker *w, struct im_bus *m);
};

extern const struct bus_ops bus_local_ops;
extern const struct bus_ops bus_redis_ops;

/* The bus for a configuration: Redis if one is configured, else in-process. */
const struct bus_ops *bus_choose(const struct relay *r);

/* Sends a request to where the bus handles it (see above); takes m. */
void bus_join(struct worker *w, struct im_join *m);
void bus_leave(struct worker *w, struct im_leave *m);
void bus_publish(struct worker *w, struct im_publish *m);
void bus_history(struct worker *w, struct im_query *m);
void bus_who(struct worker *w, struct im_query *m);
void bus_attach(struct worker *w, struct im_attach *m);
void bus_detach(struct worker *w, struct im_detach *m);
void bus_whisper(struct worker *w, struct im_whisper *m);

/*
 * Sends control command cmd (len bytes) to the whole cluster for client
 * `client` of w (id: its request's id), who is answered.
 */
void bus_control(struct worker *w, uint64_t client, const char *id,
    const char *cmd, size_t len);

/* The dispatch table's entries: the message reached its worker. */
void bus_on_join(struct worker *w, struct imsg *m);
void bus_on_leave(struct worker *w, struct imsg *m);
void bus_on_publish(struct worker *w, struct imsg *m);
void bus_on_history(struct worker *w, struct imsg *m);
void bus_on_who(struct worker *w, struct imsg *m);
void bus_on_attach(struct worker *w, struct imsg *m);
void bus_on_detach(struct worker *w, struct imsg *m);
void bus_on_whisper(struct worker *w, struct imsg *m);
void bus_on_message(struct worker *w, struct imsg *m);

#endif
