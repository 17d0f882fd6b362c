/*
 * redis-sub.c: the subscriber side of a Redis connection.
 *
 * Subscriptions are a set of channels, each with the state it has on the
 * wire; at most one SUBSCRIBE or UNSUBSCRIBE per channel is in flight, which
 * keeps clear of hiredis's races between the two.  The set outlives links:
 * after each handshake it is subscribed again, in batches, and the
 * connection goes UP only once every SUBSCRIBE is confirmed.  Messages are
 * handed on only for channels still in the set.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "redis.h"
#include "redis-int.h"
#include "strmap.h"

#define SUB_BATCH 128			/* channels per re-SUBSCRIBE command */

static void sub_sync(struct redis_conn *rc, struct redis_sub *s);
static void on_sub_reply(redisAsyncContext *ac, void *reply, void *privdata);

/* Forgets s (its wire state must be NONE). */
static void
sub_delete(struct redis_conn *rc, struct redis_sub *s)
{
	(void)strmap_del(&rc->subs, s->name);
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
 * Sends SUBSCRIBE or UNSUBSCRIBE for the n channels v.  Returns 0, or -1
 * (the link is then broken and will be replaced).
 */
static int
sub_send(struct redis_conn *rc, bool subscribe, struct redis_sub **v, int n)
{
	const char *argv[SUB_BATCH + 1];
	size_t lens[SUB_BATCH + 1];
	int i;

	argv[0] = subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
	lens[0] = strlen(argv[0]);
	for (i = 0; i < n; i++) {
		argv[i + 1] = v[i]->name;
		lens[i + 1] = v[i]->len;
	}
	/* The callback goes into hiredis's channel table, not its FIFO. */
	if (!redis_link_usable(rc) || redisAsyncCommandArgv(rc->link->ac,
	    on_sub_reply, rc->link, n + 1, argv, lens) != REDIS_OK) {
		if (rc->link != NULL)
			redis_link_broken(rc->link, "cannot send (UN)SUBSCRIBE");
		return -1;
	}
	for (i = 0; i < n; i++) {
		v[i]->wire = subscribe ? WIRE_SUBSCRIBING : WIRE_UNSUBSCRIBING;
		if (subscribe)
			rc->nsubscribing++;
	}
	return 0;
}

/* Redis confirmed a SUBSCRIBE (subscribed) or an UNSUBSCRIBE of name. */
static void
sub_confirmed(struct redis_conn *rc, const char *name, bool subscribed)
{
	struct redis_sub *s = strmap_get(&rc->subs, name);

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
	else if (rc->subd_cb != NULL)
		rc->subd_cb(rc, s->name, s->len, rc->subd_arg);
	redis_conn_maybe_up(rc);
}

/* hiredis's callback for subscription traffic: confirmations and messages. */
static void
on_sub_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis_link *l = privdata;
	struct redis_conn *rc = l->rc;
	redisReply *r = reply, *kind, *ch, *msg;
	struct redis_sub *s;

	if (rc == NULL || rc->link != l || r == NULL ||
	    r->type != REDIS_REPLY_ARRAY || r->elements < 3)
		return;
	kind = r->element[0];
	ch = r->element[1];
	if (kind->type != REDIS_REPLY_STRING ||
	    ch->type != REDIS_REPLY_STRING || ch->len > REDIS_CHANNEL_MAX || strlen(ch->str) != ch->len)
		return;		/* not a channel of ours */
	if (strcmp(kind->str, "message") == 0) {
		msg = r->element[2];
		s = strmap_get(&rc->subs, ch->str);
		if (s != NULL && s->want && rc->msg_cb != NULL &&
		    msg->type == REDIS_REPLY_STRING)
			rc->msg_cb(rc, ch->str, ch->len, msg->str, msg->len,
			    rc->msg_arg);
	} else if (strcmp(kind->str, "subscribe") == 0) {
		sub_confirmed(rc, ch->str, true);
	} else if (strcmp(kind->str, "unsubscribe") == 0) {
		sub_confirmed(rc, ch->str, false);
	}
}

/*
 * Brings s's wire state towards what is wanted, if the link is ready; at
 * most one (UN)SUBSCRIBE per channel is in flight.  May free s.
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
		(void)sub_send(rc, true, &s, 1);
	else if (!s->want && s->wire == WIRE_SUBSCRIBED)
		(void)sub_send(rc, false, &s, 1);
}

void
redis_subs_resync(struct redis_conn *rc)
{
	struct redis_sub *batch[SUB_BATCH], *s;
	int n = 0;

	for (s = rc->sub_list; s != NULL; s = s->next) {
		if (!s->want || s->wire != WIRE_NONE)
			continue;
		batch[n++] = s;
		if (n == SUB_BATCH) {
			if (sub_send(rc, true, batch, n) != 0)
				return;
			n = 0;
		}
	}
	if (n > 0)
		(void)sub_send(rc, true, batch, n);
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

/* Checks a channel name and copies it, NUL-terminated, into buf.  Returns 0 or -1. */
static int
sub_name(const char *channel, size_t len, char buf[REDIS_CHANNEL_MAX + 1])
{
	if (channel == NULL || len == 0 || len > REDIS_CHANNEL_MAX ||
	    memchr(channel, '\0', len) != NULL)
		return -1;
	memcpy(buf, channel, len);
	buf[len] = '\0';
	return 0;
}

int
redis_conn_subscribe(struct redis_conn *rc, const char *channel, size_t len)
{
	char name[REDIS_CHANNEL_MAX + 1];
	struct redis_sub *s;

	if (rc->freeing || sub_name(channel, len, name) != 0)
		return -1;
	s = strmap_get(&rc->subs, name);
	if (s == NULL) {
		if (rc->nsubs >= REDIS_SUBS_MAX)
			return -1;
		s = calloc(1, sizeof *s + len + 1);
		if (s == NULL)
			return -1;
		memcpy(s->name, name, len + 1);
		s->len = len;
		if (strmap_put(&rc->subs, s->name, s) != 0) {
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

int
redis_conn_unsubscribe(struct redis_conn *rc, const char *channel, size_t len)
{
	char name[REDIS_CHANNEL_MAX + 1];
	struct redis_sub *s;

	if (sub_name(channel, len, name) != 0)
		return -1;
	s = strmap_get(&rc->subs, name);
	if (s == NULL || !s->want || rc->freeing)
		return 0;
	s->want = false;
	sub_sync(rc, s);
	return 0;
}

void
redis_conn_set_message_cb(struct redis_conn *rc, redis_message_cb cb,
    void *arg)
{
	rc->msg_cb = cb;
	rc->msg_arg = arg;
}

void
redis_conn_set_subscribed_cb(struct redis_conn *rc, redis_subscribed_cb cb,
    void *arg)
{
	rc->subd_cb = cb;
	rc->subd_arg = arg;
}

void
redis_subs_free(struct redis_conn *rc)
{
	struct redis_sub *s, *next;

	for (s = rc->sub_list; s != NULL; s = next) {
		next = s->next;
		free(s);
	}
	strmap_free(&rc->subs);
}
