/*
 * server.h: the relay process: its configuration, its node id and its
 * workers, started and stopped from the main thread.
 */
#ifndef CHATRELAY_SERVER_H
#define CHATRELAY_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>

#include "chan.h"
#include "config.h"

struct worker;

struct server {
	struct config cfg;		/* read-only once workers run */
	char node[65];
	/*
	 * The node's name in Redis: node + "/" + a random boot id, so that
	 * what a previous life of this node left there is reaped like any
	 * dead node's, never mistaken for this one's.
	 */
	char node_key[80];
	int nworkers;
	struct worker *workers;
	atomic_bool no_post;		/* shutting down: workers stop posting */
	atomic_int nconns;		/* WebSocket connections, all workers */
	atomic_int quiesced;		/* workers that have seen no_post */
	void *tls_client_ctx;		/* SSL_CTX given to lws (see server.c) */
};

/*
 * Runs the relay until SIGINT or SIGTERM, then stops it gracefully.
 * Returns the process exit status.
 */
int server_run(struct server *srv);

#endif
