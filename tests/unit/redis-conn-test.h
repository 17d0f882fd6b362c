/*
 * redis-conn-test.h: what check_redis and check_sentinel share to drive a
 * redis_conn (redis.c) from a Check test: one libuv loop run until a
 * condition holds or a deadline passes (so a hang fails the test instead of
 * stalling it), a recorder of the states, confirmations and messages a
 * connection reports, and commands sent with their replies kept.
 *
 * A checked fixture calls test_conn_setup and test_conn_teardown around each
 * test.  Failures are Check failures (ck_assert and friends), so all of this
 * is called from tests and checked fixtures.
 */
#ifndef CHATRELAY_TEST_REDIS_CONN_TEST_H
#define CHATRELAY_TEST_REDIS_CONN_TEST_H

#include <stdbool.h>
#include <stddef.h>

#include <check.h>
#include <uv.h>

#include "redis.h"

struct test_redis;

#define WAIT_MS 10000		/* bound on things expected to happen */

/* ---- The loop, and running it until something happens. ---- */

extern uv_loop_t	 test_conn_loop;	/* the tests' loop */
extern bool		 test_conn_expired;	/* the deadline passed */

/* Runs the loop until cond holds or ms pass; is cond's final value. */
#define RUN_UNTIL(cond, ms) __extension__ ({				\
	test_conn_deadline_start(ms);					\
	while (!(cond) && !test_conn_expired)				\
		uv_run(&test_conn_loop, UV_RUN_ONCE);			\
	test_conn_deadline_stop();					\
	(cond) ? true : false;						\
})

/* Sets the log level (LOG_DEBUG with CHECK_REDIS_LOG set, else LOG_ERR) and opens the loop with its deadline timer. */
void test_conn_setup(void);

/* Closes the deadline timer, lets every handle close, and requires a clean loop. */
void test_conn_teardown(void);

/* Clears test_conn_expired and arms the deadline to set it in ms. */
void test_conn_deadline_start(int ms);

/* Disarms the deadline. */
void test_conn_deadline_stop(void);

/* Runs the loop for ms. */
void test_conn_run_for(int ms);

/* Returns milliseconds on a clock that only goes forward. */
long long test_conn_now_ms(void);

/* ---- Recording what a connection reports. ---- */

struct rec {
	struct redis_conn	*rc;
	enum redis_state	 states[256];
	int			 nstates;
	int			 ups, downs, connectings;
	int			 free_on;	/* free rc on this state, or -1 */
	int			 subscribed;	/* subscribed_cb calls */
	int			 subscribed_at_up;
	char			 last_sub[64];
	int			 messages;
	char			 last_ch[64];
	char			 last_msg[64];	/* cut to 63 bytes, then a NUL */
	size_t			 last_msglen;
	bool			 free_on_message;	/* on a pmessage too */
	int			 pmessages;	/* pmessage_cb calls */
	char			 last_pat[64];
	char			 last_pch[64];	/* cut like last_msg */
	size_t			 last_pchlen;
	char			 last_pmsg[64];	/* cut like last_msg */
	size_t			 last_pmsglen;
};

/* The state callback recording into the struct rec arg (and freeing rc on its free_on state). */
void test_conn_on_state(struct redis_conn *rc, enum redis_state st, void *arg);

/* The subscribed callback counting confirmations into the struct rec arg. */
void test_conn_on_subscribed(struct redis_conn *rc, const char *ch,
    size_t len, void *arg);

/* The message callback recording into the struct rec arg (and freeing rc if free_on_message). */
void test_conn_on_message(struct redis_conn *rc, const char *ch, size_t chlen,
    const char *msg, size_t msglen, void *arg);

/* The pmessage callback recording into the struct rec arg (and freeing rc if free_on_message). */
void test_conn_on_pmessage(struct redis_conn *rc, const char *pat,
    size_t plen, const char *ch, size_t chlen, const char *msg,
    size_t msglen, void *arg);

/* Opens a connection to addr on the loop recording into r (backoff 50-400 ms); returns r->rc. */
struct redis_conn *test_conn_open(const struct redis_addr *addr,
    int timeout_ms, struct rec *r);

/* Writes redis://[:pass@]127.0.0.1:port/db for s into buf and returns buf. */
const char *test_conn_url(char *buf, size_t len, const struct test_redis *s,
    const char *pass, int db);

/* Runs the loop until r's connection is UP. */
#define WAIT_UP(r) ck_assert_msg(RUN_UNTIL(				\
	(r)->rc != NULL && redis_conn_state((r)->rc) == REDIS_UP, WAIT_MS), \
	"connection did not come up")

/* ---- Commands and their replies. ---- */

struct result {
	bool		 done;
	bool		 null;		/* the connection went away */
	int		 type;
	long long	 integer;
	char		 str[512];	/* cut to 511 bytes, then a NUL */
	size_t		 len;
	size_t		 elements;
	char		 elem[4][64];
	int		 order;		/* when it came, among all results */
};

extern int	 test_conn_result_clock;	/* the last result's order */

/* The reply callback recording into the struct result priv, which must not have one yet. */
void test_conn_on_result(struct redis_conn *rc, struct redisReply *reply,
    void *priv);

/* Ends test_conn_send's argument list (a plain NULL may not be a pointer). */
#define ARGS_END ((const char *)NULL)

/* Sends the ARGS_END-terminated C-string arguments (at most 16), the reply to res; returns redis_conn_command's value. */
int test_conn_send(struct redis_conn *rc, struct result *res, ...);

/* Sends a command and runs the loop until its reply, which must come. */
#define CMD(rc, res, ...) do {						\
	ck_assert_int_eq(test_conn_send((rc), (res), __VA_ARGS__,	\
	    ARGS_END), 0);						\
	ck_assert(RUN_UNTIL((res)->done, WAIT_MS));			\
	ck_assert(!(res)->null);					\
} while (0)

#endif
