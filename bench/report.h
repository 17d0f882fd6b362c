/*
 * report.h: what a chatrelay-bench run measured, how it is sampled from
 * /proc and getrusage, and how it is printed: a table for people or one
 * JSON object for machines.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hist.h"
#include "options.h"
#include "scenario.h"

#define REPORT_WARN_MAX	8

/* A process's CPU time and resident memory at one moment. */
struct proc_sample {
	double	cpu_secs;	/* utime + stime */
	long	rss_kb;		/* VmRSS */
};

struct bench_result {
	const struct bench_opts	*o;

	/* Connections. */
	size_t		target, connections, failed;
	size_t		publishers, subscribers, channels;
	double		connect_secs;
	struct hist	connect_lat;

	/* Traffic: totals, and the measured window's share. */
	double		window_secs;
	uint64_t	published, published_window, acked;
	uint64_t	delivered, delivered_window, pub_received;
	struct loss	loss;
	uint64_t	unexpected, disconnects, rate_limited;
	uint64_t	send_errors, other_errors, bad_frames;
	bool		drained;	/* caught up before --drain ran out */
	struct hist	lat;

	/* The relay (with --pid). */
	bool		relay;
	double		relay_cpu_secs;
	long		rss_before_kb, rss_after_kb;

	/* The bench itself. */
	double		bench_cpu_secs;		/* user + system */
	double		bench_sys_secs;		/* system (kernel) part */
	bool		saturated;

	char		first_send_error[256];
	char		first_disconnect[256];
	char		warnings[REPORT_WARN_MAX][384];
	int		nwarnings;
};

/*
 * Reads pid's CPU time (/proc/PID/stat) and VmRSS (/proc/PID/status).
 * Returns 0, or -1 if the process cannot be read.
 */
int	report_proc_sample(long pid, struct proc_sample *out);

/* Stores this process's user and system CPU seconds so far. */
void	report_self_cpu(double *user, double *sys);

/* Adds a warning line (printf format) to r, if there is room. */
void	report_warn(struct bench_result *r, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Formats a duration in ns as "812 ns", "41.3 us", "2.41 ms" or "1.20 s". */
const char *report_fmt_ns(uint64_t ns, char *buf, size_t bufsz);

/* Prints r as a table for people. */
void	report_table(FILE *f, const struct bench_result *r);

/* Prints r as one JSON object and a newline. */
void	report_json(FILE *f, const struct bench_result *r);

#endif
