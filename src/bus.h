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

#include "chan.h"

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

/*
 * What a control command changes in the stored moderation state (bans,
 * mutes, slow modes, history), stored with the command where the bus has a
 * store shared by the cluster (Redis).
 */
enum store_op {
	STORE_NONE,
	STORE_SET,		/* key := the command, expiring at until (0: never) */
	STORE_DEL,		/* key goes */
	STORE_DEL_MUTES,	/* every mute of user `key` goes */
	STORE_DEL_MSG,		/* message seq of channel `key` leaves history */
};

/* State keys: "ban:UID", "mute:CH|UID" ("*" for everywhere), "slow:CH". */
#define STORE_KEY_MAX (5 + CHAN_NAME_MAX + 1 + USER_ID_MAX)

struct store_change {
	enum store_op op;
	char key[STORE_KEY_MAX + 1];
	int64_t until;		/* STORE_SET */
	int64_t seq;		/* STORE_DEL_MSG */
};

/* The live instances (node keys), as bus_ops.nodes finds them. */
typedef void (*bus_nodes_cb)(struct worker *w, void *arg,
    const char *const *nodes, size_t n);

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
	/*
	 * Writes where the bus is into buf (len bytes), for the start-up log:
	 * never a password.  On the main thread.
	 */
	void (*describe)(const struct relay *r, char *buf, size_t len);

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
	    const char *cmd, size_t len, const struct store_change *chg,
	    bool answer);
	/*
	 * On worker 0: the whole moderation state of the moment, as the
	 * commands that set it (n of them, with their stored keys: chgs).
	 * The in-process bus writes its state file; the Redis bus, which
	 * stores each change with its command, writes them only to restore
	 * (Redis lost its data), leaving any key that is there.
	 */
	void (*state_save)(struct worker *w, const char *const *cmds,
	    const size_t *lens, const struct store_change *chgs, size_t n,
	    bool restore);
	/*
	 * On any worker: from now on (on) or no longer, w wants every message
	 * of the channels matching pattern, for its watching connections
	 * (deliver_watchers).  Called once per distinct pattern of w.
	 */
	void (*watch)(struct worker *w, const char *pattern, bool on);
	/*
	 * Sends text (len bytes: a part of an answer to a cluster question)
	 * to worker `to` of instance nk, where it arrives as IM_ANSWER.  Lost
	 * quietly if it cannot be sent: the asker waits a bounded time.
	 */
	void (*answer)(struct worker *w, const char *nk, int to,
	    const char *text, size_t len);
	/* Finds the live instances; cb is called once (n 0: none known). */
	void (*nodes)(struct worker *w, bus_nodes_cb cb, void *arg);
	/* On every worker: message seq of ch was deleted: drop any copy kept. */
	void (*forget)(struct worker *w, const char *ch, uint64_t seq);
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
 * Sends control command cmd (len bytes), with the change it makes to the
 * stored state (chg; NULL: none), to the whole cluster for client `client`
 * of w (id: its request's id), who is answered if `answer`.
 */
void bus_control(struct worker *w, uint64_t client, const char *id,
    const char *cmd, size_t len, const struct store_change *chg,
    bool answer);

/* The other ops of the bus, from the layers above. */
void bus_state_save(struct worker *w, const char *const *cmds,
    const size_t *lens, const struct store_change *chgs, size_t n,
    bool restore);
void bus_watch(struct worker *w, const char *pattern, bool on);
void bus_answer(struct worker *w, const char *nk, int to, const char *text,
    size_t len);
void bus_nodes(struct worker *w, bus_nodes_cb cb, void *arg);
void bus_forget(struct worker *w, const char *ch, uint64_t seq);

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
