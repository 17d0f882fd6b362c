/*
 * config-table.c: the directive table, one row per directive: its name,
 * type, field, default, bounds, check and help.
 *
 * Everything about a directive lives in its row: adding a directive means
 * adding a field to struct config, a row here, and its explanation in
 * conf/chatrelay.conf (a unit test checks the last).  CONFIG_LIVE marks
 * the directives a reload (SIGHUP) applies to a running relay: those read
 * afresh each time they are used, from the worker's own copy of the
 * configuration (relay.h), or by the main thread; what is set up once
 * (sockets, threads, TLS, the bus, history rings, the lws context's
 * buffers) is not.  CONFIG_SECRET marks those whose value is never logged.
 * Read-only; looked up by name (config_directive_find).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config-int.h"
#include "log.h"

static int config_valid_node(const char *, char *, size_t);
static int config_valid_master(const char *, char *, size_t);
static int config_valid_policy(const char *, char *, size_t);
static int config_valid_origins(const char *, char *, size_t);
static int config_valid_log_format(const char *, char *, size_t);

const struct config_directive config_table[] = {
	/* Network. */
	{ .name = "bind", .type = CONFIG_STRING, CONFIG_STRFIELD(bind),
	  .def = "127.0.0.1", .min = 1, .max = CONFIG_STR_MAX - 1,
	  .help = "Address to listen on for WebSocket and HTTP connections. "
	  "Use 0.0.0.0 or :: to accept connections from other hosts." },
	{ .name = "port", .type = CONFIG_INT, CONFIG_FIELD(port, int),
	  .def = "8080", .min = 1, .max = 65535,
	  .help = "TCP port to listen on for WebSocket and HTTP connections." },
	{ .name = "reuse_port", .type = CONFIG_BOOL,
	  CONFIG_FIELD(reuse_port, int),
	  .def = "no", .min = 0, .max = 1,
	  .help = "Share the address and port with another process that "
	  "listens there with SO_REUSEPORT (another relay, for a restart "
	  "without downtime). no refuses to start when the port is taken." },
	{ .name = "workers", .type = CONFIG_INT, CONFIG_FIELD(workers, int),
	  .def = "0", .min = 0, .max = 64,
	  .help = "Number of worker threads, each with its own event loop and "
	  "share of the connections. 0 starts one per CPU core." },
	{ .name = "drain_timeout", .type = CONFIG_DURATION,
	  CONFIG_FIELD(drain_timeout_ms, int64_t),
	  .def = "3s", .min = 0, .max = HOUR, .flags = CONFIG_LIVE,
	  .help = "On SIGTERM or SIGINT, how long clients have, after their "
	  "bye, to close before the relay stops anyway." },
	{ .name = "tls_cert", .type = CONFIG_STRING, CONFIG_STRFIELD(tls_cert),
	  .def = "", .min = 0, .max = CONFIG_STR_MAX - 1,
	  .help = "PEM certificate chain file for TLS (wss:// and https://). "
	  "Empty serves plain TCP; set together with tls_key." },
	{ .name = "tls_key", .type = CONFIG_STRING, CONFIG_STRFIELD(tls_key),
	  .def = "", .min = 0, .max = CONFIG_STR_MAX - 1,
	  .help = "PEM private key file that belongs to tls_cert." },
	{ .name = "deflate", .type = CONFIG_BOOL, CONFIG_FIELD(deflate, int),
	  .def = "no", .min = 0, .max = 1,
	  .help = "Negotiate permessage-deflate compression with clients that "
	  "offer it. It saves bandwidth at some CPU and memory cost per "
	  "connection." },
	{ .name = "allowed_origins", .type = CONFIG_STRING,
	  CONFIG_STRFIELD(allowed_origins),
	  .def = "", .min = 0, .max = CONFIG_STR_MAX - 1,
	  .valid = config_valid_origins,
	  .help = "Origins besides the relay's own whose pages may open "
	  "WebSockets here: http[s]://host[:port],... or * for any. Empty: "
	  "the same origin only. Requests without an Origin always may." },

	/* Identity. */
	{ .name = "secret", .type = CONFIG_STRING, CONFIG_STRFIELD(secret),
	  .def = "", .min = 0, .max = CONFIG_STR_MAX - 1,
	  .flags = CONFIG_SECRET,
	  .help = "Shared secret that signs client tokens (HS256 JWT). "
	  "Empty runs the relay in open mode, where anyone may connect as "
	  "a guest without a token." },
	{ .name = "node", .type = CONFIG_STRING, CONFIG_STRFIELD(node),
	  .def = "", .min = 0, .max = 64, .valid = config_valid_node,
	  .help = "Name of this relay instance, unique among relays that "
	  "share a bus: up to 64 characters of A-Z, a-z, 0-9, '_', '.' and "
	  "'-'. Empty generates one at start." },

	/* Cluster. */
	{ .name = "redis", .type = CONFIG_STRING, CONFIG_STRFIELD(redis),
	  .def = "", .min = 0, .max = CONFIG_STR_MAX - 1,
	  .flags = CONFIG_SECRET,
	  .help = "Redis that joins several relay instances: "
	  "redis://[:password@]host[:port][/db] or unix:/path. Empty keeps "
	  "the in-process bus of a single instance." },
	{ .name = "redis_sentinel", .type = CONFIG_STRING,
	  CONFIG_STRFIELD(redis_sentinel),
	  .def = "", .min = 0, .max = CONFIG_STR_MAX - 1,
	  .help = "Redis Sentinels that say where the master named "
	  "redis_master is, instead of redis: host:port[,host:port...] "
	  "(port 26379 by default). The relay follows failovers. Empty uses "
	  "redis." },
	{ .name = "redis_master", .type = CONFIG_STRING,
	  CONFIG_STRFIELD(redis_master),
	  .def = "mymaster", .min = 1, .max = CONFIG_STR_MAX - 1,
	  .valid = config_valid_master,
	  .help = "Name of the master the sentinels of redis_sentinel "
	  "monitor (their \"sentinel monitor NAME ...\")." },
	{ .name = "redis_auth", .type = CONFIG_STRING,
	  CONFIG_STRFIELD(redis_auth),
	  .def = "", .min = 0, .max = CONFIG_STR_MAX - 1,
	  .flags = CONFIG_SECRET,
	  .help = "With redis_sentinel, the master's credentials and "
	  "database, as in the query of a redis:// URL: "
	  "password=P[&user=U][&db=N], percent-encoded. Empty sends no AUTH "
	  "and uses database 0." },
	{ .name = "redis_replicas_ack", .type = CONFIG_INT,
	  CONFIG_FIELD(redis_replicas_ack, int),
	  .def = "0", .min = 0, .max = 16,
	  .help = "ok for a send only after WAIT confirms the write reached "
	  "this many replicas; 0 answers once the master has it." },
	{ .name = "redis_connect_timeout", .type = CONFIG_DURATION,
	  CONFIG_FIELD(redis_connect_timeout_ms, int64_t),
	  .def = "2s", .min = 100, .max = 60 * SEC,
	  .help = "How long a connection to Redis may take before it counts "
	  "as failed and is retried." },
	{ .name = "presence_ttl", .type = CONFIG_DURATION,
	  CONFIG_FIELD(presence_ttl_ms, int64_t),
	  .def = "15s", .min = SEC, .max = 3600 * SEC,
	  .help = "How soon the other instances remove the members of an "
	  "instance that stopped (they beat every third of this)." },

	/* Files and logging. */
	{ .name = "web_root", .type = CONFIG_STRING, CONFIG_STRFIELD(web_root),
	  .def = "", .min = 0, .max = CONFIG_STR_MAX - 1,
	  .help = "Directory whose files are served over HTTP, such as the "
	  "demo client index.html. Files outside it are never served. Empty: "
	  "./web when ./web/index.html exists (a source tree), else the "
	  "installed one (" DATADIR "/web)." },
	{ .name = "log_level", .type = CONFIG_LOGLEVEL,
	  CONFIG_FIELD(log_level, int),
	  .def = "notice", .min = LOG_ERR, .max = LOG_DEBUG,
	  .flags = CONFIG_LIVE,
	  .help = "Most verbose kind of message written to standard error: "
	  "err, warn, notice, info or debug." },
	{ .name = "log_format", .type = CONFIG_STRING,
	  CONFIG_STRFIELD(log_format), .def = "plain", .min = 1, .max = 7,
	  .valid = config_valid_log_format, .flags = CONFIG_LIVE,
	  .help = "How log lines are written: plain (text) or json (one JSON "
	  "object a line, with ts, level and msg)." },

	/* Limits. */
	{ .name = "frame_max", .type = CONFIG_INT,
	  CONFIG_FIELD(frame_max, int),
	  .def = "4096", .min = 1024, .max = 1048576,
	  .help = "Largest WebSocket frame accepted from a client, in bytes. "
	  "A larger frame closes the connection with code 1009." },
	{ .name = "message_max", .type = CONFIG_INT,
	  CONFIG_FIELD(message_max, int),
	  .def = "4096", .min = 1024, .max = 16777216,
	  .help = "Largest message accepted from a client once its fragments "
	  "are put together, in bytes; at least frame_max. A larger message "
	  "closes the connection with code 1009." },
	{ .name = "text_max", .type = CONFIG_INT,
	  CONFIG_FIELD(text_max, int),
	  .def = "500", .min = 1, .max = 100000,
	  .flags = CONFIG_LIVE,
	  .help = "Longest text a client may send in one message, in "
	  "characters. A longer text is refused with an error." },
	{ .name = "json_depth_max", .type = CONFIG_INT,
	  CONFIG_FIELD(json_depth_max, int),
	  .def = "8", .min = 2, .max = 64,
	  .flags = CONFIG_LIVE,
	  .help = "Deepest nesting of JSON objects and arrays accepted in a "
	  "client frame. A deeper frame is refused as malformed." },
	{ .name = "rate", .type = CONFIG_INT, CONFIG_FIELD(rate, int),
	  .def = "10", .min = 1, .max = 10000000,
	  .flags = CONFIG_LIVE,
	  .help = "Messages per second one connection may send with send and "
	  "whisper, over time (the refill rate of a token bucket)." },
	{ .name = "burst", .type = CONFIG_INT, CONFIG_FIELD(burst, int),
	  .def = "20", .min = 1, .max = 10000000,
	  .flags = CONFIG_LIVE,
	  .help = "Messages one connection may send at once before rate "
	  "applies (the depth of the token bucket)." },
	{ .name = "rate_strikes_max", .type = CONFIG_INT,
	  CONFIG_FIELD(rate_strikes_max, int),
	  .def = "20", .min = 1, .max = 100000,
	  .flags = CONFIG_LIVE,
	  .help = "rate_limited errors in a row after which the connection is "
	  "closed with code 4029." },
	{ .name = "channels_max", .type = CONFIG_INT,
	  CONFIG_FIELD(channels_max, int),
	  .def = "32", .min = 1, .max = 1024,
	  .flags = CONFIG_LIVE,
	  .help = "Most channels one connection may be joined to at once." },
	{ .name = "user_connections_max", .type = CONFIG_INT,
	  CONFIG_FIELD(user_connections_max, int),
	  .def = "10", .min = 1, .max = 100000,
	  .flags = CONFIG_LIVE,
	  .help = "Most connections one user may hold open on this relay at "
	  "once." },
	{ .name = "auth_timeout", .type = CONFIG_DURATION,
	  CONFIG_FIELD(auth_timeout_ms, int64_t),
	  .def = "5s", .min = 100 * MSEC, .max = HOUR,
	  .flags = CONFIG_LIVE,
	  .help = "Time a new connection has to authenticate. A connection "
	  "that has not authenticated by then is closed with code 4001." },
	{ .name = "idle_timeout", .type = CONFIG_DURATION,
	  CONFIG_FIELD(idle_timeout_ms, int64_t),
	  .def = "60s", .min = SEC, .max = 24 * HOUR,
	  .flags = CONFIG_LIVE,
	  .help = "A connection that sends nothing, not even a pong to the "
	  "relay's pings, for this long is closed." },
	{ .name = "client_queue_max", .type = CONFIG_SIZE,
	  CONFIG_FIELD(client_queue_max, size_t),
	  .def = "256k", .min = 4 * KIB, .max = GIB,
	  .flags = CONFIG_LIVE,
	  .help = "Most bytes of outgoing messages queued for one client. A "
	  "client whose queue fills is sent bye and closed with code 4029." },
	{ .name = "connections_max", .type = CONFIG_INT,
	  CONFIG_FIELD(connections_max, int),
	  .def = "0", .min = 0, .max = 10000000,
	  .flags = CONFIG_LIVE,
	  .help = "Most client connections this relay accepts at once; 0 "
	  "means no limit." },

	/* Channels. */
	{ .name = "history_size", .type = CONFIG_INT,
	  CONFIG_FIELD(history_size, int),
	  .def = "100", .min = 0, .max = 10000,
	  .help = "Messages kept per channel and replayed to clients that ask "
	  "for history; 0 keeps none." },
	{ .name = "history_ttl", .type = CONFIG_DURATION,
	  CONFIG_FIELD(history_ttl_ms, int64_t),
	  .def = "1h", .min = SEC, .max = 30 * DAY,
	  .flags = CONFIG_LIVE,
	  .help = "Age after which a kept message is dropped from its "
	  "channel's history." },
	{ .name = "channel_ttl", .type = CONFIG_DURATION,
	  CONFIG_FIELD(channel_ttl_ms, int64_t),
	  .def = "24h", .min = SEC, .max = 365 * DAY,
	  .flags = CONFIG_LIVE,
	  .help = "How long a channel with no members and no history left "
	  "keeps its sequence number before it is forgotten and starts "
	  "again at 1." },
	{ .name = "presence_events_max", .type = CONFIG_INT,
	  CONFIG_FIELD(presence_events_max, int),
	  .def = "100", .min = 0, .max = 1000000,
	  .flags = CONFIG_LIVE,
	  .help = "Join and leave events are sent only in channels with at "
	  "most this many members; 0 sends none." },

	/* Moderation. */
	{ .name = "state_file", .type = CONFIG_STRING,
	  CONFIG_STRFIELD(state_file), .def = "", .min = 0,
	  .max = CONFIG_STR_MAX - 1,
	  .help = "Without Redis: the file that keeps bans, mutes and slow "
	  "modes across restarts, rewritten atomically at each change. Empty "
	  "keeps them in memory only. With Redis they live in Redis." },
	{ .name = "audit_file", .type = CONFIG_STRING,
	  CONFIG_STRFIELD(audit_file), .def = "", .min = 0,
	  .max = CONFIG_STR_MAX - 1,
	  .flags = CONFIG_LIVE,
	  .help = "File to which every moderation action is appended as one "
	  "JSON object per line, reopened on SIGHUP (log rotation). Empty: "
	  "the audit lines go to the log only." },
	{ .name = "filter_file", .type = CONFIG_STRING,
	  CONFIG_STRFIELD(filter_file), .def = "", .min = 0,
	  .max = CONFIG_STR_MAX - 1,
	  .flags = CONFIG_LIVE,
	  .help = "Word filter applied to send and whisper: one word or "
	  "pattern per line, reloaded on SIGHUP. Empty filters nothing." },
	{ .name = "filter_policy", .type = CONFIG_STRING,
	  CONFIG_STRFIELD(filter_policy), .def = "refuse", .min = 1,
	  .max = 15, .valid = config_valid_policy,
	  .flags = CONFIG_LIVE,
	  .help = "What a filtered text gets: refuse (err filtered) or mask "
	  "(its matched letters replaced by *)." },
};

const size_t config_ndirectives = sizeof config_table / sizeof config_table[0];

const struct config_directive *
config_directive_find(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < config_ndirectives; i++) {
		if (strlen(config_table[i].name) == len &&
		    strncmp(config_table[i].name, name, len) == 0)
			return &config_table[i];
	}
	return NULL;
}

const char *
config_directive_match(const char *name, size_t len)
{
	const struct config_directive	*d;

	d = config_directive_find(name, len);
	return d != NULL ? d->name : NULL;
}

size_t
config_directive_count(void)
{
	return config_ndirectives;
}

const char *
config_directive_name(size_t i)
{
	if (i >= config_ndirectives)
		return NULL;
	return config_table[i].name;
}

/* Accepts a node name: only letters, digits, '_', '.' and '-'. */
static int
config_valid_node(const char *s, char *err, size_t errlen)
{
	const char	*p;

	for (p = s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
		    *p == '-')
			continue;
		errbuf(err, errlen, "may contain only A-Z, a-z, 0-9, "
		    "'_', '.' and '-'");
		return -1;
	}
	return 0;
}

/* Accepts a Sentinel master name: printable, no spaces (Sentinel's messages are space-separated). */
static int
config_valid_master(const char *s, char *err, size_t errlen)
{
	const char	*p;

	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p > ' ' && (unsigned char)*p != 0x7f)
			continue;
		errbuf(err, errlen, "may not contain spaces or control "
		    "characters");
		return -1;
	}
	return 0;
}

/* Accepts a log format: plain or json. */
static int
config_valid_log_format(const char *s, char *err, size_t errlen)
{
	if (log_format_parse(s) >= 0)
		return 0;
	errbuf(err, errlen, "must be plain or json");
	return -1;
}

/* Accepts a filter policy: refuse or mask. */
static int
config_valid_policy(const char *s, char *err, size_t errlen)
{
	if (strcmp(s, "refuse") == 0 || strcmp(s, "mask") == 0)
		return 0;
	errbuf(err, errlen, "must be refuse or mask");
	return -1;
}

/* Returns true for "*", "null" or http[s]://HOST[:PORT] (len bytes, no path). */
static bool
config_origin_ok(const char *s, size_t len)
{
	size_t i, skip, digits = 0;
	unsigned long port = 0;

	if ((len == 1 && *s == '*') || (len == 4 && memcmp(s, "null", 4) == 0))
		return true;
	if (len > 7 && strncasecmp(s, "http://", 7) == 0)
		skip = 7;
	else if (len > 8 && strncasecmp(s, "https://", 8) == 0)
		skip = 8;
	else
		return false;
	if (s[skip] == '[') {	/* an IPv6 literal */
		for (i = skip + 1; i < len && (isxdigit((unsigned char)s[i]) ||
		    s[i] == ':' || s[i] == '.'); i++)
			;
		if (i == skip + 1 || i == len || s[i++] != ']')
			return false;
	} else {
		for (i = skip; i < len && (isalnum((unsigned char)s[i]) ||
		    s[i] == '.' || s[i] == '-' || s[i] == '_'); i++)
			;
		if (i == skip)
			return false;
	}
	if (i < len && s[i] == ':') {
		for (i++; i < len && isdigit((unsigned char)s[i]) &&
		    digits < 5; i++, digits++)
			port = port * 10 + (unsigned long)(s[i] - '0');
		if (digits == 0 || port < 1 || port > 65535)
			return false;
	}
	return i == len;	/* no path, user or second port */
}

/*
 * Accepts allowed_origins: empty, or entries separated by commas (blanks
 * around them ignored), each "*", "null" or http[s]://HOST[:PORT].
 */
static int
config_valid_origins(const char *s, char *err, size_t errlen)
{
	const char	*p = s, *e;
	size_t		 n;

	if (*s == '\0')
		return 0;
	for (;;) {
		n = strcspn(p, ",");
		for (e = p; n > 0 && (*e == ' ' || *e == '\t'); e++, n--)
			;
		while (n > 0 && (e[n - 1] == ' ' || e[n - 1] == '\t'))
			n--;
		if (!config_origin_ok(e, n)) {
			errbuf(err, errlen, "\"%.*s\" is not an origin "
			    "(http[s]://host[:port], null or *)",
			    (int)(n > 40 ? 40 : n), e);
			return -1;
		}
		p += strcspn(p, ",");
		if (*p++ == '\0')
			return 0;
	}
}
