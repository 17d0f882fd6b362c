/*
 * options.h: chatrelay-bench's command line: what a run is asked to do.
 */
#ifndef BENCH_OPTIONS_H
#define BENCH_OPTIONS_H

#include <stdbool.h>

enum scenario_kind {
	SCENARIO_IDLE,
	SCENARIO_FANOUT,
	SCENARIO_ROOMS,
	SCENARIO_CLUSTER,
};

struct bench_opts {
	const char		*url;		/* publishers (and everyone else) */
	const char		*url2;		/* cluster: subscribers */
	enum scenario_kind	 scenario;
	long			 connections;	/* total (idle, rooms) or subscribers */
	long			 publishers;
	long			 channels;
	long			 room_size;
	double			 rate;		/* messages/s in total; 0: window mode */
	long			 size;		/* bytes of text per message */
	double			 duration;	/* measured window, seconds */
	double			 warmup;	/* seconds before the window */
	double			 drain;		/* seconds to wait after the last send */
	long			 window;	/* unacknowledged sends per publisher */
	long			 pid;		/* the relay's, 0 if not given */
	double			 connect_rate;	/* new connections per second */
	long			 sources;	/* most 127.0.0.x source addresses */
	const char		*token_secret;	/* NULL: open mode */
	bool			 json, quiet;
};

/* Smallest --size: "t=" + 20 digits + ";" + one byte of padding. */
#define BENCH_SIZE_MIN	24

/*
 * Parses argv into *o.  Returns 0 to run, 1 when --help or --version was
 * printed (exit 0), or -1 after printing a usage error to stderr (exit 2).
 */
int		options_parse(int argc, char **argv, struct bench_opts *o);

/* Returns the scenario's name ("idle", "fanout", ...). */
const char	*options_scenario_name(enum scenario_kind k);

#endif
