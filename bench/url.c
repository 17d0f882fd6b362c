/*
 * url.c: parses the ws:// URLs given to chatrelay-bench and resolves their
 * host (IPv4 only: the bench spreads connections over 127.0.0.x sources).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "url.h"

int
url_parse(const char *url, struct url *u, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	const char *h, *he, *path;
	char host[256], port[8] = "80";
	size_t hl;
	int rc;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, "ws://", 5) != 0) {
		snprintf(err, errlen, "%s: only ws:// URLs are supported "
		    "(no TLS)", url);
		return -1;
	}
	h = url + 5;
	he = strchr(h, '/');
	if (he != NULL) {
		path = he;
	} else {
		he = h + strlen(h);
		path = "/ws";
	}
	if (he - h == 0 || (size_t)(he - h) >= sizeof(u->host)) {
		snprintf(err, errlen, "%s: bad host", url);
		return -1;
	}
	memcpy(u->host, h, (size_t)(he - h));
	u->host[he - h] = '\0';
	if (strlen(path) >= sizeof(u->path)) {
		snprintf(err, errlen, "%s: path too long", url);
		return -1;
	}
	strcpy(u->path, path);
	/* Split host[:port]; a bracketed IPv6 literal is not supported. */
	if (u->host[0] == '[') {
		snprintf(err, errlen, "%s: IPv6 is not supported", url);
		return -1;
	}
	h = strrchr(u->host, ':');
	hl = h != NULL ? (size_t)(h - u->host) : strlen(u->host);
	if (hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errlen, "%s: bad host", url);
		return -1;
	}
	memcpy(host, u->host, hl);
	host[hl] = '\0';
	if (h != NULL) {
		char *e;
		long p = strtol(h + 1, &e, 10);

		if (*e != '\0' || p < 1 || p > 65535) {
			snprintf(err, errlen, "%s: bad port", url);
			return -1;
		}
		snprintf(port, sizeof(port), "%ld", p);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, errlen, "%s: cannot resolve %s: %s", url, host,
		    gai_strerror(rc));
		return -2;
	}
	memcpy(&u->addr, res->ai_addr, sizeof(u->addr));
	freeaddrinfo(res);
	return 0;
}
