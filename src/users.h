/*
 * users.h: who is connected.  Each user id is owned by one worker (by hash),
 * which counts the user's connections on every worker (to enforce
 * user_connections_max and to route whispers); each worker also keeps its
 * own map of the users connected to it.
 */
#ifndef CHATRELAY_USERS_H
#define CHATRELAY_USERS_H

#include <stdint.h>

struct worker;
struct client;
struct imsg;

/* Handles IM_USER_ATTACH, IM_USER_DETACH and IM_WHISPER on the user's owner; frees m. */
void users_handle(struct worker *w, struct imsg *m);

/* Adds c to its worker's local map of users; returns 0 or -1. */
int users_local_add(struct worker *w, struct client *c);

/*
 * The connections of user uid on w: *n client pointers at the address
 * returned (NULL when *n is 0), valid until the user's connections here
 * change.
 */
struct client *const *users_local(struct worker *w, const char *uid,
    uint32_t *n);

/* Removes c from that map. */
void users_local_remove(struct worker *w, struct client *c);

/* Frees the worker's user maps. */
void users_free(struct worker *w);

#endif
