/*
 * url.h: ws:// URLs for chatrelay-bench.
 */
#ifndef BENCH_URL_H
#define BENCH_URL_H

#include <stddef.h>

#include <netinet/in.h>

/* A parsed ws:// URL. */
struct url {
	struct sockaddr_in	addr;		/* resolved IPv4 address and port */
	char			host[264];	/* "host[:port]", the Host header */
	char			path[512];	/* path and query, default "/ws" */
};

/*
 * Parses ws://HOST[:PORT][/PATH] and resolves HOST to an IPv4 address.
 * Returns 0; -1 for a malformed URL or -2 when HOST does not resolve, with a
 * message in err.
 */
int	url_parse(const char *url, struct url *u, char *err, size_t errlen);

#endif
