/*
 * relay.h: what every worker of the process shares: the configuration,
 * the node's name, the workers themselves, the bus chosen at start and the
 * hooks through which the worker layer calls the layers above it.  Set up
 * by server.c before the workers start and read-only after, except the
 * atomics and what a lock guards.
 */
#ifndef CHATRELAY_RELAY_H
#define CHATRELAY_RELAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"

struct worker;
struct worker_hooks;
struct bus_ops;
struct filter;

struct relay {
	/*
	 * The configuration as the relay started with it (web_root made the
	 * directory served); read-only once workers run.  Each worker reads
	 * its own copy (worker.h), not this.
	 */
	struct config cfg;
	struct config_source src;	/* where cfg came from, for SIGHUP */
	/*
	 * The configuration in force: cfg with the directives that change
	 * live (config_is_live) as the last reload left them.  The main thread
	 * replaces it under cfg_lock and bumps cfg_gen; each worker copies it
	 * into its own at its next tick (dispatch.c), as it takes the filter.
	 */
	pthread_mutex_t cfg_lock;
	struct config live;
	atomic_uint cfg_gen;
	char node[65];
	/*
	 * The node's name in Redis: node + "/" + a random boot id, so that
	 * what a previous life of this node left there is reaped like any
	 * dead node's, never mistaken for this one's.
	 */
	char node_key[80];
	int nworkers;
	struct worker *workers;
	const struct worker_hooks *hooks;	/* dispatch.c's wiring */
	const struct bus_ops *bus;	/* the in-process or the Redis bus */
	atomic_bool no_post;		/* shutting down: workers stop posting */
	atomic_int nconns;		/* WebSocket connections, all workers */
	atomic_int quiesced;		/* workers that have seen no_post */
	void *tls_client_ctx;		/* SSL_CTX given to lws (see server.c) */
	/*
	 * Open mode: the secret of /admin tokens, made at start (the
	 * players stay guests).  "" with a secret configured.
	 */
	char admin_secret[65];
	/*
	 * The word filter: the main thread replaces it (SIGHUP) under
	 * filter_lock and bumps filter_gen; each worker then takes a
	 * reference of the new one at its next tick (dispatch.c).
	 */
	pthread_mutex_t filter_lock;
	struct filter *filter;		/* NULL: no filter */
	atomic_uint filter_gen;
};

#endif
