/*
 * listen.c: SO_REUSEPORT listening sockets, accepting from them, and the
 * check at start that nobody else listens on the relay's port.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "listen.h"
#include "log.h"

/*
 * Makes a non-blocking TCP socket for addr:port, bound with SO_REUSEADDR
 * and, if reuseport, SO_REUSEPORT.  Returns the fd, or -1 with errno set
 * and the reason in err (errlen bytes).
 */
static int
listen_bind(const char *addr, int port, bool reuseport, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char service[16];
	int fd, one = 1, rc, saved;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(service, sizeof service, "%d", port);
	rc = getaddrinfo(addr, service, &hints, &res);
	if (rc != 0) {
		errbuf(err, errlen, "bind %s: %s", addr, gai_strerror(rc));
		errno = EINVAL;
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		saved = errno;
		errbuf(err, errlen, "socket: %s", strerror(saved));
		freeaddrinfo(res);
		errno = saved;
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if ((reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof one) != 0) || bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
		saved = errno;
		errbuf(err, errlen, "listen on %s:%d: %s", addr, port,
		    strerror(saved));
		close(fd);
		freeaddrinfo(res);
		errno = saved;
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

int
listen_open(const char *addr, int port)
{
	char err[300];
	int fd = listen_bind(addr, port, true, err, sizeof err);

	if (fd < 0) {
		log_err("%s", err);
		return -1;
	}
	if (listen(fd, 4096) != 0) {
		log_err("listen on %s:%d: %s", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
listen_probe(const char *addr, int port, char *err, size_t errlen)
{
	int fd;

	/*
	 * Without SO_REUSEPORT, bind fails with EADDRINUSE while any socket
	 * listens there, shared or not (SO_REUSEADDR only lets it past
	 * connections in TIME_WAIT).  Bound but never listening, the probe
	 * leaves nothing behind when it is closed.
	 */
	fd = listen_bind(addr, port, false, err, errlen);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EADDRINUSE) {
		errbuf(err, errlen, "address %s port %d is already in use by "
		    "another process: not starting (set reuse_port yes to "
		    "share it on purpose, e.g. to restart without downtime)",
		    addr, port);
		return -1;
	}
	return -2;
}

int
listen_accept(int lfd)
{
	int fd, one = 1;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}
