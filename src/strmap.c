/*
 * strmap.c: string-keyed hash map with chaining, grown past a set load.
 */
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

uint32_t
strmap_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != '\0') {
		h ^= (uint8_t)*s++;
		h *= 16777619u;
	}
	return h;
}

void
strmap_init(struct strmap *m)
{
	m->buckets = NULL;
	m->nbuckets = 0;
	m->count = 0;
	m->load = 4;
}

void
strmap_set_load(struct strmap *m, unsigned int load)
{
	m->load = load > 0 ? load : 1;
}

void
strmap_free(struct strmap *m)
{
	struct strmap_entry *e, *next;
	size_t i;

	for (i = 0; i < m->nbuckets; i++) {
		for (e = m->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(m->buckets);
	m->buckets = NULL;
	m->nbuckets = 0;
	m->count = 0;
}

static struct strmap_entry *
strmap_find(const struct strmap *m, const char *key, uint32_t h)
{
	struct strmap_entry *e;

	if (m->nbuckets == 0)
		return NULL;
	for (e = m->buckets[h & (m->nbuckets - 1)]; e != NULL; e = e->next) {
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

void *
strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_entry *e = strmap_find(m, key, strmap_hash(key));

	return e != NULL ? e->value : NULL;
}

/* Doubles the bucket array; returns 0, or -1 if memory ran out. */
static int
strmap_grow(struct strmap *m)
{
	size_t n = m->nbuckets != 0 ? m->nbuckets * 2 : 16, i;
	struct strmap_entry **b, *e, *next;

	b = calloc(n, sizeof *b);
	if (b == NULL)
		return -1;
	for (i = 0; i < m->nbuckets; i++) {
		for (e = m->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
	return 0;
}

/*
 * Links a new entry for key (hash h) with room for extra bytes after the
 * key, at offset *off; returns it, or NULL if memory ran out.
 */
static struct strmap_entry *
strmap_add(struct strmap *m, const char *key, uint32_t h, size_t extra,
    size_t *off)
{
	struct strmap_entry *e;
	size_t len = strlen(key);
	/* The extra bytes start aligned for pointers and 64-bit integers. */
	size_t a = 8;

	*off = (sizeof *e + len + 1 + a - 1) / a * a;
	if (m->count >= m->nbuckets * m->load && strmap_grow(m) != 0)
		return NULL;
	e = malloc(extra > 0 ? *off + extra : sizeof *e + len + 1);
	if (e == NULL)
		return NULL;
	memcpy(e->key, key, len + 1);
	e->hash = h;
	e->inline_value = extra > 0;
	e->value = NULL;
	e->next = m->buckets[h & (m->nbuckets - 1)];
	m->buckets[h & (m->nbuckets - 1)] = e;
	m->count++;
	return e;
}

int
strmap_put(struct strmap *m, const char *key, void *value)
{
	uint32_t h = strmap_hash(key);
	struct strmap_entry *e = strmap_find(m, key, h);
	size_t off;

	if (e == NULL && (e = strmap_add(m, key, h, 0, &off)) == NULL)
		return -1;
	e->value = value;
	return 0;
}

void *
strmap_put_inline(struct strmap *m, const char *key, size_t size)
{
	struct strmap_entry *e;
	size_t off;

	e = strmap_add(m, key, strmap_hash(key), size > 0 ? size : 1, &off);
	if (e == NULL)
		return NULL;
	e->value = (char *)e + off;
	memset(e->value, 0, size);
	return e->value;
}

void **
strmap_slot(const struct strmap *m, const char *key)
{
	struct strmap_entry *e = strmap_find(m, key, strmap_hash(key));

	return e != NULL ? &e->value : NULL;
}

void *
strmap_del(struct strmap *m, const char *key)
{
	uint32_t h = strmap_hash(key);
	struct strmap_entry **pe, *e;
	void *v;

	if (m->nbuckets == 0)
		return NULL;
	for (pe = &m->buckets[h & (m->nbuckets - 1)]; *pe != NULL;
	    pe = &(*pe)->next) {
		e = *pe;
		if (e->hash == h && strcmp(e->key, key) == 0) {
			*pe = e->next;
			v = e->inline_value ? NULL : e->value;
			free(e);
			m->count--;
			return v;
		}
	}
	return NULL;
}

void
strmap_each(const struct strmap *m,
    void (*fn)(const char *key, void *value, void *arg), void *arg)
{
	struct strmap_entry *e;
	size_t i;

	for (i = 0; i < m->nbuckets; i++)
		for (e = m->buckets[i]; e != NULL; e = e->next)
			fn(e->key, e->value, arg);
}
