/*
 * metrics.c: summing the workers' counters into Prometheus text.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jsonw.h"
#include "metrics.h"
#include "version.h"

/* Upper bounds of the publish latency buckets, in seconds (+Inf last). */
static const double lat_bounds[METRICS_LAT_BUCKETS - 1] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1
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
	metrics_add(&s->lat_count, 1);
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

/* Appends "# HELP", "# TYPE" and one sample without labels. */
static void
metric(struct jsonw *w, const char *name, const char *type, const char *help,
    uint64_t v)
{
	char b[512];

	snprintf(b, sizeof b, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n",
	    name, help, name, type, name, v);
	jsonw_lit(w, b);
}

#define SUM(f) sum(srv, offsetof(struct stats, f))

void
metrics_render(const struct metrics_source *srv, struct jsonw *w)
{
	char b[256];
	uint64_t cum = 0;
	int i;

	snprintf(b, sizeof b, "# HELP chatrelay_info The relay's version and "
	    "node id.\n# TYPE chatrelay_info gauge\nchatrelay_info{version="
	    "\"%s\",node=\"%s\"} 1\n", CHATRELAY_VERSION, srv->node);
	jsonw_lit(w, b);
	metric(w, "chatrelay_workers", "gauge", "Worker threads.",
	    (uint64_t)srv->n);
	metric(w, "chatrelay_connections", "gauge",
	    "Open WebSocket connections.",
	    (uint64_t)srv->nconns);
	metric(w, "chatrelay_users", "gauge",
	    "Distinct authenticated users connected.",
	    (uint64_t)sum_gauge(srv, offsetof(struct stats, users)));
	metric(w, "chatrelay_channels", "gauge",
	    "Channels the relay remembers (members, history, or a seq kept for channel_ttl).",
	    (uint64_t)sum_gauge(srv, offsetof(struct stats, channels)));
	metric(w, "chatrelay_frames_in_total", "counter",
	    "Complete messages received from clients.", SUM(frames_in));
	metric(w, "chatrelay_bytes_in_total", "counter",
	    "Bytes of messages received from clients.", SUM(bytes_in));
	metric(w, "chatrelay_frames_out_total", "counter",
	    "Frames queued to clients.", SUM(frames_out));
	metric(w, "chatrelay_bytes_out_total", "counter",
	    "Bytes written to clients.", SUM(bytes_out));
	metric(w, "chatrelay_messages_published_total", "counter",
	    "Channel messages sequenced.", SUM(published));
	metric(w, "chatrelay_messages_delivered_total", "counter",
	    "Channel messages queued to members.", SUM(delivered));
	metric(w, "chatrelay_whispers_total", "counter",
	    "Whispers routed.", SUM(whispers));
	metric(w, "chatrelay_filtered_total", "counter",
	    "Texts the word filter caught (refused or masked).", SUM(filtered));

	jsonw_lit(w, "# HELP chatrelay_disconnections_total Connections closed, "
	    "by reason.\n# TYPE chatrelay_disconnections_total counter\n");
	for (i = 0; i < CLOSE_REASONS; i++) {
		snprintf(b, sizeof b, "chatrelay_disconnections_total{reason="
		    "\"%s\"} %" PRIu64 "\n", close_names[i],
		    SUM(closes[i]));
		jsonw_lit(w, b);
	}
	snprintf(b, sizeof b, "# HELP chatrelay_drops_total Clients dropped "
	    "for not reading (their queued messages discarded).\n"
	    "# TYPE chatrelay_drops_total counter\nchatrelay_drops_total "
	    "%" PRIu64 "\n", SUM(closes[CLOSE_SLOW]));
	jsonw_lit(w, b);

	jsonw_lit(w, "# HELP chatrelay_errors_total err frames sent, by code.\n"
	    "# TYPE chatrelay_errors_total counter\n");
	for (i = 0; i < ERR_COUNT; i++) {
		snprintf(b, sizeof b, "chatrelay_errors_total{code=\"%s\"} %"
		    PRIu64 "\n", proto_errcode_name((enum errcode)i),
		    SUM(errors[i]));
		jsonw_lit(w, b);
	}

	jsonw_lit(w, "# HELP chatrelay_bus_publish_seconds Time from a client's "
	    "send to its message being sequenced by the bus.\n"
	    "# TYPE chatrelay_bus_publish_seconds histogram\n");
	for (i = 0; i < METRICS_LAT_BUCKETS; i++) {
		cum += SUM(lat_bucket[i]);
		if (i < METRICS_LAT_BUCKETS - 1)
			snprintf(b, sizeof b, "chatrelay_bus_publish_seconds_"
			    "bucket{le=\"%g\"} %" PRIu64 "\n", lat_bounds[i],
			    cum);
		else
			snprintf(b, sizeof b, "chatrelay_bus_publish_seconds_"
			    "bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
		jsonw_lit(w, b);
	}
	snprintf(b, sizeof b, "chatrelay_bus_publish_seconds_sum %.9f\n"
	    "chatrelay_bus_publish_seconds_count %" PRIu64 "\n",
	    (double)SUM(lat_sum_ns) / 1e9, SUM(lat_count));
	jsonw_lit(w, b);
}
