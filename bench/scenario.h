/*
 * scenario.h: what chatrelay-bench's connections do.
 *
 * A bench is a fixed set of connections, each a publisher, a subscriber or
 * both, each a member of a few channels, laid out by the scenario (idle,
 * fanout, rooms, cluster).  This module opens them (paced), authenticates
 * and joins them, publishes (at a rate, or as fast as acknowledged within a
 * window), and keeps the counts the report is built from: per subscriber
 * and channel, the seq at join and the last seq seen, so loss is computed
 * from seq rather than guessed; latency from the send time each message
 * carries in its text.  The caller (run.c) owns the clock and the phases.
 */
#ifndef BENCH_SCENARIO_H
#define BENCH_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "options.h"
#include "url.h"
#include "wsclient.h"

#define ROLE_PUB	1
#define ROLE_SUB	2

enum bconn_phase {
	BC_NEW = 0,	/* not connected yet */
	BC_SETUP,	/* connecting, authenticating or joining */
	BC_READY,	/* authenticated and joined */
	BC_DEAD,	/* failed or closed */
};

/* One connection's membership of one channel. */
struct member {
	uint32_t	ch;		/* index in bench.chans */
	uint32_t	gaps;		/* times a seq was skipped */
	uint32_t	reorders;	/* seqs at or below one already seen */
	int64_t		join_seq;	/* joined.seq, or -1 before joined */
	int64_t		last_seq;	/* highest seq seen */
	uint64_t	delivered;	/* msg frames received */
};

struct bconn {
	struct ws_conn	 ws;		/* first: the loop hands back &ws */
	uint32_t	 idx;		/* user b<idx> */
	uint8_t		 role;		/* ROLE_PUB | ROLE_SUB */
	uint8_t		 phase;		/* enum bconn_phase */
	uint8_t		 target;	/* 0: --url, 1: --url2 */
	uint8_t		 src;		/* source 127.0.0.(src+1), if spread */
	uint16_t	 nmem;
	uint16_t	 joins_left;
	uint16_t	 rr;		/* publisher: next membership to use */
	uint32_t	 outstanding;	/* sends without ok or err */
	uint64_t	 next_id;
	uint64_t	 t_start;	/* when connecting began (ns) */
	uint64_t	 throttle_until; /* no sends before (ns), 0: none */
	struct member	*mem;
};

struct chan {
	char		name[64];
	uint8_t		namelen;
	int64_t		max_seq;	/* highest seq acknowledged or seen */
};

/* Running totals; run.c snapshots them to get the window's share. */
struct bench_counters {
	uint64_t	ready, failed, disconnects;
	uint64_t	sent, acked, outstanding;
	uint64_t	delivered;	/* msgs received by subscribers */
	uint64_t	pub_received;	/* msgs received by pure publishers */
	uint64_t	unexpected;	/* msgs for no joined channel, or old */
	uint64_t	gaps, reorders;
	uint64_t	rate_limited, send_errors, other_errors, bad_frames;
	uint64_t	behind;		/* rate mode: ticks with no publisher free */
};

/* Loss over every subscriber membership, computed from seq. */
struct loss {
	uint64_t	expected, delivered, lost, gaps, reorders;
};

struct bench {
	const struct bench_opts	*o;
	struct ws_loop		 loop;
	struct url		 url[2];
	unsigned		 nsrc[2];	/* source addresses per target */
	struct bconn		*conns;
	size_t			 nconns, nsubs;
	struct member		*members;
	size_t			 nmembers;
	struct chan		*chans;
	size_t			 nchans;
	uint32_t		*pubs;		/* indexes of publishers */
	size_t			 npubs;
	char			 runid[16];
	char			*pad, *sendbuf;

	/* Connecting. */
	size_t			 next_connect, inflight;
	uint64_t		 connect_start;

	/* Publishing. */
	bool			 publishing, rate_mode;
	uint64_t		 pub_start, issued, last_scan;
	size_t			 pub_rr, throttled;

	/* Latency of messages stamped in [window_lo, window_hi) (ns). */
	uint64_t		 window_lo, window_hi;
	struct hist		 lat;		/* the measured window */
	struct hist		 lat_tick;	/* since the last progress line */
	struct hist		 connect_lat;	/* connect to joined, per conn */

	struct bench_counters	 ctr;
	char			 first_error[256];	/* setup */
	char			 first_send_error[256];
	char			 first_disconnect[256];
	char			 notes[512];	/* start-up warnings */
};

/*
 * Lays out b's connections and channels for o's scenario and sets up the
 * event loop.  Returns 0; -1 for a usage error or -2 for a setup error, with
 * a message in err.  b must be freed with scenario_free either way.
 */
int	scenario_init(struct bench *b, const struct bench_opts *o, char *err,
	    size_t errlen);

/* Closes every connection and frees b's memory. */
void	scenario_free(struct bench *b);

/*
 * Starts the connections due by now under --connect-rate.  Returns the
 * number of milliseconds until the next one is due, or -1 if none is left.
 */
int	scenario_connect(struct bench *b, uint64_t now);

/* Starts publishing (no-op for idle): fills every publisher's window. */
void	scenario_publish_start(struct bench *b, uint64_t now);

/*
 * Sends what is due by now (rate mode) or refills publishers whose
 * throttle expired.  Returns the milliseconds until it wants to run again,
 * or -1 if it has nothing scheduled.
 */
int	scenario_publish_tick(struct bench *b, uint64_t now);

/* Stops publishing; sends already made are still acknowledged. */
void	scenario_publish_stop(struct bench *b);

/*
 * Returns true when every send has been answered and every live subscriber
 * has seen its channels' highest known seq.
 */
bool	scenario_caught_up(const struct bench *b);

/* Fills *out with the loss over all subscriber memberships. */
void	scenario_loss(const struct bench *b, struct loss *out);

/* Closes every connection (close frame 1000, then the socket). */
void	scenario_close_all(struct bench *b);

#endif
