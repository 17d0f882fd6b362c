/*
 * redis.c: one hiredis asynchronous connection on a libuv loop, kept up.
 *
 * Each attempt to connect is a "link": a hiredis context plus a uv_poll_t on
 * its socket, driven by our own adapter (hiredis 0.14.1's libuv adapter
 * ignores poll errors, so a refused connect is never noticed).  A link is
 * owned by the connection until it is dropped; from then on nothing it does
 * reaches the connection, and it frees itself in its poll handle's close
 * callback, which hiredis's cleanup hook starts.  hiredis may free its
 * context inside redisAsyncHandleRead/Write, so the context is only freed by
 * us when no hiredis frame is on the stack, and replies are matched to
 * requests through our own FIFO so a dying context's NULL replies can be
 * ignored and the requests failed in a known order, after the state change.
 *
 * Subscriptions are a set of channels, each with the state it has on the
 * wire; at most one SUBSCRIBE or UNSUBSCRIBE per channel is in flight, which
 * keeps clear of hiredis's races between the two.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <uv.h>

#include "log.h"
#include "redis.h"
#include "strmap.h"

#define SUB_BATCH 128			/* channels per re-SUBSCRIBE command */
#define DELAY_MAX_MS 86400000		/* bound on timeouts and backoff */

enum sub_wire {
	WIRE_NONE, WIRE_SUBSCRIBING, WIRE_SUBSCRIBED, WIRE_UNSUBSCRIBING
};

/* A channel in the set, or still on the wire after it left the set. */
struct redis_sub {
	struct redis_sub *prev, *next;
	bool want;		/* in the set the caller asked for */
	enum sub_wire wire;	/* what Redis has, or was last asked */
	size_t len;
	char name[];
};

/* A command sent and not yet answered, in the order sent. */
struct redis_pending {
	struct redis_pending *next;
	redis_reply_cb cb;
	void *privdata;
	const struct redis_script *script;	/* EVALSHA: may be sent as EVAL */
	bool retried;
	int argc;		/* script calls keep their arguments */
	const char **argv;
	size_t *argvlen;
};

/* One attempt's hiredis context and the poll handle on its socket. */
struct redis_link {
	uv_poll_t poll;
	struct redis_conn *rc;		/* NULL once dropped */
	redisAsyncContext *ac;		/* NULL once hiredis freed it */
	int events;			/* what hiredis wants watched */
	int polling;			/* what the handle watches */
	bool in_hiredis;		/* inside redisAsyncHandleRead/Write */
	bool free_asked;		/* free ac once hiredis has returned */
	bool broken;
	char why[128];			/* why it ended, for the log */
};

/* A host name lookup on libuv's thread pool. */
struct redis_resolve {
	uv_getaddrinfo_t req;
	struct redis_conn *rc;		/* holds a reference */
};

struct redis_conn {
	uv_loop_t *loop;
	struct redis_addr addr;
	char where[300];		/* for logs: never the password */
	bool numeric;			/* host needs no lookup */
	int64_t timeout_ms, bmin_ms, bmax_ms;

	redis_state_cb state_cb;
	void *state_arg;
	redis_message_cb msg_cb;
	void *msg_arg;
	redis_subscribed_cb subd_cb;
	void *subd_arg;

	enum redis_state state;
	bool freeing;
	bool ready;			/* AUTH, SELECT, PING answered */
	bool down_logged;		/* the outage has been logged */
	bool ever_up;
	unsigned refs;			/* the timer handle, a lookup */
	uv_timer_t timer;		/* start, connect timeout, backoff */
	struct redis_link *link;
	struct redis_resolve *resolve;
	unsigned failures;		/* since the last UP */
	unsigned addr_idx;		/* which resolved address to try */
	uint64_t rng;

	struct redis_pending *head, *tail;
	size_t npending;

	struct strmap subs;		/* name -> struct redis_sub */
	struct redis_sub *sub_list;
	size_t nsubs;
	size_t nsubscribing;
};

enum { HS_AUTH = 1, HS_SELECT, HS_PING };

static void conn_lost(struct redis_conn *rc, const char *why);
static void link_on_poll(uv_poll_t *h, int status, int events);
static void sub_sync(struct redis_conn *rc, struct redis_sub *s);
static void on_sub_reply(redisAsyncContext *ac, void *reply, void *privdata);
static void on_timer(uv_timer_t *t);

/* ------------------------------------------------------------ URL parsing */

/* Writes msg into err, if there is room. */
static void
set_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/* Returns the value of hex digit c, or -1. */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Copies n bytes of src into dst (len bytes), decoding %XX.  Returns 0, or
 * -1 if it does not fit or would hold a NUL.
 */
static int
url_decode(char *dst, size_t len, const char *src, size_t n)
{
	size_t i, o = 0;
	int c, hi, lo;

	for (i = 0; i < n; i++) {
		c = (unsigned char)src[i];
		if (c == '%' && i + 2 < n &&
		    (hi = hexval(src[i + 1])) >= 0 &&
		    (lo = hexval(src[i + 2])) >= 0) {
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == '\0' || o + 1 >= len)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

/* Parses n decimal digits as a value in 0..max.  Returns it, or -1. */
static long
parse_num(const char *s, size_t n, long max)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* Parses "db=N&password=P" (n bytes) into out.  Returns 0, or -1 with err set. */
static int
parse_query(const char *q, size_t n, struct redis_addr *out, char *err,
    size_t errlen)
{
	const char *end = q + n, *amp, *eq;
	long db;

	while (q < end) {
		amp = memchr(q, '&', (size_t)(end - q));
		if (amp == NULL)
			amp = end;
		eq = memchr(q, '=', (size_t)(amp - q));
		if (eq == NULL) {
			set_err(err, errlen, "query parameter without '='");
			return -1;
		}
		if (eq - q == 2 && memcmp(q, "db", 2) == 0) {
			db = parse_num(eq + 1, (size_t)(amp - eq - 1), INT_MAX);
			if (db < 0) {
				set_err(err, errlen, "db must be a number");
				return -1;
			}
			out->db = (int)db;
		} else if (eq - q == 8 && memcmp(q, "password", 8) == 0) {
			if (url_decode(out->password, sizeof out->password,
			    eq + 1, (size_t)(amp - eq - 1)) != 0) {
				set_err(err, errlen,
				    "password too long or holds %00");
				return -1;
			}
		} else {
			set_err(err, errlen, "unknown query parameter");
			return -1;
		}
		q = amp < end ? amp + 1 : end;
	}
	return 0;
}

/* Parses "user:password" (n bytes) into out.  Returns 0, or -1 with err set. */
static int
parse_userinfo(const char *s, size_t n, struct redis_addr *out, char *err,
    size_t errlen)
{
	const char *colon = memchr(s, ':', n);

	if (colon == NULL) {
		set_err(err, errlen, "credentials need a ':' "
		    "(redis://:password@host)");
		return -1;
	}
	if (url_decode(out->username, sizeof out->username, s,
	    (size_t)(colon - s)) != 0) {
		set_err(err, errlen, "user name too long or holds %00");
		return -1;
	}
	if (url_decode(out->password, sizeof out->password, colon + 1,
	    n - (size_t)(colon - s) - 1) != 0) {
		set_err(err, errlen, "password too long or holds %00");
		return -1;
	}
	return 0;
}

/* Parses "host[:port]" or "[v6][:port]" (n bytes) into out.  Returns 0, or -1 with err set. */
static int
parse_hostport(const char *s, size_t n, struct redis_addr *out, char *err,
    size_t errlen)
{
	const char *end = s + n, *host, *hend, *p;
	struct in6_addr a6;
	long port;

	if (n > 0 && s[0] == '[') {
		host = s + 1;
		hend = memchr(host, ']', (size_t)(end - host));
		if (hend == NULL) {
			set_err(err, errlen, "missing ']' after IPv6 address");
			return -1;
		}
		p = hend + 1;
	} else {
		host = s;
		hend = memchr(s, ':', n);
		if (hend == NULL)
			hend = end;
		p = hend;
	}
	if (hend == host) {
		set_err(err, errlen, "missing host");
		return -1;
	}
	if ((size_t)(hend - host) >= sizeof out->host) {
		set_err(err, errlen, "host name too long");
		return -1;
	}
	memcpy(out->host, host, (size_t)(hend - host));
	out->host[hend - host] = '\0';
	if (s[0] == '[') {
		if (inet_pton(AF_INET6, out->host, &a6) != 1) {
			set_err(err, errlen, "bad IPv6 address");
			return -1;
		}
	} else {
		for (p = host; p < hend; p++) {
			if (!isalnum((unsigned char)*p) && *p != '-' &&
			    *p != '.' && *p != '_') {
				set_err(err, errlen, "bad character in host");
				return -1;
			}
		}
		p = hend;
	}
	if (p == end)
		return 0;
	if (*p != ':') {
		set_err(err, errlen, "unexpected text after host");
		return -1;
	}
	port = parse_num(p + 1, (size_t)(end - p - 1), 65535);
	if (port <= 0) {
		set_err(err, errlen, "port must be a number in 1..65535");
		return -1;
	}
	out->port = (int)port;
	return 0;
}

/* Parses what follows "redis://".  Returns 0, or -1 with err set. */
static int
parse_tcp(const char *s, struct redis_addr *out, char *err, size_t errlen)
{
	const char *aend = s + strcspn(s, "/?#"), *at = NULL, *p, *q;
	long db;

	for (p = s; p < aend; p++) {
		if (*p == '@')
			at = p;
	}
	if (at != NULL) {
		if (parse_userinfo(s, (size_t)(at - s), out, err, errlen) != 0)
			return -1;
		s = at + 1;
	}
	if (parse_hostport(s, (size_t)(aend - s), out, err, errlen) != 0)
		return -1;
	p = aend;
	if (*p == '/') {
		p++;
		q = p + strcspn(p, "?#");
		if (q > p) {
			db = parse_num(p, (size_t)(q - p), INT_MAX);
			if (db < 0) {
				set_err(err, errlen, "the path must be a "
				    "database number");
				return -1;
			}
			out->db = (int)db;
		}
		p = q;
	}
	if (*p == '?') {
		q = p + 1 + strcspn(p + 1, "#");
		if (parse_query(p + 1, (size_t)(q - p - 1), out, err,
		    errlen) != 0)
			return -1;
		p = q;
	}
	if (*p == '#') {
		set_err(err, errlen, "fragments are not allowed");
		return -1;
	}
	return 0;
}

/* Parses what follows "unix:".  Returns 0, or -1 with err set. */
static int
parse_unix(const char *s, struct redis_addr *out, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	const char *at, *q;

	if (strncmp(s, "//", 2) == 0)
		s += 2;
	if (*s != '/') {
		at = strstr(s, "@/");
		if (at == NULL) {
			set_err(err, errlen, "the socket path must be "
			    "absolute");
			return -1;
		}
		if (parse_userinfo(s, (size_t)(at - s), out, err, errlen) != 0)
			return -1;
		s = at + 1;
	}
	q = s + strcspn(s, "?#");
	if ((size_t)(q - s) >= sizeof sun.sun_path) {
		set_err(err, errlen, "socket path too long");
		return -1;
	}
	memcpy(out->unix_path, s, (size_t)(q - s));
	out->unix_path[q - s] = '\0';
	if (*q == '?') {
		s = q + 1;
		q = s + strcspn(s, "#");
		if (parse_query(s, (size_t)(q - s), out, err, errlen) != 0)
			return -1;
	}
	if (*q == '#') {
		set_err(err, errlen, "fragments are not allowed");
		return -1;
	}
	return 0;
}

int
redis_url_parse(const char *url, struct redis_addr *out, char *err,
    size_t errlen)
{
	int rv;

	memset(out, 0, sizeof *out);
	out->port = 6379;
	if (url == NULL || *url == '\0') {
		set_err(err, errlen, "empty Redis URL");
		return -1;
	}
	if (strnlen(url, REDIS_URL_MAX + 1) > REDIS_URL_MAX) {
		set_err(err, errlen, "Redis URL too long");
		return -1;
	}
	if (strncmp(url, "redis://", 8) == 0)
		rv = parse_tcp(url + 8, out, err, errlen);
	else if (strncmp(url, "unix:", 5) == 0)
		rv = parse_unix(url + 5, out, err, errlen);
	else if (strncmp(url, "redis+unix:", 11) == 0)
		rv = parse_unix(url + 11, out, err, errlen);
	else if (strncmp(url, "rediss://", 9) == 0) {
		set_err(err, errlen, "TLS (rediss://) is not supported");
		rv = -1;
	} else {
		set_err(err, errlen, "a Redis URL starts with redis:// or "
		    "unix:");
		rv = -1;
	}
	if (rv != 0) {
		memset(out, 0, sizeof *out);	/* no half-parsed secret */
		return -1;
	}
	return 0;
}

void
redis_addr_describe(const struct redis_addr *addr, char *buf, size_t len)
{
	char db[16] = "";

	if (addr->db != 0)
		snprintf(db, sizeof db, "/%d", addr->db);
	if (addr->unix_path[0] != '\0')
		snprintf(buf, len, "unix:%s%s", addr->unix_path, db);
	else if (strchr(addr->host, ':') != NULL)
		snprintf(buf, len, "[%s]:%d%s", addr->host, addr->port, db);
	else
		snprintf(buf, len, "%s:%d%s", addr->host, addr->port, db);
}

/* ---------------------------------------------------------------- scripts */

void
redis_script_init(struct redis_script *s, const char *source)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	s->source = source;
	/* Should SHA-1 be unavailable, Redis answers NOSCRIPT: EVAL then. */
	memset(s->sha1, '0', 40);
	s->sha1[40] = '\0';
	if (EVP_Digest(source, strlen(source), md, &mdlen, EVP_sha1(),
	    NULL) != 1 || mdlen != 20)
		return;
	for (i = 0; i < 20; i++) {
		s->sha1[2 * i] = hex[md[i] >> 4];
		s->sha1[2 * i + 1] = hex[md[i] & 15];
	}
}

/* ---------------------------------------------------------- the adapter */

/* The poll handle is closed: nothing refers to the link any more. */
static void
link_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Marks l unusable; the connection's timer drops it on the next iteration. */
static void
link_broken(struct redis_link *l, const char *why)
{
	if (l->broken)
		return;
	l->broken = true;
	snprintf(l->why, sizeof l->why, "%s", why);
	if (l->rc != NULL && !l->rc->freeing)
		uv_timer_start(&l->rc->timer, on_timer, 0, 0);
}

/* Makes the poll handle watch what hiredis asked for. */
static void
link_update(struct redis_link *l)
{
	int err;

	if (l->ac == NULL || l->events == l->polling)
		return;
	if (l->events != 0)
		err = uv_poll_start(&l->poll, l->events, link_on_poll);
	else
		err = uv_poll_stop(&l->poll);
	if (err != 0) {
		link_broken(l, uv_strerror(err));
		return;
	}
	l->polling = l->events;
}

static void
link_add_read(void *data)
{
	struct redis_link *l = data;

	l->events |= UV_READABLE;
	link_update(l);
}

static void
link_del_read(void *data)
{
	struct redis_link *l = data;

	l->events &= ~UV_READABLE;
	link_update(l);
}

static void
link_add_write(void *data)
{
	struct redis_link *l = data;

	l->events |= UV_WRITABLE;
	link_update(l);
}

static void
link_del_write(void *data)
{
	struct redis_link *l = data;

	l->events &= ~UV_WRITABLE;
	link_update(l);
}

/*
 * hiredis is freeing the context (its fd is closed right after): keep its
 * reason, stop polling before the fd goes, and let the link go with the handle.
 */
static void
link_cleanup(void *data)
{
	struct redis_link *l = data;

	if (l->why[0] == '\0' && l->ac->c.err != 0)
		snprintf(l->why, sizeof l->why, "%s", l->ac->c.errstr);
	l->ac = NULL;
	uv_close((uv_handle_t *)&l->poll, link_closed);
}

/*
 * The socket is ready, or in error.  On an error (libuv reports POLLERR as
 * UV_EBADF and stops the handle) hiredis is still called, so that it reads
 * SO_ERROR or the failed read and ends the context with the real reason.
 */
static void
link_on_poll(uv_poll_t *h, int status, int events)
{
	struct redis_link *l = h->data;
	struct redis_conn *rc;

	if (l->ac == NULL)
		return;
	l->in_hiredis = true;
	if (status < 0) {
		log_debug("redis: poll error (%s): asking hiredis",
		    uv_strerror(status));
		l->polling = 0;
		if (!(l->ac->c.flags & REDIS_CONNECTED))
			redisAsyncHandleWrite(l->ac);
		else
			redisAsyncHandleRead(l->ac);
		if (l->why[0] == '\0')
			snprintf(l->why, sizeof l->why, "socket error");
	} else {
		if (events & UV_READABLE)
			redisAsyncHandleRead(l->ac);
		if (l->ac != NULL && !l->free_asked &&
		    (events & UV_WRITABLE))
			redisAsyncHandleWrite(l->ac);
	}
	l->in_hiredis = false;
	if (l->free_asked) {
		if (l->ac != NULL)
			redisAsyncFree(l->ac);
		return;
	}
	rc = l->rc;
	if (rc == NULL)
		return;
	if (l->ac == NULL)
		conn_lost(rc, l->why[0] != '\0' ? l->why : "connection closed");
	else if (status < 0)
		conn_lost(rc, l->why);
}

/*
 * Lets go of rc's link: from now on nothing it does reaches rc.  Its context
 * is freed now, or as soon as hiredis returns if it is on the stack.
 */
static void
link_drop(struct redis_conn *rc)
{
	struct redis_link *l = rc->link;

	if (l == NULL)
		return;
	rc->link = NULL;
	l->rc = NULL;
	if (l->ac == NULL)
		return;
	if (l->in_hiredis)
		l->free_asked = true;
	else
		redisAsyncFree(l->ac);
}

/* Returns true if rc's link can take a command now. */
static bool
link_usable(const struct redis_conn *rc)
{
	return rc->link != NULL && rc->link->ac != NULL && !rc->link->broken;
}

/* ---------------------------------------------------- commands in flight */

/* Frees a request (its arguments live in the same block). */
static void
pending_free(struct redis_pending *p)
{
	free(p);
}

/* Removes and returns the oldest request, or NULL. */
static struct redis_pending *
pending_shift(struct redis_conn *rc)
{
	struct redis_pending *p = rc->head;

	if (p != NULL) {
		rc->head = p->next;
		if (rc->head == NULL)
			rc->tail = NULL;
		rc->npending--;
	}
	return p;
}

/* hiredis's callback for every command: hands the reply to the oldest request. */
static void
on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis_link *l = privdata;
	struct redis_conn *rc = l->rc;
	redisReply *r = reply;
	struct redis_pending *p;
	redis_reply_cb cb;
	void *priv;

	/* NULL: the context is going; conn_lost fails the requests. */
	if (rc == NULL || rc->link != l || r == NULL ||
	    (p = pending_shift(rc)) == NULL)
		return;
	if (p->script != NULL && !p->retried && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0) {
		p->retried = true;
		p->argv[0] = "EVAL";
		p->argvlen[0] = 4;
		p->argv[1] = p->script->source;
		p->argvlen[1] = strlen(p->script->source);
		if (redisAsyncCommandArgv(ac, on_reply, l, p->argc, p->argv,
		    p->argvlen) == REDIS_OK) {
			p->next = NULL;
			if (rc->tail != NULL)
				rc->tail->next = p;
			else
				rc->head = p;
			rc->tail = p;
			rc->npending++;
			return;
		}
		/* Could not send it again: the caller gets NOSCRIPT. */
	}
	cb = p->cb;
	priv = p->privdata;
	pending_free(p);
	if (cb != NULL)
		cb(rc, r, priv);
}

/* Sends a command for p on rc's link.  Returns 0, or -1 (p not queued). */
static int
pending_send(struct redis_conn *rc, struct redis_pending *p, int argc,
    const char **argv, const size_t *argvlen)
{
	if (!link_usable(rc) || redisAsyncCommandArgv(rc->link->ac, on_reply,
	    rc->link, argc, argv, argvlen) != REDIS_OK)
		return -1;
	p->next = NULL;
	if (rc->tail != NULL)
		rc->tail->next = p;
	else
		rc->head = p;
	rc->tail = p;
	rc->npending++;
	return 0;
}

/* Calls every pending request back with NULL, oldest first. */
static void
pending_flush(struct redis_conn *rc)
{
	struct redis_pending *p;
	redis_reply_cb cb;
	void *priv;

	while ((p = pending_shift(rc)) != NULL) {
		cb = p->cb;
		priv = p->privdata;
		pending_free(p);
		if (cb != NULL)
			cb(rc, NULL, priv);
	}
}

/* Returns true if a caller's command may be sent on rc now. */
static bool
conn_can_send(const struct redis_conn *rc)
{
	return rc != NULL && !rc->freeing && rc->state == REDIS_UP &&
	    rc->nsubs == 0 && rc->npending < REDIS_PENDING_MAX &&
	    link_usable(rc);
}

int
redis_conn_command(struct redis_conn *rc, redis_reply_cb cb, void *privdata,
    int argc, const char **argv, const size_t *argvlen)
{
	struct redis_pending *p;

	if (!conn_can_send(rc) || argc < 1 || argc > REDIS_ARGC_MAX)
		return -1;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return -1;
	p->cb = cb;
	p->privdata = privdata;
	if (pending_send(rc, p, argc, argv, argvlen) != 0) {
		pending_free(p);
		return -1;
	}
	return 0;
}

int
redis_conn_eval(struct redis_conn *rc, const struct redis_script *s,
    redis_reply_cb cb, void *privdata, int nkeys, int argc,
    const char **argv, const size_t *argvlen)
{
	struct redis_pending *p;
	char nk[16], *data;
	size_t bytes, nklen, i;
	int total;

	if (!conn_can_send(rc) || s == NULL || argc < 0 ||
	    argc > REDIS_ARGC_MAX - 3 || nkeys < 0 || nkeys > argc)
		return -1;
	total = argc + 3;
	nklen = (size_t)snprintf(nk, sizeof nk, "%d", nkeys);
	bytes = nklen;
	for (i = 0; i < (size_t)argc; i++) {
		if (argvlen[i] > SIZE_MAX / 2 - bytes)
			return -1;
		bytes += argvlen[i];
	}
	/* The call's arguments are kept, in one block, to send it again. */
	p = malloc(sizeof *p + (size_t)total * (sizeof *p->argv +
	    sizeof *p->argvlen) + bytes);
	if (p == NULL)
		return -1;
	memset(p, 0, sizeof *p);
	p->cb = cb;
	p->privdata = privdata;
	p->script = s;
	p->argc = total;
	p->argv = (const char **)(p + 1);
	p->argvlen = (size_t *)(p->argv + total);
	data = (char *)(p->argvlen + total);
	p->argv[0] = "EVALSHA";
	p->argvlen[0] = 7;
	p->argv[1] = s->sha1;
	p->argvlen[1] = 40;
	memcpy(data, nk, nklen);
	p->argv[2] = data;
	p->argvlen[2] = nklen;
	data += nklen;
	for (i = 0; i < (size_t)argc; i++) {
		memcpy(data, argv[i], argvlen[i]);
		p->argv[i + 3] = data;
		p->argvlen[i + 3] = argvlen[i];
		data += argvlen[i];
	}
	if (pending_send(rc, p, total, p->argv, p->argvlen) != 0) {
		pending_free(p);
		return -1;
	}
	return 0;
}

/* ----------------------------------------------------------- subscriptions */

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
	if (!link_usable(rc) || redisAsyncCommandArgv(rc->link->ac,
	    on_sub_reply, rc->link, n + 1, argv, lens) != REDIS_OK) {
		if (rc->link != NULL)
			link_broken(rc->link, "cannot send (UN)SUBSCRIBE");
		return -1;
	}
	for (i = 0; i < n; i++) {
		v[i]->wire = subscribe ? WIRE_SUBSCRIBING : WIRE_UNSUBSCRIBING;
		if (subscribe)
			rc->nsubscribing++;
	}
	return 0;
}

/* Goes UP if the attempt is complete: handshake answered, every SUBSCRIBE confirmed. */
static void
conn_maybe_up(struct redis_conn *rc)
{
	if (rc->freeing || rc->state != REDIS_CONNECTING || !rc->ready ||
	    !link_usable(rc) || rc->nsubscribing > 0)
		return;
	uv_timer_stop(&rc->timer);
	rc->state = REDIS_UP;
	rc->failures = 0;
	if (rc->down_logged)
		log_notice("redis: %s to %s", rc->ever_up ? "reconnected" :
		    "connected", rc->where);
	else
		log_info("redis: connected to %s", rc->where);
	rc->down_logged = false;
	rc->ever_up = true;
	if (rc->state_cb != NULL)
		rc->state_cb(rc, REDIS_UP, rc->state_arg);
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
	conn_maybe_up(rc);
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
	if (!rc->ready || !link_usable(rc))
		return;
	if (s->want && s->wire == WIRE_NONE)
		(void)sub_send(rc, true, &s, 1);
	else if (!s->want && s->wire == WIRE_SUBSCRIBED)
		(void)sub_send(rc, false, &s, 1);
}

/* The handshake is done: subscribes to the whole set, in batches. */
static void
subs_resync(struct redis_conn *rc)
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

/* The link is gone: nothing is subscribed on the wire any more. */
static void
subs_reset(struct redis_conn *rc)
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

/* ------------------------------------------------------- the connection */

/* Returns the next backoff delay: doubling per failure, capped, +-20%. */
static uint64_t
conn_backoff(struct redis_conn *rc)
{
	int64_t d = rc->bmin_ms;
	unsigned i;
	uint64_t x = rc->rng;

	for (i = 1; i < rc->failures && d < rc->bmax_ms; i++)
		d *= 2;
	if (d > rc->bmax_ms)
		d = rc->bmax_ms;
	/* xorshift64*: a little randomness per connection, no shared state. */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rc->rng = x;
	x *= 0x2545F4914F6CDD1DULL;
	d += d * ((int64_t)((x >> 33) % 401) - 200) / 1000;
	return d < 1 ? 1 : (uint64_t)d;
}

/* Reports a change of state, unless rc is being freed. */
static void
conn_notify(struct redis_conn *rc, enum redis_state st)
{
	if (!rc->freeing && rc->state_cb != NULL)
		rc->state_cb(rc, st, rc->state_arg);
}

/* Abandons a host name lookup in flight; its callback still comes. */
static void
resolve_drop(struct redis_conn *rc)
{
	if (rc->resolve == NULL)
		return;
	(void)uv_cancel((uv_req_t *)&rc->resolve->req);
	rc->resolve = NULL;
}

/*
 * The attempt failed or the connection was lost: drops the link, goes DOWN,
 * arms the backoff timer, then fails the pending requests.
 */
static void
conn_lost(struct redis_conn *rc, const char *why)
{
	enum redis_state was = rc->state;

	link_drop(rc);
	resolve_drop(rc);
	rc->ready = false;
	subs_reset(rc);
	if (rc->freeing)
		return;
	if (was == REDIS_UP)
		log_warn("redis: connection to %s lost (%s); reconnecting",
		    rc->where, why);
	else if (!rc->down_logged)
		log_warn("redis: cannot connect to %s (%s); retrying",
		    rc->where, why);
	else
		log_debug("redis: cannot connect to %s (%s)", rc->where, why);
	rc->down_logged = true;
	if (was != REDIS_UP)
		rc->addr_idx++;
	rc->failures++;
	rc->state = REDIS_DOWN;
	uv_timer_start(&rc->timer, on_timer, conn_backoff(rc), 0);
	if (was != REDIS_DOWN)
		conn_notify(rc, REDIS_DOWN);
	pending_flush(rc);
}

/* A handshake reply: an error fails the attempt; PING's answer completes it. */
static void
on_handshake(struct redis_conn *rc, struct redisReply *r, void *priv)
{
	int step = (int)(intptr_t)priv;
	char why[160];
	size_t n;

	if (r == NULL)
		return;		/* the attempt failed already */
	if (r->type == REDIS_REPLY_ERROR) {
		if (step == HS_AUTH) {
			/* Only the error code: never risk echoing a secret. */
			n = strcspn(r->str, " ");
			snprintf(why, sizeof why, "AUTH refused: %.*s",
			    (int)(n < 40 ? n : 40), r->str);
		} else {
			snprintf(why, sizeof why, "%s refused: %.100s",
			    step == HS_SELECT ? "SELECT" : "PING", r->str);
		}
		conn_lost(rc, why);
		return;
	}
	if (step != HS_PING)
		return;
	rc->ready = true;
	subs_resync(rc);
	conn_maybe_up(rc);
}

/* Queues one handshake command (C strings).  Returns 0 or -1. */
static int
handshake_send(struct redis_conn *rc, int step, int argc, const char **argv)
{
	struct redis_pending *p = calloc(1, sizeof *p);
	size_t lens[3];
	int i;

	if (p == NULL)
		return -1;
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	p->cb = on_handshake;
	p->privdata = (void *)(intptr_t)step;
	if (pending_send(rc, p, argc, argv, lens) != 0) {
		pending_free(p);
		return -1;
	}
	return 0;
}

/* Queues the handshake: AUTH, SELECT, PING.  Returns 0 or -1. */
static int
conn_handshake(struct redis_conn *rc)
{
	const struct redis_addr *a = &rc->addr;
	const char *argv[3];
	char db[16];
	int n = 0;

	if (a->password[0] != '\0') {
		argv[n++] = "AUTH";
		if (a->username[0] != '\0')
			argv[n++] = a->username;
		argv[n++] = a->password;
		if (handshake_send(rc, HS_AUTH, n, argv) != 0)
			return -1;
	}
	if (a->db != 0) {
		snprintf(db, sizeof db, "%d", a->db);
		argv[0] = "SELECT";
		argv[1] = db;
		if (handshake_send(rc, HS_SELECT, 2, argv) != 0)
			return -1;
	}
	argv[0] = "PING";
	return handshake_send(rc, HS_PING, 1, argv);
}

/* Sets SO_KEEPALIVE so a peer that vanished is noticed within a minute. */
static void
set_keepalive(int fd)
{
	int on = 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
#ifdef TCP_KEEPIDLE
	on = 15;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &on, sizeof on);
	on = 5;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &on, sizeof on);
	on = 3;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &on, sizeof on);
#endif
}

/* Starts a link to ip (numeric), or to the unix socket, and queues the handshake. */
static void
link_open(struct redis_conn *rc, const char *ip)
{
	redisAsyncContext *ac;
	struct redis_link *l;
	char why[160];

	if (rc->addr.unix_path[0] != '\0')
		ac = redisAsyncConnectUnix(rc->addr.unix_path);
	else
		ac = redisAsyncConnect(ip, rc->addr.port);
	if (ac == NULL) {
		conn_lost(rc, "out of memory");
		return;
	}
	if (ac->err != 0) {
		snprintf(why, sizeof why, "%s", ac->c.errstr);
		redisAsyncFree(ac);
		conn_lost(rc, why);
		return;
	}
	/* hiredis 0.14 does not ask for close-on-exec. */
	(void)fcntl(ac->c.fd, F_SETFD, FD_CLOEXEC);
	if (rc->addr.unix_path[0] == '\0')
		set_keepalive(ac->c.fd);
	l = calloc(1, sizeof *l);
	if (l == NULL || uv_poll_init(rc->loop, &l->poll, ac->c.fd) != 0) {
		free(l);
		redisAsyncFree(ac);
		conn_lost(rc, "cannot watch the socket");
		return;
	}
	l->poll.data = l;
	l->rc = rc;
	l->ac = ac;
	ac->data = l;
	ac->ev.data = l;
	ac->ev.addRead = link_add_read;
	ac->ev.delRead = link_del_read;
	ac->ev.addWrite = link_add_write;
	ac->ev.delWrite = link_del_write;
	ac->ev.cleanup = link_cleanup;
	rc->link = l;
	/* Queued before the connect completes: hiredis sends them after. */
	if (conn_handshake(rc) != 0)
		conn_lost(rc, "out of memory");
}

/* Picks resolved address number idx (IPv4 first, as hiredis does) into ip. Returns 0 or -1. */
static int
pick_address(const struct addrinfo *res, unsigned idx, char *ip, size_t len)
{
	static const int order[2] = { AF_INET, AF_INET6 };
	const struct addrinfo *a;
	unsigned n = 0;
	int k;

	for (a = res; a != NULL; a = a->ai_next)
		if (a->ai_family == AF_INET || a->ai_family == AF_INET6)
			n++;
	if (n == 0)
		return -1;
	idx %= n;
	for (k = 0; k < 2; k++) {
		for (a = res; a != NULL; a = a->ai_next) {
			if (a->ai_family != order[k] || idx-- > 0)
				continue;
			return uv_ip_name(a->ai_addr, ip, len) == 0 ? 0 : -1;
		}
	}
	return -1;
}

/* Drops a reference to rc; the last one frees it. */
static void
conn_unref(struct redis_conn *rc)
{
	struct redis_sub *s, *next;

	if (--rc->refs > 0)
		return;
	for (s = rc->sub_list; s != NULL; s = next) {
		next = s->next;
		free(s);
	}
	strmap_free(&rc->subs);
	free(rc);
}

/* The host name lookup finished (or was cancelled). */
static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct redis_resolve *rs = req->data;
	struct redis_conn *rc = rs->rc;
	char ip[INET6_ADDRSTRLEN], why[160];

	if (rc->resolve == rs) {
		rc->resolve = NULL;
		if (status < 0) {
			snprintf(why, sizeof why, "cannot resolve %.100s: %s",
			    rc->addr.host, uv_strerror(status));
			conn_lost(rc, why);
		} else if (pick_address(res, rc->addr_idx, ip,
		    sizeof ip) != 0) {
			conn_lost(rc, "host has no address");
		} else {
			link_open(rc, ip);
		}
	}
	uv_freeaddrinfo(res);
	free(rs);
	conn_unref(rc);
}

/* Starts a host name lookup on libuv's thread pool. */
static void
resolve_start(struct redis_conn *rc)
{
	struct redis_resolve *rs = calloc(1, sizeof *rs);
	struct addrinfo hints;
	int err;

	if (rs == NULL) {
		conn_lost(rc, "out of memory");
		return;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rs->rc = rc;
	rs->req.data = rs;
	err = uv_getaddrinfo(rc->loop, &rs->req, on_resolved, rc->addr.host,
	    NULL, &hints);
	if (err != 0) {
		free(rs);
		conn_lost(rc, uv_strerror(err));
		return;
	}
	rc->resolve = rs;
	rc->refs++;
}

/* Starts an attempt: CONNECTING, the connect timeout, then lookup or connect. */
static void
conn_attempt(struct redis_conn *rc)
{
	enum redis_state was = rc->state;

	rc->state = REDIS_CONNECTING;
	if (rc->timeout_ms > 0)
		uv_timer_start(&rc->timer, on_timer,
		    (uint64_t)rc->timeout_ms, 0);
	if (was != REDIS_CONNECTING) {
		conn_notify(rc, REDIS_CONNECTING);
		if (rc->freeing || rc->state != REDIS_CONNECTING)
			return;
	}
	if (rc->addr.unix_path[0] != '\0' || rc->numeric)
		link_open(rc, rc->addr.host);
	else
		resolve_start(rc);
}

/* The one timer: start an attempt, time one out, or drop a broken link. */
static void
on_timer(uv_timer_t *t)
{
	struct redis_conn *rc = t->data;

	if (rc->freeing)
		return;
	if (rc->link != NULL && rc->link->broken)
		conn_lost(rc, rc->link->why);
	else if (rc->state == REDIS_UP)
		return;
	else if (rc->link != NULL || rc->resolve != NULL)
		conn_lost(rc, "timed out");
	else
		conn_attempt(rc);
}

/* The timer handle is closed: its reference goes. */
static void
on_timer_closed(uv_handle_t *h)
{
	conn_unref(h->data);
}

/* Returns v clamped into lo..hi. */
static int64_t
clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct redis_conn *
redis_conn_new(uv_loop_t *loop, const struct redis_addr *addr,
    int64_t connect_timeout_ms, int64_t backoff_min_ms,
    int64_t backoff_max_ms, redis_state_cb state_cb, void *arg)
{
	struct redis_conn *rc;
	struct in6_addr a6;
	struct in_addr a4;

	if (strnlen(addr->unix_path, sizeof addr->unix_path) >=
	    sizeof ((struct sockaddr_un *)0)->sun_path ||
	    strnlen(addr->host, sizeof addr->host) == sizeof addr->host ||
	    strnlen(addr->username, sizeof addr->username) ==
	    sizeof addr->username ||
	    strnlen(addr->password, sizeof addr->password) ==
	    sizeof addr->password ||
	    (addr->unix_path[0] == '\0' && (addr->host[0] == '\0' ||
	    addr->port <= 0 || addr->port > 65535)) || addr->db < 0)
		return NULL;
	rc = calloc(1, sizeof *rc);
	if (rc == NULL)
		return NULL;
	rc->loop = loop;
	rc->addr = *addr;
	redis_addr_describe(addr, rc->where, sizeof rc->where);
	rc->numeric = inet_pton(AF_INET, addr->host, &a4) == 1 ||
	    inet_pton(AF_INET6, addr->host, &a6) == 1;
	rc->timeout_ms = clamp64(connect_timeout_ms, 0, DELAY_MAX_MS);
	rc->bmin_ms = clamp64(backoff_min_ms, 1, DELAY_MAX_MS);
	rc->bmax_ms = clamp64(backoff_max_ms, rc->bmin_ms, DELAY_MAX_MS);
	rc->state_cb = state_cb;
	rc->state_arg = arg;
	rc->state = REDIS_CONNECTING;
	rc->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)rc;
	if (rc->rng == 0)
		rc->rng = 1;
	strmap_init(&rc->subs);
	strmap_set_load(&rc->subs, 1);	/* looked up per message */
	if (uv_timer_init(loop, &rc->timer) != 0) {
		free(rc);
		return NULL;
	}
	rc->timer.data = rc;
	rc->refs = 1;
	/* The attempt starts on the next iteration, so no callback runs in here. */
	uv_timer_start(&rc->timer, on_timer, 0, 0);
	return rc;
}

void
redis_conn_free(struct redis_conn *rc)
{
	if (rc == NULL || rc->freeing)
		return;
	rc->freeing = true;
	rc->state = REDIS_DOWN;
	link_drop(rc);
	resolve_drop(rc);
	rc->ready = false;
	uv_close((uv_handle_t *)&rc->timer, on_timer_closed);
	pending_flush(rc);
}

enum redis_state
redis_conn_state(const struct redis_conn *rc)
{
	return rc->state;
}
