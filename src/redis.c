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
 * The subscriber side (the set of channels and patterns) is in redis-sub.c,
 * asking Sentinel where the master is and following its failovers in
 * redis-sentinel.c, URL parsing in redis-url.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <uv.h>

#include "log.h"
#include "redis.h"
#include "redis-int.h"
#include "strmap.h"

#define DELAY_MAX_MS 86400000		/* bound on timeouts and backoff */

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

/* A host name lookup on libuv's thread pool. */
struct redis_resolve {
	uv_getaddrinfo_t req;
	struct redis_conn *rc;		/* holds a reference */
};

enum { HS_AUTH = 1, HS_SELECT, HS_PING, HS_ROLE };


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
	/* Our master was demoted: reconnect through the sentinels. */
	if (rc->addr.master[0] != '\0' && rc->owner == NULL &&
	    redis_reply_readonly(r))
		redis_link_broken(l, "the master became a replica (READONLY)");
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
	if (!redis_link_usable(rc) || redisAsyncCommandArgv(rc->link->ac, on_reply,
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
	    redis_link_usable(rc);
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

/* Goes UP if the attempt is complete: handshake answered, every (P)SUBSCRIBE confirmed. */
void
redis_conn_maybe_up(struct redis_conn *rc)
{
	if (rc->freeing || rc->state != REDIS_CONNECTING || !rc->ready ||
	    !redis_link_usable(rc) || rc->nsubscribing > 0)
		return;
	uv_timer_stop(&rc->timer);
	rc->state = REDIS_UP;
	rc->failures = 0;
	/* A watcher's ups and downs are its owner's business, told quietly. */
	if (rc->down_logged)
		log_msg(rc->owner != NULL ? LOG_INFO : LOG_NOTICE,
		    "redis: %s to %s", rc->ever_up ? "reconnected" :
		    "connected", rc->where);
	else
		log_info("redis: connected to %s", rc->where);
	rc->down_logged = false;
	rc->ever_up = true;
	if (rc->state_cb != NULL)
		rc->state_cb(rc, REDIS_UP, rc->state_arg);
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
void
redis_conn_lost(struct redis_conn *rc, const char *why)
{
	enum redis_state was = rc->state;
	int warn = rc->owner != NULL ? LOG_INFO : LOG_WARN;
	char reason[400];

	redis_link_drop(rc);
	resolve_drop(rc);
	rc->ready = false;
	redis_subs_reset(rc);
	if (rc->freeing)
		return;
	if (rc->addr.master[0] != '\0') {
		/* Only handshake requests are pending while CONNECTING. */
		if (rc->asking)
			pending_flush(rc);
		if (redis_sentinel_lost(rc, why, reason, sizeof reason))
			return;		/* the next sentinel is asked */
		why = reason;
	}
	if (was == REDIS_UP)
		log_msg(warn, "redis: connection to %s lost (%s); reconnecting",
		    rc->where, why);
	else if (!rc->down_logged)
		log_msg(warn, "redis: cannot connect to %s (%s); retrying",
		    rc->where, why);
	else
		log_debug("redis: cannot connect to %s (%s)", rc->where, why);
	rc->down_logged = true;
	if (was != REDIS_UP)
		rc->addr_idx++;
	rc->failures++;
	rc->state = REDIS_DOWN;
	uv_timer_start(&rc->timer, redis_conn_on_timer, conn_backoff(rc), 0);
	if (was != REDIS_DOWN)
		conn_notify(rc, REDIS_DOWN);
	pending_flush(rc);
}

/* A handshake reply: an error fails the attempt; PING's answer completes it. */
static void
on_handshake(struct redis_conn *rc, struct redisReply *r, void *priv)
{
	int step = (int)(intptr_t)priv;
	char why[400], role[64];
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
			    step == HS_SELECT ? "SELECT" : step == HS_ROLE ?
			    "ROLE" : "PING", r->str);
		}
		redis_conn_lost(rc, why);
		return;
	}
	if (step == HS_ROLE && !redis_sentinel_role_ok(r, role, sizeof role)) {
		snprintf(why, sizeof why, "not the master: ROLE says %s", role);
		redis_conn_lost(rc, why);
		return;
	}
	if (step != HS_PING && step != HS_ROLE)
		return;
	rc->ready = true;
	redis_subs_resync(rc);
	redis_conn_maybe_up(rc);
}

int
redis_conn_send_internal(struct redis_conn *rc, redis_reply_cb cb,
    void *priv, int argc, const char **argv)
{
	struct redis_pending *p;
	size_t lens[3];
	int i;

	if (argc < 1 || argc > 3 || (p = calloc(1, sizeof *p)) == NULL)
		return -1;
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	p->cb = cb;
	p->privdata = priv;
	if (pending_send(rc, p, argc, argv, lens) != 0) {
		pending_free(p);
		return -1;
	}
	return 0;
}

/* Queues one handshake command (C strings).  Returns 0 or -1. */
static int
handshake_send(struct redis_conn *rc, int step, int argc, const char **argv)
{
	return redis_conn_send_internal(rc, on_handshake,
	    (void *)(intptr_t)step, argc, argv);
}

/*
 * Queues the handshake: AUTH, SELECT, then PING, or ROLE for a master found
 * through Sentinel; for a sentinel, the question (asking) or PING (a
 * watcher).  Returns 0 or -1.
 */
static int
conn_handshake(struct redis_conn *rc)
{
	const struct redis_addr *a = &rc->addr;
	const char *argv[3];
	char db[16];
	int n = 0;

	if (rc->asking)
		return redis_sentinel_query(rc);
	if (rc->owner != NULL) {
		argv[0] = "PING";
		return handshake_send(rc, HS_PING, 1, argv);
	}
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
	if (a->master[0] != '\0') {
		argv[0] = "ROLE";
		return handshake_send(rc, HS_ROLE, 1, argv);
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
		ac = redisAsyncConnect(ip, rc->target_port);
	if (ac == NULL) {
		redis_conn_lost(rc, "out of memory");
		return;
	}
	if (ac->err != 0) {
		snprintf(why, sizeof why, "%s", ac->c.errstr);
		redisAsyncFree(ac);
		redis_conn_lost(rc, why);
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
		redis_conn_lost(rc, "cannot watch the socket");
		return;
	}
	l->poll.data = l;
	l->rc = rc;
	l->ac = ac;
	ac->data = l;
	redis_link_hook(ac, l);
	rc->link = l;
	/* Queued before the connect completes: hiredis sends them after. */
	if (conn_handshake(rc) != 0)
		redis_conn_lost(rc, "out of memory");
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
	if (--rc->refs > 0)
		return;
	redis_subs_free(rc);
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
			    rc->target, uv_strerror(status));
			redis_conn_lost(rc, why);
		} else if (pick_address(res, rc->addr_idx, ip,
		    sizeof ip) != 0) {
			redis_conn_lost(rc, "host has no address");
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
		redis_conn_lost(rc, "out of memory");
		return;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rs->rc = rc;
	rs->req.data = rs;
	err = uv_getaddrinfo(rc->loop, &rs->req, on_resolved, rc->target,
	    NULL, &hints);
	if (err != 0) {
		free(rs);
		redis_conn_lost(rc, uv_strerror(err));
		return;
	}
	rc->resolve = rs;
	rc->refs++;
}

void
redis_conn_connect(struct redis_conn *rc)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (rc->addr.unix_path[0] != '\0' ||
	    inet_pton(AF_INET, rc->target, &a4) == 1 ||
	    inet_pton(AF_INET6, rc->target, &a6) == 1)
		link_open(rc, rc->target);
	else
		resolve_start(rc);
}

void
redis_conn_arm_timeout(struct redis_conn *rc)
{
	if (rc->timeout_ms > 0)
		uv_timer_start(&rc->timer, redis_conn_on_timer,
		    (uint64_t)rc->timeout_ms, 0);
}

/* Starts an attempt: CONNECTING, the connect timeout, then lookup or connect. */
static void
conn_attempt(struct redis_conn *rc)
{
	enum redis_state was = rc->state;

	rc->state = REDIS_CONNECTING;
	redis_conn_arm_timeout(rc);
	if (was != REDIS_CONNECTING) {
		conn_notify(rc, REDIS_CONNECTING);
		if (rc->freeing || rc->state != REDIS_CONNECTING)
			return;
	}
	if (rc->addr.master[0] != '\0')
		redis_sentinel_attempt(rc);
	else
		redis_conn_connect(rc);
}

/* The one timer: start an attempt, time one out, or drop a broken link. */
void
redis_conn_on_timer(uv_timer_t *t)
{
	struct redis_conn *rc = t->data;

	if (rc->freeing)
		return;
	if (rc->link != NULL && rc->link->broken)
		redis_conn_lost(rc, rc->link->why);
	else if (rc->state == REDIS_UP)
		return;
	else if (rc->link != NULL || rc->resolve != NULL)
		redis_conn_lost(rc, "timed out");
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
	return redis_conn_create(loop, addr, connect_timeout_ms,
	    backoff_min_ms, backoff_max_ms, state_cb, arg, NULL);
}

struct redis_conn *
redis_conn_create(uv_loop_t *loop, const struct redis_addr *addr,
    int64_t connect_timeout_ms, int64_t backoff_min_ms,
    int64_t backoff_max_ms, redis_state_cb state_cb, void *arg,
    struct redis_conn *owner)
{
	struct redis_conn *rc;

	if (!redis_addr_valid(addr))
		return NULL;
	rc = calloc(1, sizeof *rc);
	if (rc == NULL)
		return NULL;
	rc->loop = loop;
	rc->addr = *addr;
	rc->owner = owner;
	redis_addr_describe(addr, rc->where, sizeof rc->where);
	memcpy(rc->target, addr->host, sizeof rc->target);
	rc->target_port = addr->port;
	rc->timeout_ms = clamp64(connect_timeout_ms, 0, DELAY_MAX_MS);
	rc->bmin_ms = clamp64(backoff_min_ms, 1, DELAY_MAX_MS);
	rc->bmax_ms = clamp64(backoff_max_ms, rc->bmin_ms, DELAY_MAX_MS);
	rc->state_cb = state_cb;
	rc->state_arg = arg;
	rc->state = REDIS_CONNECTING;
	rc->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)rc;
	if (rc->rng == 0)
		rc->rng = 1;
	redis_subs_init(rc);
	if (addr->master[0] != '\0' && owner == NULL &&
	    redis_sentinel_init(rc) != 0) {
		redis_subs_free(rc);
		free(rc);
		return NULL;
	}
	if (uv_timer_init(loop, &rc->timer) != 0) {
		redis_sentinel_free(rc);
		redis_subs_free(rc);
		free(rc);
		return NULL;
	}
	rc->timer.data = rc;
	rc->refs = 1;
	/* The attempt starts on the next iteration, so no callback runs in here. */
	uv_timer_start(&rc->timer, redis_conn_on_timer, 0, 0);
	return rc;
}

void
redis_conn_free(struct redis_conn *rc)
{
	if (rc == NULL || rc->freeing)
		return;
	rc->freeing = true;
	rc->state = REDIS_DOWN;
	redis_sentinel_free(rc);
	redis_link_drop(rc);
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
