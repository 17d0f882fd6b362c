/*
 * listen.h: one worker's listening socket.
 *
 * Debian's lws 4.1.6 cannot share a port between contexts, so each worker
 * opens its own socket with SO_REUSEPORT (the kernel spreads connections
 * over them) and hands every accepted fd to its lws vhost.  So that the
 * port is shared only among the relay's own workers, unless reuse_port
 * asks for more, the relay first probes it without SO_REUSEPORT.
 */
#ifndef CHATRELAY_LISTEN_H
#define CHATRELAY_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Opens a non-blocking TCP socket listening on addr:port with SO_REUSEADDR
 * and SO_REUSEPORT.  Returns the fd, or -1 with the reason logged.
 */
int listen_open(const char *addr, int port);

/*
 * Checks, before the workers open theirs, that no other socket listens on
 * addr:port (SO_REUSEPORT would let the relay share it silently with
 * another process of the same user).  Returns 0 if it is free, -1 if it
 * is in use (the message, naming the address and port, in err), or -2 for
 * any other failure (the reason in err).
 */
int listen_probe(const char *addr, int port, char *err, size_t errlen);

/*
 * Accepts one pending connection (non-blocking, close-on-exec, TCP_NODELAY
 * set, since lws skips its socket options on adopted sockets).  Returns the
 * fd, or -1 when there is none (or on error, logged).
 */
int listen_accept(int lfd);

#endif
