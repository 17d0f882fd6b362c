/*
 * worker.c: one worker thread: its loop, lws context and listening socket,
 * its client table, the flush after each loop iteration, its inbox, its
 * tick, and its start and teardown.  What the messages and the tick mean
 * is the business of the hooks (worker.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "client.h"
#include "config.h"
#include "http.h"
#include "listen.h"
#include "log.h"
#include "relay.h"
#include "worker.h"
#include "ws.h"

#define INBOX_BATCH 1024	/* messages handled per wake-up before I/O gets a turn */
#define FLUSH_DEFER_NS 200000	/* longest a flush waits for more input */
#define FLUSH_DEFER_MIN 16	/* clients to write before waiting is worth it */
#define ACCEPT_BATCH 64		/* connections accepted per readable event */
#define FLUSH_LIST_FIRST 256	/* entries of a new flush list */

int64_t
worker_now(struct worker *w)
{
	return (int64_t)uv_now(&w->loop);
}

int
worker_owner(const struct worker *w, const char *name)
{
	if (w->relay->nworkers == 1)
		return 0;
	return (int)(strmap_hash(name) % (uint32_t)w->relay->nworkers);
}

uint32_t
worker_random(struct worker *w)
{
	/* xorshift64*: cheap, and each worker has its own state. */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return (uint32_t)((w->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

uint64_t
client_id(const struct client *c)
{
	return client_table_id(&c->w->clients, c->slot);
}

struct client *
worker_client(struct worker *w, uint64_t id)
{
	return client_table_get(&w->clients, id);
}

int
worker_add_client(struct worker *w, struct client *c)
{
	if (client_table_add(&w->clients, c, &c->slot) != 0)
		return -1;
	atomic_fetch_add(&w->relay->nconns, 1);
	return 0;
}

void
worker_remove_client(struct worker *w, struct client *c)
{
	if (c->in_flush)
		w->flush[c->flush_idx] = NULL;
	c->in_flush = false;
	client_table_remove(&w->clients, c->slot);
	atomic_fetch_sub(&w->relay->nconns, 1);
}

void
worker_want_flush(struct worker *w, struct client *c)
{
	struct client **p;
	uint32_t cap;

	if (c->in_flush)
		return;
	if (w->nflush == w->flush_cap) {
		cap = w->flush_cap ? w->flush_cap * 2 : FLUSH_LIST_FIRST;
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
worker_post(struct worker *w, int to, struct imsg *m)
{
	if (to == w->idx) {
		w->hooks->dispatch(w, m);
		return;
	}
	if (atomic_load(&w->relay->no_post)) {
		w->hooks->discard(m);	/* see server.c's stop */
		return;
	}
	inbox_push(&w->relay->workers[to].inbox, m);
}

void
worker_drain(struct worker *w)
{
	int secs = (int)((w->cfg->drain_timeout_ms + 999) / 1000);
	uint32_t i;

	/*
	 * Keep accepting: /healthz answers 503 while draining, and new
	 * WebSocket upgrades are refused (ws.c).
	 */
	w->draining = true;
	for (i = 0; i < w->clients.nslots; i++) {
		struct client *c = w->clients.slots[i];

		if (c == NULL || c->closing)
			continue;
		client_close(c, 1001, "server shutting down", false,
		    1000 + worker_random(w) % 4000);
		/*
		 * The whole drain to take the bye and answer, not the usual
		 * 3 s: a slow reader still learns when to come back.
		 */
		if (c->wsi != NULL)
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_ACK,
			    secs > 0 ? secs : 1);
	}
	if (w->clients.count == 0)
		atomic_store(&w->drained, true);
}

void
worker_quiesce(struct worker *w)
{
	atomic_fetch_add(&w->relay->quiesced, 1);
}

void
worker_destroy(struct worker *w)
{
	uv_close((uv_handle_t *)&w->listen_poll, NULL);
	uv_close((uv_handle_t *)&w->flush_check, NULL);
	uv_close((uv_handle_t *)&w->spin, NULL);
	uv_close((uv_handle_t *)&w->tick, NULL);
	uv_close((uv_handle_t *)&w->inbox.async, NULL);
	lws_context_destroy(w->ctx);
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
		w->hooks->dispatch(w, m);
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

/* The tick: the upper layers' periodic work, and the end of a drain. */
static void
on_tick(uv_timer_t *t)
{
	struct worker *w = t->data;
	int64_t now = worker_now(w);

	w->hooks->tick(w, now);
	http_tick(w, now);
	if (w->draining && w->clients.count == 0)
		atomic_store(&w->drained, true);
}

/* The listening socket is readable: accepts a batch and hands it to lws. */
static void
on_listen(uv_poll_t *p, int status, int events)
{
	struct worker *w = p->data;
	int n, fd, max = w->cfg->connections_max;

	for (n = 0; n < ACCEPT_BATCH; n++) {
		fd = listen_accept(w->listen_fd);
		if (fd < 0)
			return;
		if (max > 0 && atomic_load(&w->relay->nconns) >= max) {
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
worker_init(struct worker *w, struct relay *r, int idx)
{
	const struct config *cfg = &r->cfg;
	struct lws_context_creation_info info;
	void *loops[1];
	int rc;

	memset(w, 0, sizeof *w);
	w->idx = idx;
	w->relay = r;
	w->conf = r->cfg;
	w->cfg = &w->conf;
	w->hooks = r->hooks;
	w->listen_fd = -1;
	w->rng = ((uint64_t)uv_hrtime() << 8) ^ (uint64_t)(idx + 1) *
	    0x9E3779B97F4A7C15ULL;
	if (w->rng == 0)
		w->rng = 1;
	client_table_init(&w->clients, (uint16_t)idx);
	room_table_init(&w->rooms);
	user_index_init(&w->users);
	modstate_init(&w->mod);
	watch_table_init(&w->watches);
	atomic_init(&w->drained, false);
	atomic_init(&w->bus_up, false);

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
	uv_timer_start(&w->tick, on_tick, WORKER_TICK_MS, WORKER_TICK_MS);

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
		info.provided_client_ssl_ctx = r->tls_client_ctx;
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

	if (w->hooks->start(w) != 0)
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
	inbox_discard(&w->inbox, w->hooks->discard);
	rc = uv_loop_close(&w->loop);
	if (rc != 0)
		log_warn("worker %d: loop not closed cleanly: %s", w->idx,
		    uv_strerror(rc));
	if (w->listen_fd >= 0)
		close(w->listen_fd);
	w->hooks->free(w);
	user_index_free(&w->users);
	room_table_free(&w->rooms);
	modstate_free(&w->mod);
	watch_table_free(&w->watches);
	client_table_free(&w->clients);
	free(w->flush);
	free(w->protocols);
	client_qnodes_free(w);
}
