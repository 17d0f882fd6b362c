/*
 * listen.h: one worker's listening socket.
 *
 * Debian's lws 4.1.6 cannot share a port between contexts, so each worker
 * opens its own socket with SO_REUSEPORT (the kernel spreads connections
 * over them) and hands every accepted fd to its lws vhost.
 */
#ifndef CHATRELAY_LISTEN_H
#define CHATRELAY_LISTEN_H

/*
 * Opens a non-blocking TCP socket listening on addr:port with SO_REUSEADDR
 * and SO_REUSEPORT.  Returns the fd, or -1 with the reason logged.
 */
int listen_open(const char *addr, int port);

/*
 * Accepts one pending connection (non-blocking, close-on-exec, TCP_NODELAY
 * set, since lws skips its socket options on adopted sockets).  Returns the
 * fd, or -1 when there is none (or on error, logged).
 */
int listen_accept(int lfd);

#endif
