/*
 * watch.h: one worker's watches: which of its connections (moderators)
 * watch which channel patterns ("lobby", "party:*", "*"), to be given every
 * message of those channels without joining them, and every moderation
 * event.  Patterns are checked by proto_pattern_valid before they get here.
 */
#ifndef CHATRELAY_WATCH_H
#define CHATRELAY_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define WATCH_PER_OWNER_MAX 32	/* patterns one connection may watch */

struct watch {
	void *owner;			/* the watching connection */
	char pattern[PROTO_PATTERN_MAX + 1];
};

struct watch_table {
	struct watch *v;
	uint32_t n, cap;
	uint32_t owners;		/* distinct owners with a watch */
};

void watch_table_init(struct watch_table *t);
void watch_table_free(struct watch_table *t);

/*
 * Adds owner's watch of pattern.  Returns 1 if added, 0 if owner watched it
 * already, -2 if owner has WATCH_PER_OWNER_MAX, -1 if memory ran out.
 */
int watch_add(struct watch_table *t, void *owner, const char *pattern);

/* Removes owner's watch of pattern; returns 0, or -1 if it had none. */
int watch_remove(struct watch_table *t, void *owner, const char *pattern);

/* Removes every watch of owner; returns how many went. */
int watch_remove_owner(struct watch_table *t, void *owner);

/* Returns how many patterns owner watches. */
int watch_count(const struct watch_table *t, const void *owner);

/*
 * Calls fn(owner, arg) once for each owner with a pattern that matches ch
 * (ch NULL: once for every owner).  fn may not change t.
 */
void watch_each(const struct watch_table *t, const char *ch,
    void (*fn)(void *owner, void *arg), void *arg);

/*
 * Calls fn(pattern, arg) for each of owner's patterns (in the order added);
 * fn may not change t.
 */
void watch_each_pattern(const struct watch_table *t, const void *owner,
    void (*fn)(const char *pattern, void *arg), void *arg);

/* Returns true if some watch (of any owner) has exactly pattern. */
bool watch_has_pattern(const struct watch_table *t, const char *pattern);

#endif
