/*
 * redis-server.h: real redis-server processes for the Check suites, each on
 * a free loopback port, persistence off.
 *
 * A server is started with fork+exec and answers PING before
 * test_redis_start returns.  It is killed with SIGKILL by test_redis_kill or
 * test_redis_kill_all, and dies with the test process anyway
 * (PR_SET_PDEATHSIG).  Failures are Check failures (ck_assert and friends),
 * so these are called from tests and checked fixtures.
 */
#ifndef CHATRELAY_TEST_REDIS_SERVER_H
#define CHATRELAY_TEST_REDIS_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#define TEST_REDIS_BIN "redis-server"

struct test_redis {
	pid_t	 pid;		/* the running server, or 0 */
	int	 port;		/* loopback TCP port, kept across restarts */
	char	 pass[64];	/* --requirepass, or "" */
	char	 sock[108];	/* --unixsocket too, or "": set before start */
};

/* Returns true if redis-server can be run. */
bool test_redis_available(void);

/* Sets s up for a server on a free port with password pass (NULL: none), not started. */
void test_redis_init(struct test_redis *s, const char *pass);

/* Starts redis-server as s says (again on the same port after a kill) and waits until it answers. */
void test_redis_start(struct test_redis *s);

/* Kills s's server with SIGKILL and reaps it; nothing if it is not running. */
void test_redis_kill(struct test_redis *s);

/* Kills every server started and not yet killed, as a teardown does. */
void test_redis_kill_all(void);

#endif
