/*
 * server.c: starting the workers, and stopping them gracefully.
 *
 * Start: what the relay runs with is logged (the configuration file, the
 * web root, TLS, the bus); the port is checked to be nobody else's (unless
 * reuse_port); lws contexts are created one after another on the main
 * thread (each rewrites OpenSSL globals), then the worker threads start.
 * Stop, on SIGINT or SIGTERM: every worker says bye (1001) to its clients
 * and waits for them to go (at most drain_timeout; a second signal ends
 * the wait); then posting between workers stops (every worker acknowledges
 * it has seen that), and only then is each worker, one at a time, told to
 * destroy its lws context and end its loop.
 * SIGHUP reloads the configuration (server-reload.c).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "audit.h"
#include "auth.h"
#include "bus.h"
#include "dispatch.h"
#include "filter.h"
#include "listen.h"
#include "log.h"
#include "msg.h"
#include "relay.h"
#include "server.h"
#include "version.h"
#include "worker.h"

#define STOP_POLL_MS 20

/* The main thread's state while stopping. */
struct stopper {
	struct relay *srv;
	uv_loop_t loop;
	uv_signal_t sigint, sigterm, sighup;
	uv_timer_t timer;
	int phase;		/* 0 running, 1 draining, 2 quiescing, 3 done */
	uint64_t started;
	uint64_t drain_ms;	/* the drain_timeout in force at the signal */
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
	    uv_now(&st->loop) - st->started >= st->drain_ms)) {
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
		uv_close((uv_handle_t *)&st->sighup, NULL);
	}
}

/*
 * SIGINT or SIGTERM: the drain begins (a second one, while it lasts, ends
 * it at once).
 */
static void
on_signal(uv_signal_t *s, int signum)
{
	struct stopper *st = s->data;

	if (st->phase == 1) {
		log_notice("received %s again: stopping without waiting for "
		    "the clients", strsignal(signum));
		st->drain_ms = 0;
		return;
	}
	if (st->phase != 0)
		return;
	st->drain_ms = (uint64_t)st->srv->live.drain_timeout_ms;
	log_notice("received %s: stopping (clients get bye 1001 and have "
	    "%" PRIu64 " ms to close)", strsignal(signum), st->drain_ms);
	st->phase = 1;
	st->started = uv_now(&st->loop);
	post_all(st->srv, IM_DRAIN);
	uv_timer_start(&st->timer, on_stop_timer, STOP_POLL_MS, STOP_POLL_MS);
}

/* SIGHUP: the configuration is read again (not while stopping). */
static void
on_hup(uv_signal_t *s, int signum)
{
	struct stopper *st = s->data;

	(void)signum;
	if (st->phase != 0) {
		log_notice("received SIGHUP while stopping: ignored");
		return;
	}
	server_reload(st->srv);
}

/*
 * Open mode: makes the secret of /admin tokens (before the workers start,
 * which read it), and the moderators' console URL, with a moderator token
 * valid for 24 h, into url (len bytes), logged once the relay listens.
 */
static void
open_console(struct relay *srv, char *url, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	struct auth_claims cl = { "console", "Console", ROLE_MODERATOR, 0,
	    NULL, 0 };
	unsigned char raw[32];
	char token[AUTH_TOKEN_MAX + 1];
	const char *why = NULL, *host = srv->cfg.bind;
	size_t i;

	if (RAND_bytes(raw, sizeof raw) != 1)
		fatal("no random bytes for the moderators' secret");
	for (i = 0; i < sizeof raw; i++) {
		srv->admin_secret[2 * i] = hex[raw[i] >> 4];
		srv->admin_secret[2 * i + 1] = hex[raw[i] & 15];
	}
	srv->admin_secret[2 * sizeof raw] = '\0';
	cl.exp = time(NULL) + 24 * 3600;
	if (auth_sign_jwt(&cl, srv->admin_secret, token, sizeof token,
	    &why) != 0)
		fatal("cannot sign the console's token: %s", why);
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
	    host[0] == '\0')
		host = "127.0.0.1";
	snprintf(url, len, "%s://%s%s%s:%d/admin.html#token=%s",
	    srv->cfg.tls_cert[0] != '\0' ? "https" : "http",
	    strchr(host, ':') != NULL ? "[" : "", host,
	    strchr(host, ':') != NULL ? "]" : "", srv->cfg.port, token);
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

/*
 * Logs each line of text (what config_check_files reported): "warning: "
 * lines at warn, without the word, the others at err.
 */
static void
log_report(const char *text)
{
	static const char warn[] = "warning: ";
	const char *p = text, *nl;
	int len;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		len = nl != NULL ? (int)(nl - p) : (int)strlen(p);
		if (strncmp(p, warn, sizeof warn - 1) == 0)
			log_warn("%.*s", len - (int)(sizeof warn - 1),
			    p + sizeof warn - 1);
		else
			log_err("%.*s", len, p);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

/*
 * Checks the files the configuration names (config_check_files) and
 * makes web_root the directory served; logs what the relay runs with.
 * Returns 0, or -1 once what is wrong has been logged.
 */
static int
server_check(struct relay *srv)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int bad;

	if (f == NULL)
		fatal("out of memory");
	bad = config_check_files(&srv->cfg, false, f);
	fclose(f);
	log_report(text);
	free(text);
	if (bad != 0)
		return -1;
	if (srv->src.path[0] != '\0')
		log_notice("configuration: %s", srv->src.path);
	else
		log_notice("no config file: the embedded defaults%s",
		    srv->src.argc > 1 ? " and the command line" : "");
	(void)server_web_root(&srv->cfg);
	log_notice("web root: %s", srv->cfg.web_root);
	if (srv->cfg.tls_cert[0] != '\0')
		log_notice("TLS: on (wss:// and https://), certificate %s",
		    srv->cfg.tls_cert);
	else
		log_notice("TLS: off (ws:// and http://)");
	return 0;
}

int
server_run(struct relay *srv)
{
	char url[AUTH_TOKEN_MAX + 600] = "", err[512], bus[700];
	struct stopper st;
	long ncpu;
	int i, started = 0, rc = 0;

	signal(SIGPIPE, SIG_IGN);
	log_set_format(log_format_parse(srv->cfg.log_format));
	log_set_level(srv->cfg.log_level);
	log_route_lws();
	if (server_check(srv) != 0)
		return 1;
	if (srv->cfg.reuse_port)
		log_notice("reuse_port: %s port %d is shared with any process "
		    "of this user that listens there with SO_REUSEPORT",
		    srv->cfg.bind, srv->cfg.port);
	else if (listen_probe(srv->cfg.bind, srv->cfg.port, err,
	    sizeof err) != 0) {
		log_err("%s", err);
		return 1;
	}
	server_node_id(srv);
	srv->live = srv->cfg;
	pthread_mutex_init(&srv->cfg_lock, NULL);
	atomic_init(&srv->cfg_gen, 0);

	srv->nworkers = srv->cfg.workers;
	if (srv->nworkers <= 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		srv->nworkers = ncpu > 0 ? (int)ncpu : 1;
	}
	atomic_init(&srv->no_post, false);
	atomic_init(&srv->nconns, 0);
	atomic_init(&srv->quiesced, 0);
	pthread_mutex_init(&srv->filter_lock, NULL);
	atomic_init(&srv->filter_gen, 0);
	if (server_filter_load(srv, srv->cfg.filter_file,
	    srv->cfg.filter_policy) != 0)
		fatal("the word filter could not be loaded");
	if (audit_open(srv->cfg.audit_file) != 0)
		fatal("the audit file could not be opened");
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
	if (srv->cfg.secret[0] == '\0')
		open_console(srv, url, sizeof url);
	srv->hooks = &dispatch_hooks;
	srv->bus = bus_choose(srv);
	srv->bus->describe(srv, bus, sizeof bus);
	log_notice("bus: %s", bus);
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
	uv_signal_init(&st.loop, &st.sighup);
	uv_timer_init(&st.loop, &st.timer);
	st.sigint.data = st.sigterm.data = st.sighup.data = st.timer.data = &st;
	uv_signal_start(&st.sigint, on_signal, SIGINT);
	uv_signal_start(&st.sigterm, on_signal, SIGTERM);
	uv_signal_start(&st.sighup, on_hup, SIGHUP);

	for (i = 0; i < srv->nworkers; i++) {
		if (worker_start(&srv->workers[i]) != 0) {
			rc = 1;
			break;
		}
		started++;
	}
	if (rc != 0)
		on_signal(&st.sigterm, SIGTERM);
	else {
		log_notice("chatrelay %s listening on %s:%d, %d worker%s, %s "
		    "mode, node %s", CHATRELAY_VERSION, srv->cfg.bind,
		    srv->cfg.port, srv->nworkers, srv->nworkers == 1 ? "" : "s",
		    srv->cfg.secret[0] != '\0' ? "token" : "open", srv->node);
		if (url[0] != '\0')
			log_notice("moderators' console (open mode; its token "
			    "is valid for 24 h and for this run only): %s", url);
	}

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
	filter_unref(srv->filter);
	srv->filter = NULL;
	audit_close();
	log_notice("stopped");
	return rc;
}
