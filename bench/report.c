/*
 * report.c: samples the relay's /proc files and the bench's own rusage, and
 * prints a run's results as a table or as JSON (see report.h).
 *
 * Derived figures (rates, CPU per delivery, RSS per connection) are
 * computed here, in one place, so the table and the JSON always agree.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/resource.h>

#include "report.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

int
report_proc_sample(long pid, struct proc_sample *out)
{
	char path[64], buf[4096], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;
	int field;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	p++;
	/* After ')' come field 3 (state) onward; utime and stime are 14, 15. */
	for (field = 3; field < 14 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %llu %llu", &ut, &st) != 2)
		return -1;
	out->cpu_secs = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(buf, sizeof(buf), f) != NULL)
		if (strncmp(buf, "VmRSS:", 6) == 0)
			out->rss_kb = strtol(buf + 6, NULL, 10);
	fclose(f);
	return 0;
}

void
report_self_cpu(double *user, double *sys)
{
	struct rusage ru;

	*user = *sys = 0;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return;
	*user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void
report_warn(struct bench_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->nwarnings >= REPORT_WARN_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(r->warnings[r->nwarnings++], sizeof(r->warnings[0]), fmt, ap);
	va_end(ap);
}

const char *
report_fmt_ns(uint64_t ns, char *buf, size_t bufsz)
{
	if (ns < 1000)
		snprintf(buf, bufsz, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, bufsz, "%.1f us", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, bufsz, "%.2f ms", (double)ns / 1e6);
	else
		snprintf(buf, bufsz, "%.2f s", (double)ns / 1e9);
	return buf;
}

/* Figures derived from a result, shared by both output formats. */
struct derived {
	double	deliveries_per_sec, publishes_per_sec;
	double	relay_cpu_pct, relay_us_per_delivery, rss_per_conn;
	double	bench_cpu_pct;
	bool	have_per_delivery, have_rss;
};

static void
derive(const struct bench_result *r, struct derived *d)
{
	memset(d, 0, sizeof(*d));
	if (r->window_secs > 0) {
		d->deliveries_per_sec = (double)r->delivered_window /
		    r->window_secs;
		d->publishes_per_sec = (double)r->published_window /
		    r->window_secs;
		d->relay_cpu_pct = 100.0 * r->relay_cpu_secs / r->window_secs;
		d->bench_cpu_pct = 100.0 * r->bench_cpu_secs / r->window_secs;
	}
	if (r->relay && r->delivered_window > 0) {
		d->relay_us_per_delivery = r->relay_cpu_secs * 1e6 /
		    (double)r->delivered_window;
		d->have_per_delivery = true;
	}
	if (r->relay && r->connections > 0 && r->rss_after_kb > 0) {
		d->rss_per_conn = (double)(r->rss_after_kb - r->rss_before_kb) *
		    1024.0 / (double)r->connections;
		d->have_rss = true;
	}
}

void
report_table(FILE *f, const struct bench_result *r)
{
	const struct bench_opts *o = r->o;
	char a[32], b2[32], c[32], d3[32], e[32];
	struct derived d;
	int i;

	derive(r, &d);
	fprintf(f, "chatrelay-bench %s: %s, %s", PACKAGE_VERSION,
	    options_scenario_name(o->scenario), o->url);
	if (o->url2 != NULL)
		fprintf(f, " -> %s", o->url2);
	fprintf(f, "\n");
	fprintf(f, "  connections    %zu of %zu (%zu publishers, %zu "
	    "subscribers, %zu channels)\n", r->connections, r->target,
	    r->publishers, r->subscribers, r->channels);
	fprintf(f, "  connect time   %.2f s (per connection: p50 %s, p99 %s, "
	    "max %s)\n", r->connect_secs,
	    report_fmt_ns(hist_percentile(&r->connect_lat, 50), a, sizeof(a)),
	    report_fmt_ns(hist_percentile(&r->connect_lat, 99), b2,
	    sizeof(b2)), report_fmt_ns(r->connect_lat.max, c, sizeof(c)));
	fprintf(f, "  window         %.2f s", r->window_secs);
	if (o->scenario != SCENARIO_IDLE)
		fprintf(f, " after %.2f s of warm-up; %s, %ld-byte messages",
		    o->warmup, o->rate > 0 ? "rate mode" : "window mode",
		    o->size);
	fprintf(f, "\n");
	if (o->scenario != SCENARIO_IDLE) {
		fprintf(f, "  published      %llu (%llu in the window, %.0f/s); "
		    "acknowledged %llu\n", (unsigned long long)r->published,
		    (unsigned long long)r->published_window,
		    d.publishes_per_sec, (unsigned long long)r->acked);
		fprintf(f, "  delivered      %llu (%llu in the window)\n",
		    (unsigned long long)r->delivered,
		    (unsigned long long)r->delivered_window);
		fprintf(f, "  deliveries/s   %.0f\n", d.deliveries_per_sec);
		fprintf(f, "  lost           %llu of %llu expected (gaps %llu, "
		    "reordered or repeated %llu, unexpected %llu)%s\n",
		    (unsigned long long)r->loss.lost,
		    (unsigned long long)r->loss.expected,
		    (unsigned long long)r->loss.gaps,
		    (unsigned long long)r->loss.reorders,
		    (unsigned long long)r->unexpected,
		    r->drained ? "" : " [drain timed out]");
		if (r->lat.count == 0)
			fprintf(f, "  latency        no message sent in the window "
			    "was received\n");
		else
			fprintf(f, "  latency        p50 %s  p90 %s  p99 %s  "
			    "p99.9 %s  max %s  (%llu samples)\n",
			    report_fmt_ns(hist_percentile(&r->lat, 50), a,
			    sizeof(a)),
			    report_fmt_ns(hist_percentile(&r->lat, 90), b2,
			    sizeof(b2)),
			    report_fmt_ns(hist_percentile(&r->lat, 99), c,
			    sizeof(c)),
			    report_fmt_ns(hist_percentile(&r->lat, 99.9), d3,
			    sizeof(d3)),
			    report_fmt_ns(r->lat.max, e, sizeof(e)),
			    (unsigned long long)r->lat.count);
	}
	if (r->relay) {
		fprintf(f, "  relay cpu      %.2f s in the window (%.0f%% of one "
		    "core)", r->relay_cpu_secs, d.relay_cpu_pct);
		if (d.have_per_delivery)
			fprintf(f, ", %.2f us per delivery",
			    d.relay_us_per_delivery);
		fprintf(f, "\n");
		if (d.have_rss)
			fprintf(f, "  relay rss      %ld -> %ld KiB: %.0f bytes "
			    "per connection\n", r->rss_before_kb,
			    r->rss_after_kb, d.rss_per_conn);
	}
	fprintf(f, "  bench cpu      %.2f s in the window (%.0f%% of its one "
	    "thread; %.0f%% of that in the kernel)\n", r->bench_cpu_secs,
	    d.bench_cpu_pct, r->bench_cpu_secs > 0 ?
	    100.0 * r->bench_sys_secs / r->bench_cpu_secs : 0.0);
	if (r->rate_limited || r->send_errors || r->other_errors ||
	    r->disconnects)
		fprintf(f, "  errors         rate_limited %llu, other refused "
		    "sends %llu, other errors %llu, disconnects %llu\n",
		    (unsigned long long)r->rate_limited,
		    (unsigned long long)(r->send_errors - r->rate_limited),
		    (unsigned long long)r->other_errors,
		    (unsigned long long)r->disconnects);
	for (i = 0; i < r->nwarnings; i++)
		fprintf(f, "WARNING: %s\n", r->warnings[i]);
}

/* Prints s as a JSON string. */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* Prints a finite number (JSON has no NaN or infinity). */
static void
json_num(FILE *f, double v)
{
	if (!isfinite(v))
		v = 0;
	fprintf(f, "%.3f", v);
}

/* Prints "name":{"p50":..} of a histogram in microseconds. */
static void
json_hist(FILE *f, const char *name, const struct hist *h)
{
	static const struct { const char *k; double p; } pct[] = {
		{ "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p999", 99.9 },
	};
	size_t i;

	fprintf(f, "\"%s\":{\"count\":%llu,\"mean\":", name,
	    (unsigned long long)h->count);
	json_num(f, hist_mean(h) / 1e3);
	for (i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
		fprintf(f, ",\"%s\":", pct[i].k);
		json_num(f, (double)hist_percentile(h, pct[i].p) / 1e3);
	}
	fprintf(f, ",\"max\":");
	json_num(f, (double)h->max / 1e3);
	fprintf(f, "}");
}

#define U(v) ((unsigned long long)(v))

void
report_json(FILE *f, const struct bench_result *r)
{
	const struct bench_opts *o = r->o;
	struct derived d;
	int i;

	derive(r, &d);
	fprintf(f, "{\"tool\":\"chatrelay-bench\",\"version\":");
	json_str(f, PACKAGE_VERSION);
	fprintf(f, ",\"scenario\":");
	json_str(f, options_scenario_name(o->scenario));
	fprintf(f, ",\"url\":");
	json_str(f, o->url);
	fprintf(f, ",\"url2\":");
	if (o->url2 != NULL)
		json_str(f, o->url2);
	else
		fprintf(f, "null");
	fprintf(f, ",\"options\":{\"connections\":%ld,\"publishers\":%ld,"
	    "\"channels\":%ld,\"room_size\":%ld,\"rate\":", o->connections,
	    o->publishers, o->channels, o->room_size);
	json_num(f, o->rate);
	fprintf(f, ",\"window\":%ld,\"size\":%ld,\"duration\":", o->window,
	    o->size);
	json_num(f, o->duration);
	fprintf(f, ",\"warmup\":");
	json_num(f, o->warmup);
	fprintf(f, ",\"drain\":");
	json_num(f, o->drain);
	fprintf(f, ",\"token_mode\":%s}", o->token_secret ? "true" : "false");

	fprintf(f, ",\"connections\":%zu,\"connections_target\":%zu,"
	    "\"connect_failed\":%zu,\"publishers\":%zu,\"subscribers\":%zu,"
	    "\"channels\":%zu,\"connect_secs\":", r->connections, r->target,
	    r->failed, r->publishers, r->subscribers, r->channels);
	json_num(f, r->connect_secs);
	fprintf(f, ",");
	json_hist(f, "connect_latency_us", &r->connect_lat);
	fprintf(f, ",\"window_secs\":");
	json_num(f, r->window_secs);
	fprintf(f, ",\"published\":%llu,\"published_window\":%llu,"
	    "\"acknowledged\":%llu,\"delivered\":%llu,\"delivered_window\":%llu,"
	    "\"publisher_received\":%llu,\"expected\":%llu,\"lost\":%llu,"
	    "\"gaps\":%llu,\"reorders\":%llu,\"unexpected\":%llu,"
	    "\"drained\":%s,\"deliveries_per_sec\":", U(r->published),
	    U(r->published_window), U(r->acked), U(r->delivered),
	    U(r->delivered_window), U(r->pub_received), U(r->loss.expected),
	    U(r->loss.lost), U(r->loss.gaps), U(r->loss.reorders),
	    U(r->unexpected), r->drained ? "true" : "false");
	json_num(f, d.deliveries_per_sec);
	fprintf(f, ",\"publishes_per_sec\":");
	json_num(f, d.publishes_per_sec);
	fprintf(f, ",");
	json_hist(f, "latency_us", &r->lat);
	fprintf(f, ",\"rate_limited\":%llu,\"send_errors\":%llu,"
	    "\"other_errors\":%llu,\"bad_frames\":%llu,\"disconnects\":%llu",
	    U(r->rate_limited), U(r->send_errors), U(r->other_errors),
	    U(r->bad_frames), U(r->disconnects));
	fprintf(f, ",\"first_send_error\":");
	json_str(f, r->first_send_error);
	fprintf(f, ",\"first_disconnect\":");
	json_str(f, r->first_disconnect);
	fprintf(f, ",\"relay\":");
	if (r->relay) {
		fprintf(f, "{\"pid\":%ld,\"cpu_secs\":", o->pid);
		json_num(f, r->relay_cpu_secs);
		fprintf(f, ",\"cpu_pct\":");
		json_num(f, d.relay_cpu_pct);
		fprintf(f, ",\"us_per_delivery\":");
		if (d.have_per_delivery)
			json_num(f, d.relay_us_per_delivery);
		else
			fprintf(f, "null");
		fprintf(f, ",\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,"
		    "\"rss_per_conn_bytes\":", r->rss_before_kb,
		    r->rss_after_kb);
		if (d.have_rss)
			json_num(f, d.rss_per_conn);
		else
			fprintf(f, "null");
		fprintf(f, "}");
	} else {
		fprintf(f, "null");
	}
	fprintf(f, ",\"bench_cpu_secs\":");
	json_num(f, r->bench_cpu_secs);
	fprintf(f, ",\"bench_sys_secs\":");
	json_num(f, r->bench_sys_secs);
	fprintf(f, ",\"bench_cpu_pct\":");
	json_num(f, d.bench_cpu_pct);
	fprintf(f, ",\"bench_saturated\":%s,\"warnings\":[",
	    r->saturated ? "true" : "false");
	for (i = 0; i < r->nwarnings; i++) {
		if (i > 0)
			fputc(',', f);
		json_str(f, r->warnings[i]);
	}
	fprintf(f, "]}\n");
}
