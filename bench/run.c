/*
 * run.c: the phases of a chatrelay-bench run, on one thread: connect (paced),
 * warm up, measure, drain, then fill in the result.  It owns the clock and
 * the progress line; scenario.c owns what the connections do.
 *
 * Samples of the relay (CPU at the window's edges, RSS before connecting
 * and once every connection is ready) and of the bench's own CPU bracket
 * exactly the periods they are divided by.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>

#include "report.h"
#include "run.h"
#include "scenario.h"

#define NS		1000000000ull
#define SATURATED_CPU	90.0	/* bench thread busy %, over the window */
#define RATE_SHORTFALL	0.95	/* sends below this share of --rate */

/* State of the once-a-second progress line. */
struct progress {
	uint64_t	t_begin, next;
	uint64_t	last_delivered, last_time;
};

/* Returns milliseconds from now to t (0 if past, capped at cap). */
static int
ms_until(uint64_t now, uint64_t t, int cap)
{
	uint64_t ms;

	if (t <= now)
		return 0;
	ms = (t - now + 999999) / 1000000;
	return ms > (uint64_t)cap ? cap : (int)ms;
}

/* Prints the progress line if a second has passed. */
static void
progress_tick(struct bench *b, struct progress *p, uint64_t now,
    const char *phase)
{
	char lat[32];
	double dt, rate;

	if (now < p->next)
		return;
	p->next += NS;
	if (p->next <= now)
		p->next = now + NS;
	dt = (double)(now - p->last_time) / 1e9;
	rate = dt > 0 ? (double)(b->ctr.delivered - p->last_delivered) / dt
	    : 0;
	p->last_time = now;
	p->last_delivered = b->ctr.delivered;
	if (!b->o->quiet) {
		fprintf(stderr, "[%6.1fs] %-7s conns %llu/%zu", (double)(now -
		    p->t_begin) / 1e9, phase,
		    (unsigned long long)(b->ctr.ready - b->ctr.disconnects),
		    b->nconns);
		if (b->ctr.failed > 0)
			fprintf(stderr, " (failed %llu)",
			    (unsigned long long)b->ctr.failed);
		if (b->npubs > 0 && strcmp(phase, "connect") != 0)
			fprintf(stderr, "  sent %llu  delivered %llu  rate %.0f/s"
			    "  p99 %s", (unsigned long long)b->ctr.sent,
			    (unsigned long long)b->ctr.delivered, rate,
			    b->lat_tick.count ? report_fmt_ns(hist_percentile(
			    &b->lat_tick, 99), lat, sizeof(lat)) : "-");
		if (b->ctr.rate_limited > 0)
			fprintf(stderr, "  RATE_LIMITED %llu",
			    (unsigned long long)b->ctr.rate_limited);
		fprintf(stderr, "\n");
	}
	hist_init(&b->lat_tick);
}

/* Polls once and reports a broken event loop. */
static int
poll_once(struct bench *b, int timeout)
{
	int rc = ws_poll(&b->loop, timeout);

	if (rc < 0) {
		fprintf(stderr, "chatrelay-bench: epoll_wait: %s\n",
		    strerror(-rc));
		return -1;
	}
	return 0;
}

/*
 * Opens, authenticates and joins every connection.  Returns 0, or 1 after
 * printing why the setup failed.
 */
static int
phase_connect(struct bench *b, struct progress *p)
{
	uint64_t deadline = p->t_begin + (uint64_t)(((double)b->nconns /
	    b->o->connect_rate + 30.0) * 1e9);

	for (;;) {
		uint64_t now = ws_now();
		int to;

		if (b->ctr.failed > 0) {
			fprintf(stderr, "chatrelay-bench: setup failed: %llu of "
			    "%zu connections failed (%llu ready); first: %s\n",
			    (unsigned long long)b->ctr.failed, b->nconns,
			    (unsigned long long)b->ctr.ready, b->first_error);
			return 1;
		}
		if (b->ctr.ready >= b->nconns)
			return 0;
		if (now > deadline) {
			fprintf(stderr, "chatrelay-bench: setup timed out: "
			    "%llu of %zu connections ready after %.0f s\n",
			    (unsigned long long)b->ctr.ready, b->nconns,
			    (double)(now - p->t_begin) / 1e9);
			return 1;
		}
		to = scenario_connect(b, now);
		progress_tick(b, p, now, "connect");
		if (to < 0 || to > 100)
			to = 100;
		if (ms_until(now, p->next, 1000) < to)
			to = ms_until(now, p->next, 1000);
		if (poll_once(b, to) != 0)
			return 1;
	}
}

/* Fills in the warnings and the saturation verdict. */
static void
judge(const struct bench *b, struct bench_result *r)
{
	const struct bench_opts *o = b->o;
	double cpu_pct = r->window_secs > 0 ?
	    100.0 * r->bench_cpu_secs / r->window_secs : 0;

	if (r->rate_limited > 0)
		report_warn(r, "the relay refused %llu sends with rate_limited "
		    "(%s): start it for benchmarks with --rate 100000 --burst "
		    "1000000", (unsigned long long)r->rate_limited,
		    b->first_send_error);
	else if (r->send_errors > 0 || r->other_errors > 0)
		report_warn(r, "the relay refused %llu sends and sent %llu "
		    "other errors (first: %s)",
		    (unsigned long long)r->send_errors,
		    (unsigned long long)r->other_errors, b->first_send_error);
	if (cpu_pct > SATURATED_CPU) {
		r->saturated = true;
		report_warn(r, "the bench itself may be the bottleneck: its "
		    "thread was busy %.0f%% of the window, %.0f%% of that in "
		    "the kernel (run several benches, or give the relay fewer "
		    "cores than the machine has)", cpu_pct,
		    r->bench_cpu_secs > 0 ? 100.0 * r->bench_sys_secs /
		    r->bench_cpu_secs : 0.0);
	}
	if (r->relay && r->rss_after_kb < r->rss_before_kb)
		report_warn(r, "the relay's RSS shrank while connecting (%ld -> "
		    "%ld KiB): it reused memory freed earlier, so RSS per "
		    "connection is meaningless; measure on a fresh relay",
		    r->rss_before_kb, r->rss_after_kb);
	if (o->rate > 0 && b->npubs > 0 && r->window_secs > 0 &&
	    (double)r->published_window < RATE_SHORTFALL * o->rate *
	    r->window_secs) {
		/* Refused or closed publishers explain a shortfall by themselves. */
		bool relay_side = r->rate_limited > 0 || r->disconnects > 0;

		if (!relay_side)
			r->saturated = true;
		report_warn(r, "sends fell behind the requested rate: %.0f/s "
		    "of %.0f/s (%s)",
		    (double)r->published_window / r->window_secs, o->rate,
		    relay_side ? "the relay refused or closed publishers" :
		    "the bench was too busy, or the relay read its publishers "
		    "too slowly");
	}
	if (r->loss.lost > 0)
		report_warn(r, "%llu of %llu expected messages were not "
		    "delivered%s", (unsigned long long)r->loss.lost,
		    (unsigned long long)r->loss.expected, r->drained ? "" :
		    " (the drain period ran out; try a longer --drain)");
	if (r->disconnects > 0)
		report_warn(r, "%llu connections were closed during the run "
		    "(first: %s)", (unsigned long long)r->disconnects,
		    b->first_disconnect);
	if (r->unexpected > 0)
		report_warn(r, "%llu msg frames were not expected (before "
		    "joined, for another channel, or at or below the join "
		    "seq)", (unsigned long long)r->unexpected);
	if (r->bad_frames > 0)
		report_warn(r, "%llu frames from the relay could not be read as "
		    "JSON objects", (unsigned long long)r->bad_frames);
	if (b->notes[0] != '\0')
		report_warn(r, "%s", b->notes);
}

/* Checks that the fd limit covers every connection.  Returns 0 or 1. */
static int
check_fds(size_t nconns)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && nconns + 32 > rl.rlim_cur) {
		fprintf(stderr, "chatrelay-bench: %zu connections need %zu file "
		    "descriptors, but this process may open %llu (the hard "
		    "limit): raise it (ulimit -Hn, limits.conf) or run several "
		    "benches\n", nconns, nconns + 32,
		    (unsigned long long)rl.rlim_cur);
		return 1;
	}
	return 0;
}

int
run_bench(const struct bench_opts *o, struct bench_result *r)
{
	struct proc_sample ps0, ps1;
	struct bench_counters c0, c1;
	struct progress p;
	struct bench *b;
	uint64_t now, t0, w0, w1, drain_end;
	double user0 = 0, sys0 = 0, user1, sys1;
	char err[384];
	bool in_window = false;
	int rc;

	memset(r, 0, sizeof(*r));
	r->o = o;
	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		fprintf(stderr, "chatrelay-bench: out of memory\n");
		return 1;
	}
	rc = scenario_init(b, o, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "chatrelay-bench: %s\n", err);
		scenario_free(b);
		free(b);
		return rc == -1 ? 2 : 1;
	}
	if (check_fds(b->nconns) != 0)
		goto fail;
	if (b->notes[0] != '\0' && !o->quiet)
		fprintf(stderr, "chatrelay-bench: note: %s\n", b->notes);
	if (o->pid != 0) {
		if (report_proc_sample(o->pid, &ps0) != 0) {
			fprintf(stderr, "chatrelay-bench: cannot read "
			    "/proc/%ld\n", o->pid);
			goto fail;
		}
		r->relay = true;
		r->rss_before_kb = ps0.rss_kb;
	}

	memset(&p, 0, sizeof(p));
	p.t_begin = p.last_time = ws_now();
	p.next = p.t_begin + NS;
	if (phase_connect(b, &p) != 0)
		goto fail;
	now = ws_now();
	r->connect_secs = (double)(now - p.t_begin) / 1e9;
	if (r->relay && report_proc_sample(o->pid, &ps0) == 0)
		r->rss_after_kb = ps0.rss_kb;

	/* Warm up, then the measured window. */
	t0 = now;
	w0 = o->scenario == SCENARIO_IDLE ? t0 :
	    t0 + (uint64_t)(o->warmup * 1e9);
	w1 = w0 + (uint64_t)(o->duration * 1e9);
	b->window_lo = w0;
	b->window_hi = w1;
	c0 = b->ctr;
	scenario_publish_start(b, t0);
	for (;;) {
		int to;

		now = ws_now();
		if (!in_window && now >= w0) {
			in_window = true;
			c0 = b->ctr;
			report_self_cpu(&user0, &sys0);
			if (r->relay && report_proc_sample(o->pid, &ps0) != 0)
				r->relay = false;
			w0 = now;
		}
		if (now >= w1)
			break;
		to = scenario_publish_tick(b, now);
		progress_tick(b, &p, now, in_window ? "run" : "warmup");
		if (to < 0 || to > 100)
			to = 100;
		if (ms_until(now, in_window ? w1 : w0, 100) < to)
			to = ms_until(now, in_window ? w1 : w0, 100);
		if (ms_until(now, p.next, 100) < to)
			to = ms_until(now, p.next, 100);
		if (poll_once(b, to) != 0)
			goto fail;
	}
	c1 = b->ctr;
	report_self_cpu(&user1, &sys1);
	if (r->relay && report_proc_sample(o->pid, &ps1) != 0)
		r->relay = false;
	r->window_secs = (double)(now - w0) / 1e9;
	scenario_publish_stop(b);

	/* Drain: wait for the stragglers, at most --drain. */
	drain_end = now + (uint64_t)(o->drain * 1e9);
	r->drained = true;
	if (b->npubs > 0) {
		while (!(r->drained = scenario_caught_up(b))) {
			now = ws_now();
			if (now >= drain_end)
				break;
			progress_tick(b, &p, now, "drain");
			if (poll_once(b, ms_until(now, drain_end, 10)) != 0)
				goto fail;
		}
	}

	/* The result. */
	r->target = b->nconns;
	r->connections = (size_t)b->ctr.ready;
	r->failed = (size_t)b->ctr.failed;
	r->publishers = b->npubs;
	r->subscribers = b->nsubs;
	r->channels = b->nchans;
	r->connect_lat = b->connect_lat;
	r->published = b->ctr.sent;
	r->published_window = c1.sent - c0.sent;
	r->acked = b->ctr.acked;
	r->delivered = b->ctr.delivered;
	r->delivered_window = c1.delivered - c0.delivered;
	r->pub_received = b->ctr.pub_received;
	scenario_loss(b, &r->loss);
	r->unexpected = b->ctr.unexpected;
	r->disconnects = b->ctr.disconnects;
	r->rate_limited = b->ctr.rate_limited;
	r->send_errors = b->ctr.send_errors;
	r->other_errors = b->ctr.other_errors;
	r->bad_frames = b->ctr.bad_frames;
	r->lat = b->lat;
	if (r->relay)
		r->relay_cpu_secs = ps1.cpu_secs - ps0.cpu_secs;
	r->bench_cpu_secs = (user1 - user0) + (sys1 - sys0);
	r->bench_sys_secs = sys1 - sys0;
	snprintf(r->first_send_error, sizeof(r->first_send_error), "%s",
	    b->first_send_error);
	snprintf(r->first_disconnect, sizeof(r->first_disconnect), "%s",
	    b->first_disconnect);
	judge(b, r);
	scenario_free(b);
	free(b);
	return 0;
fail:
	scenario_free(b);
	free(b);
	return 1;
}
