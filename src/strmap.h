/*
 * strmap.h: a small open-hashing map from NUL-terminated strings to pointers.
 *
 * Keys are copied into the entry; values are owned by the caller.  Used for
 * a worker's room table, its local users and the channel and user state it
 * owns.  Not thread-safe: one map belongs to one worker.
 */
#ifndef CHATRELAY_STRMAP_H
#define CHATRELAY_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_entry {
	struct strmap_entry *next;
	uint32_t hash;
	void *value;
	char key[];
};

struct strmap {
	struct strmap_entry **buckets;
	size_t nbuckets;	/* a power of two */
	size_t count;
	unsigned int load;	/* entries per bucket before it grows */
};

/* Returns the FNV-1a hash of s; every module hashes names this way. */
uint32_t strmap_hash(const char *s);

/* Starts an empty map that allows 4 entries a bucket (memory first). */
void strmap_init(struct strmap *m);
/* Sets the entries a bucket allowed before growing: 1 for maps on the per-message path. */
void strmap_set_load(struct strmap *m, unsigned int load);
/* Frees the entries (not the values). */
void strmap_free(struct strmap *m);

/* Returns the value stored under key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);

/*
 * Stores value under key, replacing any previous value.  Returns 0, or -1 if
 * memory ran out.
 */
int strmap_put(struct strmap *m, const char *key, void *value);

/* Removes key; returns the value it held, or NULL. */
void *strmap_del(struct strmap *m, const char *key);

/*
 * Calls fn(key, value, arg) for every entry; fn may not modify the map.
 * Iteration order is unspecified.
 */
void strmap_each(const struct strmap *m,
    void (*fn)(const char *key, void *value, void *arg), void *arg);

#endif
