/*
 * redis-conn-test.c: the loop, connection recorder and command helpers
 * check_redis and check_sentinel share (see redis-conn-test.h).
 *
 * One loop and one deadline timer serve every test; the recorder and the
 * results are plain structs the tests own, filled by callbacks.  Strings
 * kept from replies and messages are cut to fit and always NUL-terminated,
 * with their length kept too for binary ones.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include "log.h"
#include "redis.h"
#include "redis-conn-test.h"
#include "redis-server.h"

uv_loop_t	 test_conn_loop;
bool		 test_conn_expired;
int		 test_conn_result_clock;

static uv_timer_t	 test_conn_deadline;

/* ---- The loop. ---- */

static void
test_conn_on_deadline(uv_timer_t *t)
{
	(void)t;
	test_conn_expired = true;
}

void
test_conn_setup(void)
{
	log_set_level(getenv("CHECK_REDIS_LOG") != NULL ? LOG_DEBUG : LOG_ERR);
	ck_assert_int_eq(uv_loop_init(&test_conn_loop), 0);
	ck_assert_int_eq(uv_timer_init(&test_conn_loop, &test_conn_deadline),
	    0);
}

void
test_conn_teardown(void)
{
	int	 i;

	uv_close((uv_handle_t *)&test_conn_deadline, NULL);
	/* A lookup on the thread pool may take a moment to come back. */
	for (i = 0; i < 5000 && uv_loop_alive(&test_conn_loop); i++) {
		uv_run(&test_conn_loop, UV_RUN_NOWAIT);
		if (uv_loop_alive(&test_conn_loop))
			usleep(1000);
	}
	ck_assert_int_eq(uv_loop_close(&test_conn_loop), 0);
}

void
test_conn_deadline_start(int ms)
{
	test_conn_expired = false;
	uv_timer_start(&test_conn_deadline, test_conn_on_deadline,
	    (uint64_t)ms, 0);
}

void
test_conn_deadline_stop(void)
{
	uv_timer_stop(&test_conn_deadline);
}

void
test_conn_run_for(int ms)
{
	(void)RUN_UNTIL(false, ms);
}

long long
test_conn_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Recording what a connection reports. ---- */

void
test_conn_on_state(struct redis_conn *rc, enum redis_state st, void *arg)
{
	struct rec	*r = arg;

	ck_assert_ptr_eq(rc, r->rc);
	if (r->nstates < 256)
		r->states[r->nstates++] = st;
	if (st == REDIS_UP) {
		r->ups++;
		r->subscribed_at_up = r->subscribed;
	} else if (st == REDIS_DOWN) {
		r->downs++;
	} else {
		r->connectings++;
	}
	ck_assert_int_eq(redis_conn_state(rc), st);
	if ((int)st == r->free_on) {
		redis_conn_free(rc);
		r->rc = NULL;
	}
}

void
test_conn_on_subscribed(struct redis_conn *rc, const char *ch, size_t len,
    void *arg)
{
	struct rec	*r = arg;

	(void)rc;
	r->subscribed++;
	snprintf(r->last_sub, sizeof r->last_sub, "%.*s", (int)len, ch);
}

void
test_conn_on_message(struct redis_conn *rc, const char *ch, size_t chlen,
    const char *msg, size_t msglen, void *arg)
{
	struct rec	*r = arg;
	size_t		 n;

	r->messages++;
	snprintf(r->last_ch, sizeof r->last_ch, "%.*s", (int)chlen, ch);
	n = msglen < sizeof r->last_msg - 1 ? msglen : sizeof r->last_msg - 1;
	memcpy(r->last_msg, msg, n);
	r->last_msg[n] = '\0';
	r->last_msglen = msglen;
	if (r->free_on_message) {
		redis_conn_free(rc);
		r->rc = NULL;
	}
}

/* Copies len bytes of s into buf (size bytes), cut to fit and NUL-terminated. */
static void
test_conn_keep(char *buf, size_t size, const char *s, size_t len)
{
	size_t	 n = len < size - 1 ? len : size - 1;

	memcpy(buf, s, n);
	buf[n] = '\0';
}

void
test_conn_on_pmessage(struct redis_conn *rc, const char *pat, size_t plen,
    const char *ch, size_t chlen, const char *msg, size_t msglen, void *arg)
{
	struct rec	*r = arg;

	r->pmessages++;
	test_conn_keep(r->last_pat, sizeof r->last_pat, pat, plen);
	test_conn_keep(r->last_pch, sizeof r->last_pch, ch, chlen);
	r->last_pchlen = chlen;
	test_conn_keep(r->last_pmsg, sizeof r->last_pmsg, msg, msglen);
	r->last_pmsglen = msglen;
	if (r->free_on_message) {
		redis_conn_free(rc);
		r->rc = NULL;
	}
}

struct redis_conn *
test_conn_open(const struct redis_addr *addr, int timeout_ms, struct rec *r)
{
	memset(r, 0, sizeof *r);
	r->free_on = -1;
	r->rc = redis_conn_new(&test_conn_loop, addr, timeout_ms, 50, 400,
	    test_conn_on_state, r);
	ck_assert_ptr_nonnull(r->rc);
	redis_conn_set_subscribed_cb(r->rc, test_conn_on_subscribed, r);
	redis_conn_set_message_cb(r->rc, test_conn_on_message, r);
	redis_conn_set_pmessage_cb(r->rc, test_conn_on_pmessage, r);
	return r->rc;
}

const char *
test_conn_url(char *buf, size_t len, const struct test_redis *s,
    const char *pass, int db)
{
	snprintf(buf, len, "redis://%s%s%s127.0.0.1:%d/%d",
	    pass != NULL ? ":" : "", pass != NULL ? pass : "",
	    pass != NULL ? "@" : "", s->port, db);
	return buf;
}

/* ---- Commands and their replies. ---- */

void
test_conn_on_result(struct redis_conn *rc, struct redisReply *reply,
    void *priv)
{
	struct result	*res = priv;
	size_t		 i, n;

	(void)rc;
	ck_assert(!res->done);
	res->done = true;
	res->order = ++test_conn_result_clock;
	if (reply == NULL) {
		res->null = true;
		return;
	}
	res->type = reply->type;
	res->integer = reply->integer;
	if (reply->type == REDIS_REPLY_STRING ||
	    reply->type == REDIS_REPLY_STATUS ||
	    reply->type == REDIS_REPLY_ERROR) {
		res->len = reply->len;
		n = reply->len < sizeof res->str - 1 ? reply->len :
		    sizeof res->str - 1;
		memcpy(res->str, reply->str, n);
		res->str[n] = '\0';
	}
	res->elements = reply->elements;
	for (i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements &&
	    i < 4; i++) {
		if (reply->element[i]->type == REDIS_REPLY_STRING)
			snprintf(res->elem[i], sizeof res->elem[i], "%s",
			    reply->element[i]->str);
		else if (reply->element[i]->type == REDIS_REPLY_INTEGER)
			snprintf(res->elem[i], sizeof res->elem[i], "%lld",
			    reply->element[i]->integer);
	}
}

int
test_conn_send(struct redis_conn *rc, struct result *res, ...)
{
	const char	*argv[16];
	size_t		 lens[16];
	int		 argc = 0;
	va_list		 ap;

	memset(res, 0, sizeof *res);
	va_start(ap, res);
	while (argc < 16 && (argv[argc] = va_arg(ap, const char *)) != NULL) {
		lens[argc] = strlen(argv[argc]);
		argc++;
	}
	va_end(ap);
	return redis_conn_command(rc, test_conn_on_result, res, argc, argv,
	    lens);
}
