/*
 * client-table.h: a worker's table of clients, by slot.  A client's
 * session id is its worker, its slot and the slot's generation, so an id
 * is never reused within an instance's life (as long as the generations do
 * not wrap) and a stale id finds nothing.  One thread only: the worker's.
 */
#ifndef CHATRELAY_CLIENT_TABLE_H
#define CHATRELAY_CLIENT_TABLE_H

#include <stdint.h>

#define CLIENT_SLOT_BITS 21
#define CLIENT_GEN_BITS 26
#define CLIENT_TABLE_FIRST 1024	/* slots allocated at first */

struct client_table {
	void **slots;			/* the item in each slot, or NULL */
	uint32_t *gens;			/* generation per slot */
	uint32_t *free_slots;
	uint32_t nslots, cap, nfree;
	uint32_t count;			/* items in the table */
	uint16_t worker;		/* the worker index in every id */
};

void client_table_init(struct client_table *t, uint16_t worker);

/* Frees the table's memory (not the items). */
void client_table_free(struct client_table *t);

/*
 * Puts item in a free slot, with a new generation.  Returns 0 and sets
 * *slot, or -1 if the table is full or memory ran out.
 */
int client_table_add(struct client_table *t, void *item, uint32_t *slot);

/* Empties slot (it is reused later, with a new generation). */
void client_table_remove(struct client_table *t, uint32_t slot);

/* The session id of the item in slot. */
uint64_t client_table_id(const struct client_table *t, uint32_t slot);

/* Returns the item whose session id is id, or NULL if it is gone. */
void *client_table_get(const struct client_table *t, uint64_t id);

/* The worker index an id names. */
static inline unsigned
client_id_worker(uint64_t id)
{
	return (unsigned)(id >> (CLIENT_SLOT_BITS + CLIENT_GEN_BITS));
}

#endif
