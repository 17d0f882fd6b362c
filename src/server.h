/*
 * server.h: running the relay process: its workers started, and stopped
 * gracefully, from the main thread (relay.h has what they share).
 */
#ifndef CHATRELAY_SERVER_H
#define CHATRELAY_SERVER_H

struct relay;

/*
 * Runs the relay until SIGINT or SIGTERM, then stops it gracefully.
 * Returns the process exit status.
 */
int server_run(struct relay *r);

#endif
