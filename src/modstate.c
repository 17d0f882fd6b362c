/*
 * modstate.c: one worker's bans, mutes and slow modes (see modstate.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modstate.h"

/* The key of a mute or a last send: "CH\nUID" ("*" for everywhere). */
static void
pair_key(char *buf, const char *ch, const char *uid)
{
	size_t cl = ch != NULL ? strlen(ch) : 1;

	memcpy(buf, ch != NULL ? ch : "*", cl);
	buf[cl] = '\n';
	strcpy(buf + cl + 1, uid);
}

#define PAIR_KEY_MAX (CHAN_NAME_MAX + 1 + USER_ID_MAX + 1)

void
modstate_init(struct modstate *ms)
{
	strmap_init(&ms->bans);
	strmap_init(&ms->mutes);
	strmap_init(&ms->slow);
	strmap_init(&ms->last);
	strmap_init(&ms->reporters);
	strmap_init(&ms->reports);
}

static void
entry_free(struct mod_entry *e)
{
	if (e != NULL)
		free(e->cmd);
	free(e);
}

/* Frees the entry values of a map (a strmap_each callback). */
static void
free_value(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	entry_free(value);
}

/* Frees plain malloc'd values (a strmap_each callback). */
static void
free_plain(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	free(value);
}

void
modstate_free(struct modstate *ms)
{
	strmap_each(&ms->bans, free_value, NULL);
	strmap_each(&ms->mutes, free_value, NULL);
	strmap_each(&ms->slow, free_value, NULL);
	strmap_free(&ms->bans);
	strmap_free(&ms->mutes);
	strmap_free(&ms->slow);
	strmap_free(&ms->last);
	strmap_each(&ms->reports, free_plain, NULL);
	strmap_free(&ms->reports);
	strmap_free(&ms->reporters);
}

/* The map and key of an entry. */
static struct strmap *
where(struct modstate *ms, enum mod_kind kind, const char *uid,
    const char *ch, char *key)
{
	switch (kind) {
	case MOD_BAN:
		strcpy(key, uid);
		return &ms->bans;
	case MOD_MUTE:
		pair_key(key, ch, uid);
		return &ms->mutes;
	default:
		strcpy(key, ch);
		return &ms->slow;
	}
}

int
modstate_set(struct modstate *ms, enum mod_kind kind, const char *uid,
    const char *ch, int64_t until, int32_t secs, const char *by,
    const char *reason, const char *cmd, size_t cmd_len)
{
	char key[PAIR_KEY_MAX];
	struct strmap *m = where(ms, kind, uid, ch, key);
	size_t rl = reason != NULL ? strlen(reason) : 0;
	struct mod_entry *e = calloc(1, sizeof *e + rl + 1);
	void **slot;

	if (e == NULL || (e->cmd = malloc(cmd_len + 1)) == NULL) {
		free(e);
		return -1;
	}
	memcpy(e->cmd, cmd, cmd_len);
	e->cmd[cmd_len] = '\0';
	e->cmd_len = cmd_len;
	e->until = until;
	e->secs = secs;
	if (by != NULL)
		snprintf(e->by, sizeof e->by, "%s", by);
	if (rl > 0)
		memcpy(e->reason, reason, rl);
	if ((slot = strmap_slot(m, key)) != NULL) {
		entry_free(*slot);
		*slot = e;
		return 0;
	}
	if (strmap_put(m, key, e) != 0) {
		entry_free(e);
		return -1;
	}
	return 0;
}

/* Collects the keys of uid's mutes (a strmap_each callback). */
struct collect {
	const char *uid;
	char (*keys)[PAIR_KEY_MAX];
	size_t n, cap;
	int64_t now;
	const struct strmap *slow;
};

/* Returns the uid part of a "CH\nUID" key. */
static const char *
pair_uid(const char *key)
{
	const char *nl = strchr(key, '\n');

	return nl != NULL ? nl + 1 : key;
}

/* Notes key in the collection, growing it; false if memory ran out. */
static bool
collect_add(struct collect *c, const char *key)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		void *v = realloc(c->keys, cap * sizeof *c->keys);

		if (v == NULL)
			return false;
		c->keys = v;
		c->cap = cap;
	}
	snprintf(c->keys[c->n++], PAIR_KEY_MAX, "%s", key);
	return true;
}

static void
collect_uid(const char *key, void *value, void *arg)
{
	struct collect *c = arg;

	(void)value;
	if (strcmp(pair_uid(key), c->uid) == 0)
		(void)collect_add(c, key);
}

/* Deletes the collected keys of m; returns how many went. */
static int
collect_drop(struct collect *c, struct strmap *m, bool values)
{
	size_t i;
	int n = 0;
	void *v;

	for (i = 0; i < c->n; i++) {
		v = strmap_del(m, c->keys[i]);
		if (values)
			entry_free(v);
		n++;
	}
	free(c->keys);
	c->keys = NULL;
	c->n = c->cap = 0;
	return n;
}

int
modstate_clear(struct modstate *ms, enum mod_kind kind, const char *uid,
    const char *ch)
{
	char key[PAIR_KEY_MAX];
	struct collect c = { uid, NULL, 0, 0, 0, NULL };
	struct strmap *m;
	void **slot;

	if (kind == MOD_MUTE && ch == NULL) {
		strmap_each(&ms->mutes, collect_uid, &c);
		return collect_drop(&c, &ms->mutes, true);
	}
	m = where(ms, kind, uid, ch, key);
	if ((slot = strmap_slot(m, key)) == NULL)
		return 0;
	entry_free(strmap_del(m, key));
	return 1;
}

/* Returns e if it is in force at now, else NULL. */
static const struct mod_entry *
in_force(const struct mod_entry *e, int64_t now)
{
	return e != NULL && (e->until == 0 || e->until > now) ? e : NULL;
}

const struct mod_entry *
modstate_banned(const struct modstate *ms, const char *uid, int64_t now)
{
	if (ms->bans.count == 0)
		return NULL;
	return in_force(strmap_get(&ms->bans, uid), now);
}

const struct mod_entry *
modstate_muted(const struct modstate *ms, const char *uid, const char *ch,
    int64_t now)
{
	char key[PAIR_KEY_MAX];
	const struct mod_entry *all, *one = NULL;

	if (ms->mutes.count == 0)
		return NULL;
	pair_key(key, NULL, uid);
	all = in_force(strmap_get(&ms->mutes, key), now);
	if (ch != NULL) {
		pair_key(key, ch, uid);
		one = in_force(strmap_get(&ms->mutes, key), now);
	}
	if (all == NULL || one == NULL)
		return all != NULL ? all : one;
	if (all->until == 0 || (one->until != 0 && all->until >= one->until))
		return all;
	return one;
}

int32_t
modstate_slow_secs(const struct modstate *ms, const char *ch)
{
	const struct mod_entry *e;

	if (ms->slow.count == 0 || (e = strmap_get(&ms->slow, ch)) == NULL)
		return 0;
	return e->secs;
}

int64_t
modstate_slow_take(struct modstate *ms, const char *uid, const char *ch,
    int64_t now)
{
	int32_t secs = modstate_slow_secs(ms, ch);
	char key[PAIR_KEY_MAX];
	int64_t *last;

	if (secs <= 0)
		return 0;
	pair_key(key, ch, uid);
	last = strmap_get(&ms->last, key);
	if (last != NULL && now - *last < (int64_t)secs * 1000)
		return (int64_t)secs * 1000 - (now - *last);
	if (last == NULL && (last = strmap_put_inline(&ms->last, key,
	    sizeof *last)) == NULL)
		return 0;	/* out of memory: let it through */
	*last = now;
	return 0;
}

int64_t
modstate_report_take(struct modstate *ms, const char *uid, int64_t now)
{
	struct mod_reporter *r = strmap_get(&ms->reporters, uid);
	int64_t n;

	if (r == NULL) {
		if ((r = strmap_put_inline(&ms->reporters, uid,
		    sizeof *r)) == NULL)
			return 0;	/* out of memory: let it through */
		r->t = now;
		r->tokens = MOD_REPORT_BURST;
	}
	n = (now - r->t) / MOD_REPORT_EVERY_MS;
	if (n > 0) {
		r->tokens = r->tokens + n > MOD_REPORT_BURST ?
		    MOD_REPORT_BURST : r->tokens + (int)n;
		r->t += n * MOD_REPORT_EVERY_MS;
	}
	if (r->tokens == 0)
		return MOD_REPORT_EVERY_MS - (now - r->t);
	if (r->tokens-- == MOD_REPORT_BURST)
		r->t = now;	/* the refill counts from the first one taken */
	return 0;
}

/* Collects the reporters whose allowance is full again. */
static void
collect_full(const char *key, void *value, void *arg)
{
	struct collect *c = arg;
	const struct mod_reporter *r = value;

	if (r->tokens + (c->now - r->t) / MOD_REPORT_EVERY_MS >=
	    MOD_REPORT_BURST)
		(void)collect_add(c, key);
}

/* Collects the reports under way for more than a minute. */
static void
collect_stale(const char *key, void *value, void *arg)
{
	struct collect *c = arg;
	const struct mod_pending *p = value;

	if (c->now - p->at > 60000)
		(void)collect_add(c, key);
}

/* Collects the entries that ended (a strmap_each callback). */
static void
collect_ended(const char *key, void *value, void *arg)
{
	struct collect *c = arg;

	if (in_force(value, c->now) == NULL)
		(void)collect_add(c, key);
}

/* Collects the last sends older than their channel's interval. */
static void
collect_old_send(const char *key, void *value, void *arg)
{
	struct collect *c = arg;
	char ch[CHAN_NAME_MAX + 1];
	const struct mod_entry *e;
	size_t n = strcspn(key, "\n");

	snprintf(ch, sizeof ch, "%.*s", (int)n, key);
	e = strmap_get(c->slow, ch);
	if (e == NULL || c->now - *(int64_t *)value >= (int64_t)e->secs * 1000)
		(void)collect_add(c, key);
}

void
modstate_expire(struct modstate *ms, int64_t now)
{
	struct collect c = { NULL, NULL, 0, 0, now, &ms->slow };

	strmap_each(&ms->bans, collect_ended, &c);
	(void)collect_drop(&c, &ms->bans, true);
	strmap_each(&ms->mutes, collect_ended, &c);
	(void)collect_drop(&c, &ms->mutes, true);
	strmap_each(&ms->last, collect_old_send, &c);
	(void)collect_drop(&c, &ms->last, false);
	strmap_each(&ms->reporters, collect_full, &c);
	(void)collect_drop(&c, &ms->reporters, false);
	strmap_each(&ms->reports, collect_stale, &c);
	for (size_t i = 0; i < c.n; i++)
		free(strmap_del(&ms->reports, c.keys[i]));
	c.n = 0;
	free(c.keys);
}

/* What modstate_each walks with. */
struct each {
	enum mod_kind kind;
	int64_t now;
	void (*fn)(enum mod_kind, const char *, const char *,
	    const struct mod_entry *, void *);
	void *arg;
};

static void
each_one(const char *key, void *value, void *arg)
{
	struct each *x = arg;
	char ch[CHAN_NAME_MAX + 1];
	size_t n;

	if (in_force(value, x->now) == NULL)
		return;
	switch (x->kind) {
	case MOD_BAN:
		x->fn(MOD_BAN, key, NULL, value, x->arg);
		break;
	case MOD_MUTE:
		n = strcspn(key, "\n");
		snprintf(ch, sizeof ch, "%.*s", (int)n, key);
		x->fn(MOD_MUTE, pair_uid(key), strcmp(ch, "*") == 0 ? NULL :
		    ch, value, x->arg);
		break;
	default:
		x->fn(MOD_SLOW, NULL, key, value, x->arg);
		break;
	}
}

void
modstate_each(const struct modstate *ms, int64_t now,
    void (*fn)(enum mod_kind kind, const char *uid, const char *ch,
    const struct mod_entry *e, void *arg), void *arg)
{
	struct each x = { MOD_BAN, now, fn, arg };

	strmap_each(&ms->bans, each_one, &x);
	x.kind = MOD_MUTE;
	strmap_each(&ms->mutes, each_one, &x);
	x.kind = MOD_SLOW;
	strmap_each(&ms->slow, each_one, &x);
}

size_t
modstate_count(const struct modstate *ms)
{
	return ms->bans.count + ms->mutes.count + ms->slow.count;
}
