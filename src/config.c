/*
 * config.c: the directive table, and turning directive values into struct
 * config fields and back.
 *
 * Everything about a directive lives in its row of config_table: adding a
 * directive means adding a field to struct config, a row here, and its
 * explanation in conf/chatrelay.conf (a unit test checks the last).  Reading
 * a configuration file is config-file.c's job, the command line
 * config-args.c's.  All of it runs once at start-up, before any thread
 * exists.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config-int.h"
#include "log.h"

#define KIB ((int64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

#define MSEC ((int64_t)1)
#define SEC (MSEC * 1000)
#define MIN (SEC * 60)
#define HOUR (MIN * 60)
#define DAY (HOUR * 24)

enum config_type {
	CONFIG_INT,		/* int, decimal */
	CONFIG_BOOL,		/* int 0/1, yes/no/on/off/true/false/1/0 */
	CONFIG_STRING,		/* char[], min..max bytes */
	CONFIG_SIZE,		/* size_t bytes, with k/m/g suffixes */
	CONFIG_DURATION,	/* int64_t ms, with ms/s/m/h/d units */
	CONFIG_LOGLEVEL		/* int, enum log_level */
};

struct config_directive {
	const char		*name;
	enum config_type	 type;
	size_t			 offset;	/* of the field in struct config */
	size_t			 size;		/* of the field, bytes */
	const char		*def;		/* default, as text */
	int64_t			 min;		/* bounds; length bounds for strings */
	int64_t			 max;
	int			(*valid)(const char *, char *, size_t);
	const char		*help;
};

/*
 * The offset of field f, which must have type T: a row that names the wrong
 * type for its field does not compile.
 */
#define CONFIG_FIELD(f, T)						\
	.offset = offsetof(struct config, f) +				\
	    0 * sizeof(_Generic(((struct config *)0)->f, T: 1)),	\
	.size = sizeof(((struct config *)0)->f)
#define CONFIG_STRFIELD(f)						\
	.offset = offsetof(struct config, f),				\
	.size = sizeof(((struct config *)0)->f)

static int config_valid_node(const char *, char *, size_t);
static int config_valid_master(const char *, char *, size_t);

static const struct config_directive config_table[] = {
	/* Network. */
	{ .name = "bind", .type = CONFIG_STRING, CONFIG_STRFIELD(bind),
	  .def = "127.0.0.1", .min = 1, .max = CONFIG_STR_MAX - 1,
	  .help = "Address to listen on for WebSocket and HTTP connections. "
	  "Use 0.0.0.0 or :: to accept connections from other hosts." },
	{ .name = "port", .type = CONFIG_INT, CONFIG_FIELD(port, int),
	  .def = "8080", .min = 1, .max = 65535,
	  .help = "TCP port to listen on for WebSocket and HTTP connections." },
	{ .name = "workers", .type = CONFIG_INT, CONFIG_FIELD(workers, int),
	  .def = "0", .min = 0, .max = 64,
	  .help = "Number of worker threads, each with its own event loop and "
	  "share of the connections. 0 starts one per CPU core." },
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

	/* Identity. */
	{ .name = "secret", .type = CONFIG_STRING, CONFIG_STRFIELD(secret),
	  .def = "", .min = 0, .max = CONFIG_STR_MAX - 1,
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
	  .def = "web", .min = 1, .max = CONFIG_STR_MAX - 1,
	  .help = "Directory whose files are served over HTTP, such as the "
	  "demo client index.html. Files outside it are never served." },
	{ .name = "log_level", .type = CONFIG_LOGLEVEL,
	  CONFIG_FIELD(log_level, int),
	  .def = "notice", .min = LOG_ERR, .max = LOG_DEBUG,
	  .help = "Most verbose kind of message written to standard error: "
	  "err, warn, notice, info or debug." },

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
	  .help = "Longest text a client may send in one message, in "
	  "characters. A longer text is refused with an error." },
	{ .name = "json_depth_max", .type = CONFIG_INT,
	  CONFIG_FIELD(json_depth_max, int),
	  .def = "8", .min = 2, .max = 64,
	  .help = "Deepest nesting of JSON objects and arrays accepted in a "
	  "client frame. A deeper frame is refused as malformed." },
	{ .name = "rate", .type = CONFIG_INT, CONFIG_FIELD(rate, int),
	  .def = "10", .min = 1, .max = 10000000,
	  .help = "Messages per second one connection may send with send and "
	  "whisper, over time (the refill rate of a token bucket)." },
	{ .name = "burst", .type = CONFIG_INT, CONFIG_FIELD(burst, int),
	  .def = "20", .min = 1, .max = 10000000,
	  .help = "Messages one connection may send at once before rate "
	  "applies (the depth of the token bucket)." },
	{ .name = "rate_strikes_max", .type = CONFIG_INT,
	  CONFIG_FIELD(rate_strikes_max, int),
	  .def = "20", .min = 1, .max = 100000,
	  .help = "rate_limited errors in a row after which the connection is "
	  "closed with code 4029." },
	{ .name = "channels_max", .type = CONFIG_INT,
	  CONFIG_FIELD(channels_max, int),
	  .def = "32", .min = 1, .max = 1024,
	  .help = "Most channels one connection may be joined to at once." },
	{ .name = "user_connections_max", .type = CONFIG_INT,
	  CONFIG_FIELD(user_connections_max, int),
	  .def = "10", .min = 1, .max = 100000,
	  .help = "Most connections one user may hold open on this relay at "
	  "once." },
	{ .name = "auth_timeout", .type = CONFIG_DURATION,
	  CONFIG_FIELD(auth_timeout_ms, int64_t),
	  .def = "5s", .min = 100 * MSEC, .max = HOUR,
	  .help = "Time a new connection has to authenticate. A connection "
	  "that has not authenticated by then is closed with code 4001." },
	{ .name = "idle_timeout", .type = CONFIG_DURATION,
	  CONFIG_FIELD(idle_timeout_ms, int64_t),
	  .def = "60s", .min = SEC, .max = 24 * HOUR,
	  .help = "A connection that sends nothing, not even a pong to the "
	  "relay's pings, for this long is closed." },
	{ .name = "client_queue_max", .type = CONFIG_SIZE,
	  CONFIG_FIELD(client_queue_max, size_t),
	  .def = "256k", .min = 4 * KIB, .max = GIB,
	  .help = "Most bytes of outgoing messages queued for one client. A "
	  "client whose queue fills is sent bye and closed with code 4029." },
	{ .name = "connections_max", .type = CONFIG_INT,
	  CONFIG_FIELD(connections_max, int),
	  .def = "0", .min = 0, .max = 10000000,
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
	  .help = "Age after which a kept message is dropped from its "
	  "channel's history." },
	{ .name = "channel_ttl", .type = CONFIG_DURATION,
	  CONFIG_FIELD(channel_ttl_ms, int64_t),
	  .def = "24h", .min = SEC, .max = 365 * DAY,
	  .help = "How long a channel with no members and no history left "
	  "keeps its sequence number before it is forgotten and starts "
	  "again at 1." },
	{ .name = "presence_events_max", .type = CONFIG_INT,
	  CONFIG_FIELD(presence_events_max, int),
	  .def = "100", .min = 0, .max = 1000000,
	  .help = "Join and leave events are sent only in channels with at "
	  "most this many members; 0 sends none." },
};

#define CONFIG_NDIRECTIVES (sizeof config_table / sizeof config_table[0])

/* Writes a formatted reason into err, if the caller gave room for one. */
void
config_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Prints a formatted line to f, unless f is NULL. */
void
config_report(FILE *f, const char *fmt, ...)
{
	va_list	ap;

	if (f == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/* Returns the row for the first len bytes of name, or NULL. */
static const struct config_directive *
config_find(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < CONFIG_NDIRECTIVES; i++) {
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

	d = config_find(name, len);
	return d != NULL ? d->name : NULL;
}

size_t
config_directive_count(void)
{
	return CONFIG_NDIRECTIVES;
}

const char *
config_directive_name(size_t i)
{
	if (i >= CONFIG_NDIRECTIVES)
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
		config_error(err, errlen, "may contain only A-Z, a-z, 0-9, "
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
		config_error(err, errlen, "may not contain spaces or control "
		    "characters");
		return -1;
	}
	return 0;
}

/*
 * Reads the decimal digits at the start of s into *out.  Returns a pointer
 * past them, or NULL if there are none or the number exceeds INT64_MAX.
 */
static const char *
config_parse_digits(const char *s, int64_t *out)
{
	int64_t	v = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return NULL;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return s;
}

/*
 * Parses all of s as a decimal integer, optionally negative.  Returns 0, -1
 * if s is not one, or -2 if it is too large to represent.
 */
static int
config_parse_int(const char *s, int64_t *out)
{
	const char	*end;
	bool		 neg = false;

	if (*s == '-') {
		neg = true;
		s++;
	}
	if ((end = config_parse_digits(s, out)) == NULL)
		return *s >= '0' && *s <= '9' ? -2 : -1;
	if (*end != '\0')
		return -1;
	if (neg)
		*out = -*out;
	return 0;
}

/*
 * Parses all of s as a size in bytes: a number with an optional k, m or g
 * (KiB, MiB, GiB).  Returns 0, -1 if s is not a size, or -2 if it is too
 * large to represent.
 */
static int
config_parse_size(const char *s, int64_t *out)
{
	const char	*end;
	int64_t		 v, mult;

	if ((end = config_parse_digits(s, &v)) == NULL)
		return *s >= '0' && *s <= '9' ? -2 : -1;
	switch (*end) {
	case '\0':
		mult = 1;
		break;
	case 'k': case 'K':
		mult = KIB;
		break;
	case 'm': case 'M':
		mult = MIB;
		break;
	case 'g': case 'G':
		mult = GIB;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > INT64_MAX / mult)
		return -2;
	*out = v * mult;
	return 0;
}

/*
 * Parses all of s as a duration in milliseconds: a number with an optional
 * unit ms, s, m, h or d (a bare number is seconds).  Returns 0, -1 if s is
 * not a duration, or -2 if it is too long to represent.
 */
static int
config_parse_duration(const char *s, int64_t *out)
{
	static const struct {
		const char	*unit;
		int64_t		 ms;
	} units[] = {
		{ "", SEC }, { "ms", MSEC }, { "s", SEC }, { "m", MIN },
		{ "h", HOUR }, { "d", DAY }
	};
	const char	*end;
	int64_t		 v;
	size_t		 i;

	if ((end = config_parse_digits(s, &v)) == NULL)
		return *s >= '0' && *s <= '9' ? -2 : -1;
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (v > INT64_MAX / units[i].ms)
			return -2;
		*out = v * units[i].ms;
		return 0;
	}
	return -1;
}

/* Parses s as a boolean.  Returns 1, 0, or -1 if s is not one. */
static int
config_parse_bool(const char *s)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };
	size_t	i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* Writes a byte count in the largest unit that keeps it whole ("256k"). */
static void
config_format_size(int64_t v, char *buf, size_t len)
{
	if (v != 0 && v % GIB == 0)
		snprintf(buf, len, "%" PRId64 "g", v / GIB);
	else if (v != 0 && v % MIB == 0)
		snprintf(buf, len, "%" PRId64 "m", v / MIB);
	else if (v != 0 && v % KIB == 0)
		snprintf(buf, len, "%" PRId64 "k", v / KIB);
	else
		snprintf(buf, len, "%" PRId64, v);
}

/* Writes milliseconds in the largest unit that keeps them whole ("5s"). */
static void
config_format_duration(int64_t v, char *buf, size_t len)
{
	if (v != 0 && v % DAY == 0)
		snprintf(buf, len, "%" PRId64 "d", v / DAY);
	else if (v != 0 && v % HOUR == 0)
		snprintf(buf, len, "%" PRId64 "h", v / HOUR);
	else if (v != 0 && v % MIN == 0)
		snprintf(buf, len, "%" PRId64 "m", v / MIN);
	else if (v != 0 && v % SEC == 0)
		snprintf(buf, len, "%" PRId64 "s", v / SEC);
	else
		snprintf(buf, len, "%" PRId64 "ms", v);
}

/* Writes a bound of d in the form its values are written. */
static void
config_format_bound(const struct config_directive *d, int64_t v, char *buf,
    size_t len)
{
	if (d->type == CONFIG_SIZE)
		config_format_size(v, buf, len);
	else if (d->type == CONFIG_DURATION)
		config_format_duration(v, buf, len);
	else
		snprintf(buf, len, "%" PRId64, v);
}

/*
 * Checks v against the bounds of d.  Returns 0, or -1 with a reason that
 * quotes the value as the user wrote it.
 */
static int
config_check_range(const struct config_directive *d, int64_t v,
    const char *text, char *err, size_t errlen)
{
	char	lo[32], hi[32];

	if (v >= d->min && v <= d->max)
		return 0;
	config_format_bound(d, d->min, lo, sizeof lo);
	config_format_bound(d, d->max, hi, sizeof hi);
	config_error(err, errlen, "%s: %.40s is out of range (%s..%s)",
	    d->name, text, lo, hi);
	return -1;
}

/* Stores string value in d's field of cfg.  Returns 0, or -1 with a reason. */
static int
config_set_string(struct config *cfg, const struct config_directive *d,
    const char *value, char *err, size_t errlen)
{
	char	*field = (char *)cfg + d->offset;
	char	 why[128];
	size_t	 len = strlen(value);

	/* The value itself is never quoted: it may be the secret. */
	if (len > (size_t)d->max || len >= d->size) {
		config_error(err, errlen, "%s: value is too long (%zu bytes, "
		    "at most %" PRId64 ")", d->name, len, d->max);
		return -1;
	}
	if (len < (size_t)d->min) {
		config_error(err, errlen, "%s: value must not be empty",
		    d->name);
		return -1;
	}
	if (d->valid != NULL && d->valid(value, why, sizeof why) != 0) {
		config_error(err, errlen, "%s: %s", d->name, why);
		return -1;
	}
	memset(field, 0, d->size);
	memcpy(field, value, len);
	return 0;
}

/*
 * Parses value as d's number type (int, size or duration) and checks its
 * bounds.  Returns 0 with *v set, or -1 with the reason in err.
 */
static int
config_set_number(const struct config_directive *d, const char *value,
    int64_t *v, char *err, size_t errlen)
{
	const char *what;
	int r;

	switch (d->type) {
	case CONFIG_SIZE:
		r = config_parse_size(value, v);
		what = "a size (use bytes, or a number followed by k, m or g)";
		break;
	case CONFIG_DURATION:
		r = config_parse_duration(value, v);
		what = "a duration (use a number followed by ms, s, m, h or d; "
		    "a bare number is seconds)";
		break;
	default:
		r = config_parse_int(value, v);
		what = "a whole number";
		break;
	}
	if (r == -1) {
		config_error(err, errlen, "%s: \"%.40s\" is not %s", d->name,
		    value, what);
		return -1;
	}
	if (r == -2)
		*v = INT64_MAX;	/* too big: the range check says so */
	return config_check_range(d, *v, value, err, errlen);
}

int
config_set(struct config *cfg, const char *name, const char *value,
    char *err, size_t errlen)
{
	const struct config_directive	*d;
	void				*field;
	int64_t				 v;
	int				 r;

	if (name == NULL || (d = config_find(name, strlen(name))) == NULL) {
		config_error(err, errlen, "unknown directive \"%.64s\"",
		    name != NULL ? name : "");
		return -1;
	}
	if (value == NULL) {
		config_error(err, errlen, "%s: missing value", d->name);
		return -1;
	}
	field = (char *)cfg + d->offset;

	switch (d->type) {
	case CONFIG_INT:
	case CONFIG_SIZE:
	case CONFIG_DURATION:
		if (config_set_number(d, value, &v, err, errlen) != 0)
			return -1;
		if (d->type == CONFIG_INT)
			*(int *)field = (int)v;
		else if (d->type == CONFIG_SIZE)
			*(size_t *)field = (size_t)v;
		else
			*(int64_t *)field = v;
		return 0;
	case CONFIG_BOOL:
		if ((r = config_parse_bool(value)) < 0) {
			config_error(err, errlen, "%s: \"%.40s\" is not yes or "
			    "no (use yes, no, on, off, true, false, 1 or 0)",
			    d->name, value);
			return -1;
		}
		*(int *)field = r;
		return 0;
	case CONFIG_STRING:
		return config_set_string(cfg, d, value, err, errlen);
	case CONFIG_LOGLEVEL:
		if ((r = log_level_parse(value)) < 0) {
			config_error(err, errlen, "%s: \"%.40s\" is not a log "
			    "level (use err, warn, notice, info or debug)",
			    d->name, value);
			return -1;
		}
		*(int *)field = r;
		return 0;
	}
	config_error(err, errlen, "%s: directive has no type", d->name);
	return -1;
}

int
config_get(const struct config *cfg, const char *name, char *buf,
    size_t len)
{
	const struct config_directive	*d;
	const void			*field;
	char				 text[CONFIG_STR_MAX + 32];
	size_t				 n;

	if (name == NULL || (d = config_find(name, strlen(name))) == NULL ||
	    buf == NULL || len == 0)
		return -1;
	field = (const char *)cfg + d->offset;

	switch (d->type) {
	case CONFIG_INT:
		snprintf(text, sizeof text, "%d", *(const int *)field);
		break;
	case CONFIG_BOOL:
		snprintf(text, sizeof text, "%s",
		    *(const int *)field ? "yes" : "no");
		break;
	case CONFIG_STRING:
		snprintf(text, sizeof text, "%.*s", (int)d->size,
		    (const char *)field);
		break;
	case CONFIG_SIZE:
		config_format_size((int64_t)*(const size_t *)field, text,
		    sizeof text);
		break;
	case CONFIG_DURATION:
		config_format_duration(*(const int64_t *)field, text,
		    sizeof text);
		break;
	case CONFIG_LOGLEVEL:
		snprintf(text, sizeof text, "%s",
		    log_level_name(*(const int *)field));
		break;
	default:
		return -1;
	}
	if ((n = strlen(text)) >= len) {
		buf[0] = '\0';
		return -1;
	}
	memcpy(buf, text, n + 1);
	return 0;
}

void
config_defaults(struct config *cfg)
{
	char	err[256];
	size_t	i;

	memset(cfg, 0, sizeof *cfg);
	for (i = 0; i < CONFIG_NDIRECTIVES; i++) {
		if (config_set(cfg, config_table[i].name, config_table[i].def,
		    err, sizeof err) != 0)
			fatal("config: bad default: %s", err);
	}
}

int
config_check(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->message_max < cfg->frame_max) {
		config_error(err, errlen, "message_max (%d) must be at least "
		    "frame_max (%d)", cfg->message_max, cfg->frame_max);
		return -1;
	}
	if ((cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0')) {
		config_error(err, errlen, "tls_cert and tls_key must be set "
		    "together");
		return -1;
	}
	if (cfg->redis[0] != '\0' && cfg->redis_sentinel[0] != '\0') {
		config_error(err, errlen, "redis and redis_sentinel are "
		    "mutually exclusive: set redis for one Redis, or "
		    "redis_sentinel (and redis_master) to find the master "
		    "through Sentinel");
		return -1;
	}
	if (cfg->redis_auth[0] != '\0' && cfg->redis_sentinel[0] == '\0') {
		config_error(err, errlen, "redis_auth applies only with "
		    "redis_sentinel (with redis, put the password and database "
		    "in its URL)");
		return -1;
	}
	return 0;
}

/* Writes text wrapped to 78 columns, each line indented by indent spaces. */
static void
config_print_wrapped(FILE *f, const char *text, int indent)
{
	const char	*p = text, *end;
	int		 col = 0, wlen;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		for (end = p; *end != '\0' && *end != ' '; end++)
			;
		wlen = (int)(end - p);
		if (col != 0 && col + 1 + wlen > 78) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0)
			col = fprintf(f, "%*s", indent, "");
		else
			col += fprintf(f, " ");
		col += fprintf(f, "%.*s", wlen, p);
		p = end;
	}
	if (col != 0)
		fputc('\n', f);
}

void
config_print_help(FILE *f)
{
	static const char *const metavar[] = {
		[CONFIG_INT] = "N",
		[CONFIG_BOOL] = "yes|no",
		[CONFIG_STRING] = "TEXT",
		[CONFIG_SIZE] = "SIZE",
		[CONFIG_DURATION] = "TIME",
		[CONFIG_LOGLEVEL] = "LEVEL"
	};
	const struct config_directive	*d;
	char				 lo[32], hi[32];
	size_t				 i;

	fprintf(f, "Directives (\"name value\" in the configuration file, "
	    "\"--name value\" here):\n");
	for (i = 0; i < CONFIG_NDIRECTIVES; i++) {
		d = &config_table[i];
		fprintf(f, "  --%s %s (default %s%s%s", d->name,
		    metavar[d->type], *d->def == '\0' ? "\"" : "", d->def,
		    *d->def == '\0' ? "\"" : "");
		if (d->type == CONFIG_INT || d->type == CONFIG_SIZE ||
		    d->type == CONFIG_DURATION) {
			config_format_bound(d, d->min, lo, sizeof lo);
			config_format_bound(d, d->max, hi, sizeof hi);
			fprintf(f, ", %s..%s", lo, hi);
		}
		fprintf(f, ")\n");
		config_print_wrapped(f, d->help, 8);
	}
	config_print_wrapped(f, "Sizes take k, m or g (KiB, MiB, GiB); "
	    "times take ms, s, m, h or d (a bare number is seconds).", 0);
}
