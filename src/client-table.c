/*
 * client-table.c: a worker's clients by slot, with a generation per slot
 * so that session ids are never reused (see client-table.h).
 */
#include <stdlib.h>
#include <string.h>

#include "client-table.h"

#define SLOT_MASK ((1u << CLIENT_SLOT_BITS) - 1)
#define GEN_MASK ((1u << CLIENT_GEN_BITS) - 1)

void
client_table_init(struct client_table *t, uint16_t worker)
{
	memset(t, 0, sizeof *t);
	t->worker = worker;
}

void
client_table_free(struct client_table *t)
{
	free(t->slots);
	free(t->gens);
	free(t->free_slots);
	t->slots = NULL;
	t->gens = t->free_slots = NULL;
	t->nslots = t->cap = t->nfree = t->count = 0;
}

/* Grows the arrays by a quarter (they are large); returns 0 or -1. */
static int
grow(struct client_table *t)
{
	uint32_t cap = t->cap ? t->cap + t->cap / 4 : CLIENT_TABLE_FIRST;
	void *p;

	if (cap > (1u << CLIENT_SLOT_BITS))
		cap = 1u << CLIENT_SLOT_BITS;
	/* Each array is replaced only once its realloc succeeded. */
	if ((p = realloc(t->slots, cap * sizeof *t->slots)) == NULL)
		return -1;
	t->slots = p;
	if ((p = realloc(t->gens, cap * sizeof *t->gens)) == NULL)
		return -1;
	t->gens = p;
	if ((p = realloc(t->free_slots, cap * sizeof *t->free_slots)) == NULL)
		return -1;
	t->free_slots = p;
	t->cap = cap;
	return 0;
}

int
client_table_add(struct client_table *t, void *item, uint32_t *slot)
{
	uint32_t s;

	if (t->nfree > 0)
		s = t->free_slots[--t->nfree];
	else {
		if (t->nslots == (1u << CLIENT_SLOT_BITS))
			return -1;
		if (t->nslots == t->cap && grow(t) != 0)
			return -1;
		s = t->nslots++;
		t->gens[s] = 0;
	}
	t->gens[s] = (t->gens[s] + 1) & GEN_MASK;
	t->slots[s] = item;
	t->count++;
	*slot = s;
	return 0;
}

void
client_table_remove(struct client_table *t, uint32_t slot)
{
	if (slot >= t->nslots || t->slots[slot] == NULL)
		return;
	t->slots[slot] = NULL;
	t->free_slots[t->nfree++] = slot;
	t->count--;
}

uint64_t
client_table_id(const struct client_table *t, uint32_t slot)
{
	return ((uint64_t)t->worker << (CLIENT_SLOT_BITS + CLIENT_GEN_BITS)) |
	    ((uint64_t)t->gens[slot] << CLIENT_SLOT_BITS) | slot;
}

void *
client_table_get(const struct client_table *t, uint64_t id)
{
	uint32_t slot = (uint32_t)(id & SLOT_MASK);

	if (client_id_worker(id) != t->worker || slot >= t->nslots ||
	    t->slots[slot] == NULL)
		return NULL;
	return client_table_id(t, slot) == id ? t->slots[slot] : NULL;
}
