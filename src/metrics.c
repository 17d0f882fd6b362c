/*
 * metrics.c: summing the workers' counters into Prometheus text.
 *
 * The output is the text exposition format 0.0.4 as `promtool check
 * metrics` reads it (tests/integration/metrics.test.js runs it): each
 * family's HELP and TYPE once, before its samples; counters end in _total;
 * units are base units (seconds, bytes) named by the suffix.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jsonw.h"
#include "metrics.h"
#include "version.h"

/*
 * Upper bounds of the publish latency buckets, in seconds (+Inf last).  A
 * local publish takes microseconds; through Redis, a round trip; the
 * buckets up to 10 s show a Redis that stalls or fails over (a publish
 * waits for it, and clients see the wait).
 */
static const double lat_bounds[METRICS_LAT_BUCKETS - 1] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

static const char *const close_names[CLOSE_REASONS] = {
	[CLOSE_BY_CLIENT] = "client", [CLOSE_SLOW] = "slow_consumer",
	[CLOSE_RATE] = "rate_abuse", [CLOSE_AUTH] = "auth",
	[CLOSE_IDLE] = "idle", [CLOSE_PROTOCOL] = "protocol",
	[CLOSE_SHUTDOWN] = "shutdown", [CLOSE_KICKED] = "kicked",
	[CLOSE_BANNED] = "banned",
	[CLOSE_OTHER] = "other",
};

void
metrics_latency(struct stats *s, uint64_t ns)
{
	double secs = (double)ns / 1e9;
	int i;

	for (i = 0; i < METRICS_LAT_BUCKETS - 1; i++)
		if (secs <= lat_bounds[i])
			break;
	metrics_add(&s->lat_bucket[i], 1);
	metrics_add(&s->lat_sum_ns, ns);
}

enum close_reason
metrics_close_reason(int code, int slow)
{
	switch (code) {
	case 4029:
		return slow ? CLOSE_SLOW : CLOSE_RATE;
	case 4001:
		return CLOSE_AUTH;
	case 1000:
		return CLOSE_IDLE;
	case 1001:
		return CLOSE_SHUTDOWN;
	case 4008:
		return CLOSE_KICKED;
	case 4003:
		return CLOSE_BANNED;
	case 1003:
	case 1007:
	case 1009:
		return CLOSE_PROTOCOL;
	default:
		return CLOSE_OTHER;
	}
}

/* Returns the address of the byte at off in the i-th block of src. */
static const char *
block_at(const struct metrics_source *src, int i, size_t off)
{
	return (const char *)src->first + (size_t)i * src->stride + off;
}

/* Returns the sum over workers of the counter at byte offset off in struct stats. */
static uint64_t
sum(const struct metrics_source *src, size_t off)
{
	uint64_t total = 0;
	int i;

	for (i = 0; i < src->n; i++)
		total += atomic_load_explicit((counter_t *)block_at(src, i, off),
		    memory_order_relaxed);
	return total;
}

/* Returns the sum over workers of a gauge at byte offset off. */
static int64_t
sum_gauge(const struct metrics_source *src, size_t off)
{
	int64_t total = 0;
	int i;

	for (i = 0; i < src->n; i++)
		total += atomic_load_explicit((_Atomic int64_t *)
		    block_at(src, i, off), memory_order_relaxed);
	return total;
}

/*
 * Appends printf-style text to w; a line longer than the buffer sets
 * w->failed rather than serving a cut line.
 */
static void __attribute__((format(printf, 2, 3)))
emit(struct jsonw *w, const char *fmt, ...)
{
	char b[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof b) {
		w->failed = true;
		return;
	}
	jsonw_raw(w, b, (size_t)n);
}

/* Appends a family's "# HELP" and "# TYPE" lines. */
static void
family(struct jsonw *w, const char *name, const char *type, const char *help)
{
	emit(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Appends a family with one sample without labels. */
static void
metric(struct jsonw *w, const char *name, const char *type, const char *help,
    uint64_t v)
{
	family(w, name, type, help);
	emit(w, "%s %" PRIu64 "\n", name, v);
}

/*
 * Writes s into out (len bytes) as a label value's escaped text, without
 * the quotes: backslash, double quote and newline are escaped.  Returns
 * out, or "" if it does not fit.
 */
static const char *
label_escape(char *out, size_t len, const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		const char *e = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" :
		    *s == '\n' ? "\\n" : NULL;
		size_t k = e != NULL ? 2 : 1;

		if (n + k >= len) {
			out[0] = '\0';
			return out;
		}
		if (e != NULL)
			memcpy(out + n, e, 2);
		else
			out[n] = *s;
		n += k;
	}
	out[n] = '\0';
	return out;
}

/* Returns a signed gauge as the unsigned sample it is written as (>= 0). */
static uint64_t
nonneg(int64_t v)
{
	return v < 0 ? 0 : (uint64_t)v;
}

void
metrics_render_process(const struct process_stats *ps, struct jsonw *w)
{
	if (ps->cpu_seconds >= 0) {
		family(w, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.");
		emit(w, "process_cpu_seconds_total %.6f\n", ps->cpu_seconds);
	}
	if (ps->resident_bytes >= 0)
		metric(w, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.",
		    (uint64_t)ps->resident_bytes);
	if (ps->virtual_bytes >= 0)
		metric(w, "process_virtual_memory_bytes", "gauge",
		    "Virtual memory size in bytes.",
		    (uint64_t)ps->virtual_bytes);
	if (ps->open_fds >= 0)
		metric(w, "process_open_fds", "gauge",
		    "Number of open file descriptors.",
		    (uint64_t)ps->open_fds);
	if (ps->max_fds >= 0)
		metric(w, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.",
		    (uint64_t)ps->max_fds);
	if (ps->start_time >= 0) {
		family(w, "process_start_time_seconds", "gauge",
		    "Start time of the process since unix epoch in seconds.");
		emit(w, "process_start_time_seconds %.2f\n", ps->start_time);
	}
}

#define SUM(f) sum(srv, offsetof(struct stats, f))

void
metrics_render(const struct metrics_source *srv, struct jsonw *w)
{
	struct process_stats ps;
	char version[64], node[160];
	uint64_t cum = 0, ns;
	int i;

	family(w, "chatrelay_build_info", "gauge",
	    "Always 1; the labels carry the relay's version and node id.");
	emit(w, "chatrelay_build_info{version=\"%s\",node=\"%s\"} 1\n",
	    label_escape(version, sizeof version, CHATRELAY_VERSION),
	    label_escape(node, sizeof node, srv->node));
	metric(w, "chatrelay_workers", "gauge", "Worker threads.",
	    (uint64_t)srv->n);
	metric(w, "chatrelay_connections", "gauge",
	    "Open WebSocket connections.", nonneg(srv->nconns));
	metric(w, "chatrelay_users", "gauge",
	    "Distinct authenticated users connected.",
	    nonneg(sum_gauge(srv, offsetof(struct stats, users))));
	metric(w, "chatrelay_channels", "gauge",
	    "Channels the relay remembers (members, history, or a seq kept for channel_ttl).",
	    nonneg(sum_gauge(srv, offsetof(struct stats, channels))));
	metric(w, "chatrelay_frames_in_total", "counter",
	    "Complete messages received from clients.", SUM(frames_in));
	metric(w, "chatrelay_received_bytes_total", "counter",
	    "Bytes of messages received from clients.", SUM(bytes_in));
	metric(w, "chatrelay_frames_out_total", "counter",
	    "Frames queued to clients.", SUM(frames_out));
	metric(w, "chatrelay_sent_bytes_total", "counter",
	    "Bytes written to clients.", SUM(bytes_out));
	metric(w, "chatrelay_messages_published_total", "counter",
	    "Channel messages sequenced.", SUM(published));
	metric(w, "chatrelay_messages_delivered_total", "counter",
	    "Channel messages queued to members.", SUM(delivered));
	metric(w, "chatrelay_whispers_total", "counter",
	    "Whispers routed.", SUM(whispers));
	metric(w, "chatrelay_filtered_total", "counter",
	    "Texts the word filter caught (refused or masked).", SUM(filtered));

	family(w, "chatrelay_disconnections_total", "counter",
	    "Connections closed, by reason.");
	for (i = 0; i < CLOSE_REASONS; i++)
		emit(w, "chatrelay_disconnections_total{reason=\"%s\"} %" PRIu64
		    "\n", close_names[i], SUM(closes[i]));
	metric(w, "chatrelay_drops_total", "counter",
	    "Clients dropped for not reading (their queued messages discarded).",
	    SUM(closes[CLOSE_SLOW]));

	family(w, "chatrelay_errors_total", "counter",
	    "err frames sent, by code.");
	for (i = 0; i < ERR_COUNT; i++)
		emit(w, "chatrelay_errors_total{code=\"%s\"} %" PRIu64 "\n",
		    proto_errcode_name((enum errcode)i), SUM(errors[i]));

	/* _count is the +Inf bucket as summed here, not a counter of its own
	 * read at another moment: the two always agree, as they must. */
	family(w, "chatrelay_bus_publish_seconds", "histogram",
	    "Time from a client's send to its message being sequenced by the bus.");
	for (i = 0; i < METRICS_LAT_BUCKETS; i++) {
		cum += SUM(lat_bucket[i]);
		if (i < METRICS_LAT_BUCKETS - 1)
			emit(w, "chatrelay_bus_publish_seconds_bucket{le=\"%g\"} %"
			    PRIu64 "\n", lat_bounds[i], cum);
		else
			emit(w, "chatrelay_bus_publish_seconds_bucket{le=\"+Inf\"} %"
			    PRIu64 "\n", cum);
	}
	ns = SUM(lat_sum_ns);
	emit(w, "chatrelay_bus_publish_seconds_sum %" PRIu64 ".%09" PRIu64 "\n"
	    "chatrelay_bus_publish_seconds_count %" PRIu64 "\n",
	    ns / 1000000000u, ns % 1000000000u, cum);

	metrics_process_read(&ps);
	metrics_render_process(&ps, w);
}
