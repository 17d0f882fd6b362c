/*
 * check_sentinel.c: unit tests for a Redis connection through Sentinel
 * (redis-sentinel.c, and the address in redis-url.c), against real
 * redis-server and redis-sentinel processes on free loopback ports.
 *
 * Each sentinel runs with its own configuration file in its own temporary
 * directory (redis-server.c), never a system one.  Each test runs its own
 * libuv loop until a condition holds or a deadline passes.  Without
 * redis-server or redis-sentinel only the parsing tests run, and the suite
 * reports itself skipped (exit 77).
 */
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include "log.h"
#include "redis.h"
#include "redis-conn-test.h"
#include "redis-server.h"

#define FAILOVER_MS 20000	/* bound on a failover, kill to UP */
#define NAME "mymaster"
#define PASS "pw-TOPSECRET"

/* ---- The processes, and what the relay logs. ---- */

static struct test_redis	 master, replica, other;
static struct test_sentinel	 sentinels[3];

static char	 log_path[64];
static int	 log_fd = -1;		/* the file stderr goes to, or -1 */
static int	 saved_stderr = -1;

/* Sends stderr, so the relay's log, to a temporary file, at level. */
static void
log_capture(int level)
{
	fflush(stderr);
	snprintf(log_path, sizeof log_path, "%s/log.XXXXXX", getenv("TMPDIR"));
	log_fd = mkstemp(log_path);
	ck_assert_int_ge(log_fd, 0);
	saved_stderr = dup(2);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_eq(dup2(log_fd, 2), 2);
	log_set_level(level);
}

/* Returns what was logged since log_capture (a static buffer). */
static const char *
log_text(void)
{
	static char	 buf[1 << 16];
	ssize_t		 n;

	ck_assert_int_ge(log_fd, 0);
	n = pread(log_fd, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Returns how many times needle occurs in text. */
static int
count(const char *text, const char *needle)
{
	int	 n = 0;

	while ((text = strstr(text, needle)) != NULL) {
		n++;
		text += strlen(needle);
	}
	return n;
}

/* Puts stderr back, if it was captured. */
static void
log_restore(void)
{
	if (log_fd < 0)
		return;
	fflush(stderr);
	(void)dup2(saved_stderr, 2);
	close(saved_stderr);
	close(log_fd);
	unlink(log_path);
	log_fd = saved_stderr = -1;
}

static void
setup(void)
{
	memset(&master, 0, sizeof master);
	memset(&replica, 0, sizeof replica);
	memset(&other, 0, sizeof other);
	memset(sentinels, 0, sizeof sentinels);
	test_conn_setup();
}

/* Kills what is left, lets every handle close, and requires a clean loop. */
static void
teardown(void)
{
	int	 i;

	log_restore();
	test_redis_kill_all();
	for (i = 0; i < 3; i++)
		test_sentinel_cleanup(&sentinels[i]);
	test_conn_teardown();
}

/*
 * Starts master (with pass, NULL for none), a replica of it if asked, and n
 * sentinels monitoring it with quorum 2; with wait, until they know each
 * other and the replica.
 */
static void
start_cluster(const char *pass, bool with_replica, int n, bool wait)
{
	int	 i;

	test_redis_init(&master, pass);
	test_redis_start(&master);
	if (with_replica) {
		test_redis_init(&replica, pass);
		replica.replicaof = master.port;
		test_redis_start(&replica);
		ck_assert_msg(test_redis_wait_synced(&replica, WAIT_MS),
		    "the replica did not sync");
	}
	for (i = 0; i < n; i++) {
		test_sentinel_init(&sentinels[i], NAME, &master, 2);
		test_sentinel_start(&sentinels[i]);
	}
	for (i = 0; wait && i < n; i++)
		ck_assert_msg(test_sentinel_wait(&sentinels[i], n - 1,
		    with_replica ? 1 : 0, 15000), "sentinel %d did not learn "
		    "the others", i);
}

/* Writes "127.0.0.1:P,..." for the first n sentinels, after dead (a port nothing listens on) if not 0. */
static const char *
sentinel_list(char *buf, size_t len, int n, int dead)
{
	size_t	 used = 0;
	int	 i;

	buf[0] = '\0';
	if (dead != 0)
		used += (size_t)snprintf(buf, len, "127.0.0.1:%d", dead);
	for (i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s127.0.0.1:%d",
		    used > 0 ? "," : "", sentinels[i].port);
	return buf;
}

/* ---- Connections, and what they report. ---- */

/* Opens a connection through sentinels to NAME (timeout 1 s, backoff 50-400 ms). */
static struct redis_conn *
open_conn(const char *list, const char *auth, struct rec *r)
{
	struct redis_addr	 addr;
	char			 err[128];

	ck_assert_msg(redis_sentinel_parse(list, NAME, auth, &addr, err,
	    sizeof err) == 0, "%s", err);
	return test_conn_open(&addr, 1000, r);
}

/* Sends command (printf-style) to the server on port with a plain blocking connection; returns true if it was not an error. */
static bool
side_command(int port, const char *pass, const char *cmd)
{
	struct timeval	 tv = { 2, 0 };
	redisContext	*c = redisConnectWithTimeout("127.0.0.1", port, tv);
	redisReply	*r;
	bool		 ok;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->err, 0);
	if (pass != NULL) {
		r = redisCommand(c, "AUTH %s", pass);
		ck_assert_ptr_nonnull(r);
		freeReplyObject(r);
	}
	r = redisCommand(c, cmd);
	ok = r != NULL && r->type != REDIS_REPLY_ERROR;
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return ok;
}

/* Requires that the server rc is on listens on port, and calls itself master. */
static void
require_on(struct redis_conn *rc, int port)
{
	struct result	 res;
	char		 want[16];

	snprintf(want, sizeof want, "%d", port);
	CMD(rc, &res, "CONFIG", "GET", "port");
	ck_assert_str_eq(res.elem[1], want);
	CMD(rc, &res, "ROLE");
	ck_assert_str_eq(res.elem[0], "master");
}

/* ---- Parsing. ---- */

START_TEST(test_parse)
{
	struct redis_addr	 a;
	char			 err[128], d[300];

	ck_assert_int_eq(redis_sentinel_parse("127.0.0.1:26380", "mymaster",
	    NULL, &a, err, sizeof err), 0);
	ck_assert_int_eq(a.nsentinels, 1);
	ck_assert_str_eq(a.sentinels[0].host, "127.0.0.1");
	ck_assert_int_eq(a.sentinels[0].port, 26380);
	ck_assert_str_eq(a.master, "mymaster");
	ck_assert_str_eq(a.host, "");
	ck_assert_str_eq(a.password, "");
	ck_assert_int_eq(a.db, 0);
	redis_addr_describe(&a, d, sizeof d);
	ck_assert_str_eq(d, "master mymaster via sentinel 127.0.0.1:26380");

	/* Spaces around entries, the default port, IPv6, credentials. */
	ck_assert_int_eq(redis_sentinel_parse(" 10.0.0.1:26380 , sentinel-b,"
	    "[::1]:5000 ", "chat.1", "password=s%40TOPSECRET&db=3&user=app",
	    &a, err, sizeof err), 0);
	ck_assert_int_eq(a.nsentinels, 3);
	ck_assert_str_eq(a.sentinels[1].host, "sentinel-b");
	ck_assert_int_eq(a.sentinels[1].port, REDIS_SENTINEL_PORT);
	ck_assert_str_eq(a.sentinels[2].host, "::1");
	ck_assert_int_eq(a.sentinels[2].port, 5000);
	ck_assert_str_eq(a.password, "s@TOPSECRET");
	ck_assert_str_eq(a.username, "app");
	ck_assert_int_eq(a.db, 3);
	redis_addr_describe(&a, d, sizeof d);
	ck_assert_str_eq(d, "master chat.1 via sentinels 10.0.0.1:26380,"
	    "sentinel-b:26379,[::1]:5000/3");
	/* Cut to fit, never overrun. */
	redis_addr_describe(&a, d, 20);
	ck_assert_str_eq(d, "master chat.1 via s");

	/* The relay's four directives, as the bus turns them into an address. */
	ck_assert_int_eq(redis_addr_parse("", "h:1", NAME, "db=4", &a, err,
	    sizeof err), 0);
	ck_assert_str_eq(a.master, NAME);
	ck_assert_int_eq(a.db, 4);
	ck_assert_int_eq(redis_addr_parse("redis://h:7/1", "", NAME, "", &a,
	    err, sizeof err), 0);
	ck_assert_str_eq(a.host, "h");
	ck_assert_str_eq(a.master, "");
	ck_assert_int_eq(redis_addr_parse("redis://h", "h:1", NAME, NULL, &a,
	    err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "mutually exclusive"));
	ck_assert_int_eq(redis_addr_parse("redis://h", NULL, NAME,
	    "password=TOPSECRET", &a, err, sizeof err), -1);
	ck_assert_ptr_null(strstr(err, "TOP"));
	ck_assert_str_eq(a.password, "");
	ck_assert_int_eq(redis_addr_parse("", "", NAME, "", &a, err,
	    sizeof err), -1);

	/* user= is accepted in a redis:// URL's query too. */
	ck_assert_int_eq(redis_url_parse("redis://h?user=app&password=x", &a,
	    err, sizeof err), 0);
	ck_assert_str_eq(a.username, "app");
	ck_assert_str_eq(a.password, "x");
	ck_assert_str_eq(a.master, "");
}
END_TEST

START_TEST(test_parse_invalid)
{
	static const struct {
		const char	*list, *master, *auth;
	} bad[] = {
		{ "", NAME, NULL }, { ",", NAME, NULL }, { "h:0", NAME, NULL },
		{ "h:65536", NAME, NULL }, { "h:x", NAME, NULL },
		{ "a b:1", NAME, NULL }, { "h1:1,,h2:2", NAME, NULL },
		{ "h1:1,", NAME, NULL }, { "[::1", NAME, NULL },
		{ "redis://h:1", NAME, NULL }, { "h:1", "", NULL },
		{ "h:1", "my master", NULL }, { "h:1", "a\tb", NULL },
		{ "h:1", NAME, "password" },
		{ "h:1", NAME, "foo=TOPSECRET" },
		{ "h:1", NAME, "password=TOPSECRET&db=x" },
		{ "h:1", NAME, "password=TOP%00SECRET" },
		{ "h:1", NAME, "password=TOPSECRET&db=-1" },
	};
	struct redis_addr	 a;
	uv_loop_t		 l;
	char			 err[128], list[1200];
	size_t			 i;
	int			 n;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		memset(&a, 0x5a, sizeof a);
		ck_assert_msg(redis_sentinel_parse(bad[i].list, bad[i].master,
		    bad[i].auth, &a, err, sizeof err) == -1, "accepted %s %s",
		    bad[i].list, bad[i].master);
		ck_assert_msg(err[0] != '\0', "no reason for %zu", i);
		ck_assert_msg(strstr(err, "TOP") == NULL, "leaks: %s", err);
		ck_assert_str_eq(a.password, "");
		ck_assert_int_eq(a.nsentinels, 0);
	}
	ck_assert_int_eq(redis_sentinel_parse(NULL, NAME, NULL, &a, err,
	    sizeof err), -1);
	ck_assert_int_eq(redis_sentinel_parse("h:1", NULL, NULL, &a, NULL, 0),
	    -1);
	/* At most REDIS_SENTINELS_MAX. */
	for (n = 0, list[0] = '\0'; n <= REDIS_SENTINELS_MAX; n++)
		snprintf(list + strlen(list), sizeof list - strlen(list),
		    "%sh%d:1", n > 0 ? "," : "", n);
	ck_assert_int_eq(redis_sentinel_parse(list, NAME, NULL, &a, err,
	    sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "more than 16"));
	*strrchr(list, ',') = '\0';
	ck_assert_int_eq(redis_sentinel_parse(list, NAME, NULL, &a, err,
	    sizeof err), 0);
	ck_assert_int_eq(a.nsentinels, REDIS_SENTINELS_MAX);

	/* Half-made addresses are refused by redis_conn_new. */
	ck_assert_int_eq(uv_loop_init(&l), 0);
	ck_assert_int_eq(redis_sentinel_parse("h:1", NAME, NULL, &a, err,
	    sizeof err), 0);
	a.nsentinels = 0;
	ck_assert_ptr_null(redis_conn_new(&l, &a, 1000, 50, 400, NULL, NULL));
	a.nsentinels = REDIS_SENTINELS_MAX + 1;
	ck_assert_ptr_null(redis_conn_new(&l, &a, 1000, 50, 400, NULL, NULL));
	a.nsentinels = 1;
	a.sentinels[0].port = 0;
	ck_assert_ptr_null(redis_conn_new(&l, &a, 1000, 50, 400, NULL, NULL));
	a.sentinels[0].port = 1;
	snprintf(a.unix_path, sizeof a.unix_path, "/tmp/r.sock");
	ck_assert_ptr_null(redis_conn_new(&l, &a, 1000, 50, 400, NULL, NULL));
	ck_assert_int_eq(uv_loop_close(&l), 0);
}
END_TEST

/* ---- Connecting through sentinels. ---- */

START_TEST(test_reach_master)
{
	struct rec	 cmd, sub;
	struct result	 res;
	char		 list[256], want[128];
	const char	*text;

	start_cluster(PASS, false, 3, false);
	log_capture(LOG_INFO);
	/* The first one listed is not there: skipped. */
	sentinel_list(list, sizeof list, 3, test_redis_free_port());
	open_conn(list, "password=" PASS "&db=2", &cmd);
	open_conn(list, "password=" PASS "&db=2", &sub);
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "ch", 2), 0);
	ck_assert_int_eq(redis_conn_state(cmd.rc), REDIS_CONNECTING);
	WAIT_UP(&cmd);
	WAIT_UP(&sub);
	/* Straight to UP: the sentinels asked and the watcher are unseen. */
	ck_assert_int_eq(cmd.nstates, 1);
	ck_assert_int_eq(cmd.states[0], REDIS_UP);
	require_on(cmd.rc, master.port);
	CMD(cmd.rc, &res, "SET", "greeting", "hello");
	ck_assert_str_eq(res.str, "OK");
	CMD(cmd.rc, &res, "GET", "greeting");
	ck_assert_str_eq(res.str, "hello");
	CMD(cmd.rc, &res, "CLIENT", "INFO");
	ck_assert_ptr_nonnull(strstr(res.str, " db=2 "));
	CMD(cmd.rc, &res, "PUBLISH", "ch", "hi");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(sub.messages == 1, WAIT_MS));
	ck_assert_str_eq(sub.last_msg, "hi");
	test_conn_run_for(200);
	ck_assert_int_eq(cmd.nstates, 1);
	ck_assert_int_eq(sub.nstates, 1);

	text = log_text();
	snprintf(want, sizeof want, "redis: connected to master " NAME
	    " at 127.0.0.1:%d/2", master.port);
	ck_assert_msg(strstr(text, want) != NULL, "log: %s", text);
	ck_assert_msg(strstr(text, "TOPSECRET") == NULL, "log: %s", text);
	redis_conn_free(cmd.rc);
	redis_conn_free(sub.rc);
}
END_TEST

START_TEST(test_not_master)
{
	struct rec	 r;
	struct result	 res;
	char		 list[256], cmd[64];
	const char	*text;

	/* One sentinel and quorum 2: it never fails over by itself. */
	start_cluster(NULL, false, 1, false);
	test_redis_init(&other, NULL);
	test_redis_start(&other);
	log_capture(LOG_DEBUG);
	open_conn(sentinel_list(list, sizeof list, 1, 0), NULL, &r);
	WAIT_UP(&r);
	CMD(r.rc, &res, "SET", "k", "1");

	/* The master turns into a replica: its first write fails, then DOWN. */
	snprintf(cmd, sizeof cmd, "REPLICAOF 127.0.0.1 %d", other.port);
	ck_assert(side_command(master.port, NULL, cmd));
	ck_assert_int_eq(test_conn_send(r.rc, &res, "SET", "k", "2", ARGS_END),
	    0);
	ck_assert(RUN_UNTIL(res.done && r.downs == 1, WAIT_MS));
	ck_assert(res.null || (res.type == REDIS_REPLY_ERROR &&
	    strncmp(res.str, "READONLY", 8) == 0));
	ck_assert_int_eq(test_conn_send(r.rc, &res, "PING", ARGS_END), -1);
	/* The sentinel still names it, and ROLE refuses it, again and again. */
	test_conn_run_for(1500);
	ck_assert_int_eq(r.ups, 1);
	ck_assert_int_ge(r.downs, 3);

	ck_assert(side_command(master.port, NULL, "REPLICAOF NO ONE"));
	WAIT_UP(&r);
	ck_assert_int_eq(r.ups, 2);
	CMD(r.rc, &res, "SET", "k", "3");
	ck_assert_str_eq(res.str, "OK");
	text = log_text();
	ck_assert_msg(strstr(text, "the master became a replica (READONLY)") !=
	    NULL || res.null, "log: %s", text);
	ck_assert_msg(strstr(text, "not the master: ROLE says slave") != NULL,
	    "log: %s", text);
	redis_conn_free(r.rc);
}
END_TEST

START_TEST(test_sentinels_down_at_start)
{
	struct rec	 r;
	struct result	 res;
	char		 list[256];
	const char	*text;
	int		 i;

	test_redis_init(&master, PASS);
	test_redis_start(&master);
	for (i = 0; i < 3; i++)
		test_sentinel_init(&sentinels[i], NAME, &master, 2);
	log_capture(LOG_INFO);
	open_conn(sentinel_list(list, sizeof list, 3, 0), "password=" PASS,
	    &r);
	test_conn_run_for(1500);
	ck_assert_int_eq(r.ups, 0);
	/* Retrying, with back-off (50 ms doubling to 400 ms), not spinning. */
	ck_assert_int_ge(r.downs, 3);
	ck_assert_int_le(r.downs, 12);
	ck_assert_int_ge(r.connectings, 3);
	ck_assert_int_ne(redis_conn_state(r.rc), REDIS_UP);

	test_sentinel_start(&sentinels[1]);
	WAIT_UP(&r);
	require_on(r.rc, master.port);
	CMD(r.rc, &res, "PING");
	ck_assert_str_eq(res.str, "PONG");
	text = log_text();
	ck_assert_msg(strstr(text, "redis: cannot connect to master " NAME
	    " (no sentinel answered; the last, 127.0.0.1:") != NULL,
	    "log: %s", text);
	ck_assert_int_eq(count(text, "cannot connect to master"), 1);
	ck_assert_msg(strstr(text, "cannot connect to sentinel 127.0.0.1:") !=
	    NULL, "log: %s", text);
	ck_assert_msg(strstr(text, "redis: connected to master " NAME " at") !=
	    NULL, "log: %s", text);
	ck_assert_msg(strstr(text, "TOPSECRET") == NULL, "log: %s", text);
	redis_conn_free(r.rc);
}
END_TEST

/* ---- Failover. ---- */

START_TEST(test_failover)
{
	struct rec	 cmd, sub;
	struct result	 res;
	char		 list[256], want[128];
	const char	*text;
	long long	 t0, t1;

	start_cluster(PASS, true, 3, true);
	log_capture(LOG_INFO);
	open_conn(sentinel_list(list, sizeof list, 3, 0), "password=" PASS,
	    &cmd);
	open_conn(list, "password=" PASS, &sub);
	ck_assert_int_eq(redis_conn_subscribe(sub.rc, "ch", 2), 0);
	WAIT_UP(&cmd);
	WAIT_UP(&sub);
	require_on(cmd.rc, master.port);
	CMD(cmd.rc, &res, "SET", "before", "1");
	CMD(cmd.rc, &res, "WAIT", "1", "2000");
	ck_assert_int_eq(res.integer, 1);

	t0 = test_conn_now_ms();
	test_redis_kill(&master);
	ck_assert(RUN_UNTIL(cmd.downs >= 1 && sub.downs >= 1, WAIT_MS));
	ck_assert_msg(RUN_UNTIL(redis_conn_state(cmd.rc) == REDIS_UP &&
	    redis_conn_state(sub.rc) == REDIS_UP, FAILOVER_MS),
	    "no failover within %d ms", FAILOVER_MS);
	t1 = test_conn_now_ms();
	require_on(cmd.rc, replica.port);
	CMD(cmd.rc, &res, "GET", "before");
	ck_assert_str_eq(res.str, "1");
	CMD(cmd.rc, &res, "SET", "after", "1");
	ck_assert_str_eq(res.str, "OK");
	CMD(cmd.rc, &res, "PUBLISH", "ch", "moved");
	ck_assert_int_eq(res.integer, 1);
	ck_assert(RUN_UNTIL(sub.messages == 1, WAIT_MS));
	ck_assert_int_eq(cmd.ups, 2);
	ck_assert_int_eq(cmd.states[0], REDIS_UP);
	ck_assert_int_eq(cmd.states[1], REDIS_DOWN);
	ck_assert_int_eq(cmd.states[cmd.nstates - 1], REDIS_UP);

	/* One line for the failover, for both connections; no password. */
	text = log_text();
	snprintf(want, sizeof want, "redis: master " NAME " moved to "
	    "127.0.0.1:%d (sentinel 127.0.0.1:", replica.port);
	ck_assert_msg(count(text, want) == 1, "log: %s", text);
	ck_assert_int_eq(count(text, " moved to "), 1);
	ck_assert_msg(strstr(text, "TOPSECRET") == NULL, "log: %s", text);
	log_restore();
	fputs(text, stdout);
	printf("check_sentinel: failover: SIGKILL to UP on the replica in "
	    "%lld ms (%d states on the command connection)\n", t1 - t0,
	    cmd.nstates);
	fflush(stdout);
	redis_conn_free(cmd.rc);
	redis_conn_free(sub.rc);
}
END_TEST

/* ---- Freeing. ---- */

START_TEST(test_free)
{
	struct rec	 r;
	struct result	 res;
	char		 list[256];

	start_cluster(NULL, false, 1, false);
	sentinel_list(list, sizeof list, 1, 0);
	/* Before it ran; while asking; on UP; with a command in flight. */
	open_conn(list, NULL, &r);
	redis_conn_free(r.rc);
	open_conn(list, NULL, &r);
	uv_run(&test_conn_loop, UV_RUN_NOWAIT);
	redis_conn_free(r.rc);
	open_conn(list, NULL, &r);
	r.free_on = REDIS_UP;
	ck_assert(RUN_UNTIL(r.rc == NULL, WAIT_MS));
	open_conn(list, NULL, &r);
	WAIT_UP(&r);
	ck_assert_int_eq(test_conn_send(r.rc, &res, "BLPOP", "l", "0",
	    ARGS_END), 0);
	test_conn_run_for(50);
	redis_conn_free(r.rc);
	ck_assert(res.done && res.null);
	/* On DOWN, once the sentinel is gone too. */
	open_conn(list, NULL, &r);
	WAIT_UP(&r);
	r.free_on = REDIS_DOWN;
	test_sentinel_kill(&sentinels[0]);
	test_redis_kill(&master);
	ck_assert(RUN_UNTIL(r.rc == NULL, WAIT_MS));
	test_conn_run_for(100);
}
END_TEST

/* Builds the suite: only the parsing tests when servers is false. */
static Suite *
sentinel_suite(bool servers)
{
	Suite	*s = suite_create("sentinel");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_invalid);
	suite_add_tcase(s, tc);
	if (!servers)
		return s;

	tc = tcase_create("conn");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reach_master);
	tcase_add_test(tc, test_not_master);
	tcase_add_test(tc, test_sentinels_down_at_start);
	tcase_add_test(tc, test_free);
	suite_add_tcase(s, tc);

	tc = tcase_create("failover");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_failover);
	suite_add_tcase(s, tc);
	return s;
}

/* nftw's callback: removes one file or (emptied) directory. */
static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	(void)remove(path);
	return 0;
}

int
main(void)
{
	SRunner		*sr;
	const char	*tmp = getenv("TMPDIR");
	char		 base[40];
	bool		 servers;
	int		 failed;

	/*
	 * Everything the tests write (sentinel files, captured logs) goes
	 * under one directory, removed at the end even if a test failed
	 * before its teardown.
	 */
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 12)
		tmp = "/tmp";
	snprintf(base, sizeof base, "%s/check_sentinel.XXXXXX", tmp);
	if (mkdtemp(base) == NULL || setenv("TMPDIR", base, 1) != 0) {
		perror("check_sentinel: temporary directory");
		return EXIT_FAILURE;
	}

	servers = test_redis_available() && test_sentinel_available();
	if (!servers)
		fprintf(stderr, "check_sentinel: no %s or %s: only the parsing "
		    "tests run\n", TEST_REDIS_BIN, TEST_SENTINEL_BIN);
	signal(SIGPIPE, SIG_IGN);	/* the caller's job, says redis.h */
	sr = srunner_create(sentinel_suite(servers));
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	(void)nftw(base, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	if (failed != 0)
		return EXIT_FAILURE;
	return servers ? EXIT_SUCCESS : 77;
}
