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
	uint32_t inline_value;	/* the value lives in this allocation */
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

/*
 * Adds key (which must not be in m) with a value of size zeroed bytes kept
 * in the entry's own allocation: one allocation instead of two, which is
 * what a map with an entry per connection wants.  Returns the value
 * (aligned for pointers and 64-bit integers), or NULL if memory ran out.
 * The value lives as long as the entry: strmap_del and strmap_free free
 * it.
 */
void *strmap_put_inline(struct strmap *m, const char *key, size_t size);

/*
 * Returns the address where the value of key is stored (valid until key is
 * removed), or NULL: a value can be read and replaced there without a
 * second lookup.
 */
void **strmap_slot(const struct strmap *m, const char *key);

/*
 * Removes key; returns the value it held, or NULL (also for a value kept
 * inline, which is freed with the entry).
 */
void *strmap_del(struct strmap *m, const char *key);

/*
 * Calls fn(key, value, arg) for every entry; fn may not modify the map.
 * Iteration order is unspecified.
 */
void strmap_each(const struct strmap *m,
    void (*fn)(const char *key, void *value, void *arg), void *arg);

#endif
