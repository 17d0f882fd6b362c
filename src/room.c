/*
 * room.c: the two indexes of channel membership on one worker.
 */
#include <stdlib.h>
#include <string.h>

#include "room.h"

void
room_table_init(struct room_table *t)
{
	strmap_init(&t->rooms);
	strmap_set_load(&t->rooms, 1);	/* looked up for every delivery */
}

/* Frees one room (a strmap_each callback). */
static void
room_free_cb(const char *key, void *value, void *arg)
{
	struct room *r = value;

	free(r->members);
	free(r);
}

void
room_table_free(struct room_table *t)
{
	strmap_each(&t->rooms, room_free_cb, NULL);
	strmap_free(&t->rooms);
}

struct room *
room_find(struct room_table *t, const char *ch)
{
	return strmap_get(&t->rooms, ch);
}

struct room_link *
room_set_find(struct room_set *s, const char *ch)
{
	uint16_t i;

	for (i = 0; i < s->n; i++)
		if (s->links[i].room != NULL &&
		    strcmp(s->links[i].room->name, ch) == 0)
			return &s->links[i];
	return NULL;
}

/* Appends (owner, slot) to r's active members; returns 0, or -1 if memory ran out. */
static int
room_add_member(struct room *r, void *owner, struct room_set *s,
    uint16_t slot, uint32_t *idx)
{
	struct room_member *m;
	uint32_t cap;

	if (r->n == r->cap) {
		/* Big rooms grow by a quarter: doubling wastes a lot per member. */
		cap = r->cap < 64 ? (r->cap != 0 ? r->cap * 2 : 4) :
		    r->cap + r->cap / 4;
		m = realloc(r->members, cap * sizeof *m);
		if (m == NULL)
			return -1;
		r->members = m;
		r->cap = cap;
	}
	r->members[r->n].owner = owner;
	r->members[r->n].set = s;
	r->members[r->n].slot = slot;
	*idx = r->n++;
	return 0;
}

/* Removes the active member at idx by moving the last one into its place. */
static void
room_remove_member(struct room *r, uint32_t idx)
{
	struct room_member *last = &r->members[r->n - 1];

	if (idx != r->n - 1) {
		r->members[idx] = *last;
		/* The moved member's link must learn its new index. */
		last->set->links[last->slot].idx = idx;
	}
	r->n--;
	if (r->n == 0) {
		free(r->members);
		r->members = NULL;
		r->cap = 0;
	}
}

/* Frees r if no link points at it any more. */
static void
room_release(struct room_table *t, struct room *r)
{
	if (r->links != 0)
		return;
	strmap_del(&t->rooms, r->name);
	free(r->members);
	free(r);
}

int
room_join(struct room_table *t, struct room_set *s, void *owner,
    const char *ch, int max, bool active)
{
	struct room_link *l;
	struct room *r;
	uint16_t slot, cap;

	if (room_set_find(s, ch) != NULL)
		return -1;
	if (s->count >= max)
		return -2;
	for (slot = 0; slot < s->n; slot++)
		if (s->links[slot].room == NULL)
			break;
	if (slot == s->n) {
		if (s->n == s->cap) {
			cap = s->cap != 0 ? s->cap * 2 : 1;
			l = realloc(s->links, cap * sizeof *l);
			if (l == NULL)
				return -3;
			s->links = l;
			s->cap = cap;
		}
		s->n++;
	}
	r = strmap_get(&t->rooms, ch);
	if (r == NULL) {
		r = calloc(1, sizeof *r);
		if (r == NULL)
			goto undo_slot;
		strcpy(r->name, ch);
		if (strmap_put(&t->rooms, r->name, r) != 0) {
			free(r);
			goto undo_slot;
		}
	}
	l = &s->links[slot];
	l->room = r;
	l->active = false;
	l->idx = 0;
	if (active && room_add_member(r, owner, s, slot, &l->idx) != 0) {
		l->room = NULL;
		room_release(t, r);
		goto undo_slot;
	}
	l->active = active;
	r->links++;
	s->count++;
	return 0;

undo_slot:
	if (slot == s->n - 1)
		s->n--;
	return -3;
}

int
room_activate(struct room_table *t, struct room_set *s, void *owner,
    const char *ch)
{
	struct room_link *l = room_set_find(s, ch);

	if (l == NULL || l->active)
		return -1;
	if (room_add_member(l->room, owner, s, (uint16_t)(l - s->links),
	    &l->idx) != 0)
		return -1;
	l->active = true;
	return 0;
}

/* Drops the membership held by link l. */
static int
room_unlink(struct room_table *t, struct room_set *s, struct room_link *l)
{
	struct room *r = l->room;
	int was_active = l->active ? 1 : 0;

	if (l->active)
		room_remove_member(r, l->idx);
	l->room = NULL;
	l->active = false;
	r->links--;
	s->count--;
	while (s->n > 0 && s->links[s->n - 1].room == NULL)
		s->n--;
	room_release(t, r);
	return was_active;
}

int
room_leave(struct room_table *t, struct room_set *s, const char *ch)
{
	struct room_link *l = room_set_find(s, ch);

	if (l == NULL)
		return -1;
	return room_unlink(t, s, l);
}

void
room_leave_all(struct room_table *t, struct room_set *s,
    void (*fn)(const char *ch, bool active, void *arg), void *arg)
{
	uint16_t i;

	for (i = s->n; i > 0; i--) {
		struct room_link *l = &s->links[i - 1];

		if (l->room == NULL)
			continue;
		if (fn != NULL)
			fn(l->room->name, l->active, arg);
		room_unlink(t, s, l);
	}
	free(s->links);
	s->links = NULL;
	s->n = s->cap = s->count = 0;
}

void
room_seen(struct room_table *t, const char *ch, uint64_t seq)
{
	room_seen_in(room_find(t, ch), seq);
}

void
room_renumbered(struct room_table *t, const char *ch)
{
	struct room *r = room_find(t, ch);

	if (r != NULL)
		r->last_seq = r->given = 0;
}
