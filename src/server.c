/*
 * server.c: starting the workers, and stopping them gracefully.
 *
 * Start: lws contexts are created one after another on the main thread
 * (each rewrites OpenSSL globals), then the worker threads start.
 * Stop, on SIGINT or SIGTERM: every worker says bye (1001) to its clients
 * and waits for them to go (at most STOP_DRAIN_MS); then posting between
 * workers stops (every worker acknowledges it has seen that), and only then
 * is each worker, one at a time, told to destroy its lws context and end
 * its loop.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <uv.h>

#include "bus.h"
#include "dispatch.h"
#include "log.h"
#include "msg.h"
#include "relay.h"
#include "server.h"
#include "version.h"
#include "worker.h"

#define STOP_DRAIN_MS 3000
#define STOP_POLL_MS 20

/* The main thread's state while stopping. */
struct stopper {
	struct relay *srv;
	uv_loop_t loop;
	uv_signal_t sigint, sigterm;
	uv_timer_t timer;
	int phase;		/* 0 running, 1 draining, 2 quiescing, 3 done */
	uint64_t started;
};

/* Posts a lifecycle message straight into every worker's inbox. */
static void
post_all(struct relay *srv, enum imsg_type type)
{
	int i;

	for (i = 0; i < srv->nworkers; i++) {
		struct imsg *m = msg_new(type);

		if (m == NULL)
			fatal("out of memory while stopping");
		inbox_push(&srv->workers[i].inbox, m);
	}
}

/* Returns true when every worker has no client left. */
static bool
all_drained(struct relay *srv)
{
	int i;

	for (i = 0; i < srv->nworkers; i++)
		if (!atomic_load(&srv->workers[i].drained))
			return false;
	return true;
}

static void
on_stop_timer(uv_timer_t *t)
{
	struct stopper *st = t->data;
	struct relay *srv = st->srv;

	if (st->phase == 1 && (all_drained(srv) ||
	    uv_now(&st->loop) - st->started >= STOP_DRAIN_MS)) {
		if (!all_drained(srv))
			log_warn("stopping with %d connections still open",
			    atomic_load(&srv->nconns));
		atomic_store(&srv->no_post, true);
		post_all(srv, IM_QUIESCE);
		st->phase = 2;
	} else if (st->phase == 2 &&
	    atomic_load(&srv->quiesced) == srv->nworkers) {
		/* Destroyed one by one, in worker_join: see server_run. */
		st->phase = 3;
		uv_close((uv_handle_t *)&st->timer, NULL);
		uv_close((uv_handle_t *)&st->sigint, NULL);
		uv_close((uv_handle_t *)&st->sigterm, NULL);
	}
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct stopper *st = s->data;

	if (st->phase != 0)
		return;
	log_notice("received %s: stopping", strsignal(signum));
	st->phase = 1;
	st->started = uv_now(&st->loop);
	post_all(st->srv, IM_DRAIN);
	uv_timer_start(&st->timer, on_stop_timer, STOP_POLL_MS, STOP_POLL_MS);
}

/* Fills r with random bits from /dev/urandom, or from the clock and pid. */
static void
random_bits(unsigned int r[2])
{
	FILE *f = fopen("/dev/urandom", "rb");

	r[0] = (unsigned int)time(NULL) ^ ((unsigned int)getpid() << 16);
	r[1] = (unsigned int)clock() ^ (unsigned int)getpid();
	if (f != NULL) {
		if (fread(r, sizeof r[0], 2, f) != 2)
			r[1] ^= (unsigned int)clock();
		fclose(f);
	}
}

/* Chooses the node id (the configured one, or a random one) and its boot id. */
static void
server_node_id(struct relay *srv)
{
	unsigned int r[2];

	random_bits(r);
	if (srv->cfg.node[0] != '\0')
		snprintf(srv->node, sizeof srv->node, "%s", srv->cfg.node);
	else
		snprintf(srv->node, sizeof srv->node, "node-%08x", r[0]);
	snprintf(srv->node_key, sizeof srv->node_key, "%s/%08x", srv->node,
	    r[1]);
}

int
server_run(struct relay *srv)
{
	struct stopper st;
	long ncpu;
	int i, started = 0, rc = 0;

	signal(SIGPIPE, SIG_IGN);
	log_set_level(srv->cfg.log_level);
	log_route_lws();
	server_node_id(srv);

	srv->nworkers = srv->cfg.workers;
	if (srv->nworkers <= 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		srv->nworkers = ncpu > 0 ? (int)ncpu : 1;
	}
	atomic_init(&srv->no_post, false);
	atomic_init(&srv->nconns, 0);
	atomic_init(&srv->quiesced, 0);
	/*
	 * With TLS, lws would make every vhost a client SSL_CTX (loading the
	 * system's CA store, ~700 KB), and with several contexts it frees only
	 * the last one's: the SSL_CTX ex-data index it looks it up by is a
	 * global that each context overwrites.  The relay never connects out,
	 * so every context gets this one small SSL_CTX, freed here at exit.
	 */
	if (srv->cfg.tls_cert[0] != '\0') {
		srv->tls_client_ctx = SSL_CTX_new(TLS_client_method());
		if (srv->tls_client_ctx == NULL)
			fatal("cannot create an SSL_CTX");
	}
	srv->hooks = &dispatch_hooks;
	srv->bus = bus_choose(srv);
	if (srv->bus->global_init(srv) != 0)
		fatal("the %s bus could not start", srv->bus->name);
	srv->workers = calloc((size_t)srv->nworkers, sizeof *srv->workers);
	if (srv->workers == NULL)
		fatal("out of memory");
	for (i = 0; i < srv->nworkers; i++)
		if (worker_init(&srv->workers[i], srv, i) != 0)
			fatal("worker %d could not start", i);

	memset(&st, 0, sizeof st);
	st.srv = srv;
	if (uv_loop_init(&st.loop) != 0)
		fatal("main loop");
	uv_signal_init(&st.loop, &st.sigint);
	uv_signal_init(&st.loop, &st.sigterm);
	uv_timer_init(&st.loop, &st.timer);
	st.sigint.data = st.sigterm.data = st.timer.data = &st;
	uv_signal_start(&st.sigint, on_signal, SIGINT);
	uv_signal_start(&st.sigterm, on_signal, SIGTERM);

	for (i = 0; i < srv->nworkers; i++) {
		if (worker_start(&srv->workers[i]) != 0) {
			rc = 1;
			break;
		}
		started++;
	}
	if (rc == 0)
		log_notice("chatrelay %s listening on %s:%d, %d worker%s, %s "
		    "mode, node %s", CHATRELAY_VERSION, srv->cfg.bind,
		    srv->cfg.port, srv->nworkers, srv->nworkers == 1 ? "" : "s",
		    srv->cfg.secret[0] != '\0' ? "token" : "open", srv->node);
	else
		on_signal(&st.sigterm, SIGTERM);

	uv_run(&st.loop, UV_RUN_DEFAULT);
	uv_loop_close(&st.loop);
	/*
	 * lws contexts are destroyed one after another, as they were created:
	 * destroying two TLS contexts at once races inside lws and OpenSSL
	 * (LeakSanitizer showed a whole SSL_CTX lost).
	 */
	for (i = 0; i < started; i++) {
		struct imsg *m = msg_new(IM_DESTROY);

		if (m == NULL)
			fatal("out of memory while stopping");
		inbox_push(&srv->workers[i].inbox, m);
		worker_join(&srv->workers[i]);
	}
	free(srv->workers);
	SSL_CTX_free(srv->tls_client_ctx);
	log_notice("stopped");
	return rc;
}
