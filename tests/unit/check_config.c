/*
 * check_config.c: unit tests for the directive table, the value parsers,
 * configuration files, the command line, and the shipped conf/chatrelay.conf.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

#include "config.h"
#include "log.h"
#include "version.h"

#ifndef DATADIR
#define DATADIR "/usr/local/share/chatrelay"
#endif

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

/* Every directive, exactly: other tools and the tests rely on these names. */
static const char *const directive_names[] = {
	"bind", "port", "reuse_port", "workers", "drain_timeout", "tls_cert",
	"tls_key", "deflate", "allowed_origins", "secret",
	"node", "redis", "redis_sentinel", "redis_master", "redis_auth",
	"redis_replicas_ack", "redis_connect_timeout", "presence_ttl",
	"web_root", "log_level", "log_format", "frame_max", "message_max",
	"text_max", "json_depth_max", "rate", "burst", "rate_strikes_max",
	"channels_max", "user_connections_max", "auth_timeout",
	"idle_timeout", "client_queue_max", "connections_max", "history_size",
	"history_ttl", "channel_ttl", "presence_events_max", "state_file",
	"audit_file", "filter_file", "filter_policy"
};

enum kind { K_INT, K_STR, K_SIZE, K_I64 };

/* A valid value for each directive, unlike its default, and what it sets. */
static const struct setting {
	const char	*name;
	const char	*text;
	enum kind	 kind;
	size_t		 offset;
	int64_t		 want;
	const char	*want_str;
} settings[] = {
#define S_INT(n, t, w) { #n, t, K_INT, offsetof(struct config, n), w, NULL }
#define S_STR(n, t, w) { #n, t, K_STR, offsetof(struct config, n), 0, w }
	S_STR(bind, "0.0.0.0", "0.0.0.0"),
	S_INT(port, "9000", 9000),
	S_INT(reuse_port, "yes", 1),
	S_INT(workers, "4", 4),
	{ "drain_timeout", "10s", K_I64,
	    offsetof(struct config, drain_timeout_ms), 10000, NULL },
	S_STR(tls_cert, "/etc/ssl/relay.pem", "/etc/ssl/relay.pem"),
	S_STR(tls_key, "/etc/ssl/relay.key", "/etc/ssl/relay.key"),
	S_INT(deflate, "yes", 1),
	S_STR(allowed_origins, "https://game.example.com, http://[::1]:8080",
	    "https://game.example.com, http://[::1]:8080"),
	S_STR(secret, "s3cret with spaces", "s3cret with spaces"),
	S_STR(node, "relay-1.eu_west", "relay-1.eu_west"),
	S_STR(redis, "redis://127.0.0.1:6380/2", "redis://127.0.0.1:6380/2"),
	S_STR(redis_sentinel, "10.0.0.1:26379,sentinel-2",
	    "10.0.0.1:26379,sentinel-2"),
	S_STR(redis_master, "chat-master.1", "chat-master.1"),
	S_STR(redis_auth, "password=s3cret&db=2", "password=s3cret&db=2"),
	S_INT(redis_replicas_ack, "2", 2),
	{ "redis_connect_timeout", "500ms", K_I64,
	    offsetof(struct config, redis_connect_timeout_ms), 500, NULL },
	{ "presence_ttl", "30s", K_I64,
	    offsetof(struct config, presence_ttl_ms), 30000, NULL },
	S_STR(web_root, "/srv/web", "/srv/web"),
	S_INT(log_level, "debug", LOG_DEBUG),
	S_STR(log_format, "json", "json"),
	S_INT(frame_max, "8192", 8192),
	S_INT(message_max, "65536", 65536),
	S_INT(text_max, "1000", 1000),
	S_INT(json_depth_max, "16", 16),
	S_INT(rate, "5", 5),
	S_INT(burst, "50", 50),
	S_INT(rate_strikes_max, "3", 3),
	S_INT(channels_max, "64", 64),
	S_INT(user_connections_max, "2", 2),
	{ "auth_timeout", "1500ms", K_I64,
	    offsetof(struct config, auth_timeout_ms), 1500, NULL },
	{ "idle_timeout", "2m", K_I64,
	    offsetof(struct config, idle_timeout_ms), 120000, NULL },
	{ "client_queue_max", "1m", K_SIZE,
	    offsetof(struct config, client_queue_max), 1048576, NULL },
	S_INT(connections_max, "5000", 5000),
	S_INT(history_size, "0", 0),
	{ "history_ttl", "2d", K_I64,
	    offsetof(struct config, history_ttl_ms), 2 * 86400000LL, NULL },
	{ "channel_ttl", "3h", K_I64,
	    offsetof(struct config, channel_ttl_ms), 3 * 3600000LL, NULL },
	S_INT(presence_events_max, "7", 7),
	S_STR(state_file, "/var/lib/chatrelay/state", "/var/lib/chatrelay/state"),
	S_STR(audit_file, "/var/log/chatrelay/audit.jsonl",
	    "/var/log/chatrelay/audit.jsonl"),
	S_STR(filter_file, "/etc/chatrelay/words", "/etc/chatrelay/words"),
	S_STR(filter_policy, "mask", "mask"),
#undef S_INT
#undef S_STR
};

static const struct setting *
find_setting(const char *name)
{
	size_t	i;

	for (i = 0; i < NELEM(settings); i++) {
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	}
	return NULL;
}

/* Asserts that the field of s in cfg holds what s says it should. */
static void
check_field(const struct config *cfg, const struct setting *s)
{
	const char	*field = (const char *)cfg + s->offset;

	switch (s->kind) {
	case K_INT:
		ck_assert_msg(*(const int *)field == s->want,
		    "%s: got %d, want %lld", s->name, *(const int *)field,
		    (long long)s->want);
		break;
	case K_STR:
		ck_assert_str_eq(field, s->want_str);
		break;
	case K_SIZE:
		ck_assert_msg(*(const size_t *)field == (size_t)s->want,
		    "%s: got %zu", s->name, *(const size_t *)field);
		break;
	case K_I64:
		ck_assert_msg(*(const int64_t *)field == s->want,
		    "%s: got %lld", s->name,
		    (long long)*(const int64_t *)field);
		break;
	}
}

/* Writes len bytes of text to a new temporary file and names it in path. */
static void
write_temp(char *path, size_t pathlen, const char *text, size_t len)
{
	const char	*dir = getenv("TMPDIR");
	int		 fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	snprintf(path, pathlen, "%s/check_config.XXXXXX", dir);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* A stream that collects what is written to it, for reading error output. */
struct capture {
	FILE	*f;
	char	*buf;
	size_t	 len;
};

static void
capture_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	ck_assert_ptr_nonnull(c->f);
}

/* Closes the stream; the text stays in c->buf until capture_free. */
static const char *
capture_text(struct capture *c)
{
	if (c->f != NULL) {
		fclose(c->f);
		c->f = NULL;
	}
	return c->buf;
}

static void
capture_free(struct capture *c)
{
	capture_text(c);
	free(c->buf);
	c->buf = NULL;
}

/* Loads text as a configuration file into cfg, as config_load_file does. */
static int
load_text(struct config *cfg, const char *text, size_t len,
    struct capture *errs, char *path, size_t pathlen)
{
	int	r;

	write_temp(path, pathlen, text, len);
	r = config_load_file(cfg, path, errs != NULL ? errs->f : NULL);
	unlink(path);
	return r;
}

/* Runs config_parse_args on a NULL-terminated list of arguments. */
static int
parse_args(struct config *cfg, struct capture *out, struct capture *err,
    const char **args)
{
	char	*argv[32];
	int	 argc = 0;

	argv[argc++] = (char *)"chatrelay";
	while (*args != NULL && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return config_parse_args(cfg, NULL, argc, argv, out->f, err->f);
}

START_TEST(test_defaults)
{
	struct config	cfg;

	memset(&cfg, 0xa5, sizeof cfg);
	config_defaults(&cfg);
	ck_assert_str_eq(cfg.bind, "127.0.0.1");
	ck_assert_int_eq(cfg.port, 8080);
	ck_assert_int_eq(cfg.reuse_port, 0);
	ck_assert_int_eq(cfg.workers, 0);
	ck_assert(cfg.drain_timeout_ms == 3000);
	ck_assert_str_eq(cfg.tls_cert, "");
	ck_assert_str_eq(cfg.tls_key, "");
	ck_assert_int_eq(cfg.deflate, 0);
	ck_assert_str_eq(cfg.secret, "");
	ck_assert_str_eq(cfg.node, "");
	ck_assert_str_eq(cfg.redis, "");
	ck_assert_str_eq(cfg.redis_sentinel, "");
	ck_assert_str_eq(cfg.redis_master, "mymaster");
	ck_assert_str_eq(cfg.redis_auth, "");
	ck_assert_int_eq(cfg.redis_replicas_ack, 0);
	ck_assert_str_eq(cfg.web_root, "");
	ck_assert_int_eq(cfg.log_level, LOG_NOTICE);
	ck_assert_str_eq(cfg.log_format, "plain");
	ck_assert_int_eq(cfg.frame_max, 4096);
	ck_assert_int_eq(cfg.message_max, 4096);
	ck_assert_int_eq(cfg.text_max, 500);
	ck_assert_int_eq(cfg.json_depth_max, 8);
	ck_assert_int_eq(cfg.rate, 10);
	ck_assert_int_eq(cfg.burst, 20);
	ck_assert_int_eq(cfg.rate_strikes_max, 20);
	ck_assert_int_eq(cfg.channels_max, 32);
	ck_assert_int_eq(cfg.user_connections_max, 10);
	ck_assert(cfg.auth_timeout_ms == 5000);
	ck_assert(cfg.idle_timeout_ms == 60000);
	ck_assert(cfg.client_queue_max == 256 * 1024);
	ck_assert_int_eq(cfg.connections_max, 0);
	ck_assert_int_eq(cfg.history_size, 100);
	ck_assert(cfg.history_ttl_ms == 3600000);
	ck_assert_int_eq(cfg.presence_events_max, 100);
	ck_assert_str_eq(cfg.state_file, "");
	ck_assert_str_eq(cfg.audit_file, "");
	ck_assert_str_eq(cfg.filter_file, "");
	ck_assert_str_eq(cfg.filter_policy, "refuse");
	ck_assert_int_eq(config_check(&cfg, NULL, 0), 0);
}
END_TEST

START_TEST(test_directive_names)
{
	size_t	i, j, n = config_directive_count();

	ck_assert_uint_eq(n, NELEM(directive_names));
	for (i = 0; i < NELEM(directive_names); i++) {
		for (j = 0; j < n; j++) {
			if (strcmp(config_directive_name(j),
			    directive_names[i]) == 0)
				break;
		}
		ck_assert_msg(j < n, "directive %s missing from the table",
		    directive_names[i]);
	}
	ck_assert_ptr_null(config_directive_name(n));
}
END_TEST

START_TEST(test_set_every_directive)
{
	struct config		 cfg, again;
	const struct setting	*s;
	const char		*name;
	char			 err[256], text[512];
	size_t			 i;

	for (i = 0; i < config_directive_count(); i++) {
		name = config_directive_name(i);
		s = find_setting(name);
		ck_assert_msg(s != NULL, "no test value for directive %s",
		    name);

		config_defaults(&cfg);
		err[0] = '\0';
		ck_assert_msg(config_set(&cfg, name, s->text, err,
		    sizeof err) == 0, "%s %s: %s", name, s->text, err);
		check_field(&cfg, s);

		/* The text config_get gives back sets the same value. */
		ck_assert_int_eq(config_get(&cfg, name, text, sizeof text), 0);
		config_defaults(&again);
		ck_assert_msg(config_set(&again, name, text, err,
		    sizeof err) == 0, "%s %s: %s", name, text, err);
		ck_assert_msg(memcmp(&cfg, &again, sizeof cfg) == 0,
		    "%s: \"%s\" does not round-trip", name, text);
	}
}
END_TEST

START_TEST(test_get)
{
	struct config	cfg;
	char		buf[64];

	config_defaults(&cfg);
	ck_assert_int_eq(config_get(&cfg, "client_queue_max", buf,
	    sizeof buf), 0);
	ck_assert_str_eq(buf, "256k");
	ck_assert_int_eq(config_get(&cfg, "auth_timeout", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "5s");
	ck_assert_int_eq(config_get(&cfg, "history_ttl", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "1h");
	ck_assert_int_eq(config_get(&cfg, "deflate", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "no");
	ck_assert_int_eq(config_get(&cfg, "log_level", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "notice");
	ck_assert_int_eq(config_get(&cfg, "port", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "8080");
	ck_assert_int_eq(config_get(&cfg, "nosuch", buf, sizeof buf), -1);
	ck_assert_int_eq(config_get(&cfg, "bind", buf, 5), -1);
	ck_assert_int_eq(config_get(&cfg, "port", buf, 5), 0);
	ck_assert_int_eq(config_get(&cfg, "port", buf, 4), -1);
}
END_TEST

/* Good values of each type, and what they become. */
START_TEST(test_good_values)
{
	static const struct {
		const char	*name, *text;
		int64_t		 want;
	} cases[] = {
		{ "deflate", "yes", 1 }, { "deflate", "no", 0 },
		{ "deflate", "on", 1 }, { "deflate", "off", 0 },
		{ "deflate", "true", 1 }, { "deflate", "false", 0 },
		{ "deflate", "1", 1 }, { "deflate", "0", 0 },
		{ "deflate", "YES", 1 }, { "deflate", "Off", 0 },
		{ "client_queue_max", "4096", 4096 },
		{ "client_queue_max", "5000", 5000 },
		{ "client_queue_max", "4k", 4096 },
		{ "client_queue_max", "4K", 4096 },
		{ "client_queue_max", "3m", 3 << 20 },
		{ "client_queue_max", "3M", 3 << 20 },
		{ "client_queue_max", "1g", 1 << 30 },
		{ "client_queue_max", "1G", 1 << 30 },
		{ "auth_timeout", "500ms", 500 },
		{ "auth_timeout", "100ms", 100 },
		{ "auth_timeout", "5s", 5000 },
		{ "auth_timeout", "2m", 120000 },
		{ "auth_timeout", "1h", 3600000 },
		{ "auth_timeout", "7", 7000 },
		{ "history_ttl", "30d", 30 * 86400000LL },
		{ "history_ttl", "1s", 1000 },
		{ "idle_timeout", "24h", 86400000 },
		{ "port", "1", 1 }, { "port", "65535", 65535 },
		{ "workers", "64", 64 }, { "connections_max", "10000000", 10000000 },
		{ "log_level", "err", LOG_ERR }, { "log_level", "warn", LOG_WARN },
		{ "log_level", "notice", LOG_NOTICE },
		{ "log_level", "info", LOG_INFO },
		{ "log_level", "debug", LOG_DEBUG },
	};
	struct config	cfg;
	char		err[256];
	int64_t		got;
	size_t		i;

	for (i = 0; i < NELEM(cases); i++) {
		config_defaults(&cfg);
		ck_assert_msg(config_set(&cfg, cases[i].name, cases[i].text,
		    err, sizeof err) == 0, "%s %s: %s", cases[i].name,
		    cases[i].text, err);
		if (strcmp(cases[i].name, "deflate") == 0)
			got = cfg.deflate;
		else if (strcmp(cases[i].name, "client_queue_max") == 0)
			got = (int64_t)cfg.client_queue_max;
		else if (strcmp(cases[i].name, "auth_timeout") == 0)
			got = cfg.auth_timeout_ms;
		else if (strcmp(cases[i].name, "history_ttl") == 0)
			got = cfg.history_ttl_ms;
		else if (strcmp(cases[i].name, "idle_timeout") == 0)
			got = cfg.idle_timeout_ms;
		else if (strcmp(cases[i].name, "port") == 0)
			got = cfg.port;
		else if (strcmp(cases[i].name, "workers") == 0)
			got = cfg.workers;
		else if (strcmp(cases[i].name, "connections_max") == 0)
			got = cfg.connections_max;
		else
			got = cfg.log_level;
		ck_assert_msg(got == cases[i].want, "%s %s: got %lld",
		    cases[i].name, cases[i].text, (long long)got);
	}
}
END_TEST

/* Bad values of each type: refused with a reason, and the field untouched. */
START_TEST(test_bad_values)
{
	static const struct {
		const char	*name, *text, *why;
	} cases[] = {
		{ "port", "abc", "not a whole number" },
		{ "port", "", "not a whole number" },
		{ "port", "80x", "not a whole number" },
		{ "port", " 80", "not a whole number" },
		{ "port", "+80", "not a whole number" },
		{ "port", "8.5", "not a whole number" },
		{ "port", "0", "out of range (1..65535)" },
		{ "port", "-1", "out of range" },
		{ "port", "65536", "out of range" },
		{ "port", "99999999999999999999999", "out of range" },
		{ "workers", "65", "out of range (0..64)" },
		{ "frame_max", "1023", "out of range (1024..1048576)" },
		{ "json_depth_max", "1", "out of range" },
		{ "history_size", "10001", "out of range" },
		{ "deflate", "maybe", "not yes or no" },
		{ "deflate", "", "not yes or no" },
		{ "deflate", "2", "not yes or no" },
		{ "client_queue_max", "12q", "not a size" },
		{ "client_queue_max", "1kb", "not a size" },
		{ "client_queue_max", "k", "not a size" },
		{ "client_queue_max", "-4k", "not a size" },
		{ "client_queue_max", "4k ", "not a size" },
		{ "client_queue_max", "", "not a size" },
		{ "client_queue_max", "1k", "out of range (4k..1g)" },
		{ "client_queue_max", "2g", "out of range" },
		{ "client_queue_max", "1073741825", "out of range" },
		{ "client_queue_max", "99999999999999999999g", "out of range" },
		{ "client_queue_max", "9999999999999g", "out of range" },
		{ "auth_timeout", "5x", "not a duration" },
		{ "auth_timeout", "5 s", "not a duration" },
		{ "auth_timeout", "5S", "not a duration" },
		{ "auth_timeout", "-5s", "not a duration" },
		{ "auth_timeout", "ms", "not a duration" },
		{ "auth_timeout", "1.5s", "not a duration" },
		{ "auth_timeout", "", "not a duration" },
		{ "auth_timeout", "99ms", "out of range (100ms..1h)" },
		{ "auth_timeout", "3601", "out of range" },
		{ "idle_timeout", "999ms", "out of range (1s..1d)" },
		{ "history_ttl", "31d", "out of range" },
		{ "history_ttl", "9999999999999999d", "out of range" },
		{ "log_level", "loud", "not a log level" },
		{ "log_level", "", "not a log level" },
		{ "log_level", "3", "not a log level" },
		{ "node", "bad node", "may contain only" },
		{ "node", "a/b", "may contain only" },
		{ "node", "caf\xc3\xa9", "may contain only" },
		{ "node", "n:1", "may contain only" },
		{ "bind", "", "must not be empty" },
		{ "redis_master", "", "must not be empty" },
		{ "redis_master", "my master", "may not contain spaces" },
		{ "redis_master", "m\tx", "may not contain spaces" },
		{ "redis_replicas_ack", "17", "out of range (0..16)" },
		{ "redis_replicas_ack", "-1", "out of range" },
		{ "log_format", "", "must not be empty" },
		{ "log_format", "xml", "must be plain or json" },
		{ "log_format", "JSON", "must be plain or json" },
		{ "log_format", "json-lines", "too long" },
		{ "drain_timeout", "2h", "out of range (0ms..1h)" },
		{ "drain_timeout", "-1s", "not a duration" },
		{ "reuse_port", "sometimes", "not yes or no" },
		{ "filter_policy", "", "must not be empty" },
		{ "filter_policy", "block", "must be refuse or mask" },
		{ "filter_policy", "Mask", "must be refuse or mask" },
		{ "allowed_origins", "game.example.com", "is not an origin" },
		{ "allowed_origins", "https://a.example/", "is not an origin" },
		{ "allowed_origins", "*,", "is not an origin" },
		{ "allowed_origins", "http://a:0", "is not an origin" },
	};
	struct config	cfg, def;
	char		err[256];
	size_t		i;

	config_defaults(&def);
	for (i = 0; i < NELEM(cases); i++) {
		config_defaults(&cfg);
		err[0] = '\0';
		ck_assert_msg(config_set(&cfg, cases[i].name, cases[i].text,
		    err, sizeof err) == -1, "%s \"%s\" was accepted",
		    cases[i].name, cases[i].text);
		ck_assert_msg(strstr(err, cases[i].why) != NULL,
		    "%s \"%s\": reason \"%s\" lacks \"%s\"", cases[i].name,
		    cases[i].text, err, cases[i].why);
		ck_assert_msg(strncmp(err, cases[i].name,
		    strlen(cases[i].name)) == 0, "reason \"%s\" does not name "
		    "the directive", err);
		ck_assert_msg(memcmp(&cfg, &def, sizeof cfg) == 0,
		    "%s \"%s\" changed the configuration", cases[i].name,
		    cases[i].text);
	}
}
END_TEST

START_TEST(test_string_bounds)
{
	struct config	cfg;
	char		err[256], value[CONFIG_STR_MAX + 10];

	config_defaults(&cfg);

	/* CONFIG_STR_MAX - 1 bytes fit; one more does not. */
	memset(value, 'x', CONFIG_STR_MAX - 1);
	value[CONFIG_STR_MAX - 1] = '\0';
	ck_assert_int_eq(config_set(&cfg, "web_root", value, err, sizeof err), 0);
	ck_assert_str_eq(cfg.web_root, value);
	value[CONFIG_STR_MAX - 1] = 'x';
	value[CONFIG_STR_MAX] = '\0';
	ck_assert_int_eq(config_set(&cfg, "bind", value, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
	ck_assert_str_eq(cfg.bind, "127.0.0.1");

	/* A secret that is refused is never quoted in the reason. */
	memset(value, 'S', CONFIG_STR_MAX + 5);
	value[CONFIG_STR_MAX + 5] = '\0';
	ck_assert_int_eq(config_set(&cfg, "secret", value, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
	ck_assert_ptr_null(strstr(err, "SSSS"));

	/* node: 64 characters fit, 65 do not. */
	memset(value, 'n', 64);
	value[64] = '\0';
	ck_assert_int_eq(config_set(&cfg, "node", value, err, sizeof err), 0);
	ck_assert_str_eq(cfg.node, value);
	value[64] = 'n';
	value[65] = '\0';
	ck_assert_int_eq(config_set(&cfg, "node", value, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "too long"));

	/* Empty is allowed where empty means something. */
	ck_assert_int_eq(config_set(&cfg, "node", "", err, sizeof err), 0);
	ck_assert_int_eq(config_set(&cfg, "secret", "", err, sizeof err), 0);
	ck_assert_int_eq(config_set(&cfg, "tls_cert", "", err, sizeof err), 0);
}
END_TEST

START_TEST(test_unknown_directive)
{
	struct config	cfg, def;
	char		err[256];

	config_defaults(&cfg);
	config_defaults(&def);
	ck_assert_int_eq(config_set(&cfg, "nosuch", "1", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown directive \"nosuch\""));
	ck_assert_int_eq(config_set(&cfg, "Port", "1", err, sizeof err), -1);
	ck_assert_int_eq(config_set(&cfg, "", "1", err, sizeof err), -1);
	ck_assert_int_eq(config_set(&cfg, "port", NULL, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "missing value"));
	/* A NULL or empty err buffer is allowed. */
	ck_assert_int_eq(config_set(&cfg, "nosuch", "1", NULL, 0), -1);
	ck_assert_int_eq(config_set(&cfg, "port", "x", err, 0), -1);
	ck_assert(memcmp(&cfg, &def, sizeof cfg) == 0);
}
END_TEST

START_TEST(test_file_syntax)
{
	static const char text[] =
	    "\xef\xbb\xbf# A comment line.\n"
	    "\n"
	    "   \t  \n"
	    "port 9000\n"
	    "  rate\t\t5   # trailing comment\n"
	    "burst 30#comment with no space\r\n"
	    "web_root \"/srv/my web # root\"\r\n"
	    "secret \"a \\\"quoted\\\" \\\\ secret\"   # comment\n"
	    "tls_cert \"\"\n"
	    "bind \"::\"#x\n"
	    "client_queue_max 64k\r\n"
	    "\r\n"
	    "deflate on\n"
	    "log_level info\n"
	    "port 9001\n"
	    "history_ttl 90m";	/* no final newline */
	struct config	cfg;
	struct capture	errs;
	char		path[256];

	config_defaults(&cfg);
	capture_open(&errs);
	ck_assert_int_eq(load_text(&cfg, text, sizeof text - 1, &errs, path,
	    sizeof path), 0);
	ck_assert_str_eq(capture_text(&errs), "");
	capture_free(&errs);

	ck_assert_int_eq(cfg.port, 9001);	/* The later line wins. */
	ck_assert_int_eq(cfg.rate, 5);
	ck_assert_int_eq(cfg.burst, 30);
	ck_assert_str_eq(cfg.web_root, "/srv/my web # root");
	ck_assert_str_eq(cfg.secret, "a \"quoted\" \\ secret");
	ck_assert_str_eq(cfg.tls_cert, "");
	ck_assert_str_eq(cfg.bind, "::");
	ck_assert(cfg.client_queue_max == 64 * 1024);
	ck_assert_int_eq(cfg.deflate, 1);
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	ck_assert(cfg.history_ttl_ms == 90 * 60000);
}
END_TEST

START_TEST(test_file_bad_lines)
{
	static const char head[] =
	    "port 9000\n"				/* 1 */
	    "nosuch 1\n"				/* 2: unknown */
	    "rate\n"					/* 3: missing value */
	    "burst   # only a comment\n"		/* 4: missing value */
	    "port 70000\n"				/* 5: out of range */
	    "deflate maybe\n"				/* 6: bad bool */
	    "web_root \"unterminated\n"			/* 7: no closing quote */
	    "web_root \"bad \\n escape\"\n"		/* 8: bad escape */
	    "bind 1.2.3.4 extra\n"			/* 9: extra text */
	    "node \"a\"b\n"				/* 10: text after quote */
	    "\"port\" 1\n";				/* 11: unknown */
	static const char tail[] =
	    "\nrate 7\r\n"				/* 12 is long; 13 good */
	    "port\0 1\n"				/* 14: NUL byte */
	    "auth_timeout 2x\n"				/* 15: bad duration */
	    "channels_max 64\n";			/* 16 */
	struct config	 cfg;
	struct capture	 errs;
	char		 path[256], want[300];
	char		*text;
	const char	*out, *p;
	size_t		 len, longlen = 5000, i;
	static const int bad_lines[] = { 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	    14, 15 };

	/* Line 12: a comment longer than 4096 bytes. */
	len = sizeof head - 1 + longlen + sizeof tail - 1;
	text = malloc(len);
	ck_assert_ptr_nonnull(text);
	memcpy(text, head, sizeof head - 1);
	memset(text + sizeof head - 1, '#', longlen);
	memcpy(text + sizeof head - 1 + longlen, tail, sizeof tail - 1);

	config_defaults(&cfg);
	capture_open(&errs);
	ck_assert_int_eq(load_text(&cfg, text, len, &errs, path, sizeof path),
	    (int)NELEM(bad_lines));
	out = capture_text(&errs);
	free(text);

	for (i = 0; i < NELEM(bad_lines); i++) {
		snprintf(want, sizeof want, "%s:%d: ", path, bad_lines[i]);
		ck_assert_msg(strstr(out, want) != NULL, "no report of line "
		    "%d in:\n%s", bad_lines[i], out);
	}
	/* One report per bad line, and nothing about the good ones. */
	for (i = 0, p = out; (p = strchr(p, '\n')) != NULL; p++)
		i++;
	ck_assert_uint_eq(i, NELEM(bad_lines));
	snprintf(want, sizeof want, "%s:1: ", path);
	ck_assert_ptr_null(strstr(out, want));
	snprintf(want, sizeof want, "%s:13: ", path);
	ck_assert_ptr_null(strstr(out, want));
	ck_assert_ptr_nonnull(strstr(out, "unknown directive \"nosuch\""));
	ck_assert_ptr_nonnull(strstr(out, "rate: missing value"));
	ck_assert_ptr_nonnull(strstr(out, "longer than 4096"));
	ck_assert_ptr_nonnull(strstr(out, "missing closing quote"));
	capture_free(&errs);

	/* Good lines around the bad ones still count. */
	ck_assert_int_eq(cfg.port, 9000);
	ck_assert_int_eq(cfg.rate, 7);
	ck_assert_int_eq(cfg.channels_max, 64);
	ck_assert_str_eq(cfg.bind, "127.0.0.1");
	ck_assert_str_eq(cfg.web_root, "");
	ck_assert_int_eq(cfg.deflate, 0);
}
END_TEST

START_TEST(test_file_line_length)
{
	struct config	 cfg;
	struct capture	 errs;
	char		 path[256];
	char		*text;
	size_t		 len;

	/* Exactly 4096 bytes, with a CRLF ending, is allowed. */
	text = malloc(8192);
	ck_assert_ptr_nonnull(text);
	memcpy(text, "port 1234", 9);
	memset(text + 9, ' ', 4096 - 9);
	memcpy(text + 4096, "\r\n", 2);
	len = 4098;
	config_defaults(&cfg);
	capture_open(&errs);
	ck_assert_int_eq(load_text(&cfg, text, len, &errs, path, sizeof path), 0);
	ck_assert_int_eq(cfg.port, 1234);
	capture_free(&errs);

	/* 4097 bytes is too long, even without a newline at the end. */
	text[4096] = ' ';
	len = 4097;
	config_defaults(&cfg);
	capture_open(&errs);
	ck_assert_int_eq(load_text(&cfg, text, len, &errs, path, sizeof path), 1);
	ck_assert_ptr_nonnull(strstr(capture_text(&errs), ":1: line is longer"));
	ck_assert_int_eq(cfg.port, 8080);
	capture_free(&errs);
	free(text);
}
END_TEST

START_TEST(test_file_unreadable)
{
	struct config	cfg;
	struct capture	errs;

	config_defaults(&cfg);
	capture_open(&errs);
	ck_assert_int_eq(config_load_file(&cfg,
	    "/nonexistent/chatrelay.conf", errs.f), -1);
	ck_assert_ptr_nonnull(strstr(capture_text(&errs),
	    "/nonexistent/chatrelay.conf: cannot open"));
	capture_free(&errs);

	capture_open(&errs);
	ck_assert_int_eq(config_load_file(&cfg, "/", errs.f), -1);
	ck_assert_ptr_nonnull(strstr(capture_text(&errs), "/: cannot read"));
	capture_free(&errs);

	/* An empty file is fine. */
	ck_assert_int_eq(config_load_file(&cfg, "/dev/null", NULL), 0);
}
END_TEST

START_TEST(test_cross_field)
{
	struct config	cfg;
	struct capture	out, err;
	char		why[256];
	const char	*frame_only[] = { "-c", "/dev/null", "--frame_max",
	    "8192", NULL };
	const char	*both[] = { "--message_max", "8192", "-c", "/dev/null",
	    "--frame_max", "8192", NULL };
	const char	*cert_only[] = { "-c", "/dev/null", "--tls_cert",
	    "/x.pem", NULL };
	const char	*two_redis[] = { "-c", "/dev/null", "--redis",
	    "redis://127.0.0.1", "--redis_sentinel", "127.0.0.1:26379", NULL };
	const char	*sentinel[] = { "-c", "/dev/null", "--redis_sentinel",
	    "127.0.0.1:26379", "--redis_master", "chat", "--redis_auth",
	    "password=TOPSECRET", NULL };

	config_defaults(&cfg);
	cfg.frame_max = 8192;
	ck_assert_int_eq(config_check(&cfg, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "message_max"));
	ck_assert_ptr_nonnull(strstr(why, "frame_max"));
	cfg.message_max = 8192;
	ck_assert_int_eq(config_check(&cfg, why, sizeof why), 0);
	cfg.tls_key[0] = 'k';
	ck_assert_int_eq(config_check(&cfg, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "tls_cert"));

	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, frame_only),
	    CONFIG_EXIT_ERR);
	ck_assert_ptr_nonnull(strstr(capture_text(&err),
	    "message_max (4096) must be at least frame_max (8192)"));
	capture_free(&out);
	capture_free(&err);

	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, both), CONFIG_RUN);
	ck_assert_int_eq(cfg.frame_max, 8192);
	ck_assert_int_eq(cfg.message_max, 8192);
	ck_assert_str_eq(capture_text(&err), "");
	capture_free(&out);
	capture_free(&err);

	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, cert_only),
	    CONFIG_EXIT_ERR);
	capture_free(&out);
	capture_free(&err);

	/* redis or redis_sentinel, not both; redis_auth only with the second. */
	config_defaults(&cfg);
	snprintf(cfg.redis, sizeof cfg.redis, "redis://127.0.0.1");
	snprintf(cfg.redis_sentinel, sizeof cfg.redis_sentinel, "h:26379");
	ck_assert_int_eq(config_check(&cfg, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "mutually exclusive"));
	cfg.redis[0] = '\0';
	ck_assert_int_eq(config_check(&cfg, why, sizeof why), 0);
	snprintf(cfg.redis_auth, sizeof cfg.redis_auth, "password=x");
	ck_assert_int_eq(config_check(&cfg, why, sizeof why), 0);
	cfg.redis_sentinel[0] = '\0';
	ck_assert_int_eq(config_check(&cfg, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "redis_auth"));
	ck_assert_ptr_null(strstr(why, "password=x"));

	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, two_redis),
	    CONFIG_EXIT_ERR);
	ck_assert_ptr_nonnull(strstr(capture_text(&err),
	    "redis and redis_sentinel are mutually exclusive"));
	capture_free(&out);
	capture_free(&err);

	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, sentinel), CONFIG_RUN);
	ck_assert_str_eq(cfg.redis_sentinel, "127.0.0.1:26379");
	ck_assert_str_eq(cfg.redis_master, "chat");
	ck_assert_str_eq(cfg.redis_auth, "password=TOPSECRET");
	ck_assert_str_eq(capture_text(&err), "");
	capture_free(&out);
	capture_free(&err);
}
END_TEST

START_TEST(test_args_override_file)
{
	static const char text[] = "port 9000\nrate 5\nsecret filesecret\n";
	struct config	cfg;
	struct capture	out, err;
	char		path[256];
	const char	*args[] = { "--port", "9100", "--burst=33", "-c", path,
	    "--secret=a=b", "--auth_timeout", "250ms", "--node", "-x", NULL };
	const char	*bad_node[] = { "-c", "/dev/null", "--node", "-x y",
	    NULL };

	write_temp(path, sizeof path, text, sizeof text - 1);
	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, args), CONFIG_RUN);
	ck_assert_str_eq(capture_text(&err), "");
	ck_assert_str_eq(capture_text(&out), "");
	ck_assert_int_eq(cfg.port, 9100);	/* Given before -c, still wins. */
	ck_assert_int_eq(cfg.rate, 5);		/* From the file. */
	ck_assert_int_eq(cfg.burst, 33);	/* --name=value */
	ck_assert_str_eq(cfg.secret, "a=b");	/* Only the first '=' splits. */
	ck_assert(cfg.auth_timeout_ms == 250);
	ck_assert_str_eq(cfg.node, "-x");	/* A value may start with '-'. */
	capture_free(&out);
	capture_free(&err);

	/* --config=FILE works too. */
	{
		char		 opt[300];
		const char	*args2[] = { opt, NULL };

		snprintf(opt, sizeof opt, "--config=%s", path);
		capture_open(&out);
		capture_open(&err);
		ck_assert_int_eq(parse_args(&cfg, &out, &err, args2),
		    CONFIG_RUN);
		ck_assert_int_eq(cfg.port, 9000);
		ck_assert_str_eq(cfg.secret, "filesecret");
		capture_free(&out);
		capture_free(&err);
	}
	unlink(path);

	/* A bad override is reported and stops the start. */
	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, bad_node),
	    CONFIG_EXIT_ERR);
	ck_assert_ptr_nonnull(strstr(capture_text(&err),
	    "command line: node: may contain only"));
	capture_free(&out);
	capture_free(&err);
}
END_TEST

START_TEST(test_args_errors)
{
	const char *const *cases[] = {
		(const char *[]){ "--nosuch", "1", NULL },
		(const char *[]){ "--nosuch=1", NULL },
		(const char *[]){ "--port", NULL },
		(const char *[]){ "-c", NULL },
		(const char *[]){ "--config", NULL },
		(const char *[]){ "stray", NULL },
		(const char *[]){ "--", NULL },
		(const char *[]){ "-x", NULL },
		(const char *[]){ "-c", "/dev/null", "-c", "/dev/null", NULL },
		(const char *[]){ "-c", "/nonexistent/chatrelay.conf", NULL },
		(const char *[]){ "-c", "/dev/null", "--port", "0", NULL },
		(const char *[]){ "-c", "/dev/null", "--port=", NULL },
	};
	struct config	cfg;
	struct capture	out, err;
	size_t		i;

	for (i = 0; i < NELEM(cases); i++) {
		capture_open(&out);
		capture_open(&err);
		ck_assert_msg(parse_args(&cfg, &out, &err,
		    (const char **)cases[i]) == CONFIG_EXIT_ERR,
		    "case %zu accepted", i);
		ck_assert_msg(*capture_text(&err) != '\0',
		    "case %zu: nothing reported", i);
		capture_free(&out);
		capture_free(&err);
	}
}
END_TEST

START_TEST(test_args_test_config)
{
	/* web_root: one that exists wherever the test runs. */
	static const char good[] = "port 9000\n# comment\nweb_root /\n";
	static const char bad[] = "port 9000\nport 0\nnosuch x\n";
	struct config	cfg;
	struct capture	out, err;
	char		path[256], want[300];
	const char	*args[] = { "--test-config", "-c", path, NULL };
	const char	*cross[] = { "-c", path, "--test-config",
	    "--frame_max", "5000", NULL };

	write_temp(path, sizeof path, good, sizeof good - 1);
	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, args), CONFIG_EXIT_OK);
	ck_assert_str_eq(capture_text(&out), "configuration OK\n");
	ck_assert_str_eq(capture_text(&err), "");
	capture_free(&out);
	capture_free(&err);

	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, cross), CONFIG_EXIT_ERR);
	ck_assert_str_eq(capture_text(&out), "");
	ck_assert_ptr_nonnull(strstr(capture_text(&err), "message_max"));
	capture_free(&out);
	capture_free(&err);
	unlink(path);

	write_temp(path, sizeof path, bad, sizeof bad - 1);
	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, args), CONFIG_EXIT_ERR);
	ck_assert_str_eq(capture_text(&out), "");
	snprintf(want, sizeof want, "%s:2: port: 0 is out of range", path);
	ck_assert_ptr_nonnull(strstr(capture_text(&err), want));
	snprintf(want, sizeof want, "%s:3: unknown directive", path);
	ck_assert_ptr_nonnull(strstr(capture_text(&err), want));
	ck_assert_ptr_nonnull(strstr(capture_text(&err),
	    "configuration has 2 errors"));
	capture_free(&out);
	capture_free(&err);

	/* Without --test-config, a bad file stops the start too. */
	{
		const char	*run[] = { "-c", path, NULL };

		capture_open(&out);
		capture_open(&err);
		ck_assert_int_eq(parse_args(&cfg, &out, &err, run),
		    CONFIG_EXIT_ERR);
		capture_free(&out);
		capture_free(&err);
	}
	unlink(path);
}
END_TEST

START_TEST(test_args_help_version)
{
	struct config	 cfg;
	struct capture	 out, err;
	const char	*help[] = { "--port", "1", "--help", NULL };
	const char	*version[] = { "--version", NULL };
	char		 want[64];
	const char	*text;
	size_t		 i;

	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, help), CONFIG_EXIT_OK);
	text = capture_text(&out);
	ck_assert_ptr_nonnull(strstr(text, "usage: chatrelay"));
	ck_assert_ptr_nonnull(strstr(text, "--test-config"));
	ck_assert_ptr_nonnull(strstr(text, "chatrelay token --help"));
	for (i = 0; i < config_directive_count(); i++) {
		snprintf(want, sizeof want, "  --%s ", config_directive_name(i));
		ck_assert_msg(strstr(text, want) != NULL, "--help lacks %s",
		    want);
	}
	ck_assert_ptr_nonnull(strstr(text, "--port N (default 8080, 1..65535)"));
	ck_assert_ptr_nonnull(strstr(text,
	    "--client_queue_max SIZE (default 256k, 4k..1g)"));
	ck_assert_str_eq(capture_text(&err), "");
	capture_free(&out);
	capture_free(&err);

	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, version), CONFIG_EXIT_OK);
	snprintf(want, sizeof want, "chatrelay %s (protocol 1)\n",
	    CHATRELAY_VERSION);
	ck_assert_str_eq(capture_text(&out), want);
	capture_free(&out);
	capture_free(&err);
}
END_TEST

/* Runs config_parse_command for "chatrelay token" on a NULL-terminated list of arguments. */
static int
parse_command(struct config *cfg, struct capture *err,
    struct config_option *opts, size_t nopts, const char **args)
{
	char	*argv[32];
	int	 argc = 0;

	argv[argc++] = (char *)"token";
	while (*args != NULL && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return config_parse_command(cfg, "chatrelay token", argc, argv, opts,
	    nopts, err->f);
}

START_TEST(test_command_args)
{
	static const char text[] = "port 9000\nsecret filesecret\n";
	static const char bad[] = "secret s\nport 0\n";
	struct config_option	 opts[] = { { .name = "sub" }, { .name = "ttl" } };
	struct config		 cfg;
	struct capture		 err;
	char			 path[256], want[300];
	const char		*args[] = { "--sub", "a", "--ttl=5", "-c", path,
	    "--port", "9100", NULL };
	const char		*help[] = { "-c", "/nonexistent", "--help", NULL };
	const char		*twice[] = { "--sub", "a", "--sub=b", NULL };
	const char		*daemon_only[] = { "--test-config", NULL };
	const char		*version[] = { "--version", NULL };
	const char		*novalue[] = { "-c", "/dev/null", "--sub", NULL };
	const char		*none[] = { "-c", "/dev/null", NULL };
	const char		*badfile[] = { "-c", path, "--sub", "a", NULL };

	/* Options filled in, the file loaded, the directives applied over it. */
	write_temp(path, sizeof path, text, sizeof text - 1);
	capture_open(&err);
	ck_assert_int_eq(parse_command(&cfg, &err, opts, 2, args), CONFIG_RUN);
	ck_assert_str_eq(capture_text(&err), "");
	ck_assert_str_eq(opts[0].value, "a");
	ck_assert_str_eq(opts[1].value, "5");
	ck_assert_int_eq(cfg.port, 9100);
	ck_assert_str_eq(cfg.secret, "filesecret");
	capture_free(&err);
	unlink(path);

	/* Options not given are NULL, whatever they held before. */
	capture_open(&err);
	ck_assert_int_eq(parse_command(&cfg, &err, opts, 2, none), CONFIG_RUN);
	ck_assert_ptr_null(opts[0].value);
	ck_assert_ptr_null(opts[1].value);
	capture_free(&err);

	/* --help: nothing loaded, nothing said; the caller prints its usage. */
	capture_open(&err);
	ck_assert_int_eq(parse_command(&cfg, &err, opts, 2, help),
	    CONFIG_EXIT_OK);
	ck_assert_str_eq(capture_text(&err), "");
	capture_free(&err);

	/* An option given twice, a missing value, the daemon's own flags. */
	capture_open(&err);
	ck_assert_int_eq(parse_command(&cfg, &err, opts, 2, twice),
	    CONFIG_EXIT_ERR);
	ck_assert_str_eq(capture_text(&err), "chatrelay token: --sub given "
	    "more than once\nTry 'chatrelay token --help'.\n");
	capture_free(&err);
	capture_open(&err);
	ck_assert_int_eq(parse_command(&cfg, &err, opts, 2, novalue),
	    CONFIG_EXIT_ERR);
	ck_assert_ptr_nonnull(strstr(capture_text(&err),
	    "chatrelay token: --sub needs a value"));
	capture_free(&err);
	capture_open(&err);
	ck_assert_int_eq(parse_command(&cfg, &err, opts, 2, daemon_only),
	    CONFIG_EXIT_ERR);
	ck_assert_ptr_nonnull(strstr(capture_text(&err),
	    "chatrelay token: unknown option --test-config"));
	capture_free(&err);
	capture_open(&err);
	ck_assert_int_eq(parse_command(&cfg, &err, opts, 2, version),
	    CONFIG_EXIT_ERR);
	capture_free(&err);

	/* A bad file stops it as it stops the daemon. */
	write_temp(path, sizeof path, bad, sizeof bad - 1);
	capture_open(&err);
	ck_assert_int_eq(parse_command(&cfg, &err, opts, 2, badfile),
	    CONFIG_EXIT_ERR);
	snprintf(want, sizeof want, "%s:2: port: 0 is out of range", path);
	ck_assert_ptr_nonnull(strstr(capture_text(&err), want));
	capture_free(&err);
	unlink(path);
}
END_TEST

START_TEST(test_args_subcommand_first)
{
	struct config	 cfg;
	struct capture	 out, err;
	const char	*args[] = { "-c", "/dev/null", "token", NULL };

	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, args), CONFIG_EXIT_ERR);
	ck_assert_ptr_nonnull(strstr(capture_text(&err),
	    "unexpected argument \"token\" (a subcommand comes first: "
	    "chatrelay token ...)"));
	capture_free(&out);
	capture_free(&err);
}
END_TEST

#ifdef SYSCONFDIR
/* Without -c, the default file is read only if it exists. */
START_TEST(test_args_default_file)
{
	struct config	cfg, def;
	struct capture	out, err;
	const char	*none[] = { NULL };

	if (access(SYSCONFDIR "/chatrelay.conf", F_OK) == 0)
		return;		/* An installed file would change the result. */
	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, none), CONFIG_RUN);
	config_defaults(&def);
	ck_assert(memcmp(&cfg, &def, sizeof cfg) == 0);
	capture_free(&out);
	capture_free(&err);
}
END_TEST
#endif

/* Opens the shipped conf/chatrelay.conf, wherever the tests run from. */
static FILE *
open_shipped(char *path, size_t len)
{
	static const char *const fallbacks[] = {
		"../conf/chatrelay.conf", "conf/chatrelay.conf",
		"../../conf/chatrelay.conf"
	};
	const char	*dir = getenv("CHATRELAY_SRCDIR");
	FILE		*f;
	size_t		 i;

	if (dir != NULL && *dir != '\0') {
		snprintf(path, len, "%s/conf/chatrelay.conf", dir);
		if ((f = fopen(path, "r")) != NULL)
			return f;
	}
	for (i = 0; i < NELEM(fallbacks); i++) {
		snprintf(path, len, "%s", fallbacks[i]);
		if ((f = fopen(path, "r")) != NULL)
			return f;
	}
	ck_abort_msg("conf/chatrelay.conf not found; set CHATRELAY_SRCDIR");
	return NULL;
}

START_TEST(test_shipped_conf_loads)
{
	struct config	 cfg, def;
	struct capture	 errs;
	char		 path[1024];
	FILE		*f;

	f = open_shipped(path, sizeof path);
	fclose(f);
	config_defaults(&cfg);
	config_defaults(&def);
	capture_open(&errs);
	ck_assert_int_eq(config_load_file(&cfg, path, errs.f), 0);
	ck_assert_str_eq(capture_text(&errs), "");
	capture_free(&errs);
	/* Everything in it is commented out. */
	ck_assert(memcmp(&cfg, &def, sizeof cfg) == 0);
}
END_TEST

/*
 * Every directive appears in the manual as "# NAME VALUE", and uncommenting
 * that line keeps the default: the manual cannot fall behind the table.
 */
START_TEST(test_shipped_conf_complete)
{
	struct config	 cfg, def;
	char		 path[1024], line[4200], prefix[80], tmp[256];
	const char	*name;
	FILE		*f;
	size_t		 i, plen;
	int		 found;

	config_defaults(&def);
	for (i = 0; i < config_directive_count(); i++) {
		name = config_directive_name(i);
		snprintf(prefix, sizeof prefix, "# %s ", name);
		plen = strlen(prefix);
		found = 0;
		f = open_shipped(path, sizeof path);
		while (fgets(line, sizeof line, f) != NULL) {
			if (strncmp(line, prefix, plen) != 0)
				continue;
			config_defaults(&cfg);
			if (load_text(&cfg, line + 2, strlen(line + 2), NULL,
			    tmp, sizeof tmp) == 0 &&
			    memcmp(&cfg, &def, sizeof cfg) == 0)
				found = 1;
		}
		fclose(f);
		ck_assert_msg(found, "%s has no \"# %s DEFAULT\" line", path,
		    name);
	}
}
END_TEST

/* The directives a reload applies live, and those never logged. */
START_TEST(test_live_and_secret)
{
	static const char *const live[] = {
		"drain_timeout", "log_level", "log_format", "text_max",
		"json_depth_max", "rate", "burst", "rate_strikes_max",
		"channels_max", "user_connections_max", "auth_timeout",
		"idle_timeout", "client_queue_max", "connections_max",
		"history_ttl", "channel_ttl", "presence_events_max",
		"audit_file", "filter_file", "filter_policy"
	};
	static const char *const secret[] = { "secret", "redis", "redis_auth" };
	size_t	i, j, nlive = 0, nsecret = 0;

	for (i = 0; i < NELEM(live); i++)
		ck_assert_msg(config_is_live(live[i]), "%s is not live",
		    live[i]);
	for (i = 0; i < NELEM(secret); i++) {
		ck_assert_msg(config_is_secret(secret[i]), "%s is not secret",
		    secret[i]);
		ck_assert(!config_is_live(secret[i]));
	}
	/* Nothing else: what is set up once never changes under a worker. */
	for (i = 0; i < config_directive_count(); i++) {
		const char	*name = config_directive_name(i);

		for (j = 0; j < NELEM(live); j++)
			if (strcmp(name, live[j]) == 0)
				break;
		if (config_is_live(name)) {
			ck_assert_msg(j < NELEM(live), "%s is live", name);
			nlive++;
		}
		if (config_is_secret(name))
			nsecret++;
	}
	ck_assert_uint_eq(nlive, NELEM(live));
	ck_assert_uint_eq(nsecret, NELEM(secret));
	ck_assert(!config_is_live("port"));
	ck_assert(!config_is_live("nosuch"));
	ck_assert(!config_is_secret("nosuch"));
}
END_TEST

/* What config_merge_live was told, for test_merge_live. */
struct notes {
	char	text[512];
	int	n;
};

static void
note_cb(const char *name, bool live, void *arg)
{
	struct notes	*nt = arg;
	size_t		 len = strlen(nt->text);

	snprintf(nt->text + len, sizeof nt->text - len, "%s%s:%s",
	    len != 0 ? " " : "", name, live ? "live" : "restart");
	nt->n++;
}

START_TEST(test_merge_live)
{
	struct config	cur, next, want;
	struct notes	nt = { "", 0 };
	char		err[256];

	config_defaults(&cur);
	config_defaults(&next);
	ck_assert_int_eq(config_set(&next, "rate", "3", err, sizeof err), 0);
	ck_assert_int_eq(config_set(&next, "log_format", "json", err,
	    sizeof err), 0);
	ck_assert_int_eq(config_set(&next, "filter_file", "/w", err,
	    sizeof err), 0);
	ck_assert_int_eq(config_set(&next, "port", "9001", err, sizeof err), 0);
	ck_assert_int_eq(config_set(&next, "secret", "s", err, sizeof err), 0);
	ck_assert_int_eq(config_set(&next, "history_size", "5", err,
	    sizeof err), 0);

	ck_assert_int_eq(config_merge_live(&cur, &next, note_cb, &nt), 3);
	ck_assert_int_eq(nt.n, 6);
	ck_assert_str_eq(nt.text, "port:restart secret:restart "
	    "log_format:live rate:live history_size:restart filter_file:live");
	/* The live three copied, nothing else. */
	config_defaults(&want);
	want.rate = 3;
	snprintf(want.log_format, sizeof want.log_format, "json");
	snprintf(want.filter_file, sizeof want.filter_file, "/w");
	ck_assert(memcmp(&cur, &want, sizeof cur) == 0);

	/* Merged again: only what still differs is noted, nothing copied. */
	nt.text[0] = '\0';
	nt.n = 0;
	ck_assert_int_eq(config_merge_live(&cur, &next, note_cb, &nt), 0);
	ck_assert_str_eq(nt.text, "port:restart secret:restart "
	    "history_size:restart");
	ck_assert_int_eq(config_merge_live(&cur, &cur, NULL, NULL), 0);
}
END_TEST

/*
 * config_reload reads what config_parse_args read: the same file (as it
 * is now), the same command line over it.
 */
START_TEST(test_reload)
{
	static const char first[] = "rate 5\nburst 30\nport 9000\n";
	static const char second[] = "rate 9\nburst 3\nport 9001\n"
	    "log_level info\n";
	static const char broken[] = "rate 9\nrate nine\nnosuch 1\n";
	struct config_source	 src;
	struct config		 cfg, again;
	struct capture		 out, err;
	char			 path[256], *argv[8];
	FILE			*f;

	write_temp(path, sizeof path, first, sizeof first - 1);
	argv[0] = (char *)"chatrelay";
	argv[1] = (char *)"-c";
	argv[2] = path;
	argv[3] = (char *)"--burst";
	argv[4] = (char *)"7";
	argv[5] = NULL;
	capture_open(&out);
	capture_open(&err);
	memset(&src, 0xa5, sizeof src);
	ck_assert_int_eq(config_parse_args(&cfg, &src, 5, argv, out.f, err.f),
	    CONFIG_RUN);
	capture_free(&out);
	capture_free(&err);
	ck_assert_int_eq(cfg.rate, 5);
	ck_assert_int_eq(cfg.burst, 7);
	ck_assert_int_eq(src.argc, 5);
	ck_assert_ptr_eq(src.argv, argv);
	ck_assert_msg(src.path[0] == '/', "not absolute: %s", src.path);

	/* The file changed: its new values, the command line still over it. */
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(second, f);
	fclose(f);
	capture_open(&err);
	ck_assert_int_eq(config_reload(&again, &src, err.f), 0);
	ck_assert_str_eq(capture_text(&err), "");
	capture_free(&err);
	ck_assert_int_eq(again.rate, 9);
	ck_assert_int_eq(again.burst, 7);
	ck_assert_int_eq(again.port, 9001);
	ck_assert_int_eq(again.log_level, LOG_INFO);

	/* A broken file: every problem reported, and the count returned. */
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(broken, f);
	fclose(f);
	capture_open(&err);
	ck_assert_int_eq(config_reload(&again, &src, err.f), 2);
	ck_assert_ptr_nonnull(strstr(capture_text(&err), ":2: rate:"));
	ck_assert_ptr_nonnull(strstr(capture_text(&err), ":3: unknown"));
	capture_free(&err);

	/* A file that went away cannot be read. */
	unlink(path);
	capture_open(&err);
	ck_assert_int_eq(config_reload(&again, &src, err.f), -1);
	ck_assert_ptr_nonnull(strstr(capture_text(&err), "cannot open"));
	capture_free(&err);

	/* Started without a file: a reload reads no file, the command line. */
	src.path[0] = '\0';
	capture_open(&err);
	ck_assert_int_eq(config_reload(&again, &src, err.f), 0);
	capture_free(&err);
	config_defaults(&cfg);
	cfg.burst = 7;
	ck_assert(memcmp(&again, &cfg, sizeof cfg) == 0);
}
END_TEST

/* The web root: web_root, or ./web from a source tree, or DATADIR's. */
START_TEST(test_web_root)
{
	struct config	 cfg;
	char		 dir[256], cwd[4096], file[300], out[300];
	const char	*tmp = getenv("TMPDIR");
	FILE		*f;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	snprintf(dir, sizeof dir, "%s/check_config_web.XXXXXX", tmp);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chdir(dir), 0);

	config_defaults(&cfg);
	ck_assert_int_eq(config_web_root(&cfg, out, sizeof out), 0);
	ck_assert_str_eq(out, DATADIR "/web");
	/* A web/ without an index.html is not a source tree's. */
	ck_assert_int_eq(mkdir("web", 0755), 0);
	ck_assert_int_eq(config_web_root(&cfg, out, sizeof out), 0);
	ck_assert_str_eq(out, DATADIR "/web");
	f = fopen("web/index.html", "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(config_web_root(&cfg, out, sizeof out), 0);
	ck_assert_str_eq(out, "web");
	snprintf(cfg.web_root, sizeof cfg.web_root, "/srv/www");
	ck_assert_int_eq(config_web_root(&cfg, out, sizeof out), 0);
	ck_assert_str_eq(out, "/srv/www");
	ck_assert_int_eq(config_web_root(&cfg, out, 4), -1);

	snprintf(file, sizeof file, "%s/web/index.html", dir);
	unlink(file);
	snprintf(file, sizeof file, "%s/web", dir);
	rmdir(file);
	ck_assert_int_eq(chdir(cwd), 0);
	rmdir(dir);
}
END_TEST

/* --test-config's look at the files (TLS, filter, web root) and the secret. */
START_TEST(test_check_files)
{
	struct config	 cfg;
	struct capture	 err;
	char		 path[256];
	const char	*text;

	write_temp(path, sizeof path, "x\n", 2);
	config_defaults(&cfg);
	snprintf(cfg.web_root, sizeof cfg.web_root, "/");

	capture_open(&err);
	ck_assert_int_eq(config_check_files(&cfg, true, err.f), 0);
	ck_assert_str_eq(capture_text(&err), "");
	capture_free(&err);

	/* Missing files, a file for a directory, a short secret. */
	snprintf(cfg.tls_cert, sizeof cfg.tls_cert, "/nonexistent/cert.pem");
	snprintf(cfg.tls_key, sizeof cfg.tls_key, "%s", path);
	snprintf(cfg.filter_file, sizeof cfg.filter_file, "/");
	snprintf(cfg.web_root, sizeof cfg.web_root, "%s", path);
	snprintf(cfg.secret, sizeof cfg.secret, "0123456789");
	capture_open(&err);
	ck_assert_int_eq(config_check_files(&cfg, true, err.f), 3);
	text = capture_text(&err);
	ck_assert_ptr_nonnull(strstr(text, "tls_cert /nonexistent/cert.pem: "
	    "No such file or directory\n"));
	ck_assert_ptr_null(strstr(text, "tls_key"));
	ck_assert_ptr_nonnull(strstr(text, "filter_file /: not a regular "
	    "file\n"));
	ck_assert_ptr_nonnull(strstr(text, "not a directory\n"));
	ck_assert_ptr_nonnull(strstr(text, "warning: secret is 10 bytes long"));
	ck_assert_ptr_null(strstr(text, "0123456789"));
	capture_free(&err);

	/* Without web_strict the web root is only a warning. */
	capture_open(&err);
	ck_assert_int_eq(config_check_files(&cfg, false, err.f), 2);
	ck_assert_ptr_nonnull(strstr(capture_text(&err), "warning: web_root "));
	capture_free(&err);

	/* 32 bytes are enough. */
	config_defaults(&cfg);
	snprintf(cfg.web_root, sizeof cfg.web_root, "/");
	snprintf(cfg.secret, sizeof cfg.secret, "%032d", 7);
	capture_open(&err);
	ck_assert_int_eq(config_check_files(&cfg, true, err.f), 0);
	ck_assert_str_eq(capture_text(&err), "");
	capture_free(&err);
	unlink(path);
}
END_TEST

/* --test-config fails on what config_check_files finds. */
START_TEST(test_args_test_config_files)
{
	static const char text[] = "web_root /nonexistent/web\n"
	    "secret short\n";
	struct config	cfg;
	struct capture	out, err;
	char		path[256];
	const char	*args[] = { "--test-config", "-c", path, NULL };
	const char	*fixed[] = { "--test-config", "-c", path, "--web_root",
	    "/", NULL };

	write_temp(path, sizeof path, text, sizeof text - 1);
	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, args), CONFIG_EXIT_ERR);
	ck_assert_str_eq(capture_text(&out), "");
	ck_assert_ptr_nonnull(strstr(capture_text(&err),
	    "web_root /nonexistent/web: No such file or directory"));
	ck_assert_ptr_nonnull(strstr(capture_text(&err),
	    "configuration has 1 error"));
	capture_free(&out);
	capture_free(&err);

	capture_open(&out);
	capture_open(&err);
	ck_assert_int_eq(parse_args(&cfg, &out, &err, fixed), CONFIG_EXIT_OK);
	ck_assert_str_eq(capture_text(&out), "configuration OK\n");
	ck_assert_ptr_nonnull(strstr(capture_text(&err),
	    "warning: secret is 5 bytes long"));
	capture_free(&out);
	capture_free(&err);
	unlink(path);
}
END_TEST

START_TEST(test_log_levels)
{
	int	l;

	for (l = LOG_ERR; l <= LOG_DEBUG; l++)
		ck_assert_int_eq(log_level_parse(log_level_name(l)), l);
	ck_assert_int_eq(log_level_parse("NOTICE"), LOG_NOTICE);
	ck_assert_int_eq(log_level_parse("verbose"), -1);
	ck_assert_int_eq(log_level_parse(NULL), -1);
	ck_assert_int_eq(log_get_level(), LOG_NOTICE);
	log_set_level(LOG_DEBUG);
	ck_assert_int_eq(log_get_level(), LOG_DEBUG);
	log_set_level(99);
	ck_assert_int_eq(log_get_level(), LOG_DEBUG);
	log_set_level(-3);
	ck_assert_int_eq(log_get_level(), LOG_ERR);
	log_set_level(LOG_NOTICE);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("values");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_directive_names);
	tcase_add_test(tc, test_set_every_directive);
	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_good_values);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_string_bounds);
	tcase_add_test(tc, test_unknown_directive);
	tcase_add_test(tc, test_log_levels);
	tcase_add_test(tc, test_live_and_secret);
	tcase_add_test(tc, test_merge_live);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_test(tc, test_file_syntax);
	tcase_add_test(tc, test_file_bad_lines);
	tcase_add_test(tc, test_file_line_length);
	tcase_add_test(tc, test_file_unreadable);
	suite_add_tcase(s, tc);

	tc = tcase_create("args");
	tcase_add_test(tc, test_cross_field);
	tcase_add_test(tc, test_args_override_file);
	tcase_add_test(tc, test_args_errors);
	tcase_add_test(tc, test_args_test_config);
	tcase_add_test(tc, test_args_help_version);
	tcase_add_test(tc, test_command_args);
	tcase_add_test(tc, test_args_subcommand_first);
	tcase_add_test(tc, test_args_test_config_files);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_web_root);
	tcase_add_test(tc, test_check_files);
#ifdef SYSCONFDIR
	tcase_add_test(tc, test_args_default_file);
#endif
	suite_add_tcase(s, tc);

	tc = tcase_create("shipped");
	tcase_add_test(tc, test_shipped_conf_loads);
	tcase_add_test(tc, test_shipped_conf_complete);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(config_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
