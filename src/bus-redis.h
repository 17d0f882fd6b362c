/*
 * bus-redis.h: the Redis bus, which joins several relay instances.
 *
 * Each worker has two Redis connections: one for commands and scripts, one
 * for SUBSCRIBE.  Sequencing, history, cluster-wide membership and
 * connection counts live in Redis (bus-scripts.c); a channel's owner worker
 * subscribes to it while this instance has members in it, and fans out, in
 * the order Redis published, what the subscription brings.
 */
#ifndef CHATRELAY_BUS_REDIS_H
#define CHATRELAY_BUS_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct worker;
struct imsg;
struct server;

/* Prepares what every worker shares (the scripts' SHA-1s); call once, before the workers. */
void bus_redis_global_init(void);

/*
 * Creates w's Redis connections (they connect in the background, and keep
 * reconnecting).  Returns 0, or -1 with the reason logged.
 */
int bus_redis_init(struct worker *w);

/* Closes w's Redis connections and frees its Redis state. */
void bus_redis_free(struct worker *w);

/* Returns true while w's connections to Redis are both up. */
bool bus_redis_up(struct worker *w);

/* Returns "redis" while every worker's connections are up, else "down". */
const char *bus_redis_health(struct server *srv);

/*
 * Publishes a channel message for client `client` of w (body: the msg
 * object after its seq and ts; id: the request's id).  The client gets
 * `ok` once Redis has accepted it, or err unavailable.
 */
void bus_redis_publish(struct worker *w, uint64_t client, const char *ch,
    const char *body, size_t len, const char *id);

/*
 * Publishes control command cmd (len bytes) on the cluster's control
 * channel for client `client` of w (id: the request's id): the client gets
 * ok once Redis has taken it.  Returns -1, answering nobody, if the bus is
 * down.
 */
int bus_redis_control(struct worker *w, uint64_t client, const char *id,
    const char *cmd, size_t len);

/*
 * Tells Redis again about this worker's members and users (IM_BUS_REPAIR:
 * another instance took this one for dead and removed them).
 */
void bus_redis_reassert(struct worker *w);

/* Handles IM_JOIN, IM_LEAVE, IM_HISTORY and IM_WHO on the channel's owner; takes m. */
void bus_redis_channel(struct worker *w, struct imsg *m);

/* Handles IM_USER_ATTACH, IM_USER_DETACH and IM_WHISPER on the user's owner; takes m. */
void bus_redis_user(struct worker *w, struct imsg *m);

/* Periodic work (worker 0: heartbeats and reaping dead nodes). */
void bus_redis_tick(struct worker *w, int64_t now_ms);

#endif
