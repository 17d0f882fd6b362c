/*
 * watch.c: one worker's watches (see watch.h): a small array, as there are
 * few moderators and each has at most WATCH_PER_OWNER_MAX patterns.
 */
#include <stdlib.h>
#include <string.h>

#include "watch.h"

void
watch_table_init(struct watch_table *t)
{
	memset(t, 0, sizeof *t);
}

void
watch_table_free(struct watch_table *t)
{
	free(t->v);
	memset(t, 0, sizeof *t);
}

int
watch_count(const struct watch_table *t, const void *owner)
{
	uint32_t i;
	int n = 0;

	for (i = 0; i < t->n; i++)
		if (t->v[i].owner == owner)
			n++;
	return n;
}

int
watch_add(struct watch_table *t, void *owner, const char *pattern)
{
	uint32_t i, cap;
	struct watch *v;
	int mine = 0;

	if (strlen(pattern) > PROTO_PATTERN_MAX)
		return -1;
	for (i = 0; i < t->n; i++) {
		if (t->v[i].owner != owner)
			continue;
		if (strcmp(t->v[i].pattern, pattern) == 0)
			return 0;
		mine++;
	}
	if (mine >= WATCH_PER_OWNER_MAX)
		return -2;
	if (t->n == t->cap) {
		cap = t->cap ? t->cap * 2 : 4;
		if ((v = realloc(t->v, cap * sizeof *v)) == NULL)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].owner = owner;
	strcpy(t->v[t->n].pattern, pattern);
	t->n++;
	if (mine == 0)
		t->owners++;
	return 1;
}

/* Removes entry i, keeping the order of the others. */
static void
remove_at(struct watch_table *t, uint32_t i)
{
	void *owner = t->v[i].owner;

	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof *t->v);
	t->n--;
	if (watch_count(t, owner) == 0)
		t->owners--;
}

int
watch_remove(struct watch_table *t, void *owner, const char *pattern)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].owner == owner &&
		    strcmp(t->v[i].pattern, pattern) == 0) {
			remove_at(t, i);
			return 0;
		}
	return -1;
}

int
watch_remove_owner(struct watch_table *t, void *owner)
{
	uint32_t i = 0;
	int n = 0;

	while (i < t->n) {
		if (t->v[i].owner == owner) {
			remove_at(t, i);
			n++;
		} else
			i++;
	}
	return n;
}

/* Returns true if entry i matches ch (NULL: everything). */
static bool
matches(const struct watch_table *t, uint32_t i, const char *ch)
{
	return ch == NULL || proto_pattern_match(t->v[i].pattern, ch);
}

void
watch_each(const struct watch_table *t, const char *ch,
    void (*fn)(void *owner, void *arg), void *arg)
{
	uint32_t i, j;

	for (i = 0; i < t->n; i++) {
		if (!matches(t, i, ch))
			continue;
		/* Once per owner: skip it if an earlier pattern of it matched. */
		for (j = 0; j < i; j++)
			if (t->v[j].owner == t->v[i].owner && matches(t, j, ch))
				break;
		if (j == i)
			fn(t->v[i].owner, arg);
	}
}

void
watch_each_pattern(const struct watch_table *t, const void *owner,
    void (*fn)(const char *pattern, void *arg), void *arg)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].owner == owner)
			fn(t->v[i].pattern, arg);
}

bool
watch_has_pattern(const struct watch_table *t, const char *pattern)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].pattern, pattern) == 0)
			return true;
	return false;
}
