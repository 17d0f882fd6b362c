/*
 * worker.c: one worker thread: its loop, lws context and listening socket,
 * its client table, the flush after each loop iteration, its inbox, and its
 * start and teardown.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "bus.h"
#include "bus-redis.h"
#include "client.h"
#include "config.h"
#include "control.h"
#include "frame.h"
#include "listen.h"
#include "log.h"
#include "proto.h"
#include "server.h"
#include "session.h"
#include "users.h"
#include "worker.h"
#include "ws.h"

#define INBOX_BATCH 1024	/* messages handled per wake-up before I/O gets a turn */
#define FLUSH_DEFER_NS 200000	/* longest a flush waits for more input */
#define FLUSH_DEFER_MIN 16	/* clients to write before waiting is worth it */
#define TICK_MS 200
#define SWEEP_MS 10000

int64_t
worker_now(struct worker *w)
{
	return (int64_t)uv_now(&w->loop);
}

int
worker_owner(const struct worker *w, const char *name)
{
	if (w->srv->nworkers == 1)
		return 0;
	return (int)(strmap_hash(name) % (uint32_t)w->srv->nworkers);
}

uint64_t
client_id(const struct client *c)
{
	const struct worker *w = c->w;

	return ((uint64_t)w->idx << (CLIENT_SLOT_BITS + CLIENT_GEN_BITS)) |
	    ((uint64_t)w->gens[c->slot] << CLIENT_SLOT_BITS) | c->slot;
}

struct client *
worker_client(struct worker *w, uint64_t id)
{
	uint32_t slot = (uint32_t)(id & ((1u << CLIENT_SLOT_BITS) - 1));
	struct client *c;

	if (slot >= w->nslots)
		return NULL;
	c = w->slots[slot];
	return c != NULL && client_id(c) == id ? c : NULL;
}

int
worker_add_client(struct worker *w, struct client *c)
{
	uint32_t slot, cap;
	void *p;

	if (w->nfree > 0)
		slot = w->free_slots[--w->nfree];
	else {
		if (w->nslots == (1u << CLIENT_SLOT_BITS))
			return -1;
		if (w->nslots == w->slot_cap) {
			cap = w->slot_cap ? w->slot_cap + w->slot_cap / 4 :
			    1024;
			p = realloc(w->slots, cap * sizeof *w->slots);
			if (p == NULL)
				return -1;
			w->slots = p;
			p = realloc(w->gens, cap * sizeof *w->gens);
			if (p == NULL)
				return -1;
			w->gens = p;
			p = realloc(w->free_slots, cap * sizeof *w->free_slots);
			if (p == NULL)
				return -1;
			w->free_slots = p;
			w->slot_cap = cap;
		}
		slot = w->nslots++;
		w->gens[slot] = 0;
	}
	w->gens[slot] = (w->gens[slot] + 1) & ((1u << CLIENT_GEN_BITS) - 1);
	w->slots[slot] = c;
	c->slot = slot;
	w->nclients++;
	atomic_fetch_add(&w->srv->nconns, 1);
	return 0;
}

void
worker_remove_client(struct worker *w, struct client *c)
{
	if (c->in_flush)
		w->flush[c->flush_idx] = NULL;
	c->in_flush = false;
	w->slots[c->slot] = NULL;
	w->free_slots[w->nfree++] = c->slot;
	w->nclients--;
	atomic_fetch_sub(&w->srv->nconns, 1);
}

void
worker_want_flush(struct worker *w, struct client *c)
{
	struct client **p;
	uint32_t cap;

	if (c->in_flush)
		return;
	if (w->nflush == w->flush_cap) {
		cap = w->flush_cap ? w->flush_cap * 2 : 256;
		p = realloc(w->flush, cap * sizeof *p);
		if (p == NULL) {
			log_err("out of memory: flush list");
			return;
		}
		w->flush = p;
		w->flush_cap = cap;
	}
	c->flush_idx = w->nflush;
	w->flush[w->nflush++] = c;
	c->in_flush = true;
}

void
worker_deliver_channel(struct worker *w, const char *ch, struct frame *f,
    const char *except)
{
	struct room *r = room_find(&w->rooms, ch);
	struct client *c;
	uint32_t i;

	if (r == NULL)
		return;
	/* client_send never changes the room: overflowing clients close later. */
	if (except == NULL) {
		for (i = 0; i < r->n; i++)
			client_send(r->members[i].owner, f);
		stat_add(&w->stats.delivered, r->n);
		return;
	}
	for (i = 0; i < r->n; i++) {
		c = r->members[i].owner;
		if (strcmp(c->uid, except) != 0)
			client_send(c, f);
	}
}

void
worker_deliver_user(struct worker *w, const char *uid, struct frame *f)
{
	uint32_t i, n;
	struct client *const *v = users_local(w, uid, &n);

	for (i = 0; i < n; i++)
		client_send(v[i], f);
}

void
worker_post(struct worker *w, int to, struct imsg *m)
{
	if (to == w->idx) {
		worker_dispatch(w, m);
		return;
	}
	if (atomic_load(&w->srv->no_post)) {
		imsg_free(m);
		return;
	}
	inbox_push(&w->srv->workers[to].inbox, m);
}

/* Starts a graceful stop: no new connections, bye 1001 to every client. */
static void
worker_drain(struct worker *w)
{
	uint32_t i;

	/*
	 * Keep accepting: /healthz answers 503 while draining, and new
	 * WebSocket upgrades are refused (ws.c).
	 */
	w->draining = true;
	for (i = 0; i < w->nslots; i++) {
		struct client *c = w->slots[i];

		if (c != NULL)
			client_close(c, 1001, "server shutting down", false,
			    1000 + rand() % 4000);
	}
	if (w->nclients == 0)
		atomic_store(&w->drained, true);
}

/* Closes the worker's own handles and its lws context; the loop then ends. */
static void
worker_destroy(struct worker *w)
{
	uv_close((uv_handle_t *)&w->listen_poll, NULL);
	uv_close((uv_handle_t *)&w->flush_check, NULL);
	uv_close((uv_handle_t *)&w->spin, NULL);
	uv_close((uv_handle_t *)&w->tick, NULL);
	uv_close((uv_handle_t *)&w->inbox.async, NULL);
	bus_redis_free(w);
	lws_context_destroy(w->ctx);
}

void
worker_dispatch(struct worker *w, struct imsg *m)
{
	switch (m->type) {
	case IM_JOIN:
	case IM_LEAVE:
	case IM_PUBLISH:
	case IM_HISTORY:
	case IM_WHO:
		bus_handle(w, m);
		return;
	case IM_USER_ATTACH:
	case IM_USER_DETACH:
	case IM_WHISPER:
		users_handle(w, m);
		return;
	case IM_DELIVER:
		worker_input(w);
		worker_deliver_channel(w, m->ch, m->frame,
		    m->user[0] != '\0' ? m->user : NULL);
		break;
	case IM_USER_DELIVER:
		worker_deliver_user(w, m->user, m->frame);
		break;
	case IM_TO_CLIENT:
		session_reply(w, m);
		break;
	case IM_CONTROL:
		control_run(w, m->body, m->body_len);
		break;
	case IM_BUS_REPAIR:
		bus_redis_reassert(w);
		break;
	case IM_DRAIN:
		worker_drain(w);
		break;
	case IM_QUIESCE:
		atomic_fetch_add(&w->srv->quiesced, 1);
		break;
	case IM_DESTROY:
		imsg_free(m);
		worker_destroy(w);
		return;
	}
	imsg_free(m);
}

/* The inbox's wake-up: handles a batch of messages. */
static void
on_wake(uv_async_t *a)
{
	struct worker *w = a->data;
	struct imsg *m;
	int n;

	for (n = 0; n < INBOX_BATCH; n++) {
		m = inbox_pop(&w->inbox);
		if (m == NULL)
			return;
		worker_dispatch(w, m);
		if (uv_is_closing((uv_handle_t *)&w->inbox.async))
			return;	/* destroyed: what is left is discarded */
	}
	uv_async_send(&w->inbox.async);	/* more to do after some I/O */
}

/* The spin handle's callback: it only exists to keep the poll from blocking. */
static void
on_spin(uv_idle_t *h)
{
}

/*
 * After each loop iteration's I/O: closes clients whose queue overflowed
 * and writes every pending queue, coalesced.  Entries appended while this
 * runs (closes fan out presence) are handled in the same pass.
 *
 * lws reads at most rx_buffer_size bytes per readable event, so a client
 * streaming messages is taken in about one message per loop iteration.
 * Writing after each of them would cost every recipient one send() per
 * message; instead, while input keeps arriving, the flush waits (the poll
 * not blocking meanwhile) for up to FLUSH_DEFER_NS, and the frames of
 * several messages go out in one send() per recipient.  An iteration that
 * takes nothing in, or has only a few clients to write, flushes at once.
 */
static void
on_check(uv_check_t *h)
{
	struct worker *w = h->data;
	uint64_t now;
	uint32_t i;

	/*
	 * Waiting costs one more (non-blocking) poll; it pays off only when
	 * many clients have something to write.
	 */
	if (w->input_seen > 0 && w->nflush >= FLUSH_DEFER_MIN &&
	    !w->draining) {
		now = uv_hrtime();
		if (w->defer_since == 0) {
			w->defer_since = now;
			uv_idle_start(&w->spin, on_spin);
		}
		if (now - w->defer_since < FLUSH_DEFER_NS) {
			w->input_seen = 0;
			return;
		}
	}
	w->input_seen = 0;
	if (w->defer_since != 0) {
		w->defer_since = 0;
		uv_idle_stop(&w->spin);
	}

	for (i = 0; i < w->nflush; i++) {
		struct client *c = w->flush[i];

		if (c == NULL)
			continue;
		w->flush[i] = NULL;
		c->in_flush = false;
		if (c->doomed && !c->closing) {
			client_close(c, 4029, "too slow: outbound queue full",
			    true, -1);
			continue;	/* re-queued by the close */
		}
		client_flush(c);
	}
	w->nflush = 0;
}

static void
on_tick(uv_timer_t *t)
{
	struct worker *w = t->data;
	int64_t now = worker_now(w);

	session_sweep(w, now);
	if (w->redis != NULL)
		bus_redis_tick(w, proto_now_ms());
	if (now - w->last_sweep_ms >= SWEEP_MS) {
		w->last_sweep_ms = now;
		bus_sweep(w, proto_now_ms());
	}
	if (w->draining && w->nclients == 0)
		atomic_store(&w->drained, true);
}

static void
on_listen(uv_poll_t *p, int status, int events)
{
	struct worker *w = p->data;
	int n, fd, max = w->cfg->connections_max;

	for (n = 0; n < 64; n++) {
		fd = listen_accept(w->listen_fd);
		if (fd < 0)
			return;
		if (max > 0 && atomic_load(&w->srv->nconns) >= max) {
			log_warn("connections_max (%d) reached: refusing", max);
			close(fd);
			continue;
		}
		/* On failure lws has closed fd itself. */
		if (lws_adopt_socket_vhost(w->vh, fd) == NULL)
			log_info("lws refused an accepted connection");
	}
}

/*
 * permessage-deflate, when enabled, only ever inflates what clients send:
 * the relay's frames are written raw with RSV1 clear, which a peer that
 * negotiated the extension accepts as uncompressed.
 */
static const struct lws_extension deflate_exts[] = {
	{
		"permessage-deflate",
		lws_extension_callback_pm_deflate,
		"permessage-deflate; client_no_context_takeover; "
		"client_max_window_bits"
	},
	{ NULL, NULL, NULL }
};

int
worker_init(struct worker *w, struct server *srv, int idx)
{
	const struct config *cfg = &srv->cfg;
	struct lws_context_creation_info info;
	void *loops[1];
	int rc;

	memset(w, 0, sizeof *w);
	w->idx = idx;
	w->srv = srv;
	w->cfg = cfg;
	w->listen_fd = -1;
	room_table_init(&w->rooms);
	strmap_init(&w->local_users);
	strmap_init(&w->channels);
	strmap_set_load(&w->channels, 1);	/* looked up for every message */
	strmap_init(&w->users);
	atomic_init(&w->drained, false);

	if ((rc = uv_loop_init(&w->loop)) != 0 ||
	    (rc = inbox_init(&w->inbox, &w->loop, on_wake, w)) != 0 ||
	    (rc = uv_check_init(&w->loop, &w->flush_check)) != 0 ||
	    (rc = uv_idle_init(&w->loop, &w->spin)) != 0 ||
	    (rc = uv_timer_init(&w->loop, &w->tick)) != 0) {
		log_err("worker %d: %s", idx, uv_strerror(rc));
		return -1;
	}
	w->flush_check.data = w;
	w->tick.data = w;
	uv_check_start(&w->flush_check, on_check);
	uv_timer_start(&w->tick, on_tick, TICK_MS, TICK_MS);

	memset(&info, 0, sizeof info);
	loops[0] = &w->loop;
	info.foreign_loops = loops;
	info.options = LWS_SERVER_OPTION_LIBUV;
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.vhost_name = "default";
	w->protocols = calloc(2, sizeof *w->protocols);
	if (w->protocols == NULL) {
		log_err("worker %d: out of memory", idx);
		return -1;
	}
	ws_protocols_init(w->protocols, cfg);
	info.protocols = w->protocols;
	info.user = w;
	info.timeout_secs = 10;
	info.max_http_header_data = AUTH_TOKEN_MAX + 1024;
	info.alpn = "http/1.1";
	if (cfg->deflate)
		info.extensions = deflate_exts;
	if (cfg->tls_cert[0] != '\0') {
		w->tls = true;
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cfg->tls_cert;
		info.ssl_private_key_filepath = cfg->tls_key;
		info.provided_client_ssl_ctx = srv->tls_client_ctx;
	}
	w->ctx = lws_create_context(&info);
	if (w->ctx == NULL) {
		log_err("worker %d: lws context creation failed", idx);
		return -1;
	}
	w->vh = lws_get_vhost_by_name(w->ctx, "default");
	if (w->vh == NULL) {
		log_err("worker %d: lws vhost creation failed", idx);
		return -1;
	}

	if (cfg->redis[0] != '\0' && bus_redis_init(w) != 0)
		return -1;

	w->listen_fd = listen_open(cfg->bind, cfg->port);
	if (w->listen_fd < 0)
		return -1;
	if ((rc = uv_poll_init(&w->loop, &w->listen_poll, w->listen_fd)) != 0) {
		log_err("worker %d: %s", idx, uv_strerror(rc));
		return -1;
	}
	w->listen_poll.data = w;
	uv_poll_start(&w->listen_poll, UV_READABLE, on_listen);
	w->listening = true;
	return 0;
}

/* The thread: runs the loop until the worker is destroyed. */
static void
worker_main(void *arg)
{
	struct worker *w = arg;

	uv_run(&w->loop, UV_RUN_DEFAULT);
	/* lws needs a second destroy once its handles have closed. */
	lws_context_destroy(w->ctx);
	w->ctx = NULL;
}

int
worker_start(struct worker *w)
{
	int rc = uv_thread_create(&w->thread, worker_main, w);

	if (rc != 0)
		log_err("worker %d: thread: %s", w->idx, uv_strerror(rc));
	return rc != 0 ? -1 : 0;
}

void
worker_join(struct worker *w)
{
	int rc;

	uv_thread_join(&w->thread);
	inbox_discard(&w->inbox);
	rc = uv_loop_close(&w->loop);
	if (rc != 0)
		log_warn("worker %d: loop not closed cleanly: %s", w->idx,
		    uv_strerror(rc));
	if (w->listen_fd >= 0)
		close(w->listen_fd);
	bus_free(w);
	users_free(w);
	room_table_free(&w->rooms);
	free(w->slots);
	free(w->gens);
	free(w->free_slots);
	free(w->flush);
	free(w->protocols);
	client_qnodes_free(w);
}
