/*
 * user-index.h: a worker's index of the users connected to it: user id ->
 * its clients on this worker.  Most users have one connection, which is
 * stored as the client pointer itself; a list is allocated only from the
 * second.  One thread only: the worker's.
 */
#ifndef CHATRELAY_USER_INDEX_H
#define CHATRELAY_USER_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "strmap.h"

struct client;

struct user_index {
	struct strmap map;		/* uid -> client, or a tagged list */
};

void user_index_init(struct user_index *ui);

/* Frees the index (not the clients). */
void user_index_free(struct user_index *ui);

/* Adds client c of user uid (the key is copied); returns 0 or -1. */
int user_index_add(struct user_index *ui, const char *uid, struct client *c);

/* Removes client c of user uid; nothing happens if it is not there. */
void user_index_remove(struct user_index *ui, const char *uid,
    struct client *c);

/*
 * The clients of user uid: *n pointers at the address returned (NULL when
 * *n is 0), valid until the user's entries change.
 */
struct client *const *user_index_get(struct user_index *ui, const char *uid,
    uint32_t *n);

/* The number of users in the index. */
static inline size_t
user_index_count(const struct user_index *ui)
{
	return ui->map.count;
}

#endif
