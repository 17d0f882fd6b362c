/*
 * redis-sentinel.c: the Sentinel side of a Redis connection.
 *
 * A connection whose address names a master (redis_sentinel_parse) starts
 * every attempt by asking its sentinels in turn, on a link of its own,
 * SENTINEL get-master-addr-by-name; a sentinel that fails or times out is
 * skipped, and when none answers the attempt fails like any other (the
 * caller's back-off applies).  The master named is then connected to and
 * checked with ROLE.  Each such connection also owns a "watcher": a plain
 * subscriber connection to one sentinel (the next one after each failure)
 * on +switch-master.  When a failover moves our master, the owner's link
 * is dropped as if it failed and the next attempt goes straight to the new
 * master.  Everything here belongs to the owner's loop; the only state
 * shared between threads is the word that keeps a failover from being
 * logged once per connection.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <uv.h>

#include "log.h"
#include "redis.h"
#include "redis-int.h"

#define SWITCH_CHANNEL "+switch-master"

/*
 * A hash of the last failover logged ("NAME HOST PORT"), so that the several
 * connections of a process that hear of the same failover log it once.  It
 * only ever decides between log_notice and log_debug.
 */
static _Atomic uint64_t moved_logged;

/* Returns the FNV-1a hash of name, host and port. */
static uint64_t
moved_hash(const char *name, const char *host, int port)
{
	uint64_t h = 14695981039346656037ULL;
	const char *parts[2] = { name, host };
	const char *p;
	int i;

	for (i = 0; i < 2; i++) {
		for (p = parts[i]; *p != '\0'; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h = (h ^ ' ') * 1099511628211ULL;
	}
	return (h ^ (uint64_t)port) * 1099511628211ULL;
}

/* Writes "master NAME[ at host:port][/db]" into rc's where. */
static void
sentinel_where(struct redis_conn *rc, bool at)
{
	char hp[300] = "", db[16] = "";

	if (at)
		redis_hostport_describe(rc->target, rc->target_port, hp,
		    sizeof hp);
	if (rc->addr.db != 0)
		snprintf(db, sizeof db, "/%d", rc->addr.db);
	snprintf(rc->where, sizeof rc->where, "master %s%s%s%s",
	    rc->addr.master, at ? " at " : "", hp, db);
}

/*
 * by (a sentinel) says rc's master is host:port: remembers it and, if it
 * had been somewhere else, logs the failover (once per process).
 */
static void
sentinel_note(struct redis_conn *rc, const char *host, int port,
    const char *by)
{
	char hp[300];
	uint64_t h;
	int level = LOG_DEBUG;

	if (rc->known[0] != '\0' && (strcmp(rc->known, host) != 0 ||
	    rc->known_port != port)) {
		h = moved_hash(rc->addr.master, host, port);
		if (atomic_exchange(&moved_logged, h) != h)
			level = LOG_NOTICE;
		redis_hostport_describe(host, port, hp, sizeof hp);
		log_msg(level, "redis: master %s moved to %s (sentinel %s)",
		    rc->addr.master, hp, by);
	}
	snprintf(rc->known, sizeof rc->known, "%s", host);
	rc->known_port = port;
}

/* Points rc's next link at sentinel number sentinel_idx (wrapped), and writes it into by. */
static void
sentinel_target(struct redis_conn *rc, char *by, size_t len)
{
	const struct redis_hostport *s;

	rc->sentinel_idx %= (unsigned)rc->addr.nsentinels;
	s = &rc->addr.sentinels[rc->sentinel_idx];
	memcpy(rc->target, s->host, sizeof rc->target);
	rc->target_port = s->port;
	redis_hostport_describe(s->host, s->port, by, len);
}

void
redis_sentinel_attempt(struct redis_conn *rc)
{
	if (rc->owner != NULL) {
		/* A watcher: its sentinel, told in its logs. */
		sentinel_target(rc, rc->told_by, sizeof rc->told_by);
		snprintf(rc->where, sizeof rc->where, "sentinel %.280s",
		    rc->told_by);
	} else if (rc->hinted) {
		/* A failover was announced: straight to the new master. */
		rc->hinted = false;
		rc->asking = false;
		memcpy(rc->target, rc->known, sizeof rc->target);
		rc->target_port = rc->known_port;
		sentinel_where(rc, true);
	} else {
		rc->asking = true;
		rc->asked = 0;
		sentinel_target(rc, rc->told_by, sizeof rc->told_by);
		sentinel_where(rc, false);
	}
	redis_conn_connect(rc);
}

/* Parses a port number, all of s.  Returns it, or -1. */
static int
parse_port(const char *s, size_t len)
{
	long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

/* Returns true if the len bytes of host can be a host name or address. */
static bool
host_ok(const char *host, size_t len)
{
	size_t i;

	if (len == 0 || len >= sizeof ((struct redis_conn *)0)->target)
		return false;
	for (i = 0; i < len; i++) {
		if ((unsigned char)host[i] <= ' ' || host[i] == 0x7f)
			return false;
	}
	return true;
}

/*
 * The answer to SENTINEL get-master-addr-by-name: [host, port] sends the
 * attempt to the master; anything else fails this sentinel (the next one is
 * asked).
 */
static void
on_master_addr(struct redis_conn *rc, struct redisReply *r, void *priv)
{
	char why[160];
	int port;

	(void)priv;
	if (r == NULL || !rc->asking)
		return;		/* the attempt failed already */
	if (r->type == REDIS_REPLY_NIL) {
		snprintf(why, sizeof why, "it does not know master %.64s",
		    rc->addr.master);
		redis_conn_lost(rc, why);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof why, "it answered %.100s", r->str);
		redis_conn_lost(rc, why);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING ||
	    !host_ok(r->element[0]->str, r->element[0]->len) ||
	    strlen(r->element[0]->str) != r->element[0]->len ||
	    (port = parse_port(r->element[1]->str,
	    r->element[1]->len)) < 0) {
		redis_conn_lost(rc, "malformed answer");
		return;
	}
	sentinel_note(rc, r->element[0]->str, port, rc->told_by);
	/* From the sentinel's link to the master's, in the same attempt. */
	rc->asking = false;
	redis_link_drop(rc);
	memcpy(rc->target, rc->known, sizeof rc->target);
	rc->target_port = port;
	sentinel_where(rc, true);
	log_debug("redis: sentinel %s says %s", rc->told_by, rc->where);
	redis_conn_arm_timeout(rc);
	redis_conn_connect(rc);
}

int
redis_sentinel_query(struct redis_conn *rc)
{
	const char *argv[3] = {
		"SENTINEL", "get-master-addr-by-name", rc->addr.master
	};

	return redis_conn_send_internal(rc, on_master_addr, NULL, 3, argv);
}

bool
redis_sentinel_lost(struct redis_conn *rc, const char *why, char *why_out,
    size_t len)
{
	snprintf(why_out, len, "%s", why);
	if (rc->owner != NULL) {
		rc->sentinel_idx++;	/* the watcher tries the next one */
		return false;
	}
	if (!rc->asking) {
		/* The master named failed us: ask another sentinel next. */
		if (rc->state != REDIS_UP)
			rc->sentinel_idx++;
		return false;
	}
	log_debug("redis: sentinel %s did not say where master %s is (%s)",
	    rc->told_by, rc->addr.master, why);
	rc->sentinel_idx++;
	if (++rc->asked < (unsigned)rc->addr.nsentinels) {
		sentinel_target(rc, rc->told_by, sizeof rc->told_by);
		redis_conn_arm_timeout(rc);
		redis_conn_connect(rc);
		return true;
	}
	rc->asking = false;
	if (rc->addr.nsentinels > 1)
		snprintf(why_out, len, "no sentinel answered; the last, %s: %s",
		    rc->told_by, why);
	else
		snprintf(why_out, len, "sentinel %s: %s", rc->told_by, why);
	return false;
}

/*
 * The watcher's message: "NAME OLD-HOST OLD-PORT NEW-HOST NEW-PORT" on
 * +switch-master.  If it is our master that moved, the owner's link goes,
 * and the next attempt (at once) goes to the new master.
 */
static void
on_switch(struct redis_conn *watch, const char *channel, size_t chlen,
    const char *msg, size_t msglen, void *arg)
{
	struct redis_conn *rc = arg;
	const char *f[5], *p = msg, *end = msg + msglen;
	size_t flen[5];
	char host[256], why[400];
	int i, port;

	if (chlen != sizeof SWITCH_CHANNEL - 1 ||
	    memcmp(channel, SWITCH_CHANNEL, chlen) != 0)
		return;
	for (i = 0; i < 5; i++) {
		while (p < end && *p == ' ')
			p++;
		f[i] = p;
		while (p < end && *p != ' ')
			p++;
		flen[i] = (size_t)(p - f[i]);
	}
	if (flen[0] != strlen(rc->addr.master) ||
	    memcmp(f[0], rc->addr.master, flen[0]) != 0)
		return;		/* another master of these sentinels */
	if (!host_ok(f[3], flen[3]) || memchr(f[3], '\0', flen[3]) != NULL ||
	    (port = parse_port(f[4], flen[4])) < 0) {
		log_warn("redis: sentinel %s announced a malformed failover "
		    "of master %s", watch->told_by, rc->addr.master);
		return;
	}
	memcpy(host, f[3], flen[3]);
	host[flen[3]] = '\0';
	sentinel_note(rc, host, port, watch->told_by);
	/* Already there (it asked a sentinel that knew), or on the way. */
	if (rc->state != REDIS_DOWN && !rc->asking &&
	    strcmp(rc->target, host) == 0 && rc->target_port == port)
		return;
	rc->hinted = true;
	memcpy(rc->told_by, watch->told_by, sizeof rc->told_by);
	if (rc->state != REDIS_DOWN) {
		rc->asking = false;
		redis_hostport_describe(host, port, why, sizeof why);
		snprintf(why + strlen(why), sizeof why - strlen(why),
		    " is the master now");
		redis_conn_lost(rc, why);
	}
	/* No back-off: the new master is known to be up. */
	if (!rc->freeing && rc->state == REDIS_DOWN)
		uv_timer_start(&rc->timer, redis_conn_on_timer, 0, 0);
}

int
redis_sentinel_init(struct redis_conn *rc)
{
	struct redis_conn *w;

	snprintf(rc->where, sizeof rc->where, "master %s", rc->addr.master);
	w = redis_conn_create(rc->loop, &rc->addr, rc->timeout_ms,
	    rc->bmin_ms, rc->bmax_ms, NULL, NULL, rc);
	if (w == NULL)
		return -1;
	/* Watchers start at sentinels picked at random, to spread them. */
	w->sentinel_idx = (unsigned)((rc->rng * 0x2545F4914F6CDD1DULL) >> 40);
	redis_conn_set_message_cb(w, on_switch, rc);
	if (redis_conn_subscribe(w, SWITCH_CHANNEL,
	    sizeof SWITCH_CHANNEL - 1) != 0) {
		redis_conn_free(w);
		return -1;
	}
	rc->watch = w;
	return 0;
}

void
redis_sentinel_free(struct redis_conn *rc)
{
	if (rc->watch != NULL) {
		redis_conn_free(rc->watch);
		rc->watch = NULL;
	}
}

bool
redis_sentinel_role_ok(const struct redisReply *r, char *buf, size_t len)
{
	const struct redisReply *e;

	if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1) {
		e = r->element[0];
		if (e->type == REDIS_REPLY_STRING ||
		    e->type == REDIS_REPLY_STATUS) {
			if (strcmp(e->str, "master") == 0)
				return true;
			snprintf(buf, len, "%.40s", e->str);
			return false;
		}
	}
	snprintf(buf, len, "%s", r->type == REDIS_REPLY_ERROR ?
	    "an error" : "something else");
	return false;
}

bool
redis_reply_readonly(const struct redisReply *r)
{
	/* Redis 7 keeps the code in a script's error; Redis 6 wraps it. */
	return r->type == REDIS_REPLY_ERROR &&
	    (strncmp(r->str, "READONLY ", 9) == 0 ||
	    strstr(r->str, "-READONLY ") != NULL);
}
