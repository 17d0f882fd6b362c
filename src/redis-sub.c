/*
 * redis-sub.c: the subscriber side of a Redis connection.
 *
 * Subscriptions are a set of channels and patterns, each with the state it
 * has on the wire; a pattern and a channel of the same text are two
 * entries, kept in two maps, as Redis and hiredis keep them apart (hiredis
 * files a pattern's callback in a table of its own, and finds it by the
 * pattern a "pmessage" names).  At most one SUBSCRIBE or UNSUBSCRIBE
 * (PSUBSCRIBE or PUNSUBSCRIBE for a pattern) per entry is in flight, which
 * keeps clear of hiredis's races between the two: its tables count the
 * subscribes pending per name and forget the name at an unsubscribe reply
 * when none is, and hiredis 0.14.1 hands a reply for a name it forgot (a
 * second UNSUBSCRIBE's) to whatever callback the reply before it had.  The
 * set outlives links: after each handshake it is subscribed again, in
 * batches (channels and patterns never in one command), and the connection
 * goes UP only once every SUBSCRIBE and PSUBSCRIBE is confirmed.  Messages
 * are handed on only for channels and patterns still in the set.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "redis.h"
#include "redis-int.h"
#include "strmap.h"

#define SUB_BATCH 128			/* names per re-(P)SUBSCRIBE command */

static void sub_sync(struct redis_conn *rc, struct redis_sub *s);
static void on_sub_reply(redisAsyncContext *ac, void *reply, void *privdata);

/* Returns the map of patterns (pattern) or of channels. */
static struct strmap *
sub_map(struct redis_conn *rc, bool pattern)
{
	return pattern ? &rc->psubs : &rc->subs;
}

/* Forgets s (its wire state must be NONE). */
static void
sub_delete(struct redis_conn *rc, struct redis_sub *s)
{
	(void)strmap_del(sub_map(rc, s->pattern), s->name);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		rc->sub_list = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	rc->nsubs--;
	free(s);
}

/*
 * Sends SUBSCRIBE or UNSUBSCRIBE (PSUBSCRIBE or PUNSUBSCRIBE if pattern)
 * for the n entries v, all of that kind.  Returns 0, or -1 (the link is
 * then broken and will be replaced).
 */
static int
sub_send(struct redis_conn *rc, bool subscribe, bool pattern,
    struct redis_sub **v, int n)
{
	const char *argv[SUB_BATCH + 1];
	size_t lens[SUB_BATCH + 1];
	int i;

	if (pattern)
		argv[0] = subscribe ? "PSUBSCRIBE" : "PUNSUBSCRIBE";
	else
		argv[0] = subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
	lens[0] = strlen(argv[0]);
	for (i = 0; i < n; i++) {
		argv[i + 1] = v[i]->name;
		lens[i + 1] = v[i]->len;
	}
	/* The callback goes into hiredis's channel or pattern table, not its FIFO. */
	if (!redis_link_usable(rc) || redisAsyncCommandArgv(rc->link->ac,
	    on_sub_reply, rc->link, n + 1, argv, lens) != REDIS_OK) {
		if (rc->link != NULL)
			redis_link_broken(rc->link, pattern ?
			    "cannot send P(UN)SUBSCRIBE" :
			    "cannot send (UN)SUBSCRIBE");
		return -1;
	}
	for (i = 0; i < n; i++) {
		v[i]->wire = subscribe ? WIRE_SUBSCRIBING : WIRE_UNSUBSCRIBING;
		if (subscribe)
			rc->nsubscribing++;
	}
	return 0;
}

/*
 * Redis confirmed a (P)SUBSCRIBE (subscribed) or a (P)UNSUBSCRIBE of name,
 * a pattern or a channel.  May free rc (in the subscribed callback).
 */
static void
sub_confirmed(struct redis_conn *rc, bool pattern, const char *name,
    bool subscribed)
{
	struct redis_sub *s = strmap_get(sub_map(rc, pattern), name);

	if (s == NULL)
		return;
	if (!subscribed) {
		if (s->wire == WIRE_UNSUBSCRIBING) {
			s->wire = WIRE_NONE;
			sub_sync(rc, s);	/* wanted again, or forgotten */
		}
		return;
	}
	if (s->wire != WIRE_SUBSCRIBING)
		return;
	s->wire = WIRE_SUBSCRIBED;
	rc->nsubscribing--;
	if (!s->want)
		sub_sync(rc, s);
	else if (!pattern && rc->subd_cb != NULL)
		rc->subd_cb(rc, s->name, s->len, rc->subd_arg);
	/* rc freed in the callback is still readable here, and stays down. */
	redis_conn_maybe_up(rc);
}

/* Returns true if r is a string that could name an entry: 1..REDIS_CHANNEL_MAX bytes, no NUL. */
static bool
sub_str_ok(const redisReply *r)
{
	return r->type == REDIS_REPLY_STRING && r->len > 0 &&
	    r->len <= REDIS_CHANNEL_MAX && memchr(r->str, '\0', r->len) == NULL;
}

/* A "message" on channel ch: handed on if ch is still wanted. */
static void
sub_message(struct redis_conn *rc, const redisReply *ch,
    const redisReply *msg)
{
	struct redis_sub *s = strmap_get(&rc->subs, ch->str);

	if (s != NULL && s->want && rc->msg_cb != NULL &&
	    msg->type == REDIS_REPLY_STRING)
		rc->msg_cb(rc, ch->str, ch->len, msg->str, msg->len,
		    rc->msg_arg);
}

/*
 * A "pmessage" of pattern pat on channel ch: handed on if pat is still
 * wanted and ch is a name we accept (bounded, no NUL).
 */
static void
sub_pmessage(struct redis_conn *rc, const redisReply *pat,
    const redisReply *ch, const redisReply *msg)
{
	struct redis_sub *s = strmap_get(&rc->psubs, pat->str);

	if (s != NULL && s->want && rc->pmsg_cb != NULL && sub_str_ok(ch) &&
	    msg->type == REDIS_REPLY_STRING)
		rc->pmsg_cb(rc, pat->str, pat->len, ch->str, ch->len,
		    msg->str, msg->len, rc->pmsg_arg);
}

/* hiredis's callback for subscription traffic: confirmations and messages. */
static void
on_sub_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis_link *l = privdata;
	struct redis_conn *rc = l->rc;
	redisReply *r = reply, *kind, *name;
	const char *k;

	(void)ac;
	if (rc == NULL || rc->link != l || r == NULL ||
	    r->type != REDIS_REPLY_ARRAY || r->elements < 3)
		return;
	kind = r->element[0];
	name = r->element[1];		/* the channel, or the pattern */
	if (kind->type != REDIS_REPLY_STRING || !sub_str_ok(name))
		return;		/* not a channel or pattern of ours */
	k = kind->str;
	if (strcmp(k, "message") == 0)
		sub_message(rc, name, r->element[2]);
	else if (strcmp(k, "pmessage") == 0 && r->elements >= 4)
		sub_pmessage(rc, name, r->element[2], r->element[3]);
	else if (strcmp(k, "subscribe") == 0)
		sub_confirmed(rc, false, name->str, true);
	else if (strcmp(k, "unsubscribe") == 0)
		sub_confirmed(rc, false, name->str, false);
	else if (strcmp(k, "psubscribe") == 0)
		sub_confirmed(rc, true, name->str, true);
	else if (strcmp(k, "punsubscribe") == 0)
		sub_confirmed(rc, true, name->str, false);
}

/*
 * Brings s's wire state towards what is wanted, if the link is ready; at
 * most one (UN)SUBSCRIBE per entry is in flight.  May free s.
 */
static void
sub_sync(struct redis_conn *rc, struct redis_sub *s)
{
	if (!s->want && s->wire == WIRE_NONE) {
		sub_delete(rc, s);
		return;
	}
	if (!rc->ready || !redis_link_usable(rc))
		return;
	if (s->want && s->wire == WIRE_NONE)
		(void)sub_send(rc, true, s->pattern, &s, 1);
	else if (!s->want && s->wire == WIRE_SUBSCRIBED)
		(void)sub_send(rc, false, s->pattern, &s, 1);
}

/*
 * Subscribes, in batches, every wanted entry of one kind (patterns or
 * channels) that the wire does not have.  Returns 0, or -1 if the link broke.
 */
static int
sub_resync_kind(struct redis_conn *rc, bool pattern)
{
	struct redis_sub *batch[SUB_BATCH], *s;
	int n = 0;

	for (s = rc->sub_list; s != NULL; s = s->next) {
		if (s->pattern != pattern || !s->want || s->wire != WIRE_NONE)
			continue;
		batch[n++] = s;
		if (n == SUB_BATCH) {
			if (sub_send(rc, true, pattern, batch, n) != 0)
				return -1;
			n = 0;
		}
	}
	if (n > 0)
		return sub_send(rc, true, pattern, batch, n);
	return 0;
}

void
redis_subs_resync(struct redis_conn *rc)
{
	if (sub_resync_kind(rc, false) == 0)
		(void)sub_resync_kind(rc, true);
}

void
redis_subs_reset(struct redis_conn *rc)
{
	struct redis_sub *s, *next;

	for (s = rc->sub_list; s != NULL; s = next) {
		next = s->next;
		s->wire = WIRE_NONE;
		if (!s->want)
			sub_delete(rc, s);
	}
	rc->nsubscribing = 0;
}

/* Checks a channel name or pattern and copies it, NUL-terminated, into buf.  Returns 0 or -1. */
static int
sub_name(const char *name, size_t len, char buf[REDIS_CHANNEL_MAX + 1])
{
	if (name == NULL || len == 0 || len > REDIS_CHANNEL_MAX ||
	    memchr(name, '\0', len) != NULL)
		return -1;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return 0;
}

/*
 * Adds the channel or pattern (len bytes) to the set, and subscribes to it
 * if the link is ready.  Returns 0 (already in the set too), or -1 if the
 * name is bad, the set is full or memory ran out.
 */
static int
sub_add(struct redis_conn *rc, bool pattern, const char *text, size_t len)
{
	char name[REDIS_CHANNEL_MAX + 1];
	struct strmap *map = sub_map(rc, pattern);
	struct redis_sub *s;

	if (rc->freeing || sub_name(text, len, name) != 0)
		return -1;
	s = strmap_get(map, name);
	if (s == NULL) {
		if (rc->nsubs >= REDIS_SUBS_MAX)
			return -1;
		s = calloc(1, sizeof *s + len + 1);
		if (s == NULL)
			return -1;
		memcpy(s->name, name, len + 1);
		s->len = len;
		s->pattern = pattern;
		if (strmap_put(map, s->name, s) != 0) {
			free(s);
			return -1;
		}
		s->next = rc->sub_list;
		if (s->next != NULL)
			s->next->prev = s;
		rc->sub_list = s;
		rc->nsubs++;
	} else if (s->want) {
		return 0;
	}
	s->want = true;
	sub_sync(rc, s);
	return 0;
}

/*
 * Removes the channel or pattern from the set: its messages stop at once,
 * and it is unsubscribed once nothing else of it is in flight.  Returns 0
 * (also if it was not in the set), or -1 if the name is bad.
 */
static int
sub_remove(struct redis_conn *rc, bool pattern, const char *text, size_t len)
{
	char name[REDIS_CHANNEL_MAX + 1];
	struct redis_sub *s;

	if (sub_name(text, len, name) != 0)
		return -1;
	s = strmap_get(sub_map(rc, pattern), name);
	if (s == NULL || !s->want || rc->freeing)
		return 0;
	s->want = false;
	sub_sync(rc, s);
	return 0;
}

int
redis_conn_subscribe(struct redis_conn *rc, const char *channel, size_t len)
{
	return sub_add(rc, false, channel, len);
}

int
redis_conn_unsubscribe(struct redis_conn *rc, const char *channel, size_t len)
{
	return sub_remove(rc, false, channel, len);
}

int
redis_conn_psubscribe(struct redis_conn *rc, const char *pattern, size_t len)
{
	return sub_add(rc, true, pattern, len);
}

int
redis_conn_punsubscribe(struct redis_conn *rc, const char *pattern,
    size_t len)
{
	return sub_remove(rc, true, pattern, len);
}

void
redis_conn_set_message_cb(struct redis_conn *rc, redis_message_cb cb,
    void *arg)
{
	rc->msg_cb = cb;
	rc->msg_arg = arg;
}

void
redis_conn_set_pmessage_cb(struct redis_conn *rc, redis_pmessage_cb cb,
    void *arg)
{
	rc->pmsg_cb = cb;
	rc->pmsg_arg = arg;
}

void
redis_conn_set_subscribed_cb(struct redis_conn *rc, redis_subscribed_cb cb,
    void *arg)
{
	rc->subd_cb = cb;
	rc->subd_arg = arg;
}

void
redis_subs_init(struct redis_conn *rc)
{
	strmap_init(&rc->subs);
	strmap_set_load(&rc->subs, 1);	/* looked up per message */
	strmap_init(&rc->psubs);
	strmap_set_load(&rc->psubs, 1);
}

void
redis_subs_free(struct redis_conn *rc)
{
	struct redis_sub *s, *next;

	for (s = rc->sub_list; s != NULL; s = next) {
		next = s->next;
		free(s);
	}
	rc->sub_list = NULL;
	rc->nsubs = 0;
	strmap_free(&rc->subs);
	strmap_free(&rc->psubs);
}
