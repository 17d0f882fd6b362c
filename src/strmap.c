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

int
strmap_put(struct strmap *m, const char *key, void *value)
{
	uint32_t h = strmap_hash(key);
	struct strmap_entry *e = strmap_find(m, key, h);
	size_t len;

	if (e != NULL) {
		e->value = value;
		return 0;
	}
	if (m->count >= m->nbuckets * m->load && strmap_grow(m) != 0)
		return -1;
	len = strlen(key);
	e = malloc(sizeof *e + len + 1);
	if (e == NULL)
		return -1;
	memcpy(e->key, key, len + 1);
	e->hash = h;
	e->value = value;
	e->next = m->buckets[h & (m->nbuckets - 1)];
	m->buckets[h & (m->nbuckets - 1)] = e;
	m->count++;
	return 0;
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
			v = e->value;
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
