/*
 * user-index.c: a worker's users -> their clients here (see user-index.h).
 *
 * With one connection, the map holds the client pointer itself, which
 * saves an allocation per connection; a struct luser (two or more) is
 * stored with its lowest bit set (clients and lusers come from malloc, so
 * that bit is otherwise clear).
 */
#include <stdint.h>
#include <stdlib.h>

#include "user-index.h"

struct luser {
	uint32_t n, cap;
	struct client *v[];
};

#define LUSER_TAG ((uintptr_t)1)
#define LUSER_FIRST 4		/* room in a new list */

/* Returns the luser a map value stands for, or NULL for one client. */
static struct luser *
luser_of(void *value)
{
	return ((uintptr_t)value & LUSER_TAG) != 0 ?
	    (struct luser *)((uintptr_t)value & ~LUSER_TAG) : NULL;
}

void
user_index_init(struct user_index *ui)
{
	strmap_init(&ui->map);
}

/* Frees one user's list, if it has one (a strmap_each callback). */
static void
luser_free_cb(const char *key, void *value, void *arg)
{
	free(luser_of(value));
}

void
user_index_free(struct user_index *ui)
{
	strmap_each(&ui->map, luser_free_cb, NULL);
	strmap_free(&ui->map);
}

struct client *const *
user_index_get(struct user_index *ui, const char *uid, uint32_t *n)
{
	void **slot = strmap_slot(&ui->map, uid);
	struct luser *u;

	if (slot == NULL) {
		*n = 0;
		return NULL;
	}
	if ((u = luser_of(*slot)) == NULL) {
		*n = 1;
		return (struct client *const *)slot;
	}
	*n = u->n;
	return u->v;
}

int
user_index_add(struct user_index *ui, const char *uid, struct client *c)
{
	void **slot = strmap_slot(&ui->map, uid);
	struct luser *u, *nu;

	if (slot == NULL)
		return strmap_put(&ui->map, uid, c) != 0 ? -1 : 0;
	if ((u = luser_of(*slot)) == NULL) {
		/* A second connection: the list begins. */
		u = malloc(sizeof *u + LUSER_FIRST * sizeof u->v[0]);
		if (u == NULL)
			return -1;
		u->v[0] = *slot;
		u->v[1] = c;
		u->n = 2;
		u->cap = LUSER_FIRST;
		*slot = (void *)((uintptr_t)u | LUSER_TAG);
		return 0;
	}
	if (u->n == u->cap) {
		nu = realloc(u, sizeof *u + 2 * u->cap * sizeof u->v[0]);
		if (nu == NULL)
			return -1;
		u = nu;
		u->cap *= 2;
		*slot = (void *)((uintptr_t)u | LUSER_TAG);
	}
	u->v[u->n++] = c;
	return 0;
}

void
user_index_remove(struct user_index *ui, const char *uid, struct client *c)
{
	void **slot = strmap_slot(&ui->map, uid);
	struct luser *u;
	uint32_t i;

	if (slot == NULL)
		return;
	if ((u = luser_of(*slot)) == NULL) {
		if (*slot == c)
			strmap_del(&ui->map, uid);
		return;
	}
	for (i = 0; i < u->n; i++) {
		if (u->v[i] == c) {
			u->v[i] = u->v[--u->n];
			break;
		}
	}
	if (u->n == 1) {
		/* Back to one connection: no list. */
		*slot = u->v[0];
		free(u);
	}
}
