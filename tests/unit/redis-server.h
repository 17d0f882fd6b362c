/*
 * redis-server.h: real redis-server processes for the Check suites, each on
 * a free loopback port, persistence off: servers, replicas, and sentinels
 * (each with its own configuration file in its own temporary directory,
 * never the system's).
 *
 * A server or sentinel is started with fork+exec and answers PING before
 * its start function returns.  It is killed with SIGKILL by test_redis_kill or
 * test_redis_kill_all (sentinels too), and dies with the test process anyway
 * (PR_SET_PDEATHSIG).  Failures are Check failures (ck_assert and friends),
 * so these are called from tests and checked fixtures.
 */
#ifndef CHATRELAY_TEST_REDIS_SERVER_H
#define CHATRELAY_TEST_REDIS_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#define TEST_REDIS_BIN "redis-server"
#define TEST_SENTINEL_BIN "redis-sentinel"

struct test_redis {
	pid_t	 pid;		/* the running server, or 0 */
	int	 port;		/* loopback TCP port, kept across restarts */
	char	 pass[64];	/* --requirepass (and --masterauth), or "" */
	char	 sock[108];	/* --unixsocket too, or "": set before start */
	int	 replicaof;	/* --replicaof 127.0.0.1 PORT, or 0: set before start */
};

/* A sentinel monitoring one master, with its own configuration file. */
struct test_sentinel {
	pid_t	 pid;		/* the running sentinel, or 0 */
	int	 port;		/* loopback TCP port, kept across restarts */
	char	 dir[64];	/* its temporary directory, or "" */
	char	 conf[96];	/* dir/sentinel.conf, written at every start */
	char	 master[64];	/* the name it monitors the master under */
	int	 master_port;
	int	 quorum;
	char	 pass[64];	/* the master's password (auth-pass), or "" */
};

/* Returns a loopback TCP port that nothing listens on just now. */
int test_redis_free_port(void);

/* Returns true if redis-server can be run. */
bool test_redis_available(void);

/* Sets s up for a server on a free port with password pass (NULL: none), not started. */
void test_redis_init(struct test_redis *s, const char *pass);

/* Starts redis-server as s says (again on the same port after a kill) and waits until it answers. */
void test_redis_start(struct test_redis *s);

/* Kills s's server with SIGKILL and reaps it; nothing if it is not running. */
void test_redis_kill(struct test_redis *s);

/* Kills every server and sentinel started and not yet killed, as a teardown does. */
void test_redis_kill_all(void);

/* Waits up to ms for replica s to have synced with its master.  Returns true if it did. */
bool test_redis_wait_synced(const struct test_redis *s, int ms);

/* Returns true if redis-sentinel can be run. */
bool test_sentinel_available(void);

/*
 * Sets s up, not started, on a free port and in a new temporary directory:
 * it will monitor m (on 127.0.0.1, with m's password) as master, agreeing
 * it is down with quorum sentinels, after 1 s without an answer.
 */
void test_sentinel_init(struct test_sentinel *s, const char *master,
    const struct test_redis *m, int quorum);

/* Writes s's configuration afresh, starts it (again on the same port) and waits until it answers. */
void test_sentinel_start(struct test_sentinel *s);

/*
 * Waits up to ms for s to know at least sentinels other sentinels and
 * replicas replicas of its master.  Returns true if it came to.
 */
bool test_sentinel_wait(const struct test_sentinel *s, int sentinels,
    int replicas, int ms);

/* Kills s's sentinel with SIGKILL and reaps it; nothing if it is not running. */
void test_sentinel_kill(struct test_sentinel *s);

/* Kills s and removes its directory. */
void test_sentinel_cleanup(struct test_sentinel *s);

#endif
