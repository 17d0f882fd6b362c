/*
 * redis.h: one hiredis asynchronous connection on a libuv loop, kept up.
 *
 * A connection connects in the background, answers AUTH, SELECT and PING
 * before it calls itself up, and reconnects for ever with backoff when it
 * fails or is lost.  Its address is either Redis itself, or Sentinels to
 * ask where a master is: then every attempt asks them first, checks with
 * ROLE that it reached the master, and a failover they announce, or a
 * master that turned into a replica, counts as a lost connection (see
 * redis_sentinel_parse).  It carries either commands and scripts, or
 * subscriptions, never both.  Not thread-safe: a connection belongs to the
 * thread that runs its loop.  Callbacks are never called from inside a
 * function of this module that the caller called, except redis_conn_free
 * (which fails pending commands) and the ones said to below.
 */
#ifndef CHATRELAY_REDIS_H
#define CHATRELAY_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct redisReply;

#define REDIS_URL_MAX 1024		/* longest URL accepted */
#define REDIS_CHANNEL_MAX 256		/* longest channel name or pattern, bytes */
#define REDIS_SUBS_MAX (1 << 20)	/* channels and patterns one connection remembers */
#define REDIS_PENDING_MAX (1 << 16)	/* commands in flight, per connection */
#define REDIS_ARGC_MAX 4096		/* arguments of one command */
#define REDIS_SENTINELS_MAX 16		/* sentinels one address lists */
#define REDIS_SENTINEL_PORT 26379	/* a sentinel's port by default */

/* A sentinel: a host name or address (IPv6 without []), and a port. */
struct redis_hostport {
	char host[256];
	int port;
};

/*
 * Where Redis is: host and port, or a unix socket path, or (master set) the
 * master that these sentinels know by that name; credentials; database.
 */
struct redis_addr {
	char host[256];		/* "" when unix_path or master is set; IPv6 without [] */
	int port;
	char unix_path[256];	/* shorter than sockaddr_un's sun_path */
	char username[256];	/* Redis 6 ACL user; "" sends AUTH password */
	char password[256];	/* "" sends no AUTH */
	int db;
	char master[256];	/* "": host or unix_path is Redis itself */
	int nsentinels;		/* 1..REDIS_SENTINELS_MAX when master is set */
	struct redis_hostport sentinels[REDIS_SENTINELS_MAX];
};

/*
 * Parses "redis://[[user]:password@]host[:port][/db]" (port 6379 by
 * default; host a name, an IPv4 address or an [IPv6] one; user and password
 * percent-decoded) or "unix:/path", "unix:///path", "redis+unix:..." (the
 * same after the scheme), both forms also taking "?db=N&password=P".
 * Returns 0, or -1 with a reason in err that never quotes the URL.
 */
int redis_url_parse(const char *url, struct redis_addr *out, char *err,
    size_t errlen);

/*
 * Parses a Sentinel address: sentinels "host[:port][,host[:port]...]" (port
 * REDIS_SENTINEL_PORT by default; spaces around entries ignored), the
 * master's name (no spaces), and auth, the master's credentials and
 * database in the syntax of a redis:// URL's query ("password=P&user=U&
 * db=N", any of them, percent-decoded; "" or NULL for none).  The sentinels
 * themselves are asked without a password.  Returns 0, or -1 with a reason
 * in err that never quotes auth.
 */
int redis_sentinel_parse(const char *sentinels, const char *master,
    const char *auth, struct redis_addr *out, char *err, size_t errlen);

/*
 * The relay's configuration to an address: redis_sentinel_parse(sentinels,
 * master, auth) when sentinels is set (and url empty), else
 * redis_url_parse(url) (and auth must be empty).  Returns as they do.
 */
int redis_addr_parse(const char *url, const char *sentinels,
    const char *master, const char *auth, struct redis_addr *out, char *err,
    size_t errlen);

/*
 * Writes where addr points, without credentials ("host:port", "unix:/path",
 * "master NAME via sentinels host:port,..."), into buf.
 */
void redis_addr_describe(const struct redis_addr *addr, char *buf, size_t len);

enum redis_state { REDIS_DOWN, REDIS_CONNECTING, REDIS_UP };

struct redis_conn;

typedef void (*redis_state_cb)(struct redis_conn *rc, enum redis_state st,
    void *arg);
/* reply is NULL when the connection went away first; it is freed on return. */
typedef void (*redis_reply_cb)(struct redis_conn *rc, struct redisReply *reply,
    void *privdata);
typedef void (*redis_message_cb)(struct redis_conn *rc, const char *channel,
    size_t chlen, const char *msg, size_t msglen, void *arg);
/* A message on channel, matched by pattern: bytes with their lengths (msg may hold NULs), valid during the call. */
typedef void (*redis_pmessage_cb)(struct redis_conn *rc, const char *pattern,
    size_t plen, const char *channel, size_t chlen, const char *msg,
    size_t msglen, void *arg);
typedef void (*redis_subscribed_cb)(struct redis_conn *rc, const char *channel,
    size_t chlen, void *arg);

/*
 * Returns a connection in state CONNECTING that starts connecting on the
 * loop's next iteration (never blocking: host names are resolved on libuv's
 * thread pool), or NULL if memory ran out.  It reconnects for ever, waiting
 * backoff_min_ms doubling up to backoff_max_ms (+-20% jitter) after each
 * failed attempt or lost connection; an attempt (resolve, connect, AUTH,
 * SELECT, PING, re-(P)SUBSCRIBE) that takes longer than connect_timeout_ms
 * (0: no limit) fails.  state_cb (may be NULL) is called on every change of
 * state, but not from here; UP means every step above succeeded.
 *
 * With a Sentinel address, an attempt first asks the sentinels in turn
 * (each within connect_timeout_ms; one that fails is skipped, and if none
 * answers the attempt fails), then connects to the master named, with ROLE
 * instead of PING (a replica fails the attempt).  A watcher connection to a
 * sentinel, unseen by state_cb, follows +switch-master: when our master
 * moves, the connection is lost (DOWN) and reconnects to the new master at
 * once, without back-off; so is a connection whose command is answered
 * READONLY (after that reply reaches its callback).
 */
struct redis_conn *redis_conn_new(uv_loop_t *loop,
    const struct redis_addr *addr, int64_t connect_timeout_ms,
    int64_t backoff_min_ms, int64_t backoff_max_ms, redis_state_cb state_cb,
    void *arg);

/*
 * Closes rc: calls the callback of every pending command with reply NULL,
 * then nothing more is called back; the memory goes once libuv has closed
 * the handles (run the loop).  Safe from inside any callback of rc.
 */
void redis_conn_free(struct redis_conn *rc);

/* Returns rc's state. */
enum redis_state redis_conn_state(const struct redis_conn *rc);

/*
 * Sends a command (argvlen[i] bytes of argv[i]), pipelined behind earlier
 * ones: callbacks are called in the order of the commands.  cb may be NULL.
 * Returns 0, or -1 (cb is then never called) if rc is not UP, carries
 * subscriptions, or has REDIS_PENDING_MAX commands in flight.
 */
int redis_conn_command(struct redis_conn *rc, redis_reply_cb cb,
    void *privdata, int argc, const char **argv, const size_t *argvlen);

/* A Lua script: source and its SHA-1.  Read-only once set up, so it may be shared between threads. */
struct redis_script {
	const char *source;	/* not copied: must outlive every use */
	char sha1[41];		/* lowercase hex */
};

/* Sets s up for source (which s points to, not copies). */
void redis_script_init(struct redis_script *s, const char *source);

/*
 * Runs s with nkeys keys then argc - nkeys arguments (argv, argvlen): sends
 * EVALSHA and, if Redis answers NOSCRIPT (a restart, SCRIPT FLUSH), the same
 * call again as EVAL, unseen by cb (a call sent again is answered after
 * commands sent meanwhile).  Returns as redis_conn_command; -1 too if nkeys
 * is not in 0..argc.
 */
int redis_conn_eval(struct redis_conn *rc, const struct redis_script *s,
    redis_reply_cb cb, void *privdata, int nkeys, int argc,
    const char **argv, const size_t *argvlen);

/*
 * Sets where messages of subscribed channels go (called with rc UP or
 * CONNECTING).  A message on a channel that is also matched by a subscribed
 * pattern comes here, and once more to the pmessage callback: Redis sends
 * it twice.
 */
void redis_conn_set_message_cb(struct redis_conn *rc, redis_message_cb cb,
    void *arg);

/*
 * Sets where messages matched by subscribed patterns go (called with rc UP
 * or CONNECTING), with the pattern and the channel published to.  A message
 * matched by several patterns comes once for each; one whose channel is
 * longer than REDIS_CHANNEL_MAX or holds a NUL is dropped.
 */
void redis_conn_set_pmessage_cb(struct redis_conn *rc, redis_pmessage_cb cb,
    void *arg);

/*
 * Sets cb, called each time Redis confirms a channel's SUBSCRIBE (after
 * every reconnect too, before UP): no message published from then on is
 * missed while the connection lasts.  Channels only: a pattern's
 * PSUBSCRIBE calls nothing (UP still waits for it).
 */
void redis_conn_set_subscribed_cb(struct redis_conn *rc,
    redis_subscribed_cb cb, void *arg);

/*
 * Adds channel (len bytes, no NUL, at most REDIS_CHANNEL_MAX) to the set rc
 * subscribes to now, if it can, and after every reconnect.  Returns 0
 * (already in the set too), or -1 if the name is bad, the set is full or
 * memory ran out.
 */
int redis_conn_subscribe(struct redis_conn *rc, const char *channel,
    size_t len);

/*
 * Removes channel from the set: its messages stop reaching the message
 * callback at once.  Returns 0 (also if it was not in the set), or -1 if the
 * name is bad.
 */
int redis_conn_unsubscribe(struct redis_conn *rc, const char *channel,
    size_t len);

/*
 * Adds pattern (a Redis glob, len bytes, no NUL, at most REDIS_CHANNEL_MAX)
 * to the set rc subscribes to with PSUBSCRIBE now, if it can, and after
 * every reconnect; a pattern and a channel of the same text are distinct.
 * Returns 0 (already in the set too), or -1 if the pattern is bad, the set
 * (channels and patterns together) is full or memory ran out.
 */
int redis_conn_psubscribe(struct redis_conn *rc, const char *pattern,
    size_t len);

/*
 * Removes pattern from the set: its messages stop reaching the pmessage
 * callback at once.  Returns 0 (also if it was not in the set), or -1 if
 * the pattern is bad.
 */
int redis_conn_punsubscribe(struct redis_conn *rc, const char *pattern,
    size_t len);

#endif
