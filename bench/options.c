/*
 * options.c: parses and checks chatrelay-bench's command line, and holds
 * its --help text (the man page, doc/chatrelay-bench.1, says the same at
 * length).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

enum {
	OPT_URL = 256, OPT_URL2, OPT_SCENARIO, OPT_CONNECTIONS, OPT_PUBLISHERS,
	OPT_CHANNELS, OPT_ROOM_SIZE, OPT_RATE, OPT_SIZE, OPT_DURATION,
	OPT_WARMUP, OPT_DRAIN, OPT_WINDOW, OPT_PID, OPT_JSON, OPT_CONNECT_RATE,
	OPT_SOURCES, OPT_TOKEN_SECRET, OPT_QUIET, OPT_HELP, OPT_VERSION,
};

static const struct option long_options[] = {
	{ "url",		required_argument, NULL, OPT_URL },
	{ "url2",		required_argument, NULL, OPT_URL2 },
	{ "scenario",		required_argument, NULL, OPT_SCENARIO },
	{ "connections",	required_argument, NULL, OPT_CONNECTIONS },
	{ "publishers",		required_argument, NULL, OPT_PUBLISHERS },
	{ "channels",		required_argument, NULL, OPT_CHANNELS },
	{ "room-size",		required_argument, NULL, OPT_ROOM_SIZE },
	{ "rate",		required_argument, NULL, OPT_RATE },
	{ "size",		required_argument, NULL, OPT_SIZE },
	{ "duration",		required_argument, NULL, OPT_DURATION },
	{ "warmup",		required_argument, NULL, OPT_WARMUP },
	{ "drain",		required_argument, NULL, OPT_DRAIN },
	{ "window",		required_argument, NULL, OPT_WINDOW },
	{ "pid",		required_argument, NULL, OPT_PID },
	{ "json",		no_argument,	   NULL, OPT_JSON },
	{ "connect-rate",	required_argument, NULL, OPT_CONNECT_RATE },
	{ "sources",		required_argument, NULL, OPT_SOURCES },
	{ "token-secret",	required_argument, NULL, OPT_TOKEN_SECRET },
	{ "quiet",		no_argument,	   NULL, OPT_QUIET },
	{ "help",		no_argument,	   NULL, OPT_HELP },
	{ "version",		no_argument,	   NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
"usage: chatrelay-bench [--scenario idle|fanout|rooms|cluster] [OPTIONS]\n"
"\n"
"Load generator for chatrelay: opens many WebSocket connections from one\n"
"thread, authenticates and joins them, publishes, and reports deliveries,\n"
"loss (from seq), latency percentiles and, with --pid, the relay's CPU\n"
"time per delivery and memory per connection.\n"
"\n"
"Scenarios:\n"
"  idle      N connections authenticated, joined and held (no messages)\n"
"  fanout    P publishers send to C channels joined by N subscribers\n"
"  rooms     N connections in channels of --room-size members; every\n"
"            member publishes to its room and receives its room\n"
"  cluster   fanout with publishers on --url and subscribers on --url2\n"
"\n"
"Options (default in brackets):\n"
"  --url URL            relay to connect to [ws://127.0.0.1:8080/ws]\n"
"  --url2 URL           cluster: the instance subscribers connect to\n"
"  --scenario NAME      idle, fanout, rooms or cluster [fanout]\n"
"  --connections N      connections (idle, rooms) or subscribers (fanout,\n"
"                       cluster) [100]\n"
"  --publishers P       publishing connections (fanout, cluster) [1]\n"
"  --channels C         channels (idle, fanout, cluster) [1]\n"
"  --room-size K        members per room (rooms) [2]\n"
"  --rate R             messages per second in total over all publishers;\n"
"                       0 sends as fast as acknowledged [0]\n"
"  --window K           unacknowledged sends per publisher when --rate is 0\n"
"                       [16]\n"
"  --size S             bytes of text per message, at least 24 [64]\n"
"  --duration SECS      measured window [10]\n"
"  --warmup SECS        publishing before the window, not measured [1]\n"
"  --drain SECS         most time to wait for stragglers after the last\n"
"                       send before counting loss [2]\n"
"  --pid PID            the relay's process: report its CPU and memory\n"
"  --connect-rate N     new connections per second [2000]\n"
"  --sources N          most 127.0.0.x source addresses to spread\n"
"                       connections over when one has too few ports [32]\n"
"  --token-secret S     token mode: authenticate with HS256 JWTs signed\n"
"                       with S (sub b<N>) instead of guest names\n"
"  --json               print one JSON object on stdout instead of a table\n"
"  --quiet              no progress line on stderr\n"
"  --help, --version\n"
"\n"
"The relay limits each connection to 10 sends a second (burst 20) by\n"
"default, which a benchmark hits at once: start it for benchmarks with\n"
"  chatrelay --rate 100000 --burst 1000000\n"
"Sends refused with rate_limited are counted and reported prominently.\n"
"\n"
"Exit status: 0 after a completed run, 1 when connecting or setting up\n"
"failed, 2 for a usage error.\n";

const char *
options_scenario_name(enum scenario_kind k)
{
	switch (k) {
	case SCENARIO_IDLE:
		return "idle";
	case SCENARIO_FANOUT:
		return "fanout";
	case SCENARIO_ROOMS:
		return "rooms";
	case SCENARIO_CLUSTER:
		return "cluster";
	}
	return "?";
}

/* Prints a usage error; returns -1 for options_parse to pass on. */
static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "chatrelay-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'chatrelay-bench --help'.\n");
	return -1;
}

/* Parses a whole integer within [lo, hi].  Returns 0 or -1. */
static int
parse_long(const char *name, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		char range[64];

		snprintf(range, sizeof(range), "%ld..%ld", lo, hi);
		fprintf(stderr, "chatrelay-bench: --%s: '%s' is not a whole "
		    "number in %s\nTry 'chatrelay-bench --help'.\n", name, s,
		    range);
		return -1;
	}
	*out = v;
	return 0;
}

/* Parses a number within [lo, hi] (with lo excluded when open).  0 or -1. */
static int
parse_double(const char *name, const char *s, double lo, double hi, int open,
    double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v != v || v > hi ||
	    v < lo || (open && v == lo)) {
		fprintf(stderr, "chatrelay-bench: --%s: '%s' must be a number "
		    "%s %g and at most %g\nTry 'chatrelay-bench --help'.\n",
		    name, s, open ? "above" : "of at least", lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int
options_parse(int argc, char **argv, struct bench_opts *o)
{
	int ch, idx, rc = 0;
	char path[64];

	memset(o, 0, sizeof(*o));
	o->url = "ws://127.0.0.1:8080/ws";
	o->scenario = SCENARIO_FANOUT;
	o->connections = 100;
	o->publishers = 1;
	o->channels = 1;
	o->room_size = 2;
	o->size = 64;
	o->duration = 10;
	o->warmup = 1;
	o->drain = 2;
	o->window = 16;
	o->connect_rate = 2000;
	o->sources = 32;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", long_options, &idx)) != -1) {
		const char *name = NULL;
		int i;

		for (i = 0; long_options[i].name != NULL; i++)
			if (long_options[i].val == ch)
				name = long_options[i].name;
		switch (ch) {
		case OPT_URL:
			o->url = optarg;
			break;
		case OPT_URL2:
			o->url2 = optarg;
			break;
		case OPT_SCENARIO:
			if (strcmp(optarg, "idle") == 0)
				o->scenario = SCENARIO_IDLE;
			else if (strcmp(optarg, "fanout") == 0)
				o->scenario = SCENARIO_FANOUT;
			else if (strcmp(optarg, "rooms") == 0)
				o->scenario = SCENARIO_ROOMS;
			else if (strcmp(optarg, "cluster") == 0)
				o->scenario = SCENARIO_CLUSTER;
			else
				return usage_error("--scenario: unknown "
				    "scenario '%s'", optarg);
			break;
		case OPT_CONNECTIONS:
			rc = parse_long(name, optarg, 1, 10000000,
			    &o->connections);
			break;
		case OPT_PUBLISHERS:
			rc = parse_long(name, optarg, 1, 1000000,
			    &o->publishers);
			break;
		case OPT_CHANNELS:
			rc = parse_long(name, optarg, 1, 10000000, &o->channels);
			break;
		case OPT_ROOM_SIZE:
			rc = parse_long(name, optarg, 1, 100000, &o->room_size);
			break;
		case OPT_RATE:
			rc = parse_double(name, optarg, 0, 1e9, 0, &o->rate);
			break;
		case OPT_SIZE:
			rc = parse_long(name, optarg, BENCH_SIZE_MIN, 1000000,
			    &o->size);
			break;
		case OPT_DURATION:
			rc = parse_double(name, optarg, 0, 86400, 1,
			    &o->duration);
			break;
		case OPT_WARMUP:
			rc = parse_double(name, optarg, 0, 3600, 0, &o->warmup);
			break;
		case OPT_DRAIN:
			rc = parse_double(name, optarg, 0, 3600, 0, &o->drain);
			break;
		case OPT_WINDOW:
			rc = parse_long(name, optarg, 1, 1000000, &o->window);
			break;
		case OPT_PID:
			rc = parse_long(name, optarg, 1, 0x7fffffff, &o->pid);
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_CONNECT_RATE:
			rc = parse_double(name, optarg, 0, 1e7, 1,
			    &o->connect_rate);
			break;
		case OPT_SOURCES:
			rc = parse_long(name, optarg, 1, 254, &o->sources);
			break;
		case OPT_TOKEN_SECRET:
			o->token_secret = optarg;
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return 1;
		case OPT_VERSION:
			printf("chatrelay-bench %s\n", PACKAGE_VERSION);
			return 1;
		case ':':
			return usage_error("%s needs a value",
			    argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'",
			    argv[optind - 1]);
		}
		if (rc != 0)
			return -1;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (o->scenario == SCENARIO_CLUSTER && o->url2 == NULL)
		return usage_error("--scenario cluster needs --url2 (the "
		    "instance subscribers connect to)");
	if (o->scenario != SCENARIO_CLUSTER && o->url2 != NULL)
		return usage_error("--url2 is only used by --scenario "
		    "cluster");
	if (o->token_secret != NULL && o->token_secret[0] == '\0')
		return usage_error("--token-secret must not be empty");
	if (o->pid != 0) {
		snprintf(path, sizeof(path), "/proc/%ld/stat", o->pid);
		if (access(path, R_OK) != 0)
			return usage_error("--pid: cannot read %s: no such "
			    "process?", path);
	}
	return 0;
}
