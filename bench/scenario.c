/*
 * scenario.c: the four scenarios' layout, the per-connection protocol
 * (auth, join, send, and reading the relay's frames), publishing and the
 * seq-based loss accounting (see scenario.h).
 *
 * Connections b0, b1, ... are laid out publishers first.  Channel c is named
 * bench-<runid>-<c>, so the channel of an incoming frame is found from the
 * digits at the end of its name, without a lookup table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "jwt.h"
#include "scan.h"
#include "scenario.h"

#define SEND_ID_BASE	1000	/* ids below are auth (1) and joins */
#define INFLIGHT_MAX	1000	/* connections being set up at once */
#define PUB_QUEUE_MAX	(256u << 10)	/* a publisher this far behind waits */
#define RATE_BATCH_MAX	20000	/* sends per tick, to keep reading */

/* Writes v in decimal at p; returns the number of digits. */
static size_t
u64_put(char *p, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/* Appends the string literal s at p; returns the new end. */
#define PUT_LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

/* Records the first message of a kind, prefixed with the user. */
static void
note_first(char *dst, size_t dstsz, const struct bconn *c, const char *what,
    const char *p, size_t n)
{
	if (dst[0] != '\0')
		return;
	snprintf(dst, dstsz, "b%u: %s%.*s", c->idx, what,
	    (int)(n > 160 ? 160 : n), p != NULL ? p : "");
}

/* Returns c's membership of the channel named ch, or NULL. */
static struct member *
member_of(const struct bench *b, const struct bconn *c,
    const struct scan_str *ch)
{
	size_t i = ch->len, idx = 0, mul = 1, k;
	const struct chan *chn;

	while (i > 0 && ch->p[i - 1] >= '0' && ch->p[i - 1] <= '9' &&
	    ch->len - i < 9) {
		idx += (size_t)(ch->p[i - 1] - '0') * mul;
		mul *= 10;
		i--;
	}
	if (i == ch->len || idx >= b->nchans)
		return NULL;
	chn = &b->chans[idx];
	if (chn->namelen != ch->len || memcmp(chn->name, ch->p, ch->len) != 0)
		return NULL;
	for (k = 0; k < c->nmem; k++)
		if (c->mem[k].ch == idx)
			return &c->mem[k];
	return NULL;
}

/* Raises a channel's highest known seq. */
static void
chan_seen(struct bench *b, uint32_t ch, int64_t seq)
{
	if (seq > b->chans[ch].max_seq)
		b->chans[ch].max_seq = seq;
}

/* Queues one send from publisher c to its next channel. */
static void
pub_send(struct bench *b, struct bconn *c, uint64_t now)
{
	const struct member *m = &c->mem[c->rr];
	const struct chan *chn = &b->chans[m->ch];
	char *p = b->sendbuf;
	size_t digits, pad;

	if (++c->rr >= c->nmem)
		c->rr = 0;
	p = PUT_LIT(p, "{\"op\":\"send\",\"ch\":\"");
	memcpy(p, chn->name, chn->namelen);
	p += chn->namelen;
	p = PUT_LIT(p, "\",\"text\":\"t=");
	digits = u64_put(p, now);
	p += digits;
	*p++ = ';';
	pad = (size_t)b->o->size - 3 - digits;
	memcpy(p, b->pad, pad);
	p += pad;
	p = PUT_LIT(p, "\",\"id\":");
	p += u64_put(p, c->next_id++);
	*p++ = '}';
	if (ws_send_text(&b->loop, &c->ws, b->sendbuf,
	    (size_t)(p - b->sendbuf)) != 0)
		return;
	c->outstanding++;
	b->ctr.outstanding++;
	b->ctr.sent++;
}

/* Sends until c has a full window of unacknowledged sends. */
static void
pub_fill(struct bench *b, struct bconn *c, uint64_t now)
{
	while (c->phase == BC_READY && c->outstanding < (uint32_t)b->o->window)
		pub_send(b, c, now);
}

/* Clears c's throttle if it has expired; returns true if c may send. */
static bool
pub_unthrottled(struct bench *b, struct bconn *c, uint64_t now)
{
	if (c->throttle_until == 0)
		return true;
	if (now < c->throttle_until)
		return false;
	c->throttle_until = 0;
	b->throttled--;
	return true;
}

/* A connection failed before it was ready. */
static void
setup_failed(struct bench *b, struct bconn *c, const char *why, size_t n)
{
	note_first(b->first_error, sizeof(b->first_error), c, "", why, n);
	b->ctr.failed++;
	b->inflight--;
	c->phase = BC_DEAD;
}

/* The TCP and WebSocket handshakes are done: authenticate and join. */
static void
on_open(struct ws_conn *wc, void *ctx)
{
	struct bench *b = ctx;
	struct bconn *c = (struct bconn *)wc;
	char buf[JWT_MAX + 128], name[16], tok[JWT_MAX];
	int n, k;

	snprintf(name, sizeof(name), "b%u", c->idx);
	if (b->o->token_secret != NULL) {
		if (jwt_mint(b->o->token_secret, name, (int64_t)time(NULL) +
		    86400, tok, sizeof(tok)) < 0) {
			setup_failed(b, c, "cannot mint a token", 19);
			ws_close(&b->loop, wc, 1000);
			return;
		}
		n = snprintf(buf, sizeof(buf),
		    "{\"op\":\"auth\",\"token\":\"%s\",\"id\":1}", tok);
	} else {
		n = snprintf(buf, sizeof(buf),
		    "{\"op\":\"auth\",\"name\":\"%s\",\"id\":1}", name);
	}
	ws_send_text(&b->loop, wc, buf, (size_t)n);
	/* The relay holds frames behind an auth until it is decided. */
	for (k = 0; k < c->nmem; k++) {
		const struct chan *chn = &b->chans[c->mem[k].ch];

		n = snprintf(buf, sizeof(buf),
		    "{\"op\":\"join\",\"ch\":\"%.*s\",\"id\":%d}",
		    (int)chn->namelen, chn->name, 2 + k);
		ws_send_text(&b->loop, wc, buf, (size_t)n);
	}
}

/* joined: remember where the channel's seq stood. */
static void
on_joined(struct bench *b, struct bconn *c, const struct scan *s,
    uint64_t now)
{
	struct member *m = member_of(b, c, &s->ch);

	if (m == NULL || m->join_seq >= 0 || s->seq < 0)
		return;
	m->join_seq = m->last_seq = s->seq;
	chan_seen(b, m->ch, s->seq);
	if (c->joins_left > 0 && --c->joins_left == 0 &&
	    c->phase == BC_SETUP) {
		c->phase = BC_READY;
		b->inflight--;
		b->ctr.ready++;
		hist_record(&b->connect_lat, now - c->t_start);
	}
}

/* msg: count it against the subscriber's membership, time it. */
static void
on_msg(struct bench *b, struct bconn *c, const struct scan *s, uint64_t now)
{
	struct member *m;

	if (!(c->role & ROLE_SUB)) {
		b->ctr.pub_received++;
		return;
	}
	m = member_of(b, c, &s->ch);
	if (m == NULL || m->join_seq < 0 || s->seq <= m->join_seq) {
		b->ctr.unexpected++;
		return;
	}
	if (s->seq > m->last_seq + 1) {
		m->gaps++;
		b->ctr.gaps++;
	} else if (s->seq <= m->last_seq) {
		m->reorders++;
		b->ctr.reorders++;
	}
	if (s->seq > m->last_seq)
		m->last_seq = s->seq;
	chan_seen(b, m->ch, s->seq);
	m->delivered++;
	b->ctr.delivered++;
	if (s->stamp >= 0) {
		uint64_t st = (uint64_t)s->stamp;
		uint64_t lat = now > st ? now - st : 0;

		if (st >= b->window_lo && st < b->window_hi)
			hist_record(&b->lat, lat);
		hist_record(&b->lat_tick, lat);
	}
}

/* ok: a send was sequenced; keep the window full. */
static void
on_ok(struct bench *b, struct bconn *c, const struct scan *s, uint64_t now)
{
	struct member *m;

	if (s->id < SEND_ID_BASE)
		return;
	if (c->outstanding > 0) {
		c->outstanding--;
		b->ctr.outstanding--;
	}
	b->ctr.acked++;
	m = member_of(b, c, &s->ch);
	if (m != NULL)
		chan_seen(b, m->ch, s->seq);
	if (b->publishing && !b->rate_mode && c->throttle_until == 0)
		pub_fill(b, c, now);
}

/* err: fatal during setup; a refused send otherwise. */
static void
on_err(struct bench *b, struct bconn *c, const struct scan *s, uint64_t now)
{
	char what[96];
	uint64_t wait_ms;

	snprintf(what, sizeof(what), "err %.*s: ",
	    (int)(s->code.len > 40 ? 40 : s->code.len),
	    s->code.p != NULL ? s->code.p : "");
	if (c->phase == BC_SETUP) {
		char why[256];

		snprintf(why, sizeof(why), "%s%.*s", what,
		    (int)(s->msg.len > 150 ? 150 : s->msg.len),
		    s->msg.p != NULL ? s->msg.p : "");
		setup_failed(b, c, why, strlen(why));
		ws_close(&b->loop, &c->ws, 1000);
		return;
	}
	if (s->id < SEND_ID_BASE) {
		b->ctr.other_errors++;
		note_first(b->first_send_error, sizeof(b->first_send_error), c,
		    what, s->msg.p, s->msg.len);
		return;
	}
	if (c->outstanding > 0) {
		c->outstanding--;
		b->ctr.outstanding--;
	}
	b->ctr.send_errors++;
	if (s->code.len == 12 && memcmp(s->code.p, "rate_limited", 12) == 0) {
		b->ctr.rate_limited++;
		wait_ms = s->retry_ms > 0 ? (uint64_t)s->retry_ms : 1;
	} else {
		wait_ms = 100;
	}
	note_first(b->first_send_error, sizeof(b->first_send_error), c, what,
	    s->msg.p, s->msg.len);
	/* Back off instead of answering every refusal with a new send. */
	if (c->throttle_until == 0)
		b->throttled++;
	c->throttle_until = now + wait_ms * 1000000u;
}

/* A complete text frame from the relay. */
static void
on_text(struct ws_conn *wc, const char *p, size_t n, uint64_t now, void *ctx)
{
	struct bench *b = ctx;
	struct bconn *c = (struct bconn *)wc;
	struct scan s;

	if (scan_frame(p, n, &s) != 0) {
		b->ctr.bad_frames++;
		return;
	}
	switch (s.op) {
	case SCAN_OP_MSG:
		on_msg(b, c, &s, now);
		break;
	case SCAN_OP_OK:
		on_ok(b, c, &s, now);
		break;
	case SCAN_OP_JOINED:
		on_joined(b, c, &s, now);
		break;
	case SCAN_OP_ERR:
		on_err(b, c, &s, now);
		break;
	default:
		break;	/* welcome, presence, pong, bye: nothing to do */
	}
}

/* The connection ended on its own. */
static void
on_closed(struct ws_conn *wc, int code, const char *why, void *ctx)
{
	struct bench *b = ctx;
	struct bconn *c = (struct bconn *)wc;

	if (c->phase == BC_SETUP) {
		setup_failed(b, c, why, strlen(why));
		return;
	}
	if (c->phase == BC_READY) {
		b->ctr.disconnects++;
		note_first(b->first_disconnect, sizeof(b->first_disconnect), c,
		    "", why, strlen(why));
	}
	b->ctr.outstanding -= c->outstanding;
	c->outstanding = 0;
	if (c->throttle_until != 0) {
		c->throttle_until = 0;
		b->throttled--;
	}
	c->phase = BC_DEAD;
}

static const struct ws_handler handler = {
	.open = on_open,
	.text = on_text,
	.closed = on_closed,
};

/* Returns how many ports one source address may use toward one server. */
static size_t
ports_per_source(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned lo = 32768, hi = 60999;
	size_t n;

	if (f != NULL) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2 || hi < lo) {
			lo = 32768;
			hi = 60999;
		}
		fclose(f);
	}
	n = (size_t)(hi - lo + 1);
	/* Leave room for other sockets and for TIME_WAIT of earlier runs. */
	return n > 4000 ? n - 1000 : n / 2 + 1;
}

/* Decides how many 127.0.0.x sources each target needs. */
static void
plan_sources(struct bench *b)
{
	size_t count[2] = { 0, 0 }, per = ports_per_source(), i, ord[2] = {0, 0};
	/* Two URLs naming one address and port share its ports. */
	bool same = b->url[0].addr.sin_addr.s_addr ==
	    b->url[1].addr.sin_addr.s_addr &&
	    b->url[0].addr.sin_port == b->url[1].addr.sin_port;
	int t;

	for (i = 0; i < b->nconns; i++)
		count[same ? 0 : b->conns[i].target]++;
	if (same)
		count[1] = count[0];
	for (t = 0; t < 2; t++) {
		bool loop = (ntohl(b->url[t].addr.sin_addr.s_addr) >> 24) == 127;
		size_t need = (count[t] + per - 1) / per;

		b->nsrc[t] = 1;
		if (need <= 1)
			continue;
		if (!loop) {
			snprintf(b->notes, sizeof(b->notes), "%zu connections "
			    "to one non-loopback address may run out of local "
			    "ports (about %zu per source address)", count[t],
			    per);
			continue;
		}
		b->nsrc[t] = need > (size_t)b->o->sources ?
		    (unsigned)b->o->sources : (unsigned)need;
		if (need > b->nsrc[t])
			snprintf(b->notes, sizeof(b->notes), "%zu connections "
			    "need %zu source addresses but --sources is %ld: "
			    "expect to run out of local ports", count[t], need,
			    b->o->sources);
	}
	for (i = 0; i < b->nconns; i++) {
		struct bconn *c = &b->conns[i];

		c->src = (uint8_t)(ord[same ? 0 : c->target]++ %
		    b->nsrc[c->target]);
	}
}

/* Gives connection i a membership of channel ch. */
static void
add_member(struct bench *b, struct bconn *c, uint32_t ch)
{
	struct member *m = &b->members[b->nmembers++];

	if (c->nmem == 0)
		c->mem = m;
	m->ch = ch;
	m->join_seq = m->last_seq = -1;
	c->nmem++;
	c->joins_left++;
}

int
scenario_init(struct bench *b, const struct bench_opts *o, char *err,
    size_t errlen)
{
	size_t n = (size_t)o->connections, p = 0, nmem, i, c;
	size_t nch = (size_t)o->channels;
	int rc;

	memset(b, 0, sizeof(*b));
	b->o = o;
	b->loop.epfd = -1;
	hist_init(&b->lat);
	hist_init(&b->lat_tick);
	hist_init(&b->connect_lat);
	rc = url_parse(o->url, &b->url[0], err, errlen);
	if (rc == 0 && o->url2 != NULL)
		rc = url_parse(o->url2, &b->url[1], err, errlen);
	else if (rc == 0)
		b->url[1] = b->url[0];
	if (rc != 0)
		return rc;

	switch (o->scenario) {
	case SCENARIO_IDLE:
		nmem = n;
		break;
	case SCENARIO_ROOMS:
		nch = (n + (size_t)o->room_size - 1) / (size_t)o->room_size;
		nmem = n;
		break;
	default:
		p = (size_t)o->publishers;
		nmem = n + (nch >= p ? nch : p);
		break;
	}
	b->nconns = n + p;
	if (b->nconns > 0xffffffffu || nch > 100000000) {
		snprintf(err, errlen, "too many connections or channels");
		return -1;
	}
	if (p > 0 && (nch + p - 1) / p > 1024) {
		snprintf(err, errlen, "a publisher would join %zu channels "
		    "(at most 1024, and the relay allows 32 by default): use "
		    "more --publishers", (nch + p - 1) / p);
		return -1;
	}
	b->conns = calloc(b->nconns, sizeof(*b->conns));
	b->members = calloc(nmem, sizeof(*b->members));
	b->chans = calloc(nch, sizeof(*b->chans));
	b->pubs = calloc(b->nconns, sizeof(*b->pubs));
	b->pad = malloc((size_t)o->size);
	b->sendbuf = malloc((size_t)o->size + 256);
	if (b->conns == NULL || b->members == NULL || b->chans == NULL ||
	    b->pubs == NULL || b->pad == NULL || b->sendbuf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -2;
	}
	memset(b->pad, 'x', (size_t)o->size);
	snprintf(b->runid, sizeof(b->runid), "%08x",
	    (unsigned)(ws_now() ^ (uint64_t)time(NULL) ^
	    ((uint64_t)getpid() << 16)));
	b->nchans = nch;
	for (c = 0; c < nch; c++) {
		struct chan *chn = &b->chans[c];

		chn->namelen = (uint8_t)snprintf(chn->name, sizeof(chn->name),
		    "bench-%s-%zu", b->runid, c);
	}
	for (i = 0; i < b->nconns; i++) {
		struct bconn *bc = &b->conns[i];

		bc->idx = (uint32_t)i;
		bc->ws.fd = -1;
		bc->next_id = SEND_ID_BASE;
		if (i < p) {
			bc->role = ROLE_PUB;
			b->pubs[b->npubs++] = (uint32_t)i;
			if (nch >= p) {
				for (c = i; c < nch; c += p)
					add_member(b, bc, (uint32_t)c);
			} else {
				add_member(b, bc, (uint32_t)(i % nch));
			}
			continue;
		}
		bc->role = ROLE_SUB;
		b->nsubs++;
		if (o->scenario == SCENARIO_CLUSTER)
			bc->target = 1;
		if (o->scenario == SCENARIO_ROOMS) {
			bc->role |= ROLE_PUB;
			b->pubs[b->npubs++] = (uint32_t)i;
			add_member(b, bc, (uint32_t)(i / (size_t)o->room_size));
		} else {
			add_member(b, bc, (uint32_t)((i - p) % nch));
		}
	}
	if (o->scenario == SCENARIO_IDLE)
		b->npubs = 0;
	plan_sources(b);
	b->rate_mode = o->rate > 0;
	rc = ws_loop_init(&b->loop, &handler, b);
	if (rc != 0) {
		snprintf(err, errlen, "epoll: %s", strerror(-rc));
		return -2;
	}
	return 0;
}

void
scenario_free(struct bench *b)
{
	if (b->conns != NULL && b->loop.epfd >= 0)
		scenario_close_all(b);
	if (b->loop.epfd >= 0)
		ws_loop_free(&b->loop);
	free(b->conns);
	free(b->members);
	free(b->chans);
	free(b->pubs);
	free(b->pad);
	free(b->sendbuf);
	b->conns = NULL;
}

/* Starts connecting c; a failure to start counts as a setup failure. */
static void
start_one(struct bench *b, struct bconn *c, uint64_t now)
{
	struct sockaddr_in src, *srcp = NULL;
	const struct url *u = &b->url[c->target];
	int rc;

	if (b->nsrc[c->target] > 1) {
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f000001u + c->src);
		srcp = &src;
	}
	c->t_start = now;
	c->phase = BC_SETUP;
	b->inflight++;
	rc = ws_connect(&b->loop, &c->ws, &u->addr, srcp, u->host, u->path);
	if (rc != 0) {
		char why[160];

		snprintf(why, sizeof(why), "connect: %s%s", strerror(-rc),
		    rc == -EADDRNOTAVAIL ? " (out of local ports: raise "
		    "--sources)" : rc == -EMFILE ? " (out of file descriptors)"
		    : "");
		setup_failed(b, c, why, strlen(why));
	}
}

int
scenario_connect(struct bench *b, uint64_t now)
{
	double rate = b->o->connect_rate;
	uint64_t allowed;

	if (b->next_connect >= b->nconns)
		return -1;
	if (b->next_connect == 0)
		b->connect_start = now;
	allowed = (uint64_t)((double)(now - b->connect_start) / 1e9 * rate) + 1;
	while (b->next_connect < b->nconns && b->next_connect < allowed &&
	    b->inflight < INFLIGHT_MAX)
		start_one(b, &b->conns[b->next_connect++], now);
	if (b->next_connect >= b->nconns)
		return -1;
	if (b->inflight >= INFLIGHT_MAX)
		return 10;
	return (int)(1000.0 / rate) + 1 > 100 ? 100 : (int)(1000.0 / rate) + 1;
}

void
scenario_publish_start(struct bench *b, uint64_t now)
{
	size_t i;

	if (b->npubs == 0)
		return;
	b->publishing = true;
	b->pub_start = now;
	b->issued = 0;
	if (b->rate_mode)
		return;
	for (i = 0; i < b->npubs; i++)
		pub_fill(b, &b->conns[b->pubs[i]], now);
}

/* Returns the next publisher free to send in rate mode, or NULL. */
static struct bconn *
next_pub(struct bench *b, uint64_t now)
{
	size_t tries;

	for (tries = 0; tries < b->npubs; tries++) {
		struct bconn *c = &b->conns[b->pubs[b->pub_rr]];

		if (++b->pub_rr >= b->npubs)
			b->pub_rr = 0;
		if (c->phase == BC_READY && pub_unthrottled(b, c, now) &&
		    ws_queued(&c->ws) < PUB_QUEUE_MAX)
			return c;
	}
	return NULL;
}

int
scenario_publish_tick(struct bench *b, uint64_t now)
{
	size_t i, batch = 0;

	if (!b->publishing)
		return -1;
	if (b->rate_mode) {
		double rate = b->o->rate;
		uint64_t target = (uint64_t)((double)(now - b->pub_start) /
		    1e9 * rate) + 1;
		double next;

		while (b->issued < target && batch < RATE_BATCH_MAX) {
			struct bconn *c = next_pub(b, now);

			if (c == NULL) {
				b->ctr.behind++;
				return 1;
			}
			pub_send(b, c, now);
			b->issued++;
			batch++;
		}
		if (b->issued < target)
			return 0;
		next = (double)b->pub_start + (double)b->issued * 1e9 / rate;
		if (next <= (double)now)
			return 0;
		next = (next - (double)now) / 1e6;
		return next > 100 ? 100 : (int)next + (next > (int)next);
	}
	if (b->throttled == 0)
		return -1;
	if (now - b->last_scan >= 1000000u) {
		b->last_scan = now;
		for (i = 0; i < b->npubs; i++) {
			struct bconn *c = &b->conns[b->pubs[i]];

			if (c->throttle_until != 0 && pub_unthrottled(b, c, now))
				pub_fill(b, c, now);
		}
	}
	return 1;
}

void
scenario_publish_stop(struct bench *b)
{
	b->publishing = false;
}

bool
scenario_caught_up(const struct bench *b)
{
	size_t i, k;

	if (b->ctr.outstanding > 0)
		return false;
	for (i = 0; i < b->nconns; i++) {
		const struct bconn *c = &b->conns[i];

		if (!(c->role & ROLE_SUB) || c->phase != BC_READY)
			continue;
		for (k = 0; k < c->nmem; k++)
			if (c->mem[k].last_seq <
			    b->chans[c->mem[k].ch].max_seq)
				return false;
	}
	return true;
}

void
scenario_loss(const struct bench *b, struct loss *out)
{
	size_t i, k;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < b->nconns; i++) {
		const struct bconn *c = &b->conns[i];

		if (!(c->role & ROLE_SUB))
			continue;
		for (k = 0; k < c->nmem; k++) {
			const struct member *m = &c->mem[k];
			uint64_t exp;

			if (m->join_seq < 0)
				continue;
			exp = (uint64_t)(b->chans[m->ch].max_seq - m->join_seq);
			out->expected += exp;
			out->delivered += m->delivered;
			if (m->delivered < exp)
				out->lost += exp - m->delivered;
			out->gaps += m->gaps;
			out->reorders += m->reorders;
		}
	}
}

void
scenario_close_all(struct bench *b)
{
	size_t i;

	for (i = 0; i < b->nconns; i++)
		ws_close(&b->loop, &b->conns[i].ws, 1000);
}
