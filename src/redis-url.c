/*
 * redis-url.c: Redis URLs in, and where a connection points out.
 *
 * redis_url_parse turns "redis://..." or "unix:..." into a struct
 * redis_addr, redis_sentinel_parse a list of sentinels, a master name and
 * its credentials; their errors never quote what they parse, which may hold
 * a password.  redis_addr_describe writes an address back for logs, without
 * credentials.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "redis.h"
#include "redis-int.h"

/* Writes msg into err, if there is room. */
static void
set_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/* Returns the value of hex digit c, or -1. */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Copies n bytes of src into dst (len bytes), decoding %XX.  Returns 0, or
 * -1 if it does not fit or would hold a NUL.
 */
static int
url_decode(char *dst, size_t len, const char *src, size_t n)
{
	size_t i, o = 0;
	int c, hi, lo;

	for (i = 0; i < n; i++) {
		c = (unsigned char)src[i];
		if (c == '%' && i + 2 < n &&
		    (hi = hexval(src[i + 1])) >= 0 &&
		    (lo = hexval(src[i + 2])) >= 0) {
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == '\0' || o + 1 >= len)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

/* Parses n decimal digits as a value in 0..max.  Returns it, or -1. */
static long
parse_num(const char *s, size_t n, long max)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* Parses "db=N&password=P&user=U" (n bytes) into out.  Returns 0, or -1 with err set. */
static int
parse_query(const char *q, size_t n, struct redis_addr *out, char *err,
    size_t errlen)
{
	const char *end = q + n, *amp, *eq;
	long db;

	while (q < end) {
		amp = memchr(q, '&', (size_t)(end - q));
		if (amp == NULL)
			amp = end;
		eq = memchr(q, '=', (size_t)(amp - q));
		if (eq == NULL) {
			set_err(err, errlen, "query parameter without '='");
			return -1;
		}
		if (eq - q == 2 && memcmp(q, "db", 2) == 0) {
			db = parse_num(eq + 1, (size_t)(amp - eq - 1), INT_MAX);
			if (db < 0) {
				set_err(err, errlen, "db must be a number");
				return -1;
			}
			out->db = (int)db;
		} else if (eq - q == 8 && memcmp(q, "password", 8) == 0) {
			if (url_decode(out->password, sizeof out->password,
			    eq + 1, (size_t)(amp - eq - 1)) != 0) {
				set_err(err, errlen,
				    "password too long or holds %00");
				return -1;
			}
		} else if (eq - q == 4 && memcmp(q, "user", 4) == 0) {
			if (url_decode(out->username, sizeof out->username,
			    eq + 1, (size_t)(amp - eq - 1)) != 0) {
				set_err(err, errlen,
				    "user name too long or holds %00");
				return -1;
			}
		} else {
			set_err(err, errlen, "unknown query parameter");
			return -1;
		}
		q = amp < end ? amp + 1 : end;
	}
	return 0;
}

/* Parses "user:password" (n bytes) into out.  Returns 0, or -1 with err set. */
static int
parse_userinfo(const char *s, size_t n, struct redis_addr *out, char *err,
    size_t errlen)
{
	const char *colon = memchr(s, ':', n);

	if (colon == NULL) {
		set_err(err, errlen, "credentials need a ':' "
		    "(redis://:password@host)");
		return -1;
	}
	if (url_decode(out->username, sizeof out->username, s,
	    (size_t)(colon - s)) != 0) {
		set_err(err, errlen, "user name too long or holds %00");
		return -1;
	}
	if (url_decode(out->password, sizeof out->password, colon + 1,
	    n - (size_t)(colon - s) - 1) != 0) {
		set_err(err, errlen, "password too long or holds %00");
		return -1;
	}
	return 0;
}

/* Parses "host[:port]" or "[v6][:port]" (n bytes) into out.  Returns 0, or -1 with err set. */
static int
parse_hostport(const char *s, size_t n, struct redis_addr *out, char *err,
    size_t errlen)
{
	const char *end = s + n, *host, *hend, *p;
	struct in6_addr a6;
	long port;

	if (n > 0 && s[0] == '[') {
		host = s + 1;
		hend = memchr(host, ']', (size_t)(end - host));
		if (hend == NULL) {
			set_err(err, errlen, "missing ']' after IPv6 address");
			return -1;
		}
		p = hend + 1;
	} else {
		host = s;
		hend = memchr(s, ':', n);
		if (hend == NULL)
			hend = end;
		p = hend;
	}
	if (hend == host) {
		set_err(err, errlen, "missing host");
		return -1;
	}
	if ((size_t)(hend - host) >= sizeof out->host) {
		set_err(err, errlen, "host name too long");
		return -1;
	}
	memcpy(out->host, host, (size_t)(hend - host));
	out->host[hend - host] = '\0';
	if (s[0] == '[') {
		if (inet_pton(AF_INET6, out->host, &a6) != 1) {
			set_err(err, errlen, "bad IPv6 address");
			return -1;
		}
	} else {
		for (p = host; p < hend; p++) {
			if (!isalnum((unsigned char)*p) && *p != '-' &&
			    *p != '.' && *p != '_') {
				set_err(err, errlen, "bad character in host");
				return -1;
			}
		}
		p = hend;
	}
	if (p == end)
		return 0;
	if (*p != ':') {
		set_err(err, errlen, "unexpected text after host");
		return -1;
	}
	port = parse_num(p + 1, (size_t)(end - p - 1), 65535);
	if (port <= 0) {
		set_err(err, errlen, "port must be a number in 1..65535");
		return -1;
	}
	out->port = (int)port;
	return 0;
}

/* Parses what follows "redis://".  Returns 0, or -1 with err set. */
static int
parse_tcp(const char *s, struct redis_addr *out, char *err, size_t errlen)
{
	const char *aend = s + strcspn(s, "/?#"), *at = NULL, *p, *q;
	long db;

	for (p = s; p < aend; p++) {
		if (*p == '@')
			at = p;
	}
	if (at != NULL) {
		if (parse_userinfo(s, (size_t)(at - s), out, err, errlen) != 0)
			return -1;
		s = at + 1;
	}
	if (parse_hostport(s, (size_t)(aend - s), out, err, errlen) != 0)
		return -1;
	p = aend;
	if (*p == '/') {
		p++;
		q = p + strcspn(p, "?#");
		if (q > p) {
			db = parse_num(p, (size_t)(q - p), INT_MAX);
			if (db < 0) {
				set_err(err, errlen, "the path must be a "
				    "database number");
				return -1;
			}
			out->db = (int)db;
		}
		p = q;
	}
	if (*p == '?') {
		q = p + 1 + strcspn(p + 1, "#");
		if (parse_query(p + 1, (size_t)(q - p - 1), out, err,
		    errlen) != 0)
			return -1;
		p = q;
	}
	if (*p == '#') {
		set_err(err, errlen, "fragments are not allowed");
		return -1;
	}
	return 0;
}

/* Parses what follows "unix:".  Returns 0, or -1 with err set. */
static int
parse_unix(const char *s, struct redis_addr *out, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	const char *at, *q;

	if (strncmp(s, "//", 2) == 0)
		s += 2;
	if (*s != '/') {
		at = strstr(s, "@/");
		if (at == NULL) {
			set_err(err, errlen, "the socket path must be "
			    "absolute");
			return -1;
		}
		if (parse_userinfo(s, (size_t)(at - s), out, err, errlen) != 0)
			return -1;
		s = at + 1;
	}
	q = s + strcspn(s, "?#");
	if ((size_t)(q - s) >= sizeof sun.sun_path) {
		set_err(err, errlen, "socket path too long");
		return -1;
	}
	memcpy(out->unix_path, s, (size_t)(q - s));
	out->unix_path[q - s] = '\0';
	if (*q == '?') {
		s = q + 1;
		q = s + strcspn(s, "#");
		if (parse_query(s, (size_t)(q - s), out, err, errlen) != 0)
			return -1;
	}
	if (*q == '#') {
		set_err(err, errlen, "fragments are not allowed");
		return -1;
	}
	return 0;
}

int
redis_url_parse(const char *url, struct redis_addr *out, char *err,
    size_t errlen)
{
	int rv;

	memset(out, 0, sizeof *out);
	out->port = 6379;
	if (url == NULL || *url == '\0') {
		set_err(err, errlen, "empty Redis URL");
		return -1;
	}
	if (strnlen(url, REDIS_URL_MAX + 1) > REDIS_URL_MAX) {
		set_err(err, errlen, "Redis URL too long");
		return -1;
	}
	if (strncmp(url, "redis://", 8) == 0)
		rv = parse_tcp(url + 8, out, err, errlen);
	else if (strncmp(url, "unix:", 5) == 0)
		rv = parse_unix(url + 5, out, err, errlen);
	else if (strncmp(url, "redis+unix:", 11) == 0)
		rv = parse_unix(url + 11, out, err, errlen);
	else if (strncmp(url, "rediss://", 9) == 0) {
		set_err(err, errlen, "TLS (rediss://) is not supported");
		rv = -1;
	} else {
		set_err(err, errlen, "a Redis URL starts with redis:// or "
		    "unix:");
		rv = -1;
	}
	if (rv != 0) {
		memset(out, 0, sizeof *out);	/* no half-parsed secret */
		return -1;
	}
	return 0;
}

/* Parses one "host[:port]" entry of a sentinel list (n bytes) into hp.  Returns 0, or -1 with err set. */
static int
parse_sentinel(const char *s, size_t n, struct redis_hostport *hp, char *err,
    size_t errlen)
{
	struct redis_addr tmp;

	while (n > 0 && s[0] == ' ') {
		s++;
		n--;
	}
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n == 0) {
		set_err(err, errlen, "empty entry in the sentinel list");
		return -1;
	}
	memset(&tmp, 0, sizeof tmp);
	tmp.port = REDIS_SENTINEL_PORT;
	if (parse_hostport(s, n, &tmp, err, errlen) != 0)
		return -1;
	memcpy(hp->host, tmp.host, sizeof hp->host);
	hp->port = tmp.port;
	return 0;
}

int
redis_sentinel_parse(const char *sentinels, const char *master,
    const char *auth, struct redis_addr *out, char *err, size_t errlen)
{
	const char *p, *comma, *m;
	int rv = -1;

	memset(out, 0, sizeof *out);
	if (master == NULL || *master == '\0') {
		set_err(err, errlen, "empty master name");
		return -1;
	}
	if (strnlen(master, sizeof out->master) == sizeof out->master) {
		set_err(err, errlen, "master name too long");
		return -1;
	}
	for (m = master; *m != '\0'; m++) {
		if ((unsigned char)*m <= ' ' || *m == 0x7f) {
			set_err(err, errlen, "the master name may not hold "
			    "spaces or control characters");
			return -1;
		}
	}
	if (sentinels == NULL || *sentinels == '\0') {
		set_err(err, errlen, "empty sentinel list");
		return -1;
	}
	if (strnlen(sentinels, REDIS_URL_MAX + 1) > REDIS_URL_MAX) {
		set_err(err, errlen, "sentinel list too long");
		return -1;
	}
	for (p = sentinels;; p = comma + 1) {
		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		if (out->nsentinels == REDIS_SENTINELS_MAX) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "more than %d sentinels",
				    REDIS_SENTINELS_MAX);
			goto fail;
		}
		if (parse_sentinel(p, (size_t)(comma - p),
		    &out->sentinels[out->nsentinels], err, errlen) != 0)
			goto fail;
		out->nsentinels++;
		if (*comma == '\0')
			break;
	}
	if (auth != NULL && *auth != '\0') {
		if (strnlen(auth, REDIS_URL_MAX + 1) > REDIS_URL_MAX) {
			set_err(err, errlen, "credentials too long");
			goto fail;
		}
		if (parse_query(auth, strlen(auth), out, err, errlen) != 0)
			goto fail;
	}
	memcpy(out->master, master, strlen(master) + 1);
	rv = 0;
fail:
	if (rv != 0)
		memset(out, 0, sizeof *out);	/* no half-parsed secret */
	return rv;
}

int
redis_addr_parse(const char *url, const char *sentinels, const char *master,
    const char *auth, struct redis_addr *out, char *err, size_t errlen)
{
	if (sentinels != NULL && *sentinels != '\0') {
		if (url != NULL && *url != '\0') {
			memset(out, 0, sizeof *out);
			set_err(err, errlen, "a Redis URL and sentinels are "
			    "mutually exclusive");
			return -1;
		}
		return redis_sentinel_parse(sentinels, master, auth, out, err,
		    errlen);
	}
	if (auth != NULL && *auth != '\0') {
		memset(out, 0, sizeof *out);
		set_err(err, errlen, "credentials apart from the URL need "
		    "sentinels");
		return -1;
	}
	return redis_url_parse(url, out, err, errlen);
}

bool
redis_addr_valid(const struct redis_addr *a)
{
	const struct redis_hostport *s;
	int i;

	if (strnlen(a->unix_path, sizeof a->unix_path) >=
	    sizeof ((struct sockaddr_un *)0)->sun_path ||
	    strnlen(a->host, sizeof a->host) == sizeof a->host ||
	    strnlen(a->username, sizeof a->username) == sizeof a->username ||
	    strnlen(a->password, sizeof a->password) == sizeof a->password ||
	    strnlen(a->master, sizeof a->master) == sizeof a->master ||
	    a->db < 0)
		return false;
	if (a->master[0] == '\0')
		return a->unix_path[0] != '\0' || (a->host[0] != '\0' &&
		    a->port > 0 && a->port <= 65535);
	if (a->unix_path[0] != '\0' || a->nsentinels < 1 ||
	    a->nsentinels > REDIS_SENTINELS_MAX)
		return false;
	for (i = 0; i < a->nsentinels; i++) {
		s = &a->sentinels[i];
		if (s->host[0] == '\0' ||
		    strnlen(s->host, sizeof s->host) == sizeof s->host ||
		    s->port <= 0 || s->port > 65535)
			return false;
	}
	return true;
}

/* Writes host and port as "host:port" or "[v6]:port" into buf. */
void
redis_hostport_describe(const char *host, int port, char *buf, size_t len)
{
	if (strchr(host, ':') != NULL)
		snprintf(buf, len, "[%s]:%d", host, port);
	else
		snprintf(buf, len, "%s:%d", host, port);
}

/* Writes "master NAME via sentinels host:port,...[/db]" into buf, cut to fit. */
static void
describe_sentinels(const struct redis_addr *addr, const char *db, char *buf,
    size_t len)
{
	char hp[300];
	size_t used;
	int i, n;

	n = snprintf(buf, len, "master %s via sentinel%s ", addr->master,
	    addr->nsentinels > 1 ? "s" : "");
	used = n < 0 ? 0 : (size_t)n;
	for (i = 0; i < addr->nsentinels && used < len; i++) {
		redis_hostport_describe(addr->sentinels[i].host,
		    addr->sentinels[i].port, hp, sizeof hp);
		n = snprintf(buf + used, len - used, "%s%s", i > 0 ? "," : "",
		    hp);
		used += n < 0 ? 0 : (size_t)n;
	}
	if (used < len)
		snprintf(buf + used, len - used, "%s", db);
}

void
redis_addr_describe(const struct redis_addr *addr, char *buf, size_t len)
{
	char db[16] = "";

	if (len == 0)
		return;
	if (addr->db != 0)
		snprintf(db, sizeof db, "/%d", addr->db);
	if (addr->master[0] != '\0')
		describe_sentinels(addr, db, buf, len);
	else if (addr->unix_path[0] != '\0')
		snprintf(buf, len, "unix:%s%s", addr->unix_path, db);
	else if (strchr(addr->host, ':') != NULL)
		snprintf(buf, len, "[%s]:%d%s", addr->host, addr->port, db);
	else
		snprintf(buf, len, "%s:%d%s", addr->host, addr->port, db);
}
