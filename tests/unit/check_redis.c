/*
 * check_redis.c: unit tests for redis.c, the kept-up hiredis connection,
 * against real redis-server processes on free loopback ports.
 *
 * Each test runs its own libuv loop until a condition holds or a deadline
 * passes, so a hang fails the test instead of stalling it.  Servers come
 * from redis-server.c (fork+exec) and are killed (SIGKILL) when the test
 * ends; they also die with the test process.  Skipped (exit 77) when
 * redis-server is not installed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <check.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include "redis.h"
#include "redis-conn-test.h"
#include "redis-server.h"

/*
 * Like ck_assert_msg, but silent when it holds: a passing ck_assert records
 * its location (a write to Check's pipe), too costly in the hot loops.
 */
#define REQUIRE(cond, ...) do {						\
	if (!(cond))							\
		ck_abort_msg(__VA_ARGS__);				\
} while (0)

/* ---- The loop, and connections recording what they report. ---- */

/* Kills what is left, lets every handle close, and requires a clean loop. */
static void
teardown(void)
{
	test_redis_kill_all();
	test_conn_teardown();
}

/* Opens a connection to url recording into r (timeout 2 s, backoff 50-400 ms). */
static struct redis_conn *
open_conn(const char *url, struct rec *r)
{
	struct redis_addr	 addr;
	char			 err[128];

	ck_assert_msg(redis_url_parse(url, &addr, err, sizeof err) == 0,
	    "%s", err);
	return test_conn_open(&addr, 2000, r);
}

/* ---- URL parsing. ---- */

START_TEST(test_url_valid)
{
	struct redis_addr	 a;
	char			 err[128], d[300];

	ck_assert_int_eq(redis_url_parse("redis://127.0.0.1", &a, err,
	    sizeof err), 0);
	ck_assert_str_eq(a.host, "127.0.0.1");
	ck_assert_int_eq(a.port, 6379);
	ck_assert_int_eq(a.db, 0);
	ck_assert_str_eq(a.password, "");
	ck_assert_str_eq(a.unix_path, "");

	ck_assert_int_eq(redis_url_parse(
	    "redis://:s3cret@redis.example-1.com:6380/2", &a, err, sizeof err),
	    0);
	ck_assert_str_eq(a.host, "redis.example-1.com");
	ck_assert_int_eq(a.port, 6380);
	ck_assert_int_eq(a.db, 2);
	ck_assert_str_eq(a.username, "");
	ck_assert_str_eq(a.password, "s3cret");
	redis_addr_describe(&a, d, sizeof d);
	ck_assert_str_eq(d, "redis.example-1.com:6380/2");

	/* Percent-decoding, a user name, a trailing slash. */
	ck_assert_int_eq(redis_url_parse("redis://app:p%40ss%2Fw%3a@h/", &a,
	    err, sizeof err), 0);
	ck_assert_str_eq(a.username, "app");
	ck_assert_str_eq(a.password, "p@ss/w:");
	ck_assert_str_eq(a.host, "h");
	ck_assert_int_eq(a.db, 0);

	/* The last '@' ends the credentials; a lone '%' stays. */
	ck_assert_int_eq(redis_url_parse("redis://:p@s%s@h:1", &a, err,
	    sizeof err), 0);
	ck_assert_str_eq(a.password, "p@s%s");
	ck_assert_str_eq(a.host, "h");
	ck_assert_int_eq(a.port, 1);

	ck_assert_int_eq(redis_url_parse("redis://[::1]:7000/3", &a, err,
	    sizeof err), 0);
	ck_assert_str_eq(a.host, "::1");
	ck_assert_int_eq(a.port, 7000);
	ck_assert_int_eq(a.db, 3);
	redis_addr_describe(&a, d, sizeof d);
	ck_assert_str_eq(d, "[::1]:7000/3");

	ck_assert_int_eq(redis_url_parse("redis://h?db=5&password=x%20y", &a,
	    err, sizeof err), 0);
	ck_assert_int_eq(a.db, 5);
	ck_assert_str_eq(a.password, "x y");

	ck_assert_int_eq(redis_url_parse("unix:/tmp/r.sock", &a, err,
	    sizeof err), 0);
	ck_assert_str_eq(a.unix_path, "/tmp/r.sock");
	ck_assert_str_eq(a.host, "");
	redis_addr_describe(&a, d, sizeof d);
	ck_assert_str_eq(d, "unix:/tmp/r.sock");

	ck_assert_int_eq(redis_url_parse("unix:///tmp/r.sock?db=4", &a, err,
	    sizeof err), 0);
	ck_assert_str_eq(a.unix_path, "/tmp/r.sock");
	ck_assert_int_eq(a.db, 4);

	ck_assert_int_eq(redis_url_parse("redis+unix:/run/redis.sock", &a,
	    err, sizeof err), 0);
	ck_assert_str_eq(a.unix_path, "/run/redis.sock");

	ck_assert_int_eq(redis_url_parse("unix://:pw@/tmp/r.sock", &a, err,
	    sizeof err), 0);
	ck_assert_str_eq(a.unix_path, "/tmp/r.sock");
	ck_assert_str_eq(a.password, "pw");

	ck_assert_int_eq(redis_url_parse("redis://h:65535/2147483647", &a,
	    err, sizeof err), 0);
	ck_assert_int_eq(a.port, 65535);
	ck_assert_int_eq(a.db, 2147483647);
}
END_TEST

START_TEST(test_url_invalid)
{
	static const char *const bad[] = {
		"", "http://h", "rediss://:TOPSECRET@h", "redis://",
		"redis://:TOPSECRET@", "redis://:TOPSECRET@:6379",
		"redis://h:0", "redis://h:65536", "redis://h:12a", "redis://h:",
		"redis://h/x", "redis://h/-1", "redis://h/2147483648",
		"redis://h#TOPSECRET", "redis://h?foo=TOPSECRET",
		"redis://h?db", "redis://h?db=x", "redis://[::1",
		"redis://[zz]:1", "redis://[::1]x", "redis://bad host",
		"redis://TOPSECRET@h", "redis://h:1:2", "redis://h%20",
		"redis://:TOP%00SECRET@h", "unix:relative",
		"unix:/tmp/s?password=TOPSECRET&x=1", "unix://TOPSECRET",
		"redis://:TOPSECRET@h/TOPSECRET",
	};
	struct redis_addr	 a;
	char			 err[128], url[2048];
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		ck_assert_msg(redis_url_parse(bad[i], &a, err,
		    sizeof err) == -1, "accepted %s", bad[i]);
		ck_assert_msg(err[0] != '\0', "no reason for %s", bad[i]);
		ck_assert_msg(strstr(err, "TOPSECRET") == NULL &&
		    strstr(err, "TOP") == NULL, "leaks: %s", err);
		ck_assert_str_eq(a.password, "");
	}
	ck_assert_int_eq(redis_url_parse(NULL, &a, err, sizeof err), -1);
	/* Too long: the URL, the password, the socket path. */
	memset(url, 'a', sizeof url);
	memcpy(url, "redis://", 8);
	url[REDIS_URL_MAX + 1] = '\0';
	ck_assert_int_eq(redis_url_parse(url, &a, err, sizeof err), -1);
	snprintf(url, sizeof url, "redis://:%0300d@h", 7);
	ck_assert_int_eq(redis_url_parse(url, &a, err, sizeof err), -1);
	ck_assert_ptr_null(strstr(err, "0000"));
	snprintf(url, sizeof url, "unix:/%0120d", 7);
	ck_assert_int_eq(redis_url_parse(url, &a, err, sizeof err), -1);
	snprintf(url, sizeof url, "redis://%0300d", 7);
	ck_assert_int_eq(redis_url_parse(url, &a, err, sizeof err), -1);
	/* A NULL or empty err is fine. */
	ck_assert_int_eq(redis_url_parse("nope", &a, NULL, 0), -1);
}
END_TEST

/* ---- Connecting and commands. ---- */

START_TEST(test_connect_up)
{
	struct test_redis	 s;
	struct rec		 r;
	char			 url[128];

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &r);
	ck_assert_int_eq(redis_conn_state(r.rc), REDIS_CONNECTING);
	ck_assert_int_eq(r.nstates, 0);		/* nothing from inside new */
	WAIT_UP(&r);
	ck_assert_int_eq(r.nstates, 1);
	ck_assert_int_eq(r.states[0], REDIS_UP);
	redis_conn_free(r.rc);
}
END_TEST

START_TEST(test_set_get)
{
	struct test_redis	 s;
	struct rec		 r;
	struct result		 res;
	const char		*argv[3] = { "SET", "bin", "a\0b" };
	size_t			 lens[3] = { 3, 3, 3 };
	char			 url[128];

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &r);
	WAIT_UP(&r);
	CMD(r.rc, &res, "SET", "greeting", "hello");
	ck_assert_int_eq(res.type, REDIS_REPLY_STATUS);
	ck_assert_str_eq(res.str, "OK");
	CMD(r.rc, &res, "GET", "greeting");
	ck_assert_int_eq(res.type, REDIS_REPLY_STRING);
	ck_assert_str_eq(res.str, "hello");
	CMD(r.rc, &res, "GET", "missing");
	ck_assert_int_eq(res.type, REDIS_REPLY_NIL);
	CMD(r.rc, &res, "NOSUCHCOMMAND");
	ck_assert_int_eq(res.type, REDIS_REPLY_ERROR);
	/* Binary-safe arguments. */
	memset(&res, 0, sizeof res);
	ck_assert_int_eq(redis_conn_command(r.rc, test_conn_on_result, &res, 3,
	    argv, lens), 0);
	ck_assert(RUN_UNTIL(res.done, WAIT_MS));
	CMD(r.rc, &res, "GET", "bin");
	ck_assert_int_eq(res.len, 3);
	ck_assert(memcmp(res.str, "a\0b", 3) == 0);
	/* A NULL callback is allowed; order is kept behind it. */
	ck_assert_int_eq(redis_conn_command(r.rc, NULL, NULL, 1,
	    (const char *[]){ "PING" }, (size_t[]){ 4 }), 0);
	CMD(r.rc, &res, "PING");
	ck_assert_str_eq(res.str, "PONG");
	/* Arguments out of bounds. */
	ck_assert_int_eq(redis_conn_command(r.rc, test_conn_on_result, &res, 0,
	    argv, lens), -1);
	redis_conn_free(r.rc);
}
END_TEST

struct incrs {
	int	 n;
	int	 nulls;
	bool	 in_order;
};

static void
on_incr(struct redis_conn *rc, struct redisReply *reply, void *priv)
{
	struct incrs	*in = priv;

	if (reply == NULL) {
		in->nulls++;
		return;
	}
	in->n++;
	if (reply->type != REDIS_REPLY_INTEGER || reply->integer != in->n)
		in->in_order = false;
}

START_TEST(test_pipeline)
{
	struct test_redis	 s;
	struct rec		 r;
	struct incrs		 in = { 0, 0, true };
	const char		*argv[2] = { "INCR", "counter" };
	size_t			 lens[2] = { 4, 7 };
	char			 url[128];
	int			 i;

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &r);
	WAIT_UP(&r);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(redis_conn_command(r.rc, on_incr, &in, 2,
		    argv, lens), 0);
	ck_assert(RUN_UNTIL(in.n == 1000, WAIT_MS));
	ck_assert(in.in_order);
	ck_assert_int_eq(in.nulls, 0);
	redis_conn_free(r.rc);
}
END_TEST

START_TEST(test_auth)
{
	struct test_redis	 s;
	struct rec		 r, u;
	struct result		 res;
	char			 url[160];

	test_redis_init(&s, "pa:ss@word");
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, "pa%3Ass%40word", 0), &r);
	WAIT_UP(&r);
	CMD(r.rc, &res, "PING");
	ck_assert_str_eq(res.str, "PONG");
	/* Redis 6 ACL form: user "default". */
	snprintf(url, sizeof url,
	    "redis://default:pa%%3Ass%%40word@127.0.0.1:%d", s.port);
	open_conn(url, &u);
	WAIT_UP(&u);
	redis_conn_free(r.rc);
	redis_conn_free(u.rc);
}
END_TEST

START_TEST(test_auth_wrong)
{
	struct test_redis	 s;
	struct rec		 r, n;
	char			 url[160];

	test_redis_init(&s, "right");
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, "wrong", 0), &r);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &n); /* NOAUTH */
	test_conn_run_for(1500);
	ck_assert_int_eq(r.ups, 0);
	ck_assert_int_eq(n.ups, 0);
	/* It kept trying: DOWN, CONNECTING, DOWN, ... */
	ck_assert_int_ge(r.downs, 2);
	ck_assert_int_ge(r.connectings, 1);
	ck_assert_int_ge(n.downs, 2);
	ck_assert_int_ne(redis_conn_state(r.rc), REDIS_UP);
	ck_assert_int_eq(test_conn_send(r.rc, &(struct result){ 0 }, "PING",
	    ARGS_END), -1);
	redis_conn_free(r.rc);
	redis_conn_free(n.rc);
}
END_TEST

START_TEST(test_select)
{
	struct test_redis	 s;
	struct rec		 r3, r0;
	struct result		 res;
	char			 url[128];

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 3), &r3);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &r0);
	WAIT_UP(&r3);
	WAIT_UP(&r0);
	CMD(r3.rc, &res, "SET", "where", "three");
	CMD(r0.rc, &res, "GET", "where");
	ck_assert_int_eq(res.type, REDIS_REPLY_NIL);
	CMD(r3.rc, &res, "GET", "where");
	ck_assert_str_eq(res.str, "three");
	/* A database the server does not have: never UP. */
	redis_conn_free(r0.rc);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 99), &r0);
	test_conn_run_for(500);
	ck_assert_int_eq(r0.ups, 0);
	ck_assert_int_ge(r0.downs, 1);
	redis_conn_free(r0.rc);
	redis_conn_free(r3.rc);
}
END_TEST

/* ---- Pub/sub. ---- */

START_TEST(test_pubsub)
{
	struct test_redis	 s;
	struct rec		 sub, pub;
	struct result		 res, res2;
	const char		*argv[3] = { "PUBLISH", "bin", "x\0y" };
	size_t			 lens[3] = { 7, 3, 3 };
	char			 url[128];
	int			 i;

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &sub);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &pub);
	/* Remembered before UP; confirmed before UP is reported. */
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "news", 4), 0);
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "news", 4), 0);
	WAIT_UP(&sub);
	WAIT_UP(&pub);
	ck_assert_int_eq(sub.subscribed_at_up, 1);
	ck_assert_str_eq(sub.last_sub, "news");
	/* A subscriber carries nothing else. */
	ck_assert_int_eq(test_conn_send(sub.rc, &res, "PING", ARGS_END), -1);

	CMD(pub.rc, &res, "PUBLISH", "news", "hello");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(sub.messages == 1, WAIT_MS));
	ck_assert_str_eq(sub.last_ch, "news");
	ck_assert_int_eq(sub.last_msglen, 5);
	ck_assert(memcmp(sub.last_msg, "hello", 5) == 0);

	/* Subscribing while UP, and a binary message. */
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "bin", 3), 0);
	ck_assert(RUN_UNTIL(sub.subscribed == 2, WAIT_MS));
	ck_assert_str_eq(sub.last_sub, "bin");
	memset(&res, 0, sizeof res);
	ck_assert_int_eq(redis_conn_command(pub.rc, test_conn_on_result, &res,
	    3, argv, lens), 0);
	ck_assert(RUN_UNTIL(sub.messages == 2, WAIT_MS));
	ck_assert_str_eq(sub.last_ch, "bin");
	ck_assert_int_eq(sub.last_msglen, 3);
	ck_assert(memcmp(sub.last_msg, "x\0y", 3) == 0);

	/* Unsubscribed: not delivered, even if Redis still sends it. */
	ck_assert_int_eq(redis_conn_unsubscribe(sub.rc, "news", 4), 0);
	ck_assert_int_eq(test_conn_send(pub.rc, &res, "PUBLISH", "news", "lost",
	    ARGS_END), 0);
	ck_assert_int_eq(test_conn_send(pub.rc, &res2, "PUBLISH", "bin", "last",
	    ARGS_END), 0);
	ck_assert(RUN_UNTIL(sub.messages == 3, WAIT_MS));
	ck_assert_str_eq(sub.last_ch, "bin");
	test_conn_run_for(100);
	ck_assert_int_eq(sub.messages, 3);
	/* And Redis hears of it. */
	for (i = 0; i < 200; i++) {
		CMD(pub.rc, &res, "PUBSUB", "NUMSUB", "news");
		if (strcmp(res.elem[1], "0") == 0)
			break;
		test_conn_run_for(10);
	}
	ck_assert_int_lt(i, 200);
	/* Subscribe again: confirmed again, delivered again. */
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "news", 4), 0);
	ck_assert(RUN_UNTIL(sub.subscribed == 3, WAIT_MS));
	CMD(pub.rc, &res, "PUBLISH", "news", "again");
	ck_assert(RUN_UNTIL(sub.messages == 4, WAIT_MS));
	ck_assert_str_eq(sub.last_ch, "news");

	/* Bad names. */
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "", 0), -1);
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "a\0b", 3), -1);
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, url,
	    REDIS_CHANNEL_MAX + 1), -1);
	ck_assert_int_eq(redis_conn_unsubscribe(sub.rc, "", 0), -1);
	ck_assert_int_eq(redis_conn_unsubscribe(sub.rc, "never", 5), 0);
	redis_conn_free(sub.rc);
	redis_conn_free(pub.rc);
}
END_TEST

/* Subscribe and unsubscribe in quick succession end as the last call says. */
START_TEST(test_pubsub_churn)
{
	struct test_redis	 s;
	struct rec		 sub, pub;
	struct result		 res;
	char			 url[128];
	int			 i;

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &sub);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &pub);
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "keep", 4), 0);
	WAIT_UP(&sub);
	WAIT_UP(&pub);
	for (i = 0; i < 50; i++) {
		ck_assert_int_eq(redis_conn_subscribe(sub.rc, "flip", 4), 0);
		ck_assert_int_eq(redis_conn_unsubscribe(sub.rc, "flip", 4), 0);
		ck_assert_int_eq(redis_conn_unsubscribe(sub.rc, "flop", 4), 0);
		ck_assert_int_eq(redis_conn_subscribe(sub.rc, "flop", 4), 0);
		test_conn_run_for(i % 3);
	}
	/* Wait until Redis agrees: flop and keep subscribed, flip not. */
	for (i = 0; i < 200; i++) {
		CMD(pub.rc, &res, "PUBSUB", "NUMSUB", "flip", "flop");
		if (strcmp(res.elem[1], "0") == 0 &&
		    strcmp(res.elem[3], "1") == 0)
			break;
		test_conn_run_for(10);
	}
	ck_assert_int_lt(i, 200);
	CMD(pub.rc, &res, "PUBLISH", "flip", "no");
	CMD(pub.rc, &res, "PUBLISH", "flop", "yes");
	ck_assert(RUN_UNTIL(sub.messages == 1, WAIT_MS));
	ck_assert_str_eq(sub.last_ch, "flop");
	redis_conn_free(sub.rc);
	redis_conn_free(pub.rc);
}
END_TEST

/* More channels than one SUBSCRIBE carries: all confirmed before UP, every time. */
START_TEST(test_many_channels)
{
	struct test_redis	 s;
	struct rec		 sub, pub;
	struct result		 res;
	char			 url[128], ch[32];
	int			 i;

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &sub);
	for (i = 0; i < 300; i++) {
		snprintf(ch, sizeof ch, "ch-%d", i);
		ck_assert_int_eq(redis_conn_subscribe(sub.rc, ch, strlen(ch)),
		    0);
	}
	WAIT_UP(&sub);
	ck_assert_int_eq(sub.subscribed_at_up, 300);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &pub);
	WAIT_UP(&pub);
	CMD(pub.rc, &res, "PUBSUB", "NUMSUB", "ch-0", "ch-299");
	ck_assert_str_eq(res.elem[1], "1");
	ck_assert_str_eq(res.elem[3], "1");
	test_redis_kill(&s);
	ck_assert(RUN_UNTIL(sub.downs == 1, WAIT_MS));
	test_redis_start(&s);
	WAIT_UP(&sub);
	ck_assert_int_eq(sub.subscribed_at_up, 600);
	redis_conn_free(sub.rc);
	redis_conn_free(pub.rc);
}
END_TEST

/* ---- Patterns. ---- */

/*
 * Sends a command (hiredis's format) to the server on port on a blocking
 * connection of its own, without running the loop; returns its integer reply.
 */
static long long
sync_integer(int port, const char *fmt, ...)
{
	struct timeval	 tv = { 2, 0 };
	redisContext	*c;
	redisReply	*r;
	long long	 n;
	va_list		 ap;

	c = redisConnectWithTimeout("127.0.0.1", port, tv);
	ck_assert_msg(c != NULL && c->err == 0, "cannot reach redis-server");
	ck_assert_int_eq(redisSetTimeout(c, tv), REDIS_OK);
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	ck_assert_msg(r != NULL && r->type == REDIS_REPLY_INTEGER,
	    "%s: no integer reply", fmt);
	n = r->integer;
	freeReplyObject(r);
	redisFree(c);
	return n;
}

/* A recorder that also asks Redis, at each UP, how many patterns it has. */
struct uprec {
	struct rec	 r;
	int		 port;
	int		 nups;
	long long	 numpat_at_up[8];
};

/* The state callback of a struct uprec: records, and at UP asks Redis before anything else runs. */
static void
on_state_numpat(struct redis_conn *rc, enum redis_state st, void *arg)
{
	struct uprec	*u = arg;

	test_conn_on_state(rc, st, &u->r);
	if (st == REDIS_UP && u->nups < 8)
		u->numpat_at_up[u->nups++] = sync_integer(u->port,
		    "PUBSUB NUMPAT");
}

/* Opens a connection to s recording into u, like open_conn. */
static struct redis_conn *
open_numpat(const struct test_redis *s, struct uprec *u)
{
	struct redis_addr	 addr;
	char			 url[128], err[128];

	memset(u, 0, sizeof *u);
	u->r.free_on = -1;
	u->port = s->port;
	ck_assert_msg(redis_url_parse(test_conn_url(url, sizeof url, s, NULL,
	    0), &addr, err, sizeof err) == 0, "%s", err);
	u->r.rc = redis_conn_new(&test_conn_loop, &addr, 2000, 50, 400,
	    on_state_numpat, u);
	ck_assert_ptr_nonnull(u->r.rc);
	redis_conn_set_subscribed_cb(u->r.rc, test_conn_on_subscribed, &u->r);
	redis_conn_set_message_cb(u->r.rc, test_conn_on_message, &u->r);
	redis_conn_set_pmessage_cb(u->r.rc, test_conn_on_pmessage, &u->r);
	return u->r.rc;
}

/* Runs the loop until Redis (asked on cmd) has n patterns subscribed. */
static bool
wait_numpat(struct redis_conn *cmd, long long n)
{
	struct result	 res;
	int		 i;

	for (i = 0; i < 200; i++) {
		CMD(cmd, &res, "PUBSUB", "NUMPAT");
		if (res.integer == n)
			return true;
		test_conn_run_for(10);
	}
	return false;
}

START_TEST(test_psubscribe)
{
	struct test_redis	 s;
	struct uprec		 u;
	struct rec		 pub;
	struct result		 res, res2;
	const char		*argv[3] = { "PUBLISH", "bin.x", "x\0y" };
	size_t			 lens[3] = { 7, 5, 3 };
	char			 url[128], big[REDIS_CHANNEL_MAX + 2];

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_numpat(&s, &u);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &pub);
	/* Remembered before UP; confirmed before UP is reported. */
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, "news.*", 6), 0);
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, "news.*", 6), 0);
	WAIT_UP(&u.r);
	WAIT_UP(&pub);
	ck_assert_int_eq(u.nups, 1);
	ck_assert_int_eq(u.numpat_at_up[0], 1);
	/* Patterns do not call the subscribed callback. */
	ck_assert_int_eq(u.r.subscribed, 0);
	/* A subscriber to patterns only carries nothing else either. */
	ck_assert_int_eq(test_conn_send(u.r.rc, &res, "PING", ARGS_END), -1);

	CMD(pub.rc, &res, "PUBLISH", "news.sport", "goal");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(u.r.pmessages == 1, WAIT_MS));
	ck_assert_str_eq(u.r.last_pat, "news.*");
	ck_assert_str_eq(u.r.last_pch, "news.sport");
	ck_assert_int_eq(u.r.last_pchlen, 10);
	ck_assert_str_eq(u.r.last_pmsg, "goal");
	ck_assert_int_eq(u.r.last_pmsglen, 4);
	ck_assert_int_eq(u.r.messages, 0);
	CMD(pub.rc, &res, "PUBLISH", "news", "unmatched");
	ck_assert_int_eq(res.integer, 0);

	/* Subscribing while UP, and a binary message. */
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, "bin.?", 5), 0);
	ck_assert(wait_numpat(pub.rc, 2));
	memset(&res, 0, sizeof res);
	ck_assert_int_eq(redis_conn_command(pub.rc, test_conn_on_result, &res,
	    3, argv, lens), 0);
	ck_assert(RUN_UNTIL(u.r.pmessages == 2, WAIT_MS));
	ck_assert_int_eq(res.integer, 1);
	ck_assert_str_eq(u.r.last_pat, "bin.?");
	ck_assert_str_eq(u.r.last_pch, "bin.x");
	ck_assert_int_eq(u.r.last_pmsglen, 3);
	ck_assert(memcmp(u.r.last_pmsg, "x\0y", 3) == 0);

	/* Two patterns matching one message: once for each. */
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, "*.sport", 7), 0);
	ck_assert(wait_numpat(pub.rc, 3));
	CMD(pub.rc, &res, "PUBLISH", "news.sport", "both");
	ck_assert_int_eq(res.integer, 2);
	ck_assert(RUN_UNTIL(u.r.pmessages == 4, WAIT_MS));
	ck_assert_str_eq(u.r.last_pmsg, "both");
	test_conn_run_for(100);
	ck_assert_int_eq(u.r.pmessages, 4);

	/* Unsubscribed: not delivered, even if Redis still sends it. */
	ck_assert_int_eq(redis_conn_punsubscribe(u.r.rc, "news.*", 6), 0);
	ck_assert_int_eq(test_conn_send(pub.rc, &res, "PUBLISH", "news.x",
	    "lost", ARGS_END), 0);
	ck_assert_int_eq(test_conn_send(pub.rc, &res2, "PUBLISH", "bin.z",
	    "last", ARGS_END), 0);
	ck_assert(RUN_UNTIL(u.r.pmessages == 5, WAIT_MS));
	ck_assert_str_eq(u.r.last_pat, "bin.?");
	ck_assert_str_eq(u.r.last_pmsg, "last");
	test_conn_run_for(100);
	ck_assert_int_eq(u.r.pmessages, 5);
	/* And Redis hears of it. */
	ck_assert(wait_numpat(pub.rc, 2));
	CMD(pub.rc, &res, "PUBLISH", "news.x", "gone");
	ck_assert_int_eq(res.integer, 0);
	/* Published (and sent to us) before the PUNSUBSCRIBE leaves: dropped. */
	ck_assert_int_eq(sync_integer(s.port, "PUBLISH bin.y early"), 1);
	ck_assert_int_eq(redis_conn_punsubscribe(u.r.rc, "bin.?", 5), 0);
	ck_assert(wait_numpat(pub.rc, 1));
	test_conn_run_for(50);
	ck_assert_int_eq(u.r.pmessages, 5);
	/* Subscribe again: delivered again. */
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, "news.*", 6), 0);
	ck_assert(wait_numpat(pub.rc, 2));
	CMD(pub.rc, &res, "PUBLISH", "news.y", "again");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(u.r.pmessages == 6, WAIT_MS));
	ck_assert_str_eq(u.r.last_pat, "news.*");
	ck_assert_str_eq(u.r.last_pch, "news.y");
	ck_assert_str_eq(u.r.last_pmsg, "again");
	ck_assert_int_eq(u.r.messages, 0);
	ck_assert_int_eq(u.r.subscribed, 0);
	ck_assert_int_eq(u.nups, 1);

	/* Bad patterns. */
	memset(big, 'p', sizeof big);
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, "", 0), -1);
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, NULL, 3), -1);
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, "a\0*", 3), -1);
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, big,
	    REDIS_CHANNEL_MAX + 1), -1);
	ck_assert_int_eq(redis_conn_punsubscribe(u.r.rc, "", 0), -1);
	ck_assert_int_eq(redis_conn_punsubscribe(u.r.rc, big,
	    REDIS_CHANNEL_MAX + 1), -1);
	ck_assert_int_eq(redis_conn_punsubscribe(u.r.rc, "never", 5), 0);
	/* The longest pattern is fine. */
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, big,
	    REDIS_CHANNEL_MAX), 0);
	ck_assert(wait_numpat(pub.rc, 3));
	redis_conn_free(u.r.rc);
	redis_conn_free(pub.rc);
}
END_TEST

/* A pmessage's channel is bounded like a channel name: longer, or with a NUL, it is dropped. */
START_TEST(test_pmessage_channel_bounds)
{
	struct test_redis	 s;
	struct rec		 sub, pub;
	struct result		 res;
	char			 url[128], ch[REDIS_CHANNEL_MAX + 2];
	const char		*argv[3] = { "PUBLISH", ch, "m" };
	size_t			 lens[3] = { 7, 0, 1 };

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &sub);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &pub);
	ck_assert_int_eq(redis_conn_psubscribe(sub.rc, "long:*", 6), 0);
	WAIT_UP(&sub);
	WAIT_UP(&pub);
	memcpy(ch, "long:", 5);
	memset(ch + 5, 'x', sizeof ch - 5);
	/* REDIS_CHANNEL_MAX + 1 bytes: Redis sends it, we drop it. */
	lens[1] = REDIS_CHANNEL_MAX + 1;
	memset(&res, 0, sizeof res);
	ck_assert_int_eq(redis_conn_command(pub.rc, test_conn_on_result, &res,
	    3, argv, lens), 0);
	ck_assert(RUN_UNTIL(res.done, WAIT_MS));
	ck_assert_int_eq(res.integer, 1);
	/* A NUL in the channel: dropped too. */
	ch[6] = '\0';
	lens[1] = 8;
	memset(&res, 0, sizeof res);
	ck_assert_int_eq(redis_conn_command(pub.rc, test_conn_on_result, &res,
	    3, argv, lens), 0);
	ck_assert(RUN_UNTIL(res.done, WAIT_MS));
	ck_assert_int_eq(res.integer, 1);
	/* REDIS_CHANNEL_MAX bytes: delivered, the only one. */
	ch[6] = 'x';
	lens[1] = REDIS_CHANNEL_MAX;
	memset(&res, 0, sizeof res);
	ck_assert_int_eq(redis_conn_command(pub.rc, test_conn_on_result, &res,
	    3, argv, lens), 0);
	ck_assert(RUN_UNTIL(sub.pmessages == 1, WAIT_MS));
	ck_assert_int_eq(sub.last_pchlen, REDIS_CHANNEL_MAX);
	ck_assert_str_eq(sub.last_pat, "long:*");
	test_conn_run_for(100);
	ck_assert_int_eq(sub.pmessages, 1);
	redis_conn_free(sub.rc);
	redis_conn_free(pub.rc);
}
END_TEST

/*
 * A channel and a pattern of the same text are two entries: each its own
 * callback, its own life, and each subscribed again (in commands of their
 * own) after a restart.
 */
START_TEST(test_pattern_and_channel)
{
	struct test_redis	 s;
	struct uprec		 u;
	struct rec		 pub;
	struct result		 res;
	char			 url[128];
	int			 i;

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_numpat(&s, &u);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &pub);
	ck_assert_int_eq(redis_conn_subscribe(u.r.rc, "room:*", 6), 0);
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, "room:*", 6), 0);
	WAIT_UP(&u.r);
	WAIT_UP(&pub);
	ck_assert_int_eq(u.numpat_at_up[0], 1);
	ck_assert_int_eq(u.r.subscribed_at_up, 1);
	ck_assert_str_eq(u.r.last_sub, "room:*");
	CMD(pub.rc, &res, "PUBSUB", "NUMSUB", "room:*");
	ck_assert_str_eq(res.elem[1], "1");

	/* The channel's own name: once as a message, once as a pmessage. */
	CMD(pub.rc, &res, "PUBLISH", "room:*", "both");
	ck_assert_int_eq(res.integer, 2);
	ck_assert(RUN_UNTIL(u.r.messages == 1 && u.r.pmessages == 1, WAIT_MS));
	ck_assert_str_eq(u.r.last_ch, "room:*");
	ck_assert_str_eq(u.r.last_msg, "both");
	ck_assert_str_eq(u.r.last_pat, "room:*");
	ck_assert_str_eq(u.r.last_pch, "room:*");
	ck_assert_str_eq(u.r.last_pmsg, "both");
	/* Another channel the pattern matches: the pattern only. */
	CMD(pub.rc, &res, "PUBLISH", "room:1", "pat");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(u.r.pmessages == 2, WAIT_MS));
	ck_assert_str_eq(u.r.last_pch, "room:1");
	test_conn_run_for(100);
	ck_assert_int_eq(u.r.messages, 1);
	ck_assert_int_eq(u.r.pmessages, 2);

	/* The channel goes, the pattern stays. */
	ck_assert_int_eq(redis_conn_unsubscribe(u.r.rc, "room:*", 6), 0);
	for (i = 0; i < 200; i++) {
		CMD(pub.rc, &res, "PUBSUB", "NUMSUB", "room:*");
		if (strcmp(res.elem[1], "0") == 0)
			break;
		test_conn_run_for(10);
	}
	ck_assert_int_lt(i, 200);
	CMD(pub.rc, &res, "PUBSUB", "NUMPAT");
	ck_assert_int_eq(res.integer, 1);
	CMD(pub.rc, &res, "PUBLISH", "room:*", "p-only");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(u.r.pmessages == 3, WAIT_MS));
	ck_assert_str_eq(u.r.last_pmsg, "p-only");
	/* Gone from the set already: unsubscribing it again changes nothing. */
	ck_assert_int_eq(redis_conn_unsubscribe(u.r.rc, "room:*", 6), 0);

	/* The pattern goes, the channel comes back. */
	ck_assert_int_eq(redis_conn_punsubscribe(u.r.rc, "room:*", 6), 0);
	ck_assert_int_eq(redis_conn_subscribe(u.r.rc, "room:*", 6), 0);
	ck_assert(RUN_UNTIL(u.r.subscribed == 2, WAIT_MS));
	ck_assert(wait_numpat(pub.rc, 0));
	CMD(pub.rc, &res, "PUBLISH", "room:*", "c-only");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(u.r.messages == 2, WAIT_MS));
	ck_assert_str_eq(u.r.last_msg, "c-only");
	/* A pattern's PUNSUBSCRIBE leaves the channel of its text alone. */
	ck_assert_int_eq(redis_conn_punsubscribe(u.r.rc, "room:*", 6), 0);
	CMD(pub.rc, &res, "PUBLISH", "room:*", "still");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(u.r.messages == 3, WAIT_MS));
	ck_assert_str_eq(u.r.last_msg, "still");
	test_conn_run_for(100);
	ck_assert_int_eq(u.r.messages, 3);
	ck_assert_int_eq(u.r.pmessages, 3);
	ck_assert_int_eq(u.nups, 1);

	/* Both again, then a restart: both subscribed again before UP. */
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, "room:*", 6), 0);
	ck_assert(wait_numpat(pub.rc, 1));
	test_redis_kill(&s);
	ck_assert(RUN_UNTIL(u.r.downs == 1 && pub.downs == 1, WAIT_MS));
	test_redis_start(&s);
	WAIT_UP(&u.r);
	WAIT_UP(&pub);
	ck_assert_int_eq(u.nups, 2);
	ck_assert_int_eq(u.numpat_at_up[1], 1);
	ck_assert_int_eq(u.r.subscribed_at_up, 3);
	CMD(pub.rc, &res, "PUBSUB", "NUMSUB", "room:*");
	ck_assert_str_eq(res.elem[1], "1");
	CMD(pub.rc, &res, "PUBLISH", "room:*", "back");
	ck_assert_int_eq(res.integer, 2);
	ck_assert(RUN_UNTIL(u.r.messages == 4 && u.r.pmessages == 4, WAIT_MS));
	ck_assert_str_eq(u.r.last_msg, "back");
	ck_assert_str_eq(u.r.last_pmsg, "back");
	test_conn_run_for(100);
	ck_assert_int_eq(u.r.messages, 4);
	ck_assert_int_eq(u.r.pmessages, 4);
	redis_conn_free(u.r.rc);
	redis_conn_free(pub.rc);
}
END_TEST

/*
 * More patterns than one PSUBSCRIBE carries (and no channel, whose
 * confirmation would come after theirs): Redis has them all when UP is
 * reported, the first time and after a restart, with what changed while it
 * was down.
 */
START_TEST(test_psub_restart)
{
	struct test_redis	 s;
	struct uprec		 u;
	struct rec		 pub;
	struct result		 res;
	char			 url[128], pat[32];
	int			 i;

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_numpat(&s, &u);
	for (i = 0; i < 300; i++) {
		snprintf(pat, sizeof pat, "p-%d.*", i);
		ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, pat,
		    strlen(pat)), 0);
	}
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, "gone.*", 6), 0);
	WAIT_UP(&u.r);
	ck_assert_int_eq(u.nups, 1);
	ck_assert_int_eq(u.numpat_at_up[0], 301);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &pub);
	WAIT_UP(&pub);
	CMD(pub.rc, &res, "PUBLISH", "gone.x", "before");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(u.r.pmessages == 1, WAIT_MS));
	ck_assert_str_eq(u.r.last_pat, "gone.*");

	test_redis_kill(&s);
	ck_assert(RUN_UNTIL(u.r.downs == 1 && pub.downs == 1, WAIT_MS));
	/* Changes to the set while down are remembered. */
	ck_assert_int_eq(redis_conn_punsubscribe(u.r.rc, "gone.*", 6), 0);
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, "new.*", 5), 0);
	ck_assert_int_eq(redis_conn_punsubscribe(u.r.rc, "p-0.*", 5), 0);
	ck_assert_int_eq(redis_conn_psubscribe(u.r.rc, "p-0.*", 5), 0);
	test_conn_run_for(300);
	ck_assert_int_eq(u.nups, 1);

	test_redis_start(&s);
	WAIT_UP(&u.r);
	WAIT_UP(&pub);
	ck_assert_int_eq(u.nups, 2);
	ck_assert_int_eq(u.numpat_at_up[1], 301);
	CMD(pub.rc, &res, "PUBLISH", "p-299.x", "back");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(u.r.pmessages == 2, WAIT_MS));
	ck_assert_str_eq(u.r.last_pat, "p-299.*");
	ck_assert_str_eq(u.r.last_pch, "p-299.x");
	ck_assert_str_eq(u.r.last_pmsg, "back");
	CMD(pub.rc, &res, "PUBLISH", "p-0.x", "zero");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(u.r.pmessages == 3, WAIT_MS));
	ck_assert_str_eq(u.r.last_pat, "p-0.*");
	CMD(pub.rc, &res, "PUBLISH", "gone.x", "x");
	ck_assert_int_eq(res.integer, 0);
	CMD(pub.rc, &res, "PUBLISH", "new.x", "fresh");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(u.r.pmessages == 4, WAIT_MS));
	ck_assert_str_eq(u.r.last_pat, "new.*");
	ck_assert_str_eq(u.r.last_pmsg, "fresh");
	test_conn_run_for(100);
	ck_assert_int_eq(u.r.pmessages, 4);
	ck_assert_int_eq(u.r.messages, 0);
	ck_assert_int_eq(u.r.subscribed, 0);
	redis_conn_free(u.r.rc);
	redis_conn_free(pub.rc);
}
END_TEST

/* PSUBSCRIBE and PUNSUBSCRIBE in quick succession, some in flight, end as the last call says. */
START_TEST(test_psub_churn)
{
	struct test_redis	 s;
	struct rec		 sub, pub;
	struct result		 res;
	char			 url[128];
	int			 i;

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &sub);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &pub);
	ck_assert_int_eq(redis_conn_psubscribe(sub.rc, "keep.*", 6), 0);
	WAIT_UP(&sub);
	WAIT_UP(&pub);
	for (i = 0; i < 50; i++) {
		ck_assert_int_eq(redis_conn_psubscribe(sub.rc, "flip.*", 6), 0);
		ck_assert_int_eq(redis_conn_punsubscribe(sub.rc, "flip.*", 6),
		    0);
		ck_assert_int_eq(redis_conn_punsubscribe(sub.rc, "flop.*", 6),
		    0);
		ck_assert_int_eq(redis_conn_psubscribe(sub.rc, "flop.*", 6), 0);
		/* The channel of flip's text, the other way round. */
		ck_assert_int_eq(redis_conn_unsubscribe(sub.rc, "flip.*", 6),
		    0);
		ck_assert_int_eq(redis_conn_subscribe(sub.rc, "flip.*", 6), 0);
		test_conn_run_for(i % 3);
	}
	/* Wait until Redis agrees: keep.* and flop.* patterns, the flip.* channel. */
	for (i = 0; i < 200; i++) {
		CMD(pub.rc, &res, "PUBSUB", "NUMPAT");
		if (res.integer == 2) {
			CMD(pub.rc, &res, "PUBSUB", "NUMSUB", "flip.*");
			if (strcmp(res.elem[1], "1") == 0)
				break;
		}
		test_conn_run_for(10);
	}
	ck_assert_int_lt(i, 200);
	test_conn_run_for(50);
	ck_assert_int_eq(sub.pmessages, 0);
	ck_assert_int_eq(sub.messages, 0);
	CMD(pub.rc, &res, "PUBLISH", "flip.x", "no");
	ck_assert_int_eq(res.integer, 0);
	CMD(pub.rc, &res, "PUBLISH", "flop.x", "yes");
	ck_assert_int_eq(res.integer, 1);
	CMD(pub.rc, &res, "PUBLISH", "keep.x", "kept");
	ck_assert_int_eq(res.integer, 1);
	CMD(pub.rc, &res, "PUBLISH", "flip.*", "chan");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(sub.pmessages == 2 && sub.messages == 1, WAIT_MS));
	ck_assert_str_eq(sub.last_pat, "keep.*");
	ck_assert_str_eq(sub.last_pmsg, "kept");
	ck_assert_str_eq(sub.last_ch, "flip.*");
	ck_assert_str_eq(sub.last_msg, "chan");
	test_conn_run_for(100);
	ck_assert_int_eq(sub.pmessages, 2);
	ck_assert_int_eq(sub.messages, 1);
	redis_conn_free(sub.rc);
	redis_conn_free(pub.rc);
}
END_TEST

/* Freeing the connection from the pmessage callback: nothing more is called. */
START_TEST(test_free_in_pmessage_cb)
{
	struct test_redis	 s;
	struct rec		 sub, pub;
	struct result		 res, res2;
	char			 url[128];

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &sub);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &pub);
	ck_assert_int_eq(redis_conn_psubscribe(sub.rc, "c*", 2), 0);
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "c1", 2), 0);
	WAIT_UP(&sub);
	WAIT_UP(&pub);
	sub.free_on_message = true;
	/* Two deliveries of one message, likely read in one go: the second is dropped. */
	ck_assert_int_eq(test_conn_send(pub.rc, &res, "PUBLISH", "c1", "1",
	    ARGS_END), 0);
	CMD(pub.rc, &res2, "PUBLISH", "c2", "2");
	ck_assert(RUN_UNTIL(sub.rc == NULL, WAIT_MS));
	test_conn_run_for(100);
	ck_assert_int_eq(sub.messages + sub.pmessages, 1);
	redis_conn_free(pub.rc);
}
END_TEST

/* ---- Scripts. ---- */

START_TEST(test_eval)
{
	static const char	*src = "return {KEYS[1], ARGV[1], ARGV[2]}";
	struct redis_script	 sc, bad, counts;
	struct test_redis	 s;
	struct rec		 r;
	struct result		 res, many[5];
	const char		*argv[3] = { "k1", "a1", "a2" };
	size_t			 lens[3] = { 2, 2, 2 };
	char			 url[128];
	int			 i;

	redis_script_init(&sc, src);
	redis_script_init(&bad, "return redis.call('NOPE')");
	redis_script_init(&counts, "return {#KEYS, #ARGV, ARGV[2]}");
	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &r);
	WAIT_UP(&r);
	/* Our SHA-1 is Redis's. */
	CMD(r.rc, &res, "SCRIPT", "LOAD", src);
	ck_assert_str_eq(res.str, sc.sha1);
	CMD(r.rc, &res, "SCRIPT", "FLUSH");
	CMD(r.rc, &res, "SCRIPT", "EXISTS", sc.sha1);
	ck_assert_str_eq(res.elem[0], "0");

	/* NOSCRIPT the first time: sent again as EVAL, unseen. */
	memset(&res, 0, sizeof res);
	ck_assert_int_eq(redis_conn_eval(r.rc, &sc, test_conn_on_result, &res,
	    1, 3, argv, lens), 0);
	ck_assert(RUN_UNTIL(res.done, WAIT_MS));
	ck_assert_int_eq(res.type, REDIS_REPLY_ARRAY);
	ck_assert_int_eq(res.elements, 3);
	ck_assert_str_eq(res.elem[0], "k1");
	ck_assert_str_eq(res.elem[1], "a1");
	ck_assert_str_eq(res.elem[2], "a2");
	CMD(r.rc, &res, "SCRIPT", "EXISTS", sc.sha1);
	ck_assert_str_eq(res.elem[0], "1");

	/* Cached: EVALSHA answers at once. */
	memset(&res, 0, sizeof res);
	ck_assert_int_eq(redis_conn_eval(r.rc, &sc, test_conn_on_result, &res,
	    1, 3, argv, lens), 0);
	ck_assert(RUN_UNTIL(res.done, WAIT_MS));
	ck_assert_str_eq(res.elem[2], "a2");

	/* After SCRIPT FLUSH, several in flight all recover, in order. */
	CMD(r.rc, &res, "SCRIPT", "FLUSH");
	test_conn_result_clock = 0;
	for (i = 0; i < 5; i++) {
		memset(&many[i], 0, sizeof many[i]);
		ck_assert_int_eq(redis_conn_eval(r.rc, &sc, test_conn_on_result,
		    &many[i], 1, 3, argv, lens), 0);
	}
	ck_assert(RUN_UNTIL(many[4].done, WAIT_MS));
	for (i = 0; i < 5; i++) {
		ck_assert(many[i].done);
		ck_assert_int_eq(many[i].order, i + 1);
		ck_assert_str_eq(many[i].elem[0], "k1");
	}

	/* No keys; a script error comes back as an error reply. */
	memset(&res, 0, sizeof res);
	ck_assert_int_eq(redis_conn_eval(r.rc, &counts, test_conn_on_result,
	    &res, 0, 2, argv + 1, lens + 1), 0);
	ck_assert(RUN_UNTIL(res.done, WAIT_MS));
	ck_assert_int_eq(res.elements, 3);
	ck_assert_str_eq(res.elem[0], "0");
	ck_assert_str_eq(res.elem[1], "2");
	ck_assert_str_eq(res.elem[2], "a2");
	memset(&res, 0, sizeof res);
	ck_assert_int_eq(redis_conn_eval(r.rc, &bad, test_conn_on_result, &res,
	    0, 0, NULL, NULL), 0);
	ck_assert(RUN_UNTIL(res.done, WAIT_MS));
	ck_assert_int_eq(res.type, REDIS_REPLY_ERROR);
	ck_assert(!res.null);

	ck_assert_int_eq(redis_conn_eval(r.rc, &sc, test_conn_on_result, &res,
	    4, 3, argv, lens), -1);
	ck_assert_int_eq(redis_conn_eval(r.rc, &sc, test_conn_on_result, &res,
	    -1, 3, argv, lens), -1);
	redis_conn_free(r.rc);
}
END_TEST

/* ---- Losing Redis, and getting it back. ---- */

START_TEST(test_kill_restart)
{
	struct test_redis	 s;
	struct rec		 cmd, sub;
	struct result		 blpop, res;
	char			 url[128];
	int			 before;

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &cmd);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &sub);
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "ch", 2), 0);
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "gone", 4), 0);
	WAIT_UP(&cmd);
	WAIT_UP(&sub);
	ck_assert_int_eq(sub.subscribed, 2);
	/* A command Redis will never answer. */
	ck_assert_int_eq(test_conn_send(cmd.rc, &blpop, "BLPOP", "nolist", "0",
	    ARGS_END), 0);
	test_conn_run_for(50);
	ck_assert(!blpop.done);

	test_redis_kill(&s);
	ck_assert(RUN_UNTIL(blpop.done && cmd.downs == 1 && sub.downs == 1,
	    WAIT_MS));
	ck_assert(blpop.null);
	ck_assert_int_ne(redis_conn_state(cmd.rc), REDIS_UP);
	ck_assert_int_eq(test_conn_send(cmd.rc, &res, "PING", ARGS_END), -1);
	/* Changes to the set while down are remembered. */
	ck_assert_int_eq(redis_conn_unsubscribe(sub.rc, "gone", 4), 0);
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "new", 3), 0);
	test_conn_run_for(600);
	ck_assert_int_eq(cmd.ups, 1);
	ck_assert_int_ge(cmd.downs, 2);		/* refused attempts */
	ck_assert_int_ge(cmd.connectings, 2);

	test_redis_start(&s);
	before = sub.subscribed;
	WAIT_UP(&cmd);
	WAIT_UP(&sub);
	ck_assert_int_eq(cmd.ups, 2);
	ck_assert_int_eq(sub.ups, 2);
	/* Every channel of the set was confirmed before UP. */
	ck_assert_int_eq(sub.subscribed_at_up, before + 2);
	CMD(cmd.rc, &res, "PUBLISH", "ch", "back");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(sub.messages == 1, WAIT_MS));
	ck_assert_str_eq(sub.last_ch, "ch");
	ck_assert_str_eq(sub.last_msg, "back");
	CMD(cmd.rc, &res, "PUBLISH", "gone", "x");
	ck_assert_int_eq(res.integer, 0);
	CMD(cmd.rc, &res, "PUBLISH", "new", "x");
	ck_assert_int_eq(res.integer, 1);
	/* The state sequence: UP, then DOWN/CONNECTING pairs, then UP. */
	ck_assert_int_eq(cmd.states[0], REDIS_UP);
	ck_assert_int_eq(cmd.states[1], REDIS_DOWN);
	ck_assert_int_eq(cmd.states[2], REDIS_CONNECTING);
	ck_assert_int_eq(cmd.states[cmd.nstates - 1], REDIS_UP);
	redis_conn_free(cmd.rc);
	redis_conn_free(sub.rc);
}
END_TEST

START_TEST(test_connect_later)
{
	struct test_redis	 s;
	struct rec		 r;
	struct result		 res;
	char			 url[128];

	test_redis_init(&s, NULL);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &r);
	test_conn_run_for(700);
	ck_assert_int_eq(r.ups, 0);
	ck_assert_int_ge(r.downs, 2);
	ck_assert_int_ge(r.connectings, 1);
	test_redis_start(&s);
	WAIT_UP(&r);
	CMD(r.rc, &res, "PING");
	redis_conn_free(r.rc);
}
END_TEST

START_TEST(test_unix_socket)
{
	struct test_redis	 s;
	struct rec		 r;
	struct result		 res;
	char			 url[200];

	test_redis_init(&s, NULL);
	snprintf(s.sock, sizeof s.sock, "/tmp/check_redis.%d.%d.sock",
	    (int)getpid(), s.port);
	unlink(s.sock);
	snprintf(url, sizeof url, "unix://%s?db=1", s.sock);
	open_conn(url, &r);
	test_conn_run_for(300);	/* no such socket yet: refused at once */
	ck_assert_int_eq(r.ups, 0);
	ck_assert_int_ge(r.downs, 1);
	test_redis_start(&s);
	WAIT_UP(&r);
	CMD(r.rc, &res, "SET", "u", "1");
	CMD(r.rc, &res, "CLIENT", "INFO");
	ck_assert_ptr_nonnull(strstr(res.str, " db=1 "));
	redis_conn_free(r.rc);
	test_redis_kill(&s);
	unlink(s.sock);
}
END_TEST

START_TEST(test_localhost)
{
	struct test_redis	 s;
	struct rec		 r;
	char			 url[128];

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	/* A name: looked up on the thread pool, IPv4 first. */
	snprintf(url, sizeof url, "redis://localhost:%d", s.port);
	open_conn(url, &r);
	WAIT_UP(&r);
	redis_conn_free(r.rc);
	/* Freed with the lookup in flight. */
	open_conn(url, &r);
	uv_run(&test_conn_loop, UV_RUN_NOWAIT);
	redis_conn_free(r.rc);
}
END_TEST

static int	 ticks;

static void
on_tick(uv_timer_t *t)
{
	ticks++;
}

START_TEST(test_connect_timeout)
{
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof sa;
	struct redis_addr	 addr;
	struct rec		 r;
	uv_timer_t		 tick;
	char			 url[128];
	int			 fd, i;

	/* Listens, never accepts, never answers. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", ntohs(sa.sin_port));
	ck_assert_int_eq(redis_url_parse(url, &addr, NULL, 0), 0);
	memset(&r, 0, sizeof r);
	r.free_on = -1;
	r.rc = redis_conn_new(&test_conn_loop, &addr, 200, 50, 100,
	    test_conn_on_state, &r);
	ck_assert_ptr_nonnull(r.rc);
	ticks = 0;
	uv_timer_init(&test_conn_loop, &tick);
	uv_timer_start(&tick, on_tick, 20, 20);
	test_conn_run_for(1500);
	ck_assert_int_eq(r.ups, 0);
	/* Each attempt times out after 200 ms: several cycles. */
	ck_assert_int_ge(r.downs, 3);
	ck_assert_int_ge(r.connectings, 2);
	for (i = 0; i + 1 < r.nstates; i++)
		ck_assert_int_ne(r.states[i], r.states[i + 1]);
	/* The loop stayed responsive. */
	ck_assert_int_ge(ticks, 25);
	uv_close((uv_handle_t *)&tick, NULL);
	redis_conn_free(r.rc);
	test_conn_run_for(10);
	close(fd);
}
END_TEST

/* ---- Freeing from inside callbacks. ---- */

struct freer {
	struct redis_conn	*rc;
	int			 calls;
	int			 nulls;
	bool			 after_free;	/* called after free returned */
	bool			 freed;
};

static void
on_reply_free(struct redis_conn *rc, struct redisReply *reply, void *priv)
{
	struct freer	*f = priv;

	if (f->freed)
		f->after_free = true;
	f->calls++;
	if (reply == NULL)
		f->nulls++;
	if (f->calls == 1) {
		redis_conn_free(rc);
		redis_conn_free(rc);	/* twice is harmless too */
		f->freed = true;
		ck_assert_int_eq(redis_conn_command(rc, on_reply_free, f, 1,
		    (const char *[]){ "PING" }, (size_t[]){ 4 }), -1);
	}
}

static void
on_count(struct redis_conn *rc, struct redisReply *reply, void *priv)
{
	struct freer	*f = priv;

	if (f->freed)
		f->after_free = true;
	f->calls++;
	if (reply == NULL)
		f->nulls++;
}

START_TEST(test_free_in_reply_cb)
{
	struct test_redis	 s;
	struct rec		 r;
	struct freer		 f = { 0 }, g = { 0 };
	const char		*argv[1] = { "PING" };
	size_t			 lens[1] = { 4 };
	char			 url[128];
	int			 i;

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &r);
	WAIT_UP(&r);
	ck_assert_int_eq(redis_conn_command(r.rc, on_reply_free, &f, 1, argv,
	    lens), 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(redis_conn_command(r.rc, on_count, &g, 1,
		    argv, lens), 0);
	ck_assert(RUN_UNTIL(f.calls == 1, WAIT_MS));
	/* The rest failed inside redis_conn_free, and nothing came after. */
	ck_assert_int_eq(f.nulls, 0);
	ck_assert_int_eq(g.calls, 5);
	ck_assert_int_eq(g.nulls, 5);
	test_conn_run_for(100);
	ck_assert_int_eq(g.calls, 5);
	ck_assert_int_eq(r.nstates, 1);		/* no DOWN after free */
}
END_TEST

START_TEST(test_free_in_null_cb)
{
	struct test_redis	 s;
	struct rec		 r;
	struct freer		 f = { 0 }, g = { 0 };
	char			 url[128];

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &r);
	WAIT_UP(&r);
	ck_assert_int_eq(redis_conn_command(r.rc, on_reply_free, &f, 3,
	    (const char *[]){ "BLPOP", "l", "0" }, (size_t[]){ 5, 1, 1 }), 0);
	ck_assert_int_eq(redis_conn_command(r.rc, on_count, &g, 3,
	    (const char *[]){ "BLPOP", "l", "0" }, (size_t[]){ 5, 1, 1 }), 0);
	test_conn_run_for(50);
	test_redis_kill(&s);
	ck_assert(RUN_UNTIL(f.calls == 1, WAIT_MS));
	ck_assert_int_eq(f.nulls, 1);
	ck_assert_int_eq(g.nulls, 1);
	ck_assert(!g.after_free);
	/* DOWN was reported before the requests failed. */
	ck_assert_int_eq(r.downs, 1);
}
END_TEST

START_TEST(test_free_in_state_cb)
{
	struct test_redis	 s;
	struct rec		 up, down, connecting;
	char			 url[128];

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &up);
	up.free_on = REDIS_UP;
	ck_assert(RUN_UNTIL(up.rc == NULL, WAIT_MS));
	test_redis_kill(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &down);
	down.free_on = REDIS_DOWN;
	ck_assert(RUN_UNTIL(down.rc == NULL, WAIT_MS));
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &connecting);
	connecting.free_on = REDIS_CONNECTING;
	ck_assert(RUN_UNTIL(connecting.rc == NULL, WAIT_MS));
	test_conn_run_for(100);
	ck_assert_int_eq(up.nstates, 1);
	ck_assert_int_eq(down.nstates, 1);
	ck_assert_int_eq(connecting.nstates, 2);
}
END_TEST

START_TEST(test_free_with_pending)
{
	struct test_redis	 s;
	struct rec		 r;
	struct freer		 g = { 0 };
	char			 url[128];
	int			 i;

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &r);
	WAIT_UP(&r);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(redis_conn_command(r.rc, on_count, &g, 1,
		    (const char *[]){ "PING" }, (size_t[]){ 4 }), 0);
	redis_conn_free(r.rc);
	ck_assert_int_eq(g.calls, 10);
	ck_assert_int_eq(g.nulls, 10);
	g.freed = true;
	test_conn_run_for(100);
	ck_assert(!g.after_free);
	/* Freed before it ever ran. */
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &r);
	redis_conn_free(r.rc);
	/* Freed mid-attempt. */
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &r);
	uv_run(&test_conn_loop, UV_RUN_NOWAIT);
	redis_conn_free(r.rc);
	ck_assert_int_eq(r.nstates, 0);
}
END_TEST

START_TEST(test_free_in_message_cb)
{
	struct test_redis	 s;
	struct rec		 sub, pub;
	struct result		 res, res2;
	char			 url[128];

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &sub);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &pub);
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "c", 1), 0);
	WAIT_UP(&sub);
	WAIT_UP(&pub);
	sub.free_on_message = true;
	/* Two messages, likely read in one go: the second is dropped. */
	ck_assert_int_eq(test_conn_send(pub.rc, &res, "PUBLISH", "c", "1",
	    ARGS_END), 0);
	CMD(pub.rc, &res2, "PUBLISH", "c", "2");
	ck_assert(RUN_UNTIL(sub.rc == NULL, WAIT_MS));
	test_conn_run_for(100);
	ck_assert_int_eq(sub.messages, 1);
	redis_conn_free(pub.rc);
}
END_TEST

/* At most REDIS_PENDING_MAX commands in flight. */
START_TEST(test_pending_bound)
{
	struct test_redis	 s;
	struct rec		 r;
	struct freer		 g = { 0 };
	char			 url[128];
	int			 i;

	test_redis_init(&s, NULL);
	test_redis_start(&s);
	open_conn(test_conn_url(url, sizeof url, &s, NULL, 0), &r);
	WAIT_UP(&r);
	for (i = 0; i < REDIS_PENDING_MAX; i++)
		REQUIRE(redis_conn_command(r.rc, on_count, &g, 1,
		    (const char *[]){ "PING" }, (size_t[]){ 4 }) == 0,
		    "command %d refused", i);
	ck_assert_int_eq(redis_conn_command(r.rc, on_count, &g, 1,
	    (const char *[]){ "PING" }, (size_t[]){ 4 }), -1);
	ck_assert(RUN_UNTIL(g.calls >= 1, WAIT_MS));
	ck_assert_int_eq(redis_conn_command(r.rc, on_count, &g, 1,
	    (const char *[]){ "PING" }, (size_t[]){ 4 }), 0);
	redis_conn_free(r.rc);
	ck_assert_int_eq(g.calls, REDIS_PENDING_MAX + 1);
	ck_assert_int_gt(g.nulls, 0);
}
END_TEST

/* Builds the suite. */
static Suite *
redis_suite(void)
{
	Suite	*s = suite_create("redis");
	TCase	*tc;

	tc = tcase_create("url");
	tcase_add_test(tc, test_url_valid);
	tcase_add_test(tc, test_url_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("conn");
	tcase_add_checked_fixture(tc, test_conn_setup, teardown);
	tcase_add_test(tc, test_connect_up);
	tcase_add_test(tc, test_set_get);
	tcase_add_test(tc, test_pipeline);
	tcase_add_test(tc, test_auth);
	tcase_add_test(tc, test_auth_wrong);
	tcase_add_test(tc, test_select);
	tcase_add_test(tc, test_eval);
	tcase_add_test(tc, test_connect_later);
	tcase_add_test(tc, test_unix_socket);
	tcase_add_test(tc, test_localhost);
	tcase_add_test(tc, test_connect_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("pubsub");
	tcase_add_checked_fixture(tc, test_conn_setup, teardown);
	tcase_add_test(tc, test_pubsub);
	tcase_add_test(tc, test_pubsub_churn);
	tcase_add_test(tc, test_many_channels);
	tcase_add_test(tc, test_kill_restart);
	suite_add_tcase(s, tc);

	tc = tcase_create("psub");
	tcase_add_checked_fixture(tc, test_conn_setup, teardown);
	tcase_add_test(tc, test_psubscribe);
	tcase_add_test(tc, test_pmessage_channel_bounds);
	tcase_add_test(tc, test_pattern_and_channel);
	tcase_add_test(tc, test_psub_restart);
	tcase_add_test(tc, test_psub_churn);
	tcase_add_test(tc, test_free_in_pmessage_cb);
	suite_add_tcase(s, tc);

	tc = tcase_create("free");
	tcase_add_checked_fixture(tc, test_conn_setup, teardown);
	tcase_add_test(tc, test_free_in_reply_cb);
	tcase_add_test(tc, test_free_in_null_cb);
	tcase_add_test(tc, test_free_in_state_cb);
	tcase_add_test(tc, test_free_with_pending);
	tcase_add_test(tc, test_free_in_message_cb);
	tcase_add_test(tc, test_pending_bound);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if (!test_redis_available()) {
		fprintf(stderr, "check_redis: no %s: skipped\n",
		    TEST_REDIS_BIN);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);	/* the caller's job, says redis.h */
	sr = srunner_create(redis_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
