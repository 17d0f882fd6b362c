/*
 * metrics.h: counters for /metrics (Prometheus text format 0.0.4).
 *
 * Each worker has its own block of counters that only it writes, with
 * relaxed atomic stores (no locked instructions on the hot path); /metrics,
 * served by whichever worker gets the request, reads every block with
 * relaxed loads and adds them up.  The process_* metrics are read from
 * /proc and getrlimit when /metrics is requested (metrics-process.c).
 */
#ifndef CHATRELAY_METRICS_H
#define CHATRELAY_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct jsonw;

enum close_reason {
	CLOSE_BY_CLIENT,	/* the peer closed or the connection dropped */
	CLOSE_SLOW,		/* outbound queue full (4029) */
	CLOSE_RATE,		/* repeated rate-limit abuse (4029) */
	CLOSE_AUTH,		/* authentication failed or timed out (4001) */
	CLOSE_IDLE,		/* idle timeout */
	CLOSE_PROTOCOL,		/* binary, invalid UTF-8, too big (1003/1007/1009) */
	CLOSE_SHUTDOWN,		/* the relay is stopping (1001) */
	CLOSE_KICKED,		/* kicked by a moderator (4008) */
	CLOSE_BANNED,		/* banned (4003) */
	CLOSE_OTHER,
	CLOSE_REASONS
};

/* Publish latency buckets: 0.1 ms to 10 s (metrics.c), the last is +Inf. */
#define METRICS_LAT_BUCKETS 17

typedef _Atomic uint64_t counter_t;

struct stats {
	counter_t frames_in, bytes_in;
	counter_t frames_out, bytes_out;
	counter_t published, delivered, whispers;
	counter_t filtered;		/* texts the word filter caught */
	counter_t closes[CLOSE_REASONS];
	counter_t errors[ERR_COUNT];
	counter_t lat_bucket[METRICS_LAT_BUCKETS];
	counter_t lat_sum_ns;		/* the +Inf bucket is the count */
	_Atomic int64_t users, channels;	/* owned by this worker (gauges) */
};

/* Adds n to a counter written only by the calling worker. */
static inline void
metrics_add(counter_t *c, uint64_t n)
{
	atomic_store_explicit(c,
	    atomic_load_explicit(c, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

/* Sets a gauge written only by the calling worker. */
static inline void
metrics_set(_Atomic int64_t *g, int64_t v)
{
	atomic_store_explicit(g, v, memory_order_relaxed);
}

/* Records one publish latency (ns from the client's send to sequencing). */
void metrics_latency(struct stats *s, uint64_t ns);

/* Returns the close reason for a server-initiated close with this code. */
enum close_reason metrics_close_reason(int code, int slow);

/*
 * Where /metrics reads: n blocks of counters, the first at `first` and each
 * `stride` bytes after the previous (each worker's), and the instance's
 * node name and connection count.
 */
struct metrics_source {
	const struct stats *first;
	size_t stride;
	int n;
	const char *node;
	int nconns;
};

/*
 * Appends every metric of the instance, summed over workers, and the
 * process_* metrics to w.  An output line that would not fit sets
 * w->failed, so a caller never serves a truncated exposition.
 */
void metrics_render(const struct metrics_source *src, struct jsonw *w);

/* The process_* metrics; a field whose source could not be read is -1. */
struct process_stats {
	double cpu_seconds;		/* user + system, every thread */
	double start_time;		/* Unix time, seconds */
	int64_t resident_bytes, virtual_bytes;
	int64_t open_fds, max_fds;	/* max_fds: RLIMIT_NOFILE's soft limit */
};

/*
 * Fills ps from getrusage, /proc/self/stat, /proc/stat, /proc/self/fd and
 * getrlimit.  Returns 0, or -1 if any of them failed (its fields are -1).
 */
int metrics_process_read(struct process_stats *ps);

/*
 * Parses the text of /proc/self/stat into ps->virtual_bytes,
 * ps->resident_bytes (its rss is in pages of pagesize bytes) and, given the
 * boot time btime (Unix seconds) and the clock ticks per second,
 * ps->start_time.  Returns 0, or -1 (ps untouched) if the text is not in
 * that format.
 */
int metrics_process_parse_stat(const char *text, int64_t btime, long ticks,
    long pagesize, struct process_stats *ps);

/* Parses the text of /proc/stat; returns 0 with *btime its "btime", or -1. */
int metrics_process_parse_btime(const char *text, int64_t *btime);

/* Appends the process_* metrics of ps (those not -1) to w. */
void metrics_render_process(const struct process_stats *ps, struct jsonw *w);

#endif
